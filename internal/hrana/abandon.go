package hrana

import (
	"context"
	"errors"
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
	s.Reset()
	if baton == "" || s.c.isWS {
		return
	}
	var he *HTTPError
	if errors.As(err, &he) && he.Status < 500 {
		return // the server read the baton and refused the request
	}
	c := s.c
	c.bgMu.Lock()
	defer c.bgMu.Unlock()
	if c.bgCtx.Err() != nil {
		return // closed
	}
	body, encErr := appendPipeline(nil, baton, []Request{Close()})
	if encErr != nil {
		return
	}
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		ctx, cancel := context.WithTimeout(c.bgCtx, abandonTimeout)
		defer cancel()
		_, _, _ = (&Stream{c: c}).post(ctx, c.pipelineURL(base), body)
	}()
}
