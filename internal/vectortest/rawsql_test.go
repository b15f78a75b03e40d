package vectortest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/entlibsql/entlibsql/dialect/libsql/vector"
	"github.com/entlibsql/entlibsql/internal/vectortest/ent"
	"github.com/entlibsql/entlibsql/internal/vectortest/ent/doc"
	"github.com/entlibsql/entlibsql/internal/vectortest/ent/sample"
)

// Vectors written by other clients in plain SQL read back through ent:
// libSQL's conversion functions (vector32, vector, vector16, ...), and the
// text form libSQL itself takes as a vector ('[1,2,3]' stored as text),
// which its distances and indexes read and an ent query must too.
func TestReadVectorsWrittenBySQL(t *testing.T) {
	ctx := context.Background()
	eachTransportDB(t, func(t *testing.T, c *ent.Client, db *sql.DB) {
		for _, w := range []struct{ f32, others string }{
			{"vector32('[1,2,3.3]')", "vector64('[1,2,3.3]'), vector16('[1,2,3.3]'), vectorb16('[1,2,3.3]'), vector8('[1,2,3.3]'), vector1bit('[1,-2,3.3,1,1,1,1,1,1,-1]')"},
			{"vector('[1,2,3.3]')", "vector64('[1,2,3.3]'), vector16('[1,2,3.3]'), vectorb16('[1,2,3.3]'), vector8('[1,2,3.3]'), vector1bit('[1,-2,3.3,1,1,1,1,1,1,-1]')"},
			{"' [1, 2,3.3] '", "'[1,2,3.3]', '[1,2,3.3]', '[1,2,3.3]', '[1,2,3.3]', '[1,-2,3.3,1,1,1,1,1,1,-1]'"},
		} {
			res, err := db.ExecContext(ctx, "INSERT INTO samples (f32, f64, f16, fb16, f8, f1bit) VALUES ("+w.f32+", "+w.others+")")
			if err != nil {
				t.Fatal(err)
			}
			id, _ := res.LastInsertId()
			s, err := c.Sample.Get(ctx, int(id))
			if err != nil {
				t.Fatalf("%s: %v", w.f32, err)
			}
			var f8 vector.Float8
			rounded(t, vector.Float8{1, 2, 3.3}, &f8)
			switch {
			case !same(s.F32, vector.Vector{1, 2, 3.3}):
				t.Errorf("%s: f32 %v", w.f32, s.F32)
			case !same(s.F64, vector.Float64{1, 2, 3.3}):
				t.Errorf("%s: f64 %v", w.f32, s.F64)
			case !same(s.F16, vector.Float16{1, 2, 3.30078125}):
				t.Errorf("%s: f16 %v", w.f32, s.F16)
			case !same(s.Fb16, vector.BFloat16{1, 2, 3.296875}):
				t.Errorf("%s: fb16 %v", w.f32, s.Fb16)
			case !same(s.F8, f8):
				t.Errorf("%s: f8 %v, want %v", w.f32, s.F8, f8)
			case !same(s.F1bit, vector.Float1Bit{1, -1, 1, 1, 1, 1, 1, 1, 1, -1}):
				t.Errorf("%s: f1bit %v", w.f32, s.F1bit)
			}
		}

		// A row whose vector libSQL took as text sits in the index, and
		// reads back with the others.
		emptyDocs(t, db)
		topic := fmt.Sprint("text", topicSeq.Add(1))
		if _, err := db.ExecContext(ctx, "INSERT INTO docs (title, topic, embedding) VALUES ('text', ?, '[0.5, 0.5, 0, 0]')", topic); err != nil {
			t.Fatal(err)
		}
		c.Doc.Create().SetTitle("blob").SetTopic(topic).SetEmbedding(vector.Vector{0, 0, 1, 0}).ExecX(ctx)
		q := vector.Vector{1, 1, 0, 0}
		got, err := c.Doc.Query().Where(vector.Nearest("doc_embedding", q, 100), doc.Topic(topic)).
			Order(vector.CosineDistance(doc.FieldEmbedding, q).Asc()).All(ctx)
		if err != nil || len(got) != 2 || got[0].Title != "text" || !same(got[0].Embedding, vector.Vector{0.5, 0.5, 0, 0}) {
			t.Fatalf("text row: %v %v", got, err)
		}
		// What libSQL refuses as a vector is an error naming the problem.
		if _, err := db.ExecContext(ctx, "UPDATE samples SET f32_optional = '[1,,2]' WHERE id = (SELECT max(id) FROM samples)"); err != nil {
			t.Fatal(err)
		}
		_, err = c.Sample.Query().Where(sample.F32OptionalNotNil()).All(ctx)
		if err == nil || !strings.Contains(err.Error(), `vector: a text vector has "" at position 1, not a number`) {
			t.Fatalf("bad text: %v", err)
		}
		db.ExecContext(ctx, "UPDATE samples SET f32_optional = NULL")
	})
}
