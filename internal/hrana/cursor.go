package hrana

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Cursors: a batch's result read as the server sends it, one entry per
// line of the HTTP body (/v3/cursor), instead of one JSON document decoded
// whole. A query of a hundred thousand rows then costs the memory of one
// row at a time.
//
// Closing a cursor before its end ends the HTTP request at once: sqld
// hands out the stream's next baton in the cursor's first line and stops
// the query when the body is dropped, so the stream goes on. Only a
// cursor whose last step is over is read to its end on Close (a few
// entries: its replication index).

// ErrNoCursor means the server or the transport has no cursors (Hrana 2,
// or WebSocket here); nothing was sent. Use Pipeline.
var ErrNoCursor = errors.New("cursors are not available on this server")

// CursorEntry is one entry of a cursor: step_begin (Step, Cols), row
// (Row), step_end (AffectedRowCount, LastInsertRowID), step_error (Step,
// Error) or error (Error). Entries of other types are skipped.
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
	c     *Client
	steps int // the batch's steps
	// The entries seen so far, checked against the order of the spec
	// (see take): step is the step begun or failed last, inStep says it
	// has begun and not ended, nextStep is the lowest step a step_begin
	// may name next.
	step     int
	inStep   bool
	nextStep int
	lastEnd  bool // the last step ended (or the cursor failed as a whole)
	failed   bool // an error entry came: the batch failed as a whole
	done     bool
	// waitSince is when the caller began waiting for progress; the
	// request timeout runs from it (zero: not waiting).
	waitSince time.Time

	// Over HTTP.
	body      io.ReadCloser
	r         *bufio.Reader
	long      []byte // a line longer than r's buffer
	w         *watchdog
	head      *cursorHead
	ans       *answer // a streamed pipeline answer (answer.go), not /v3/cursor
	pooled    bool    // r is from answerReaders, to go back on Close
	stopAbort func() bool
	abortMu   sync.Mutex
	abortErr  error // the caller's context ended

	// Over WebSocket: the cursor on the socket, entries fetched and not
	// yet read, and whether the server has sent the last.
	ws       *wsSocket
	ctx      context.Context
	id       int32
	buf      []CursorEntry
	wsDone   bool
	wsClosed bool
}

// maxDrain is how many entries Close reads after the last step ended.
const maxDrain = 16

// Cursor runs b on the stream and returns its entries as they come. Like
// Pipeline, an exchange error resets the stream; a statement's error is an
// entry. A statement the server refused before running the batch is an
// *Error as well, and the server has then closed the stream (Open reports
// false).
func (s *Stream) Cursor(ctx context.Context, b Batch) (*Cursor, error) {
	cur, err := s.cursor(ctx, b)
	return cur, s.c.sanitize(err)
}

func (s *Stream) cursor(ctx context.Context, b Batch) (*Cursor, error) {
	if ctx.Err() != nil {
		return nil, &TransportError{Err: ctxErr(ctx), NotSent: true}
	}
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
	cur, err, orphaned := s.streamed(ctx, []Request{ExecuteBatch(b)}, func(xctx context.Context, w *watchdog, baton, base string) (*Cursor, error) {
		return s.c.openCursor(xctx, w, baton, base, body, len(b.Steps))
	})
	var se *Error
	switch {
	case orphaned:
		s.forget()
		return nil, err
	case errors.Is(err, ErrNoCursor):
		return nil, err // nothing ran
	case errors.As(err, &se):
		s.forget() // sqld dropped the stream with the refused batch
		return nil, err
	case err != nil:
		s.abandon(err)
		return nil, err
	}
	return s.adoptCursor(ctx, cur), nil
}

// openCursor posts a cursor request and reads the answer's first line.
// It runs on the exchange's own context and touches no Stream.
func (c *Client) openCursor(ctx context.Context, w *watchdog, baton, base string, body []byte, steps int) (*Cursor, error) {
	own := base == ""
	if own {
		base = c.base
	}
	resp, err := c.send(ctx, base+"/v3/cursor", body, true)
	if err != nil {
		return nil, w.explain(err)
	}
	if resp.StatusCode == http.StatusNotFound && baton == "" && own {
		// No cursors here: nothing ran. Remember, and let the caller use
		// a pipeline.
		resp.Body.Close()
		c.noCursor.Store(true)
		return nil, ErrNoCursor
	}
	if resp.StatusCode/100 != 2 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		if resp.StatusCode/100 == 3 {
			return nil, redirectError(resp)
		}
		return nil, cursorStatusError(resp.StatusCode, data)
	}
	cur := newCursor(c, resp.Body, steps)
	cur.w = w
	head, err := cur.readHead()
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	cur.head = head
	w.pause() // from here the clock runs only while the caller waits on an entry
	return cur, nil
}

// cursorStatusError maps an error answer to a cursor request. sqld
// answers a batch it refuses before running it (a statement its parser
// rejects, or none, or several in one) with HTTP 500 and the statement's
// error as text, where /v3/pipeline gives a typed error: that is a SQL
// error with its code, not a server failure.
func cursorStatusError(status int, data []byte) error {
	he := httpError(status, data)
	if status != http.StatusInternalServerError || he.Code != "" {
		return he
	}
	msg, ok := strings.CutPrefix(he.Message, "Internal Error: `")
	if !ok || !strings.HasSuffix(msg, "`") {
		return he
	}
	msg = strings.TrimSuffix(msg, "`")
	for _, k := range refusedBatchCodes {
		if strings.HasPrefix(msg, k.prefix) {
			return &Error{Message: msg, Code: k.code}
		}
	}
	return he
}

// refusedBatchCodes are the codes of the statement errors sqld raises
// before running a batch, by the start of their text.
var refusedBatchCodes = []struct{ prefix, code string }{
	{"SQL string could not be parsed: ", "SQL_PARSE_ERROR"},
	{"SQL string does not contain any statement", "SQL_NO_STATEMENT"},
	{"SQL string contains more than one statement", "SQL_MANY_STATEMENTS"},
	{"Arguments do not match SQL parameters: ", "ARGS_INVALID"},
	{"Specifying both positional and named arguments is not supported", "ARGS_BOTH_POSITIONAL_AND_NAMED"},
}

// newCursor reads the HTTP body of a cursor over a batch of steps.
func newCursor(c *Client, body io.ReadCloser, steps int) *Cursor {
	return &Cursor{c: c, steps: steps, body: body, r: bufio.NewReaderSize(body, 4<<10)}
}

// cursorHead is the first line of a cursor's body.
type cursorHead struct {
	Baton   *string `json:"baton"`
	BaseURL *string `json:"base_url"`
}

// readHead reads the first line: the stream's baton and base URL.
func (c *Cursor) readHead() (*cursorHead, error) {
	line, err := c.line()
	if err == io.EOF {
		return nil, &ProtocolError{Msg: "the answer to a cursor request is empty"}
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

// line reads one line of the body, at most the client's size bound. The
// line is valid until the next read: whoever decodes it copies what it
// keeps.
func (c *Cursor) line() ([]byte, error) {
	if cap(c.long) > 1<<20 {
		c.long = nil // let a past long line go
	}
	line, err := c.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// Longer than the buffer (a long text or blob): gather it.
		c.long = append(c.long[:0], line...)
		for err == bufio.ErrBufferFull {
			if c.c.tooLarge(int64(len(c.long))) {
				return nil, &ResponseTooLargeError{What: "a cursor entry", Limit: c.c.maxSize}
			}
			line, err = c.r.ReadSlice('\n')
			c.long = append(c.long, line...)
		}
		line = c.long
	}
	if c.c.tooLarge(int64(len(bytes.TrimRight(line, "\r\n")))) {
		return nil, &ResponseTooLargeError{What: "a cursor entry", Limit: c.c.maxSize}
	}
	if len(line) > 0 && (err == nil || err == io.EOF) {
		return line, nil
	}
	if err == io.EOF {
		return nil, io.EOF
	}
	return nil, c.readFailed(err)
}

// readFailed explains why reading the body failed: the caller's context
// ended, the request timeout passed, or the transport broke.
func (c *Cursor) readFailed(err error) error {
	if cause := c.aborted(); cause != nil {
		return &TransportError{Err: cause}
	}
	if c.w != nil {
		if e := c.w.explain(err); e != err {
			return e
		}
	}
	return &TransportError{Err: wrap("reading a cursor", c.c.scrubErr(err))}
}

// abort ends the body because the caller's context ended.
func (c *Cursor) abort(cause error) {
	c.abortMu.Lock()
	c.abortErr = cause
	c.abortMu.Unlock()
	c.body.Close()
}

func (c *Cursor) aborted() error {
	c.abortMu.Lock()
	defer c.abortMu.Unlock()
	return c.abortErr
}

// Next returns the next entry, or io.EOF after the last.
func (c *Cursor) Next() (*CursorEntry, error) {
	e, err := c.next()
	if err != nil && err != io.EOF {
		c.done = true
		return nil, c.c.sanitize(err)
	}
	if e != nil {
		c.c.cleanError(e.Error)
	}
	return e, err
}

func (c *Cursor) next() (*CursorEntry, error) {
	if c.done {
		return nil, io.EOF
	}
	if c.waitSince.IsZero() {
		c.waitSince = time.Now()
		if c.w != nil {
			c.w.arm() // until progress is delivered
		}
	}
	e, err := c.nextEntry()
	if err != nil || c.progress(e) {
		c.waitSince = time.Time{}
		if c.w != nil {
			c.w.pause()
		}
	}
	return e, err
}

// progress reports whether delivering e (checked by take) is progress:
// an entry of the batch's last step, whose rows the caller reads, or the
// failure of a step or of the batch. The entries of earlier steps (a
// transaction's BEGIN) are not, however many rows a server sends there;
// take bounds how many of the others can come.
func (c *Cursor) progress(e *CursorEntry) bool {
	return e == nil || e.Type == "error" || e.Type == "step_error" || c.step == c.steps-1
}

func (c *Cursor) nextEntry() (*CursorEntry, error) {
	if c.ws != nil {
		return c.wsNext()
	}
	if c.ans != nil {
		e, err := c.ans.next()
		switch err.(type) {
		case nil:
		case *ProtocolError, *ResponseTooLargeError:
		default:
			if err != io.EOF {
				err = c.readFailed(err)
			}
		}
		if err == io.EOF {
			c.done = true
		}
		return e, err
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
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if row, ok := parseRow(line); ok {
			e := &CursorEntry{Type: "row", Row: row}
			_, err := c.take(e)
			return e, err
		}
		var e CursorEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, &ProtocolError{Msg: "malformed cursor entry", Err: err}
		}
		if ok, err := c.take(&e); err != nil || ok {
			return &e, err
		}
	}
}

// take checks an entry and says whether the caller gets it: entries of
// other types are skipped, and replication indexes recorded. The others
// must come in the order of the spec: steps in increasing order, each
// with step_begin, its rows, then step_end or step_error (or step_error
// alone), and an error entry last. A server that breaks it (rows outside
// a step, a step begun twice) is a protocol error: it would otherwise be
// read as rows of the wrong statement, or keep a caller waiting for a
// step that never begins.
func (c *Cursor) take(e *CursorEntry) (bool, error) {
	switch e.Type {
	case "row", "step_begin", "step_end", "step_error", "error":
	case "replication_index":
		c.c.observe(e.ReplicationIndex)
		return false, nil
	default:
		return false, nil
	}
	if (e.Type == "step_error" || e.Type == "error") && e.Error == nil {
		return false, &ProtocolError{Msg: "a cursor entry of type " + e.Type + " without its error"}
	}
	if c.failed || (c.lastEnd && e.Type != "error") {
		return false, &ProtocolError{Msg: "a cursor entry of type " + e.Type + " after the end of the batch"}
	}
	switch e.Type {
	case "step_begin":
		if c.inStep || e.Step < c.nextStep || e.Step >= c.steps {
			return false, c.outOfOrder(e)
		}
		c.inStep, c.step, c.nextStep = true, e.Step, e.Step+1
	case "row":
		if !c.inStep {
			return false, c.outOfOrder(e)
		}
	case "step_end": // it names no step: the one begun last
		if !c.inStep {
			return false, c.outOfOrder(e)
		}
		c.inStep = false
		c.lastEnd = c.step == c.steps-1
	case "step_error":
		if (c.inStep && e.Step != c.step) || (!c.inStep && (e.Step < c.nextStep || e.Step >= c.steps)) {
			return false, c.outOfOrder(e)
		}
		c.inStep, c.step, c.nextStep = false, e.Step, e.Step+1
		c.lastEnd = e.Step == c.steps-1
	case "error":
		c.inStep, c.failed, c.lastEnd = false, true, true
	}
	return true, nil
}

// outOfOrder is the error for an entry that breaks the order of take.
func (c *Cursor) outOfOrder(e *CursorEntry) error {
	msg := "a cursor entry of type " + e.Type
	if e.Type == "step_begin" || e.Type == "step_error" {
		msg += fmt.Sprintf(" for step %d", e.Step)
	}
	if c.inStep {
		msg += fmt.Sprintf(" inside step %d", c.step)
	} else {
		msg += " outside a step"
	}
	return &ProtocolError{Msg: fmt.Sprintf("%s, of a batch of %d steps", msg, c.steps)}
}

// Close ends the cursor, so that the stream is free for the next request:
// over HTTP by ending the request at once (or by reading the few entries
// left once the last step is over), over WebSocket with close_cursor.
func (c *Cursor) Close() error {
	if c.ws != nil {
		return c.c.sanitize(c.wsClose())
	}
	if (c.lastEnd || c.ans != nil && c.ans.over) && !c.done {
		// What is left after the last step is its replication index:
		// read to the end, so that the connection is kept, within one
		// request timeout whatever the caller's context allows.
		bound := time.AfterFunc(c.c.backgroundBound(), func() { c.abort(&TimeoutError{After: c.c.backgroundBound()}) })
		for i := 0; i < maxDrain && !c.done; i++ {
			if _, err := c.Next(); err != nil {
				break
			}
		}
		bound.Stop()
	}
	c.done = true
	c.body.Close()
	if c.pooled {
		// Nothing reads r once done is set.
		c.pooled = false
		putAnswerReader(c.r)
		c.r, c.ans.j.r = nil, nil
	}
	if c.stopAbort != nil {
		c.stopAbort()
	}
	if c.w != nil {
		c.w.release()
	}
	return nil
}
