package vector

import (
	"strings"
	"testing"
)

// The settings as vector.Index writes them; a refused one becomes an
// "invalid=" setting that the migration reports (schema's tests).
func TestIndexSettings(t *testing.T) {
	for _, c := range []struct {
		metric Metric
		opts   []IndexOption
		want   string
	}{
		{Cosine, nil, "'metric=cosine'"},
		{L2, []IndexOption{MaxNeighbors(MaxSetting), SearchL(1), InsertL(MaxSetting)}, "'metric=l2', 'max_neighbors=65536', 'search_l=1', 'insert_l=65536'"},
		{Cosine, []IndexOption{Alpha(1.2)}, "'metric=cosine', 'alpha=1.2'"},
		{Cosine, []IndexOption{Alpha(1e6)}, "'metric=cosine', 'alpha=1000000'"}, // never 1e+06
		{Cosine, []IndexOption{Alpha(0.5)}, "'invalid=alpha=0.5 (at least 1)'"},
		{Cosine, []IndexOption{SearchL(0)}, "'invalid=search_l=0 (an integer from 1 to 65536)'"},
		{Cosine, []IndexOption{SearchL(1 << 28)}, "'invalid=search_l=268435456 (an integer from 1 to 65536)'"},
		{Cosine, []IndexOption{InsertL(-1)}, "'invalid=insert_l=-1 (an integer from 1 to 65536)'"},
		{Cosine, []IndexOption{CompressNeighbors(F1Bit)}, "'metric=cosine', 'compress_neighbors=float1bit'"},
		{L2, []IndexOption{CompressNeighbors(F1Bit)}, "'invalid=compress_neighbors=float1bit with metric=l2 (libSQL compresses to float1bit for cosine only)'"},
		{L2, []IndexOption{CompressNeighbors(F64)}, "'invalid=compress_neighbors=F64_BLOB'"},
		{"dot", nil, "'invalid=metric=dot'"},
	} {
		got := Index(c.metric, c.opts...).Types[IndexTypeKey]
		if !strings.Contains(got, c.want) {
			t.Errorf("%s %d options: %s, want %s", c.metric, len(c.opts), got, c.want)
		}
	}
}
