package rebuild

import (
	"database/sql"
	"errors"
	"strings"
	"testing"
)

// An Atlas rebuild of "users" (note made nullable), as ent plans it.
var atlasPlan = []string{
	"CREATE TABLE `other` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT)",
	"CREATE TABLE `new_users` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL, `note` text NULL)",
	"INSERT INTO `new_users` (`id`, `name`, `note`) SELECT `id`, `name`, `note` FROM `users`",
	"DROP TABLE `users`",
	"ALTER TABLE `new_users` RENAME TO `users`",
	"CREATE INDEX `users_name` ON `users` (`name`)",
	"CREATE INDEX `other_x` ON `other` (`id`)",
}

func usersCatalog() *Catalog {
	return &Catalog{
		Objects: []Object{
			{"table", "users", "users", "CREATE TABLE users (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL COLLATE NOCASE, `note` text NOT NULL, " +
				"legacy text DEFAULT 'x', lname text GENERATED ALWAYS AS (lower(name)) VIRTUAL) STRICT"},
			{"index", "users_name", "users", "CREATE INDEX `users_name` ON `users` (`name`)"},
			{"index", "users_lower", "users", "CREATE INDEX users_lower ON users (lower(name))"},
			{"table", "audit", "audit", "CREATE TABLE audit (msg text)"},
			{"trigger", "users_log", "users", "CREATE TRIGGER users_log AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (new.name); END"},
			{"view", "names", "names", "CREATE VIEW names AS SELECT name FROM users"},
			{"view", "names2", "names2", "CREATE VIEW names2 AS SELECT * FROM names"},
			{"trigger", "names_ins", "names", "CREATE TRIGGER names_ins INSTEAD OF INSERT ON names BEGIN SELECT 1; END"},
			{"trigger", "audit_users", "audit", "CREATE TRIGGER audit_users AFTER DELETE ON audit BEGIN DELETE FROM users; END"},
			{"table", "sqlite_stat1", "sqlite_stat1", "CREATE TABLE sqlite_stat1(tbl,idx,stat)"},
		},
		Stats: []Stat{
			{Table: "users", Index: sql.NullString{String: "users_name", Valid: true}, Stat: "10 2"},
			{Table: "users", Index: sql.NullString{String: "users_lower", Valid: true}, Stat: "10 3"},
			{Table: "other", Stat: "5"},
		},
	}
}

func TestFind(t *testing.T) {
	blocks := Find(atlasPlan)
	want := Block{Table: "users", Temp: "new_users", Create: 1, Copy: 2, Drop: 3, Rename: 4, End: 5}
	if len(blocks) != 1 || blocks[0] != want {
		t.Fatalf("blocks: %+v", blocks)
	}
	if b := Find([]string{"CREATE TABLE a (x)", "ALTER TABLE a RENAME TO b"}); len(b) != 0 {
		t.Fatalf("a rename of a new table is no rebuild: %+v", b)
	}
}

func TestKeep(t *testing.T) {
	out, err := Keep(atlasPlan, usersCatalog(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range out {
		got = append(got, s.SQL)
	}
	want := []string{
		atlasPlan[0],
		"CREATE TABLE `new_users` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL COLLATE NOCASE, `note` text NULL, legacy text DEFAULT 'x', lname text GENERATED ALWAYS AS (lower(name)) VIRTUAL) STRICT",
		"INSERT INTO `new_users` (`id`, `name`, `note`, `legacy`) SELECT `id`, `name`, `note`, `legacy` FROM `users`",
		"UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM sqlite_sequence WHERE name = 'users' COLLATE NOCASE) WHERE name = 'new_users' COLLATE NOCASE AND seq < (SELECT max(seq) FROM sqlite_sequence WHERE name = 'users' COLLATE NOCASE)",
		"INSERT INTO sqlite_sequence (name, seq) SELECT 'new_users', seq FROM sqlite_sequence WHERE name = 'users' COLLATE NOCASE AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'new_users' COLLATE NOCASE) ORDER BY seq DESC LIMIT 1",
		"DROP VIEW `names`",
		"DROP VIEW `names2`",
		"DROP TRIGGER `audit_users`",
		atlasPlan[3], atlasPlan[4], atlasPlan[5],
		"CREATE INDEX users_lower ON users (lower(name))",
		"CREATE TRIGGER users_log AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (new.name); END",
		"CREATE VIEW names AS SELECT name FROM users",
		"CREATE VIEW names2 AS SELECT * FROM names",
		"CREATE TRIGGER names_ins INSTEAD OF INSERT ON names BEGIN SELECT 1; END",
		"CREATE TRIGGER audit_users AFTER DELETE ON audit BEGIN DELETE FROM users; END",
		"INSERT INTO sqlite_stat1 (tbl, idx, stat) SELECT 'users', 'users_name', '10 2' WHERE EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'users_name' AND tbl_name = 'users' AND sql = 'CREATE INDEX `users_name` ON `users` (`name`)') AND NOT EXISTS (SELECT 1 FROM sqlite_stat1 WHERE tbl = 'users' AND idx = 'users_name')",
		"INSERT INTO sqlite_stat1 (tbl, idx, stat) SELECT 'users', 'users_lower', '10 3' WHERE EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'users_lower' AND tbl_name = 'users' AND sql = 'CREATE INDEX users_lower ON users (lower(name))') AND NOT EXISTS (SELECT 1 FROM sqlite_stat1 WHERE tbl = 'users' AND idx = 'users_lower')",
		atlasPlan[6],
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("kept plan:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, s := range out {
		if s.From < 0 && s.Comment == "" {
			t.Errorf("added without a comment: %s", s.SQL)
		}
	}
}

func TestKeepRefuses(t *testing.T) {
	plan := append([]string(nil), atlasPlan...)
	plan[1] = "CREATE TABLE `new_users` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `note` datetime NULL)"
	plan[2] = "INSERT INTO `new_users` (`id`, `note`) SELECT `id`, `note` FROM `users`"
	_, err := Keep(plan, usersCatalog(), func(string) Intent { return Intent{DropColumns: []string{"name"}} })
	var ke *Error
	if !errors.As(err, &ke) || ke.Table != "users" {
		t.Fatalf("want an *Error for users, got %v", err)
	}
	msg := err.Error()
	if strings.Contains(err.Error(), "users_lower") {
		t.Errorf("an index on a dropped column goes with it, it does not stop the rebuild: %v", err)
	}
	for _, want := range []string{`trigger "users_log" uses column "name"`, `view "names" uses column "name"`,
		`column "lname" uses column "name"`, `declares column "note" as "datetime"`, "nothing was changed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q:\n%s", want, msg)
		}
	}
}

func TestKeepRowidAndOptions(t *testing.T) {
	cat := &Catalog{Objects: []Object{{"table", "t", "t", "CREATE TABLE t (id text NOT NULL, x text, PRIMARY KEY (id)) RANDOM ROWID"}}}
	plan := []string{
		"CREATE TABLE `new_t` (`id` text NOT NULL, `x` text NOT NULL DEFAULT '', PRIMARY KEY (`id`))",
		"INSERT INTO `new_t` (`id`, `x`) SELECT `id`, IFNULL(`x`, '') AS `x` FROM `t`",
		"DROP TABLE `t`", "ALTER TABLE `new_t` RENAME TO `t`",
	}
	out, err := Keep(plan, cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].SQL != "CREATE TABLE `new_t` (`id` text NOT NULL, `x` text NOT NULL DEFAULT '', PRIMARY KEY (`id`)) RANDOM ROWID" ||
		out[1].SQL != "INSERT INTO `new_t` (rowid, `id`, `x`) SELECT rowid, `id`, IFNULL(`x`, '') AS `x` FROM `t`" {
		t.Fatalf("got:\n%s\n%s", out[0].SQL, out[1].SQL)
	}
	// An integer id is the rowid: AUTOINCREMENT, which RANDOM ROWID
	// refuses, goes with the sequence row.
	cat.Objects[0].SQL = "CREATE TABLE t (id integer PRIMARY KEY, x text) RANDOM ROWID"
	plan = []string{
		"CREATE TABLE `new_t` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `x` text NULL)",
		`INSERT INTO sqlite_sequence (name, seq) VALUES ("new_t", 4294967296)`,
		"INSERT INTO `new_t` (`id`, `x`) SELECT `id`, `x` FROM `t`",
		"DROP TABLE `t`", "ALTER TABLE `new_t` RENAME TO `t`",
	}
	out, err = Keep(plan, cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 4 || out[0].SQL != "CREATE TABLE `new_t` (`id` integer NOT NULL PRIMARY KEY, `x` text NULL) RANDOM ROWID" || out[1].SQL != plan[2] {
		t.Fatalf("got %+v", out)
	}
}
