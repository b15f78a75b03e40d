package rebuild

import (
	"context"
	"fmt"

	"github.com/entlibsql/entlibsql/internal/ddl"
)

// Losses lists what table held in before and no longer holds in after,
// beyond the rows: the objects a rebuild that only recreated the declared
// schema drops. A table missing from either catalog has none (it is new,
// or dropped on purpose).
func Losses(before, after *Catalog, table string) []string {
	if !before.HasTable(table) || !after.HasTable(table) {
		return nil
	}
	var lost []string
	b, ok1 := before.Table(table)
	a, ok2 := after.Table(table)
	if ok1 && ok2 {
		for _, c := range b.Columns {
			ac := a.Column(c.Name)
			switch {
			case ac == nil:
				lost = append(lost, fmt.Sprintf("column %q with its values", c.Name))
			case c.Generated && !ac.Generated:
				lost = append(lost, fmt.Sprintf("the generated expression of column %q", c.Name))
			case c.Collate != "" && !ddl.SameName(c.Collate, ac.Collate):
				lost = append(lost, fmt.Sprintf("COLLATE %s of column %q", c.Collate, c.Name))
			}
		}
		for _, o := range []string{ddl.Strict, ddl.WithoutRowID, ddl.RandomRowID} {
			if b.HasOption(o) && !a.HasOption(o) {
				lost = append(lost, "table option "+o)
			}
		}
	}
	for _, kind := range []string{"index", "trigger"} {
		for _, o := range before.On(kind, table) {
			if !has(after.On(kind, table), o.Name) {
				lost = append(lost, fmt.Sprintf("%s %q", kind, o.Name))
			}
		}
	}
	if n, m := before.AutoIndexes(table), after.AutoIndexes(table); m < n {
		lost = append(lost, fmt.Sprintf("%d UNIQUE or PRIMARY KEY constraint index(es)", n-m))
	}
	if n, m := len(before.StatsOf(table)), len(after.StatsOf(table)); m < n {
		lost = append(lost, fmt.Sprintf("%d of its %d sqlite_stat1 rows", n-m, n))
	}
	return lost
}

func has(objs []Object, name string) bool {
	for _, o := range objs {
		if ddl.SameName(o.Name, name) {
			return true
		}
	}
	return false
}

// Describe names objects for an error message: view "v", trigger "t" on "x".
func Describe(objs []Object) []string {
	var ds []string
	for _, o := range objs {
		if o.Type == "trigger" {
			ds = append(ds, fmt.Sprintf("trigger %q on %q", o.Name, o.Table))
		} else {
			ds = append(ds, fmt.Sprintf("%s %q", o.Type, o.Name))
		}
	}
	return ds
}

type keptKey struct{}

// Kept marks ctx as carrying statements of a plan Keep completed: the
// driver's own guard of ent's rebuilds (see Losses) leaves them alone.
func Kept(ctx context.Context) context.Context { return context.WithValue(ctx, keptKey{}, true) }

// IsKept reports whether ctx was marked by Kept.
func IsKept(ctx context.Context) bool { v, _ := ctx.Value(keptKey{}).(bool); return v }
