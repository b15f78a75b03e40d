package vector

import (
	"math"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
)

func selectDocs() *sql.Selector {
	return sql.Dialect(dialect.SQLite).Select("id").From(sql.Table("docs"))
}

// The SQL of the helpers, and their refusals: an error on the selector,
// which ent returns before it sends anything.
func TestQuerySQL(t *testing.T) {
	q := Vector{1, 2}
	d := CosineDistance("embedding", q)
	s := selectDocs()
	d.LT(0.5)(s)
	d.Asc()(s)
	L2Distance("embedding", q).Desc()(s)
	d.As("distance")(s)
	Nearest("docs_embedding", q, MaxK)(s)
	query, args := s.Query()
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	x := "CASE WHEN `docs`.`embedding` IS NULL THEN NULL ELSE vector_distance_cos(`docs`.`embedding`, ?) END"
	for _, want := range []string{
		"SELECT `id`, (" + x + ") AS `distance` FROM `docs`",
		"WHERE " + x + " < ? AND `docs`.`rowid` IN (SELECT id FROM vector_top_k(COALESCE((SELECT name FROM sqlite_master WHERE type = 'index' AND name = ? AND tbl_name = ?), ''), ?, ?))",
		"ORDER BY " + x + " ASC NULLS LAST, CASE WHEN `docs`.`embedding` IS NULL THEN NULL ELSE vector_distance_l2(`docs`.`embedding`, ?) END DESC NULLS LAST",
	} {
		if !strings.Contains(query, want) {
			t.Errorf("%s\nlacks %s", query, want)
		}
	}
	if len(args) != 9 || args[3] != "docs_embedding" || args[4] != "docs" || args[6] != MaxK {
		t.Errorf("args %v", args)
	}

	nan := Vector{1, float32(math.NaN())}
	for _, c := range []struct {
		apply func(*sql.Selector)
		want  string
	}{
		{Nearest("i", q, 0), `vector: Nearest("i"): k is 0, not between 1 and 65536`},
		{Nearest("i", q, MaxK+1), `vector: Nearest("i"): k is 65537, not between 1 and 65536`},
		{Nearest("i", q, 1<<32), `vector: Nearest("i"): k is 4294967296, not between 1 and 65536`},
		{Nearest("i", nil, 1), `vector: Nearest("i"): no query vector`},
		{Nearest("i", Vector(nil), 1), `vector: Nearest("i"): the query vector is nil`},
		{Nearest("i", nan, 1), `vector: Nearest("i"): the query vector: component 1 is NaN`},
		{CosineDistance("e", nan).Asc(), `vector: CosineDistance("e"): the query vector: component 1 is NaN`},
		{CosineDistance("e", nil).Desc(), `vector: CosineDistance("e"): no query vector`},
		{L2Distance("e", Float16{1e6}).LT(1), `vector: L2Distance("e"): the query vector: component 0 (1e+06) is beyond float16's range`},
		{L2Distance("e", Vector(nil)).As("d"), `vector: L2Distance("e"): the query vector is nil`},
	} {
		s := selectDocs()
		c.apply(s)
		s.Query()
		if err := s.Err(); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%v, want %q", err, c.want)
		}
	}
}
