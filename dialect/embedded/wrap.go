package embedded

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"strconv"
	"time"
)

// The types here wrap go-libsql's connector, connections, statements,
// rows and transactions to pass every error through mapError, to give
// each new connection its busy timeout, and to begin the libSQL driver's
// migrations with BEGIN IMMEDIATE. They implement the interfaces
// go-libsql's do, and nothing more.

type connector struct {
	inner       driver.Connector
	busyTimeout time.Duration // set on every new connection
}

var _ io.Closer = (*connector)(nil)

func wrapConnector(c driver.Connector, busyTimeout time.Duration) *connector {
	return &connector{inner: c, busyTimeout: busyTimeout}
}

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, mapError(err)
	}
	wrapped := &conn{inner: cn}
	if err := wrapped.setBusyTimeout(ctx, c.busyTimeout); err != nil {
		cn.Close()
		return nil, err
	}
	return wrapped, nil
}

// setBusyTimeout makes the connection wait up to d for another
// connection's lock. SQLite's own default is not to wait at all: two
// processes (or two drivers) on one file would fail with SQLITE_BUSY
// whenever their writes met.
func (c *conn) setBusyTimeout(ctx context.Context, d time.Duration) error {
	if d == 0 {
		return nil // SQLite's default
	}
	r, err := c.QueryContext(ctx, "PRAGMA busy_timeout = "+strconv.FormatInt(d.Milliseconds(), 10), nil)
	if err != nil {
		return fmt.Errorf("embedded: setting the busy timeout: %w", err)
	}
	return r.Close()
}

func (c *connector) Driver() driver.Driver { return c.inner.Driver() }

// Close closes go-libsql's database when the *sql.DB closes.
func (c *connector) Close() error {
	if cl, ok := c.inner.(io.Closer); ok {
		return mapError(cl.Close())
	}
	return nil
}

type conn struct {
	inner     driver.Conn
	immediate bool // the next transaction begins with BEGIN IMMEDIATE
}

// BeginImmediateNext makes the next transaction BEGIN IMMEDIATE: the
// libSQL driver's migrations ask for it, so that they queue for the
// write lock instead of failing with SQLITE_BUSY.
func (c *conn) BeginImmediateNext() { c.immediate = true }

var (
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
)

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var s driver.Stmt
	var err error
	if pc, ok := c.inner.(driver.ConnPrepareContext); ok {
		s, err = pc.PrepareContext(ctx, query)
	} else {
		s, err = c.inner.Prepare(query)
	}
	if err != nil {
		return nil, mapError(err)
	}
	return &stmt{inner: s}, nil
}

func (c *conn) Close() error { return mapError(c.inner.Close()) }

func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.immediate {
		c.immediate = false
		if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE", nil); err != nil {
			return nil, err
		}
		return immediateTx{c}, nil
	}
	var t driver.Tx
	var err error
	if bc, ok := c.inner.(driver.ConnBeginTx); ok {
		t, err = bc.BeginTx(ctx, opts)
	} else {
		t, err = c.inner.Begin() //nolint:staticcheck // the fallback database/sql would take
	}
	if err != nil {
		return nil, mapError(err)
	}
	return tx{inner: t}, nil
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ec, ok := c.inner.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	r, err := ec.ExecContext(ctx, query, args)
	return r, mapError(err)
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := c.inner.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	r, err := qc.QueryContext(ctx, query, args)
	if err != nil {
		return nil, mapError(err)
	}
	return rows{inner: r}, nil
}

type stmt struct{ inner driver.Stmt }

var (
	_ driver.StmtExecContext  = (*stmt)(nil)
	_ driver.StmtQueryContext = (*stmt)(nil)
)

func (s *stmt) Close() error  { return mapError(s.inner.Close()) }
func (s *stmt) NumInput() int { return s.inner.NumInput() }

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	r, err := s.inner.Exec(args) //nolint:staticcheck // go-libsql's own
	return r, mapError(err)
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	r, err := s.inner.Query(args) //nolint:staticcheck // go-libsql's own
	if err != nil {
		return nil, mapError(err)
	}
	return rows{inner: r}, nil
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	ec, ok := s.inner.(driver.StmtExecContext)
	if !ok {
		return s.Exec(values(args))
	}
	r, err := ec.ExecContext(ctx, args)
	return r, mapError(err)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := s.inner.(driver.StmtQueryContext)
	if !ok {
		return s.Query(values(args))
	}
	r, err := qc.QueryContext(ctx, args)
	if err != nil {
		return nil, mapError(err)
	}
	return rows{inner: r}, nil
}

// values drops the names, which the old Stmt interface cannot carry
// (go-libsql's statements take the context forms in any case).
func values(args []driver.NamedValue) []driver.Value {
	v := make([]driver.Value, len(args))
	for i, a := range args {
		v[i] = a.Value
	}
	return v
}

type rows struct{ inner driver.Rows }

func (r rows) Columns() []string              { return r.inner.Columns() }
func (r rows) Close() error                   { return mapError(r.inner.Close()) }
func (r rows) Next(dest []driver.Value) error { return mapError(r.inner.Next(dest)) }

type tx struct{ inner driver.Tx }

func (t tx) Commit() error   { return mapError(t.inner.Commit()) }
func (t tx) Rollback() error { return mapError(t.inner.Rollback()) }

// immediateTx is a transaction the connection began itself.
type immediateTx struct{ c *conn }

func (t immediateTx) Commit() error {
	if err := t.end("COMMIT"); err != nil {
		// A COMMIT that failed (SQLITE_BUSY, a deferred foreign key)
		// leaves the transaction open on a connection the pool keeps.
		_ = t.end("ROLLBACK")
		return err
	}
	return nil
}

func (t immediateTx) Rollback() error { return t.end("ROLLBACK") }

func (t immediateTx) end(stmt string) error {
	_, err := t.c.ExecContext(context.Background(), stmt, nil)
	return err
}
