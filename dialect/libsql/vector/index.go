package vector

import (
	"fmt"
	"strconv"
	"strings"

	"entgo.io/ent/dialect/entsql"
)

// Metric is the distance a vector index orders neighbours by.
type Metric string

// The metrics of libSQL's vector indexes and distance functions.
const (
	Cosine Metric = "cosine" // 1 − cosine similarity: vector_distance_cos
	L2     Metric = "l2"     // Euclidean distance: vector_distance_l2
)

// IndexTypeKey is the key of entsql.IndexAnnotation.Types under which
// Index records a vector index. No ent dialect has this name, so ent's
// own migrations ignore it; github.com/entlibsql/entlibsql/schema's
// WithLibSQL turns it into the index.
const IndexTypeKey = "libsql"

// IndexOption is a setting of a vector index.
type IndexOption func(*[]string)

func setting(name, value string) IndexOption {
	return func(s *[]string) { *s = append(*s, name+"="+value) }
}

// MaxNeighbors is how many neighbours each node of the index's graph keeps
// (libSQL's max_neighbors). Unset, libSQL picks it from the dimension.
func MaxNeighbors(n int) IndexOption { return positive("max_neighbors", n) }

// SearchL is how many candidates a search keeps (search_l). Larger finds
// more of the true neighbours, slower.
func SearchL(n int) IndexOption { return positive("search_l", n) }

// InsertL is how many candidates an insert keeps (insert_l).
func InsertL(n int) IndexOption { return positive("insert_l", n) }

// Alpha is the pruning factor of the index's graph (alpha), at least 1.
func Alpha(a float64) IndexOption {
	if !(a >= 1) || a > 1e6 {
		return invalid(fmt.Sprintf("alpha=%v (at least 1)", a))
	}
	return setting("alpha", strconv.FormatFloat(a, 'g', -1, 64))
}

// CompressNeighbors stores the neighbours' vectors in the index in a
// smaller type (compress_neighbors): F1Bit, F8, F16, FB16 or F32.
// Smaller indexes, less exact distances while searching.
func CompressNeighbors(t Type) IndexOption {
	names := map[Type]string{F1Bit: "float1bit", F8: "float8", F16: "float16", FB16: "floatb16", F32: "float32"}
	name, ok := names[t]
	if !ok {
		return invalid("compress_neighbors=" + t.String())
	}
	return setting("compress_neighbors", name)
}

func positive(name string, n int) IndexOption {
	if n < 1 {
		return invalid(fmt.Sprintf("%s=%d (a positive integer)", name, n))
	}
	return setting(name, strconv.Itoa(n))
}

// invalid records a bad setting so that the migration names it (an
// annotation cannot fail where it is written). Only plain characters are
// kept: the text lands in a Go string and in SQL.
func invalid(what string) IndexOption {
	return setting("invalid", strings.Map(func(r rune) rune {
		if r < 0x80 && (r == ' ' || r == '=' || r == '.' || r == '-' || r == '_' || r == '(' || r == ')' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return '?'
	}, what))
}

// Index is the annotation that makes an ent index a libSQL vector index
// (DiskANN), with metric and settings:
//
//	func (Post) Indexes() []ent.Index {
//		return []ent.Index{
//			index.Fields("embedding").
//				Annotations(vector.Index(vector.Cosine, vector.MaxNeighbors(32))),
//		}
//	}
//
// Schema.Create with github.com/entlibsql/entlibsql/schema's WithLibSQL
// (and schema.Diff) creates it as
//
//	CREATE INDEX `post_embedding` ON `posts` (libsql_vector_idx(`embedding`, 'metric=cosine', 'max_neighbors=32'))
//
// recreates it when its settings change, and after a table rebuild. The
// index covers one vector column. Query it with Nearest.
func Index(metric Metric, opts ...IndexOption) *entsql.IndexAnnotation {
	var settings []string
	switch metric {
	case Cosine, L2:
		setting("metric", string(metric))(&settings)
	default:
		invalid("metric=" + string(metric))(&settings)
	}
	for _, o := range opts {
		o(&settings)
	}
	quoted := make([]string, len(settings))
	for i, s := range settings {
		quoted[i] = "'" + s + "'"
	}
	return &entsql.IndexAnnotation{
		Types: map[string]string{IndexTypeKey: "libsql_vector_idx(" + strings.Join(quoted, ", ") + ")"},
	}
}
