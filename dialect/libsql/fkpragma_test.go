package libsql

import (
	"strings"
	"testing"
)

func TestFKPragma(t *testing.T) {
	tests := []struct {
		sql    string
		on, ok bool
	}{
		{"PRAGMA foreign_keys = off", false, true},
		{"PRAGMA foreign_keys = on", true, true},
		{"  pragma FOREIGN_KEYS=0;", false, true},
		{"PRAGMA main.foreign_keys = 1", true, true},
		{"PRAGMA foreign_keys = 'off'", false, true},
		{"PRAGMA foreign_keys = yes", true, true},
		{"PRAGMA foreign_keys", false, false},         // a read runs as usual
		{"PRAGMA foreign_key_check", false, false},    // likewise
		{"PRAGMA foreign_keys = maybe", false, false}, // the server judges it
		{"PRAGMA foreign_keys = off; DROP TABLE x", false, false},
		{"SELECT 'PRAGMA foreign_keys = off'", false, false},
	}
	for _, tt := range tests {
		on, ok := fkPragma(tt.sql)
		if on != tt.on || ok != tt.ok {
			t.Errorf("fkPragma(%q) = %v, %v; want %v, %v", tt.sql, on, ok, tt.on, tt.ok)
		}
	}
}

// One migration's "on" must not cancel another's waiting "off".
func TestFKRequestsInterleaved(t *testing.T) {
	var r fkRequests
	r.add() // migration A: off
	if !r.take() {
		t.Fatal("A could not take its request")
	}
	r.add()  // migration B: off
	r.done() // A: on
	if !r.pending() || !r.take() {
		t.Fatal("B's request was cancelled by A's on")
	}
	r.done() // B: on
	if r.pending() || r.waiting != 0 || r.taken != 0 {
		t.Fatalf("left over: %d waiting, %d taken", r.waiting, r.taken)
	}
	r.done() // a stray "on" is harmless
	if r.waiting != 0 || r.taken != 0 {
		t.Fatalf("after a stray on: %d waiting, %d taken", r.waiting, r.taken)
	}
}

func TestSmallResult(t *testing.T) {
	for sql, want := range map[string]bool{
		"SELECT * FROM users WHERE id = ? LIMIT 2":  true,
		"SELECT * FROM t LIMIT 1000 OFFSET 5000":    true,
		"select * from t limit 10;":                 true,
		"SELECT * FROM t LIMIT 1001":                false,
		"SELECT * FROM t":                           false,
		"SELECT * FROM t LIMIT ?":                   false,
		"SELECT * FROM (SELECT * FROM t LIMIT 2) x": false,
	} {
		if got := smallResult(sql); got != want {
			t.Errorf("smallResult(%q) = %v", sql, got)
		}
	}
}

func TestStreams(t *testing.T) {
	for sql, want := range map[string]bool{
		"SELECT * FROM posts":                               true,
		"  with n as (select 1) select * from n":            true,
		"SELECT * FROM users WHERE id = ? LIMIT 2":          false,
		"INSERT INTO posts (title) VALUES (?) RETURNING id": false,
		"UPDATE posts SET views = 1 RETURNING id":           false,
		"PRAGMA foreign_key_check":                          false,
	} {
		if got := streams(sql); got != want {
			t.Errorf("streams(%q) = %v", sql, got)
		}
	}
}

func TestLastWords(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{
		{"SELECT * FROM t LIMIT 2", 4, "FROM t LIMIT 2"},
		{"a\tb\nc", 4, "a b c"},
		{"  x  ", 2, "x"},
		{"", 3, ""},
	} {
		if got := strings.Join(lastWords(tt.s, tt.n), " "); got != tt.want {
			t.Errorf("lastWords(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}
