package schema

import "testing"

func TestRewrite(t *testing.T) {
	tests := []struct{ in, want string }{
		{`INSERT INTO sqlite_sequence (name, seq) VALUES ("users", 4294967296)`,
			`INSERT INTO sqlite_sequence (name, seq) VALUES ('users', 4294967296)`},
		{`UPDATE sqlite_sequence SET seq = 0 WHERE name = "users"`,
			`UPDATE sqlite_sequence SET seq = 0 WHERE name = 'users'`},
		// Go escapes become plain characters; quotes are doubled.
		{`INSERT INTO sqlite_sequence (name, seq) VALUES ("it's \"x\"", 1)`,
			`INSERT INTO sqlite_sequence (name, seq) VALUES ('it''s "x"', 1)`},
		{`insert into sqlite_sequence(name,seq) values ("t",5);`,
			`insert into sqlite_sequence(name,seq) values ('t',5);`},
		// Left alone: other statements, already-right literals, identifiers.
		{`INSERT INTO sqlite_sequence (name, seq) VALUES ('users', 1)`,
			`INSERT INTO sqlite_sequence (name, seq) VALUES ('users', 1)`},
		{`CREATE TABLE "users" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT)`,
			`CREATE TABLE "users" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT)`},
		{`INSERT INTO other (name, seq) VALUES ("users", 1)`,
			`INSERT INTO other (name, seq) VALUES ("users", 1)`},
		{`INSERT INTO sqlite_sequence (name, seq) VALUES ("bad\q", 1)`,
			`INSERT INTO sqlite_sequence (name, seq) VALUES ("bad\q", 1)`},
	}
	for _, tt := range tests {
		if got := Rewrite(tt.in); got != tt.want {
			t.Errorf("Rewrite(%s)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}
