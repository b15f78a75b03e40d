package vector

import (
	"database/sql/driver"
	"fmt"

	"entgo.io/ent/dialect/sql"
)

// The helpers here return func(*sql.Selector), which ent's generated
// Where, Order and Modify take as they are (predicate.Post,
// post.OrderOption and modifiers are that function type):
//
//	d := vector.CosineDistance(post.FieldEmbedding, q)
//	posts, err := client.Post.Query().
//		Where(vector.Nearest("post_embedding", q, 10), post.Published(true)).
//		Order(d.Asc()).
//		WithAuthor().
//		All(ctx)

// Distance is the exact distance between a column's vectors and a query
// vector, computed for every row it is asked of (no index).
type Distance struct {
	fn     string
	column string
	q      driver.Valuer
}

// CosineDistance is vector_distance_cos(column, q): 1 − the cosine
// similarity, from 0 (same direction) to 2 (opposite). q is one of this
// package's vector types, of the column's type and dimension.
func CosineDistance(column string, q driver.Valuer) Distance {
	return Distance{fn: "vector_distance_cos", column: column, q: q}
}

// L2Distance is vector_distance_l2(column, q), the Euclidean distance.
func L2Distance(column string, q driver.Valuer) Distance {
	return Distance{fn: "vector_distance_l2", column: column, q: q}
}

// DistanceBy is the distance of metric m.
func DistanceBy(m Metric, column string, q driver.Valuer) Distance {
	if m == L2 {
		return L2Distance(column, q)
	}
	return CosineDistance(column, q)
}

// expr writes the distance for the rows of s.
func (d Distance) expr(s *sql.Selector) sql.Querier {
	return sql.ExprFunc(func(b *sql.Builder) {
		v, err := queryValue(d.q)
		if err != nil {
			b.AddError(err)
			return
		}
		b.WriteString(d.fn).Wrap(func(b *sql.Builder) {
			b.Ident(s.C(d.column)).Comma().Arg(v)
		})
	})
}

// LT keeps the rows whose distance is below max.
func (d Distance) LT(max float64) func(*sql.Selector) { return d.compare("<", max) }

// LTE keeps the rows whose distance is at most max.
func (d Distance) LTE(max float64) func(*sql.Selector) { return d.compare("<=", max) }

func (d Distance) compare(op string, max float64) func(*sql.Selector) {
	return func(s *sql.Selector) {
		s.Where(sql.P(func(b *sql.Builder) {
			b.Join(d.expr(s)).WriteString(" " + op + " ").Arg(max)
		}))
	}
}

// Asc orders rows nearest first. Rows whose column is NULL come first
// (SQLite sorts NULL low): filter them with the field's NotNil predicate
// if the field is optional.
func (d Distance) Asc() func(*sql.Selector) {
	return func(s *sql.Selector) { s.OrderExpr(d.expr(s)) }
}

// Desc orders rows farthest first.
func (d Distance) Desc() func(*sql.Selector) {
	return func(s *sql.Selector) {
		s.OrderExpr(sql.ExprFunc(func(b *sql.Builder) { b.Join(d.expr(s)).WriteString(" DESC") }))
	}
}

// As adds the distance to the selected columns, named name, for ent's
// Modify; Scan the rows into structs with a field for each column:
//
//	var rows []struct {
//		Title    string  `json:"title"`
//		Distance float64 `json:"distance"`
//	}
//	err := client.Post.Query().Order(d.Asc()).Limit(10).
//		Modify(func(s *sql.Selector) { s.Select(s.C(post.FieldTitle)) }, d.As("distance")).
//		Scan(ctx, &rows)
func (d Distance) As(name string) func(*sql.Selector) {
	return func(s *sql.Selector) { s.AppendSelectExprAs(d.expr(s), name) }
}

// Nearest keeps the k rows nearest to q by the vector index named index
// (see Index), through libSQL's vector_top_k: approximate (DiskANN), and
// fast on large tables where an exact Distance reads every row. The index
// gives rowids; the rows are joined back by rowid, which is ent's id for
// integer ids, and a table's hidden rowid otherwise, so it works for any
// id type.
//
// It combines with other predicates (the rows must also satisfy them, so
// fewer than k may come back: vector_top_k finds the k nearest first),
// ordering, paging and eager loading. It does not order: add a
// Distance's Asc for nearest first. q is of the indexed column's type.
func Nearest(index string, q driver.Valuer, k int) func(*sql.Selector) {
	return func(s *sql.Selector) {
		v, err := queryValue(q)
		switch {
		case err != nil:
			s.AddError(err)
			return
		case k < 1:
			s.AddError(fmt.Errorf("vector: Nearest(%q): k is %d, not positive", index, k))
			return
		}
		s.Where(sql.P(func(b *sql.Builder) {
			b.Ident(s.C("rowid")).WriteString(" IN (SELECT id FROM vector_top_k(").Args(index, v, k).WriteString("))")
		}))
	}
}

// queryValue is a query vector's blob.
func queryValue(q driver.Valuer) (driver.Value, error) {
	if q == nil {
		return nil, fmt.Errorf("vector: no query vector")
	}
	v, err := q.Value()
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("vector: the query vector is nil")
	}
	return v, nil
}
