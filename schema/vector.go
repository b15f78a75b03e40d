package schema

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	atlas "ariga.io/atlas/sql/schema"
	"entgo.io/ent/dialect"
	entschema "entgo.io/ent/dialect/sql/schema"
)

// vectorIndexKey is vector.IndexTypeKey (package
// github.com/entlibsql/entlibsql/dialect/libsql/vector, whose tests
// import this package through the driver): the key of
// entsql.IndexAnnotation.Types under which vector.Index records an index.
const vectorIndexKey = "libsql"

// libSQL vector indexes declared in an ent schema, with vector.Index on an
// index of one vector column. ent's SQLite dialect plans such an index as
// a plain index on the column: it drops the entsql annotation's Types on
// the way to Atlas. So the declared indexes are read from ent's tables
// (a Create hook, or Diff's tables), and the diff hook gives the desired
// Atlas index its real part, the expression
//
//	libsql_vector_idx(`embedding`, 'metric=cosine', 'max_neighbors=32')
//
// Atlas then creates it, compares it with the index it inspects (whose
// expression it reads back from sqlite_master), drops and re-creates it
// when the settings change, and re-creates it after a table rebuild, as
// any index of the desired schema. The settings are compared as a set, so
// an index written by hand with other spacing or quoting is not rebuilt.
//
// Each vector index keeps its graph in a table of its own, <index>_shadow.
// ent does not declare it, and Atlas would plan to drop it wherever it
// inspects every table (versioned migrations replay their files on a dev
// database): the diff hook leaves those tables out of the current schema.

// vectorIndex is one declared vector index.
type vectorIndex struct {
	name, column string
	settings     []string // "metric=cosine", in the declared order
}

// expr is the index's one part.
func (v *vectorIndex) expr() string {
	args := []string{quote(v.column)}
	for _, s := range v.settings {
		args = append(args, "'"+s+"'")
	}
	return "libsql_vector_idx(" + strings.Join(args, ", ") + ")"
}

// vectorIndexes holds the declared vector indexes of a migration, by table.
type vectorIndexes struct {
	byTable map[string][]*vectorIndex
	err     error
}

// withVectorIndexes is WithLibSQL's part for vector indexes: the Create
// hook reads them from ent's tables, the diff hook plans them.
func withVectorIndexes(a *entschema.Atlas) {
	v := &vectorIndexes{}
	entschema.WithHooks(func(next entschema.Creator) entschema.Creator {
		return entschema.CreateFunc(func(ctx context.Context, tables ...*entschema.Table) error {
			if v.read(tables); v.err != nil {
				return v.err
			}
			return next.Create(ctx, tables...)
		})
	})(a)
	entschema.WithDiffHook(v.diffHook)(a)
}

// vectorIndexesOf is the option that plans the vector indexes of tables,
// for a versioned diff (which runs no Create hooks).
func vectorIndexesOf(tables []*entschema.Table) entschema.MigrateOption {
	v := &vectorIndexes{}
	v.read(tables)
	return entschema.WithDiffHook(v.diffHook)
}

var (
	vectorColumnRe  = regexp.MustCompile(`(?i)^\s*(F32_BLOB|F64_BLOB|F16_BLOB|FB16_BLOB|F8_BLOB|F1BIT_BLOB|FLOAT32|FLOAT64|FLOAT16|FLOATB16|FLOAT8|FLOAT1BIT)\s*\(\s*[1-9][0-9]*\s*\)\s*$`)
	vectorSettingRe = regexp.MustCompile(`^(metric|type|compress_neighbors|max_neighbors|alpha|search_l|insert_l)=[A-Za-z0-9.]+$`)
)

// read collects the vector indexes declared on tables.
func (v *vectorIndexes) read(tables []*entschema.Table) {
	v.byTable = map[string][]*vectorIndex{}
	for _, t := range tables {
		for _, idx := range t.Indexes {
			if idx.Annotation == nil || idx.Annotation.Types[vectorIndexKey] == "" {
				continue
			}
			vi, err := declaredVectorIndex(t, idx)
			if err != nil {
				v.err = err
				return
			}
			v.byTable[t.Name] = append(v.byTable[t.Name], vi)
		}
	}
}

func declaredVectorIndex(t *entschema.Table, idx *entschema.Index) (*vectorIndex, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("schema: vector index %q of table %q: %s", idx.Name, t.Name, fmt.Sprintf(format, args...))
	}
	if len(idx.Columns) != 1 {
		return nil, fail("it has %d columns; a vector index has one", len(idx.Columns))
	}
	if idx.Unique {
		return nil, fail("a vector index cannot be unique")
	}
	c := idx.Columns[0]
	if typ := c.SchemaType[dialect.SQLite]; !vectorColumnRe.MatchString(typ) {
		if typ == "" {
			typ = c.Type.String()
		}
		return nil, fail("column %q is %s, not a vector column (declare it with vector.Field)", c.Name, typ)
	}
	spec := idx.Annotation.Types[vectorIndexKey]
	inner, ok := strings.CutPrefix(spec, "libsql_vector_idx(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return nil, fail("annotation %q is not vector.Index's", spec)
	}
	vi := &vectorIndex{name: idx.Name, column: c.Name}
	for _, arg := range strings.Split(strings.TrimSuffix(inner, ")"), ",") {
		arg = strings.TrimSpace(arg)
		s, ok := strings.CutPrefix(arg, "'")
		s, ok2 := strings.CutSuffix(s, "'")
		if bad, found := strings.CutPrefix(s, "invalid="); found && ok && ok2 {
			return nil, fail("invalid setting %s", bad) // what vector.Index refused
		}
		if !ok || !ok2 || !vectorSettingRe.MatchString(s) {
			return nil, fail("invalid setting %s", strings.Trim(arg, "'"))
		}
		vi.settings = append(vi.settings, s)
	}
	return vi, nil
}

func (v *vectorIndexes) diffHook(next entschema.Differ) entschema.Differ {
	return entschema.DiffFunc(func(current, desired *atlas.Schema) ([]atlas.Change, error) {
		if v.err != nil {
			return nil, v.err
		}
		hideShadowTables(current)
		for _, dt := range desired.Tables {
			for _, vi := range v.byTable[dt.Name] {
				idx, ok := dt.Index(vi.name)
				if !ok {
					return nil, fmt.Errorf("schema: vector index %q is not among the indexes of table %q", vi.name, dt.Name)
				}
				x := vi.expr()
				if ct, ok := current.Table(dt.Name); ok {
					if ci, ok := ct.Index(vi.name); ok && sameVectorIndex(ci, vi) {
						x = ci.Parts[0].X.(*atlas.RawExpr).X // as written: Atlas compares text
					}
				}
				idx.Parts = []*atlas.IndexPart{{SeqNo: 1, X: &atlas.RawExpr{X: x}}}
			}
		}
		changes, err := next.Diff(current, desired)
		if err != nil {
			return nil, err
		}
		for _, c := range changes {
			if m, ok := c.(*atlas.ModifyTable); ok {
				m.Changes = dropAndAdd(m.Changes)
				if ct, ok := current.Table(m.T.Name); ok {
					m.Changes = v.recreateOnRetype(ct, m)
				}
			}
		}
		return changes, nil
	})
}

// recreateOnRetype re-creates the vector indexes of columns whose type
// changes (a dimension, or the vector type). libSQL's index keeps the type
// it was built for: an ALTER COLUMN alone would leave it refusing every
// new vector. Re-created, it is rebuilt from the rows, which must then be
// of the new type (or NULL): if they are not, libSQL refuses the CREATE
// INDEX and the migration rolls back whole. (The index changes also keep
// WithLibSQL from turning the table rebuild into ALTER COLUMN.)
func (v *vectorIndexes) recreateOnRetype(current *atlas.Table, m *atlas.ModifyTable) []atlas.Change {
	retyped := map[string]bool{}
	touched := map[string]bool{}
	for _, c := range m.Changes {
		switch c := c.(type) {
		case *atlas.ModifyColumn:
			if c.Change.Is(atlas.ChangeType) {
				retyped[c.To.Name] = true
			}
		case *atlas.DropIndex:
			touched[c.I.Name] = true
		case *atlas.AddIndex:
			touched[c.I.Name] = true
		case *atlas.ModifyIndex:
			touched[c.To.Name] = true
		}
	}
	for _, vi := range v.byTable[m.T.Name] {
		from, ok1 := current.Index(vi.name)
		to, ok2 := m.T.Index(vi.name)
		if retyped[vi.column] && !touched[vi.name] && ok1 && ok2 {
			m.Changes = append(m.Changes, &atlas.DropIndex{I: from}, &atlas.AddIndex{I: to})
		}
	}
	return m.Changes
}

// dropAndAdd replaces the change of a vector index by its drop and its
// creation: Atlas's SQLite planner rebuilds the whole table for a
// ModifyIndex, copying every row, where the index alone needs replacing.
func dropAndAdd(changes []atlas.Change) []atlas.Change {
	out := changes[:0:0]
	for _, c := range changes {
		m, ok := c.(*atlas.ModifyIndex)
		if !ok {
			out = append(out, c)
			continue
		}
		_, _, fromVector := parseVectorIndex(m.From)
		_, _, toVector := parseVectorIndex(m.To)
		if !fromVector && !toVector {
			out = append(out, c)
			continue
		}
		out = append(out, &atlas.DropIndex{I: m.From}, &atlas.AddIndex{I: m.To})
	}
	return out
}

// hideShadowTables leaves the tables of current's vector indexes out.
func hideShadowTables(current *atlas.Schema) {
	shadow := map[string]bool{}
	for _, t := range current.Tables {
		for _, idx := range t.Indexes {
			if _, _, ok := parseVectorIndex(idx); ok {
				shadow[idx.Name+"_shadow"] = true
			}
		}
	}
	if len(shadow) == 0 {
		return
	}
	kept := current.Tables[:0]
	for _, t := range current.Tables {
		if !shadow[t.Name] {
			kept = append(kept, t)
		}
	}
	current.Tables = kept
}

// sameVectorIndex reports whether the inspected index idx is vi: a vector
// index on the same column with the same settings.
func sameVectorIndex(idx *atlas.Index, vi *vectorIndex) bool {
	column, settings, ok := parseVectorIndex(idx)
	if !ok || column != vi.column || idx.Unique {
		return false
	}
	want := normalizeSettings(vi.settings)
	return strings.Join(settings, ",") == strings.Join(want, ",")
}

// parseVectorIndex reads an inspected index's libsql_vector_idx part: the
// column and the settings (normalized).
func parseVectorIndex(idx *atlas.Index) (column string, settings []string, ok bool) {
	if len(idx.Parts) != 1 {
		return "", nil, false
	}
	x, isExpr := idx.Parts[0].X.(*atlas.RawExpr)
	if !isExpr {
		return "", nil, false
	}
	rest, found := cutPrefixFold(unwrap(x.X), "libsql_vector_idx")
	rest = strings.TrimSpace(rest)
	if !found || !wrapped(rest) {
		return "", nil, false
	}
	args := splitArgs(strings.TrimSpace(rest[1 : len(rest)-1]))
	if len(args) == 0 {
		return "", nil, false
	}
	column, tail, ok := ident(args[0])
	if !ok || strings.TrimSpace(tail) != "" {
		return "", nil, false
	}
	for _, a := range args[1:] {
		if len(a) < 2 || a[0] != '\'' || a[len(a)-1] != '\'' {
			return "", nil, false
		}
		settings = append(settings, strings.ReplaceAll(a[1:len(a)-1], "''", "'"))
	}
	return column, normalizeSettings(settings), true
}

// splitArgs cuts s at its top-level commas.
func splitArgs(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'', '"', '`', '[':
			if end := skipQuoted(s, i); end > 0 {
				i = end
			}
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// normalizeSettings sorts settings, names and words in lower case, as
// libSQL reads them.
func normalizeSettings(settings []string) []string {
	out := make([]string, len(settings))
	for i, s := range settings {
		out[i] = strings.ToLower(strings.ReplaceAll(s, " ", ""))
	}
	sort.Strings(out)
	return out
}
