package schema

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	entschema "entgo.io/ent/dialect/sql/schema"

	"github.com/entlibsql/entlibsql/internal/rebuild"
)

// Diff writes the next migration file of dir, named name: the statements
// that take the schema dir's files build to the schema of tables. It
// replays dir on dev, a scratch libSQL database that must be empty (it is
// left empty again: tables, views, triggers, indexes, virtual and vector
// shadow tables, sqlite_sequence's rows), and never on the database you
// migrate. On a *libsql.Driver it does so in one transaction, rolled
// back at the end, in a few requests whatever the size of dir. The
// file is written in Atlas's format with atlas.sum updated, so the Atlas
// CLI accepts the directory. It returns the new file's name, or "" when
// the directory already builds tables.
//
// The file changes tables in place where plain SQLite can (ADD COLUMN for
// a field with a constant default or none, DROP and RENAME COLUMN), and
// its rebuilds keep what the tables hold beyond the ent schema in the
// database dir's files build (indexes, triggers, views, table options,
// generated and undeclared columns), as Schema.Create with WithLibSQL
// does. It uses no libSQL-only statement (ALTER COLUMN), so Atlas's SQLite
// dev database replays it; and no row checks, which need the database.
//
// opts are ent's migrate options (WithDropColumn, WithDropIndex, ...).
func Diff(ctx context.Context, dev dialect.Driver, dir migrate.Dir, name string, tables []*entschema.Table, opts ...entschema.MigrateOption) (string, error) {
	if err := checkSum(dir); err != nil {
		return "", err
	}
	before, err := dir.Files()
	if err != nil {
		return "", err
	}
	if r, ok := dev.(replayer); ok && inOneTransaction {
		file, err, again := diffInTransaction(ctx, r, dev, dir, before, name, tables, opts)
		if !again {
			return file, err
		}
		fellBack(err)
	}
	return diffReplaying(ctx, dev, dir, before, name, tables, opts)
}

// inOneTransaction lets Diff run in one transaction (devtx.go); tests
// turn it off to compare with the replay statement by statement, and
// see through fellBack when it gave up (err is nil for a directory that
// controls transactions).
var (
	inOneTransaction = true
	fellBack         = func(err error) {}
)

// diffInTransaction is Diff in one transaction on dev (see devtx.go).
// again reports a failure to retry statement by statement: anything but
// a dev database that is not empty, or a file written.
func diffInTransaction(ctx context.Context, r replayer, dev dialect.Driver, dir migrate.Dir, before []migrate.File, name string, tables []*entschema.Table, opts []entschema.MigrateOption) (file string, err error, again bool) {
	adrv, err := atlasDriver(dev)
	if err != nil {
		return "", err, false
	}
	stmts, err := dirStmts(adrv, before)
	if err != nil || controlsTransactions(stmts) {
		return "", nil, true // the statement-by-statement replay says which
	}
	m, err := r.BeginReplay(ctx)
	if err != nil {
		return "", err, false
	}
	tx := &devTx{m: m}
	objs, err := devObjects(ctx, tx)
	if err != nil || len(objs) > 0 {
		_ = m.Rollback()
		return "", notEmpty(objs), err != nil
	}
	file, err = namedDiff(ctx, tx, dir, before, name, tables, opts,
		func(ctx context.Context) (*rebuild.Catalog, error) { return tx.catalog(ctx, stmts) })
	if rerr := m.Rollback(); rerr != nil {
		// The dev database may hold what was replayed: empty it as the
		// statement-by-statement replay does.
		if cerr := emptyPinned(ctx, dev); cerr != nil && err == nil {
			err = cerr
		}
	}
	if err == nil {
		return file, nil, false
	}
	now, ferr := dir.Files()
	return file, err, ferr == nil && newFile(before, now) == ""
}

// diffReplaying is Diff statement by statement: the files replayed on
// dev in a transaction for the catalog, then by ent's migrate, and the
// dev database emptied object by object.
func diffReplaying(ctx context.Context, dev dialect.Driver, dir migrate.Dir, before []migrate.File, name string, tables []*entschema.Table, opts []entschema.MigrateOption) (_ string, err error) {
	dev, release, err := pinned(ctx, dev)
	if err != nil {
		return "", err
	}
	defer release()
	if err := checkEmptyDev(ctx, dev); err != nil {
		return "", err
	}
	defer func() {
		if cerr := emptyDev(ctx, dev); cerr != nil && err == nil {
			err = cerr
		}
	}()
	cat, err := replayedCatalog(ctx, dev, before)
	if err != nil {
		return "", err
	}
	return namedDiff(ctx, dev, dir, before, name, tables, opts,
		func(context.Context) (*rebuild.Catalog, error) { return cat, nil })
}

// emptyPinned empties dev on a connection of its own.
func emptyPinned(ctx context.Context, dev dialect.Driver) error {
	dev, release, err := pinned(ctx, dev)
	if err != nil {
		return err
	}
	defer release()
	return emptyDev(ctx, dev)
}

// namedDiff runs ent's diff in replay mode on dev, its rebuilds keeping
// what catalog holds, and returns the file it wrote, if any.
func namedDiff(ctx context.Context, dev dialect.Driver, dir migrate.Dir, before []migrate.File, name string, tables []*entschema.Table, opts []entschema.MigrateOption, catalog func(context.Context) (*rebuild.Catalog, error)) (string, error) {
	p := &planner{catalog: catalog}
	opts = append([]entschema.MigrateOption{
		entschema.WithDir(dir),
		entschema.WithMigrationMode(entschema.ModeReplay),
		entschema.WithErrNoPlan(true),
		entschema.WithFormatter(&fileFormatter{ctx: ctx, p: p}),
		entschema.WithDiffHook(DiffHook),
		vectorIndexesOf(tables),
	}, opts...)
	m, err := entschema.NewMigrate(dev, opts...)
	if err != nil {
		return "", err
	}
	err = m.NamedDiff(ctx, name, tables...)
	var nc *migrate.NotCleanError
	switch {
	case errors.Is(err, migrate.ErrNoPlan):
		return "", nil
	case errors.As(err, &nc):
		return "", fmt.Errorf("the dev database must be empty (%s): give a scratch database, never the one you migrate", nc.Reason)
	case err != nil:
		return "", err
	}
	after, err := dir.Files()
	if err != nil {
		return "", err
	}
	return newFile(before, after), nil
}

// fileFormatter writes a plan as Atlas's files do, once the planner made
// it keep what the tables hold.
type fileFormatter struct {
	ctx context.Context
	p   *planner
}

func (f *fileFormatter) Format(plan *migrate.Plan) ([]migrate.File, error) {
	out, err := f.p.rewrite(f.ctx, plan)
	if err != nil {
		return nil, err
	}
	return migrate.DefaultFormatter.Format(out)
}

// replayedCatalog is the schema the files build: replayed on dev (empty,
// see checkEmptyDev) in a transaction that is rolled back, leaving dev
// empty for ent's own replay.
func replayedCatalog(ctx context.Context, dev dialect.Driver, files []migrate.File) (*rebuild.Catalog, error) {
	adrv, err := atlasDriver(dev)
	if err != nil {
		return nil, err
	}
	if err := dev.Exec(ctx, "BEGIN", []any{}, nil); err != nil {
		return nil, err
	}
	defer func() { _ = dev.Exec(context.WithoutCancel(ctx), "ROLLBACK", []any{}, nil) }()
	for _, f := range files {
		stmts, err := dirStmts(adrv, []migrate.File{f})
		if err != nil {
			return nil, err
		}
		for _, s := range stmts {
			if err := dev.Exec(ctx, s.text, []any{}, nil); err != nil {
				return nil, &FileError{File: s.file, Stmt: s.text, Index: s.index, Err: fmt.Errorf("replaying the directory on the dev database (in a transaction, to read what its tables hold): %w", err)}
			}
		}
	}
	return rebuild.Read(ctx, dev)
}

// pinned runs everything on one connection of dev, when dev has a pool:
// Atlas replays files and empties the dev database with pool-level
// statements, PRAGMA foreign_keys among them, which must reach the
// connection the rest runs on. The connection is discarded after, its
// session state being whatever the replay left.
func pinned(ctx context.Context, dev dialect.Driver) (dialect.Driver, func(), error) {
	p, ok := dev.(interface{ DB() *sql.DB })
	if !ok {
		return dev, func() {}, nil
	}
	conn, err := p.DB().Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	release := func() {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		_ = conn.Close()
	}
	return entsql.NewDriver(dev.Dialect(), entsql.Conn{ExecQuerier: conn}), release, nil
}

// newFile is the name in after that is not in before.
func newFile(before, after []migrate.File) string {
	old := make(map[string]bool, len(before))
	for _, f := range before {
		old[f.Name()] = true
	}
	for _, f := range after {
		if !old[f.Name()] {
			return f.Name()
		}
	}
	return ""
}
