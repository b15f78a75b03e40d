package libsql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/entlibsql/entlibsql/internal/hrana"
)

// A migration's plan statements (CREATE, ALTER, the copy of a rebuild)
// need no results, so the migration transaction (migrate.go) holds them
// back and runPlan sends them together: one request where there was one
// per statement, and with COMMIT in the same request at the end.

// planError is a plan statement that failed.
type planError struct {
	stmt string
	err  error
}

func (e *planError) Error() string {
	return fmt.Sprintf("libsql: migration statement failed: %s: %v", e.stmt, e.err)
}

func (e *planError) Unwrap() error { return e.err }

// Statement is the statement that failed, for callers that cannot import
// this package (the schema package's Apply).
func (e *planError) Statement() string { return e.stmt }

// runPlan sends stmts in the open (or pending) transaction as one batch,
// each step running only if the one before succeeded, BEGIN first if the
// transaction has not started. With commit, COMMIT follows if every step
// succeeded and ROLLBACK if not: the transaction is over either way.
func (c *conn) runPlan(ctx context.Context, stmts []string, commit bool) error {
	if c.bad {
		return driver.ErrBadConn
	}
	switch c.tx {
	case txBroken:
		return c.txErr
	case txNone, txDone:
		return errors.New("libsql: a migration plan outside a transaction")
	}
	var steps []hrana.BatchStep
	add := func(cond *hrana.Cond, sql string) {
		steps = append(steps, hrana.BatchStep{Condition: cond, Stmt: hrana.Stmt{SQL: sql, SkipRows: true}})
	}
	after := func() *hrana.Cond { // the previous step succeeded
		if len(steps) == 0 {
			return nil
		}
		return hrana.OK(len(steps) - 1)
	}
	begins := c.tx == txPending
	if begins {
		add(nil, c.begin)
	}
	first := len(steps)
	for _, s := range stmts {
		add(after(), s)
	}
	if commit {
		add(after(), "COMMIT")
		add(hrana.Not(hrana.OK(len(steps)-1)), "ROLLBACK")
	}
	results, err := c.pipeline(ctx, hrana.ExecuteBatch(hrana.Batch{Steps: steps}))
	if err != nil {
		return err
	}
	if commit {
		defer func() { c.tx = txDone }()
	}
	r := results[0]
	if r.Err != nil {
		err := mapError(r.Err)
		c.breakTx(err)
		return err
	}
	errs := r.Response.Batch.StepErrors
	if len(errs) != len(steps) {
		err := mapError(&hrana.ProtocolError{Msg: "batch result has the wrong number of steps"})
		c.breakTx(err)
		return err
	}
	if begins {
		if e := errs[0]; e != nil {
			err := fmt.Errorf("libsql: %s failed: %w", c.begin, serverError(e))
			c.breakTx(err)
			return err
		}
		c.tx = txActive
	}
	for i, s := range stmts {
		if e := errs[first+i]; e != nil {
			return &planError{stmt: s, err: c.stmtFailed(e)}
		}
	}
	if commit {
		if e := errs[len(steps)-2]; e != nil {
			return fmt.Errorf("libsql: COMMIT failed, transaction rolled back: %w", serverError(e))
		}
	}
	return nil
}

// deferredResult is the result of a plan statement not sent yet.
type deferredResult struct{}

var errDeferred = errors.New("libsql: a migration plan statement's result is not known: it runs with the next query or at COMMIT")

func (deferredResult) LastInsertId() (int64, error) { return 0, errDeferred }
func (deferredResult) RowsAffected() (int64, error) { return 0, errDeferred }
