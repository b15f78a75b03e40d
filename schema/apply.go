package schema

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqlite"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
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
// drv should come from libsql.Open: the foreign-key handling relies on its
// handling of PRAGMA foreign_keys (see the dialect/libsql package).
func Apply(ctx context.Context, drv dialect.Driver, dir migrate.Dir, opts ApplyOptions) ([]migrate.File, error) {
	if err := checkSum(dir); err != nil {
		return nil, err
	}
	if opts.Operator == "" {
		opts.Operator = "entlibsql"
	}
	// First without writing, so that a refusal (a database that needs a
	// baseline, a history out of order) leaves no trace.
	pending, err := pendingFiles(ctx, drv, dir, opts.Baseline, true, opts.Operator)
	if err != nil || len(pending) == 0 {
		return nil, err
	}
	if !opts.DryRun {
		if err := createRevisionsTable(ctx, drv); err != nil {
			return nil, err
		}
		// Again, writing the baseline revision if one is asked for.
		if pending, err = pendingFiles(ctx, drv, dir, opts.Baseline, false, opts.Operator); err != nil || len(pending) == 0 {
			return nil, err
		}
	}
	sum, err := dir.Checksum()
	if err != nil {
		return nil, err
	}
	a := &applier{drv: drv, sum: sum, opts: opts}
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

// checkSum verifies dir against atlas.sum, naming the file that differs.
func checkSum(dir migrate.Dir) error {
	err := migrate.Validate(dir)
	var ce *migrate.ChecksumError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return fmt.Errorf("atlas.sum does not match the migration directory (%s was %s since it was hashed): refusing to run anything; if the change is intended, rehash the directory", ce.File, ce.Reason)
	case errors.Is(err, migrate.ErrChecksumNotFound):
		return errors.New("the migration directory has no atlas.sum: refusing to run anything; hash the directory first")
	}
	return fmt.Errorf("checking atlas.sum: %w", err)
}

// pendingFiles asks Atlas's own executor which files are pending, so the
// rules (baseline, partially applied files, files added out of order) are
// Atlas's.
func pendingFiles(ctx context.Context, drv dialect.Driver, dir migrate.Dir, baseline string, dryRun bool, operator string) ([]migrate.File, error) {
	adrv, err := sqlite.Open(&stdConn{drv})
	if err != nil {
		return nil, err
	}
	exopts := []migrate.ExecutorOption{migrate.WithOperatorVersion(operator)}
	if baseline != "" {
		exopts = append(exopts, migrate.WithBaselineVersion(baseline))
	}
	ex, err := migrate.NewExecutor(adrv, dir, &revisions{conn: drv, dryRun: dryRun}, exopts...)
	if err != nil {
		return nil, err
	}
	pending, err := ex.Pending(ctx)
	var nc *migrate.NotCleanError
	switch {
	case errors.Is(err, migrate.ErrNoPendingFiles):
		return nil, nil
	case errors.As(err, &nc):
		return nil, fmt.Errorf("the database has tables but no migration revisions (%s): give the version it is at as the baseline", nc.Reason)
	}
	return pending, err
}

type applier struct {
	drv  dialect.Driver
	sum  migrate.HashFile
	opts ApplyOptions
}

func (a *applier) log(e ApplyEvent) {
	if a.opts.Log != nil {
		a.opts.Log(e)
	}
}

// file applies one migration file in one transaction.
func (a *applier) file(ctx context.Context, f migrate.File) (err error) {
	hash, err := a.sum.SumByName(f.Name())
	if err != nil {
		return fmt.Errorf("migration file %s: %w", f.Name(), err)
	}
	decls, err := f.StmtDecls()
	if err != nil {
		return &FileError{File: f.Name(), Err: fmt.Errorf("reading statements: %w", err)}
	}
	stmts := make([]string, len(decls))
	for i, d := range decls {
		stmts[i] = d.Text
	}
	store := &revisions{conn: a.drv, dryRun: a.opts.DryRun}
	rev, err := store.ReadRevision(ctx, f.Version())
	switch {
	case errors.Is(err, migrate.ErrRevisionNotExist):
		rev = &migrate.Revision{Version: f.Version(), Description: f.Desc(), Type: migrate.RevisionTypeExecute}
	case err != nil:
		return err
	case rev.Type.Has(migrate.RevisionTypeBaseline) || rev.Applied == rev.Total && rev.Error == "":
		return ErrConcurrentApply // completed since the pending files were listed
	}
	if err := checkPartial(f, stmts, rev); err != nil {
		return err
	}
	rev.Total, rev.Hash, rev.OperatorVersion = len(stmts), hash, a.opts.Operator
	if a.opts.DryRun {
		for _, s := range stmts[rev.Applied:] {
			a.log(ApplyEvent{File: f, Stmt: s})
		}
		a.log(ApplyEvent{File: f, Done: true, Stmts: len(stmts) - rev.Applied})
		return nil
	}
	start := time.Now()
	ran, err := a.run(ctx, f, stmts, rev)
	if errors.Is(err, ErrConcurrentApply) {
		return err
	}
	if err != nil {
		// The transaction rolled back: record the failure, unless another
		// run completed the file meanwhile.
		rev.ExecutionTime = time.Since(start)
		rev.Error = err.Error()
		var fe *FileError
		if errors.As(err, &fe) {
			rev.ErrorStmt = fe.Stmt
		}
		if werr := store.WriteRevision(ctx, rev); werr != nil {
			err = errors.Join(err, werr)
		}
		a.log(ApplyEvent{File: f, Err: err})
		return err
	}
	a.log(ApplyEvent{File: f, Done: true, Took: time.Since(start), Stmts: ran})
	return nil
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
		if "h1:"+base64.StdEncoding.EncodeToString(h.Sum(nil)) != rev.PartialHashes[i] && base64.StdEncoding.EncodeToString(h.Sum(nil)) != rev.PartialHashes[i] {
			return &FileError{File: f.Name(), Index: i + 1, Stmt: stmts[i], Err: errors.New("the statement changed since it was applied")}
		}
	}
	return nil
}

// run executes the rest of the file in a migration transaction and
// records the revision in it, returning the statements run.
func (a *applier) run(ctx context.Context, f migrate.File, stmts []string, rev *migrate.Revision) (ran int, err error) {
	// ent's protocol for a migration with foreign keys off: the libSQL
	// driver turns these into PRAGMA foreign_keys = off, BEGIN ... COMMIT
	// on one pinned stream, discarded after.
	var res sql.Result
	if err := a.drv.Exec(ctx, "PRAGMA foreign_keys = off", []any{}, &res); err != nil {
		return 0, fmt.Errorf("turning foreign keys off: %w", err)
	}
	defer func() {
		if err2 := a.drv.Exec(ctx, "PRAGMA foreign_keys = on", []any{}, &res); err2 != nil && err == nil {
			err = fmt.Errorf("turning foreign keys back on: %w", err2)
		}
	}()
	tx, err := a.drv.Tx(ctx)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
				err = errors.Join(err, fmt.Errorf("rolling back: %w", rerr))
			}
		}
	}()
	before, err := fkViolations(ctx, tx)
	if err != nil {
		return 0, err
	}
	if err := a.claim(ctx, tx, rev); err != nil {
		return 0, err
	}
	from := rev.Applied
	for i, s := range stmts[from:] {
		a.log(ApplyEvent{File: f, Stmt: s})
		if err := tx.Exec(ctx, s, []any{}, &res); err != nil {
			return 0, &FileError{File: f.Name(), Stmt: s, Index: from + i + 1, Err: unwrapMigration(err, s)}
		}
	}
	after, err := fkViolations(ctx, tx)
	if err != nil {
		return 0, err
	}
	if fresh := newViolations(before, after); len(fresh) > 0 {
		return 0, &FileError{File: f.Name(), Err: fmt.Errorf("foreign keys would be broken: %s", strings.Join(fresh, "; "))}
	}
	rev.Applied, rev.PartialHashes, rev.Error, rev.ErrorStmt = len(stmts), nil, "", ""
	rev.ExecutionTime = 0
	if err := (&revisions{conn: tx}).WriteRevision(ctx, rev); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, &FileError{File: f.Name(), Err: fmt.Errorf("COMMIT: %w", err)}
	}
	return len(stmts) - from, nil
}

// claim records the file as started, unless its row records it completed
// (by another run, meanwhile): then nothing of it runs again. The
// migration transaction began with BEGIN IMMEDIATE, so it holds the write
// lock and reads the latest rows.
func (a *applier) claim(ctx context.Context, tx dialect.Tx, rev *migrate.Revision) error {
	started := *rev
	started.Error, started.ErrorStmt = "", ""
	if started.Total == started.Applied {
		started.Total++ // an empty file: still "not complete" while it runs
	}
	written, err := (&revisions{conn: tx}).write(ctx, &started)
	if err != nil {
		return err
	}
	if !written {
		return ErrConcurrentApply
	}
	return nil
}

// unwrapMigration drops the libSQL driver's "migration statement failed:
// <stmt>" prefix: FileError names the statement already.
func unwrapMigration(err error, stmt string) error {
	if u := errors.Unwrap(err); u != nil && strings.Contains(err.Error(), stmt) {
		return u
	}
	return err
}

// fkViolations reads PRAGMA foreign_key_check as "table row N references
// parent" lines.
func fkViolations(ctx context.Context, conn dialect.ExecQuerier) ([]string, error) {
	var rows entsql.Rows
	if err := conn.Query(ctx, "PRAGMA foreign_key_check", []any{}, &rows); err != nil {
		return nil, fmt.Errorf("checking foreign keys: %w", err)
	}
	defer rows.Close()
	var vs []string
	for rows.Next() {
		var (
			table, parent string
			rowid         sql.NullInt64
			fkid          int64
		)
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return nil, fmt.Errorf("checking foreign keys: %w", err)
		}
		vs = append(vs, fmt.Sprintf("%s row %d references a missing %s row", table, rowid.Int64, parent))
	}
	return vs, rows.Err()
}

// newViolations is after minus before, as multisets.
func newViolations(before, after []string) []string {
	seen := map[string]int{}
	for _, v := range before {
		seen[v]++
	}
	var fresh []string
	for _, v := range after {
		if seen[v] > 0 {
			seen[v]--
			continue
		}
		fresh = append(fresh, v)
	}
	return fresh
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
