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

	"github.com/entlibsql/entlibsql/internal/ddl"
)

// How ent's Schema.Create (ent's SQLite migrate with Atlas) reaches a
// Migration (migrate.go).
//
// ent runs it as: Exec("PRAGMA foreign_keys = off") on the driver, then
// Tx(), whose first statement is Atlas's "PRAGMA foreign_key_check", the
// plan, the check again, COMMIT, and Exec("PRAGMA foreign_keys = on") on
// the driver. Run as written over Hrana, the pragma lands on one stream
// and the plan on another, and a table rebuild cascades into its
// children: every child row deleted.
//
// So the driver never runs those two pragmas on a pooled connection.
// "off" leaves a request behind; the next transaction that opens with
// PRAGMA foreign_key_check takes it and becomes a Migration. "on" ends a
// request (see fkRequests): the Migration's stream is gone by then. Other
// transactions, however concurrent, start as usual; one that began while
// a request was waiting and did not take it refuses DROP TABLE, the step
// that cascades, so that if ent or Atlas ever migrate another way the
// migration fails loudly instead of running with foreign keys on.
// TestEntMigrationSequence pins the sequence to ent's and Atlas's code.

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
// pragma, which asks for (or ends a request for) a migration transaction
// with foreign keys off: see the comment at the top of this file. To set
// a pragma on one connection, use DB().Conn; for a migration of your own,
// BeginMigration.
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
	return d.Driver.Exec(ctx, ddl.RewriteSequence(query), args, v)
}

// Query runs a query on a pooled connection.
func (d *Driver) Query(ctx context.Context, query string, args, v any) error {
	return d.Driver.Query(ctx, ddl.RewriteSequence(query), args, v)
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
		return d.beginTx(ctx, opts)
	}
	return &lazyTx{d: d, ctx: ctx, opts: opts}, nil
}

func (d *Driver) beginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.Driver.BeginTx(ctx, opts)
	if err != nil || !d.foreign {
		return tx, err
	}
	return &rewriteTx{tx}, nil
}

// lazyTx is a transaction not started yet: its first statement decides
// whether it is a migration.
type lazyTx struct {
	d    *Driver
	ctx  context.Context
	opts *sql.TxOptions
	tx   dialect.Tx // once started
	// unpinned: a transaction that began while a migration's request
	// was waiting and did not take it (see the top of this file).
	unpinned bool
}

// errUnpinnedRebuild is what such a transaction gets for DROP TABLE.
var errUnpinnedRebuild = errors.New("libsql: DROP TABLE in a transaction that began while ent's migration had turned foreign keys off, and that did not open with PRAGMA foreign_key_check as ent's migration does: " +
	"refusing to run it with foreign keys on, where a table rebuild deletes every child row. If ent or Atlas changed how Schema.Create migrates, this driver needs an update; otherwise retry the transaction")

func (t *lazyTx) start(query string) error {
	if t.tx != nil {
		return nil
	}
	if fkCheckRe.MatchString(query) && t.d.fk.take() {
		// On failure the request stays taken: ent sends its "on" after.
		m, err := beginMigration(t.ctx, t.d.DB(), t.opts)
		if err != nil {
			return err
		}
		m.atlas, m.guard = true, &rebuildGuard{}
		t.tx = m
		return nil
	}
	tx, err := t.d.beginTx(t.ctx, t.opts)
	if err != nil {
		return err
	}
	t.tx, t.unpinned = tx, true
	return nil
}

func (t *lazyTx) Exec(ctx context.Context, query string, args, v any) error {
	if err := t.start(query); err != nil {
		return err
	}
	if err := t.refuse(query); err != nil {
		return err
	}
	return t.tx.Exec(ctx, query, args, v)
}

func (t *lazyTx) refuse(query string) error {
	if _, drop := ddl.DropTable(query); drop && t.unpinned {
		return errUnpinnedRebuild
	}
	return nil
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
	return d.Driver.ExecContext(ctx, ddl.RewriteSequence(query), args...)
}

// QueryContext is Query for database/sql-style callers.
func (d *Driver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.Driver.QueryContext(ctx, ddl.RewriteSequence(query), args...)
}

func (t *lazyTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	eq, err := t.startEQ(query)
	if err != nil {
		return nil, err
	}
	if err := t.refuse(query); err != nil {
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

// rewriteTx is a transaction on another driver's connection (through
// OpenDB), which this driver's connections do not reach: it rewrites the
// statements sqld refuses, as they do.
type rewriteTx struct{ dialect.Tx }

func (t *rewriteTx) Exec(ctx context.Context, query string, args, v any) error {
	return t.Tx.Exec(ctx, ddl.RewriteSequence(query), args, v)
}

func (t *rewriteTx) Query(ctx context.Context, query string, args, v any) error {
	return t.Tx.Query(ctx, ddl.RewriteSequence(query), args, v)
}

func (t *rewriteTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	eq, ok := t.Tx.(execQuerier)
	if !ok {
		return nil, fmt.Errorf("libsql: %T has no ExecContext", t.Tx)
	}
	return eq.ExecContext(ctx, ddl.RewriteSequence(query), args...)
}

func (t *rewriteTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	eq, ok := t.Tx.(execQuerier)
	if !ok {
		return nil, fmt.Errorf("libsql: %T has no QueryContext", t.Tx)
	}
	return eq.QueryContext(ctx, ddl.RewriteSequence(query), args...)
}
