package libsql_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/entlibsql/entlibsql/dialect/libsql"
)

// A schema change of your own, run as ent's and the versioned migrations
// are: foreign keys off on one stream, BEGIN IMMEDIATE, checked at Commit.
// Here the table rebuild keeps the child rows (with foreign keys on,
// dropping the parent would delete them), and a change that would leave
// an orphan is rolled back.
func ExampleDriver_BeginMigration() {
	ctx := context.Background()
	drv, err := libsql.Open(exampleURL())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer drv.Close()
	p, c := fmt.Sprintf("p%d", time.Now().UnixNano()), fmt.Sprintf("c%d", time.Now().UnixNano())
	setup := []string{
		"CREATE TABLE " + p + " (id integer PRIMARY KEY, name text)",
		"CREATE TABLE " + c + " (id integer PRIMARY KEY, p integer REFERENCES " + p + " (id) ON DELETE CASCADE)",
		"INSERT INTO " + p + " VALUES (1, 'a')",
		"INSERT INTO " + c + " VALUES (1, 1), (2, 1)",
	}
	for _, q := range setup {
		if _, err := drv.DB().ExecContext(ctx, q); err != nil {
			fmt.Println(err)
			return
		}
	}
	migrate := func(stmts ...string) error {
		m, err := drv.BeginMigration(ctx)
		if err != nil {
			return err
		}
		for _, q := range stmts {
			if err := m.Exec(ctx, q, []any{}, nil); err != nil {
				m.Rollback()
				return err
			}
		}
		return m.Commit()
	}
	err = migrate(
		"CREATE TABLE new_"+p+" (id integer PRIMARY KEY, name text NOT NULL DEFAULT '')",
		"INSERT INTO new_"+p+" (id, name) SELECT id, name FROM "+p,
		"DROP TABLE "+p,
		"ALTER TABLE new_"+p+" RENAME TO "+p,
	)
	fmt.Println("rebuild:", err)
	var n int
	drv.DB().QueryRowContext(ctx, "SELECT count(*) FROM "+c).Scan(&n)
	fmt.Println("children kept:", n)

	err = migrate("DELETE FROM " + p)
	var fk *libsql.ForeignKeyError
	fmt.Println("orphaning refused:", errors.As(err, &fk), len(fk.Violations))
	drv.DB().QueryRowContext(ctx, "SELECT count(*) FROM "+p).Scan(&n)
	fmt.Println("parents:", n)
	// Output:
	// rebuild: <nil>
	// children kept: 2
	// orphaning refused: true 2
	// parents: 1
}
