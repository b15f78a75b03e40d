package hrana

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

// ResponseTooLargeCode is the code of sqld's error for an answer larger
// than its --max-response-size (10 MB by default): the statement ran,
// and its stream, transaction included, goes on.
const ResponseTooLargeCode = "RESPONSE_TOO_LARGE"

// Query runs b in a pipeline of its own on the stream and returns its
// outcome as a Cursor's entries, decoded from the answer as the caller
// reads them (see answer.go): the server's cheapest way to send rows,
// with the memory of one row at a time. The answer is asked for
// uncompressed, which costs sqld least. As with Cursor, the stream may
// not be used until the cursor is closed; an exchange error resets it.
// Unlike Cursor, an error the server gives the request as a whole (such
// as ResponseTooLargeCode) is an "error" entry after which the stream
// goes on.
//
// Over WebSocket an answer is one message, read whole within the size
// limit (as every WebSocket answer is), and the entries come from it.
func (s *Stream) Query(ctx context.Context, b Batch) (*Cursor, error) {
	cur, err := s.query(ctx, b)
	return cur, s.c.sanitize(err)
}

func (s *Stream) query(ctx context.Context, b Batch) (*Cursor, error) {
	if ctx.Err() != nil {
		return nil, &TransportError{Err: ctxErr(ctx), NotSent: true}
	}
	if s.c.isWS {
		return s.wsQuery(ctx, b)
	}
	reqs := s.c.withReplicationIndex([]Request{ExecuteBatch(b)})
	body, err := appendPipeline(make([]byte, 0, 256), s.baton, reqs)
	if err != nil {
		return nil, &EncodeError{Err: err}
	}
	cur, err, orphaned := s.streamed(ctx, reqs, func(xctx context.Context, w *watchdog, baton, base string) (*Cursor, error) {
		return s.c.openAnswer(xctx, w, baton, base, body)
	})
	switch {
	case orphaned:
		s.forget()
		return nil, err
	case err != nil:
		s.abandon(err)
		return nil, err
	}
	return s.adoptCursor(ctx, cur), nil
}

// streamed runs open, an HTTP exchange whose answer streams into a
// Cursor, as the stream's next request: a caller that gives up leaves it
// to finish in the background (detach), where its baton is settled.
// logged is what the debug log shows of it.
func (s *Stream) streamed(ctx context.Context, logged []Request, open func(xctx context.Context, w *watchdog, baton, base string) (*Cursor, error)) (*Cursor, error, bool) {
	baton, base, c := s.baton, s.baseURL, s.c
	start := time.Now()
	xctx, w := c.exchangeContext(ctx, s.Holding)
	cur, err, orphaned := detach(c, ctx, w, s.Holding, true,
		func() (*Cursor, error) { return open(xctx, w, baton, base) },
		func(cur *Cursor, err error) {
			if err != nil {
				c.abandonBaton(baton, base, err)
				return
			}
			cur.body.Close()
			c.settleOrphan(xctx, baton, base, &pipelineResponse{Baton: cur.head.Baton, BaseURL: cur.head.BaseURL}, nil)
		})
	s.logRequest(ctx, logged, start, err)
	return cur, err, orphaned
}

// adoptCursor takes the baton cur's answer began with, and ends cur when
// the caller's ctx does.
func (s *Stream) adoptCursor(ctx context.Context, cur *Cursor) *Cursor {
	s.adopt(ctx, cur.head.Baton, cur.head.BaseURL)
	cur.stopAbort = context.AfterFunc(ctx, func() { cur.abort(ctxErr(ctx)) })
	return cur
}

// openAnswer posts a pipeline and reads its answer up to the results. It
// runs on the exchange's own context and touches no Stream.
func (c *Client) openAnswer(ctx context.Context, w *watchdog, baton, base string, body []byte) (*Cursor, error) {
	for {
		usedV2 := c.v2.Load()
		resp, err := c.send(ctx, c.pipelineURL(base), body, false)
		if err != nil {
			return nil, w.explain(err)
		}
		if resp.StatusCode == http.StatusNotFound && !usedV2 && baton == "" && base == "" {
			// As in roundTrip: no Hrana 3 over HTTP, nothing ran.
			resp.Body.Close()
			c.v2.Store(true)
			continue
		}
		if resp.StatusCode/100 != 2 {
			data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			resp.Body.Close()
			return nil, c.statusError(resp, data)
		}
		cur := &Cursor{c: c, steps: 1, body: resp.Body, r: getAnswerReader(resp.Body), pooled: true, w: w}
		cur.ans = newAnswer(c, cur.r)
		head, err := cur.ans.readHead()
		if err != nil {
			resp.Body.Close()
			putAnswerReader(cur.r)
			var pe *ProtocolError
			var tl *ResponseTooLargeError
			if !errors.As(err, &pe) && !errors.As(err, &tl) {
				err = cur.readFailed(err)
			}
			return nil, err
		}
		cur.head = head
		w.pause() // from here the clock runs only while the caller waits on an entry
		return cur, nil
	}
}

// answerReaders holds the buffers pipeline answers are read through: a
// read of a few rows would otherwise allocate more for its 32 KiB buffer
// than for everything else it does.
var answerReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}

func getAnswerReader(body io.Reader) *bufio.Reader {
	r := answerReaders.Get().(*bufio.Reader)
	r.Reset(body)
	return r
}

func putAnswerReader(r *bufio.Reader) {
	r.Reset(nil)
	answerReaders.Put(r)
}

// wsQuery is Query over WebSocket: the batch's answer as one message,
// handed out as entries.
func (s *Stream) wsQuery(ctx context.Context, b Batch) (*Cursor, error) {
	results, err := s.pipeline(ctx, []Request{ExecuteBatch(b)})
	if err != nil {
		return nil, err
	}
	s.c.cleanResults(results)
	a := &answer{c: s.c}
	r := results[0]
	if r.Err != nil {
		e, ok := r.Err.(*Error)
		if !ok {
			return nil, r.Err
		}
		a.queue = append(a.queue, CursorEntry{Type: "error", Error: e})
	} else {
		a.queueBatch(r.Response.Batch)
	}
	return &Cursor{c: s.c, body: io.NopCloser(nil), ans: a}, nil
}
