package embedded

import (
	"database/sql/driver"
	"errors"
	"io"
	"regexp"
	"strings"

	"github.com/entlibsql/entlibsql/dialect/libsql"
)

// go-libsql reports a failure as text of two or more lines: what it was
// doing (for a statement, the whole SQL text), then "error code = N: "
// and libSQL's own error, which for SQLite's errors reads "... SQLite
// failure: `MESSAGE`". N is go-libsql's status, not a SQLite code, and
// SQLite's code itself is not in the text. mapError makes it the error the
// server path gives: a *libsql.Error with SQLite's message alone (one
// line, no SQL) and the code its message stands for.

var statusLine = regexp.MustCompile(`\nerror code = -?\d+(?:: )?`)

// sqliteCodes are SQLite's result codes by the message SQLite words them
// with (sqlite3ErrStr, and the constraint messages), most specific first.
var sqliteCodes = []struct{ text, code string }{
	{"UNIQUE constraint failed", "SQLITE_CONSTRAINT_UNIQUE"},
	{"FOREIGN KEY constraint failed", "SQLITE_CONSTRAINT_FOREIGNKEY"},
	{"CHECK constraint failed", "SQLITE_CONSTRAINT_CHECK"},
	{"NOT NULL constraint failed", "SQLITE_CONSTRAINT_NOTNULL"},
	{"PRIMARY KEY constraint failed", "SQLITE_CONSTRAINT_PRIMARYKEY"},
	{"constraint failed", "SQLITE_CONSTRAINT"},
	{"database table is locked", "SQLITE_LOCKED"},
	{"database is locked", "SQLITE_BUSY"},
	{"attempt to write a readonly database", "SQLITE_READONLY"},
	{"disk I/O error", "SQLITE_IOERR"},
	{"database disk image is malformed", "SQLITE_CORRUPT"},
	{"database or disk is full", "SQLITE_FULL"},
	{"unable to open database file", "SQLITE_CANTOPEN"},
	{"string or blob too big", "SQLITE_TOOBIG"},
	{"datatype mismatch", "SQLITE_MISMATCH"},
	{"file is not a database", "SQLITE_NOTADB"},
	{"interrupted", "SQLITE_INTERRUPT"},
	{"out of memory", "SQLITE_NOMEM"},
}

// mapError turns a go-libsql error into a *libsql.Error; any other error
// (io.EOF, driver.ErrSkip, a context's) is returned as it is.
func mapError(err error) error {
	if err == nil || err == io.EOF || errors.Is(err, driver.ErrSkip) || errors.Is(err, driver.ErrBadConn) {
		return err
	}
	text := err.Error()
	loc := statusLine.FindStringIndex(text)
	if loc == nil {
		return err
	}
	detail := text[loc[1]:]
	if i := strings.Index(detail, "SQLite failure: `"); i >= 0 {
		msg := detail[i+len("SQLite failure: `"):]
		if j := strings.LastIndexByte(msg, '`'); j >= 0 {
			msg = msg[:j]
		}
		return &libsql.Error{Code: sqliteCode(msg), Message: oneLine(msg)}
	}
	if detail == "" {
		// Only what go-libsql was doing, whose first words say it
		// ("failed to execute query" and the SQL).
		detail, _, _ = strings.Cut(text, "\n")
		if len(detail) > 120 {
			detail = detail[:120] + "…"
		}
	}
	return &libsql.Error{Message: oneLine(detail)}
}

func sqliteCode(msg string) string {
	for _, c := range sqliteCodes {
		if strings.Contains(msg, c.text) {
			return c.code
		}
	}
	return "SQLITE_ERROR"
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.TrimSpace(s)), " ")
}
