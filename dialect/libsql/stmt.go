package libsql

import (
	"context"
	"database/sql/driver"
	"errors"
)

// stmt is a statement "prepared" on the client only: its SQL text is sent
// with each execution.
type stmt struct {
	c     *conn
	query string
}

var (
	_ driver.StmtExecContext  = (*stmt)(nil)
	_ driver.StmtQueryContext = (*stmt)(nil)
)

func (s *stmt) Close() error { return nil }

// NumInput is -1: the server checks the argument count.
func (s *stmt) NumInput() int { return -1 }

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.query, args)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.query, args)
}

var errOldAPI = errors.New("libsql: use the context-aware database/sql API")

func (s *stmt) Exec([]driver.Value) (driver.Result, error) { return nil, errOldAPI }
func (s *stmt) Query([]driver.Value) (driver.Rows, error)  { return nil, errOldAPI }
