package hrana

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Value is one SQLite value on the wire. Its Go form is exactly one of
// nil (NULL), int64 (INTEGER), float64 (REAL), string (TEXT) or []byte
// (BLOB); anything else is rejected when encoding.
type Value struct {
	V any
}

// wireValue mirrors the JSON object of the spec:
// {"type":"integer","value":"1"}, {"type":"blob","base64":"..."}, ...
type wireValue struct {
	Type   string          `json:"type"`
	Value  json.RawMessage `json:"value"`
	Base64 *string         `json:"base64"`
}

// UnmarshalJSON decodes a value as the spec writes it: integers as decimal
// strings (so no precision is lost), floats as numbers, blobs as base64
// (sqld sends it unpadded; padded input is accepted too).
func (v *Value) UnmarshalJSON(data []byte) error {
	if x, n, ok := parseValue(data); ok && n == len(data) {
		v.V = x
		return nil
	}
	x, err := decodeValue(data)
	if err != nil {
		return err
	}
	v.V = x
	return nil
}

// decodeValue decodes a value in any form JSON allows, through
// encoding/json: the reference parseValue is held to.
func decodeValue(data []byte) (any, error) {
	var w wireValue
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("malformed value: %w", err)
	}
	switch w.Type {
	case "null":
		return nil, nil
	case "integer":
		var s string
		if err := json.Unmarshal(w.Value, &s); err != nil {
			return nil, &valueError{format: "integer value is not a JSON string: %s", val: string(w.Value)}
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, &valueError{format: "integer value %q is not a 64-bit decimal integer", val: s}
		}
		return n, nil
	case "float":
		if len(w.Value) == 0 || string(w.Value) == "null" {
			// JSON has no infinities: sqld sends +Inf and -Inf alike as null,
			// so the sign is lost. Refuse rather than guess.
			return nil, errNonFiniteFloat
		}
		f, err := strconv.ParseFloat(string(w.Value), 64)
		if err != nil || w.Value[0] == '"' {
			return nil, &valueError{format: "float value %s is not a JSON number", val: string(w.Value)}
		}
		return f, nil
	case "text":
		var s string
		if err := json.Unmarshal(w.Value, &s); err != nil {
			return nil, &valueError{format: "text value is not a JSON string: %s", val: string(w.Value)}
		}
		return s, nil
	case "blob":
		if w.Base64 == nil {
			return nil, errors.New("blob value without base64 field")
		}
		b, err := decodeBase64(*w.Base64)
		if err != nil {
			return nil, fmt.Errorf("blob value is not valid base64: %w", err)
		}
		return b, nil
	default:
		return nil, &valueError{format: "unknown value type %q", val: w.Type}
	}
}

var errNonFiniteFloat = errors.New("the server sent a non-finite float (JSON cannot carry ±Inf; the sign is lost)")

func decodeBase64(s string) ([]byte, error) {
	// Strip padding so both padded and unpadded forms decode.
	for len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
	}
	b := make([]byte, base64.RawStdEncoding.DecodedLen(len(s)))
	n, err := base64.RawStdEncoding.Decode(b, []byte(s))
	if err != nil {
		return nil, err
	}
	return b[:n], nil
}

// appendValue writes v as a Hrana JSON value. It refuses what JSON cannot
// carry faithfully: non-finite floats and strings that are not UTF-8
// (encoding/json would silently replace bad bytes with U+FFFD).
func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, `{"type":"null"}`...), nil
	case int64:
		b = append(b, `{"type":"integer","value":"`...)
		b = strconv.AppendInt(b, x, 10)
		return append(b, `"}`...), nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return b, fmt.Errorf("cannot send float %v: JSON has no NaN or infinities", x)
		}
		b = append(b, `{"type":"float","value":`...)
		b = strconv.AppendFloat(b, x, 'g', -1, 64)
		return append(b, '}'), nil
	case string:
		if !utf8.ValidString(x) {
			return b, errors.New("cannot send text that is not valid UTF-8 (send binary data as []byte)")
		}
		b = append(b, `{"type":"text","value":`...)
		b = appendString(b, x)
		return append(b, '}'), nil
	case []byte:
		if x == nil {
			return append(b, `{"type":"null"}`...), nil
		}
		b = append(b, `{"type":"blob","base64":"`...)
		b = base64.StdEncoding.AppendEncode(b, x)
		return append(b, `"}`...), nil
	default:
		return b, fmt.Errorf("cannot send a value of type %T", v)
	}
}

// appendString writes s as a JSON string literal. s must be valid UTF-8.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// truncateString keeps untrusted text quoted in error messages short.
// Scrub it of tokens first (see errors.go).
func truncateString(s string) string {
	if len(s) > maxQuote {
		return s[:maxQuote] + "…"
	}
	return s
}
