package vector

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

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
	name   string // the constructor, for errors
	fn     string
	column string
	q      driver.Valuer
}

// CosineDistance is vector_distance_cos(column, q): 1 − the cosine
// similarity, from 0 (same direction) to 2 (opposite). q is one of this
// package's vector types, of the column's type and dimension.
func CosineDistance(column string, q driver.Valuer) Distance {
	return Distance{name: "CosineDistance", fn: "vector_distance_cos", column: column, q: q}
}

// L2Distance is vector_distance_l2(column, q), the Euclidean distance.
func L2Distance(column string, q driver.Valuer) Distance {
	return Distance{name: "L2Distance", fn: "vector_distance_l2", column: column, q: q}
}

// DistanceBy is the distance of metric m.
func DistanceBy(m Metric, column string, q driver.Valuer) Distance {
	if m == L2 {
		return L2Distance(column, q)
	}
	return CosineDistance(column, q)
}

// expr is the distance of each row of s, NULL for a row whose column is
// NULL: libSQL's distance functions fail on a NULL argument ("unexpected
// value type: got NULL"), which would fail a whole query over an optional
// field. (libSQL's cosine distance of a zero vector is NULL too.) A query
// vector that cannot be sent fails the statement (see refuse).
func (d Distance) expr(s *sql.Selector) (sql.Querier, bool) {
	v, err := queryValue(d.q)
	if err != nil {
		refuse(s, fmt.Errorf("vector: %s(%q): %w", d.name, d.column, err))
		return nil, false
	}
	column := s.C(d.column)
	return sql.ExprFunc(func(b *sql.Builder) {
		b.WriteString("CASE WHEN ").Ident(column).WriteString(" IS NULL THEN NULL ELSE ")
		b.WriteString(d.fn).Wrap(func(b *sql.Builder) {
			b.Ident(column).Comma().Arg(v)
		})
		b.WriteString(" END")
	}), true
}

// LT keeps the rows whose distance is below max (never a row without a
// vector).
func (d Distance) LT(max float64) func(*sql.Selector) { return d.compare("<", max) }

// LTE keeps the rows whose distance is at most max.
func (d Distance) LTE(max float64) func(*sql.Selector) { return d.compare("<=", max) }

func (d Distance) compare(op string, max float64) func(*sql.Selector) {
	return func(s *sql.Selector) {
		x, ok := d.expr(s)
		if !ok {
			return
		}
		s.Where(sql.P(func(b *sql.Builder) {
			b.Join(x).WriteString(" " + op + " ").Arg(max)
		}))
	}
}

// Asc orders rows nearest first. Rows without a distance (a NULL column,
// or a zero vector under the cosine distance) come last.
func (d Distance) Asc() func(*sql.Selector) { return d.order(" ASC NULLS LAST") }

// Desc orders rows farthest first; rows without a distance still come
// last.
func (d Distance) Desc() func(*sql.Selector) { return d.order(" DESC NULLS LAST") }

func (d Distance) order(dir string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		if x, ok := d.expr(s); ok {
			s.OrderExpr(sql.ExprFunc(func(b *sql.Builder) { b.Join(x).WriteString(dir) }))
		}
	}
}

// As adds the distance to the selected columns, named name, for ent's
// Modify; Scan the rows into structs with a field for each column (a
// *float64 for the distance if the field is optional: a row without a
// vector has none):
//
//	var rows []struct {
//		Title    string  `json:"title"`
//		Distance float64 `json:"distance"`
//	}
//	err := client.Post.Query().Order(d.Asc()).Limit(10).
//		Modify(func(s *sql.Selector) { s.Select(s.C(post.FieldTitle)) }, d.As("distance")).
//		Scan(ctx, &rows)
func (d Distance) As(name string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		if x, ok := d.expr(s); ok {
			s.AppendSelectExprAs(x, name)
		}
	}
}

// MaxK is the largest k Nearest asks for. libSQL reads k as a 32-bit
// integer: a larger one wraps around (2^32+3 finds 3 rows), and sqld
// 0.24.32 crashes, for every client, on a k that wraps to 0 or on one of
// about 2^28 and more (measured: 2^27 is searched, 2^28-1 crashes; the
// embedded engine aborts the process). A
// search returns at most about the index's search_l rows (200 unless
// SearchL says otherwise) whatever its k, so nothing useful lies beyond.
const MaxK = 1 << 16

// Nearest keeps the k rows nearest to q by the vector index named index
// (see Index), through libSQL's vector_top_k: approximate (DiskANN), and
// fast on large tables where an exact Distance reads every row. The index
// gives rowids; the rows are joined back by rowid, which is ent's id for
// integer ids, and a table's hidden rowid otherwise, so it works for any
// id type.
//
// k is from 1 to MaxK; the index finds at most about its search_l rows
// (200 by default, see SearchL), so a larger k returns no more. Nearest
// combines with other predicates (the rows must also satisfy them, so
// fewer than k may come back: vector_top_k finds the k nearest first),
// ordering, paging and eager loading. It does not order: add a Distance's
// Asc for nearest first. q is of the indexed column's type. An index that
// is not the queried table's (misspelled, dropped, or another table's)
// fails the query with libSQL's "vector index(search): failed to parse
// vector index parameters".
func Nearest(index string, q driver.Valuer, k int) func(*sql.Selector) {
	return func(s *sql.Selector) {
		v, err := queryValue(q)
		switch {
		case err != nil:
			refuse(s, fmt.Errorf("vector: Nearest(%q): %w", index, err))
			return
		case k < 1 || k > MaxK:
			refuse(s, fmt.Errorf("vector: Nearest(%q): k is %d, not between 1 and %d", index, k, MaxK))
			return
		}
		table := ""
		if s.Table() != nil {
			table = s.TableName()
		}
		s.Where(sql.P(func(b *sql.Builder) {
			b.Ident(s.C("rowid")).WriteString(" IN (SELECT id FROM vector_top_k(")
			if table == "" {
				b.Arg(index)
			} else {
				// The index only if it is this table's: another table's
				// index gives that table's rowids, which would pick this
				// table's rows at random. libSQL refuses the empty name.
				b.WriteString("COALESCE((SELECT name FROM sqlite_master WHERE type = 'index' AND name = ").Arg(index).
					WriteString(" AND tbl_name = ").Arg(table).WriteString("), '')")
			}
			b.Comma().Args(v, k).WriteString("))")
		}))
	}
}

// refuse is how a helper fails: the error goes on the selector, where
// ent's queries find it before they send anything, and into the SQL as a
// column no table has, named by the error. ent's Update, Delete and
// Select-with-Modify drop a selector's error and run the statement without
// the predicate: an UPDATE or DELETE of every row. Given a condition on a
// column that does not exist, the database refuses the statement whole,
// its message naming the error ("no such column: vector: Nearest(...)").
func refuse(s *sql.Selector, err error) {
	s.AddError(err)
	s.Where(sql.P(func(b *sql.Builder) {
		b.WriteString("`" + strings.ReplaceAll(err.Error(), "`", "``") + "`")
	}))
}

// queryValue is a query vector's blob.
func queryValue(q driver.Valuer) (driver.Value, error) {
	if q == nil {
		return nil, errors.New("no query vector")
	}
	v, err := q.Value()
	if err != nil {
		return nil, fmt.Errorf("the query vector: %w", unprefixed{err})
	}
	if v == nil {
		return nil, errors.New("the query vector is nil")
	}
	return v, nil
}

// unprefixed is an error of this package inside another's message, which
// names the package already.
type unprefixed struct{ err error }

func (u unprefixed) Error() string { return strings.TrimPrefix(u.err.Error(), "vector: ") }
func (u unprefixed) Unwrap() error { return u.err }
