package libsql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/entlibsql/entlibsql/schema"
)

// How an ent (Atlas) SQLite migration reaches ONE server stream.
//
// ent runs it as: Exec("PRAGMA foreign_keys = off") on the driver, then
// Tx(), whose first statement is Atlas's "PRAGMA foreign_key_check", the
// plan, the check again, COMMIT, and Exec("PRAGMA foreign_keys = on") on
// the driver. Over Hrana every pooled connection is its own stream, so run
// as written the pragma lands on one stream and the plan on another, and a
// table rebuild cascades into its children: every child row deleted.
//
// So the driver never runs those two pragmas on a pooled connection.
// "off" leaves a request behind; the next transaction that opens with
// PRAGMA foreign_key_check takes it and runs, on one pinned connection,
// PRAGMA foreign_keys = off, BEGIN, the plan and COMMIT; then the
// connection is discarded, closing its stream, so no pooled connection
// ever carries foreign keys off. Other transactions, however concurrent,
// start as usual and never see it. "on" withdraws a request left unused:
// a fresh stream has foreign keys on.

var (
	fkPragmaRe = regexp.MustCompile(`(?i)^\s*PRAGMA\s+(?:main\.)?foreign_keys\s*=\s*['"]?(on|off|true|false|yes|no|1|0)['"]?\s*;?\s*$`)
	fkCheckRe  = regexp.MustCompile(`(?i)^\s*PRAGMA\s+(?:main\.)?foreign_key_check\s*;?\s*$`)
)

// fkPragma reports whether query sets foreign_keys, and to what.
func fkPragma(query string) (on, ok bool) {
	m := fkPragmaRe.FindStringSubmatch(query)
	if m == nil {
		return false, false
	}
	switch strings.ToLower(m[1]) {
	case "on", "true", "yes", "1":
		return true, true
	}
	return false, true
}

// fkRequests counts "foreign keys off" requests not yet taken by a
// migration transaction.
type fkRequests struct {
	mu sync.Mutex
	n  int
}

func (r *fkRequests) add() { r.mu.Lock(); r.n++; r.mu.Unlock() }

func (r *fkRequests) withdraw() {
	r.mu.Lock()
	if r.n > 0 {
		r.n--
	}
	r.mu.Unlock()
}

func (r *fkRequests) take() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return false
	}
	r.n--
	return true
}

func (r *fkRequests) pending() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.n > 0 }

// Exec runs a statement on a pooled connection, except the foreign_keys
// pragma, which asks for (or withdraws) a migration transaction with
// foreign keys off: see the comment at the top of this file. To set a
// pragma on one connection, use DB().Conn.
func (d *Driver) Exec(ctx context.Context, query string, args, v any) error {
	if on, ok := fkPragma(query); ok && noArgs(args) {
		if on {
			d.fk.withdraw()
		} else {
			d.fk.add()
		}
		if res, ok := v.(*sql.Result); ok {
			*res = driver.RowsAffected(0)
		}
		return nil
	}
	return d.Driver.Exec(ctx, query, args, v)
}

func noArgs(args any) bool {
	a, ok := args.([]any)
	return args == nil || ok && len(a) == 0
}

// Tx starts a transaction.
func (d *Driver) Tx(ctx context.Context) (dialect.Tx, error) {
	return d.BeginTx(ctx, nil)
}

// BeginTx starts a transaction with options. While a foreign-keys-off
// request is pending, the transaction starts at its first statement, so
// that a migration (which opens with PRAGMA foreign_key_check) can take
// the request.
func (d *Driver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	if !d.fk.pending() {
		return d.Driver.BeginTx(ctx, opts)
	}
	return &lazyTx{d: d, ctx: ctx, opts: opts}, nil
}

// lazyTx is a transaction not started yet: its first statement decides
// whether it is a migration.
type lazyTx struct {
	d    *Driver
	ctx  context.Context
	opts *sql.TxOptions
	tx   dialect.Tx // once started
}

func (t *lazyTx) start(query string) error {
	if t.tx != nil {
		return nil
	}
	if fkCheckRe.MatchString(query) && t.d.fk.take() {
		mt, err := beginMigration(t.ctx, t.d.DB(), t.opts)
		if err != nil {
			t.d.fk.add() // not taken after all
			return err
		}
		t.tx = mt
		return nil
	}
	tx, err := t.d.Driver.BeginTx(t.ctx, t.opts)
	if err != nil {
		return err
	}
	t.tx = tx
	return nil
}

func (t *lazyTx) Exec(ctx context.Context, query string, args, v any) error {
	if err := t.start(query); err != nil {
		return err
	}
	return t.tx.Exec(ctx, query, args, v)
}

func (t *lazyTx) Query(ctx context.Context, query string, args, v any) error {
	if err := t.start(query); err != nil {
		return err
	}
	return t.tx.Query(ctx, query, args, v)
}

// Commit and Rollback of a transaction that ran nothing have nothing to do.
func (t *lazyTx) Commit() error {
	if t.tx == nil {
		return nil
	}
	return t.tx.Commit()
}

func (t *lazyTx) Rollback() error {
	if t.tx == nil {
		return nil
	}
	return t.tx.Rollback()
}

// migrationTx is a transaction with foreign keys off on a pinned
// connection, discarded at the end.
type migrationTx struct {
	conn   *sql.Conn
	tx     *sql.Tx
	eq     entsql.Conn
	done   bool
	checks fkChecks
}

func beginMigration(ctx context.Context, db *sql.DB, opts *sql.TxOptions) (*migrationTx, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
		discard(conn)
		return nil, fmt.Errorf("libsql: migration: turning foreign keys off: %w", err)
	}
	tx, err := conn.BeginTx(ctx, opts)
	if err != nil {
		discard(conn)
		return nil, fmt.Errorf("libsql: migration: BEGIN: %w", err)
	}
	return &migrationTx{conn: conn, tx: tx, eq: entsql.Conn{ExecQuerier: tx}}, nil
}

// Exec runs one statement of the plan, rewritten for sqld where Atlas
// writes SQL that sqld refuses. A failure names the statement.
func (m *migrationTx) Exec(ctx context.Context, query string, args, v any) error {
	stmt := schema.Rewrite(query)
	if err := m.checks.beforeExec(ctx, m.eq, stmt); err != nil {
		return err
	}
	if err := m.eq.Exec(ctx, stmt, args, v); err != nil {
		return fmt.Errorf("libsql: migration statement failed: %s: %w", stmt, err)
	}
	return nil
}

// Query answers Atlas's foreign key checks (see fkcheck.go) and runs the
// rest.
func (m *migrationTx) Query(ctx context.Context, query string, args, v any) error {
	if fkCheckRe.MatchString(query) && noArgs(args) {
		return m.checks.answer(ctx, m.eq, v)
	}
	return m.eq.Query(ctx, query, args, v)
}

func (m *migrationTx) Commit() error   { return m.end(m.tx.Commit) }
func (m *migrationTx) Rollback() error { return m.end(m.tx.Rollback) }

func (m *migrationTx) end(f func() error) error {
	if m.done {
		return sql.ErrTxDone
	}
	m.done = true
	err := f()
	discard(m.conn)
	return err
}

// discard closes conn's server stream rather than pooling a connection
// whose session state (foreign keys off) the next user would inherit.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}
