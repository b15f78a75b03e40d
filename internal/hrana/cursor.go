package hrana

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Cursors: a batch's result read as the server sends it, one entry per
// line of the HTTP body (/v3/cursor), instead of one JSON document decoded
// whole. A query of a hundred thousand rows then costs the memory of one
// row at a time.

// ErrNoCursor means the server or the transport has no cursors (Hrana 2,
// or WebSocket here); nothing was sent. Use Pipeline.
var ErrNoCursor = errors.New("hrana: cursors are not available on this server")

// CursorEntry is one entry of a cursor: step_begin (Step, Cols), row
// (Row), step_end (AffectedRowCount, LastInsertRowID), step_error (Step,
// Error), error (Error) or replication_index.
type CursorEntry struct {
	Type             string  `json:"type"`
	Step             int     `json:"step"`
	Cols             []Col   `json:"cols"`
	Row              []Value `json:"row"`
	AffectedRowCount int64   `json:"affected_row_count"`
	LastInsertRowID  OptInt  `json:"last_insert_rowid"`
	Error            *Error  `json:"error"`
	ReplicationIndex OptInt  `json:"replication_index"`
}

// Cursor reads the entries of one batch. The stream may not be used until
// the cursor is closed.
type Cursor struct {
	c    *Client
	body io.ReadCloser // over HTTP
	r    *bufio.Reader
	long []byte // a line longer than r's buffer
	done bool

	// Over WebSocket: the cursor on the socket, entries fetched and not
	// yet read, and whether the server has sent the last.
	ws     *wsSocket
	ctx    context.Context
	id     int32
	buf    []CursorEntry
	wsDone bool
}

// Cursor runs b on the stream and returns its entries as they come. Like
// Pipeline, an exchange error resets the stream; a statement's error is an
// entry.
func (s *Stream) Cursor(ctx context.Context, b Batch) (*Cursor, error) {
	if s.c.isWS {
		return s.wsCursor(ctx, b)
	}
	if s.c.v2.Load() || s.c.noCursor.Load() {
		return nil, ErrNoCursor
	}
	s.c.stampBatch(&b)
	body, err := appendBatch(append(appendBaton(nil, s.baton), `,"batch":`...), &b)
	if err != nil {
		return nil, &EncodeError{Err: err}
	}
	body = append(body, '}')
	base := s.baseURL
	if base == "" {
		base = s.c.base
	}
	start := time.Now()
	cur, err := s.openCursor(ctx, base, body)
	s.logRequest(ctx, []Request{ExecuteBatch(b)}, start, err)
	return cur, err
}

// openCursor posts a cursor request and reads the answer's header.
func (s *Stream) openCursor(ctx context.Context, base string, body []byte) (*Cursor, error) {
	ctx, w := s.c.watch(ctx)
	resp, err := s.send(ctx, base+"/v3/cursor", body, true)
	if err != nil {
		w.release()
		err = w.explain(err)
		s.abandon(err)
		return nil, err
	}
	if resp.StatusCode == http.StatusNotFound && s.baton == "" && s.baseURL == "" {
		// No cursors here: nothing ran. Remember, and let the caller use
		// a pipeline.
		resp.Body.Close()
		w.release()
		s.c.noCursor.Store(true)
		return nil, ErrNoCursor
	}
	if resp.StatusCode/100 != 2 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		w.release()
		err := s.c.httpError(resp.StatusCode, data)
		s.abandon(err)
		return nil, err
	}
	// From here the clock runs only while the cursor waits on the body.
	w.pause()
	cur := newCursor(s.c, &watchedBody{ReadCloser: resp.Body, w: w})
	head, err := cur.head()
	if err != nil {
		cur.body.Close()
		s.Reset()
		return nil, err
	}
	if err := s.adopt(head.Baton, head.BaseURL); err != nil {
		cur.body.Close()
		return nil, err
	}
	return cur, nil
}

func newCursor(c *Client, body io.ReadCloser) *Cursor {
	return &Cursor{c: c, body: body, r: bufio.NewReaderSize(body, 4<<10)}
}

// cursorHead is the first line of a cursor's body.
type cursorHead struct {
	Baton   *string `json:"baton"`
	BaseURL *string `json:"base_url"`
}

// head reads the first line: the stream's baton and base URL.
func (c *Cursor) head() (*cursorHead, error) {
	line, err := c.line()
	if err == io.EOF {
		return nil, &ProtocolError{Msg: "empty cursor body"}
	}
	if err != nil {
		return nil, err
	}
	var h cursorHead
	if err := json.Unmarshal(line, &h); err != nil {
		return nil, &ProtocolError{Msg: "malformed cursor header", Err: err}
	}
	return &h, nil
}

// line reads one line of the body. The line is valid until the next read:
// whoever decodes it copies what it keeps.
func (c *Cursor) line() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// Longer than the buffer (a long text or blob): gather it.
		c.long = append(c.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = c.r.ReadSlice('\n')
			c.long = append(c.long, line...)
		}
		line = c.long
	}
	if len(line) > 0 && (err == nil || err == io.EOF) {
		return line, nil
	}
	if err == io.EOF {
		return nil, io.EOF
	}
	return nil, &TransportError{Err: fmt.Errorf("reading a cursor: %w", err)}
}

// Next returns the next entry, or io.EOF after the last.
func (c *Cursor) Next() (*CursorEntry, error) {
	if c.done {
		return nil, io.EOF
	}
	if c.ws != nil {
		return c.wsNext()
	}
	for {
		line, err := c.line()
		if err == io.EOF {
			c.done = true
			return nil, io.EOF
		}
		if err != nil {
			return nil, err
		}
		if len(line) <= 1 { // a blank line
			continue
		}
		if row, ok := parseRow(line); ok {
			return &CursorEntry{Type: "row", Row: row}, nil
		}
		var e CursorEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, &ProtocolError{Msg: "malformed cursor entry", Err: err}
		}
		if e.Type == "replication_index" {
			c.c.observe(e.ReplicationIndex)
			continue
		}
		return &e, nil
	}
}

// Close reads the rest of the cursor, so that the stream is free for the
// next request, and releases the connection.
func (c *Cursor) Close() error {
	if c.ws != nil {
		return c.wsClose()
	}
	var err error
	for !c.done {
		if _, err = c.Next(); err != nil {
			if err == io.EOF {
				err = nil
			}
			break
		}
	}
	c.done = true
	if cerr := c.body.Close(); err == nil {
		err = cerr
	}
	return err
}
