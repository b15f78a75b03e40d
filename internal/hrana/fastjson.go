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
	row, n, ok := parseValues(rest)
	if !ok || !bytes.HasPrefix(rest[n:], []byte("}")) {
		return nil, false
	}
	rest = bytes.TrimRight(rest[n+1:], "\r\n")
	return row, len(rest) == 0
}

// parseValues decodes the values of a row after its '[', each as
// parseValue takes it, up to and including the ']', and returns them with
// the number of bytes they took.
func parseValues(data []byte) ([]Value, int, bool) {
	rest := data
	var row []Value
	if len(rest) > 0 && rest[0] == ']' {
		row = []Value{}
	}
	for len(rest) > 0 && rest[0] != ']' {
		if len(row) > 0 {
			if rest[0] != ',' {
				return nil, 0, false
			}
			rest = rest[1:]
		}
		v, n, ok := parseValue(rest)
		if !ok {
			return nil, 0, false
		}
		row = append(row, Value{V: v})
		rest = rest[n:]
	}
	if len(rest) == 0 {
		return nil, 0, false
	}
	return row, len(data) - len(rest) + 1, true
}

// parseExecuteAnswer decodes the answer to a pipeline of one execute
// request if it is written exactly as sqld writes it:
//
//	{"baton":…,"base_url":…,"results":[{"type":"ok","response":{"type":"execute",
//	"result":{"cols":[…],"rows":[…],"affected_row_count":…,"last_insert_rowid":…,
//	"replication_index":…[,"rows_read":…,"rows_written":…,"query_duration_ms":…]}}}]}
//
// It is the answer to every autocommit statement and every statement of a
// transaction but the first. For anything else it reports !ok.
func parseExecuteAnswer(body []byte) (*pipelineResponse, *StmtResult, bool) {
	s := &scanner{b: body, ok: true}
	var pr pipelineResponse
	r := &StmtResult{Cols: []Col{}, Rows: [][]Value{}}
	s.lit(`{"baton":`)
	pr.Baton = s.optString()
	s.lit(`,"base_url":`)
	pr.BaseURL = s.optString()
	s.lit(`,"results":[{"type":"ok","response":{"type":"execute","result":{"cols":[`)
	for i := 0; s.next(i, ']'); i++ {
		s.lit(`{"name":`)
		name := s.optString()
		s.lit(`,"decltype":`)
		decl := s.optString()
		s.lit(`}`)
		var c Col
		if name != nil {
			c.Name = *name
		}
		if decl != nil {
			c.Decltype = *decl
		}
		r.Cols = append(r.Cols, c)
	}
	s.lit(`,"rows":[`)
	for i := 0; s.next(i, ']'); i++ {
		s.lit(`[`)
		row := []Value{}
		for j := 0; s.next(j, ']'); j++ {
			row = append(row, Value{V: s.value()})
		}
		r.Rows = append(r.Rows, row)
	}
	s.lit(`,"affected_row_count":`)
	r.AffectedRowCount = s.int()
	s.lit(`,"last_insert_rowid":`)
	r.LastInsertRowID = s.optInt()
	s.lit(`,"replication_index":`)
	r.ReplicationIndex = s.optInt()
	for _, stat := range []string{`,"rows_read":`, `,"rows_written":`, `,"query_duration_ms":`} {
		if bytes.HasPrefix(s.b, []byte(stat)) {
			s.lit(stat)
			s.number()
		}
	}
	s.lit(`}}}]}`)
	if !s.ok || len(s.b) != 0 {
		return nil, nil, false
	}
	return &pr, r, true
}

// scanner reads the exact text of a fast path. Once something does not
// match, ok is false and every later read is a no-op.
type scanner struct {
	b  []byte
	ok bool
}

// lit consumes l.
func (s *scanner) lit(l string) {
	if s.ok && bytes.HasPrefix(s.b, []byte(l)) {
		s.b = s.b[len(l):]
		return
	}
	s.ok = false
}

// next reports whether element i of a list follows, consuming the comma
// before it, or the list ends, consuming end.
func (s *scanner) next(i int, end byte) bool {
	if s.ok && len(s.b) > 0 && s.b[0] == end {
		s.b = s.b[1:]
		return false
	}
	if i > 0 {
		s.lit(",")
	}
	return s.ok
}

func (s *scanner) optString() *string {
	if !s.ok || bytes.HasPrefix(s.b, []byte("null")) {
		s.lit("null")
		return nil
	}
	str, n, ok := parseString(s.b)
	if !ok {
		s.ok = false
		return nil
	}
	s.b = s.b[n:]
	return &str
}

func (s *scanner) value() any {
	if !s.ok {
		return nil
	}
	v, n, ok := parseValue(s.b)
	if !ok {
		s.ok = false
		return nil
	}
	s.b = s.b[n:]
	return v
}

// token returns the bytes up to the next ',' or '}'.
func (s *scanner) token() []byte {
	end := bytes.IndexAny(s.b, ",}")
	if !s.ok || end < 1 {
		s.ok = false
		return nil
	}
	t := s.b[:end]
	s.b = s.b[end:]
	return t
}

// int reads an integer written as a JSON number.
func (s *scanner) int() int64 {
	t := s.token()
	n, err := strconv.ParseInt(string(t), 10, 64)
	if err != nil || !json.Valid(t) {
		s.ok = false
	}
	return n
}

// optInt reads null or an integer written as a JSON string.
func (s *scanner) optInt() OptInt {
	t := s.token()
	if !s.ok || string(t) == "null" {
		return OptInt{}
	}
	var o OptInt
	if len(t) < 3 || t[0] != '"' || t[len(t)-1] != '"' || o.UnmarshalJSON(t) != nil || !json.Valid(t) {
		s.ok = false
	}
	return o
}

// number skips a JSON number.
func (s *scanner) number() {
	if t := s.token(); s.ok && (!json.Valid(t) || t[0] != '-' && (t[0] < '0' || t[0] > '9')) {
		s.ok = false
	}
}
