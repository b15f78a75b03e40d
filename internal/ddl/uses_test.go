package ddl

import "testing"

func TestUsesColumn(t *testing.T) {
	for _, tt := range []struct {
		sql, col string
		want     bool
	}{
		// Indexes on t.
		{"CREATE INDEX i ON t (a, lower(b))", "b", true},
		{"CREATE INDEX i ON t (a COLLATE NOCASE DESC)", "a", true},
		{"CREATE UNIQUE INDEX i ON t (x) WHERE c IS NOT NULL", "c", true},
		{"CREATE INDEX i ON t (length(title))", "length", false},       // a function, not the column
		{"CREATE INDEX t ON t (x)", "t", false},                        // the index's and the table's names
		{"CREATE INDEX length ON t (title)", "length", false},          // the index's name
		{"CREATE INDEX i ON t (name COLLATE nocase)", "nocase", false}, // a collation
		{"CREATE INDEX i ON other (a)", "a", false},                    // another table's
		{"CREATE INDEX i ON t (libsql_vector_idx(emb, 'metric=cosine'))", "emb", true},
		{"CREATE INDEX i ON t (x) WHERE y = 'a'", "a", false}, // a string
		{"CREATE INDEX i ON t (\"a b\")", "a b", true},
		// Views.
		{"CREATE VIEW v AS SELECT a FROM t", "a", true},
		{"CREATE VIEW v AS SELECT * FROM t WHERE t.a > 1", "a", true},
		{"CREATE VIEW v AS SELECT x.a FROM t AS x", "a", true},
		{"CREATE VIEW v AS SELECT x.a FROM t x JOIN o y ON y.id = x.id", "a", true},
		{"CREATE VIEW v AS SELECT y.a FROM t x JOIN o y ON y.id = x.id", "a", false}, // o's a
		{"CREATE VIEW v AS SELECT o.a FROM t, o WHERE o.id = t.id", "a", false},
		{"CREATE VIEW v AS SELECT a FROM t, o", "a", true}, // whose a? say yes
		{"CREATE VIEW v (a, b) AS SELECT x, y FROM t", "a", false},
		{"CREATE VIEW v AS SELECT length(x) AS length FROM t", "length", false},
		{"CREATE VIEW v AS SELECT tag FROM tag", "tag", false}, // tag's tag
		{"CREATE VIEW v AS SELECT 1 FROM o WHERE x IN (SELECT a FROM t)", "a", true},
		// Triggers on t.
		{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.a); END", "a", true},
		{"CREATE TRIGGER tr AFTER DELETE ON t BEGIN INSERT INTO log VALUES (old.a); END", "a", true},
		{"CREATE TRIGGER tr AFTER UPDATE OF a, b ON t BEGIN SELECT 1; END", "b", true},
		{"CREATE TRIGGER tr AFTER INSERT ON t WHEN new.a > 0 BEGIN SELECT 1; END", "a", true},
		{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE log SET a = 1 WHERE b = 2; END", "a", false}, // log's
		{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1 WHERE id = new.id; END", "a", true},
		{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log (length) VALUES (length(new.title)); END", "length", false},
		{"CREATE TRIGGER t AFTER INSERT ON t BEGIN INSERT INTO log VALUES (1); END", "t", false},
		{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (CASE WHEN new.x THEN 1 END); INSERT INTO log SELECT c FROM t; END", "c", true},
		// Triggers on another table.
		{"CREATE TRIGGER tr AFTER INSERT ON o BEGIN INSERT INTO t (a) VALUES (new.b); END", "a", true},
		{"CREATE TRIGGER tr AFTER INSERT ON o BEGIN INSERT INTO t (x) VALUES (new.a); END", "a", false}, // o's a
		{"CREATE TRIGGER tr AFTER DELETE ON o BEGIN UPDATE t SET x = 'gone' WHERE a = old.id; END", "a", true},
		{"CREATE TRIGGER tr AFTER DELETE ON o BEGIN DELETE FROM log WHERE a = old.id; END", "a", false},
		{"CREATE TRIGGER tr INSTEAD OF INSERT ON v BEGIN INSERT INTO t (a) VALUES (upper(new.a)); END", "a", true},
		// Parts of t's definition.
		{"text GENERATED ALWAYS AS (upper(name)) VIRTUAL", "name", true},
		{"integer AS (length(title))", "length", false},
		{"CONSTRAINT length CHECK (x > 0)", "length", false},
		{"FOREIGN KEY (a) REFERENCES other (id)", "a", true},
		{"FOREIGN KEY (a) REFERENCES other (id)", "id", false},
		{"CHECK (a > 0 AND b IS NOT NULL)", "b", true},
		{"UNIQUE (a, \"b\")", "b", true},
	} {
		if got := UsesColumn(tt.sql, "t", tt.col); got != tt.want {
			t.Errorf("UsesColumn(%q, t, %q) = %v, want %v", tt.sql, tt.col, got, tt.want)
		}
	}
}

// A table named like one of its columns: the table's name is not the
// column.
func TestUsesColumnOfSameName(t *testing.T) {
	for _, tt := range []struct {
		sql  string
		want bool
	}{
		{"CREATE INDEX i ON tag (x)", false},
		{"CREATE INDEX i ON tag (tag)", true},
		{"CREATE VIEW v AS SELECT id FROM tag", false},
		{"CREATE VIEW v AS SELECT tag.id FROM tag", false},
		{"CREATE VIEW v AS SELECT tag FROM tag", true},
		{"CREATE VIEW v AS SELECT tag.tag FROM tag", true},
		{"CREATE TRIGGER tr AFTER INSERT ON tag BEGIN INSERT INTO log VALUES (new.id); END", false},
		{"CREATE TRIGGER tr AFTER INSERT ON tag BEGIN INSERT INTO log VALUES (new.tag); END", true},
		{"CREATE TRIGGER tr AFTER INSERT ON o BEGIN DELETE FROM tag WHERE id = new.id; END", false},
		{"CREATE TRIGGER tr AFTER INSERT ON o BEGIN UPDATE OR IGNORE tag SET id = 1; END", false},
	} {
		if got := UsesColumn(tt.sql, "tag", "tag"); got != tt.want {
			t.Errorf("UsesColumn(%q, tag, tag) = %v, want %v", tt.sql, got, tt.want)
		}
	}
}

func TestColumnTail(t *testing.T) {
	tb, ok := ParseCreateTable("CREATE TABLE t (a text NOT NULL DEFAULT 'x', `b c` varchar(2) AS (upper(a)), d, e /* x */ int UNIQUE)")
	if !ok {
		t.Fatal("not parsed")
	}
	var got []string
	for _, c := range tb.Columns {
		got = append(got, c.Tail())
	}
	want := []string{"NOT NULL DEFAULT 'x'", "AS (upper(a))", "", "/* x */ int UNIQUE"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("column %d: tail %q, want %q", i, got[i], want[i])
		}
	}
}
