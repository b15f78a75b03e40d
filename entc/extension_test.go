package entc_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"

	"github.com/entlibsql/entlibsql/dialect/libsql/libsqltest"
	libsqlentc "github.com/entlibsql/entlibsql/entc"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/internal/testent/ent"
	"github.com/entlibsql/entlibsql/internal/testent/ent/enttest"
	"github.com/entlibsql/entlibsql/internal/testent/ent/user"
	libsqlschema "github.com/entlibsql/entlibsql/schema"
)

func TestMain(m *testing.M) { sqldtest.Main(m) }

// urlForms spells the server's address in each URL form libsql.Open
// takes over plain HTTP, with the token in the query when there is one.
func urlForms(t *testing.T) map[string]string {
	u, err := url.Parse(sqldtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	host, tok := u.Host, sqldtest.AuthToken()
	withToken := func(s string) string {
		if tok == "" {
			return s
		}
		sep := "?"
		if strings.Contains(s, "?") {
			sep = "&"
		}
		return s + sep + "authToken=" + url.QueryEscape(tok)
	}
	if u.Scheme == "https" {
		return map[string]string{
			"https":           withToken("https://" + host),
			"libsql":          withToken("libsql://" + host),
			"sqlalchemy form": withToken("sqlite+libsql://" + host + "/?secure=true"),
		}
	}
	return map[string]string{
		"http":            withToken("http://" + host),
		"libsql tls=0":    withToken("libsql://" + host + "?tls=0"),
		"sqlalchemy form": withToken("sqlite+libsql://" + host + "/"),
	}
}

var tlsOnce struct {
	sync.Once
	forms map[string]string
	err   error
}

// tlsForms spells the server in the TLS URL forms, through a TLS proxy
// whose certificate the process trusts via SSL_CERT_FILE (read by Go on
// Linux and the BSDs when it first verifies a certificate, so no test of
// this package may use TLS before). With an external server they are
// part of urlForms already.
func tlsForms(t *testing.T) map[string]string {
	if sqldtest.External() {
		return nil
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		t.Log("the TLS URL forms are not tested here: Go ignores SSL_CERT_FILE on " + runtime.GOOS)
		return nil
	}
	tlsOnce.Do(func() {
		p, err := sqldtest.NewTLSProxy(sqldtest.URL())
		if err != nil {
			tlsOnce.err = err
			return
		}
		file := filepath.Join(os.TempDir(), fmt.Sprintf("entlibsql-test-ca-%d.pem", os.Getpid()))
		if err := os.WriteFile(file, p.CertPEM(), 0o600); err != nil {
			tlsOnce.err = err
			return
		}
		os.Setenv("SSL_CERT_FILE", file)
		host := strings.TrimPrefix(p.URL(), "https://")
		tlsOnce.forms = map[string]string{
			"https":                       "https://" + host,
			"libsql (TLS by default)":     "libsql://" + host,
			"sqlalchemy form secure=true": "sqlite+libsql://" + host + "/?secure=true",
		}
	})
	if tlsOnce.err != nil {
		t.Fatal(tlsOnce.err)
	}
	return tlsOnce.forms
}

// allForms is every URL form: plain and TLS.
func allForms(t *testing.T) map[string]string {
	forms := urlForms(t)
	for k, v := range tlsForms(t) {
		forms[k] = v
	}
	return forms
}

func TestOpenLibSQL(t *testing.T) {
	ctx := context.Background()
	for form, dsn := range allForms(t) {
		t.Run(form, func(t *testing.T) {
			c, err := ent.Open("libsql", dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Schema.Create(ctx); err != nil {
				t.Fatal(err)
			}
			name := "open-" + strings.ReplaceAll(form, " ", "-") + "-" + t.Name()
			u := c.User.Create().SetName(name).SetAge(7).SaveX(ctx)
			if got := c.User.Query().Where(user.Name(name)).OnlyX(ctx); got.ID != u.ID {
				t.Fatalf("read back %v", got)
			}
			c.User.DeleteOne(u).ExecX(ctx)
		})
	}
	// Other driver names keep going to database/sql.
	if _, err := ent.Open("sqlite3", "file:x.db"); err == nil || !strings.Contains(err.Error(), "unknown driver") {
		t.Fatalf("sqlite3 without its driver: %v", err)
	}
	if _, err := ent.Open("libsql", "ftp://nope"); err == nil || !strings.Contains(err.Error(), "libsql") {
		t.Fatalf("a bad URL: %v", err)
	}
}

func TestEnttestOpenLibSQL(t *testing.T) {
	for form, dsn := range allForms(t) {
		t.Run(form, func(t *testing.T) {
			c := enttest.Open(t, "libsql", dsn) // migrates too
			defer c.Close()
			// The migrated schema takes a row and gives it back.
			ctx := context.Background()
			name := "enttest-" + strings.ReplaceAll(form, " ", "-") + "-" + fmt.Sprint(time.Now().UnixNano())
			u := c.User.Create().SetName(name).SetAge(1).SaveX(ctx)
			if got := c.User.GetX(ctx, u.ID); got.Name != name {
				t.Fatalf("read back %q", got.Name)
			}
			c.User.DeleteOne(u).ExecX(ctx)
		})
	}
}

// The checked-in test client is what the extension generates today.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	dir := t.TempDir()
	err := entc.Generate("../internal/testent/schema", &gen.Config{
		Target:   dir,
		Package:  "github.com/entlibsql/entlibsql/internal/testent/ent",
		Features: []gen.Feature{gen.FeatureUpsert, gen.FeatureModifier, gen.FeatureExecQuery, gen.FeatureLock},
	}, entc.Extensions(libsqlentc.Extension()))
	if err != nil {
		t.Fatal(err)
	}
	checkedIn := "../internal/testent/ent"
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == filepath.Join("runtime", "runtime.go") {
			return nil // it stamps the ent version, which differs in a test binary
		}
		want, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		got, err := os.ReadFile(filepath.Join(checkedIn, rel))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the extension generates: run go generate ./internal/testent/", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLibSQLSchemaByDefault: on libSQL, the generated Schema.WriteTo,
// Schema.Create and enttest plan with schema.WithLibSQL() unless told
// otherwise: making users.age NOT NULL again is an ALTER COLUMN, not a
// table rebuild, so a trigger the ent schema does not declare survives.
func TestLibSQLSchemaByDefault(t *testing.T) {
	ctx := context.Background()
	// loosen makes users.age nullable behind ent's back, with a trigger
	// that a rebuild would drop.
	loosen := func(t *testing.T, url string) *ent.Client {
		c, err := ent.Open("libsql", url)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Schema.Create(ctx); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			"ALTER TABLE users ALTER COLUMN age TO age integer NULL",
			"CREATE TRIGGER users_kept AFTER INSERT ON users BEGIN SELECT 1; END",
		} {
			if _, err := c.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	// check says whether age is NOT NULL again and the trigger still there.
	check := func(t *testing.T, c *ent.Client) {
		t.Helper()
		var notNull, triggers int
		for q, dst := range map[string]*int{
			"SELECT \"notnull\" FROM pragma_table_info('users') WHERE name = 'age'":             &notNull,
			"SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name = 'users_kept'": &triggers,
		} {
			rows, err := c.QueryContext(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if !rows.Next() || rows.Scan(dst) != nil {
				t.Fatalf("%s: no answer (%v)", q, rows.Err())
			}
			rows.Close()
		}
		if notNull != 1 || triggers != 1 {
			t.Fatalf("after the migration: age NOT NULL = %d, trigger kept = %d; want 1 and 1 (ALTER COLUMN, no rebuild)", notNull, triggers)
		}
	}

	t.Run("WriteTo", func(t *testing.T) {
		c := loosen(t, libsqltest.URL(t))
		defer c.Close()
		var plan bytes.Buffer
		if err := c.Schema.WriteTo(ctx, &plan); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan.String(), "ALTER COLUMN") || strings.Contains(plan.String(), "new_users") {
			t.Fatalf("WriteTo planned:\n%s\nwant ALTER COLUMN and no rebuild", plan.String())
		}
	})
	t.Run("Schema.Create", func(t *testing.T) {
		c := loosen(t, libsqltest.URL(t))
		defer c.Close()
		// WithLibSQL given again as well, as the README once said to: it
		// runs once.
		if err := c.Schema.Create(ctx, libsqlschema.WithLibSQL()); err != nil {
			t.Fatal(err)
		}
		check(t, c)
	})
	t.Run("enttest.Open", func(t *testing.T) {
		url := libsqltest.URL(t)
		loosen(t, url).Close()
		c := enttest.Open(t, "libsql", url)
		defer c.Close()
		check(t, c)
	})
	t.Run("Debug client", func(t *testing.T) {
		c := loosen(t, libsqltest.URL(t))
		defer c.Close()
		if err := c.Debug().Schema.Create(ctx); err != nil {
			t.Fatal(err)
		}
		check(t, c)
	})
}

// TestWithoutLibSQLSchema: the opt-out generates a migrate.Create that
// passes its options through as they are.
func TestWithoutLibSQLSchema(t *testing.T) {
	dir := t.TempDir()
	err := entc.Generate("../internal/testent/schema", &gen.Config{
		Target:  dir,
		Package: "github.com/entlibsql/entlibsql/internal/testent/ent",
	}, entc.Extensions(libsqlentc.Extension(libsqlentc.WithoutLibSQLSchema())))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "migrate", "entlibsql.go"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "SchemaOptions") || !strings.Contains(string(b), "return opts") {
		t.Fatalf("migrate/entlibsql.go with WithoutLibSQLSchema:\n%s", b)
	}
	m, err := os.ReadFile(filepath.Join(dir, "migrate", "migrate.go"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(m), "libsqlOptions") {
		t.Fatalf("migrate.go with WithoutLibSQLSchema calls libsqlOptions")
	}
}
