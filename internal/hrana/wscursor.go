package hrana

import (
	"context"
	"io"
	"strconv"
)

// Cursors over WebSocket (Hrana 3): open_cursor runs a batch on a stream,
// fetch_cursor brings its entries in pages. The first page is asked for
// with the opening, in the same trip.

// wsFetchCount is how many entries a fetch asks for.
const wsFetchCount = 1024

func (s *Stream) wsCursor(ctx context.Context, b Batch) (*Cursor, error) {
	curCtx := ctx // the cursor's fetches have their own bounds
	ctx, cancel := s.c.bounded(ctx)
	defer cancel()
	sock, err := s.wsSocketFor(ctx)
	if err != nil {
		return nil, err
	}
	if sock.version < 3 {
		return nil, ErrNoCursor
	}
	s.c.stampBatch(&b)
	batch, err := appendBatch(nil, &b)
	if err != nil {
		return nil, &EncodeError{Err: err}
	}
	openCh, err := s.openStream(ctx, sock)
	if err != nil {
		return nil, err
	}
	var chans []<-chan wsAnswer
	if openCh != nil {
		chans = append(chans, openCh)
	}
	streamID := s.wsID
	cursorID := sock.newCursorID()
	for i, build := range []func([]byte, int32) ([]byte, error){
		func(buf []byte, id int32) ([]byte, error) {
			buf = wsRequestHead(buf, id, "open_cursor")
			buf = append(buf, `,"stream_id":`...)
			buf = strconv.AppendInt(buf, int64(streamID), 10)
			buf = append(buf, `,"cursor_id":`...)
			buf = strconv.AppendInt(buf, int64(cursorID), 10)
			buf = append(buf, `,"batch":`...)
			buf = append(buf, batch...)
			return append(buf, "}}"...), nil
		},
		fetchRequest(cursorID),
	} {
		ch, err := sock.send(build)
		if err != nil {
			s.forget()
			return nil, &TransportError{Err: err, NotSent: i == 0}
		}
		chans = append(chans, ch)
	}
	answers, err := s.c.wait(ctx, sock, chans)
	if err != nil {
		if ctx.Err() != nil {
			s.Reset()
		} else {
			s.forget()
		}
		return nil, err
	}
	if openCh != nil {
		if e := answers[0].err; e != nil {
			sock.release()
			s.forget()
			return nil, &TransportError{Err: wrap("opening a stream", e), NotSent: true}
		}
		answers = answers[1:]
	}
	if e := answers[0].err; e != nil {
		return nil, e // the batch could not start; the stream goes on
	}
	cur := &Cursor{c: s.c, steps: len(b.Steps), ws: sock, ctx: curCtx, id: cursorID}
	if err := cur.takePage(answers[1]); err != nil {
		cur.wsClose()
		return nil, err
	}
	return cur, nil
}

func wsRequestHead(b []byte, id int32, kind string) []byte {
	b = append(b, `{"type":"request","request_id":`...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, `,"request":{"type":"`...)
	b = append(b, kind...)
	return append(b, '"')
}

func fetchRequest(cursorID int32) func([]byte, int32) ([]byte, error) {
	return func(buf []byte, id int32) ([]byte, error) {
		buf = wsRequestHead(buf, id, "fetch_cursor")
		buf = append(buf, `,"cursor_id":`...)
		buf = strconv.AppendInt(buf, int64(cursorID), 10)
		buf = append(buf, `,"max_count":`...)
		buf = strconv.AppendInt(buf, wsFetchCount, 10)
		return append(buf, "}}"...), nil
	}
}

// takePage adds a fetch_cursor answer to the cursor.
func (c *Cursor) takePage(a wsAnswer) error {
	if a.err != nil {
		return a.err
	}
	if a.response == nil || a.response.Type != "fetch_cursor" {
		return &ProtocolError{Msg: "the server did not answer a fetch_cursor request in kind"}
	}
	c.buf = append(c.buf[:0], a.response.Entries...)
	c.wsDone = a.response.Done
	return nil
}

// wsNext returns the next entry, fetching pages as needed: within the
// request timeout since the caller began waiting for progress, however
// many pages come without it.
func (c *Cursor) wsNext() (*CursorEntry, error) {
	var ctx context.Context
	for {
		for len(c.buf) > 0 {
			e := c.buf[0]
			c.buf = c.buf[1:]
			if ok, err := c.take(&e); err != nil || ok {
				return &e, err
			}
		}
		if c.wsDone {
			c.done = true
			return nil, io.EOF
		}
		if ctx == nil {
			var cancel context.CancelFunc
			ctx, cancel = c.c.boundedFrom(c.ctx, c.waitSince)
			defer cancel()
		}
		if ctx.Err() != nil {
			return nil, &TransportError{Err: ctxErr(ctx)}
		}
		ch, err := c.ws.send(fetchRequest(c.id))
		if err != nil {
			return nil, &TransportError{Err: err}
		}
		answers, err := c.c.wait(ctx, c.ws, []<-chan wsAnswer{ch})
		if err != nil {
			return nil, err
		}
		if err := c.takePage(answers[0]); err != nil {
			return nil, err
		}
	}
}

// wsClose closes the cursor on the server, which drops what is left. It
// waits for the answer (the stream may open no other cursor before it)
// within the request timeout, whatever became of the caller's context.
func (c *Cursor) wsClose() error {
	if c.wsClosed {
		return nil
	}
	c.done, c.buf, c.wsClosed = true, nil, true
	ch, err := c.ws.send(func(buf []byte, id int32) ([]byte, error) {
		buf = wsRequestHead(buf, id, "close_cursor")
		buf = append(buf, `,"cursor_id":`...)
		buf = strconv.AppendInt(buf, int64(c.id), 10)
		return append(buf, "}}"...), nil
	})
	if err != nil {
		return &TransportError{Err: err}
	}
	ctx, cancel := context.WithTimeoutCause(context.Background(), c.c.backgroundBound(), &TimeoutError{After: c.c.backgroundBound()})
	defer cancel()
	answers, err := c.c.wait(ctx, c.ws, []<-chan wsAnswer{ch})
	if err != nil {
		return err
	}
	if answers[0].err != nil {
		return answers[0].err
	}
	return nil
}
