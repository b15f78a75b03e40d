package schema

import (
	"context"
	"fmt"
	"strings"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// A dev database must hold nothing before Diff replays the directory on it,
// and holds nothing after: ent's replay drops only the tables it finds, so
// a view would stay (and the next replay fail with "view ... already
// exists"), and so would sqlite_sequence's rows. Atlas's own cleanup needs
// PRAGMA writable_schema, which sqld refuses. Here every object is dropped
// by name.

// devObject is an entry of sqlite_schema.
type devObject struct{ typ, name, sql string }

// dropOrder: triggers and views first (they name tables), then indexes (a
// libSQL vector index takes its shadow table with it), virtual tables
// (their shadow tables go with them), then the tables.
var dropOrder = []string{"trigger", "view", "index", "virtual", "table"}

// devObjects lists what the database holds besides SQLite's own objects
// (sqlite_sequence, sqlite_stat1, automatic indexes).
func devObjects(ctx context.Context, conn dialect.ExecQuerier) ([]devObject, error) {
	var rows entsql.Rows
	err := conn.Query(ctx, "SELECT type, name, coalesce(sql, '') FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid", []any{}, &rows)
	if err != nil {
		return nil, fmt.Errorf("listing the dev database's objects: %w", err)
	}
	defer rows.Close()
	var objs []devObject
	for rows.Next() {
		var o devObject
		if err := rows.Scan(&o.typ, &o.name, &o.sql); err != nil {
			return nil, err
		}
		if o.typ == "table" && strings.HasPrefix(strings.ToUpper(strings.TrimSpace(o.sql)), "CREATE VIRTUAL TABLE") {
			o.typ = "virtual"
		}
		objs = append(objs, o)
	}
	return objs, rows.Err()
}

// checkEmptyDev refuses a dev database that holds anything: emptying it
// afterwards would destroy it.
func checkEmptyDev(ctx context.Context, conn dialect.ExecQuerier) error {
	objs, err := devObjects(ctx, conn)
	if err != nil {
		return err
	}
	return notEmpty(objs)
}

// notEmpty is the refusal of a dev database holding objs, nil if none.
func notEmpty(objs []devObject) error {
	if len(objs) == 0 {
		return nil
	}
	kind := objs[0].typ
	if kind == "virtual" {
		kind = "virtual table"
	}
	return fmt.Errorf("the dev database must be empty (found %s %q, and %d objects in all): give a scratch database, never the one you migrate", kind, objs[0].name, len(objs))
}

// emptyDev drops every object, with foreign keys off, round after round
// until none is left (dropping one may take others with it), and clears
// sqlite_sequence.
func emptyDev(ctx context.Context, conn dialect.ExecQuerier) error {
	if err := conn.Exec(ctx, "PRAGMA foreign_keys = off", []any{}, nil); err != nil {
		return fmt.Errorf("emptying the dev database: %w", err)
	}
	defer conn.Exec(ctx, "PRAGMA foreign_keys = on", []any{}, nil) //nolint:errcheck // the connection is discarded after
	const rounds = 5
	var dropErr error
	for round := 0; ; round++ {
		objs, err := devObjects(ctx, conn)
		switch {
		case err != nil:
			return err
		case len(objs) == 0:
			return clearSequence(ctx, conn)
		case round == rounds && dropErr != nil:
			return dropErr
		case round == rounds:
			return fmt.Errorf("emptying the dev database: %d objects are left after dropping, such as %s %q", len(objs), objs[0].typ, objs[0].name)
		}
		dropErr = nil
		for _, typ := range dropOrder {
			for _, o := range objs {
				if o.typ != typ {
					continue
				}
				kw := strings.ToUpper(o.typ)
				if o.typ == "virtual" {
					kw = "TABLE"
				}
				// IF EXISTS: an earlier drop may have taken it along.
				if err := conn.Exec(ctx, fmt.Sprintf("DROP %s IF EXISTS %s", kw, quoteIdent(o.name)), []any{}, nil); err != nil && dropErr == nil {
					dropErr = fmt.Errorf("emptying the dev database: dropping %s %q: %w", o.typ, o.name, err)
				}
			}
		}
	}
}

// clearSequence empties sqlite_sequence, which SQLite keeps once an
// AUTOINCREMENT table has existed and which cannot be dropped.
func clearSequence(ctx context.Context, conn dialect.ExecQuerier) error {
	var rows entsql.Rows
	if err := conn.Query(ctx, "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_sequence'", []any{}, &rows); err != nil {
		return fmt.Errorf("emptying the dev database: %w", err)
	}
	var n int
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	if n == 0 {
		return nil
	}
	if err := conn.Exec(ctx, "DELETE FROM sqlite_sequence", []any{}, nil); err != nil {
		return fmt.Errorf("emptying the dev database: clearing sqlite_sequence: %w", err)
	}
	return nil
}

// quoteIdent quotes a name for SQLite with backquotes, as ent does.
func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}
