// Package rebuild makes table rebuilds keep what a table holds beyond its
// declared schema. SQLite changes most of a table by rebuilding it: create
// new_t, copy the rows, drop t, rename new_t to t. Dropping t drops its
// indexes, triggers and statistics, and the new table has only what the
// planner declared: columns, options and constraints the database held
// beyond that are lost, and a view that reads t makes the rename fail.
//
// Keep completes each rebuild of a plan from the database's catalog;
// Losses finds what a migration lost by comparing the catalog before and
// after it. The package reads SQL text only (no Atlas), so that the
// driver can guard ent's plans with it.
package rebuild

import (
	"context"
	"database/sql"
	"fmt"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/entlibsql/entlibsql/internal/ddl"
)

// Catalog is a database's schema as sqlite_master holds it, with the
// statistics of sqlite_stat1.
type Catalog struct {
	Objects []Object // in sqlite_master's order, the order they were made in
	Stats   []Stat
}

// Object is one row of sqlite_master.
type Object struct {
	Type  string // "table", "index", "view" or "trigger"
	Name  string
	Table string // the table (or view) an index or trigger is on
	SQL   string // "" for the indexes SQLite makes for PRIMARY KEY and UNIQUE
}

// Stat is one row of sqlite_stat1.
type Stat struct {
	Table string
	Index sql.NullString // NULL for a table without indexes
	Stat  string
}

// Read reads the catalog through q: a migration transaction, so that it
// sees the database as the migration does, or a driver.
func Read(ctx context.Context, q dialect.ExecQuerier) (*Catalog, error) {
	c := &Catalog{}
	err := query(ctx, q, "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY rowid", func(rows *entsql.Rows) error {
		var o Object
		if err := rows.Scan(&o.Type, &o.Name, &o.Table, &o.SQL); err != nil {
			return err
		}
		c.Objects = append(c.Objects, o)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the schema: %w", err)
	}
	if _, ok := c.object("table", "sqlite_stat1"); !ok {
		return c, nil
	}
	err = query(ctx, q, "SELECT tbl, idx, stat FROM sqlite_stat1", func(rows *entsql.Rows) error {
		var s Stat
		var stat sql.NullString
		if err := rows.Scan(&s.Table, &s.Index, &stat); err != nil {
			return err
		}
		s.Stat = stat.String
		c.Stats = append(c.Stats, s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the statistics: %w", err)
	}
	return c, nil
}

func query(ctx context.Context, q dialect.ExecQuerier, stmt string, row func(*entsql.Rows) error) error {
	var rows entsql.Rows
	if err := q.Query(ctx, stmt, []any{}, &rows); err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(&rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

func (c *Catalog) object(typ, name string) (Object, bool) {
	for _, o := range c.Objects {
		if o.Type == typ && ddl.SameName(o.Name, name) {
			return o, true
		}
	}
	return Object{}, false
}

// Table returns the definition of table name, taken apart.
func (c *Catalog) Table(name string) (*ddl.Table, bool) {
	o, ok := c.object("table", name)
	if !ok {
		return nil, false
	}
	return ddl.ParseCreateTable(o.SQL)
}

// HasTable reports whether table name exists.
func (c *Catalog) HasTable(name string) bool {
	_, ok := c.object("table", name)
	return ok
}

// On returns the objects of type typ ("index" or "trigger") on table,
// leaving out the indexes SQLite makes for constraints.
func (c *Catalog) On(typ, table string) []Object {
	var on []Object
	for _, o := range c.Objects {
		if o.Type == typ && o.SQL != "" && ddl.SameName(o.Table, table) {
			on = append(on, o)
		}
	}
	return on
}

// AutoIndexes counts the indexes SQLite made for the PRIMARY KEY and
// UNIQUE constraints of table.
func (c *Catalog) AutoIndexes(table string) int {
	n := 0
	for _, o := range c.Objects {
		if o.Type == "index" && o.SQL == "" && ddl.SameName(o.Table, table) {
			n++
		}
	}
	return n
}

// StatsOf returns the statistics rows of table.
func (c *Catalog) StatsOf(table string) []Stat {
	var st []Stat
	for _, s := range c.Stats {
		if ddl.SameName(s.Table, table) {
			st = append(st, s)
		}
	}
	return st
}

// Dependents returns the views and the triggers of other tables that
// name table, the views and triggers that name those views, and the
// triggers on those views, in the catalog's order. SQLite checks them all
// when a table is renamed: while table is missing, the rename that ends a
// rebuild fails on them ("error in view v: no such table").
func (c *Catalog) Dependents(table string) []Object {
	names := map[string]bool{ddl.FoldName(table): true}
	in := map[int]bool{}
	for changed := true; changed; {
		changed = false
		for i, o := range c.Objects {
			if in[i] || o.Type != "view" && o.Type != "trigger" || o.SQL == "" {
				continue
			}
			if o.Type == "trigger" && ddl.SameName(o.Table, table) {
				continue // on the table itself: it goes with the table
			}
			if names[ddl.FoldName(o.Table)] && o.Type == "trigger" || mentionsAny(o.SQL, names) {
				in[i] = true
				changed = true
				if o.Type == "view" {
					names[ddl.FoldName(o.Name)] = true
				}
			}
		}
	}
	var deps []Object
	for i, o := range c.Objects {
		if in[i] {
			deps = append(deps, o)
		}
	}
	return deps
}

func mentionsAny(sql string, folded map[string]bool) bool {
	for _, t := range ddl.Tokens(sql) {
		if (t.Kind == ddl.Word || t.Kind == ddl.Quoted) && folded[ddl.FoldName(t.Name())] {
			return true
		}
	}
	return false
}
