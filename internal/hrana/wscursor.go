package hrana

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Cursors over WebSocket (Hrana 3): open_cursor runs a batch on a stream,
// fetch_cursor brings its entries in pages. The first page is asked for
// with the opening, in the same trip.

// wsFetchCount is how many entries a fetch asks for.
const wsFetchCount = 1024

func (s *Stream) wsCursor(ctx context.Context, b Batch) (*Cursor, error) {
	if s.ws != nil && !s.ws.alive() {
		s.Reset()
		return nil, &TransportError{Err: ErrSocketLost, NotSent: true}
	}
	sock := s.ws
	if sock == nil {
		var err error
		if sock, err = s.c.socket(ctx); err != nil {
			return nil, err
		}
	}
	if sock.version < 3 {
		return nil, ErrNoCursor
	}
	curCtx := ctx // the cursor's fetches have their own bounds
	ctx, cancel := s.c.bounded(ctx)
	defer cancel()
	s.c.stampBatch(&b)
	batch, err := appendBatch(nil, &b)
	if err != nil {
		return nil, &EncodeError{Err: err}
	}
	opening := s.wsID == 0
	streamID := s.wsID
	var chans []<-chan wsAnswer
	if opening {
		streamID = sock.newStreamID()
		ch, err := sock.send(ctx, func(buf []byte, id int32) ([]byte, error) {
			return appendWSRequest(buf, id, streamID, "open_stream", nil)
		})
		if err != nil {
			return nil, &TransportError{Err: err, NotSent: true}
		}
		chans = append(chans, ch)
		s.ws, s.wsID = sock, streamID
	}
	cursorID := sock.newCursorID()
	for _, build := range []func([]byte, int32) ([]byte, error){
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
		ch, err := sock.send(ctx, build)
		if err != nil {
			s.Reset()
			return nil, &TransportError{Err: err}
		}
		chans = append(chans, ch)
	}
	answers, err := s.c.wait(ctx, chans)
	if err != nil {
		s.Reset()
		return nil, err
	}
	if opening {
		if e := answers[0].err; e != nil {
			s.Reset()
			return nil, &TransportError{Err: fmt.Errorf("opening a stream: %w", e), NotSent: true}
		}
		answers = answers[1:]
	}
	if e := answers[0].err; e != nil {
		return nil, e // the batch could not start; the stream goes on
	}
	cur := &Cursor{c: s.c, ws: sock, ctx: curCtx, id: cursorID}
	if err := cur.take(answers[1]); err != nil {
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

// wait collects the answers of requests sent together, within the
// request timeout if ctx has no deadline.
func (c *Client) wait(ctx context.Context, chans []<-chan wsAnswer) ([]wsAnswer, error) {
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	answers := make([]wsAnswer, len(chans))
	for i, ch := range chans {
		select {
		case a, ok := <-ch:
			if !ok {
				return nil, &TransportError{Err: ErrSocketLost}
			}
			answers[i] = a
		case <-ctx.Done():
			return nil, &TransportError{Err: context.Cause(ctx)}
		}
	}
	return answers, nil
}

// take adds a fetch_cursor answer to the cursor.
func (c *Cursor) take(a wsAnswer) error {
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

func (c *Cursor) wsNext() (*CursorEntry, error) {
	for {
		if len(c.buf) > 0 {
			e := c.buf[0]
			c.buf = c.buf[1:]
			if e.Type == "replication_index" {
				c.c.observe(e.ReplicationIndex)
				continue
			}
			return &e, nil
		}
		if c.wsDone {
			c.done = true
			return nil, io.EOF
		}
		ctx, cancel := c.c.bounded(c.ctx)
		ch, err := c.ws.send(ctx, fetchRequest(c.id))
		if err != nil {
			cancel()
			return nil, &TransportError{Err: err}
		}
		answers, err := c.c.wait(ctx, []<-chan wsAnswer{ch})
		cancel()
		if err != nil {
			return nil, err
		}
		if err := c.take(answers[0]); err != nil {
			return nil, err
		}
	}
}

// wsClose closes the cursor on the server, which drops what is left.
func (c *Cursor) wsClose() error {
	if c.done && c.wsDone && c.buf == nil {
		return nil
	}
	c.done, c.buf = true, nil
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch, err := c.ws.send(ctx, func(buf []byte, id int32) ([]byte, error) {
		buf = wsRequestHead(buf, id, "close_cursor")
		buf = append(buf, `,"cursor_id":`...)
		buf = strconv.AppendInt(buf, int64(c.id), 10)
		return append(buf, "}}"...), nil
	})
	if err != nil {
		return &TransportError{Err: err}
	}
	answers, err := c.c.wait(ctx, []<-chan wsAnswer{ch})
	if err != nil {
		return err
	}
	if answers[0].err != nil {
		return answers[0].err
	}
	return nil
}
