package hrana

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Timeouts. A request whose context has no deadline waits at most the
// request timeout for the server:
//
//   - a pipeline: from sending it to the last byte of its answer, however
//     the bytes trickle in;
//   - a cursor: from sending it to its header, then for each entry the
//     caller asks for (time the caller spends between rows does not
//     count). Progress is an entry of the batch's last step delivered
//     (see Cursor.progress): blank lines, unknown or replication_index
//     entries, rows of an earlier step (a transaction's BEGIN), a body
//     trickling one byte at a time or WebSocket pages without entries do
//     not restart the clock. Closing reads what is left after the last
//     step within one request timeout.
//
// The exchange itself runs under a context of its own (see detach.go), so
// that the caller's cancellation ends only the caller's wait.

// DefaultRequestTimeout bounds how long a request waits for a server that
// makes no progress when the caller's context has no deadline: see
// Config.RequestTimeout.
const DefaultRequestTimeout = time.Minute

// lingerAfterDeadline is how long an exchange may go on in the background
// after the caller's own deadline passed, to learn the stream's next
// baton and close it (see detach.go).
const lingerAfterDeadline = 5 * time.Second

// errClientClosed ends the exchanges of a closed client.
var errClientClosed = errors.New("the client was closed")

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

// watchdog bounds one exchange. Its context is cut when the clock runs
// out: the request timeout while armed, when the caller's context has no
// deadline; otherwise that deadline plus lingerAfterDeadline. It ends with
// the client.
type watchdog struct {
	d      time.Duration
	timer  *time.Timer // the request timeout; nil when off
	limit  *time.Timer // the caller's deadline, lingered
	stop   func() bool // detaches from the client's context
	cancel context.CancelCauseFunc
	fired  atomic.Bool
}

// exchangeContext returns a context for an exchange started by a caller
// with ctx, and the watchdog that bounds it, armed. A detached exchange
// has ctx's values but not its cancellation (see detach.go). Call release
// once the exchange is over.
func (c *Client) exchangeContext(ctx context.Context, detached bool) (context.Context, *watchdog) {
	parent := ctx
	if detached {
		parent = context.WithoutCancel(ctx)
	}
	xctx, cancel := context.WithCancelCause(parent)
	w := &watchdog{d: c.timeout, cancel: cancel}
	w.stop = context.AfterFunc(c.bgCtx, func() { cancel(errClientClosed) })
	if deadline, ok := ctx.Deadline(); ok {
		w.limit = time.AfterFunc(time.Until(deadline)+lingerAfterDeadline, func() { cancel(context.DeadlineExceeded) })
	} else if w.d > 0 {
		w.timer = time.AfterFunc(w.d, func() {
			w.fired.Store(true)
			cancel(&TimeoutError{After: w.d})
		})
	}
	return xctx, w
}

// arm starts the request timeout's clock again; pause stops it.
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

// release ends the watch and the exchange's context.
func (w *watchdog) release() {
	w.pause()
	if w.limit != nil {
		w.limit.Stop()
	}
	w.stop()
	w.cancel(context.Canceled)
}

// explain replaces err by a timeout error when the watchdog cut the
// exchange, so the caller reads why rather than "context canceled".
func (w *watchdog) explain(err error) error {
	if err == nil || !w.fired.Load() {
		return err
	}
	return timeoutOf(err, w.d)
}

// timeoutOf is the error for err, cut by the request timeout d: the
// token function's, if it was the one waited for, else the server's.
func timeoutOf(err error, d time.Duration) error {
	if te := (*TimeoutError)(nil); errors.As(err, &te) && te.TokenFunc {
		return err
	}
	if te := (*tokenError)(nil); errors.As(err, &te) {
		return &TransportError{Err: &TimeoutError{After: d, TokenFunc: true}, NotSent: true}
	}
	return &TransportError{Err: &TimeoutError{After: d}}
}

// TimeoutError means the server made no progress on a request for the
// request timeout (the caller's context had no deadline), or the token
// function did not return within it.
type TimeoutError struct {
	After     time.Duration
	TokenFunc bool
}

func (e *TimeoutError) Error() string {
	what := "the server made no progress on the request"
	if e.TokenFunc {
		what = "the auth token function did not return"
	}
	return fmt.Sprintf("%s for %v (the request timeout; give the context a deadline or set WithRequestTimeout to change it)", what, e.After)
}

// Timeout marks it as a timeout for net.Error-style checks.
func (e *TimeoutError) Timeout() bool { return true }

// Is makes errors.Is(err, context.DeadlineExceeded) true, as for any
// other deadline.
func (e *TimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// bounded returns ctx with the request timeout as its deadline if it has
// none, for a wait on a WebSocket answer.
func (c *Client) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || c.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, c.timeout, &TimeoutError{After: c.timeout})
}

// boundedFrom is bounded with the request timeout counted from start.
func (c *Client) boundedFrom(ctx context.Context, start time.Time) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || c.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithDeadlineCause(ctx, start.Add(c.timeout), &TimeoutError{After: c.timeout})
}

// backgroundBound is the bound of work the client does on its own (a
// WebSocket dial, closing a cursor or a stream): the request timeout, or
// abandonTimeout when that is off.
func (c *Client) backgroundBound() time.Duration {
	if c.timeout > 0 {
		return c.timeout
	}
	return abandonTimeout
}

// ctxErr is the error for a caller whose context ended: its cause.
func ctxErr(ctx context.Context) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return ctx.Err()
}
