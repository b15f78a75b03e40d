package schema_test

import (
	"context"
	"fmt"

	"ariga.io/atlas/sql/migrate"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/schema"
)

// Versioned migrations: write a migration file from ent's tables (with a
// generated client, migrate.Tables), then apply the directory and ask for
// the status. Here the directory is in memory; the command line
// (cmd/entlibsql) uses a real one.
func Example_versioned() {
	ctx := context.Background()
	// Two empty databases: a scratch one to replay the directory on, and
	// the one to migrate.
	open := func() (*libsql.Driver, func()) {
		srv, err := sqldtest.Start(ctx, sqldtest.Options{})
		if err != nil {
			panic(err)
		}
		drv, err := libsql.Open(srv.URL())
		if err != nil {
			panic(err)
		}
		return drv, func() { drv.Close(); srv.Stop() }
	}
	dev, stopDev := open()
	defer stopDev()
	target, stopTarget := open()
	defer stopTarget()

	dir := migrate.OpenMemDir("example")
	defer dir.Close()
	file, err := schema.Diff(ctx, dev, dir, "create_notes", notes(false))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("wrote a file:", file != "")

	applied, err := schema.Apply(ctx, target, dir, schema.ApplyOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("applied:", len(applied))

	st, err := schema.Status(ctx, target, dir, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("up to date:", st.UpToDate(), "current:", st.Current == applied[0].Version())
	// Output:
	// wrote a file: true
	// applied: 1
	// up to date: true current: true
}
