package libsql_test

import (
	"context"
	"fmt"
	"testing"
)

// Benchmarks for profiling the driver's own paths against the package's
// sqld, for instance:
//
//	go test -run '^$' -bench . -cpuprofile cpu.out -memprofile mem.out ./dialect/libsql/
//
// Their times include the server; compare profiles, not ns/op, on a busy
// machine. internal/bench compares the driver with the baseline.

// BenchmarkGet runs the statement of an ent Get by id, as ent runs it.
func BenchmarkGet(b *testing.B) {
	db := openDriver(b, "").DB()
	tbl := scratchTable(b, db, "id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER NOT NULL")
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "INSERT INTO "+tbl+" (id, name, age) VALUES (1, 'ada', 36)"); err != nil {
		b.Fatal(err)
	}
	q := fmt.Sprintf("SELECT `%[1]s`.`id`, `%[1]s`.`name`, `%[1]s`.`age` FROM `%[1]s` WHERE `%[1]s`.`id` = ? LIMIT 2", tbl)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows, err := db.QueryContext(ctx, q, 1)
		if err != nil {
			b.Fatal(err)
		}
		var (
			id, age int
			name    string
		)
		for rows.Next() {
			if err := rows.Scan(&id, &name, &age); err != nil {
				b.Fatal(err)
			}
		}
		if err := rows.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIterate streams 10,000 rows through a cursor per op.
func BenchmarkIterate(b *testing.B) {
	const n = 10_000
	db := openDriver(b, "").DB()
	tbl := scratchTable(b, db, "id INTEGER PRIMARY KEY, title TEXT, body TEXT, views INTEGER")
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT %d)
		INSERT INTO %s (title, body, views) SELECT 'post ' || x, 'a body of some length for post number ' || x, x FROM n`, n, tbl)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows, err := db.QueryContext(ctx, "SELECT id, title, body, views FROM "+tbl)
		if err != nil {
			b.Fatal(err)
		}
		var (
			id, views   int
			title, body string
			count       int
		)
		for rows.Next() {
			if err := rows.Scan(&id, &title, &body, &views); err != nil {
				b.Fatal(err)
			}
			count++
		}
		if err := rows.Close(); err != nil {
			b.Fatal(err)
		}
		if count != n {
			b.Fatalf("read %d rows, want %d", count, n)
		}
	}
}
