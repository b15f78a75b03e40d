package main

import (
	"hash/fnv"
	"math"
	"strings"
	"unicode"

	"github.com/entlibsql/entlibsql/dialect/libsql/vector"
	"github.com/entlibsql/entlibsql/example/ent/schema"
)

// embed stands in for an embedding model, so that the example needs no
// download: it hashes the text's character trigrams into a vector
// (feature hashing) and normalizes it. Texts that share words, or parts
// of words ("migrating", "migrations"), point the same way. The same text
// always gives the same vector. A real app calls its model here, with the
// field's dimension set to the model's.
func embed(text string) vector.Vector {
	v := make([]float64, schema.EmbeddingDims)
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for _, w := range words {
		w = " " + w + " "
		for i := 0; i+3 <= len(w); i++ {
			h := fnv.New32a()
			h.Write([]byte(w[i : i+3]))
			sum := h.Sum32()
			sign := 1.0
			if sum&1 == 1 {
				sign = -1
			}
			v[int(sum>>1)%len(v)] += sign
		}
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	out := make(vector.Vector, len(v))
	for i, x := range v {
		if norm > 0 {
			out[i] = float32(x / math.Sqrt(norm))
		}
	}
	return out
}
