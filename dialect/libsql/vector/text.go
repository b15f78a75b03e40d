package vector

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

// libSQL takes a vector as text too, '[1, 2.5, -3e2]', wherever it takes
// one as a blob: vector32('[...]') converts it, and a text value stored in
// a vector column (INSERT ... VALUES ('[1,2,3]')) is a float32 vector to
// its distance functions and its indexes. The types here scan it as
// libSQL reads it (vectorParseSqliteText in libsql-sqlite3/src/vector.c):
//
//   - spaces are skipped anywhere, even inside a number ("[1 2]" is [12]);
//   - the text is '[', numbers separated by commas, ']', then only spaces;
//     "[]" is a vector of no components;
//   - a number is SQLite's: a sign, digits with an optional point, an
//     optional exponent (no hex, no inf, no nan), at most 1024 characters;
//     it is read as a float64, then rounded to float32 for float32 vectors
//     (a number past float32's range reads as an infinity, as in libSQL).

// maxNumberText is libSQL's MAX_FLOAT_CHAR_SZ.
const maxNumberText = 1024

var numberRe = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// isSpace is sqlite3Isspace.
func isSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

// parseText reads libSQL's text form of a vector.
func parseText(s string) ([]float64, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("vector: a text vector "+format, args...)
	}
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i == len(s) || s[i] != '[' {
		return nil, fail("must start with '['")
	}
	i++
	out := []float64{}
	var num []byte
	closed := false
	for ; i < len(s) && !closed; i++ {
		c := s[i]
		switch {
		case isSpace(c):
			continue
		case c != ',' && c != ']':
			if len(num) >= maxNumberText {
				return nil, fail("has a number of more than %d characters", maxNumberText)
			}
			num = append(num, c)
			continue
		}
		closed = c == ']'
		if closed && len(out) == 0 && len(num) == 0 {
			i++
			break // "[]"
		}
		if !numberRe.Match(num) {
			return nil, fail("has %q at position %d, not a number", num, len(out))
		}
		if len(out) == MaxDims {
			return nil, fail("has more than libSQL's %d components", MaxDims)
		}
		x, err := strconv.ParseFloat(string(num), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) { // out of range: ±Inf or 0, as SQLite reads it
			return nil, fail("has %q at position %d, not a number", num, len(out))
		}
		out = append(out, x)
		num = num[:0]
	}
	if !closed {
		return nil, fail("must end with ']'")
	}
	for ; i < len(s); i++ {
		if !isSpace(s[i]) {
			return nil, fail("has %q after its closing ']'", s[i:])
		}
	}
	return out, nil
}

// fromText is the components of text as a vector of type t (any but F64):
// float32 numbers, rounded as libSQL's conversion to t (vector16, ...)
// rounds them, so that the value is one a blob of type t holds.
func fromText(t Type, text string) ([]float32, error) {
	xs, err := parseText(text)
	if err != nil {
		return nil, err
	}
	v := make([]float32, len(xs))
	for i, x := range xs {
		v[i] = float32(x)
	}
	if t == F32 || len(v) == 0 {
		return v, nil
	}
	b, err := encode(t, v)
	if err != nil {
		return nil, fmt.Errorf("vector: a text vector read as a %s: %w", goTypes[t], unprefixed{err})
	}
	return decode(t, len(v), b), nil
}
