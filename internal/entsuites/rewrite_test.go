package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

const header = `package p

import (
	"testing"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"example.com/x/ent"
	"example.com/x/ent/enttest"
)

func check(t *testing.T, drv *sql.Driver, q string) {}
`

func TestRewritePackage(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		want      []string // in the rewritten file
		notWant   []string
		opens     int
		other     map[string]string
		unchanged bool
	}{
		{
			name:  "client open",
			body:  `func TestA(t *testing.T) { c, err := ent.Open(dialect.SQLite, "file:ent?mode=memory&cache=shared&_fk=1"); _, _ = c, err }`,
			want:  []string{`entlibsqlsuite.Client(t, "file:ent?mode=memory&cache=shared&_fk=1", ent.NewClient, ent.Driver)`, `_ "entgo.io/ent/dialect"`},
			opens: 1,
		},
		{
			name: "client open with options and a comment kept",
			body: `func TestA(t *testing.T) {
	c, err := ent.Open(
		"sqlite3",
		"file:ent",
		// Custom option.
		ent.Log(t.Log),
	)
	_, _ = c, err
	_ = dialect.MySQL
}`,
			want:  []string{`entlibsqlsuite.Client(t, "file:ent", ent.NewClient, ent.Driver,`, "// Custom option.", `"entgo.io/ent/dialect"`},
			opens: 1,
		},
		{
			name:  "enttest open, subtest t",
			body:  `func TestA(t *testing.T) { t.Run("x", func(t2 *testing.T) { enttest.Open(t2, dialect.SQLite, "file:ent", enttest.WithOptions()) }) }`,
			want:  []string{`enttest.NewClient(t2, enttest.WithOptions(ent.Driver(entlibsqlsuite.Driver(t2, "file:ent"))), enttest.WithOptions())`},
			opens: 1,
		},
		{
			name:  "enttest open with a spread",
			body:  `func TestA(t *testing.T) { var opts []enttest.Option; enttest.Open(t, "sqlite3", "file:ent", opts...) }`,
			want:  []string{`enttest.NewClient(t, append([]enttest.Option{enttest.WithOptions(ent.Driver(entlibsqlsuite.Driver(t, "file:ent")))}, opts...)...)`},
			opens: 1,
		},
		{
			name: "entsql open, argument adapted where *sql.Driver is taken",
			body: `func TestA(t *testing.T) {
	drv, err := sql.Open("sqlite3", "file:ent")
	_ = err
	check(t, drv, "q")
}
func TestB(t *testing.T) {
	drv, _ := sql.Open("mysql", "root@tcp(x)/")
	check(t, drv, "q")
}`,
			want:    []string{`drv, err := entlibsqlsuite.SQLDriver(t, "file:ent")`, `check(t, drv.Driver, "q")`, `sql.Open("mysql", "root@tcp(x)/")`},
			notWant: []string{`check(t, drv.Driver, "q")` + "\n}\n\nfunc TestB", "drv.Driver.Driver"},
			opens:   1,
			other:   map[string]string{"TestB": "MySQL"},
		},
		{
			name:      "other databases are left out, not rewritten",
			body:      `func TestMySQL(t *testing.T) { ent.Open(dialect.MySQL, "x"); enttest.Open(t, dialect.Postgres, "y") }`,
			other:     map[string]string{"TestMySQL": "PostgreSQL"},
			unchanged: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := rewritePackage(map[string][]byte{"p_test.go": []byte(header + tt.body + "\n")}, "example.com/suites")
			if err != nil {
				t.Fatal(err)
			}
			if r.opens != tt.opens {
				t.Errorf("opens = %d, want %d", r.opens, tt.opens)
			}
			for k, v := range tt.other {
				if r.other[k] == "" {
					t.Errorf("other[%s] = %q, want a database (%s)", k, r.other[k], v)
				}
			}
			out, ok := r.files["p_test.go"]
			if tt.unchanged {
				if ok {
					t.Fatalf("rewrote a file with no SQLite open:\n%s", out)
				}
				return
			}
			src := string(out)
			for _, w := range append(tt.want, `import entlibsqlsuite "example.com/suites/entlibsqlsuite"`) {
				if !strings.Contains(src, w) {
					t.Errorf("missing %q in:\n%s", w, src)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(src, w) {
					t.Errorf("unexpected %q in:\n%s", w, src)
				}
			}
		})
	}
}

func TestRewriteNeedsATestingT(t *testing.T) {
	src := header + `var c, _ = ent.Open("sqlite3", "file:ent")` + "\n"
	_, err := rewritePackage(map[string][]byte{"p_test.go": []byte(src)}, "example.com/suites")
	if err == nil || !strings.Contains(err.Error(), "p_test.go:13") || !strings.Contains(err.Error(), "*testing.T") {
		t.Fatalf("err = %v", err)
	}
}

// The helper package written into the suites' module parses, and has
// every function the rewrite calls.
func TestHelperSource(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "entlibsqlsuite.go", helperSource, 0)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok {
			have[fd.Name.Name] = true
		}
	}
	for _, fn := range []string{"Client", "SQLDriver", "Driver", "DB"} {
		if !have[fn] {
			t.Errorf("the helper has no %s", fn)
		}
	}
	if f.Name.Name != helperPkg {
		t.Errorf("the helper is package %s, want %s", f.Name.Name, helperPkg)
	}
}
