package ddl

import "strings"

// Copy is the statement of a table rebuild that copies the rows:
// INSERT INTO new (columns) SELECT expressions FROM old.
type Copy struct {
	Into, From string
	Columns    []string // the target columns, as written
	Select     []string // the expressions, as written, one per column
}

// ParseCopy takes a rebuild's copy statement apart; ok is false for any
// other statement.
func ParseCopy(sql string) (c *Copy, ok bool) {
	sql = strings.TrimRight(strings.TrimSpace(sql), ";")
	toks := Tokens(sql)
	if len(toks) < 8 || !toks[0].Is("INSERT") || !toks[1].Is("INTO") {
		return nil, false
	}
	into, i, ok := qualifiedName(toks, 2)
	if !ok || i >= len(toks) || toks[i].Text != "(" {
		return nil, false
	}
	cols, closing, ok := splitList(toks, i)
	if !ok || closing+1 >= len(toks) || !toks[closing+1].Is("SELECT") {
		return nil, false
	}
	// The FROM of the SELECT: the last top-level one, followed by a table
	// name and nothing else.
	rest := toks[closing+2:]
	from := -1
	depth := 0
	for j, t := range rest {
		switch {
		case t.Text == "(":
			depth++
		case t.Text == ")":
			depth--
		case depth == 0 && t.Is("FROM"):
			from = j
		}
	}
	if from < 1 {
		return nil, false
	}
	src, end, ok := qualifiedName(rest, from+1)
	if !ok || end != len(rest) {
		return nil, false
	}
	c = &Copy{Into: into, From: src}
	for _, item := range cols {
		if len(item) == 0 {
			return nil, false
		}
		c.Columns = append(c.Columns, sql[item[0].Pos:item[len(item)-1].End()])
	}
	start := 0
	depth = 0
	exprs := rest[:from]
	for j, t := range exprs {
		switch t.Text {
		case "(":
			depth++
		case ")":
			depth--
		case ",":
			if depth == 0 {
				if j == start {
					return nil, false
				}
				c.Select = append(c.Select, sql[exprs[start].Pos:exprs[j-1].End()])
				start = j + 1
			}
		}
	}
	if start >= len(exprs) {
		return nil, false
	}
	c.Select = append(c.Select, sql[exprs[start].Pos:exprs[len(exprs)-1].End()])
	if len(c.Select) != len(c.Columns) {
		return nil, false
	}
	return c, true
}

// SQL puts the statement back together.
func (c *Copy) SQL() string {
	return "INSERT INTO " + Quote(c.Into) + " (" + strings.Join(c.Columns, ", ") + ") SELECT " +
		strings.Join(c.Select, ", ") + " FROM " + Quote(c.From)
}

// Targets are the names of the copy's target columns.
func (c *Copy) Targets() []string {
	names := make([]string, len(c.Columns))
	for i, col := range c.Columns {
		names[i] = Unquote(strings.TrimSpace(col))
	}
	return names
}

// DropTable reports whether sql is DROP TABLE [IF EXISTS] name.
func DropTable(sql string) (name string, ok bool) { return DropOf(sql, "TABLE") }

// DropOf reports whether sql is DROP kind [IF EXISTS] name, for kind
// TABLE, INDEX, VIEW or TRIGGER.
func DropOf(sql, kind string) (name string, ok bool) {
	toks := Tokens(strings.TrimRight(strings.TrimSpace(sql), ";"))
	if len(toks) < 3 || !toks[0].Is("DROP") || !toks[1].Is(kind) {
		return "", false
	}
	i := 2
	if i+1 < len(toks) && toks[i].Is("IF") && toks[i+1].Is("EXISTS") {
		i += 2
	}
	name, end, ok := qualifiedName(toks, i)
	if !ok || end != len(toks) {
		return "", false
	}
	return name, true
}

// RenameTable reports whether sql is ALTER TABLE from RENAME TO to.
func RenameTable(sql string) (from, to string, ok bool) {
	toks := Tokens(strings.TrimRight(strings.TrimSpace(sql), ";"))
	if len(toks) < 6 || !toks[0].Is("ALTER") || !toks[1].Is("TABLE") {
		return "", "", false
	}
	from, i, ok := qualifiedName(toks, 2)
	if !ok || i+2 >= len(toks) || !toks[i].Is("RENAME") || !toks[i+1].Is("TO") {
		return "", "", false
	}
	to, end, ok := qualifiedName(toks, i+2)
	if !ok || end != len(toks) {
		return "", "", false
	}
	return from, to, true
}

// CreateTableName reports whether sql is a CREATE TABLE statement, and of
// which table.
func CreateTableName(sql string) (string, bool) {
	t, ok := ParseCreateTable(sql)
	if !ok {
		return "", false
	}
	return t.Name, true
}

// CreateIndex reports whether sql is CREATE [UNIQUE] INDEX name ON table.
func CreateIndex(sql string) (name, table string, ok bool) {
	toks := Tokens(sql)
	i := 0
	if i >= len(toks) || !toks[i].Is("CREATE") {
		return "", "", false
	}
	i++
	if i < len(toks) && toks[i].Is("UNIQUE") {
		i++
	}
	if i >= len(toks) || !toks[i].Is("INDEX") {
		return "", "", false
	}
	i++
	if i+2 < len(toks) && toks[i].Is("IF") && toks[i+1].Is("NOT") && toks[i+2].Is("EXISTS") {
		i += 3
	}
	name, i, ok = qualifiedName(toks, i)
	if !ok || i >= len(toks) || !toks[i].Is("ON") {
		return "", "", false
	}
	table, _, ok = qualifiedName(toks, i+1)
	return name, table, ok
}

// TriggerEvent is what fires a trigger: "INSERT", "UPDATE" or "DELETE"
// ("" if sql is not a CREATE TRIGGER statement it can read).
func TriggerEvent(sql string) string {
	toks := Tokens(sql)
	for i, t := range toks {
		if t.Is("ON") {
			break
		}
		for _, ev := range []string{"INSERT", "UPDATE", "DELETE"} {
			if t.Is(ev) && i > 0 {
				return ev
			}
		}
	}
	return ""
}
