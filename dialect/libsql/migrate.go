package libsql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/entlibsql/entlibsql/internal/hrana"
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
// start as usual and never see it. "on" ends a request (see fkRequests):
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

// fkRequests counts "foreign keys off" requests: waiting ones, not yet
// taken by a migration transaction, and taken ones, whose "on" is still to
// come. Telling the two apart keeps one migration's "on" from cancelling
// another's waiting "off".
type fkRequests struct {
	mu             sync.Mutex
	waiting, taken int
}

func (r *fkRequests) add() { r.mu.Lock(); r.waiting++; r.mu.Unlock() }

// done is the "on" that ends a request: a taken one if any, else a
// waiting one that no transaction took.
func (r *fkRequests) done() {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.taken > 0:
		r.taken--
	case r.waiting > 0:
		r.waiting--
	}
}

func (r *fkRequests) take() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.waiting == 0 {
		return false
	}
	r.waiting--
	r.taken++
	return true
}

func (r *fkRequests) pending() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.waiting > 0 }

// Exec runs a statement on a pooled connection, except the foreign_keys
// pragma, which asks for (or ends a request for) a migration transaction with
// foreign keys off: see the comment at the top of this file. To set a
// pragma on one connection, use DB().Conn.
func (d *Driver) Exec(ctx context.Context, query string, args, v any) error {
	if on, ok := fkPragma(query); ok && noArgs(args) {
		if on {
			d.fk.done()
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
		// On failure the request stays taken: ent sends its "on" after.
		mt, err := beginMigration(t.ctx, t.d.DB(), t.opts)
		if err != nil {
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
// connection, discarded at the end. On this driver's own connections the
// statements whose result nobody asks for (ent runs its plan so) wait and
// go together (see plan.go): with the next statement that needs an
// answer, or with COMMIT.
type migrationTx struct {
	ctx     context.Context
	conn    *sql.Conn
	tx      *sql.Tx
	eq      entsql.Conn
	done    bool
	checks  fkChecks
	batches bool         // the connection is this driver's
	plan    []hrana.Stmt // statements not sent yet
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
	// A migration writes: BEGIN IMMEDIATE takes the write lock first, so
	// that concurrent migrations queue at BEGIN instead of each reading a
	// snapshot it then cannot upgrade to a write. (Over libsql-client-go,
	// through OpenDB, the transaction is its usual BEGIN.)
	ours := conn.Raw(immediateNext) == nil
	tx, err := conn.BeginTx(ctx, opts)
	if err != nil {
		discard(conn)
		return nil, fmt.Errorf("libsql: migration: BEGIN: %w", err)
	}
	return &migrationTx{ctx: ctx, conn: conn, tx: tx, eq: entsql.Conn{ExecQuerier: tx}, batches: ours}, nil
}

// flush sends the statements held back, in the transaction.
func (m *migrationTx) flush(ctx context.Context, commit bool) error {
	if len(m.plan) == 0 {
		return nil
	}
	plan := m.plan
	m.plan = nil
	return m.conn.Raw(func(dc any) error { return dc.(*conn).runPlan(ctx, plan, commit) })
}

// Exec runs one statement of the plan, rewritten for sqld where Atlas
// writes SQL that sqld refuses. A failure names the statement.
func (m *migrationTx) Exec(ctx context.Context, query string, args, v any) error {
	stmt := schema.Rewrite(query)
	if m.checks.wantsStart(stmt) {
		if err := m.flush(ctx, false); err != nil {
			return err
		}
		if err := m.checks.readStart(ctx, m.eq); err != nil {
			return err
		}
	}
	if m.batches && v == nil {
		st, ok, err := planStmt(stmt, args)
		if err != nil {
			return err
		}
		if ok {
			m.plan = append(m.plan, st)
			return nil
		}
	}
	if err := m.flush(ctx, false); err != nil {
		return err
	}
	if err := m.eq.Exec(ctx, stmt, args, v); err != nil {
		return &planError{stmt: stmt, err: err}
	}
	return nil
}

// Query answers Atlas's foreign key checks (see fkcheck.go) and runs the
// rest, after the statements held back unless the answer does not read
// the database.
func (m *migrationTx) Query(ctx context.Context, query string, args, v any) error {
	check := fkCheckRe.MatchString(query) && noArgs(args)
	if !check || m.checks.dirty {
		if err := m.flush(ctx, false); err != nil {
			return err
		}
	}
	if check {
		return m.checks.answer(ctx, m.eq, v)
	}
	return m.eq.Query(ctx, query, args, v)
}

// Commit sends the statements held back with COMMIT, in one request.
func (m *migrationTx) Commit() error {
	if err := m.flush(m.ctx, true); err != nil {
		_ = m.end(m.tx.Rollback) // the batch ended the transaction
		return err
	}
	return m.end(m.tx.Commit)
}

func (m *migrationTx) Rollback() error {
	m.plan = nil
	return m.end(m.tx.Rollback)
}

func (m *migrationTx) end(f func() error) error {
	if m.done {
		return sql.ErrTxDone
	}
	m.done = true
	err := f()
	discard(m.conn)
	return err
}

// immediateNext makes a connection of this driver open its next
// transaction with BEGIN IMMEDIATE; on another driver's it fails.
func immediateNext(dc any) error {
	c, ok := dc.(*conn)
	if !ok {
		return errors.New("not a libsql connection")
	}
	c.immediateNext = true
	return nil
}

// discard closes conn's server stream rather than pooling a connection
// whose session state (foreign keys off) the next user would inherit.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// The *Context methods serve ent's sql/execquery feature
// (client.ExecContext, tx.QueryContext) with the same rules as Exec and
// Query.

type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ExecContext is Exec for database/sql-style callers.
func (d *Driver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if _, ok := fkPragma(query); ok && len(args) == 0 {
		var res sql.Result
		err := d.Exec(ctx, query, []any{}, &res)
		return res, err
	}
	return d.Driver.ExecContext(ctx, query, args...)
}

func (t *lazyTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	eq, err := t.startEQ(query)
	if err != nil {
		return nil, err
	}
	return eq.ExecContext(ctx, query, args...)
}

func (t *lazyTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	eq, err := t.startEQ(query)
	if err != nil {
		return nil, err
	}
	return eq.QueryContext(ctx, query, args...)
}

// startEQ starts the transaction and returns its database/sql-style side.
func (t *lazyTx) startEQ(query string) (execQuerier, error) {
	if err := t.start(query); err != nil {
		return nil, err
	}
	eq, ok := t.tx.(execQuerier)
	if !ok {
		return nil, fmt.Errorf("libsql: %T has no ExecContext or QueryContext", t.tx)
	}
	return eq, nil
}

func (m *migrationTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := m.Exec(ctx, query, args, &res)
	return res, err
}

func (m *migrationTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	var rows entsql.Rows
	if err := m.Query(ctx, query, args, &rows); err != nil {
		return nil, err
	}
	return rows.ColumnScanner.(*sql.Rows), nil
}
