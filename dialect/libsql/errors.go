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
type Error struct {
	// Code is the most specific SQLite result code known, such as
	// SQLITE_CONSTRAINT_UNIQUE. sqld reports only the primary code
	// (SQLITE_CONSTRAINT) for constraint failures; the extended code is
	// then read from SQLite's message.
	Code string
	// ServerCode is the code exactly as the server sent it (may be empty).
	ServerCode string
	// Message is the server's message.
	Message string
	// HTTPStatus is set when the server answered with an HTTP error.
	HTTPStatus int
}

func (e *Error) Error() string {
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

// constraintCodes refines SQLITE_CONSTRAINT by SQLite's own message text,
// which names the kind of constraint that failed.
var constraintCodes = []struct{ text, code string }{
	{"UNIQUE constraint failed", "SQLITE_CONSTRAINT_UNIQUE"},
	{"FOREIGN KEY constraint failed", "SQLITE_CONSTRAINT_FOREIGNKEY"},
	{"CHECK constraint failed", "SQLITE_CONSTRAINT_CHECK"},
	{"NOT NULL constraint failed", "SQLITE_CONSTRAINT_NOTNULL"},
	{"PRIMARY KEY constraint failed", "SQLITE_CONSTRAINT_PRIMARYKEY"},
}

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
	return e
}

// mapError turns what the Hrana layer returned into the driver's errors.
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
	if errors.Is(err, driver.ErrBadConn) {
		return err
	}
	if strings.HasPrefix(err.Error(), "libsql: ") {
		return err
	}
	return fmt.Errorf("libsql: %w", err)
}

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
