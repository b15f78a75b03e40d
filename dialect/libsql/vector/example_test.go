package vector_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"strings"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/dialect/libsql/vector"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// exampleDB is a table of four cities on the test harness's sqld, with a
// vector index, made as Schema.Create with WithLibSQL makes one. In an
// application the table comes from your ent schema.
func exampleDB(table string) *sql.DB {
	drv, err := libsql.Open(sqldtest.URL(), libsql.WithAuthToken(sqldtest.AuthToken()))
	if err != nil {
		log.Fatal(err)
	}
	db := drv.DB()
	for _, stmt := range []string{
		"DROP TABLE IF EXISTS " + table,
		"CREATE TABLE " + table + " (id INTEGER PRIMARY KEY, name TEXT, location F32_BLOB(2))",
		"CREATE INDEX " + table + "_location ON " + table + " (libsql_vector_idx(location, 'metric=l2'))",
	} {
		if _, err := db.Exec(stmt); err != nil {
			log.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		at   vector.Vector
	}{{"Lisbon", vector.Vector{38.7, -9.1}}, {"Madrid", vector.Vector{40.4, -3.7}}, {"Paris", vector.Vector{48.9, 2.4}}, {"Oslo", vector.Vector{59.9, 10.8}}} {
		if _, err := db.Exec("INSERT INTO "+table+" (name, location) VALUES (?, ?)", c.name, c.at); err != nil {
			log.Fatal(err)
		}
	}
	return db
}

// names runs a SELECT built with ent's sql package, which is what ent's
// generated Where, Order and Modify build on.
func names(db *sql.DB, s *entsql.Selector) string {
	query, args := s.Query()
	if err := s.Err(); err != nil {
		return err.Error()
	}
	rows, err := db.Query(query, args...)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err.Error()
		}
		out = append(out, n)
	}
	return strings.Join(out, ", ")
}

func ExampleField() {
	f := vector.Field("embedding", 384).Optional().Descriptor()
	fmt.Println(f.Name, f.SchemaType["sqlite3"], f.Optional)
	fmt.Println(vector.Float16Field("small", 384).Descriptor().SchemaType["sqlite3"])
	// Output:
	// embedding F32_BLOB(384) true
	// F16_BLOB(384)
}

func ExampleIndex() {
	ann := vector.Index(vector.Cosine, vector.MaxNeighbors(32), vector.CompressNeighbors(vector.F8))
	fmt.Println(ann.Types[vector.IndexTypeKey])
	// Output: libsql_vector_idx('metric=cosine', 'max_neighbors=32', 'compress_neighbors=float8')
}

// Nearest, ordered by the exact distance: in generated ent code,
// client.City.Query().Where(vector.Nearest(...)).Order(d.Asc()).
func ExampleNearest() {
	db := exampleDB("example_cities")
	here := vector.Vector{41.4, 2.2} // Barcelona
	d := vector.L2Distance("location", here)
	s := entsql.Select("name").From(entsql.Table("example_cities"))
	vector.Nearest("example_cities_location", here, 2)(s)
	d.Asc()(s)
	fmt.Println(names(db, s))
	// Output: Madrid, Paris
}

// An exact distance as a predicate, and the farthest first.
func ExampleDistance_LT() {
	db := exampleDB("example_cities_lt")
	here := vector.Vector{41.4, 2.2}
	d := vector.L2Distance("location", here)
	s := entsql.Select("name").From(entsql.Table("example_cities_lt"))
	d.LT(12)(s)
	d.Desc()(s)
	fmt.Println(names(db, s))
	// Output: Lisbon, Paris, Madrid
}

// A Vector is a database/sql value in libSQL's format: it goes into
// libSQL's vector functions as it is.
func ExampleVector() {
	db := exampleDB("example_cities_raw")
	var text string
	err := db.QueryRowContext(context.Background(), "SELECT vector_extract(?)", vector.Vector{1.5, -2}).Scan(&text)
	fmt.Println(text, err)
	var back vector.Vector
	err = db.QueryRow("SELECT location FROM example_cities_raw WHERE name = 'Oslo'").Scan(&back)
	fmt.Println(back, err)
	// Output:
	// [1.5,-2] <nil>
	// [59.9 10.8] <nil>
}
