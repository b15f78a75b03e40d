package ddl

import (
	"regexp"
	"strconv"
	"strings"
)

// sqld is built without double-quoted string literals, but Atlas writes
// the table name of a sqlite_sequence row with Go's %q, and ent's own
// versioned migration files carry such rows: sqld reads "users" as a
// column and fails with "no such column: users". That breaks ent's
// WithGlobalUniqueID and every autoincrement start.
var (
	seqInsertRe = regexp.MustCompile(`(?is)^(\s*INSERT\s+INTO\s+sqlite_sequence\s*\(\s*name\s*,\s*seq\s*\)\s*VALUES\s*\(\s*)("(?:[^"\\]|\\.)*")(\s*,\s*-?\d+\s*\)\s*;?\s*)$`)
	seqUpdateRe = regexp.MustCompile(`(?is)^(\s*UPDATE\s+sqlite_sequence\s+SET\s+seq\s*=\s*-?\d+\s+WHERE\s+name\s*=\s*)("(?:[^"\\]|\\.)*")(\s*;?\s*)$`)
)

// RewriteSequence returns stmt with the table name of a sqlite_sequence
// row Atlas wrote ("users") as the string literal sqld accepts ('users').
// Every other statement comes back as it is, cheaply: it is called on
// every statement the driver runs.
func RewriteSequence(stmt string) string {
	if !mayWriteSequence(stmt) {
		return stmt
	}
	for _, re := range []*regexp.Regexp{seqInsertRe, seqUpdateRe} {
		if m := re.FindStringSubmatch(stmt); m != nil {
			if lit, ok := goQuotedToSQL(m[2]); ok {
				return m[1] + lit + m[3]
			}
		}
	}
	return stmt
}

// mayWriteSequence is the cheap test before the regular expressions: an
// INSERT or UPDATE naming sqlite_sequence with a double quote in it.
func mayWriteSequence(stmt string) bool {
	i := 0
	for i < len(stmt) && (stmt[i] == ' ' || stmt[i] == '\t' || stmt[i] == '\n' || stmt[i] == '\r') {
		i++
	}
	if i == len(stmt) {
		return false
	}
	if c := stmt[i] | 0x20; c != 'i' && c != 'u' {
		return false
	}
	return strings.IndexByte(stmt, '"') >= 0 && containsFold(stmt, "sqlite_sequence")
}

// containsFold reports whether s contains the lower-case ASCII word sub
// in any case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) && s[i+j]|0x20 == sub[j]|0x20 {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// goQuotedToSQL turns a Go-quoted string into a SQL string literal.
func goQuotedToSQL(goQuoted string) (string, bool) {
	s, err := strconv.Unquote(goQuoted)
	if err != nil {
		return "", false
	}
	return QuoteString(s), true
}
