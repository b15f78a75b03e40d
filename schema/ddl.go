package schema

import (
	"strings"
)

// tableDefs splits a CREATE TABLE statement into its table name and the
// definitions between the outer parentheses (columns, then table
// constraints), cut at top-level commas. ok is false for anything it does
// not understand.
func tableDefs(create string) (table string, defs []string, ok bool) {
	rest, found := cutPrefixFold(strings.TrimSpace(create), "CREATE TABLE")
	if !found {
		return "", nil, false
	}
	rest = strings.TrimSpace(rest)
	table, rest, ok = ident(rest)
	if !ok {
		return "", nil, false
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "(") {
		return "", nil, false
	}
	depth, start := 0, 1
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; c {
		case '\'', '"', '`', '[':
			end := skipQuoted(rest, i)
			if end < 0 {
				return "", nil, false
			}
			i = end
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				defs = append(defs, strings.TrimSpace(rest[start:i]))
				return table, defs, true
			}
		case ',':
			if depth == 1 {
				defs = append(defs, strings.TrimSpace(rest[start:i]))
				start = i + 1
			}
		}
	}
	return "", nil, false
}

// ident reads one SQL identifier, quoted or bare, from the start of s.
func ident(s string) (name, rest string, ok bool) {
	if s == "" {
		return "", "", false
	}
	switch s[0] {
	case '`', '"', '[':
		end := skipQuoted(s, 0)
		if end < 0 {
			return "", "", false
		}
		q := s[1:end]
		switch s[0] {
		case '`':
			q = strings.ReplaceAll(q, "``", "`")
		case '"':
			q = strings.ReplaceAll(q, `""`, `"`)
		}
		return q, s[end+1:], true
	}
	i := 0
	for i < len(s) && (s[i] == '_' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9' || s[i] >= 0x80) {
		i++
	}
	if i == 0 {
		return "", "", false
	}
	return s[:i], s[i:], true
}

// skipQuoted returns the index of the character closing the quoted text
// that starts at s[i], or -1. A doubled quote character stands for itself.
func skipQuoted(s string, i int) int {
	closer := s[i]
	if closer == '[' {
		closer = ']'
	}
	for j := i + 1; j < len(s); j++ {
		if s[j] == closer {
			if closer != ']' && j+1 < len(s) && s[j+1] == closer {
				j++
				continue
			}
			return j
		}
	}
	return -1
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// columnDef finds column's definition among a table's definitions.
func columnDef(defs []string, column string) (string, bool) {
	for _, d := range defs {
		name, _, ok := ident(d)
		if ok && name == column && !isConstraintKeyword(name, d) {
			return d, true
		}
	}
	return "", false
}

// isConstraintKeyword tells a table constraint (CONSTRAINT x ..., PRIMARY
// KEY (...), FOREIGN KEY, UNIQUE, CHECK) from a column named the same,
// which would be quoted.
func isConstraintKeyword(name, def string) bool {
	if def[0] == '`' || def[0] == '"' || def[0] == '[' {
		return false
	}
	switch strings.ToUpper(name) {
	case "CONSTRAINT", "PRIMARY", "FOREIGN", "UNIQUE", "CHECK":
		return true
	}
	return false
}

// affinity is SQLite's type affinity for a declared type (section 3.1 of
// https://www.sqlite.org/datatype3.html).
func affinity(decl string) string {
	d := strings.ToUpper(decl)
	switch {
	case strings.Contains(d, "INT"):
		return "INTEGER"
	case strings.Contains(d, "CHAR"), strings.Contains(d, "CLOB"), strings.Contains(d, "TEXT"):
		return "TEXT"
	case d == "", strings.Contains(d, "BLOB"):
		return "BLOB"
	case strings.Contains(d, "REAL"), strings.Contains(d, "FLOA"), strings.Contains(d, "DOUB"):
		return "REAL"
	}
	return "NUMERIC"
}

// quote writes name as a backquoted identifier, as Atlas does.
func quote(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}
