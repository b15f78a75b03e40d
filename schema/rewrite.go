package schema

import "github.com/entlibsql/entlibsql/internal/ddl"

// Rewrite returns stmt as sqld accepts it: the sqlite_sequence rows Atlas
// writes with double-quoted strings (ent's WithGlobalUniqueID, and ent's
// own migration files), which sqld refuses, get single quotes. Other
// statements come back as they are. The libSQL driver applies it to
// every statement it runs; it is here for plans run some other way.
func Rewrite(stmt string) string { return ddl.RewriteSequence(stmt) }
