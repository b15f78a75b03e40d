package schema

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	entschema "entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"
)

// RevisionsTable is where applied migration files are recorded: the table
// the Atlas CLI keeps, with its columns, so that either tool can continue
// the other's work on a database.
const RevisionsTable = "atlas_schema_revisions"

// atlasIdentifier is the row the Atlas CLI keeps in RevisionsTable to name
// the database (its version sorts before every real version). It is not a
// revision.
const atlasIdentifier = ".atlas_cloud_identifier"

// revisionTimeFormat is how executed_at is written: the format ent's
// sqlite3 driver (go-sqlite3), and so the Atlas CLI, writes and reads.
const revisionTimeFormat = "2006-01-02 15:04:05.999999999-07:00"

// revisionsTable is RevisionsTable as the Atlas CLI defines it (an ent
// schema of its own), so creating it through ent gives the same DDL.
func revisionsTable() *entschema.Table {
	cols := []*entschema.Column{
		{Name: "version", Type: field.TypeString},
		{Name: "description", Type: field.TypeString},
		{Name: "type", Type: field.TypeUint, Default: 2},
		{Name: "applied", Type: field.TypeInt, Default: 0},
		{Name: "total", Type: field.TypeInt, Default: 0},
		{Name: "executed_at", Type: field.TypeTime},
		{Name: "execution_time", Type: field.TypeInt64},
		{Name: "error", Type: field.TypeString, Nullable: true, Size: 2147483647},
		{Name: "error_stmt", Type: field.TypeString, Nullable: true, Size: 2147483647},
		{Name: "hash", Type: field.TypeString},
		{Name: "partial_hashes", Type: field.TypeJSON, Nullable: true},
		{Name: "operator_version", Type: field.TypeString},
	}
	return &entschema.Table{Name: RevisionsTable, Columns: cols, PrimaryKey: cols[:1]}
}

// completeRow and completeNew tell, in SQL, whether the stored row and the
// new values record a completed file.
const (
	completeRow = "(" + RevisionsTable + ".applied = " + RevisionsTable + ".total AND coalesce(" + RevisionsTable + ".error, '') = '')"
	completeNew = "(excluded.applied = excluded.total AND coalesce(excluded.error, '') = '')"
)

const revisionColumns = "version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version"

// revisions reads and writes RevisionsTable through an ent driver or
// transaction. It implements Atlas's migrate.RevisionReadWriter, so
// Atlas's own rules decide which files are pending.
type revisions struct {
	conn           dialect.ExecQuerier
	dryRun         bool // write nothing
	hideRolledBack bool // ReadRevisions leaves out rows of rolled-back files
	created        bool // the table is known to exist: reads skip the check
}

var _ migrate.RevisionReadWriter = (*revisions)(nil)

// createRevisionsTable creates RevisionsTable if it is missing, the way
// the Atlas CLI does: an ent migration of that one table.
func createRevisionsTable(ctx context.Context, drv dialect.Driver) error {
	m, err := entschema.NewMigrate(drv)
	if err != nil {
		return err
	}
	if err := m.Create(ctx, revisionsTable()); err != nil {
		// Another run may have created it meanwhile.
		if ok, err2 := revisionsExist(ctx, drv); err2 == nil && ok {
			return nil
		}
		return fmt.Errorf("creating %s: %w", RevisionsTable, err)
	}
	return nil
}

// revisionsExist reports whether RevisionsTable exists.
func revisionsExist(ctx context.Context, conn dialect.ExecQuerier) (bool, error) {
	var rows entsql.Rows
	if err := conn.Query(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", []any{RevisionsTable}, &rows); err != nil {
		return false, err
	}
	defer rows.Close()
	n, err := entsql.ScanInt(rows)
	return n > 0, err
}

func (*revisions) Ident() *migrate.TableIdent { return &migrate.TableIdent{Name: RevisionsTable} }

// ReadRevisions returns the revisions in version order; none when the
// table does not exist yet.
func (r *revisions) ReadRevisions(ctx context.Context) ([]*migrate.Revision, error) {
	revs, err := r.read(ctx, "version <> ? ORDER BY version", atlasIdentifier)
	if err != nil || !r.hideRolledBack {
		return revs, err
	}
	kept := revs[:0]
	for _, rev := range revs {
		if !rolledBack(rev) {
			kept = append(kept, rev)
		}
	}
	return kept, nil
}

// ReadRevision returns one revision, or migrate.ErrRevisionNotExist.
func (r *revisions) ReadRevision(ctx context.Context, version string) (*migrate.Revision, error) {
	revs, err := r.read(ctx, "version = ? AND version <> ?", version, atlasIdentifier)
	if err != nil {
		return nil, err
	}
	if len(revs) == 0 {
		return nil, migrate.ErrRevisionNotExist
	}
	return revs[0], nil
}

func (r *revisions) read(ctx context.Context, where string, args ...any) ([]*migrate.Revision, error) {
	if !r.created {
		ok, err := revisionsExist(ctx, r.conn)
		if err != nil || !ok {
			return nil, err
		}
	}
	var rows entsql.Rows
	if err := r.conn.Query(ctx, "SELECT "+revisionColumns+" FROM "+RevisionsTable+" WHERE "+where, args, &rows); err != nil {
		return nil, fmt.Errorf("reading %s: %w", RevisionsTable, err)
	}
	defer rows.Close()
	var revs []*migrate.Revision
	for rows.Next() {
		rev, err := scanRevision(&rows)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", RevisionsTable, err)
		}
		revs = append(revs, rev)
	}
	return revs, rows.Err()
}

func scanRevision(rows *entsql.Rows) (*migrate.Revision, error) {
	var (
		rev                 migrate.Revision
		executedAt          any
		execNanos           int64
		errText, errStmt    sql.NullString
		partial             sql.NullString
		typ, applied, total int64
		version, desc, hash string
		operator            sql.NullString
	)
	if err := rows.Scan(&version, &desc, &typ, &applied, &total, &executedAt, &execNanos, &errText, &errStmt, &hash, &partial, &operator); err != nil {
		return nil, err
	}
	at, err := revisionTime(executedAt)
	if err != nil {
		return nil, fmt.Errorf("version %s: %w", version, err)
	}
	rev = migrate.Revision{
		Version: version, Description: desc, Type: migrate.RevisionType(typ),
		Applied: int(applied), Total: int(total), ExecutedAt: at, ExecutionTime: time.Duration(execNanos),
		Error: errText.String, ErrorStmt: errStmt.String, Hash: hash, OperatorVersion: operator.String,
	}
	if partial.Valid && partial.String != "" && partial.String != "null" {
		if err := json.Unmarshal([]byte(partial.String), &rev.PartialHashes); err != nil {
			return nil, fmt.Errorf("version %s: partial_hashes: %w", version, err)
		}
	}
	return &rev, nil
}

// revisionTime reads executed_at as written by this package, by the Atlas
// CLI through go-sqlite3, or by any driver that returns time.Time.
func revisionTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case []byte:
		return revisionTime(string(x))
	case string:
		for _, f := range []string{revisionTimeFormat, time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
			if t, err := time.Parse(f, x); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("executed_at: cannot read %q as a time", x)
	case int64:
		return time.Unix(x, 0), nil
	}
	return time.Time{}, fmt.Errorf("executed_at: cannot read %T as a time", v)
}

// WriteRevision inserts or updates a revision. As the Atlas CLI does, the
// version, description and executed_at of an existing row stay. A row
// that records a completed file is never turned back into a failed or
// partial one: a run that failed because another completed the file
// meanwhile must not undo that record.
func (r *revisions) WriteRevision(ctx context.Context, rev *migrate.Revision) error {
	_, err := r.write(ctx, rev, false)
	return err
}

// write is WriteRevision; with counted it reports whether a row was
// written (false when a completed row was kept). Without, it asks for no
// result, so that in a migration transaction the write can travel with
// the statements before it and COMMIT.
func (r *revisions) write(ctx context.Context, rev *migrate.Revision, counted bool) (bool, error) {
	if r.dryRun {
		return true, nil
	}
	if rev.Version == atlasIdentifier {
		return false, errors.New("writing the Atlas identifier row as a revision is not allowed")
	}
	var partial any
	if len(rev.PartialHashes) > 0 {
		b, err := json.Marshal(rev.PartialHashes)
		if err != nil {
			return false, err
		}
		partial = string(b)
	}
	var errText, errStmt any
	if rev.Error != "" {
		errText, errStmt = rev.Error, rev.ErrorStmt
	}
	at := rev.ExecutedAt
	if at.IsZero() {
		at = time.Now()
	}
	const upsert = "INSERT INTO " + RevisionsTable + " (" + revisionColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" +
		" ON CONFLICT (version) DO UPDATE SET type = excluded.type, applied = excluded.applied, total = excluded.total," +
		" execution_time = excluded.execution_time, error = excluded.error, error_stmt = excluded.error_stmt," +
		" hash = excluded.hash, partial_hashes = excluded.partial_hashes, operator_version = excluded.operator_version" +
		" WHERE NOT (" + completeRow + " AND NOT (" + completeNew + "))"
	args := []any{rev.Version, rev.Description, int64(rev.Type), rev.Applied, rev.Total, at.Format(revisionTimeFormat),
		int64(rev.ExecutionTime), errText, errStmt, rev.Hash, partial, rev.OperatorVersion}
	var res sql.Result
	var v any
	if counted {
		v = &res
	}
	if err := r.conn.Exec(ctx, upsert, args, v); err != nil {
		return false, fmt.Errorf("recording version %s in %s: %w", rev.Version, RevisionsTable, err)
	}
	if !counted {
		return true, nil
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// DeleteRevision deletes a revision.
func (r *revisions) DeleteRevision(ctx context.Context, version string) error {
	if r.dryRun {
		return nil
	}
	var res sql.Result
	return r.conn.Exec(ctx, "DELETE FROM "+RevisionsTable+" WHERE version = ? AND version <> ?", []any{version, atlasIdentifier}, &res)
}
