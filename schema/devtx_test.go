package schema_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	entschema "entgo.io/ent/dialect/sql/schema"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/inspecttest"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/schema"
)

// diffOutcome is what one Diff did: the file it wrote (its text), or its
// error, and what the dev database held after.
type diffOutcome struct {
	file, err string
	fileErr   *schema.FileError
	left      []string
}

// diffOnce runs Diff on a copy of files, in one transaction or statement
// by statement, on a fresh dev database made by open (furnished by
// prepare, if any), and reports whether the one-transaction path gave up.
func diffOnce(t *testing.T, open func(testing.TB) *libsql.Driver, prepare func(*libsql.Driver), files map[string]string, tables []*entschema.Table, oneTx bool) (out diffOutcome, fellBack bool) {
	t.Helper()
	dir := localDir(t)
	for name, body := range files {
		if err := dir.WriteFile(name, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := schema.Hash(dir); err != nil {
		t.Fatal(err)
	}
	dev := open(t)
	if prepare != nil {
		prepare(dev)
	}
	defer func(was bool, f func(error)) { *schema.InOneTransaction, *schema.FellBack = was, f }(*schema.InOneTransaction, *schema.FellBack)
	*schema.InOneTransaction = oneTx
	*schema.FellBack = func(error) { fellBack = true }
	name, err := schema.Diff(context.Background(), dev, dir, "next", tables)
	if err != nil {
		out.err = err.Error()
		errors.As(err, &out.fileErr)
	}
	if name != "" {
		body, rerr := os.ReadFile(filepath.Join(dir.Path(), name))
		if rerr != nil {
			t.Fatal(rerr)
		}
		out.file = strings.TrimPrefix(name, strings.SplitN(name, "_", 2)[0]) + "\n" + string(body)
	}
	out.left = devLeftovers(t, dev)
	return out, fellBack
}

// Diff in one transaction writes the same files as Diff statement by
// statement, and refuses the same directories with the same errors (a
// failing statement named by file and index), leaving the dev database
// as it found it, on sqld and the embedded engine: directories with
// hand-written objects (triggers, views, FTS, vector indexes, table
// options), seed rows under foreign keys, and ones that fail.
func TestDiffInOneTransactionSameAsReplaying(t *testing.T) {
	f := migratetest.NewFurnished("ot")
	furnished := map[string]string{"1_hand.sql": strings.Join(f.HandTables(), ";\n") + ";\n"}
	{
		// The ent file, as Diff writes it, and the extras after it.
		dir := localDir(t)
		writeHashed(t, dir, "1_hand.sql", furnished["1_hand.sql"])
		name := diff(t, freshDriver(t), dir, "ent", f.Tables(1))
		body, err := os.ReadFile(filepath.Join(dir.Path(), name))
		if err != nil {
			t.Fatal(err)
		}
		furnished[name] = string(body)
		furnished["99990101000000_extras.sql"] = strings.Join(f.Extras(), ";\n") + ";\n"
	}
	seeded := map[string]string{"1_seed.sql": "CREATE TABLE `p` (`id` integer NOT NULL PRIMARY KEY);\n" +
		"CREATE TABLE `c` (`id` integer NOT NULL PRIMARY KEY, `p` integer NULL REFERENCES `p` (`id`) ON DELETE RESTRICT);\n" +
		"INSERT INTO `p` VALUES (1);\nINSERT INTO `c` VALUES (1, 1);\n"}
	others := inspecttest.Tables("ot", 2)
	cases := []struct {
		name     string
		files    map[string]string
		tables   []*entschema.Table
		prepare  func(*libsql.Driver)
		fallBack bool   // the one-transaction path gives up (and the other says why)
		want     string // in the file written, or in the error
	}{
		{name: "furnished to v2", files: furnished, tables: f.Tables(2), want: "CREATE TRIGGER"},
		{name: "furnished to v4", files: furnished, tables: f.Tables(4), want: "libsql_vector_idx"},
		{name: "furnished up to date", files: furnished, tables: f.Tables(1)},
		{name: "seed rows under a foreign key", files: seeded, tables: others, want: "CREATE TABLE `ot_t1`"},
		{name: "a table made twice", fallBack: true, tables: others, want: "statement 2", files: map[string]string{
			"1_a.sql": "CREATE TABLE `x` (`a` integer NULL);\n",
			"2_b.sql": "CREATE TABLE `y` (`a` integer NULL);\nCREATE TABLE `x` (`b` integer NULL);\n",
		}},
		{name: "a row that breaks a foreign key", fallBack: true, tables: others, want: "FOREIGN KEY constraint failed", files: map[string]string{
			"1_a.sql": "CREATE TABLE `p` (`id` integer NOT NULL PRIMARY KEY);\n" +
				"CREATE TABLE `c` (`id` integer NOT NULL PRIMARY KEY, `p` integer NULL REFERENCES `p` (`id`));\n" +
				"INSERT INTO `c` VALUES (1, 5);\n",
		}},
		{name: "a file that commits", fallBack: true, tables: others, files: map[string]string{
			"1_a.sql": "CREATE TABLE `x` (`a` integer NULL);\nCOMMIT;\nCREATE TABLE `y` (`a` integer NULL);\n",
		}},
		{name: "a dev database holding a view", tables: others, want: `must be empty (found view "mine"`, files: seeded,
			prepare: func(dev *libsql.Driver) {
				if _, err := dev.DB().Exec("CREATE VIEW mine AS SELECT 1"); err != nil {
					t.Fatal(err)
				}
			}},
	}
	for _, e := range freshEngines(t) {
		t.Run(e.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					one, fell := diffOnce(t, e.open, c.prepare, c.files, c.tables, true)
					two, _ := diffOnce(t, e.open, c.prepare, c.files, c.tables, false)
					if fell != c.fallBack {
						t.Errorf("the one-transaction path gave up: %v, want %v (error %q)", fell, c.fallBack, one.err)
					}
					if one.file != two.file || one.err != two.err {
						t.Fatalf("in one transaction:\n%s%s\nstatement by statement:\n%s%s", one.file, one.err, two.file, two.err)
					}
					if c.want != "" && !strings.Contains(one.file+one.err, c.want) {
						t.Errorf("%q is not in:\n%s%s", c.want, one.file, one.err)
					}
					if strings.Join(one.left, ",") != strings.Join(two.left, ",") {
						t.Errorf("the dev database holds %v after, statement by statement %v", one.left, two.left)
					}
					if fe := one.fileErr; fe != nil && (fe.File == "" || fe.Index == 0 || fe.Stmt == "") {
						t.Errorf("the file error does not name the file, statement and index: %#v", fe)
					}
				})
			}
		})
	}
}
