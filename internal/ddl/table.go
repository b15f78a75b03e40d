package ddl

import "strings"

// Table is a CREATE TABLE statement taken apart. Its parts keep their
// text as written, so that a statement put back together from them says
// what the original said.
type Table struct {
	Head        string // "CREATE TABLE `t`": everything before the opening parenthesis
	Name        string
	Columns     []Column
	Constraints []string // table constraints, as written
	Options     string   // what follows the closing parenthesis: "STRICT", "WITHOUT ROWID", "RANDOM ROWID"
}

// Column is one column definition of a CREATE TABLE statement.
type Column struct {
	Name          string
	Def           string // the whole definition, as written
	Type          string // the declared type, as written; "" for none
	PrimaryKey    bool   // a column PRIMARY KEY constraint
	Desc          bool   // PRIMARY KEY DESC (the column is then no rowid alias)
	Unique        bool   // a column UNIQUE constraint
	AutoIncrement bool
	Generated     bool   // GENERATED ALWAYS AS (...) or AS (...)
	Collate       string // the name after COLLATE, "" if none
}

// ParseCreateTable takes a CREATE TABLE statement apart. ok is false for
// anything else, and for CREATE TABLE ... AS SELECT.
func ParseCreateTable(sql string) (t *Table, ok bool) {
	sql = strings.TrimRight(strings.TrimSpace(sql), ";")
	toks := Tokens(sql)
	i := 0
	word := func(kw string) bool {
		if i < len(toks) && toks[i].Is(kw) {
			i++
			return true
		}
		return false
	}
	if !word("CREATE") {
		return nil, false
	}
	_ = word("TEMP") || word("TEMPORARY")
	if !word("TABLE") {
		return nil, false
	}
	if i+2 < len(toks) && toks[i].Is("IF") && toks[i+1].Is("NOT") && toks[i+2].Is("EXISTS") {
		i += 3
	}
	name, next, ok := qualifiedName(toks, i)
	if !ok || next >= len(toks) || toks[next].Text != "(" {
		return nil, false
	}
	open := next
	parts, closing, ok := splitList(toks, open)
	if !ok {
		return nil, false
	}
	t = &Table{Head: strings.TrimSpace(sql[:toks[open].Pos]), Name: name}
	if closing+1 < len(toks) {
		t.Options = strings.TrimSpace(sql[toks[closing+1].Pos:])
	}
	for _, p := range parts {
		if len(p) == 0 {
			return nil, false
		}
		def := sql[p[0].Pos:p[len(p)-1].End()]
		if isTableConstraint(p[0]) {
			t.Constraints = append(t.Constraints, def)
			continue
		}
		c, ok := parseColumn(p, def, sql)
		if !ok {
			return nil, false
		}
		t.Columns = append(t.Columns, c)
	}
	return t, len(t.Columns) > 0
}

// qualifiedName reads [schema.]name at toks[i].
func qualifiedName(toks []Token, i int) (name string, next int, ok bool) {
	if i >= len(toks) || toks[i].Kind != Word && toks[i].Kind != Quoted {
		return "", i, false
	}
	name, i = toks[i].Name(), i+1
	if i+1 < len(toks) && toks[i].Text == "." && (toks[i+1].Kind == Word || toks[i+1].Kind == Quoted) {
		name, i = toks[i+1].Name(), i+2
	}
	return name, i, true
}

// splitList splits the parenthesized list opened at toks[open] at its
// top-level commas, returning the items and the index of the closing
// parenthesis.
func splitList(toks []Token, open int) (items [][]Token, closing int, ok bool) {
	depth, start := 0, open+1
	for j := open; j < len(toks); j++ {
		switch toks[j].Text {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return append(items, toks[start:j]), j, true
			}
		case ",":
			if depth == 1 {
				items = append(items, toks[start:j])
				start = j + 1
			}
		}
	}
	return nil, 0, false
}

func isTableConstraint(first Token) bool {
	for _, kw := range []string{"CONSTRAINT", "PRIMARY", "FOREIGN", "UNIQUE", "CHECK"} {
		if first.Is(kw) {
			return true
		}
	}
	return false
}

// columnKeywords start a column constraint, ending the declared type.
var columnKeywords = []string{"CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK", "DEFAULT", "COLLATE", "REFERENCES", "GENERATED", "AS"}

func parseColumn(p []Token, def, sql string) (Column, bool) {
	if p[0].Kind != Word && p[0].Kind != Quoted {
		return Column{}, false
	}
	c := Column{Name: p[0].Name(), Def: def}
	depth, typeEnd := 0, 1
	inType := true
	for j := 1; j < len(p); j++ {
		tok := p[j]
		switch tok.Text {
		case "(":
			depth++
		case ")":
			depth--
		}
		if depth > 0 || tok.Text == ")" {
			if inType {
				typeEnd = j + 1
			}
			continue
		}
		if inType {
			for _, kw := range columnKeywords {
				if tok.Is(kw) {
					inType = false
					break
				}
			}
			if inType {
				typeEnd = j + 1
				continue
			}
		}
		switch {
		case tok.Is("PRIMARY"):
			c.PrimaryKey = true
			if j+2 < len(p) && p[j+2].Is("DESC") {
				c.Desc = true
			}
		case tok.Is("UNIQUE"):
			c.Unique = true
		case tok.Is("AUTOINCREMENT"):
			c.AutoIncrement = true
		case tok.Is("GENERATED"), tok.Is("AS") && j+1 < len(p) && p[j+1].Text == "(":
			c.Generated = true
		case tok.Is("COLLATE") && j+1 < len(p):
			c.Collate = p[j+1].Name()
		}
	}
	if typeEnd > 1 {
		c.Type = sql[p[1].Pos:p[typeEnd-1].End()]
	}
	return c, depth == 0
}

// SQL puts the statement back together.
func (t *Table) SQL() string {
	var b strings.Builder
	b.WriteString(t.Head)
	b.WriteString(" (")
	n := 0
	for _, c := range t.Columns {
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Def)
		n++
	}
	for _, c := range t.Constraints {
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c)
		n++
	}
	b.WriteString(")")
	if t.Options != "" {
		b.WriteString(" ")
		b.WriteString(t.Options)
	}
	return b.String()
}

// Column returns the column named name, or nil.
func (t *Table) Column(name string) *Column {
	for i := range t.Columns {
		if SameName(t.Columns[i].Name, name) {
			return &t.Columns[i]
		}
	}
	return nil
}

// Table options, as HasOption names them.
const (
	Strict       = "STRICT"
	WithoutRowID = "WITHOUT ROWID"
	RandomRowID  = "RANDOM ROWID"
)

// HasOption reports whether the table has option opt: Strict,
// WithoutRowID or RandomRowID.
func (t *Table) HasOption(opt string) bool {
	want := strings.Fields(opt)
	toks := Tokens(t.Options)
	for i := 0; i+len(want) <= len(toks); i++ {
		match := true
		for k, w := range want {
			if !toks[i+k].Is(w) {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// RowidAlias returns the column that is the table's rowid (its INTEGER
// PRIMARY KEY), or "" if there is none.
func (t *Table) RowidAlias() string {
	if t.HasOption(WithoutRowID) {
		return ""
	}
	integer := func(c *Column) bool { return c != nil && strings.EqualFold(strings.TrimSpace(c.Type), "INTEGER") }
	for i := range t.Columns {
		if c := &t.Columns[i]; c.PrimaryKey && !c.Desc && integer(c) {
			return c.Name
		}
	}
	for _, def := range t.Constraints {
		toks := Tokens(def)
		for i := 0; i+2 < len(toks); i++ {
			if !toks[i].Is("PRIMARY") || !toks[i+1].Is("KEY") || toks[i+2].Text != "(" {
				continue
			}
			items, _, ok := splitList(toks, i+2)
			if !ok || len(items) != 1 || len(items[0]) == 0 {
				return ""
			}
			item := items[0]
			if len(item) > 1 && item[len(item)-1].Is("DESC") {
				return ""
			}
			if c := t.Column(item[0].Name()); integer(c) {
				return c.Name
			}
			return ""
		}
	}
	return ""
}

// StrictTypes are the column types a STRICT table accepts.
var StrictTypes = []string{"INT", "INTEGER", "REAL", "TEXT", "BLOB", "ANY"}

// StrictType reports whether a STRICT table accepts the declared type.
func StrictType(decl string) bool {
	for _, s := range StrictTypes {
		if strings.EqualFold(strings.TrimSpace(decl), s) {
			return true
		}
	}
	return false
}

// Default returns the expression of a column definition's DEFAULT clause,
// as written, and the definition without it.
func Default(def string) (expr, without string, ok bool) {
	toks := Tokens(def)
	depth := 0
	for i, t := range toks {
		switch t.Text {
		case "(":
			depth++
			continue
		case ")":
			depth--
			continue
		}
		if depth != 0 || !t.Is("DEFAULT") || i+1 >= len(toks) {
			continue
		}
		end := i + 1
		switch first := toks[i+1]; {
		case first.Text == "(":
			d := 0
			for end = i + 1; end < len(toks); end++ {
				if toks[end].Text == "(" {
					d++
				} else if toks[end].Text == ")" {
					d--
					if d == 0 {
						break
					}
				}
			}
			if end == len(toks) {
				return "", def, false
			}
		case (first.Text == "+" || first.Text == "-") && i+2 < len(toks):
			end = i + 2
		}
		expr = def[toks[i+1].Pos:toks[end].End()]
		without = strings.TrimSpace(strings.TrimSpace(def[:t.Pos]) + " " + strings.TrimSpace(def[toks[end].End():]))
		return expr, without, true
	}
	return "", def, false
}

// Constant reports whether a DEFAULT expression is a constant SQLite's
// ALTER TABLE ADD COLUMN accepts: a number (signed or not), a string, a
// blob, TRUE, FALSE or NULL, in parentheses or not. CURRENT_TIMESTAMP,
// functions and arithmetic are not.
func Constant(expr string) bool {
	toks := Tokens(expr)
	for len(toks) >= 2 && toks[0].Text == "(" && toks[len(toks)-1].Text == ")" {
		toks = toks[1 : len(toks)-1]
	}
	if len(toks) == 2 && (toks[0].Text == "-" || toks[0].Text == "+") {
		return toks[1].Kind == Number
	}
	if len(toks) != 1 {
		return false
	}
	switch t := toks[0]; t.Kind {
	case Number, String, Blob:
		return true
	case Word:
		return t.Is("TRUE") || t.Is("FALSE") || t.Is("NULL")
	}
	return false
}

// Tail is the column's definition after its name and its type: its
// constraints, as written.
func (c Column) Tail() string {
	toks := Tokens(c.Def)
	if len(toks) == 0 {
		return ""
	}
	rest := strings.TrimSpace(c.Def[toks[0].End():])
	if c.Type != "" && strings.HasPrefix(rest, c.Type) {
		rest = strings.TrimSpace(rest[len(c.Type):])
	}
	return rest
}
