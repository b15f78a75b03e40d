package schema

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqlite"
	"entgo.io/ent/dialect"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/ddl"
	"github.com/entlibsql/entlibsql/internal/rebuild"
)

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// DryRun reports what would run and changes nothing: no statement, no
	// revision, not even the revisions table.
	DryRun bool
	// Baseline is the version of the migration file a database that
	// already has tables (but no revisions) is at: files up to it are
	// recorded as a baseline and not run.
	Baseline string
	// Operator is recorded in operator_version; "entlibsql" if empty.
	Operator string
	// Log, if set, is told what Apply does, file by file and statement by
	// statement.
	Log func(ApplyEvent)
}

// ApplyEvent is one step of Apply.
type ApplyEvent struct {
	File  migrate.File
	Stmt  string        // set for a statement about to run
	Done  bool          // the file is applied (or, in a dry run, would be)
	Took  time.Duration // with Done
	Stmts int           // with Done: statements the file ran
	Err   error         // the file failed and was rolled back
}

// FileError is a migration file that failed: nothing of it is applied, and
// the database stays at the previous version, its revision recording the
// error.
type FileError struct {
	File  string // the file's name
	Stmt  string // the statement that failed, if one did
	Index int    // its position in the file, from 1
	Err   error
}

func (e *FileError) Error() string {
	if e.Stmt == "" {
		return fmt.Sprintf("migration file %s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("migration file %s, statement %d (%s): %v", e.File, e.Index, oneLine(e.Stmt), e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// ErrConcurrentApply is returned when another Apply (or the Atlas CLI)
// applied the same file while this one waited: nothing was run twice.
var ErrConcurrentApply = errors.New("the file was applied by another migration run meanwhile")

// Apply runs the pending files of dir on drv's database, each in its own
// transaction with foreign keys off (on one stream, through the libSQL
// driver's migration transaction), checked for new foreign-key violations
// before COMMIT. It records each file in RevisionsTable as the Atlas CLI
// does, so either can continue the other's work, and returns the files it
// applied.
//
// Before anything runs, dir must match its atlas.sum: an edited, added or
// removed file stops Apply with nothing changed. A file that fails is
// rolled back whole; the database stays at the last good version, the
// failure is recorded on the file's revision, and the next Apply starts
// again from that file.
//
// drv must come from libsql.Open or libsql.OpenDB: each file runs in its
// libsql.Migration.
func Apply(ctx context.Context, drv dialect.Driver, dir migrate.Dir, opts ApplyOptions) ([]migrate.File, error) {
	if err := checkSum(dir); err != nil {
		return nil, err
	}
	mig, ok := drv.(migrator)
	if !ok {
		return nil, fmt.Errorf("apply needs a driver from libsql.Open or libsql.OpenDB, which runs each file with foreign keys off on one connection; got %T", drv)
	}
	if opts.Operator == "" {
		opts.Operator = "entlibsql"
	}
	adrv, err := atlasDriver(drv)
	if err != nil {
		return nil, err
	}
	// First without writing, so that a refusal (a database that needs a
	// baseline, a history out of order) leaves no trace.
	pending, err := pendingFiles(ctx, adrv, drv, dir, opts.Baseline, true, opts.Operator)
	if err != nil {
		return nil, err
	}
	if !opts.DryRun {
		if err := createRevisionsTable(ctx, drv); err != nil {
			return nil, err
		}
		if err := clearRolledBack(ctx, drv, dir); err != nil {
			return nil, err
		}
		if opts.Baseline != "" {
			// Again, writing the baseline revision (also when the
			// baseline is the last file and nothing else is pending).
			if pending, err = pendingFiles(ctx, adrv, drv, dir, opts.Baseline, false, opts.Operator); err != nil {
				return nil, err
			}
		}
	}
	if len(pending) == 0 {
		return nil, nil
	}
	sum, err := dir.Checksum()
	if err != nil {
		return nil, err
	}
	a := &applier{drv: drv, mig: mig, adrv: adrv, sum: sum, opts: opts}
	var applied []migrate.File
	for _, f := range pending {
		err := a.file(ctx, f)
		if errors.Is(err, ErrConcurrentApply) {
			continue
		}
		if err != nil {
			return applied, err
		}
		applied = append(applied, f)
	}
	return applied, nil
}

// migrator is a driver that runs migration transactions: libsql.Driver.
type migrator interface {
	BeginMigration(ctx context.Context) (*libsql.Migration, error)
}

// checkSum verifies dir against atlas.sum, naming the file that differs.
func checkSum(dir migrate.Dir) error {
	err := migrate.Validate(dir)
	var ce *migrate.ChecksumError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return refusal(ErrNotHashed, "atlas.sum does not match the migration directory (%s was %s since it was hashed): refusing to run anything; if the change is intended, rehash the directory", ce.File, ce.Reason)
	case errors.Is(err, migrate.ErrChecksumNotFound):
		return refusal(ErrNotHashed, "the migration directory has no atlas.sum: refusing to run anything; hash the directory first")
	}
	return fmt.Errorf("checking atlas.sum: %w", err)
}

// pendingFiles asks Atlas's own executor which files are pending, so the
// rules (baseline, partially applied files, files added out of order) are
// Atlas's. Rows of files that failed and were rolled back are left out:
// nothing of them is applied, so they are pending as if never tried.
func pendingFiles(ctx context.Context, adrv migrate.Driver, drv dialect.Driver, dir migrate.Dir, baseline string, dryRun bool, operator string) ([]migrate.File, error) {
	exopts := []migrate.ExecutorOption{migrate.WithOperatorVersion(operator)}
	if baseline != "" {
		exopts = append(exopts, migrate.WithBaselineVersion(baseline))
	}
	// Atlas reads the revisions, then whether the database is empty: an
	// Apply running beside this one can commit its first file (tables and
	// revision row together) in between. Read again once: a database that
	// really needs a baseline still has tables and no revisions.
	for attempt := 0; ; attempt++ {
		ex, err := migrate.NewExecutor(adrv, dir, &revisions{conn: drv, dryRun: dryRun, hideRolledBack: true}, exopts...)
		if err != nil {
			return nil, err
		}
		pending, err := ex.Pending(ctx)
		var nc *migrate.NotCleanError
		switch {
		case errors.Is(err, migrate.ErrNoPendingFiles):
			return nil, nil
		case errors.As(err, &nc) && attempt == 0:
			continue
		case errors.As(err, &nc):
			return nil, refusal(ErrNeedsBaseline, "the database has tables but no migration revisions (%s): give the version it is at as the baseline", nc.Reason)
		}
		return pending, err
	}
}

// atlasDriver is Atlas's SQLite driver over drv.
func atlasDriver(drv dialect.Driver) (migrate.Driver, error) { return sqlite.Open(&stdConn{drv}) }

// clearRolledBack, once the revisions table exists, deletes the rows of
// files that failed, were rolled back and are gone from dir (deleted or renamed after the failure): the Atlas
// CLI would take such a row for a partly applied file it cannot find.
func clearRolledBack(ctx context.Context, drv dialect.Driver, dir migrate.Dir) error {
	store := &revisions{conn: drv, created: true}
	revs, err := store.ReadRevisions(ctx)
	if err != nil {
		return err
	}
	files, err := versions(dir)
	if err != nil {
		return err
	}
	for _, r := range revs {
		if rolledBack(r) && !files[r.Version] {
			if err := store.DeleteRevision(ctx, r.Version); err != nil {
				return fmt.Errorf("clearing the row of version %s, which failed and whose file is gone: %w", r.Version, err)
			}
		}
	}
	return nil
}

// versions is the set of the versions of dir's files.
func versions(dir migrate.Dir) (map[string]bool, error) {
	files, err := dir.Files()
	if err != nil {
		return nil, err
	}
	vs := make(map[string]bool, len(files))
	for _, f := range files {
		vs[f.Version()] = true
	}
	return vs, nil
}

type applier struct {
	drv  dialect.Driver
	mig  migrator
	adrv migrate.Driver // Atlas's SQLite driver, to split files as the Atlas CLI does
	sum  migrate.HashFile
	opts ApplyOptions
}

func (a *applier) log(e ApplyEvent) {
	if a.opts.Log != nil {
		a.opts.Log(e)
	}
}

// file applies one migration file in one transaction.
func (a *applier) file(ctx context.Context, f migrate.File) error {
	hash, err := a.sum.SumByName(f.Name())
	if err != nil {
		return fmt.Errorf("migration file %s: %w", f.Name(), err)
	}
	// Atlas's SQLite driver splits a file as the Atlas CLI does (a
	// CREATE TRIGGER's BEGIN ... END stays one statement), so both count
	// and hash statements alike.
	decls, err := migrate.FileStmtDecls(a.adrv, f)
	if err != nil {
		return &FileError{File: f.Name(), Err: fmt.Errorf("reading statements: %w", err)}
	}
	stmts := make([]string, len(decls))
	for i, d := range decls {
		stmts[i] = d.Text
	}
	if a.opts.DryRun {
		rev, err := a.revisionOf(ctx, a.drv, f, stmts)
		if err != nil {
			return err
		}
		for _, s := range stmts[rev.Applied:] {
			a.log(ApplyEvent{File: f, Stmt: s})
		}
		a.log(ApplyEvent{File: f, Done: true, Stmts: len(stmts) - rev.Applied})
		return nil
	}
	start := time.Now()
	ran, err := a.run(ctx, f, stmts, hash, start)
	if errors.Is(err, ErrConcurrentApply) {
		return err
	}
	if err != nil {
		err = a.recordFailure(ctx, f, stmts, hash, time.Since(start), err)
		a.log(ApplyEvent{File: f, Err: err})
		return err
	}
	a.log(ApplyEvent{File: f, Done: true, Took: time.Since(start), Stmts: ran})
	return nil
}

// recordFailure writes the failure on the file's row as the rollback left
// it, unless another run completed the file meanwhile, and returns err.
func (a *applier) recordFailure(ctx context.Context, f migrate.File, stmts []string, hash string, took time.Duration, err error) error {
	failed, rerr := a.revisionOf(ctx, a.drv, f, stmts)
	switch {
	case errors.Is(rerr, ErrConcurrentApply):
		return err
	case errors.As(rerr, new(*FileError)):
		return err // the same refusal as err's (a changed statement)
	case rerr != nil:
		return errors.Join(err, rerr)
	}
	failed.Total, failed.Hash, failed.OperatorVersion = len(stmts), hash, a.opts.Operator
	failed.ExecutionTime, failed.Error = took, err.Error()
	var fe *FileError
	if errors.As(err, &fe) {
		failed.ErrorStmt = fe.Stmt
	}
	if werr := a.store(a.drv).WriteRevision(ctx, failed); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}

// store is the revisions table through conn; Apply created it.
func (a *applier) store(conn dialect.ExecQuerier) *revisions {
	return &revisions{conn: conn, dryRun: a.opts.DryRun, created: !a.opts.DryRun}
}

// revisionOf reads f's revision through conn: a new one if there is none,
// ErrConcurrentApply if it is complete (another run applied the file since
// the pending files were listed), an error if statements it applied before
// have changed.
func (a *applier) revisionOf(ctx context.Context, conn dialect.ExecQuerier, f migrate.File, stmts []string) (*migrate.Revision, error) {
	rev, err := a.store(conn).ReadRevision(ctx, f.Version())
	switch {
	case errors.Is(err, migrate.ErrRevisionNotExist):
		return &migrate.Revision{Version: f.Version(), Description: f.Desc(), Type: migrate.RevisionTypeExecute}, nil
	case err != nil:
		return nil, err
	case rev.Type.Has(migrate.RevisionTypeBaseline) || complete(rev):
		return nil, ErrConcurrentApply
	}
	if err := checkPartial(f, stmts, rev); err != nil {
		return nil, err
	}
	return rev, nil
}

func complete(r *migrate.Revision) bool { return r.Applied == r.Total && r.Error == "" }

// rolledBack reports whether r records a file that failed in its
// transaction: nothing of it is in the database. Atlas reads such a row
// (applied < total) as a partly applied file; it is not one.
func rolledBack(r *migrate.Revision) bool {
	return r.Type == migrate.RevisionTypeExecute && r.Applied == 0 && r.Error != ""
}

// checkPartial refuses to resume a file partially applied (by the Atlas
// CLI without a transaction) whose applied statements have changed since.
func checkPartial(f migrate.File, stmts []string, rev *migrate.Revision) error {
	if rev.Applied == 0 {
		return nil
	}
	h := sha256.New()
	for i := 0; i < rev.Applied; i++ {
		if i >= len(stmts) || i >= len(rev.PartialHashes) {
			return &FileError{File: f.Name(), Err: fmt.Errorf("%d statements were applied before, the file now has %d", rev.Applied, len(stmts))}
		}
		h.Write([]byte(stmts[i]))
		if sum := base64.StdEncoding.EncodeToString(h.Sum(nil)); strings.TrimPrefix(rev.PartialHashes[i], "h1:") != sum {
			return &FileError{File: f.Name(), Index: i + 1, Stmt: stmts[i], Err: errors.New("the statement changed since it was applied")}
		}
	}
	return nil
}

// run executes the rest of the file in a migration transaction (foreign
// keys off on one pinned stream, BEGIN IMMEDIATE, checked before COMMIT)
// and records the revision in it, returning the statements run.
func (a *applier) run(ctx context.Context, f migrate.File, stmts []string, hash string, start time.Time) (ran int, err error) {
	m, err := a.mig.BeginMigration(ctx)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			// The error says what failed; the rollback's own (a server
			// that already ended the transaction) would only add noise.
			_ = m.Rollback()
		}
	}()
	// Under the write lock, the row is the latest: resume from it.
	rev, err := a.revisionOf(ctx, m, f, stmts)
	if err != nil {
		return 0, err
	}
	rev.Total, rev.Hash, rev.OperatorVersion = len(stmts), hash, a.opts.Operator
	if err := a.claim(ctx, m, rev); err != nil {
		return 0, err
	}
	from := rev.Applied
	restore, err := statsOfRebuilds(ctx, m, stmts[from:])
	if err != nil {
		return 0, err
	}
	// The migration holds the statements back and sends them together
	// with the next statement that needs an answer, so a failure can
	// surface there: locate names the statement that failed.
	counters := countersOfRebuilds(stmts[from:])
	for i, s := range stmts[from:] {
		for _, st := range counters[i] {
			if err := m.Exec(ctx, st.SQL, []any{}, nil); err != nil {
				return 0, locate(f, stmts, from, fmt.Errorf("%s: %w", st.Comment, err))
			}
		}
		a.log(ApplyEvent{File: f, Stmt: s})
		if err := m.Exec(ctx, s, []any{}, nil); err != nil {
			return 0, locate(f, stmts, from, err)
		}
	}
	for _, st := range restore {
		if err := m.Exec(ctx, st.SQL, []any{}, nil); err != nil {
			return 0, locate(f, stmts, from, fmt.Errorf("%s: %w", st.Comment, err))
		}
	}
	done := *rev
	done.Applied, done.PartialHashes, done.Error, done.ErrorStmt = len(stmts), nil, "", ""
	done.ExecutionTime = time.Since(start)
	if err := a.store(m).WriteRevision(ctx, &done); err != nil {
		return 0, locate(f, stmts, from, err)
	}
	if err := m.Commit(); err != nil {
		var fk *libsql.ForeignKeyError
		if errors.As(err, &fk) {
			return 0, &FileError{File: f.Name(), Err: err}
		}
		if located := locate(f, stmts, from, err); located != err {
			return 0, located
		}
		return 0, &FileError{File: f.Name(), Err: fmt.Errorf("COMMIT: %w", err)}
	}
	return len(stmts) - from, nil
}

// countersOfRebuilds returns, by the index in stmts of the DROP TABLE of
// a table they rebuild, the statements to run before it that keep the
// table's AUTOINCREMENT counter (which the Atlas CLI's files lose: the
// ids of deleted rows would be given again).
func countersOfRebuilds(stmts []string) map[int][]rebuild.Stmt {
	out := map[int][]rebuild.Stmt{}
	for _, b := range rebuild.Find(stmts) {
		if rebuild.KeepsSequence(stmts[b.Create]) {
			out[b.Drop] = rebuild.SequenceStmts(b.Table, b.Temp)
		}
	}
	return out
}

// statsOfRebuilds returns the statements that give the tables stmts
// rebuild their statistics back (DROP TABLE deletes them; a file cannot
// carry them, not knowing them): they run after the file's own, in its
// transaction, and change nothing but sqlite_stat1.
func statsOfRebuilds(ctx context.Context, m *libsql.Migration, stmts []string) ([]rebuild.Stmt, error) {
	blocks := rebuild.Find(stmts)
	if len(blocks) == 0 {
		return nil, nil
	}
	cat, err := rebuild.Read(ctx, m)
	if err != nil {
		return nil, err
	}
	var out []rebuild.Stmt
	for _, b := range blocks {
		out = append(out, rebuild.StatStmts(b.Table, cat)...)
	}
	return out, nil
}

// claim records the file as started, unless its row records it completed
// (another run got there first, on a database without BEGIN IMMEDIATE):
// then nothing of it runs again.
func (a *applier) claim(ctx context.Context, tx dialect.ExecQuerier, rev *migrate.Revision) error {
	started := *rev
	started.Error, started.ErrorStmt = "", ""
	if started.Total == started.Applied {
		started.Total++ // an empty file: still "not complete" while it runs
	}
	written, err := a.store(tx).write(ctx, &started, true)
	if err != nil {
		return err
	}
	if !written {
		return ErrConcurrentApply
	}
	return nil
}

// locate turns the libSQL driver's error for a statement of the file
// (one with a Statement method) into a FileError naming the statement,
// looked for among those run from from on.
func locate(f migrate.File, stmts []string, from int, err error) error {
	var se interface {
		error
		Statement() string
	}
	if !errors.As(err, &se) {
		return err
	}
	for i := from; i < len(stmts); i++ {
		if ddl.RewriteSequence(stmts[i]) == se.Statement() {
			return &FileError{File: f.Name(), Stmt: stmts[i], Index: i + 1, Err: errors.Unwrap(se)}
		}
	}
	return err
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
