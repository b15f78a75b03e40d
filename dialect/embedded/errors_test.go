package embedded

import (
	"database/sql/driver"
	"errors"
	"io"
	"testing"

	"github.com/entlibsql/entlibsql/dialect/libsql"
)

// The forms go-libsql's errors take (as measured with its engine), and
// what the driver makes of them.
func TestMapError(t *testing.T) {
	tests := []struct {
		in         string
		code, text string
	}{
		{"failed to execute query INSERT INTO t (b, c) VALUES ('x', 1)\nerror code = 2: Error executing statement: SQLite failure: `UNIQUE constraint failed: t.b`",
			"SQLITE_CONSTRAINT_UNIQUE", "UNIQUE constraint failed: t.b"},
		{"failed to execute query INSERT INTO t (b,c,d) VALUES ('z',1,99)\nerror code = 2: Error executing statement: SQLite failure: `FOREIGN KEY constraint failed`",
			"SQLITE_CONSTRAINT_FOREIGNKEY", "FOREIGN KEY constraint failed"},
		{"failed to execute query INSERT INTO t (b,c) VALUES (NULL, 1)\nerror code = 2: Error executing statement: SQLite failure: `NOT NULL constraint failed: t.b`",
			"SQLITE_CONSTRAINT_NOTNULL", "NOT NULL constraint failed: t.b"},
		{"failed to execute query SELEC 1\nerror code = 2: Error executing statement: SQLite failure: `near \"SELEC\": syntax error`",
			"SQLITE_ERROR", `near "SELEC": syntax error`},
		{"failed to prepare query SELECT `x` FROM t\nerror code = 1: Error executing statement: SQLite failure: `no such column: `x``",
			"SQLITE_ERROR", "no such column: `x`"},
		{"failed to execute query COMMIT\nerror code = 2: Error executing statement: SQLite failure: `database is locked`",
			"SQLITE_BUSY", "database is locked"},
		{"failed to execute query SELECT 1\nerror code = 2: Error executing statement: SQLite failure: `CHECK constraint failed: c > 0\nand more`",
			"SQLITE_CONSTRAINT_CHECK", "CHECK constraint failed: c > 0 and more"},
		{"failed to connect to database\nerror code = 3: connection closed", "", "connection closed"},
		{"failed to get next row\nerror code = 4", "", "failed to get next row"},
	}
	for _, tt := range tests {
		var e *libsql.Error
		if err := mapError(errors.New(tt.in)); !errors.As(err, &e) || e.Code != tt.code || e.Message != tt.text {
			t.Errorf("mapError(%q) = %#v, want code %q message %q", tt.in, err, tt.code, tt.text)
		}
	}
	for _, keep := range []error{nil, io.EOF, driver.ErrSkip, driver.ErrBadConn, errors.New("plain")} {
		if got := mapError(keep); got != keep {
			t.Errorf("mapError(%v) = %v, want it unchanged", keep, got)
		}
	}
}
