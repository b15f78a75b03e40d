package libsql

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/entlibsql/entlibsql/internal/hrana"
)

// Error is an error reported by the server: a failed statement, a
// constraint violation, a rejected request. Use errors.As to reach it.
//
// A SQLite error reads as SQLite's own message, exactly as with
// go-sqlite3 (for example "UNIQUE constraint failed: users.name"); the
// codes are in its fields. Other errors (sqld's own, HTTP, authentication)
// read "libsql: …" with their code.
type Error struct {
	// Code is the most specific SQLite result code known, such as
	// SQLITE_CONSTRAINT_UNIQUE. sqld reports only the primary code
	// (SQLITE_CONSTRAINT) for constraint failures; the extended code is
	// then read from SQLite's message.
	Code string
	// ServerCode is the code exactly as the server sent it (may be empty).
	ServerCode string
	// Message is the server's message; for a SQLite error, SQLite's own
	// (sqld's "SQLite error: " before it removed).
	Message string
	// HTTPStatus is set when the server answered with an HTTP error.
	HTTPStatus int
}

func (e *Error) Error() string {
	if e.isSQLite() {
		return e.Message
	}
	var b strings.Builder
	b.WriteString("libsql: ")
	if e.HTTPStatus == 401 || e.HTTPStatus == 403 {
		b.WriteString("authentication failed: ")
	}
	b.WriteString(e.Message)
	if e.Code != "" {
		b.WriteString(" (" + e.Code + ")")
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " [HTTP %d]", e.HTTPStatus)
	}
	return b.String()
}

// isSQLite reports whether e is SQLite's own error for a statement.
func (e *Error) isSQLite() bool {
	return e.HTTPStatus == 0 && strings.HasPrefix(e.Code, "SQLITE_")
}

// constraintCodes refines SQLITE_CONSTRAINT by SQLite's own message text,
// which names the kind of constraint that failed.
var constraintCodes = []struct{ text, code string }{
	{"UNIQUE constraint failed", "SQLITE_CONSTRAINT_UNIQUE"},
	{"FOREIGN KEY constraint failed", "SQLITE_CONSTRAINT_FOREIGNKEY"},
	{"CHECK constraint failed", "SQLITE_CONSTRAINT_CHECK"},
	{"NOT NULL constraint failed", "SQLITE_CONSTRAINT_NOTNULL"},
	{"PRIMARY KEY constraint failed", "SQLITE_CONSTRAINT_PRIMARYKEY"},
}

// sqldPrefixes are how sqld introduces SQLite's message: its own, and a
// replica's for an error of the primary.
var sqldPrefixes = []string{"error executing a request on the primary: ", "SQLite error: "}

func serverError(he *hrana.Error) *Error {
	e := &Error{Code: he.Code, ServerCode: he.Code, Message: he.Message}
	// A replica forwards writes to its primary and reports the primary's
	// errors as PROXY_ERROR with the message alone: read the code from it.
	if he.Code == "SQLITE_CONSTRAINT" || he.Code == "PROXY_ERROR" {
		for _, c := range constraintCodes {
			if strings.Contains(he.Message, c.text) {
				e.Code = c.code
				break
			}
		}
	}
	if strings.HasPrefix(e.Code, "SQLITE_") {
		for _, p := range sqldPrefixes {
			e.Message = strings.TrimPrefix(e.Message, p)
		}
	}
	return e
}

// mapError turns what the Hrana layer returned into the driver's errors:
// a *Error for what the server reported, and otherwise one "libsql: "
// before the cause.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var he *hrana.Error
	if errors.As(err, &he) {
		return serverError(he)
	}
	var hte *hrana.HTTPError
	if errors.As(err, &hte) {
		return &Error{Code: hte.Code, ServerCode: hte.Code, Message: hte.Message, HTTPStatus: hte.Status}
	}
	if errors.Is(err, driver.ErrBadConn) || strings.HasPrefix(err.Error(), "libsql: ") {
		return err
	}
	return &prefixed{err: err}
}

// prefixed is an error from below with the driver's prefix.
type prefixed struct{ err error }

func (e *prefixed) Error() string { return "libsql: " + e.err.Error() }
func (e *prefixed) Unwrap() error { return e.err }

// wrapError says what failed before err's own text, with one prefix
// ("libsql: what: cause"), and wraps it.
func wrapError(what string, err error) error { return &wrapped{what: what, err: err} }

type wrapped struct {
	what string
	err  error
}

func (e *wrapped) Error() string {
	return "libsql: " + e.what + ": " + strings.TrimPrefix(e.err.Error(), "libsql: ")
}
func (e *wrapped) Unwrap() error { return e.err }

// IsConstraintError reports whether err is a constraint violation reported
// by the server.
func IsConstraintError(err error) bool {
	var e *Error
	return errors.As(err, &e) && strings.HasPrefix(e.Code, "SQLITE_CONSTRAINT")
}

// badConnError is driver.ErrBadConn, so that database/sql retries on
// another connection, carrying why the request could not be sent: after
// its last retry database/sql returns it as it is, and the user reads the
// cause (a refused connection, a certificate, the token function) rather
// than "driver: bad connection".
type badConnError struct{ cause error }

func (e *badConnError) Error() string        { return e.cause.Error() }
func (e *badConnError) Unwrap() error        { return e.cause }
func (e *badConnError) Is(target error) bool { return target == driver.ErrBadConn }
