package ddl

import (
	"reflect"
	"strings"
	"testing"
)

func TestTokens(t *testing.T) {
	var got []string
	for _, tok := range Tokens("SELECT `a``b`, \"c\"\"d\", [e f], 'it''s', x'00', 1.5e3, ?1, :x -- note\n /* c */ a->>'$' || b") {
		got = append(got, tok.Text)
	}
	want := []string{"SELECT", "`a``b`", ",", `"c""d"`, ",", "[e f]", ",", "'it''s'", ",", "x'00'", ",", "1.5e3", ",", "?1", ",", ":x", "a", "->>", "'$'", "||", "b"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("tokens:\n got %q\nwant %q", got, want)
	}
	names := map[string]string{"`a``b`": "a`b", `"c""d"`: `c"d`, "[e f]": "e f", "plain": "plain"}
	for in, want := range names {
		if got := Tokens(in)[0].Name(); got != want {
			t.Errorf("Name(%s) = %q, want %q", in, got, want)
		}
	}
	// An unterminated quote swallows the rest rather than splitting it.
	if toks := Tokens("SELECT 'oops, x"); len(toks) != 2 || toks[1].Kind != String {
		t.Fatalf("unterminated: %+v", toks)
	}
}

func TestMentions(t *testing.T) {
	for _, tt := range []struct {
		sql, name string
		want      bool
	}{
		{"CREATE VIEW v AS SELECT * FROM users", "users", true},
		{"CREATE VIEW v AS SELECT * FROM `Users`", "users", true},
		{`CREATE VIEW v AS SELECT * FROM "users"`, "USERS", true},
		{"CREATE VIEW v AS SELECT 'users' FROM t", "users", false},
		{"CREATE VIEW v AS SELECT * FROM users2", "users", false},
		{"CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO b (x) VALUES (new.x); END", "x", true},
		{"CREATE VIEW v AS SELECT 1 -- users\n", "users", false},
	} {
		if got := Mentions(tt.sql, tt.name); got != tt.want {
			t.Errorf("Mentions(%q, %q) = %v", tt.sql, tt.name, got)
		}
	}
}

func TestParseCreateTable(t *testing.T) {
	tb, ok := ParseCreateTable("CREATE TABLE `new_users` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` varchar(20) NOT NULL DEFAULT ('a, (b)') COLLATE NOCASE, " +
		"`full` text GENERATED ALWAYS AS (name || 'x') STORED, v text AS (upper(name)), u int UNIQUE, " +
		"CONSTRAINT `fk` FOREIGN KEY (`x`) REFERENCES `p` (`id`) ON DELETE CASCADE, UNIQUE (name, u)) STRICT, WITHOUT ROWID;")
	if !ok {
		t.Fatal("not parsed")
	}
	if tb.Name != "new_users" || tb.Head != "CREATE TABLE `new_users`" || tb.Options != "STRICT, WITHOUT ROWID" {
		t.Fatalf("table: %+v", tb)
	}
	want := []Column{
		{Name: "id", Def: "`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT", Type: "integer", PrimaryKey: true, AutoIncrement: true},
		{Name: "name", Def: "`name` varchar(20) NOT NULL DEFAULT ('a, (b)') COLLATE NOCASE", Type: "varchar(20)", Collate: "NOCASE"},
		{Name: "full", Def: "`full` text GENERATED ALWAYS AS (name || 'x') STORED", Type: "text", Generated: true},
		{Name: "v", Def: "v text AS (upper(name))", Type: "text", Generated: true},
		{Name: "u", Def: "u int UNIQUE", Type: "int", Unique: true},
	}
	if !reflect.DeepEqual(tb.Columns, want) {
		t.Fatalf("columns:\n got %+v\nwant %+v", tb.Columns, want)
	}
	if !reflect.DeepEqual(tb.Constraints, []string{"CONSTRAINT `fk` FOREIGN KEY (`x`) REFERENCES `p` (`id`) ON DELETE CASCADE", "UNIQUE (name, u)"}) {
		t.Fatalf("constraints: %q", tb.Constraints)
	}
	if !tb.HasOption(Strict) || !tb.HasOption(WithoutRowID) || tb.HasOption(RandomRowID) {
		t.Fatal("options")
	}
	back, ok := ParseCreateTable(tb.SQL())
	if !ok || !reflect.DeepEqual(back, tb) {
		t.Fatalf("round trip:\n%s\n%+v", tb.SQL(), back)
	}

	for _, bad := range []string{"CREATE INDEX i ON t (a)", "CREATE TABLE t (a text", "CREATE TABLE (a)", "CREATE TABLE t AS SELECT 1",
		"CREATE TABLE t (a text DEFAULT 'x)", "CREATE TABLE t ()", "CREATE TABLE t (a, , b)"} {
		if _, ok := ParseCreateTable(bad); ok {
			t.Errorf("ParseCreateTable(%s) accepted", bad)
		}
	}
	if tb, ok := ParseCreateTable(`create table if not exists main."we""ird" (a int, "b,c" text, [d] real) RANDOM ROWID`); !ok || tb.Name != `we"ird` ||
		len(tb.Columns) != 3 || tb.Columns[1].Name != "b,c" || !tb.HasOption(RandomRowID) {
		t.Fatalf("quoted names: %+v", tb)
	}
}

func TestRowidAlias(t *testing.T) {
	for sql, want := range map[string]string{
		"CREATE TABLE t (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT)": "id",
		"CREATE TABLE t (id INTEGER, x text, PRIMARY KEY (id))":            "id",
		"CREATE TABLE t (id INTEGER PRIMARY KEY DESC)":                     "",
		"CREATE TABLE t (id int PRIMARY KEY)":                              "",
		"CREATE TABLE t (id text NOT NULL, PRIMARY KEY (`id`))":            "",
		"CREATE TABLE t (a integer, b integer, PRIMARY KEY (a, b))":        "",
		"CREATE TABLE t (id integer PRIMARY KEY) WITHOUT ROWID":            "",
		"CREATE TABLE t (id integer PRIMARY KEY) RANDOM ROWID":             "id",
	} {
		tb, ok := ParseCreateTable(sql)
		if !ok {
			t.Fatalf("not parsed: %s", sql)
		}
		if got := tb.RowidAlias(); got != want {
			t.Errorf("RowidAlias(%s) = %q, want %q", sql, got, want)
		}
	}
}

func TestParseCopy(t *testing.T) {
	sql := "INSERT INTO `new_t` (`id`, `note`, `b`) SELECT `id`, IFNULL(`note`, 'a, b') AS `note`, `a` FROM `t`"
	c, ok := ParseCopy(sql)
	if !ok || c.Into != "new_t" || c.From != "t" || !reflect.DeepEqual(c.Select, []string{"`id`", "IFNULL(`note`, 'a, b') AS `note`", "`a`"}) ||
		!reflect.DeepEqual(c.Targets(), []string{"id", "note", "b"}) {
		t.Fatalf("copy: %+v %v", c, ok)
	}
	if c.SQL() != sql {
		t.Fatalf("round trip: %s", c.SQL())
	}
	for _, bad := range []string{"INSERT INTO t (a) VALUES (1)", "INSERT INTO t (a, b) SELECT a FROM s", "INSERT INTO t (a) SELECT a FROM s WHERE x", "DROP TABLE t"} {
		if _, ok := ParseCopy(bad); ok {
			t.Errorf("ParseCopy(%s) accepted", bad)
		}
	}
}

func TestStatements(t *testing.T) {
	if n, ok := DropTable("DROP TABLE `users`;"); !ok || n != "users" {
		t.Errorf("DropTable: %q %v", n, ok)
	}
	if n, ok := DropOf("drop view if exists main.v", "VIEW"); !ok || n != "v" {
		t.Errorf("DropOf view: %q %v", n, ok)
	}
	if _, ok := DropTable("DROP TABLE a, b"); ok {
		t.Error("DropTable of two names")
	}
	if f, to, ok := RenameTable("ALTER TABLE `new_users` RENAME TO `users`"); !ok || f != "new_users" || to != "users" {
		t.Errorf("RenameTable: %q %q %v", f, to, ok)
	}
	if _, _, ok := RenameTable("ALTER TABLE t RENAME COLUMN a TO b"); ok {
		t.Error("RenameTable of a column")
	}
	if n, tb, ok := CreateIndex("CREATE UNIQUE INDEX IF NOT EXISTS `i` ON `users` (`a`) WHERE a > 0"); !ok || n != "i" || tb != "users" {
		t.Errorf("CreateIndex: %q %q %v", n, tb, ok)
	}
	for sql, want := range map[string]string{
		"CREATE TRIGGER t AFTER UPDATE OF a ON x BEGIN SELECT 1; END":             "UPDATE",
		"CREATE TRIGGER t BEFORE INSERT ON x BEGIN UPDATE y SET a = 1; END":       "INSERT",
		"CREATE TRIGGER `delete` DELETE ON x BEGIN SELECT 1; END":                 "DELETE",
		"CREATE TRIGGER IF NOT EXISTS t INSTEAD OF UPDATE ON v BEGIN END":         "UPDATE",
		"CREATE VIEW v AS SELECT 1":                                               "",
		"CREATE TRIGGER \"update\" AFTER INSERT ON x BEGIN SELECT 1; END":         "INSERT",
		"CREATE TRIGGER update_log AFTER DELETE ON x BEGIN SELECT 1; END":         "DELETE",
		"create temp trigger tr after update on x for each row begin end":         "UPDATE",
		"CREATE TRIGGER tr AFTER INSERT ON `update` BEGIN SELECT 1; END":          "INSERT",
		"CREATE TRIGGER tr AFTER INSERT ON x BEGIN UPDATE x SET a = 1; END":       "INSERT",
		"CREATE TRIGGER tr AFTER DELETE ON x BEGIN INSERT INTO y VALUES (1); END": "DELETE",
	} {
		if got := TriggerEvent(sql); got != want {
			t.Errorf("TriggerEvent(%s) = %q, want %q", sql, got, want)
		}
	}
}

func TestRewriteSequence(t *testing.T) {
	tests := []struct{ in, want string }{
		{`INSERT INTO sqlite_sequence (name, seq) VALUES ("users", 4294967296)`,
			`INSERT INTO sqlite_sequence (name, seq) VALUES ('users', 4294967296)`},
		{`UPDATE sqlite_sequence SET seq = 0 WHERE name = "users"`,
			`UPDATE sqlite_sequence SET seq = 0 WHERE name = 'users'`},
		// Go escapes become plain characters; quotes are doubled.
		{`INSERT INTO sqlite_sequence (name, seq) VALUES ("it's \"x\"", 1)`,
			`INSERT INTO sqlite_sequence (name, seq) VALUES ('it''s "x"', 1)`},
		{"\n  insert into SQLITE_SEQUENCE(name,seq) values (\"t\",5);",
			"\n  insert into SQLITE_SEQUENCE(name,seq) values ('t',5);"},
		// Left alone: other statements, already-right literals, identifiers.
		{`INSERT INTO sqlite_sequence (name, seq) VALUES ('users', 1)`,
			`INSERT INTO sqlite_sequence (name, seq) VALUES ('users', 1)`},
		{`CREATE TABLE "users" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT)`,
			`CREATE TABLE "users" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT)`},
		{`INSERT INTO other (name, seq) VALUES ("users", 1)`,
			`INSERT INTO other (name, seq) VALUES ("users", 1)`},
		{`INSERT INTO sqlite_sequence (name, seq) VALUES ("bad\q", 1)`,
			`INSERT INTO sqlite_sequence (name, seq) VALUES ("bad\q", 1)`},
		{`SELECT "sqlite_sequence"`, `SELECT "sqlite_sequence"`},
		{"", ""},
	}
	for _, tt := range tests {
		if got := RewriteSequence(tt.in); got != tt.want {
			t.Errorf("RewriteSequence(%s)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func BenchmarkRewriteSequenceMiss(b *testing.B) {
	q := "INSERT INTO `users` (`name`, `age`, `created_at`) VALUES (?, ?, ?) RETURNING `id`"
	for i := 0; i < b.N; i++ {
		if RewriteSequence(q) != q {
			b.Fatal("rewritten")
		}
	}
}

func TestQuote(t *testing.T) {
	if Quote("a`b") != "`a``b`" || QuoteString("it's") != "'it''s'" {
		t.Fatal("quoting")
	}
	if !SameName("Users", "uSERS") || SameName("É", "é") || FoldName("AbC") != "abc" {
		t.Fatal("names")
	}
	if !StrictType(" integer ") || StrictType("datetime") {
		t.Fatal("strict types")
	}
}

// FuzzParseCreateTable checks that whatever text it accepts, the statement
// it puts back together parses to the same parts: a rebuild built from
// them says what the database said.
func FuzzParseCreateTable(f *testing.F) {
	f.Add("CREATE TABLE `t` (`a` text NOT NULL DEFAULT ('x'), CONSTRAINT c CHECK (a <> ''))")
	f.Add(`CREATE TABLE "a""b" ([c] int, 'd' real) STRICT`)
	f.Add("CREATE TABLE t (id integer PRIMARY KEY, v text GENERATED ALWAYS AS (lower(id)) VIRTUAL, /* c */ w -- x\n)")
	f.Add("INSERT INTO `new_t` (`a`) SELECT IFNULL(`a`, 1) AS `a` FROM `t`")
	f.Fuzz(func(t *testing.T, s string) {
		Mentions(s, "a")
		RewriteSequence(s)
		TriggerEvent(s)
		if c, ok := ParseCopy(s); ok {
			if back, ok := ParseCopy(c.SQL()); !ok || !reflect.DeepEqual(back, c) {
				t.Fatalf("copy round trip of %q: %q", s, c.SQL())
			}
		}
		tb, ok := ParseCreateTable(s)
		if !ok {
			return
		}
		back, ok := ParseCreateTable(tb.SQL())
		if !ok {
			t.Fatalf("%q parsed, its reassembly %q does not", s, tb.SQL())
		}
		if !reflect.DeepEqual(back.Columns, tb.Columns) || !reflect.DeepEqual(back.Constraints, tb.Constraints) ||
			back.Name != tb.Name || back.Options != strings.TrimRight(strings.TrimSpace(tb.Options), ";") {
			t.Fatalf("round trip of %q:\n%+v\n%+v", s, tb, back)
		}
		tb.RowidAlias()
	})
}

func TestDefault(t *testing.T) {
	for _, tt := range []struct{ def, expr, without string }{
		{"`a` text NOT NULL DEFAULT ('x, (y)')", "('x, (y)')", "`a` text NOT NULL"},
		{"`a` int DEFAULT -1 NOT NULL", "-1", "`a` int NOT NULL"},
		{"`a` datetime NULL DEFAULT (CURRENT_TIMESTAMP)", "(CURRENT_TIMESTAMP)", "`a` datetime NULL"},
		{"`a` text DEFAULT CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP", "`a` text"},
		{"`a` int CHECK (a > 0) DEFAULT 3", "3", "`a` int CHECK (a > 0)"},
		{"`a` int NOT NULL", "", "`a` int NOT NULL"},
	} {
		expr, without, ok := Default(tt.def)
		if expr != tt.expr || without != tt.without || ok != (tt.expr != "") {
			t.Errorf("Default(%s) = %q, %q, %v", tt.def, expr, without, ok)
		}
	}
	for expr, want := range map[string]bool{
		"(1)": true, "-1": true, "(-1.5e3)": true, "('it''s')": true, "(true)": true, "FALSE": true, "(NULL)": true, "x'00'": true, "((2))": true,
		"(CURRENT_TIMESTAMP)": false, "(1+1)": false, "(lower('X'))": false, "('a' COLLATE NOCASE)": false, "(random())": false, "(abc)": false,
	} {
		if got := Constant(expr); got != want {
			t.Errorf("Constant(%s) = %v", expr, got)
		}
	}
}
