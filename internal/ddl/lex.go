// Package ddl reads and writes the SQL text of SQLite schema statements:
// the CREATE TABLE statements stored in sqlite_master, the statements of a
// migration plan, the identifiers a trigger or a view mentions. It is pure
// text, with no database and no Atlas, so that the driver can use it.
package ddl

import "strings"

// Kind is the kind of a Token.
type Kind int

// Token kinds. Keywords are Words: SQLite lets most keywords be names.
const (
	Word   Kind = iota // a bare word: a name or a keyword
	Quoted             // a quoted name: "x", `x` or [x]
	String             // a string literal: 'x'
	Number             // a numeric literal
	Blob               // a blob literal: x'00'
	Param              // a parameter: ?, ?1, :x, @x, $x
	Punct              // an operator or punctuation
)

// Token is one token of a statement.
type Token struct {
	Kind Kind
	Text string // as written
	Pos  int    // byte offset of Text in the statement
}

// End is the byte offset just after the token.
func (t Token) End() int { return t.Pos + len(t.Text) }

// Name is the name a Word or a Quoted token stands for, unquoted.
func (t Token) Name() string {
	if t.Kind != Quoted {
		return t.Text
	}
	return Unquote(t.Text)
}

// Is reports whether t is the bare word kw, in any case.
func (t Token) Is(kw string) bool { return t.Kind == Word && strings.EqualFold(t.Text, kw) }

// IsName reports whether t is a name (bare or quoted) equal to name, in
// SQLite's terms: ASCII letters compare without case.
func (t Token) IsName(name string) bool {
	return (t.Kind == Word || t.Kind == Quoted) && SameName(t.Name(), name)
}

// Tokens splits sql into tokens, leaving out spaces and comments. Text it
// cannot read (an unterminated quote) ends in one token that holds the
// rest, so that callers see something they will not match.
func Tokens(sql string) []Token {
	var toks []Token
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			if j := strings.IndexByte(sql[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(sql)
			}
			continue
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			if j := strings.Index(sql[i+2:], "*/"); j >= 0 {
				i += j + 4
			} else {
				i = len(sql)
			}
			continue
		}
		kind, end := scan(sql, i)
		toks = append(toks, Token{Kind: kind, Text: sql[i:end], Pos: i})
		i = end
	}
	return toks
}

// scan reads the token that starts at sql[i], which is not a space.
func scan(sql string, i int) (Kind, int) {
	c := sql[i]
	switch {
	case c == '\'':
		return String, closeQuote(sql, i, '\'')
	case c == '"':
		return Quoted, closeQuote(sql, i, '"')
	case c == '`':
		return Quoted, closeQuote(sql, i, '`')
	case c == '[':
		if j := strings.IndexByte(sql[i:], ']'); j >= 0 {
			return Quoted, i + j + 1
		}
		return Quoted, len(sql)
	case (c == 'x' || c == 'X') && i+1 < len(sql) && sql[i+1] == '\'':
		return Blob, closeQuote(sql, i+1, '\'')
	case isDigit(c) || c == '.' && i+1 < len(sql) && isDigit(sql[i+1]):
		return Number, number(sql, i)
	case isWordStart(c):
		j := i + 1
		for j < len(sql) && isWordPart(sql[j]) {
			j++
		}
		return Word, j
	case c == '?' || c == ':' || c == '@' || c == '$':
		j := i + 1
		for j < len(sql) && isWordPart(sql[j]) {
			j++
		}
		return Param, j
	}
	// Longest first: "->>" before "->".
	for _, op := range []string{"->>", "->", "||", "<=", ">=", "==", "!=", "<>", "<<", ">>"} {
		if strings.HasPrefix(sql[i:], op) {
			return Punct, i + len(op)
		}
	}
	return Punct, i + 1
}

// closeQuote returns the offset after the quote closing the text opened
// by q at sql[i]; a doubled q stands for itself.
func closeQuote(sql string, i int, q byte) int {
	for j := i + 1; j < len(sql); j++ {
		if sql[j] == q {
			if j+1 < len(sql) && sql[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(sql)
}

func number(sql string, i int) int {
	j := i
	if strings.HasPrefix(sql[i:], "0x") || strings.HasPrefix(sql[i:], "0X") {
		j += 2
		for j < len(sql) && (isDigit(sql[j]) || sql[j] >= 'a' && sql[j] <= 'f' || sql[j] >= 'A' && sql[j] <= 'F' || sql[j] == '_') {
			j++
		}
		return j
	}
	for j < len(sql) && (isDigit(sql[j]) || sql[j] == '.' || sql[j] == '_') {
		j++
	}
	if j < len(sql) && (sql[j] == 'e' || sql[j] == 'E') {
		k := j + 1
		if k < len(sql) && (sql[k] == '+' || sql[k] == '-') {
			k++
		}
		if k < len(sql) && isDigit(sql[k]) {
			j = k
			for j < len(sql) && isDigit(sql[j]) {
				j++
			}
		}
	}
	return j
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isWordStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
func isWordPart(c byte) bool { return isWordStart(c) || isDigit(c) || c == '$' }

// Unquote returns the name a quoted identifier stands for; other text
// comes back as it is.
func Unquote(s string) string {
	if len(s) < 2 {
		return s
	}
	switch q, last := s[0], s[len(s)-1]; {
	case q == '[' && last == ']':
		return s[1 : len(s)-1]
	case (q == '"' || q == '`' || q == '\'') && last == q:
		return strings.ReplaceAll(s[1:len(s)-1], string([]byte{q, q}), string(q))
	}
	return s
}

// SameName reports whether two names are the same to SQLite, which
// compares ASCII letters without case and other characters exactly.
func SameName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// FoldName is name in the form SameName compares, for map keys.
func FoldName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Quote writes name as a backquoted identifier, as Atlas does.
func Quote(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// QuoteString writes s as a SQL string literal.
func QuoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Mentions reports whether sql names name anywhere as an identifier
// (bare or quoted; not inside a string literal). A trigger or a view that
// reads a table or a column mentions it; a mention is not always a use
// (a column of another table may have the same name), so callers treat a
// mention as a possible use.
func Mentions(sql, name string) bool {
	for _, t := range Tokens(sql) {
		if t.IsName(name) {
			return true
		}
	}
	return false
}
