package hrana

import "context"

// Cancellation over HTTP, on a stream that holds state (Stream.Holding:
// a transaction, session settings). A caller's context governs only the
// caller's wait. The exchange runs under a context of its own
// (exchangeContext), and when the caller gives up first it goes on in the
// background: once its answer arrives, the stream it names is closed with
// the baton that answer carries. A statement that the server ran just
// before the cancel thus has its transaction rolled back, and SQLite's
// write lock freed, as soon as the server answers, instead of when sqld
// gives up on an idle transaction (5 s): the baton the request was sent
// with is spent by then, so closing with it would do nothing.
//
// On a stream that holds nothing the cancel cuts the request, as it always
// did: sqld then drops a stream whose request had not finished, and no
// request is left running for a caller who is gone.

// detach runs exchange (bounded by w, made by exchangeContext) and
// returns its outcome, then releases w unless hold says the outcome goes
// on using it. If the exchange is detached and ctx ends first, detach
// returns the caller's context error with orphaned set; orphan then
// receives the outcome when it comes, in the background, and w is
// released after it. exchange must not touch the Stream: the caller may
// reuse it at once.
func detach[T any](c *Client, ctx context.Context, w *watchdog, detached, hold bool, exchange func() (T, error), orphan func(T, error)) (v T, err error, orphaned bool) {
	if ctx.Done() == nil || !detached {
		v, err = exchange()
		if !hold || err != nil {
			w.release()
		}
		return v, err, false
	}
	type outcome struct {
		v   T
		err error
	}
	done := make(chan outcome, 1)
	var zero T
	if !c.goBackground(func(context.Context) {
		v, err := exchange()
		done <- outcome{v, err}
	}) {
		w.release()
		return zero, &TransportError{Err: errClientClosed, NotSent: true}, false
	}
	select {
	case o := <-done:
		if !hold || o.err != nil {
			w.release()
		}
		return o.v, o.err, false
	case <-ctx.Done():
	}
	settle := func(context.Context) {
		o := <-done
		orphan(o.v, o.err)
		w.release()
	}
	if !c.goBackground(settle) {
		settle(nil) // closed: the exchange ends with the client, now
	}
	return zero, &TransportError{Err: ctxErr(ctx)}, true
}
