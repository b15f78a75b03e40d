package hrana

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// DefaultRequestTimeout bounds how long a request waits for a server that
// makes no progress when the caller's context has no deadline: see
// Config.RequestTimeout.
const DefaultRequestTimeout = time.Minute

// requestTimeout resolves Config.RequestTimeout: 0 is the default, a
// negative value turns the bound off.
func requestTimeout(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return DefaultRequestTimeout
	case d < 0:
		return 0
	}
	return d
}

// watchdog cancels a request's context when the server makes no progress
// for the client's request timeout: no answer to the request, or no next
// part of its body while the caller waits for one. A caller who stops
// reading a cursor is not the server's fault, so the watchdog runs only
// while the driver waits on the server. It is disarmed when the caller's
// context carries a deadline of its own: that deadline rules.
type watchdog struct {
	d      time.Duration
	timer  *time.Timer
	cancel context.CancelFunc
	fired  atomic.Bool
}

// watch returns ctx bound to a new watchdog, armed. Call release once the
// request is over, successful or not.
func (c *Client) watch(ctx context.Context) (context.Context, *watchdog) {
	ctx, cancel := context.WithCancel(ctx)
	w := &watchdog{d: c.timeout, cancel: cancel}
	if _, ok := ctx.Deadline(); ok || w.d <= 0 {
		return ctx, w
	}
	w.timer = time.AfterFunc(w.d, func() {
		w.fired.Store(true)
		cancel()
	})
	return ctx, w
}

// arm starts waiting on the server; pause stops.
func (w *watchdog) arm() {
	if w.timer != nil {
		w.timer.Reset(w.d)
	}
}

func (w *watchdog) pause() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

// release ends the watch and the request's context.
func (w *watchdog) release() {
	w.pause()
	w.cancel()
}

// explain replaces err by a timeout error when the watchdog cut the
// request, so the caller reads why rather than "context canceled".
func (w *watchdog) explain(err error) error {
	if err == nil || !w.fired.Load() {
		return err
	}
	return &TransportError{Err: &TimeoutError{After: w.d}}
}

// TimeoutError means the server made no progress on a request for the
// request timeout (the caller's context had no deadline).
type TimeoutError struct {
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("the server made no progress on the request for %v (the request timeout; give the context a deadline or set WithRequestTimeout to change it)", e.After)
}

// Timeout marks it as a timeout for net.Error-style checks.
func (e *TimeoutError) Timeout() bool { return true }

// Is makes errors.Is(err, context.DeadlineExceeded) true, as for any
// other deadline.
func (e *TimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// watchedBody is a response body read under a watchdog: the clock runs
// only during Read.
type watchedBody struct {
	io.ReadCloser
	w *watchdog
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.w.arm()
	n, err := b.ReadCloser.Read(p)
	b.w.pause()
	return n, b.w.explain(err)
}

func (b *watchedBody) Close() error {
	err := b.ReadCloser.Close()
	b.w.release()
	return err
}

// bounded returns ctx with the request timeout as its deadline if it has
// none, for a WebSocket exchange (one request, one answer).
func (c *Client) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || c.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, c.timeout, &TimeoutError{After: c.timeout})
}
