package hrana

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Error is an error the server reported for a request or a batch step:
// a SQL error, a constraint failure, a rejected statement.
type Error struct {
	Message string `json:"message"`
	Code    string `json:"code"` // e.g. SQLITE_CONSTRAINT, SQL_PARSE_ERROR; may be empty
}

func (e *Error) Error() string {
	if e.Code == "" {
		return e.Message
	}
	return e.Message + " (" + e.Code + ")"
}

// HTTPError is a non-2xx answer. Per the spec the stream it was sent on is
// no longer valid.
type HTTPError struct {
	Status  int
	Message string // the server's error text, or a short excerpt of the body
	Code    string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("hrana: HTTP %d", e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	return msg
}

// ProtocolError means the server's answer broke the protocol.
type ProtocolError struct {
	Msg string
	Err error
}

func (e *ProtocolError) Error() string {
	if e.Err != nil {
		return "hrana: protocol error: " + e.Msg + ": " + e.Err.Error()
	}
	return "hrana: protocol error: " + e.Msg
}

func (e *ProtocolError) Unwrap() error { return e.Err }

// TransportError wraps a failure to exchange a request with the server.
// NotSent is true when the request provably never reached the server, so
// repeating it cannot apply anything twice.
type TransportError struct {
	Err     error
	NotSent bool
}

func (e *TransportError) Error() string { return "hrana: " + e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }

// EncodeError means a request could not be encoded (a value JSON cannot
// carry, text that is not UTF-8). Nothing was sent.
type EncodeError struct {
	Err error
}

func (e *EncodeError) Error() string { return e.Err.Error() }
func (e *EncodeError) Unwrap() error { return e.Err }

// IsStreamLost reports whether err means the server no longer holds the
// stream (expired, unknown baton, server restarted): its connection state,
// including any open transaction, is gone.
func IsStreamLost(err error) bool {
	var he *HTTPError
	return errors.As(err, &he) && he.Status >= 400
}

func validUTF8(s string) bool { return utf8.ValidString(s) }
