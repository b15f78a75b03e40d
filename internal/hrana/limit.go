package hrana

import (
	"fmt"
	"io"
)

// Size limits. Whatever the server sends is read into memory only up to
// a bound, counted in bytes after decompression: a whole pipeline answer,
// one entry (one line) of a cursor, one WebSocket message. Past it the
// request fails with a *ResponseTooLargeError, and the answer is not read
// further. Rows streamed through a cursor are bounded one by one, not in
// total.

// DefaultMaxResponseSize is the bound when Config.MaxResponseSize is 0:
// 128 MiB, well above what sqld sends by default (it refuses answers over
// 10 MB unless started with --max-response-size).
const DefaultMaxResponseSize = 128 << 20

// maxResponseSize resolves Config.MaxResponseSize: 0 is the default, a
// negative value turns the bound off (returned as 0).
func maxResponseSize(n int64) int64 {
	switch {
	case n == 0:
		return DefaultMaxResponseSize
	case n < 0:
		return 0
	}
	return n
}

// ResponseTooLargeError means an answer exceeded the maximum response
// size. What says which part: "a pipeline answer", "a cursor entry", "a
// WebSocket message".
type ResponseTooLargeError struct {
	What  string
	Limit int64
}

func (e *ResponseTooLargeError) Error() string {
	return fmt.Sprintf("%s from the server is larger than the maximum response size of %s (counted after decompression); raise it with libsql.WithMaxResponseSize", e.What, formatSize(e.Limit))
}

func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// readLimited reads r whole, up to the client's bound.
func (c *Client) readLimited(r io.Reader, what string) ([]byte, error) {
	if c.maxSize <= 0 {
		return io.ReadAll(r)
	}
	data, err := io.ReadAll(io.LimitReader(r, c.maxSize+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > c.maxSize {
		return nil, &ResponseTooLargeError{What: what, Limit: c.maxSize}
	}
	return data, nil
}

// tooLarge reports whether n bytes exceed the client's bound.
func (c *Client) tooLarge(n int64) bool { return c.maxSize > 0 && n > c.maxSize }
