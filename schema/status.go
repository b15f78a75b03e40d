package schema

import (
	"context"
	"database/sql"
	"errors"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// StatusReport is where a database stands against a migration directory.
type StatusReport struct {
	// Current is the version of the last file applied whole (or of the
	// baseline), "" if none.
	Current string
	// Applied are the database's revisions, in version order (a failed
	// file's too).
	Applied []*migrate.Revision
	// Pending are the files Apply would run, in order.
	Pending []migrate.File
	// Failed is the last revision if its file failed or was left partly
	// applied; Apply starts again from it.
	Failed *migrate.Revision
}

// UpToDate reports whether nothing is pending.
func (r *StatusReport) UpToDate() bool { return len(r.Pending) == 0 }

// Status reports which files of dir drv's database has applied and which
// are pending. It changes nothing. Like Apply, it refuses a directory that
// does not match its atlas.sum.
func Status(ctx context.Context, drv dialect.Driver, dir migrate.Dir, baseline string) (*StatusReport, error) {
	if err := checkSum(dir); err != nil {
		return nil, err
	}
	store := &revisions{conn: drv, dryRun: true}
	revs, err := store.ReadRevisions(ctx)
	if err != nil {
		return nil, err
	}
	adrv, err := atlasDriver(drv)
	if err != nil {
		return nil, err
	}
	pending, err := pendingFiles(ctx, adrv, drv, dir, baseline, true, "")
	if err != nil {
		return nil, err
	}
	files, err := versions(dir)
	if err != nil {
		return nil, err
	}
	r := &StatusReport{Applied: revs, Pending: pending}
	for _, rev := range revs {
		switch {
		case rolledBack(rev) && !files[rev.Version]:
			// Failed, then deleted or renamed: nothing to report.
		case !complete(rev) && !rev.Type.Has(migrate.RevisionTypeBaseline):
			r.Failed = rev
		default:
			r.Current, r.Failed = rev.Version, nil
		}
	}
	return r, nil
}

// Hash writes dir's atlas.sum, as `atlas migrate hash` does, after
// hand-editing a migration file on purpose.
func Hash(dir migrate.Dir) error {
	sum, err := dir.Checksum()
	if err != nil {
		return err
	}
	return migrate.WriteSumFile(dir, sum)
}

// stdConn gives an ent driver the database/sql-style methods Atlas's
// drivers call.
type stdConn struct{ dialect.ExecQuerier }

func (c *stdConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	var rows entsql.Rows
	if err := c.ExecQuerier.Query(ctx, query, args, &rows); err != nil {
		return nil, err
	}
	r, ok := rows.ColumnScanner.(*sql.Rows)
	if !ok {
		return nil, errors.New("the driver's rows are not *sql.Rows")
	}
	return r, nil
}

func (c *stdConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	if err := c.ExecQuerier.Exec(ctx, query, args, &res); err != nil {
		return nil, err
	}
	return res, nil
}
