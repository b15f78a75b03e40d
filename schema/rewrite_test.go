package schema

import "testing"

// The rewrite itself is tested in internal/ddl; this is the public door.
func TestRewrite(t *testing.T) {
	in := `INSERT INTO sqlite_sequence (name, seq) VALUES ("users", 4294967296)`
	if got, want := Rewrite(in), `INSERT INTO sqlite_sequence (name, seq) VALUES ('users', 4294967296)`; got != want {
		t.Fatalf("Rewrite = %s", got)
	}
}
