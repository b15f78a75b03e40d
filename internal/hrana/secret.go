package hrana

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// The auth token must never leave the client except in the Authorization
// header or the WebSocket hello: not in an error, a log record or a
// printed value. Printing a Config or a Client shows the URL and whether
// there is a token, never the token; errors built from what a server sent
// back (which may echo a request's headers) are scrubbed of it.

const redacted = "[REDACTED]"

// String shows the config with the token redacted.
func (cfg Config) String() string {
	var b strings.Builder
	b.WriteString("hrana.Config{URL: " + cfg.URL)
	if cfg.AuthToken != "" {
		b.WriteString(", AuthToken: " + redacted)
	}
	if cfg.TokenFunc != nil {
		b.WriteString(", TokenFunc: set")
	}
	if cfg.RequestTimeout != 0 {
		fmt.Fprintf(&b, ", RequestTimeout: %v", cfg.RequestTimeout)
	}
	b.WriteString("}")
	return b.String()
}

// GoString keeps %#v from printing the token.
func (cfg Config) GoString() string { return cfg.String() }

// Format keeps every fmt verb, %+v included, from printing the token.
func (cfg Config) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(cfg.String())) }

// LogValue keeps slog from printing the token.
func (cfg Config) LogValue() slog.Value { return slog.StringValue(cfg.String()) }

// GoString keeps %#v from printing the client's fields, the token among
// them.
func (c *Client) GoString() string { return c.String() }

// Format keeps every fmt verb from printing the client's fields.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// token returns the token for a request: the TokenFunc's, or the fixed one.
func (c *Client) authToken(ctx context.Context) (string, error) {
	if c.tokenFunc == nil {
		return c.token, nil
	}
	tok, err := c.tokenFunc(ctx)
	if err != nil {
		return "", &TransportError{Err: fmt.Errorf("getting the auth token: %w", c.scrubErr(err)), NotSent: true}
	}
	if tok != "" {
		c.lastToken.Store(&tok)
	}
	return tok, nil
}

// scrub removes the client's tokens from s.
func (c *Client) scrub(s string) string {
	if c.token != "" {
		s = strings.ReplaceAll(s, c.token, redacted)
	}
	if p := c.lastToken.Load(); p != nil && *p != "" {
		s = strings.ReplaceAll(s, *p, redacted)
	}
	return s
}

// scrubErr returns err, or an error with its text scrubbed if it held a
// token (errors.Is/As then see only the scrubbed text).
func (c *Client) scrubErr(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := c.scrub(msg); clean != msg {
		return scrubbedError(clean)
	}
	return err
}

type scrubbedError string

func (e scrubbedError) Error() string { return string(e) }
