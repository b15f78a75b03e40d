package libsql

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/entlibsql/entlibsql/internal/hrana"
)

// Retry policy. This file is the one place that decides whether a failed
// request may run again; README.md ("Failures, retries and timeouts")
// says the same for users.
//
// A request is sent again only when
//
//  1. it provably never reached the server: the connection could not be
//     made (refused, DNS, TLS handshake, certificate), the auth token
//     could not be had, the request was never written whole, or its
//     WebSocket had already died; or the server proved that it ran
//     nothing, by saying it does not know the stream the request named
//     (sqld's answers to an unknown, reused or closed baton, HTTP 400 with
//     one of three fixed texts, and to an expired stream, the code
//     STREAM_EXPIRED; any other 400, from a proxy say, proves nothing;
//     hrana.IsStreamNotFound); or
//  2. it is a read (SELECT, VALUES, EXPLAIN) outside a transaction, on a
//     connection holding no session state, and the exchange failed in
//     transit (connection lost, a 5xx answer, an answer cut short or
//     malformed). Reading again changes nothing; or
//  3. the server refused it for lack of capacity (HTTP 429: sqld could
//     not open a database connection in time, or has too many requests
//     in flight; nothing ran) and the connection holds nothing: it goes
//     again after a backoff (25 ms,
//     doubling to 1 s, with jitter) for as long as the request timeout
//     (or the context's deadline) allows, then fails with the 429.
//
// Everything else returns an error and is never resent: a write whose
// answer was lost may have been applied, and sending it again could apply
// it twice. In particular a COMMIT whose answer was lost is an error,
// although the transaction may have committed.
//
// Never resent either, whatever the statement: a cancelled context or a
// passed deadline (the caller's, or the request timeout's: a stuck server
// does not get better by being asked again), an authentication failure
// (HTTP 401 or 403, or a WebSocket hello_error, which also never reached
// a statement), a redirect that was not followed (redirect.go in
// internal/hrana), an answer over the size limit, and any error the
// server reported for the statement itself (a statement sqld refuses to
// parse over /v3/cursor comes as HTTP 500, and is such an error).
//
// The resending happens in three places only:
//
//   - a warm stream (one holding no state) whose request was refused
//     under rule 1 gets the same request once more, at once, on a fresh
//     stream (conn.attempt);
//   - a request refused under rule 3 goes again after its backoff
//     (conn.attempt);
//   - otherwise a failure under rules 1 and 2 is driver.ErrBadConn (a
//     *badConnError carrying the cause), and database/sql runs the call
//     again on another connection: twice on pooled ones, then once on a
//     new one. It does so only for calls outside a transaction
//     (DB.ExecContext, QueryContext, PingContext, ...); inside a sql.Tx
//     or on a sql.Conn the error goes to the caller. After the last try
//     the caller reads the cause, not "driver: bad connection".
//
// A retryable failure is driver.ErrBadConn only then: database/sql may
// resend whatever carries it.
//
// A failed exchange also decides what the connection still holds: an
// open transaction breaks (its next statements and COMMIT fail; ROLLBACK
// succeeds), and a connection with session state (sticky) goes bad and
// is dropped by the pool.

// Backoff of rule 3.
const (
	overloadFirstWait = 25 * time.Millisecond
	overloadMaxWait   = time.Second
)

// notSent reports whether err says the request provably never reached the
// server.
func notSent(err error) bool {
	var te *hrana.TransportError
	return errors.As(err, &te) && te.NotSent
}

// retryable reports whether a request that failed with err may run again
// through database/sql under rules 1 and 2. read says the request is a
// read, held that the connection's stream holds state (a transaction,
// session settings).
func retryable(err error, read, held bool) bool {
	if held || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var tl *hrana.ResponseTooLargeError
	var se *hrana.Error
	var he *hrana.HTTPError
	switch {
	case errors.As(err, &tl), errors.As(err, &se):
		return false
	case errors.As(err, &he) && (he.Status/100 == 3 || he.Status == 401 || he.Status == 403):
		// A redirect not followed, a refused token (over WebSocket, a
		// hello_error): the same again would fare the same.
		return false
	}
	if notSent(err) || hrana.IsStreamNotFound(err) {
		return true
	}
	if !read {
		return false
	}
	var te *hrana.TransportError
	var pe *hrana.ProtocolError
	switch {
	case errors.As(err, &he):
		// 5xx: a gateway or a server in trouble. 4xx and 3xx: the request
		// itself (or its token) is refused, and would be again.
		return he.Status >= 500
	case errors.As(err, &te), errors.As(err, &pe):
		return true
	}
	return false
}

// readOnly reports whether reqs are reads that may run again (rule 2).
func readOnly(reqs []hrana.Request) bool {
	for _, r := range reqs {
		if r.Kind() != "execute" || !isRead(r.SQL()) {
			return false
		}
	}
	return len(reqs) > 0
}

// isRead reports whether sql only reads, by its first keyword. WITH is
// not counted: a common table expression may lead to a write.
func isRead(sql string) bool {
	switch kw, _ := nextKeyword(sql); kw {
	case "SELECT", "VALUES", "EXPLAIN":
		return true
	}
	return false
}

// resendable reports whether a request that failed on a warm stream may
// go once more, at once, on a fresh stream (rule 1).
func resendable(err error) bool { return hrana.IsStreamNotFound(err) || notSent(err) }

// attempt sends a request on the conn's stream under rules 1 and 3;
// send does one exchange. held says the stream holds state.
func (c *conn) attempt(ctx context.Context, held bool, send func() error) error {
	warm := c.stream.Open() && !held
	err := send()
	if warm && resendable(err) {
		err = send() // the failure left the stream fresh
	}
	if err == nil || held || !hrana.IsOverloaded(err) {
		return err
	}
	budget := c.opts.requestTimeout
	if budget <= 0 {
		budget = DefaultRequestTimeout
	}
	until := time.Now().Add(budget)
	if d, ok := ctx.Deadline(); ok && d.Before(until) {
		until = d
	}
	for wait := overloadFirstWait; hrana.IsOverloaded(err) && !c.stream.Open(); wait = min(2*wait, overloadMaxWait) {
		pause := wait/2 + rand.N(wait) // jitter: instances that collided spread out
		if time.Now().Add(pause).After(until) {
			break
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		err = send()
	}
	return err
}

// failed maps an exchange error under the retry policy. When the exchange
// fails, what the stream held is gone: an open transaction breaks, a
// sticky conn goes bad.
func (c *conn) failed(ctx context.Context, held, read bool, err error) error {
	var enc *hrana.EncodeError
	if errors.As(err, &enc) {
		return mapError(err) // nothing was sent
	}
	if ctx.Err() == nil && retryable(err, read, held) {
		return &badConnError{cause: mapError(err)}
	}
	lost := hrana.IsStreamLost(err)
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = ctxErr
	} else {
		err = mapError(err)
	}
	if held {
		if lost {
			err = lostStreamError(err)
		}
		c.lose(err)
	}
	return err
}

// stmtFailed maps a statement's own error. sqld ends a transaction left
// idle for about 5 s (SQLite's write lock goes to the next writer) and
// answers its next statement with TRANSACTION_TIMEOUT; the statements
// after that would run in autocommit mode, outside the transaction the
// caller believes in. So the transaction breaks here: nothing more of it
// reaches the server, and COMMIT fails.
func (c *conn) stmtFailed(err error) error {
	err = mapError(err)
	var e *Error
	if c.tx == txActive && errors.As(err, &e) && e.ServerCode == "TRANSACTION_TIMEOUT" {
		c.breakTx(err)
	}
	return err
}

// lostStreamError says that the server no longer has the stream and what
// it held.
func lostStreamError(err error) error {
	return wrapError("the server no longer holds this connection's stream (it expired after inactivity, or the server restarted)", err)
}
