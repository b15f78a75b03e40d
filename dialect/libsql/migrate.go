package libsql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/entlibsql/entlibsql/internal/ddl"
	"github.com/entlibsql/entlibsql/internal/hrana"
	"github.com/entlibsql/entlibsql/internal/rebuild"
)

// A migration changes the schema, and SQLite rebuilds a table to change
// most of it: copy the rows to a new table, drop the old one, rename. With
// foreign keys on, dropping a parent table deletes (or refuses) its
// children; so a migration runs with foreign keys off, which SQLite allows
// only outside a transaction, on the connection the transaction then
// uses. Over Hrana every pooled connection is its own server stream: a
// pragma on one does nothing for another.
//
// Migration is that one connection, explicitly: foreign keys off on a
// pinned stream, BEGIN IMMEDIATE, the plan held back and sent in batches,
// the foreign keys checked once before COMMIT, and the stream discarded
// after, so that no pooled connection keeps foreign keys off. Versioned
// migrations (the schema package's Apply) use it directly; ent's
// Schema.Create reaches it through the interception in entmigrate.go.

// Migration is a transaction for schema changes: see BeginMigration. It
// is an ent dialect.Tx, so ent's migrate and Atlas can run on it.
type Migration struct {
	ctx     context.Context
	conn    *sql.Conn
	tx      *sql.Tx
	eq      entsql.Conn
	done    bool
	fk      fkChecks
	batches bool         // the connection is this driver's: plan statements wait and go together
	plan    []hrana.Stmt // statements not sent yet
	restore string       // another driver's connection: the foreign_keys value to put back on it
	atlas   bool         // answer Atlas's PRAGMA foreign_key_check (see fkcheck.go)
	guard   *rebuildGuard
	fkOn    bool // BeginReplay: foreign keys stay on, the server checks them
}

// BeginMigration starts a migration transaction on a connection of its
// own: PRAGMA foreign_keys = off, then BEGIN IMMEDIATE, so that
// concurrent migrations queue at BEGIN instead of each reading a snapshot
// it then cannot upgrade to a write. Statements whose results nobody asks
// for wait and go to the server together, with the next statement that
// needs an answer or with COMMIT; a failing one rolls everything back and
// its error names it.
//
// Commit first checks the foreign keys: rows that break one and did not
// at the start fail it with a *ForeignKeyError, rolled back. Either way
// the connection is then discarded, closing its stream. (On a connection
// of another driver, through OpenDB, the transaction is that driver's
// usual BEGIN, and the connection gets its foreign_keys setting back and
// stays: it may be the only one an in-memory database has.)
//
// ctx governs the whole migration, Commit included.
func (d *Driver) BeginMigration(ctx context.Context) (*Migration, error) {
	return beginMigration(ctx, d.DB(), nil)
}

// BeginReplay starts a transaction like BeginMigration's (its own
// connection, BEGIN IMMEDIATE, statements held back and sent together)
// that leaves foreign keys on: for statements meant to be rolled back,
// as when the schema package's Diff replays a migration directory on a
// dev database. The server checks foreign keys as each statement runs,
// so Commit adds no check of its own.
func (d *Driver) BeginReplay(ctx context.Context) (*Migration, error) {
	return startMigration(ctx, d.DB(), nil, true)
}

func beginMigration(ctx context.Context, db *sql.DB, opts *sql.TxOptions) (*Migration, error) {
	return startMigration(ctx, db, opts, false)
}

func startMigration(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fkOn bool) (*Migration, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	ours := conn.Raw(immediateNext) == nil
	m := &Migration{ctx: ctx, conn: conn, batches: ours, fkOn: fkOn}
	if !ours {
		_ = conn.Raw(otherImmediateNext)
	}
	if !ours && !fkOn {
		if m.restore, err = foreignKeysSetting(ctx, conn); err != nil {
			discard(conn)
			return nil, wrapError("migration: reading PRAGMA foreign_keys", err)
		}
	}
	if !fkOn {
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
			m.end(nil)
			return nil, wrapError("migration: turning foreign keys off", err)
		}
	}
	if m.tx, err = conn.BeginTx(ctx, opts); err != nil {
		m.end(nil)
		return nil, wrapError("migration: BEGIN", err)
	}
	m.eq = entsql.Conn{ExecQuerier: m.tx}
	return m, nil
}

func foreignKeysSetting(ctx context.Context, conn *sql.Conn) (string, error) {
	var on int
	if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil {
		return "", err
	}
	return fmt.Sprint(on), nil
}

// Exec runs one statement of the migration. A sqlite_sequence row Atlas
// wrote with double quotes, which sqld refuses, is rewritten.
func (m *Migration) Exec(ctx context.Context, query string, args, v any) error {
	if m.done {
		return sql.ErrTxDone
	}
	stmt := ddl.RewriteSequence(query)
	if m.guard != nil && !rebuild.IsKept(ctx) {
		if err := m.guard.exec(ctx, m, stmt); err != nil {
			return err
		}
	}
	if !m.fkOn && m.fk.wantsStart(stmt) {
		// The statements held back cannot change the violations (this is
		// the first that can): read them without sending those first.
		if err := m.fk.readStart(ctx, m.eq); err != nil {
			return err
		}
	}
	m.fk.ran(stmt)
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

// Query runs a query in the migration, after the statements held back.
// Within ent's Schema.Create it also answers Atlas's foreign key checks
// (see fkcheck.go).
func (m *Migration) Query(ctx context.Context, query string, args, v any) error {
	if m.done {
		return sql.ErrTxDone
	}
	if m.atlas && fkCheckRe.MatchString(query) && noArgs(args) {
		return m.fk.answer(ctx, m, v)
	}
	if err := m.flush(ctx, false); err != nil {
		return err
	}
	return m.eq.Query(ctx, query, args, v)
}

// flush sends the statements held back, in the transaction.
func (m *Migration) flush(ctx context.Context, commit bool) error {
	if len(m.plan) == 0 {
		return nil
	}
	plan := m.plan
	m.plan = nil
	return m.conn.Raw(func(dc any) error { return dc.(*conn).runPlan(ctx, plan, commit) })
}

// Commit checks the foreign keys and commits, sending the statements held
// back with COMMIT in one request. New foreign-key violations roll the
// migration back with a *ForeignKeyError; so does, in ent's Schema.Create,
// a table rebuild that lost what the ent schema does not declare.
func (m *Migration) Commit() error {
	if m.done {
		return sql.ErrTxDone
	}
	if m.guard != nil {
		if err := m.guard.commit(m.ctx, m); err != nil {
			return errors.Join(err, m.Rollback())
		}
	}
	fresh, err := m.fk.check(m.ctx, m)
	if err == nil && len(fresh) > 0 {
		err = newForeignKeyError(fresh)
	}
	if err != nil {
		_ = m.Rollback() // err says what failed
		return err
	}
	if err := m.flush(m.ctx, true); err != nil {
		_ = m.end(m.tx.Rollback) // the batch ended the transaction
		return err
	}
	return m.end(m.tx.Commit)
}

// Rollback ends the migration, changing nothing.
func (m *Migration) Rollback() error {
	m.plan = nil
	return m.end(m.tx.Rollback)
}

// end ends the transaction with f, then the connection: discarded if it
// is this driver's, given back its foreign keys otherwise.
func (m *Migration) end(f func() error) error {
	if m.done {
		return sql.ErrTxDone
	}
	m.done = true
	var err error
	if f != nil {
		err = f()
	}
	if m.batches || !m.restored() {
		discard(m.conn)
		return err
	}
	_ = m.conn.Close()
	return err
}

// restored puts foreign keys back as they were on another driver's
// connection, and reports whether they are: a connection still in a
// transaction (a COMMIT that failed) ignores the pragma, and is discarded.
func (m *Migration) restored() bool {
	if m.restore == "" {
		return false
	}
	ctx := context.WithoutCancel(m.ctx)
	if _, err := m.conn.ExecContext(ctx, "PRAGMA foreign_keys = "+m.restore); err != nil {
		return false
	}
	now, err := foreignKeysSetting(ctx, m.conn)
	return err == nil && now == m.restore
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

// immediateBeginner is another driver's connection (the embedded
// engine's) that can open its next transaction with BEGIN IMMEDIATE.
// A deferred BEGIN would take the write lock only at the first write,
// after the migration read the schema; meeting another migration there,
// SQLite fails at once with SQLITE_BUSY (waiting could deadlock), where
// BEGIN IMMEDIATE waits for the busy timeout.
type immediateBeginner interface{ BeginImmediateNext() }

func otherImmediateNext(dc any) error {
	if ib, ok := dc.(immediateBeginner); ok {
		ib.BeginImmediateNext()
	}
	return nil
}

// discard closes conn's server stream rather than pooling a connection
// whose session state (foreign keys off) the next user would inherit.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// ExecContext is Exec for database/sql-style callers (ent's sql/execquery
// feature).
func (m *Migration) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := m.Exec(ctx, query, args, &res)
	return res, err
}

// QueryContext is Query for database/sql-style callers.
func (m *Migration) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	var rows entsql.Rows
	if err := m.Query(ctx, query, args, &rows); err != nil {
		return nil, err
	}
	return rows.ColumnScanner.(*sql.Rows), nil
}

// rebuildGuard keeps ent's own plans (Schema.Create without the schema
// package's WithLibSQL) from rebuilding a table into one that lacks what
// the database held beyond the ent schema: a trigger, an index, a column,
// a table option, statistics. The driver cannot tell which of those ent
// meant to drop (WithDropColumn, WithDropIndex), so it keeps none itself:
// such a migration is rolled back with an error naming what it would have
// lost, and WithLibSQL, which reads ent's intent, keeps them.
//
// One thing it keeps: the AUTOINCREMENT counter, which ent never means to
// lower (see rebuild.SequenceStmts).
type rebuildGuard struct {
	before  *rebuild.Catalog  // read before the first DROP TABLE
	rebuilt []string          // the tables dropped
	copies  map[string]string // folded name of a table to the new table its rows were copied into
	created map[string]string // folded name of a table created to its CREATE statement
}

// exec sees each statement before it is held back or sent.
func (g *rebuildGuard) exec(ctx context.Context, m *Migration, stmt string) error {
	if name, ok := ddl.CreateTableName(stmt); ok {
		if g.created == nil {
			g.created = map[string]string{}
		}
		g.created[ddl.FoldName(name)] = stmt
	}
	if cp, ok := ddl.ParseCopy(stmt); ok {
		if g.copies == nil {
			g.copies = map[string]string{}
		}
		g.copies[ddl.FoldName(cp.From)] = cp.Into
	}
	table, ok := ddl.DropTable(stmt)
	if !ok {
		return nil
	}
	if g.before == nil {
		// Read before the statements held back run: ent's plan creates
		// nothing on a table before it rebuilds it.
		cat, err := rebuild.Read(ctx, m.eq)
		if err != nil {
			return wrapError("migration", err)
		}
		g.before = cat
	}
	if deps := g.before.Dependents(table); len(deps) > 0 {
		return &RebuildError{Table: table, Blocked: rebuild.Describe(deps)}
	}
	g.rebuilt = append(g.rebuilt, table)
	temp, ok := g.copies[ddl.FoldName(table)]
	if !ok {
		temp = "new_" + table // Atlas's name, when there were no rows to copy
	}
	if create, ok := g.created[ddl.FoldName(temp)]; ok && rebuild.KeepsSequence(create) {
		for _, st := range rebuild.SequenceStmts(table, temp) {
			if err := m.Exec(rebuild.Kept(ctx), st.SQL, []any{}, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// commit compares the rebuilt tables with what they were.
func (g *rebuildGuard) commit(ctx context.Context, m *Migration) error {
	if len(g.rebuilt) == 0 {
		return nil
	}
	if err := m.flush(ctx, false); err != nil {
		return err
	}
	after, err := rebuild.Read(ctx, m.eq)
	if err != nil {
		return wrapError("migration", err)
	}
	var errs []error
	for _, t := range g.rebuilt {
		if lost := rebuild.Losses(g.before, after, t); len(lost) > 0 {
			errs = append(errs, &RebuildError{Table: t, Lost: lost})
		}
	}
	return errors.Join(errs...)
}

// RebuildError is ent's plan rebuilding a table in a way that would lose
// what the table holds beyond the ent schema, or that cannot succeed
// because views or triggers read the table. The migration was rolled
// back: nothing changed. The schema package's WithLibSQL option keeps
// these objects through a rebuild.
type RebuildError struct {
	Table   string
	Lost    []string // what the rebuilt table no longer has
	Blocked []string // the views and triggers that read it
}

func (e *RebuildError) Error() string {
	const fix = "pass schema.WithLibSQL() (package github.com/entlibsql/entlibsql/schema) to Schema.Create: its rebuilds keep them"
	if len(e.Blocked) > 0 {
		return fmt.Sprintf("libsql: the migration rebuilds table %q, which %s read: SQLite cannot rename the new table while they do; it was rolled back, nothing changed; %s",
			e.Table, strings.Join(e.Blocked, ", "), fix)
	}
	return fmt.Sprintf("libsql: the migration rebuilds table %q from the ent schema alone and would lose what the ent schema does not declare: %s; it was rolled back, nothing changed; %s",
		e.Table, strings.Join(e.Lost, ", "), fix)
}
