package vectortest

import (
	"context"
	gosql "database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect/sql"

	_ "github.com/entlibsql/entlibsql/dialect/embedded" // file: URLs (cgo)
	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/dialect/libsql/vector"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/internal/vectortest/ent"
	"github.com/entlibsql/entlibsql/internal/vectortest/ent/author"
	"github.com/entlibsql/entlibsql/internal/vectortest/ent/doc"
	"github.com/entlibsql/entlibsql/internal/vectortest/ent/note"
	"github.com/entlibsql/entlibsql/internal/vectortest/ent/sample"
	libsqlschema "github.com/entlibsql/entlibsql/schema"
)

func TestMain(m *testing.M) { sqldtest.Main(m) }

// transports are the three ways to the database the tests run over:
// sqld over HTTP, sqld over WebSocket, and the embedded engine on a file.
func transports(t *testing.T) map[string]string {
	u := sqldtest.URL()
	ws := "ws" + strings.TrimPrefix(u, "http")
	return map[string]string{
		"http":     u,
		"ws":       ws,
		"embedded": "file:" + filepath.Join(t.TempDir(), "vectors.db"),
	}
}

// open is a client of url with the schema created, and the driver under
// it for raw SQL.
func open(t *testing.T, url string) (*ent.Client, *gosql.DB) {
	t.Helper()
	var opts []libsql.Option
	if !strings.HasPrefix(url, "file:") {
		opts = append(opts, libsql.WithAuthToken(sqldtest.AuthToken()))
	}
	drv, err := libsql.Open(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	c := ent.NewClient(ent.Driver(drv))
	t.Cleanup(func() { c.Close() })
	if err := c.Schema.Create(context.Background(), libsqlschema.WithLibSQL()); err != nil {
		t.Fatalf("Schema.Create: %v", err)
	}
	return c, drv.DB()
}

func eachTransport(t *testing.T, f func(t *testing.T, c *ent.Client)) {
	eachTransportDB(t, func(t *testing.T, c *ent.Client, _ *gosql.DB) { f(t, c) })
}

// eachTransportDB is eachTransport with the database for raw SQL.
func eachTransportDB(t *testing.T, f func(t *testing.T, c *ent.Client, db *gosql.DB)) {
	for name, url := range transports(t) {
		t.Run(name, func(t *testing.T) {
			c, db := open(t, url)
			f(t, c, db)
		})
	}
}

// emptyIndexed deletes every row of table, of every test, and rebuilds
// its vector index, for a test that reads the index whole: a search finds
// at most about search_l (200) rows, and libSQL's index loses rows after
// deletes until REINDEX (TestReindexAfterDeletes).
func emptyIndexed(t *testing.T, db *gosql.DB, table, index string) {
	t.Helper()
	for _, stmt := range []string{"DELETE FROM " + table, "REINDEX " + index} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
}

func emptyDocs(t *testing.T, db *gosql.DB) { emptyIndexed(t, db, "docs", "doc_embedding") }

// rounded is what v reads back as: itself, after its type's rounding.
func rounded(t *testing.T, v driver.Valuer, into sqlScanner) {
	t.Helper()
	b, err := v.Value()
	if err != nil {
		t.Fatal(err)
	}
	if err := into.Scan(b); err != nil {
		t.Fatal(err)
	}
}

type sqlScanner interface{ Scan(any) error }

// same compares vectors bit for bit, nil apart from empty.
func same[T ~float32 | ~float64](a, b []T) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		if math.Float64bits(float64(a[i])) != math.Float64bits(float64(b[i])) {
			return false
		}
	}
	return true
}

// Every vector type goes in and comes back bit for bit (after its own
// rounding, which matches libSQL's), over every transport; an unset
// optional field is NULL and reads back nil.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	eachTransport(t, func(t *testing.T, c *ent.Client) {
		r := rand.New(rand.NewPCG(7, 8))
		for i := 0; i < 20; i++ {
			f := func() float32 { return float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(8)-4))) }
			f32 := vector.Vector{f(), f(), f()}
			f64 := vector.Float64{r.NormFloat64(), math.Pi, -1e300}
			f16 := vector.Float16{f(), f(), 1e-7}
			fb16 := vector.BFloat16{f(), f(), f()}
			f8 := vector.Float8{f(), f(), f()}
			bits := vector.Float1Bit{1, -1, 0, 2, -3, 4, 5, -6, 7, 8}
			s, err := c.Sample.Create().SetF32(f32).SetF64(f64).SetF16(f16).SetFb16(fb16).SetF8(f8).SetF1bit(bits).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Sample.GetX(ctx, s.ID)
			var r16 vector.Float16
			var rb16 vector.BFloat16
			var r8 vector.Float8
			rounded(t, f16, &r16)
			rounded(t, fb16, &rb16)
			rounded(t, f8, &r8)
			switch {
			case !same(got.F32, f32):
				t.Fatalf("F32: %v, stored %v", got.F32, f32)
			case !same(got.F64, f64):
				t.Fatalf("F64: %v, stored %v", got.F64, f64)
			case !same(got.F16, r16):
				t.Fatalf("F16: %v, stored %v", got.F16, f16)
			case !same(got.Fb16, rb16):
				t.Fatalf("FB16: %v, stored %v", got.Fb16, fb16)
			case !same(got.F8, r8):
				t.Fatalf("F8: %v, stored %v", got.F8, f8)
			case !same(got.F1bit, vector.Float1Bit{1, -1, -1, 1, -1, 1, 1, -1, 1, 1}):
				t.Fatalf("F1BIT: %v", got.F1bit)
			case got.F32Optional != nil:
				t.Fatalf("unset optional field: %#v, want nil (NULL)", got.F32Optional)
			}
		}
		// An optional field set, then cleared: NULL again.
		s := c.Sample.Create().SetF32(vector.Vector{1, 2, 3}).SetF32Optional(vector.Vector{4, 5, 6}).SaveX(ctx)
		if got := c.Sample.GetX(ctx, s.ID).F32Optional; !same(got, vector.Vector{4, 5, 6}) {
			t.Fatalf("optional: %v", got)
		}
		c.Sample.UpdateOne(s).ClearF32Optional().ClearF64().ExecX(ctx)
		if got := c.Sample.GetX(ctx, s.ID); got.F32Optional != nil || got.F64 != nil {
			t.Fatalf("cleared: %v %v", got.F32Optional, got.F64)
		}
		if n := c.Sample.Query().Where(sample.F32OptionalIsNil(), sample.ID(s.ID)).CountX(ctx); n != 1 {
			t.Fatalf("IS NULL finds %d", n)
		}
	})
}

// A vector of the wrong length fails before anything is sent: creates,
// bulk creates, updates and predicates, with an error naming the field,
// the expected and the given dimension.
func TestDimensionChecked(t *testing.T) {
	ctx := context.Background()
	eachTransport(t, func(t *testing.T, c *ent.Client) {
		before := c.Sample.Query().CountX(ctx)
		check := func(what string, err error, field string, want, got int) {
			t.Helper()
			var de *vector.DimensionError
			if !errors.As(err, &de) || de.Field != field || de.Want != want || de.Got != got {
				t.Fatalf("%s: %v, want a DimensionError for %s (%d, got %d)", what, err, field, want, got)
			}
			msg := fmt.Sprintf(`vector: field %q holds vectors of %d dimensions, got %d`, field, want, got)
			if !strings.Contains(err.Error(), msg) {
				t.Fatalf("%s: %q, want %q", what, err, msg)
			}
		}
		_, err := c.Sample.Create().SetF32(vector.Vector{1, 2}).Save(ctx)
		check("create", err, "f32", 3, 2)
		_, err = c.Sample.Create().SetF32(vector.Vector{1, 2, 3}).SetF1bit(make(vector.Float1Bit, 11)).Save(ctx)
		check("create f1bit", err, "f1bit", 10, 11)
		err = c.Sample.CreateBulk(
			c.Sample.Create().SetF32(vector.Vector{1, 2, 3}),
			c.Sample.Create().SetF32(vector.Vector{1, 2, 3, 4}),
		).Exec(ctx)
		check("bulk", err, "f32", 3, 4)
		_, err = c.Sample.Update().SetF16(vector.Float16{1}).Save(ctx)
		check("update", err, "f16", 3, 1)
		// ent's query builder keeps the text of a predicate's error only.
		_, err = c.Sample.Query().Where(sample.F32EQ(vector.Vector{})).All(ctx)
		if err == nil || !strings.Contains(err.Error(), `vector: field "f32" holds vectors of 3 dimensions, got 0`) {
			t.Fatalf("predicate: %v", err)
		}
		if n := c.Sample.Query().CountX(ctx); n != before {
			t.Fatalf("rows went in: %d, before %d", n, before)
		}
		_, err = c.Sample.Create().SetF32(vector.Vector{1, float32(math.NaN()), 3}).Save(ctx)
		if err == nil || !strings.Contains(err.Error(), "component 1 is NaN") {
			t.Fatalf("NaN: %v", err)
		}
	})
}

var topicSeq atomic.Int64

// docs writes n docs with random embeddings under a topic of their own,
// every third by author b and the others by author a, and returns them.
func docs(t *testing.T, c *ent.Client, n int, seed uint64) (string, []*ent.Doc) {
	t.Helper()
	ctx := context.Background()
	topic := fmt.Sprintf("t%d-%d", seed, topicSeq.Add(1))
	a := c.Author.Create().SetName("a").SaveX(ctx)
	b := c.Author.Create().SetName("b").SaveX(ctx)
	r := rand.New(rand.NewPCG(seed, 1))
	creates := make([]*ent.DocCreate, n)
	for i := range creates {
		author := a
		if i%3 == 0 {
			author = b
		}
		creates[i] = c.Doc.Create().SetTitle(fmt.Sprint(i)).SetTopic(topic).SetAuthor(author).
			SetEmbedding(vector.Vector{float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64())})
	}
	return topic, c.Doc.CreateBulk(creates...).SaveX(ctx)
}

func cosine(a, b vector.Vector) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return 1 - dot/math.Sqrt(na*nb)
}

// exact is the docs ordered by their cosine distance to q, computed here.
func exact(all []*ent.Doc, q vector.Vector, keep func(*ent.Doc) bool) []string {
	var kept []*ent.Doc
	for _, d := range all {
		if keep(d) {
			kept = append(kept, d)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return cosine(kept[i].Embedding, q) < cosine(kept[j].Embedding, q) })
	var titles []string
	for _, d := range kept {
		titles = append(titles, d.Title)
	}
	return titles
}

func titles(ds []*ent.Doc) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Title)
	}
	return out
}

// Exact distance predicates and orderings through the generated client,
// with other predicates, eager loading and paging.
func TestExactDistance(t *testing.T) {
	ctx := context.Background()
	eachTransport(t, func(t *testing.T, c *ent.Client) {
		topic, all := docs(t, c, 60, 3)
		q := vector.Vector{0.3, -1, 0.5, 0.2}
		d := vector.CosineDistance(doc.FieldEmbedding, q)
		byA := func(x *ent.Doc) bool { i, _ := strconv.Atoi(x.Title); return i%3 != 0 }
		got := c.Doc.Query().Where(doc.Topic(topic), doc.HasAuthorWith(author.Name("a"))).
			Order(d.Asc(), ent.Asc(doc.FieldID)).Offset(5).Limit(10).WithAuthor().AllX(ctx)
		want := exact(all, q, byA)[5:15]
		if strings.Join(titles(got), ",") != strings.Join(want, ",") {
			t.Fatalf("page 2 by distance: %v, want %v", titles(got), want)
		}
		for _, g := range got {
			if g.Edges.Author == nil || g.Edges.Author.Name != "a" {
				t.Fatalf("eager loading: %+v", g.Edges)
			}
		}
		near := c.Doc.Query().Where(doc.Topic(topic), d.LT(0.5)).Order(d.Asc()).AllX(ctx)
		for i, g := range near {
			if dist := cosine(g.Embedding, q); dist >= 0.5+1e-6 || (i > 0 && dist < cosine(near[i-1].Embedding, q)-1e-6) {
				t.Fatalf("distance < 0.5: %s at %g", g.Title, dist)
			}
		}
		all2 := exact(all, q, func(x *ent.Doc) bool { return cosine(x.Embedding, q) < 0.5 })
		if len(near) != len(all2) {
			t.Fatalf("%d within 0.5, want %d", len(near), len(all2))
		}
		far := c.Doc.Query().Where(doc.Topic(topic)).Order(d.Desc()).FirstX(ctx)
		if want := exact(all, q, func(*ent.Doc) bool { return true }); far.Title != want[len(want)-1] {
			t.Fatalf("farthest: %s, want %s", far.Title, want[len(want)-1])
		}
		l2 := vector.L2Distance(doc.FieldEmbedding, q)
		var rows []struct {
			Title    string  `json:"title"`
			Distance float64 `json:"distance"`
		}
		c.Doc.Query().Where(doc.Topic(topic)).Order(l2.Asc()).Limit(3).
			Modify(func(s *sql.Selector) { s.Select(s.C(doc.FieldTitle)) }, l2.As("distance")).ScanX(ctx, &rows)
		if len(rows) != 3 || rows[0].Distance > rows[1].Distance || rows[0].Distance <= 0 {
			t.Fatalf("selected distances: %+v", rows)
		}
	})
}

// Index-backed top-k: Nearest with the vector index finds the true
// nearest neighbours on a small table, composes with predicates, eager
// loading and paging, and joins by rowid for UUID ids too.
func TestNearest(t *testing.T) {
	ctx := context.Background()
	eachTransportDB(t, func(t *testing.T, c *ent.Client, db *gosql.DB) {
		emptyDocs(t, db)
		topic, all := docs(t, c, 40, 5)
		q := vector.Vector{1, 0.5, -0.25, 0}
		d := vector.CosineDistance(doc.FieldEmbedding, q)
		// Ask for every doc: the index holds these 40 only.
		k := c.Doc.Query().CountX(ctx)
		got := c.Doc.Query().
			Where(vector.Nearest("doc_embedding", q, k), doc.Topic(topic)).
			Order(d.Asc()).Limit(5).WithAuthor().AllX(ctx)
		want := exact(all, q, func(*ent.Doc) bool { return true })[:5]
		if strings.Join(titles(got), ",") != strings.Join(want, ",") {
			t.Fatalf("top 5: %v, want %v", titles(got), want)
		}
		if got[0].Edges.Author == nil {
			t.Fatal("no eager loading")
		}
		page := c.Doc.Query().Where(vector.Nearest("doc_embedding", q, k), doc.Topic(topic)).
			Order(d.Asc()).Offset(5).Limit(5).AllX(ctx)
		if strings.Join(titles(page), ",") != strings.Join(exact(all, q, func(*ent.Doc) bool { return true })[5:10], ",") {
			t.Fatalf("second page: %v", titles(page))
		}
		if _, err := c.Doc.Query().Where(vector.Nearest("doc_embedding", q, 0)).All(ctx); err == nil || !strings.Contains(err.Error(), "k is 0") {
			t.Fatalf("k 0: %v", err)
		}
		if _, err := c.Doc.Query().Where(vector.Nearest("doc_embedding", vector.Vector{1, 2}, 3)).All(ctx); err == nil {
			t.Fatal("a query vector of the wrong dimension was accepted")
		}

		// UUID ids: the index's rowids are not the ids.
		emptyIndexed(t, db, "notes", "note_embedding")
		text := fmt.Sprint("n", topicSeq.Add(1))
		for i, v := range []vector.Vector{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0.9, 0.1, 0}} {
			c.Note.Create().SetText(fmt.Sprint(text, i)).SetEmbedding(v).ExecX(ctx)
		}
		nq := vector.Vector{1, 0.05, 0}
		notes := c.Note.Query().
			Where(vector.Nearest("note_embedding", nq, c.Note.Query().CountX(ctx)), note.TextHasPrefix(text)).
			Order(vector.L2Distance(note.FieldEmbedding, nq).Asc()).Limit(2).AllX(ctx)
		if len(notes) != 2 || notes[0].Text != text+"0" || notes[1].Text != text+"3" {
			t.Fatalf("notes: %v", notes)
		}
	})
}
