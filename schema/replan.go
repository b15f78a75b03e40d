package schema

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"ariga.io/atlas/sql/migrate"
	atlas "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"
	"entgo.io/ent/dialect"
	entschema "entgo.io/ent/dialect/sql/schema"

	"github.com/entlibsql/entlibsql/internal/rebuild"
)

// ent's Schema.Create inspects the database and plans on the pool, then
// opens the migration transaction, where the driver's BEGIN IMMEDIATE
// makes concurrent migrations (app instances starting at once) queue.
// Each would then apply a plan made before it held the lock: the first
// adds the column, the next fail with "duplicate column name", or
// rebuild the table again.
//
// So WithLibSQL's diff hook keeps what the inspection saw and how to
// diff again; its apply hook, inside the transaction, compares that with
// the catalog (one query over sqlite_master, which the rebuilds read
// anyway) and only where they differ inspects again through the
// transaction, diffs against the same desired schema with the same
// hooks, and plans again: an empty plan then changes nothing. An
// up-to-date database has no plan, so nothing is checked.

// Hooks returns WithLibSQL's diff and apply hooks, for
// entschema.WithDiffHook and entschema.WithApplyHook among hooks of
// your own, tied to each other: the apply hook checks under the
// migration's lock that the plan still holds, from what the diff hook
// saw. Take a new pair for each migrate.NewMigrate (as WithLibSQL does).
// A plan made again under the lock comes from the diff hook on: diff
// hooks given before it (outside it) see only the first diff.
func Hooks() (entschema.DiffHook, entschema.ApplyHook) {
	s := &session{}
	return s.diffHook, s.applyHook
}

// session is one Migrate's pair of hooks: ent's Create diffs, then
// applies, one after the other.
type session struct {
	mu   sync.Mutex
	last *inspected // the last diff that planned changes
}

func (s *session) diffHook(next entschema.Differ) entschema.Differ {
	diff := libsqlDiff(next)
	return entschema.DiffFunc(func(current, desired *atlas.Schema) ([]atlas.Change, error) {
		changes, err := diff(current, desired)
		var in *inspected
		if err == nil && len(changes) > 0 {
			in = newInspected(current, desired, diff)
		}
		s.mu.Lock()
		s.last = in
		s.mu.Unlock()
		return changes, err
	})
}

func (s *session) applyHook(next entschema.Applier) entschema.Applier {
	return applyHook(next, func() *inspected {
		s.mu.Lock()
		defer s.mu.Unlock()
		in := s.last
		s.last = nil
		return in
	})
}

// inspected is what a diff was made from.
type inspected struct {
	schema  string   // the inspected schema's name
	tables  []string // the tables ent asked Atlas to inspect
	objects []string // what the inspection saw of them (see inspectedObjects)
	desired *atlas.Schema
	diff    func(current, desired *atlas.Schema) ([]atlas.Change, error)
}

func newInspected(current, desired *atlas.Schema, diff func(current, desired *atlas.Schema) ([]atlas.Change, error)) *inspected {
	in := &inspected{schema: current.Name, objects: inspectedObjects(current), desired: desired, diff: diff}
	seen := map[string]bool{}
	for _, ts := range [][]*atlas.Table{desired.Tables, current.Tables} {
		for _, t := range ts {
			if !seen[t.Name] {
				seen[t.Name] = true
				in.tables = append(in.tables, t.Name)
			}
		}
	}
	return in
}

// inspectedObjects is what Atlas's inspection of current read from
// sqlite_master: each table's CREATE statement and its indexes' (the
// indexes SQLite makes for constraints follow from the table's). The
// columns, foreign keys and options it read follow from them too.
func inspectedObjects(current *atlas.Schema) []string {
	var out []string
	for _, t := range current.Tables {
		out = append(out, objectKey("table", t.Name, t.Name, createStmt(t.Attrs)))
		for _, idx := range t.Indexes {
			if s := createStmt(idx.Attrs); s != "" {
				out = append(out, objectKey("index", idx.Name, t.Name, s))
			}
		}
	}
	slices.Sort(out)
	return out
}

// catalogObjects is the same read from cat, for the tables asked: those
// Atlas's inspection query would find (names compared as its IN does;
// SQLite's and libSQL's own tables left out as its NOT LIKE does).
func catalogObjects(cat *rebuild.Catalog, asked []string) []string {
	tables := map[string]bool{}
	var out []string
	for _, o := range cat.Objects {
		if o.Type == "table" && slices.Contains(asked, o.Name) && !likePrefix(o.Name, "sqlite") && !likePrefix(o.Name, "libsql") {
			tables[o.Name] = true
			out = append(out, objectKey("table", o.Name, o.Name, o.SQL))
		}
	}
	for _, o := range cat.Objects {
		if o.Type == "index" && o.SQL != "" && tables[o.Table] {
			out = append(out, objectKey("index", o.Name, o.Table, o.SQL))
		}
	}
	slices.Sort(out)
	return out
}

// likePrefix reports whether name is LIKE 'prefix_%': the prefix, any
// character, anything (LIKE folds ASCII case).
func likePrefix(name, prefix string) bool {
	return len(name) > len(prefix) && strings.EqualFold(name[:len(prefix)], prefix)
}

func objectKey(typ, name, table, sql string) string {
	return typ + "\x00" + name + "\x00" + table + "\x00" + strings.TrimSpace(sql)
}

func createStmt(attrs []atlas.Attr) string {
	for _, a := range attrs {
		if s, ok := a.(*sqlite.CreateStmt); ok {
			return s.S
		}
	}
	return ""
}

// holding returns the plan to apply under the migration's lock: plan
// itself if the tables are still what its diff was made from, else a new
// plan from the database as it is now (possibly empty). p reads the
// catalog through the migration's transaction conn.
func (in *inspected) holding(ctx context.Context, conn dialect.ExecQuerier, p *planner, plan *migrate.Plan) (*migrate.Plan, error) {
	cat, err := p.readCatalog(ctx)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	if slices.Equal(catalogObjects(cat, in.tables), in.objects) {
		return plan, nil
	}
	drv, err := sqlite.Open(&stdConn{conn})
	if err != nil {
		return nil, err
	}
	current, err := drv.InspectSchema(ctx, in.schema, &atlas.InspectOptions{
		Tables: in.tables,
		Mode:   atlas.InspectSchemas | atlas.InspectTables,
	})
	if err != nil {
		return nil, fmt.Errorf("schema: inspecting the tables again, another migration having changed them since they were planned: %w", err)
	}
	changes, err := in.diff(current, in.desired)
	if err != nil {
		return nil, err
	}
	// As ent does: tables only.
	changes = slices.DeleteFunc(changes, func(c atlas.Change) bool {
		switch c.(type) {
		case *atlas.AddTable, *atlas.ModifyTable:
			return false
		}
		return true
	})
	out, err := drv.PlanChanges(ctx, plan.Name, changes, func(o *migrate.PlanOptions) {
		var none string
		o.SchemaQualifier = &none
	})
	if err != nil {
		return nil, err
	}
	ranges, err := pkRanges(ctx, conn, cat, plan, in.desired)
	if err != nil {
		return nil, err
	}
	out.Changes = append(out.Changes, ranges...)
	return out, nil
}

// pkRanges is ent's change of plan that allocates universal-ID ranges
// (WithGlobalUniqueID) to new tables, for the types the ent_types table
// still lacks; none if another migration allocated them meanwhile, an
// error if it allocated other ranges than the desired tables were given.
func pkRanges(ctx context.Context, conn dialect.ExecQuerier, cat *rebuild.Catalog, plan *migrate.Plan, desired *atlas.Schema) ([]*migrate.Change, error) {
	var ranges *migrate.Change
	for _, c := range plan.Changes {
		if c.Source == nil && strings.HasPrefix(c.Comment, "add pk ranges for ") {
			ranges = c
		}
	}
	if ranges == nil {
		return nil, nil
	}
	// ent's comment lists the types as its INSERT's values:
	// "add pk ranges for ('t1'),('t2') tables".
	wanted := strings.Split(strings.TrimSuffix(strings.TrimPrefix(ranges.Comment, "add pk ranges for "), " tables"), ",")
	for i, w := range wanted {
		wanted[i] = strings.TrimSuffix(strings.TrimPrefix(w, "('"), "')")
	}
	var have []string
	if cat.HasTable(entschema.TypeTable) {
		var err error
		if have, err = entTypes(ctx, conn); err != nil {
			return nil, err
		}
	}
	var missing []string
	for _, name := range wanted {
		at := slices.Index(have, name)
		want := rangeOf(desired, name)
		if at < 0 {
			at = len(have) + len(missing)
			missing = append(missing, name)
		}
		if want >= 0 && int64(at) != want {
			return nil, fmt.Errorf("schema: another migration allocated universal-ID ranges meanwhile, and table %q would not get the range it was planned with: run the migration again", name)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	values := make([]string, len(missing))
	for i, name := range missing {
		values[i] = fmt.Sprintf("('%s')", name)
	}
	return []*migrate.Change{{
		Cmd:     fmt.Sprintf("INSERT INTO `%s` (`type`) VALUES %s", entschema.TypeTable, strings.Join(values, ", ")),
		Comment: fmt.Sprintf("add pk ranges for %s tables", strings.Join(values, ",")),
	}}, nil
}

// rangeOf is the index of the universal-ID range desired gives table
// name, or -1.
func rangeOf(desired *atlas.Schema, name string) int64 {
	t, ok := desired.Table(name)
	if !ok {
		return -1
	}
	for _, a := range t.Attrs {
		if ai, ok := a.(*sqlite.AutoIncrement); ok {
			return ai.Seq >> 32
		}
	}
	return -1
}

// entTypes is the types of ent_types, in range order.
func entTypes(ctx context.Context, conn dialect.ExecQuerier) ([]string, error) {
	rows, err := (&stdConn{conn}).QueryContext(ctx, fmt.Sprintf("SELECT `type` FROM `%s` ORDER BY `id`", entschema.TypeTable))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var types []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		types = append(types, s)
	}
	return types, rows.Err()
}
