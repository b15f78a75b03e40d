package hrana

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Values and rows arrive by the hundred thousand, and encoding/json spends
// most of a read's time on them: it scans each value once to check it,
// again to find its end, and Value.UnmarshalJSON decodes it twice more.
// parseValue reads the exact form sqld writes in one pass; for anything
// else it reports !ok and the caller takes the encoding/json path, which
// gives the same value or the error.

const (
	valuePrefix = `{"type":"`
	rowPrefix   = `{"type":"row","row":[`
)

// parseValue decodes the value at the start of data if it is written
// exactly as sqld writes it, and returns it with the number of bytes it
// took: {"type":"null"}, {"type":"integer","value":"-5"},
// {"type":"float","value":1.5}, {"type":"text","value":"..."} or
// {"type":"blob","base64":"AP8"}, with no blanks.
func parseValue(data []byte) (v any, n int, ok bool) {
	if !bytes.HasPrefix(data, []byte(valuePrefix)) {
		return nil, 0, false
	}
	rest := data[len(valuePrefix):]
	switch {
	case bytes.HasPrefix(rest, []byte(`null"}`)):
		return nil, len(valuePrefix) + len(`null"}`), true
	case bytes.HasPrefix(rest, []byte(`integer","value":"`)):
		rest = rest[len(`integer","value":"`):]
		end := 0
		for end < len(rest) && (rest[end] >= '0' && rest[end] <= '9' || rest[end] == '-') {
			end++
		}
		if !bytes.HasPrefix(rest[end:], []byte(`"}`)) {
			return nil, 0, false
		}
		i, err := strconv.ParseInt(string(rest[:end]), 10, 64)
		if err != nil {
			return nil, 0, false
		}
		return i, len(data) - len(rest) + end + 2, true
	case bytes.HasPrefix(rest, []byte(`float","value":`)):
		rest = rest[len(`float","value":`):]
		end := bytes.IndexByte(rest, '}')
		if end < 1 || !json.Valid(rest[:end]) || rest[0] == '"' || rest[0] == 'n' {
			return nil, 0, false // also null: the encoding/json path says why
		}
		f, err := strconv.ParseFloat(string(rest[:end]), 64)
		if err != nil {
			return nil, 0, false
		}
		return f, len(data) - len(rest) + end + 1, true
	case bytes.HasPrefix(rest, []byte(`text","value":"`)):
		rest = rest[len(`text","value":`):]
		s, end, ok := parseString(rest)
		if !ok || !bytes.HasPrefix(rest[end:], []byte(`}`)) {
			return nil, 0, false
		}
		return s, len(data) - len(rest) + end + 1, true
	case bytes.HasPrefix(rest, []byte(`blob","base64":"`)):
		rest = rest[len(`blob","base64":"`):]
		end := bytes.IndexByte(rest, '"')
		if end < 0 || !bytes.HasPrefix(rest[end:], []byte(`"}`)) || bytes.IndexByte(rest[:end], '\\') >= 0 {
			return nil, 0, false
		}
		b, err := decodeBase64(string(rest[:end]))
		if err != nil {
			return nil, 0, false
		}
		return b, len(data) - len(rest) + end + 2, true
	}
	return nil, 0, false
}

// parseString decodes the JSON string literal at the start of data and
// returns it with the literal's length. Literals without escapes (most)
// are copied as they are; the others go through encoding/json.
func parseString(data []byte) (s string, n int, ok bool) {
	if len(data) == 0 || data[0] != '"' {
		return "", 0, false
	}
	escaped := false
	for i := 1; i < len(data); i++ {
		switch c := data[i]; {
		case c == '\\':
			escaped = true
			i++ // the escaped byte cannot end the literal
		case c == '"':
			lit := data[:i+1]
			if escaped || !utf8.Valid(lit) {
				// encoding/json unescapes, and replaces invalid UTF-8.
				if err := json.Unmarshal(lit, &s); err != nil {
					return "", 0, false
				}
				return s, i + 1, true
			}
			return string(lit[1:i]), i + 1, true
		case c < 0x20:
			return "", 0, false // not allowed in JSON strings
		}
	}
	return "", 0, false
}

// parseRow decodes a cursor's row entry, {"type":"row","row":[...]} with
// each value as parseValue takes it, and nothing after it but the line's
// end. For anything else it reports !ok.
func parseRow(line []byte) ([]Value, bool) {
	if !bytes.HasPrefix(line, []byte(rowPrefix)) {
		return nil, false
	}
	rest := line[len(rowPrefix):]
	var row []Value
	if len(rest) > 0 && rest[0] == ']' {
		row = []Value{}
	}
	for len(rest) > 0 && rest[0] != ']' {
		if len(row) > 0 {
			if rest[0] != ',' {
				return nil, false
			}
			rest = rest[1:]
		}
		v, n, ok := parseValue(rest)
		if !ok {
			return nil, false
		}
		row = append(row, Value{V: v})
		rest = rest[n:]
	}
	if !bytes.HasPrefix(rest, []byte("]}")) {
		return nil, false
	}
	rest = bytes.TrimRight(rest[2:], "\r\n")
	return row, len(rest) == 0
}
