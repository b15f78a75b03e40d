package libsql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/entlibsql/entlibsql/internal/hrana"
)

// A migration's plan statements (CREATE, ALTER, the copy of a rebuild, a
// revision row) need no results, so the migration transaction (migrate.go)
// holds back every statement whose result the caller does not ask for,
// and runPlan sends them together: one request where there was one per
// statement, and with COMMIT in the same request at the end.

// planStmt makes a plan step of a statement and its arguments, converted
// as database/sql converts them for this driver; ok is false for
// arguments only database/sql handles (a sql.NamedArg).
func planStmt(query string, args any) (st hrana.Stmt, ok bool, err error) {
	st = hrana.Stmt{SQL: query, SkipRows: true}
	list, isList := args.([]any)
	if args != nil && !isList {
		return st, false, nil
	}
	values := make([]driver.NamedValue, len(list))
	for i, a := range list {
		if _, named := a.(sql.NamedArg); named {
			return st, false, nil
		}
		nv := driver.NamedValue{Ordinal: i + 1, Value: a}
		switch err := checkNamedValue(&nv); {
		case errors.Is(err, driver.ErrSkip):
			if nv.Value, err = driver.DefaultParameterConverter.ConvertValue(a); err != nil {
				return st, false, fmt.Errorf("libsql: converting argument %s of %s: %w", argName(&nv), query, err)
			}
		case err != nil:
			return st, false, err
		}
		values[i] = nv
	}
	st.Args, st.NamedArgs = wireArgs(values)
	return st, true, nil
}

// planError is a plan statement that failed.
type planError struct {
	stmt string
	err  error
}

func (e *planError) Error() string {
	return "libsql: migration statement failed: " + e.stmt + ": " + strings.TrimPrefix(e.err.Error(), "libsql: ")
}

func (e *planError) Unwrap() error { return e.err }

// Statement is the statement that failed, for callers that cannot import
// this package (the schema package's Apply).
func (e *planError) Statement() string { return e.stmt }

// runPlan sends stmts in the open (or pending) transaction as one batch,
// each step running only if the one before succeeded, BEGIN first if the
// transaction has not started. With commit, COMMIT follows if every step
// succeeded and ROLLBACK if not: the transaction is over either way.
func (c *conn) runPlan(ctx context.Context, stmts []hrana.Stmt, commit bool) error {
	if c.bad {
		return driver.ErrBadConn
	}
	c.dropInspection()
	switch c.tx {
	case txBroken:
		return c.txErr
	case txNone, txDone:
		return errors.New("libsql: a migration plan outside a transaction")
	}
	var steps []hrana.BatchStep
	add := func(cond *hrana.Cond, st hrana.Stmt) {
		steps = append(steps, hrana.BatchStep{Condition: cond, Stmt: st})
	}
	bare := func(sql string) hrana.Stmt { return hrana.Stmt{SQL: sql, SkipRows: true} }
	after := func() *hrana.Cond { // the previous step succeeded
		if len(steps) == 0 {
			return nil
		}
		return hrana.OK(len(steps) - 1)
	}
	begins := c.tx == txPending
	if begins {
		add(nil, bare(c.begin))
	}
	first := len(steps)
	for _, s := range stmts {
		add(after(), s)
	}
	if commit {
		add(after(), bare("COMMIT"))
		add(hrana.Not(hrana.OK(len(steps)-1)), bare("ROLLBACK"))
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
			err := wrapError(c.begin+" failed", serverError(e))
			c.breakTx(err)
			return err
		}
		c.tx = txActive
	}
	for i, st := range stmts {
		if e := errs[first+i]; e != nil {
			return &planError{stmt: st.SQL, err: c.stmtFailed(e)}
		}
	}
	if commit {
		if e := errs[len(steps)-2]; e != nil {
			return wrapError("COMMIT failed, transaction rolled back", serverError(e))
		}
		// Only the COMMIT step's own result proves the commit (see
		// commitOutcome).
		if res := r.Response.Batch.StepResults; len(res) != len(steps) || res[len(steps)-2] == nil {
			err := errors.New("libsql: the server's answer to the migration's COMMIT lacks the COMMIT step's result: whether it committed is unknown")
			c.lose(err)
			return err
		}
	}
	return nil
}
