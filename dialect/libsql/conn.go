package libsql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/entlibsql/entlibsql/internal/ddl"
	"github.com/entlibsql/entlibsql/internal/hrana"
)

// conn is one database/sql connection: one Hrana stream, opened lazily.
//
// Round trips are the whole game over HTTP, so the conn decides what
// travels together:
//   - an autocommit statement is one request; the stream stays open
//     ("warm") for the conn's next statement, because opening a server
//     stream costs sqld more than running a small query (measured: 1.8 ms
//     a request on fresh streams, 0.66 ms on a warm one). A warm stream
//     idle for stickyIdle is dropped before sqld expires it, and one the
//     server no longer knows is replaced without the caller noticing: it
//     held no state, and the refused request ran nothing;
//   - a transaction's BEGIN goes with its first statement, COMMIT or
//     ROLLBACK alone: N + 1 requests for N statements;
//   - a statement that leaves state on the connection (BEGIN, SAVEPOINT,
//     PRAGMA x = y, ATTACH, CREATE TEMP ...) makes the stream "sticky": the
//     conn stays on it until it is closed, as a SQLite connection would,
//     and losing it is an error.
type conn struct {
	stream   *hrana.Stream
	opts     *connOptions
	warm     *warmStreams // where the conn parks its warm stream when idle (warm.go)
	tx       txState
	txCtx    context.Context // BeginTx's context, for COMMIT/ROLLBACK
	txErr    error           // why a broken transaction broke
	sticky   bool            // the server stream holds session state
	lastUsed time.Time
	bad      bool // the server stream was lost with state on it
	// begin is the statement that opens the current transaction;
	// immediateNext makes the next one BEGIN IMMEDIATE (see beginMigration).
	begin         string
	immediateNext bool
	inspection    *inspection // Atlas's next answers (inspect.go)
}

type connOptions struct {
	beginSQL       string
	stickyIdle     time.Duration // how long an idle sticky stream is trusted to live
	requestTimeout time.Duration // Config.RequestTimeout, for the backoff of retry.go's rule 3
	shared         *connShared   // what the connector's conns share
}

type txState uint8

const (
	txNone    txState = iota
	txPending         // BeginTx called, BEGIN not sent yet
	txActive          // BEGIN sent with the first statement
	txBroken          // the server stream was lost inside the transaction
	txDone            // ended on the server by a plan batch (see runPlan)
)

var (
	_ driver.Conn               = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
)

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.warm.unpark(c)
	c.dropInspection()
	pos, named := wireArgs(args)
	res, err := c.run(ctx, hrana.Stmt{SQL: ddl.RewriteSequence(query), Args: pos, NamedArgs: named, SkipRows: true})
	if err != nil {
		return nil, err
	}
	return &result{res: res}, nil
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.warm.unpark(c)
	if c.bad {
		// Before any answer the connection gives itself: the state the
		// caller relies on (PRAGMA foreign_keys = off, say) is gone.
		return nil, driver.ErrBadConn
	}
	if rows, ok := c.fromInspection(query, args); ok {
		return rows, nil
	}
	if query == noViolationsQuery && len(args) == 0 && c.tx != txBroken {
		return noViolationsRows(), nil
	}
	pos, named := wireArgs(args)
	st := hrana.Stmt{SQL: ddl.RewriteSequence(query), Args: pos, NamedArgs: named}
	switch {
	case (c.tx == txNone || c.tx == txActive) && !c.bad && !c.opts.shared.epoch.tooLarge.Load() && isInspectionStart(query, args):
		return c.inspect(ctx, st)
	case !isRead(query):
		c.dropInspection()
	}
	return c.query(ctx, st)
}

// run executes one statement with whatever must travel with it.
func (c *conn) run(ctx context.Context, st hrana.Stmt) (*hrana.StmtResult, error) {
	if c.bad {
		return nil, driver.ErrBadConn
	}
	switch c.tx {
	case txBroken:
		return nil, c.txErr
	case txPending:
		return c.runFirstInTx(ctx, st)
	}
	c.coolIfIdle()
	results, err := c.pipeline(ctx, hrana.Execute(st))
	if err != nil {
		return nil, err
	}
	if c.tx == txNone && keepsStream(st.SQL) {
		c.sticky = true
	}
	if r := results[0]; r.Err != nil {
		return nil, c.stmtFailed(r.Err)
	}
	return results[0].Response.Result, nil
}

// coolIfIdle drops a warm stream idle for long: sqld may have expired it,
// and it holds nothing worth a failed request.
func (c *conn) coolIfIdle() {
	if c.stream.Open() && !c.sticky && c.tx == txNone && time.Since(c.lastUsed) > c.opts.stickyIdle {
		c.stream.Reset()
	}
}

// runFirstInTx sends BEGIN and the transaction's first statement in one
// batch; the statement runs only if BEGIN succeeded.
func (c *conn) runFirstInTx(ctx context.Context, st hrana.Stmt) (*hrana.StmtResult, error) {
	batch := hrana.Batch{Steps: []hrana.BatchStep{
		{Stmt: hrana.Stmt{SQL: c.begin, SkipRows: true}},
		{Condition: hrana.OK(0), Stmt: st},
	}}
	results, err := c.pipeline(ctx, hrana.ExecuteBatch(batch))
	if err != nil {
		return nil, err
	}
	if results[0].Err != nil {
		err := mapError(results[0].Err)
		c.breakTx(err)
		return nil, err
	}
	br := results[0].Response.Batch
	if len(br.StepResults) != 2 || len(br.StepErrors) != 2 {
		err := mapError(&hrana.ProtocolError{Msg: "batch result has the wrong number of steps"})
		c.breakTx(err)
		return nil, err
	}
	if e := br.StepErrors[0]; e != nil {
		err := wrapError(c.begin+" failed", serverError(e))
		c.breakTx(err)
		return nil, err
	}
	c.tx = txActive
	if e := br.StepErrors[1]; e != nil {
		return nil, c.stmtFailed(e)
	}
	if br.StepResults[1] == nil {
		return nil, mapError(&hrana.ProtocolError{Msg: "batch step skipped after a successful BEGIN"})
	}
	return br.StepResults[1], nil
}

// pipeline sends reqs on the conn's stream, which outlives them. When the
// exchange fails, what
// the stream held is gone: an open transaction breaks, a sticky conn goes
// bad. An exchange that provably never reached the server, on a conn with
// nothing to lose, is driver.ErrBadConn so database/sql retries it.
func (c *conn) pipeline(ctx context.Context, reqs ...hrana.Request) ([]hrana.Result, error) {
	return c.pipelineHeld(ctx, c.sticky || c.tx != txNone, reqs...)
}

// pipelineHeld is pipeline, held saying whether the stream holds state.
func (c *conn) pipelineHeld(ctx context.Context, held bool, reqs ...hrana.Request) ([]hrana.Result, error) {
	c.stream.Holding = held
	var results []hrana.Result
	err := c.attempt(ctx, held, func() (err error) {
		results, err = c.stream.Pipeline(ctx, reqs...)
		return err
	})
	c.lastUsed = time.Now()
	if err == nil {
		if !c.stream.Open() {
			err = errors.New("libsql: the server closed the stream unexpectedly")
			c.lose(err)
			return nil, err
		}
		return results, nil
	}
	return nil, c.failed(ctx, held, readOnly(reqs), err)
}

// lose records that the server stream and its state are gone.
func (c *conn) lose(err error) {
	c.stream.Reset()
	if c.tx != txNone {
		c.breakTx(err)
	}
	if c.sticky {
		c.bad = true
	}
}

func (c *conn) breakTx(err error) {
	c.tx = txBroken
	c.txErr = wrapError("transaction aborted", err)
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.warm.unpark(c)
	if c.bad {
		return nil, driver.ErrBadConn
	}
	if c.tx != txNone {
		return nil, errors.New("libsql: a transaction is already open on this connection")
	}
	c.dropInspection()
	switch opts.Isolation {
	case driver.IsolationLevel(0), driver.IsolationLevel(8): // default, serializable
	default:
		return nil, fmt.Errorf("libsql: isolation level %d is not supported: SQLite transactions are serializable", opts.Isolation)
	}
	c.tx, c.txCtx, c.txErr = txPending, ctx, nil
	c.begin = c.opts.beginSQL
	if c.immediateNext {
		c.begin, c.immediateNext = "BEGIN IMMEDIATE", false
	}
	return &tx{c: c}, nil
}

// endTx sends COMMIT or ROLLBACK; the stream stays warm. A transaction
// that never ran a statement sends nothing at all.
func (c *conn) endTx(commit bool) error {
	ctx, state, txErr := c.txCtx, c.tx, c.txErr
	c.tx, c.txCtx, c.txErr = txNone, nil, nil
	c.inspection = nil
	if ctx == nil || ctx.Err() != nil {
		ctx = context.Background()
	}
	switch state {
	case txPending, txDone:
		return nil
	case txBroken:
		c.discardStream(ctx)
		if commit {
			return txErr
		}
		return nil
	}
	var req hrana.Request
	if commit {
		// A failed COMMIT (busy, deferred foreign keys) can leave the
		// transaction open on a sticky stream: roll it back in the same trip.
		req = hrana.ExecuteBatch(hrana.Batch{Steps: []hrana.BatchStep{
			{Stmt: hrana.Stmt{SQL: "COMMIT", SkipRows: true}},
			{Condition: hrana.Failed(0), Stmt: hrana.Stmt{SQL: "ROLLBACK", SkipRows: true}},
		}})
	} else {
		req = hrana.Execute(hrana.Stmt{SQL: "ROLLBACK", SkipRows: true})
	}
	// The stream holds the transaction until this answer: held, so that a
	// lost answer is never resent on a fresh stream.
	results, err := c.pipelineHeld(ctx, true, req)
	if err != nil {
		return err
	}
	r := results[0]
	if r.Err != nil {
		return mapError(r.Err)
	}
	if commit {
		return c.commitOutcome(r.Response.Batch)
	}
	return nil
}

// commitOutcome reads the answer to the COMMIT batch (COMMIT, then
// ROLLBACK if it failed). Only the COMMIT step's own result proves the
// commit; an answer without it (no steps, or the step skipped) leaves the
// outcome unknown, which is an error, and the stream, whose state is
// unknown too, is given up.
func (c *conn) commitOutcome(br *hrana.BatchResult) error {
	if len(br.StepErrors) > 0 && br.StepErrors[0] != nil {
		return wrapError("COMMIT failed, transaction rolled back", serverError(br.StepErrors[0]))
	}
	if len(br.StepResults) == 0 || br.StepResults[0] == nil {
		err := errors.New("libsql: the server's answer to COMMIT lacks the COMMIT step's result: whether the transaction committed is unknown")
		c.lose(err)
		return err
	}
	return nil
}

// discardStream ends whatever the server still holds after a broken
// transaction, best effort.
func (c *conn) discardStream(ctx context.Context) {
	if !c.stream.Open() {
		return
	}
	c.stream.Holding = true
	if c.sticky {
		_, _ = c.stream.Pipeline(ctx, hrana.Execute(hrana.Stmt{SQL: "ROLLBACK", SkipRows: true}))
		return
	}
	_, _ = c.stream.Pipeline(ctx, hrana.Close())
}

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext prepares nothing on the server: a Hrana statement travels
// with its SQL text, so preparing would only add a round trip.
func (c *conn) PrepareContext(_ context.Context, query string) (driver.Stmt, error) {
	c.warm.unpark(c)
	if c.bad {
		return nil, driver.ErrBadConn
	}
	return &stmt{c: c, query: query}, nil
}

func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *conn) CheckNamedValue(nv *driver.NamedValue) error { return checkNamedValue(nv) }

// Ping makes one request to the server.
func (c *conn) Ping(ctx context.Context) error {
	c.warm.unpark(c)
	c.inspection = nil
	_, err := c.run(ctx, hrana.Stmt{SQL: "SELECT 1", SkipRows: true})
	return err
}

// ResetSession runs before database/sql hands a pooled conn out again. A
// sticky stream idle for long may have been expired by the server; a fresh
// conn beats one whose first statement fails.
func (c *conn) ResetSession(context.Context) error {
	c.warm.unpark(c)
	if c.bad || (c.sticky && time.Since(c.lastUsed) > c.opts.stickyIdle) {
		return driver.ErrBadConn
	}
	c.coolIfIdle()
	return nil
}

// IsValid runs when database/sql puts the conn back into its pool: a warm
// stream is parked there, or given back to the server (warm.go).
func (c *conn) IsValid() bool {
	if c.bad {
		return false
	}
	c.warm.park(c)
	return true
}

// Close closes the server stream if one is open (see hrana.Stream.Close).
func (c *conn) Close() error {
	c.warm.unpark(c)
	c.stream.Close()
	c.bad = true
	return nil
}

// keepsStream reports whether sql leaves state on the SQLite connection
// that later statements rely on, so the stream must stay open. It reads
// only the leading keywords; it is not a parser.
func keepsStream(sql string) bool {
	kw, rest := nextKeyword(sql)
	switch kw {
	case "BEGIN", "SAVEPOINT", "ATTACH", "DETACH":
		return true
	case "PRAGMA":
		return strings.ContainsAny(rest, "=(")
	case "CREATE":
		kw, _ = nextKeyword(rest)
		return kw == "TEMP" || kw == "TEMPORARY"
	}
	return false
}

// nextKeyword skips blanks and comments and returns the next word,
// upper-cased, and what follows it.
func nextKeyword(s string) (string, string) {
	for {
		s = strings.TrimLeft(s, " \t\r\n\f\v;")
		switch {
		case strings.HasPrefix(s, "--"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return "", ""
			}
			s = s[i+1:]
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s[2:], "*/")
			if i < 0 {
				return "", ""
			}
			s = s[i+4:]
		default:
			i := 0
			for i < len(s) && (s[i]|0x20 >= 'a' && s[i]|0x20 <= 'z') {
				i++
			}
			return strings.ToUpper(s[:i]), s[i:]
		}
	}
}
