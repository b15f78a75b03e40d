package ddl

// UsesColumn reports whether sql may use column col of table: sql is a
// CREATE INDEX, CREATE VIEW or CREATE TRIGGER statement, or a part of
// table's own definition (a column definition without its name, a table
// constraint). Where it cannot tell (an unqualified name in a statement
// that reads table among others) it says yes; it says no only where the
// name is certainly something else:
//
//   - a function of that name: length(title) does not use a column
//     "length";
//   - a table, the name after FROM, JOIN, INTO, UPDATE, REFERENCES or a
//     trigger's and an index's ON, and the columns REFERENCES names;
//   - the object's own name, a view's column names, a constraint's name,
//     the name after COLLATE or AS (an alias, a type);
//   - a column qualified by another table or alias (other.col), or in
//     a trigger on another table, by new or old;
//   - an unqualified name in a statement of a trigger body or an index
//     that does not read table.
//
// Strings are never names.
func UsesColumn(sql, table, col string) bool {
	toks := Tokens(sql)
	i := 0
	word := func(kws ...string) bool {
		for _, kw := range kws {
			if i < len(toks) && toks[i].Is(kw) {
				i++
				return true
			}
		}
		return false
	}
	skipName := func() (string, bool) {
		name, next, ok := qualifiedName(toks, i)
		if ok {
			i = next
		}
		return name, ok
	}
	ifNotExists := func() {
		if i+2 < len(toks) && toks[i].Is("IF") && toks[i+1].Is("NOT") && toks[i+2].Is("EXISTS") {
			i += 3
		}
	}
	if !word("CREATE") {
		return usesIn(toks, table, col, true, nil)
	}
	word("TEMP", "TEMPORARY")
	word("UNIQUE")
	switch {
	case word("INDEX"):
		ifNotExists()
		if _, ok := skipName(); !ok || !word("ON") {
			return Mentions(sql, col)
		}
		on, ok := skipName()
		if !ok {
			return Mentions(sql, col)
		}
		return SameName(on, table) && usesIn(toks[i:], table, col, true, nil)
	case word("VIEW"):
		ifNotExists()
		if _, ok := skipName(); !ok {
			return Mentions(sql, col)
		}
		if i < len(toks) && toks[i].Text == "(" {
			if _, closing, ok := splitList(toks, i); ok {
				i = closing + 1
			}
		}
		word("AS")
		return usesStmt(toks[i:], table, col, nil)
	case word("TRIGGER"):
		return triggerUses(toks, i, table, col, sql)
	}
	return Mentions(sql, col)
}

// triggerUses is UsesColumn for CREATE TRIGGER, toks[i] following TRIGGER.
func triggerUses(toks []Token, i int, table, col, sql string) bool {
	if i+2 < len(toks) && toks[i].Is("IF") && toks[i+1].Is("NOT") && toks[i+2].Is("EXISTS") {
		i += 3
	}
	_, i, ok := qualifiedName(toks, i)
	if !ok {
		return Mentions(sql, col)
	}
	on := -1
	for j := i; j < len(toks); j++ {
		if toks[j].Is("ON") {
			on = j
			break
		}
	}
	if on < 0 {
		return Mentions(sql, col)
	}
	target, next, ok := qualifiedName(toks, on+1)
	if !ok {
		return Mentions(sql, col)
	}
	ours := SameName(target, table)
	// UPDATE OF a, b: the target's columns.
	if ours {
		for j := i; j < on; j++ {
			if toks[j].IsName(col) && !toks[j].Is("OF") {
				return true
			}
		}
	}
	begin := -1
	for j := next; j < len(toks); j++ {
		if toks[j].Is("BEGIN") {
			begin = j
			break
		}
	}
	if begin < 0 {
		return Mentions(sql, col)
	}
	var rowRefs []string // new.x and old.x: the target's row
	if ours {
		rowRefs = []string{"new", "old"}
	}
	// WHEN: only new and old can be read there.
	if usesIn(toks[next:begin], table, col, ours, rowRefs) {
		return true
	}
	body := toks[begin+1:]
	if n := len(body); n > 0 && body[n-1].Is("END") {
		body = body[:n-1]
	}
	depth, start := 0, 0
	for j := 0; j <= len(body); j++ {
		if j < len(body) {
			switch body[j].Text {
			case "(":
				depth++
				continue
			case ")":
				depth--
				continue
			case ";":
				if depth != 0 {
					continue
				}
			default:
				continue
			}
		}
		if usesStmt(body[start:j], table, col, rowRefs) {
			return true
		}
		start = j + 1
	}
	return false
}

// usesStmt is UsesColumn for one statement (a SELECT, INSERT, UPDATE or
// DELETE): its unqualified names are table's columns only if it reads
// table.
func usesStmt(toks []Token, table, col string, rowRefs []string) bool {
	reads := false
	for _, n := range namesOf(toks).tables {
		if SameName(n, table) {
			reads = true
		}
	}
	return usesIn(toks, table, col, reads, rowRefs)
}

// names are the tokens of a statement that name tables, not columns.
type names struct {
	skip    map[int]bool   // tables, aliases, the columns REFERENCES names
	tables  []string       // the tables named
	aliases map[int]string // the index of an alias to its table
}

// notAlias are the words that may follow a table name and are no alias.
var notAlias = []string{"WHERE", "ON", "USING", "JOIN", "LEFT", "RIGHT", "FULL", "INNER", "CROSS", "NATURAL", "OUTER",
	"GROUP", "ORDER", "LIMIT", "HAVING", "WINDOW", "UNION", "EXCEPT", "INTERSECT", "SET", "VALUES", "SELECT", "DEFAULT",
	"RETURNING", "INDEXED", "NOT", "AS", "END", "DO", "WITH", "MATCH", "DEFERRABLE"}

// namesOf finds the table names of toks: after FROM (and its commas),
// JOIN, INTO, UPDATE [OR x] and REFERENCES, each with its alias.
func namesOf(toks []Token) names {
	n := names{skip: map[int]bool{}, aliases: map[int]string{}}
	for k, t := range toks {
		if !(t.Is("FROM") || t.Is("JOIN") || t.Is("INTO") || t.Is("UPDATE") || t.Is("REFERENCES")) {
			continue
		}
		j := k + 1
		if t.Is("UPDATE") && j+1 < len(toks) && toks[j].Is("OR") {
			j += 2
		}
		for {
			name, next, ok := qualifiedName(toks, j)
			if !ok {
				break
			}
			for m := j; m < next; m++ {
				n.skip[m] = true
			}
			n.tables = append(n.tables, name)
			if t.Is("REFERENCES") {
				if next < len(toks) && toks[next].Text == "(" {
					if _, closing, ok := splitList(toks, next); ok {
						for m := next; m <= closing; m++ {
							n.skip[m] = true
						}
					}
				}
				break
			}
			a := next
			if a < len(toks) && toks[a].Is("AS") {
				a++
			}
			if a < len(toks) && (toks[a].Kind == Word || toks[a].Kind == Quoted) && !isAnyWord(toks[a], notAlias) &&
				(a+1 >= len(toks) || toks[a+1].Text != "(" && toks[a+1].Text != ".") {
				n.skip[a] = true
				n.aliases[a] = name
				next = a + 1
			}
			if t.Is("FROM") && next+1 < len(toks) && toks[next].Text == "," {
				j = next + 1 // FROM a, b
				continue
			}
			break
		}
	}
	return n
}

func isAnyWord(t Token, words []string) bool {
	for _, w := range words {
		if t.Is(w) {
			return true
		}
	}
	return false
}

// usesIn looks for col in toks: qualified by table, by one of its aliases
// or by one of rowRefs, or unqualified if unqualified says those are
// table's.
func usesIn(toks []Token, table, col string, unqualified bool, rowRefs []string) bool {
	n := namesOf(toks)
	quals := map[string]bool{FoldName(table): true}
	for _, r := range rowRefs {
		quals[FoldName(r)] = true
	}
	for k, t := range n.aliases {
		if SameName(t, table) {
			quals[FoldName(toks[k].Name())] = true
		}
	}
	for k, t := range toks {
		if t.Kind != Word && t.Kind != Quoted || n.skip[k] || !SameName(t.Name(), col) {
			continue
		}
		if k+1 < len(toks) && (toks[k+1].Text == "(" || toks[k+1].Text == ".") {
			continue // a function, or a qualifier
		}
		if k > 0 && (toks[k-1].Is("COLLATE") || toks[k-1].Is("AS") || toks[k-1].Is("CONSTRAINT")) {
			continue
		}
		if k > 0 && toks[k-1].Text == "." {
			if k > 1 && quals[FoldName(toks[k-2].Name())] {
				return true
			}
			continue
		}
		if unqualified {
			return true
		}
	}
	return false
}
