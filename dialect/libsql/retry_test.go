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
