package libsql

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/entlibsql/entlibsql/internal/hrana"
)

// TestRetryPolicy is the policy of retry.go as a table.
func TestRetryPolicy(t *testing.T) {
	lost := &hrana.TransportError{Err: errors.New("EOF")}
	unsent := &hrana.TransportError{Err: errors.New("connection refused"), NotSent: true}
	timeout := &hrana.TransportError{Err: &hrana.TimeoutError{}}
	for _, c := range []struct {
		name       string
		err        error
		read, held bool
		want       bool
	}{
		{"unsent write", unsent, false, false, true},
		{"unsent read", unsent, true, false, true},
		{"unsent, in a transaction", unsent, false, true, false},
		{"lost write", lost, false, false, false},
		{"lost read", lost, true, false, true},
		{"lost read in a transaction", lost, true, true, false},
		{"read, 502", &hrana.HTTPError{Status: 502}, true, false, true},
		{"write, 502", &hrana.HTTPError{Status: 502}, false, false, false},
		{"read, 401", &hrana.HTTPError{Status: 401}, true, false, false},
		{"read, malformed answer", &hrana.ProtocolError{Msg: "x"}, true, false, true},
		{"read, SQL error", &hrana.Error{Message: "no such table"}, true, false, false},
		{"read, request timeout", timeout, true, false, false},
		{"unsent, request timeout", &hrana.TransportError{Err: fmt.Errorf("dial: %w", context.DeadlineExceeded), NotSent: true}, false, false, false},
		{"read, cancelled", &hrana.TransportError{Err: context.Canceled}, true, false, false},
		// Rule 1: only sqld's own answer proves that nothing ran.
		{"write, unknown baton", &hrana.HTTPError{Status: 400, Message: "Received an invalid baton"}, false, false, true},
		{"write, expired stream", &hrana.HTTPError{Status: 400, Message: "The stream has expired due to inactivity", Code: "STREAM_EXPIRED"}, false, false, true},
		{"write, unknown baton, in a transaction", &hrana.HTTPError{Status: 400, Message: "Received an invalid baton"}, false, true, false},
		{"write, a proxy's 400", &hrana.HTTPError{Status: 400, Message: "Bad Request"}, false, false, false},
		{"read, a proxy's 400", &hrana.HTTPError{Status: 400, Message: "Bad Request"}, true, false, false},
		// Never: a redirect not followed, an answer too large, a SQL error
		// (sqld's 500 for a refused cursor batch included).
		{"read, redirect", &hrana.HTTPError{Status: 307, Message: "redirected"}, true, false, false},
		{"read, too large", &hrana.ResponseTooLargeError{What: "a cursor entry", Limit: 1}, true, false, false},
		{"read, too large over WebSocket", &hrana.TransportError{Err: &hrana.SocketLostError{Cause: &hrana.ResponseTooLargeError{}}}, true, false, false},
		{"read, refused cursor batch", &hrana.Error{Message: "SQL string could not be parsed", Code: "SQL_PARSE_ERROR"}, true, false, false},
		{"read, socket lost", &hrana.TransportError{Err: &hrana.SocketLostError{Cause: errors.New("EOF")}}, true, false, true},
		{"write, socket lost", &hrana.TransportError{Err: &hrana.SocketLostError{Cause: errors.New("EOF")}}, false, false, false},
		// Rule 3 resends a 429 itself (conn.attempt), with backoff; it is
		// no bad connection for database/sql.
		{"read, 429", &hrana.HTTPError{Status: 429}, true, false, false},
		{"unsent, hello_error", &hrana.TransportError{Err: &hrana.HTTPError{Status: 401, Message: "hello_error"}, NotSent: true}, true, false, false},
		{"unsent, WebSocket upgrade redirected", &hrana.TransportError{Err: &hrana.HTTPError{Status: 307}, NotSent: true}, true, false, false},
		{"unsent, WebSocket upgrade refused 503", &hrana.TransportError{Err: &hrana.HTTPError{Status: 503}, NotSent: true}, false, false, true},
	} {
		if got := retryable(c.err, c.read, c.held); got != c.want {
			t.Errorf("%s: retryable = %v, want %v", c.name, got, c.want)
		}
	}
	for sql, want := range map[string]bool{
		"SELECT 1": true, " /* c */ select * from t": true, "VALUES (1)": true, "EXPLAIN SELECT 1": true,
		"INSERT INTO t VALUES (1)": false, "WITH x AS (SELECT 1) DELETE FROM t": false, "PRAGMA foreign_keys": false,
	} {
		if got := isRead(sql); got != want {
			t.Errorf("isRead(%q) = %v", sql, got)
		}
	}
}

// TestResendableOnAWarmStream is rule 1 for conn.attempt's immediate
// resend on a fresh stream.
func TestResendableOnAWarmStream(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&hrana.HTTPError{Status: 400, Message: "Received an invalid baton"}, true},
		{&hrana.TransportError{Err: errors.New("refused"), NotSent: true}, true},
		{&hrana.HTTPError{Status: 400, Message: "Bad Request"}, false},
		{&hrana.HTTPError{Status: 500}, false},
		{&hrana.TransportError{Err: errors.New("EOF")}, false},
	} {
		if got := resendable(c.err); got != c.want {
			t.Errorf("%v: %v", c.err, got)
		}
	}
}
