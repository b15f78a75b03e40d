package schema

import (
	"regexp"
	"strconv"
	"strings"
)

// sqld is built without double-quoted string literals, but Atlas writes
// the table name of a sqlite_sequence row with Go's %q: sqld reads
// "users" as a column and fails with "no such column: users". That breaks
// ent's WithGlobalUniqueID and every autoincrement start.
var (
	seqInsertRe = regexp.MustCompile(`(?is)^(\s*INSERT\s+INTO\s+sqlite_sequence\s*\(\s*name\s*,\s*seq\s*\)\s*VALUES\s*\(\s*)("(?:[^"\\]|\\.)*")(\s*,\s*-?\d+\s*\)\s*;?\s*)$`)
	seqUpdateRe = regexp.MustCompile(`(?is)^(\s*UPDATE\s+sqlite_sequence\s+SET\s+seq\s*=\s*-?\d+\s+WHERE\s+name\s*=\s*)("(?:[^"\\]|\\.)*")(\s*;?\s*)$`)
)

// Rewrite returns stmt as sqld accepts it. Statements that need no change
// come back as they are.
func Rewrite(stmt string) string {
	for _, re := range []*regexp.Regexp{seqInsertRe, seqUpdateRe} {
		if m := re.FindStringSubmatch(stmt); m != nil {
			if lit, ok := sqlString(m[2]); ok {
				return m[1] + lit + m[3]
			}
		}
	}
	return stmt
}

// sqlString turns a Go-quoted string into a SQL string literal.
func sqlString(goQuoted string) (string, bool) {
	s, err := strconv.Unquote(goQuoted)
	if err != nil {
		return "", false
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'", true
}
