package libsql_test

import (
	"context"
	"errors"
	"fmt"

	"entgo.io/ent/dialect/sql/sqlgraph"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// exampleURL is the sqld the examples run on: the one the test harness
// started. In an application it is your server's URL, for instance
// libsql://my-db-my-org.turso.io or http://127.0.0.1:8080.
func exampleURL() string { return sqldtest.URL() }

func ExampleParseURL() {
	for _, u := range []string{
		"libsql://my-db-my-org.turso.io?authToken=SECRET",
		"libsql://localhost:8080?tls=0",
		"sqlite+libsql://127.0.0.1:8080/?secure=true",
		"libsql://db.example.com?tls=0&secure=true",
	} {
		cfg, err := libsql.ParseURL(u)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(cfg) // the token is never printed
	}
	// Output:
	// libsql.Config{URL: https://my-db-my-org.turso.io, AuthToken: [REDACTED]}
	// libsql.Config{URL: http://localhost:8080}
	// libsql.Config{URL: https://127.0.0.1:8080}
	// libsql: invalid URL: conflicting parameters tls and secure
}

func ExampleOpen() {
	drv, err := libsql.Open(exampleURL(), libsql.WithAuthToken(sqldtest.AuthToken()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer drv.Close()
	// drv is an ent dialect.Driver: ent.NewClient(ent.Driver(drv)).
	// DB gives the *sql.DB underneath for raw SQL.
	var n int
	if err := drv.DB().QueryRowContext(context.Background(), "SELECT 40 + 2").Scan(&n); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(drv.Dialect(), n)
	// Output: sqlite3 42
}

func ExampleError() {
	drv, err := libsql.Open(exampleURL(), libsql.WithAuthToken(sqldtest.AuthToken()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer drv.Close()
	db, ctx := drv.DB(), context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS example_emails (email TEXT UNIQUE)"); err != nil {
		fmt.Println(err)
		return
	}
	defer db.ExecContext(ctx, "DROP TABLE example_emails")
	db.ExecContext(ctx, "INSERT INTO example_emails VALUES ('a@example.com')")
	_, err = db.ExecContext(ctx, "INSERT INTO example_emails VALUES ('a@example.com')")

	fmt.Println(err) // SQLite's own message, as with go-sqlite3
	var le *libsql.Error
	if errors.As(err, &le) {
		fmt.Println(le.Code)
	}
	fmt.Println(sqlgraph.IsUniqueConstraintError(err))
	// Output:
	// UNIQUE constraint failed: example_emails.email
	// SQLITE_CONSTRAINT_UNIQUE
	// true
}

func ExampleWithMaxResponseSize() {
	drv, err := libsql.Open(exampleURL(), libsql.WithAuthToken(sqldtest.AuthToken()), libsql.WithMaxResponseSize(1<<20))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer drv.Close()
	var s string
	err = drv.DB().QueryRowContext(context.Background(), "SELECT hex(zeroblob(600000))").Scan(&s) // 1.2 MB of text
	fmt.Println(err)
	// Output:
	// libsql: a row from the server is larger than the maximum response size of 1 MiB (counted after decompression); raise it with libsql.WithMaxResponseSize
}

func ExampleWithBaseURLHosts() {
	// A server behind a front that pins streams to an edge host of another
	// domain: let its base_url point there.
	drv, err := libsql.Open("https://db.example.com", libsql.WithBaseURLHosts("edge-7.example.net"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer drv.Close()
	fmt.Println(drv.Dialect())
	// Output: sqlite3
}
