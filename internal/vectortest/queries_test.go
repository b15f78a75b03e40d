package vectortest

import (
	"context"
	gosql "database/sql"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/dialect/libsql/vector"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/internal/vectortest/ent"
	"github.com/entlibsql/entlibsql/internal/vectortest/ent/doc"
	libsqlschema "github.com/entlibsql/entlibsql/schema"
)

// Exact distances over an optional field whose rows are partly NULL (and
// a zero vector, whose cosine distance libSQL leaves NULL): libSQL's
// distance functions fail on NULL, so every helper must keep NULL away
// from them; such rows order last either way and match no bound.
func TestDistanceOverMissingVectors(t *testing.T) {
	ctx := context.Background()
	eachTransportDB(t, func(t *testing.T, c *ent.Client, db *gosql.DB) {
		emptyDocs(t, db) // Nearest below reads the index whole
		topic := fmt.Sprint("null", topicSeq.Add(1))
		for i, v := range []vector.Vector{{1, 0, 0, 0}, nil, {0, 1, 0, 0}, {0, 0, 0, 0}, {1, 0.1, 0, 0}, nil} {
			c.Doc.Create().SetTitle(fmt.Sprint(i)).SetTopic(topic).SetEmbedding(v).ExecX(ctx)
		}
		q := vector.Vector{1, 0, 0, 0}
		cos, l2 := vector.CosineDistance(doc.FieldEmbedding, q), vector.L2Distance(doc.FieldEmbedding, q)
		for _, c2 := range []struct {
			name  string
			query *ent.DocQuery
			want  string
		}{
			{"cosine asc", c.Doc.Query().Order(cos.Asc(), ent.Asc(doc.FieldID)), "0,4,2,1,3,5"},
			{"cosine desc", c.Doc.Query().Order(cos.Desc(), ent.Asc(doc.FieldID)), "2,4,0,1,3,5"},
			{"l2 asc", c.Doc.Query().Order(l2.Asc(), ent.Asc(doc.FieldID)), "0,4,3,2,1,5"},
			{"l2 desc", c.Doc.Query().Order(l2.Desc(), ent.Asc(doc.FieldID)), "2,3,4,0,1,5"},
			{"cosine below 0.5", c.Doc.Query().Where(cos.LT(0.5)).Order(ent.Asc(doc.FieldID)), "0,4"},
			{"l2 at most 1", c.Doc.Query().Where(l2.LTE(1)).Order(ent.Asc(doc.FieldID)), "0,3,4"},
			{"nearest, then cosine asc", c.Doc.Query().Where(vector.Nearest("doc_embedding", q, vector.MaxK)).Order(cos.Asc(), ent.Asc(doc.FieldID)), "0,4,2,3"},
		} {
			got, err := c2.query.Where(doc.Topic(topic)).All(ctx)
			if err != nil {
				t.Fatalf("%s: %v", c2.name, err)
			}
			if s := strings.Join(titles(got), ","); s != c2.want {
				t.Errorf("%s: %s, want %s", c2.name, s, c2.want)
			}
		}
		var rows []struct {
			Title    string   `json:"title"`
			Distance *float64 `json:"distance"`
		}
		c.Doc.Query().Where(doc.Topic(topic)).Order(ent.Asc(doc.FieldID)).
			Modify(func(s *sql.Selector) { s.Select(s.C(doc.FieldTitle)) }, l2.As("distance")).ScanX(ctx, &rows)
		if len(rows) != 6 || rows[1].Distance != nil || rows[0].Distance == nil || *rows[0].Distance != 0 || *rows[3].Distance != 1 {
			t.Fatalf("selected distances: %+v", rows)
		}
	})
}

// A query vector that cannot be sent (nil, NaN, past its type's range) or
// a k libSQL would misread fails with an error naming the helper: before
// anything reaches the database where ent checks (queries), and refused
// by the database where ent drops the error (Modify, Update, Delete,
// which would otherwise run without the predicate, on every row).
func TestBadQueryArguments(t *testing.T) {
	ctx := context.Background()
	eachTransport(t, func(t *testing.T, c *ent.Client) {
		topic, _ := docs(t, c, 4, 13)
		before := c.Doc.Query().CountX(ctx)
		nan := vector.Vector{1, 2, 3, float32(math.NaN())}
		q := vector.Vector{1, 2, 3, 4}
		all := func(q *ent.DocQuery) func() error { return func() error { _, err := q.All(ctx); return err } }
		for _, c2 := range []struct {
			run  func() error
			want string
		}{
			{all(c.Doc.Query().Order(vector.CosineDistance(doc.FieldEmbedding, nan).Asc())), `vector: CosineDistance("embedding"): the query vector: component 3 is NaN`},
			{all(c.Doc.Query().Order(vector.L2Distance(doc.FieldEmbedding, nil).Desc())), `vector: L2Distance("embedding"): no query vector`},
			{all(c.Doc.Query().Where(vector.CosineDistance(doc.FieldEmbedding, vector.Vector(nil)).LT(1))), `vector: CosineDistance("embedding"): the query vector is nil`},
			{func() error {
				var v []struct{}
				return c.Doc.Query().Modify(vector.CosineDistance(doc.FieldEmbedding, nan).As("d")).Scan(ctx, &v)
			}, `vector: CosineDistance("embedding"): the query vector: component 3 is NaN`},
			{all(c.Doc.Query().Where(vector.Nearest("doc_embedding", nan, 3))), `vector: Nearest("doc_embedding"): the query vector: component 3 is NaN`},
			{all(c.Doc.Query().Where(vector.Nearest("doc_embedding", q, 0))), `vector: Nearest("doc_embedding"): k is 0, not between 1 and 65536`},
			{all(c.Doc.Query().Where(vector.Nearest("doc_embedding", q, 1<<32))), `vector: Nearest("doc_embedding"): k is 4294967296, not between 1 and 65536`},
		} {
			if err := c2.run(); err == nil || !strings.Contains(err.Error(), c2.want) {
				t.Errorf("%v\nwant %s", err, c2.want)
			}
		}
		if n, err := c.Doc.Update().Where(vector.Nearest("doc_embedding", q, 1<<40)).SetTopic("x").Save(ctx); err == nil || !strings.Contains(err.Error(), "k is 1099511627776") {
			t.Errorf("update: %d %v", n, err)
		}
		if n, err := c.Doc.Delete().Where(vector.CosineDistance(doc.FieldEmbedding, nan).LT(1)).Exec(ctx); err == nil || !strings.Contains(err.Error(), "component 3 is NaN") {
			t.Errorf("delete: %d %v", n, err)
		}
		if n, err := c.Doc.Delete().Where(vector.Nearest("doc_embedding", q, 0)).Exec(ctx); err == nil || !strings.Contains(err.Error(), "k is 0") {
			t.Errorf("delete: %d %v", n, err)
		}
		if n := c.Doc.Query().CountX(ctx); n != before {
			t.Fatalf("%d docs left of %d", n, before)
		}
		if n := c.Doc.Query().Where(doc.Topic(topic)).CountX(ctx); n != 4 {
			t.Fatalf("%d docs left in the topic", n)
		}
		// The largest k is a search like any other.
		if _, err := c.Doc.Query().Where(vector.Nearest("doc_embedding", q, vector.MaxK)).All(ctx); err != nil {
			t.Errorf("k = MaxK: %v", err)
		}
	})
}

// Nearest takes only the queried table's index: another table's would give
// that table's rowids, picking this table's rows at random. It fails as a
// misspelled or dropped index does, in queries, eager loads and deletes.
func TestNearestOtherTablesIndex(t *testing.T) {
	ctx := context.Background()
	eachTransportDB(t, func(t *testing.T, c *ent.Client, db *gosql.DB) {
		emptyDocs(t, db) // the right index is read whole below
		topic, _ := docs(t, c, 6, 17)
		for i, v := range []vector.Vector{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}} {
			c.Note.Create().SetText(fmt.Sprint("other", i)).SetEmbedding(v).ExecX(ctx)
		}
		const want = "vector index(search): failed to parse vector index parameters"
		wrong := vector.Nearest("note_embedding", vector.Vector{1, 0, 0}, 3)
		if got, err := c.Doc.Query().Where(wrong, doc.Topic(topic)).All(ctx); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("docs by the notes' index: %v %v", titles(got), err)
		}
		if _, err := c.Doc.Query().Where(vector.Nearest("doc_embeding", vector.Vector{1, 0, 0, 0}, 3)).All(ctx); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("misspelled: %v", err)
		}
		if _, err := c.Author.Query().WithDocs(func(q *ent.DocQuery) { q.Where(wrong) }).All(ctx); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("eager load: %v", err)
		}
		if n, err := c.Doc.Delete().Where(wrong, doc.Topic(topic)).Exec(ctx); err == nil || n != 0 {
			t.Errorf("delete: %d %v", n, err)
		}
		// The right index, in the same shapes.
		right := vector.Nearest("doc_embedding", vector.Vector{1, 0, 0, 0}, vector.MaxK)
		if n := c.Doc.Query().Where(right, doc.Topic(topic)).CountX(ctx); n != 6 {
			t.Errorf("docs by their index: %d", n)
		}
		if n, err := c.Doc.Delete().Where(right, doc.Topic(topic)).Exec(ctx); err != nil || n != 6 {
			t.Errorf("delete by their index: %d %v", n, err)
		}
	})
}

// libSQL reads k as a 32-bit integer, and a k of 2^32 (0 once wrapped)
// crashed sqld 0.24.32 for every client. On a server of its own: the
// query fails here, and the server lives on.
func TestNearestHugeKSpareServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := sqldtest.Start(ctx, sqldtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	drv, err := libsql.Open(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := ent.NewClient(ent.Driver(drv))
	defer c.Close()
	if err := c.Schema.Create(ctx, libsqlschema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	docs(t, c, 5, 11)
	q := vector.Vector{1, 0, 0, 0}
	for _, k := range []int{1 << 32, 1<<32 + 3, 1 << 28} {
		if _, err := c.Doc.Query().Where(vector.Nearest("doc_embedding", q, k)).All(ctx); err == nil || !strings.Contains(err.Error(), "not between 1 and 65536") {
			t.Errorf("k %d: %v", k, err)
		}
	}
	if n, err := c.Doc.Query().Where(vector.Nearest("doc_embedding", q, vector.MaxK)).Count(ctx); err != nil || n != 5 {
		t.Fatalf("after: %d %v\n%s", n, err, srv.Output())
	}
}

// libSQL's index (sqld 0.24.32 and the embedded engine) loses rows after
// deletes and updates of indexed vectors: a row inserted after a delete,
// or a vector updated, is often missing from every search (measured:
// most runs of this sequence), though the row and its node are stored.
// REINDEX rebuilds the graph from the rows, and every row is found again:
// the remedy the README gives.
func TestReindexAfterDeletes(t *testing.T) {
	ctx := context.Background()
	eachTransportDB(t, func(t *testing.T, c *ent.Client, db *gosql.DB) {
		emptyDocs(t, db)
		topic := fmt.Sprint("reindex", topicSeq.Add(1))
		var ids []int
		for i := 1; i <= 12; i++ {
			d := c.Doc.Create().SetTitle(fmt.Sprint(i)).SetTopic(topic).SetEmbedding(vector.Vector{float32(i), 1, 0, 0}).SaveX(ctx)
			ids = append(ids, d.ID)
		}
		c.Doc.DeleteOneID(ids[10]).ExecX(ctx)
		c.Doc.DeleteOneID(ids[11]).ExecX(ctx)
		c.Doc.Create().SetTitle("new").SetTopic(topic).SetEmbedding(vector.Vector{100, 1, 0, 0}).ExecX(ctx)
		c.Doc.UpdateOneID(ids[4]).SetEmbedding(vector.Vector{50, 1, 0, 0}).ExecX(ctx)
		if _, err := db.ExecContext(ctx, "REINDEX doc_embedding"); err != nil {
			t.Fatal(err)
		}
		q := vector.Vector{100, 1, 0, 0}
		got, err := c.Doc.Query().Where(vector.Nearest("doc_embedding", q, vector.MaxK)).
			Order(vector.CosineDistance(doc.FieldEmbedding, q).Asc(), ent.Asc(doc.FieldID)).All(ctx)
		if err != nil || len(got) != 11 || got[0].Title != "new" || got[1].Title != "5" {
			t.Fatalf("after REINDEX: %v %v", titles(got), err)
		}
	})
}

// Inside a transaction the index holds the transaction's rows: Nearest
// finds them there, and not after a rollback.
func TestNearestInTransaction(t *testing.T) {
	ctx := context.Background()
	eachTransportDB(t, func(t *testing.T, c *ent.Client, db *gosql.DB) {
		emptyDocs(t, db)
		topic, _ := docs(t, c, 10, 19)
		q := vector.Vector{0.25, -1, 2, 0.5}
		tx, err := c.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mine := tx.Doc.Create().SetTitle("tx").SetTopic(topic).SetEmbedding(q).SaveX(ctx)
		got, err := tx.Doc.Query().Where(vector.Nearest("doc_embedding", q, 3)).
			Order(vector.CosineDistance(doc.FieldEmbedding, q).Asc()).First(ctx)
		if err != nil || got.ID != mine.ID {
			tx.Rollback()
			t.Fatalf("in the transaction: %v %v", got, err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		ids, err := c.Doc.Query().Where(vector.Nearest("doc_embedding", q, vector.MaxK)).IDs(ctx)
		if err != nil || len(ids) != 10 {
			t.Fatalf("after the rollback: %v %v", ids, err)
		}
	})
}

// A generated predicate on a vector field whose value is refused (a wrong
// dimension) stops the statement on every path: ent's Update, Delete and
// Select-with-Modify never read the selector's error, and without the
// extension's predicate package they ran without the predicate, on every
// row.
func TestGeneratedPredicateErrors(t *testing.T) {
	ctx := context.Background()
	eachTransport(t, func(t *testing.T, c *ent.Client) {
		topic, _ := docs(t, c, 5, 29)
		before := c.Doc.Query().CountX(ctx)
		wrong := doc.Embedding(vector.Vector{1, 2})
		const want = "holds vectors of 4 dimensions, got 2"
		check := func(what string, err error) {
			t.Helper()
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want an error saying %q", what, err, want)
			}
		}
		_, err := c.Doc.Delete().Where(wrong).Exec(ctx)
		check("delete", err)
		_, err = c.Doc.Update().Where(wrong).SetTopic("changed").Save(ctx)
		check("update", err)
		_, err = c.Doc.Query().Where(wrong).All(ctx)
		check("query", err)
		var v []struct{}
		check("modify and scan", c.Doc.Query().Where(wrong).Modify(func(s *sql.Selector) { s.Select(s.C(doc.FieldID)) }).Scan(ctx, &v))
		if n := c.Doc.Query().CountX(ctx); n != before {
			t.Fatalf("%d docs left of %d", n, before)
		}
		if n := c.Doc.Query().Where(doc.Topic(topic)).CountX(ctx); n != 5 {
			t.Fatalf("%d docs left in the topic, want 5 unchanged", n)
		}
	})
}
