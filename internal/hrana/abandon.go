package hrana

import (
	"context"
	"errors"
	"io"
	"time"
)

// abandonTimeout bounds the best-effort close of an abandoned stream.
const abandonTimeout = 5 * time.Second

// abandon forgets the stream after a failed exchange. Over HTTP, when the
// request may never have reached the server (the connection broke, a
// gateway answered 5xx), the baton it carried may still be good: a
// best-effort close with it, in the background, ends the server stream at
// once, so that a transaction it held releases SQLite's write lock now
// rather than when sqld gives up on it (5 s) or expires the stream
// (10 s). If the request did reach the server the baton is spent and the
// close is refused: nothing is lost either way, and nothing is resent.
func (s *Stream) abandon(err error) {
	baton, base := s.baton, s.baseURL
	if s.ws != nil {
		s.Reset()
		return
	}
	s.forget()
	s.c.abandonBaton(baton, base, err)
}

// abandonBaton closes, in the background, the stream a failed request
// was sent with, unless the answer proves the server read its baton.
func (c *Client) abandonBaton(baton, base string, err error) {
	if baton == "" {
		return
	}
	var he *HTTPError
	if errors.As(err, &he) && he.Status < 500 {
		return // the server read the baton and refused the request
	}
	c.closeInBackground(baton, base)
}

// closeInBackground sends a close for the stream of baton, without
// waiting for it, and ignores the answer.
func (c *Client) closeInBackground(baton, base string) {
	body, err := appendPipeline(nil, baton, []Request{Close()})
	if err != nil {
		return
	}
	url := c.pipelineURL(base)
	c.goBackground(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, abandonTimeout)
		defer cancel()
		resp, err := c.send(ctx, url, body, false)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
			resp.Body.Close()
		}
	})
}
