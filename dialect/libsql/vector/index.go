package vector

import (
	"fmt"
	"slices"
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

// MaxSetting is the largest value of an integer setting (MaxNeighbors,
// SearchL, InsertL). libSQL reads them as 32-bit integers, and sqld
// 0.24.32 crashes on the first search of an index whose search_l is 2^28
// or more (measured); 65536 is far past any useful graph.
const MaxSetting = 1 << 16

// MaxNeighbors is how many neighbours each node of the index's graph keeps
// (libSQL's max_neighbors), 1 to MaxSetting. Unset, libSQL picks it from
// the dimension.
func MaxNeighbors(n int) IndexOption { return positive("max_neighbors", n) }

// SearchL is how many candidates a search keeps (search_l), 1 to
// MaxSetting; libSQL's default is 200. Larger finds more of the true
// neighbours, slower. It also bounds what Nearest returns: a search yields
// at most about search_l rows, whatever its k.
func SearchL(n int) IndexOption { return positive("search_l", n) }

// InsertL is how many candidates an insert keeps (insert_l), 1 to
// MaxSetting.
func InsertL(n int) IndexOption { return positive("insert_l", n) }

// Alpha is the pruning factor of the index's graph (alpha), at least 1.
func Alpha(a float64) IndexOption {
	if !(a >= 1) || a > 1e6 {
		return invalid(fmt.Sprintf("alpha=%v (at least 1)", a))
	}
	// Never an exponent: libSQL reads the plain decimal form, and the
	// migration's check of settings accepts only that.
	return setting("alpha", strconv.FormatFloat(a, 'f', -1, 64))
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
	if n < 1 || n > MaxSetting {
		return invalid(fmt.Sprintf("%s=%d (an integer from 1 to %d)", name, n, MaxSetting))
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
	if metric == L2 && slices.Contains(settings, "compress_neighbors=float1bit") {
		// libSQL refuses it when it creates the index; say so before.
		invalid("compress_neighbors=float1bit with metric=l2 (libSQL compresses to float1bit for cosine only)")(&settings)
	}
	quoted := make([]string, len(settings))
	for i, s := range settings {
		quoted[i] = "'" + s + "'"
	}
	return &entsql.IndexAnnotation{
		Types: map[string]string{IndexTypeKey: "libsql_vector_idx(" + strings.Join(quoted, ", ") + ")"},
	}
}
