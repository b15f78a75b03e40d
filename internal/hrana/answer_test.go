package hrana

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// streamedEntries decodes body as a streamed answer, through a reader
// that hands out one byte at a time (every chunk boundary is tried), and
// returns its entries.
func streamedEntries(body []byte, maxSize int64, oneByte bool) (*cursorHead, []CursorEntry, error) {
	var r io.Reader = bytes.NewReader(body)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	a := newAnswer(&Client{maxSize: maxSize}, bufio.NewReaderSize(r, 16))
	head, err := a.readHead()
	if err != nil {
		return nil, nil, err
	}
	var out []CursorEntry
	for i := 0; i <= len(body)+1; i++ {
		e, err := a.next()
		if err == io.EOF {
			return head, out, nil
		}
		if err != nil {
			return head, out, err
		}
		out = append(out, *e)
	}
	return head, out, errors.New("no end")
}

// referenceEntries decodes body whole with encoding/json, as the answer
// to one batch request, and lists the entries the streamed decoding must
// give.
func referenceEntries(body []byte) (*pipelineResponse, []CursorEntry, error) {
	pr, res, err := decodePipelineJSON(body, []Request{ExecuteBatch(Batch{})})
	if err != nil {
		return nil, nil, err
	}
	if res[0].Err != nil {
		return pr, []CursorEntry{{Type: "error", Error: res[0].Err.(*Error)}}, nil
	}
	var out []CursorEntry
	br := res[0].Response.Batch
	for i, r := range br.StepResults {
		if r == nil {
			continue
		}
		out = append(out, CursorEntry{Type: "step_begin", Step: i, Cols: r.Cols})
		for _, row := range r.Rows {
			out = append(out, CursorEntry{Type: "row", Row: row})
		}
		out = append(out, CursorEntry{Type: "step_end", AffectedRowCount: r.AffectedRowCount, LastInsertRowID: r.LastInsertRowID})
	}
	for i, e := range br.StepErrors {
		if e != nil {
			out = append(out, CursorEntry{Type: "step_error", Step: i, Error: e})
		}
	}
	return pr, out, nil
}

func sameEntries(a, b []CursorEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Type != y.Type || x.Step != y.Step || x.AffectedRowCount != y.AffectedRowCount || x.LastInsertRowID != y.LastInsertRowID ||
			!reflect.DeepEqual(x.Error, y.Error) || len(x.Cols) != len(y.Cols) || !sameRows([][]Value{x.Row}, [][]Value{y.Row}) {
			return false
		}
		for j := range x.Cols {
			if x.Cols[j] != y.Cols[j] {
				return false
			}
		}
	}
	return true
}

// sqldBatchAnswer is sqld 0.24.32's answer to BEGIN, a query and a
// failing statement in one batch, as it wrote it.
const sqldBatchAnswer = `{"baton":"K2lM","base_url":null,"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[` +
	`{"cols":[],"rows":[],"affected_row_count":0,"last_insert_rowid":null,"replication_index":null,"rows_read":0,"rows_written":0,"query_duration_ms":0.013},` +
	`{"cols":[{"name":"id","decltype":"INTEGER"},{"name":"t","decltype":"TEXT"}],"rows":[[{"type":"integer","value":"1"},{"type":"text","value":"a \"body\" \u00e9"}],` +
	`[{"type":"integer","value":"2"},{"type":"null"}],[{"type":"float","value":1.5},{"type":"blob","base64":"AP8"}]],"affected_row_count":0,"last_insert_rowid":null,` +
	`"replication_index":null,"rows_read":2,"rows_written":0,"query_duration_ms":0.063},null],` +
	`"step_errors":[null,null,{"message":"SQL input error: no such column: nosuch (at offset 7)","code":"SQL_INPUT_ERROR"}],"replication_index":"3886"}}}]}`

func TestAnswerDecodes(t *testing.T) {
	cases := map[string]string{
		"sqld's batch answer":        sqldBatchAnswer,
		"a request error":            `{"baton":"b","base_url":null,"results":[{"type":"error","error":{"message":"Response is too large","code":"RESPONSE_TOO_LARGE"}}]}`,
		"BEGIN failed":               `{"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[null,null],"step_errors":[{"message":"cannot start a transaction within a transaction","code":"SQLITE_ERROR"},null],"replication_index":null}}}]}`,
		"blanks everywhere":          " {\n\"baton\" : \"b\" ,\"base_url\":null, \"results\" : [ { \"type\" : \"ok\" , \"response\" : { \"type\":\"batch\", \"result\" : { \"step_results\" : [ { \"cols\" : [ ] , \"rows\" : [ [ ] , [ { \"type\" : \"null\" } ] ] , \"affected_row_count\" : 0 } ] , \"step_errors\" : [ null ] } } } ] } \n",
		"rows before cols":           `{"baton":"b","results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[{"rows":[[{"type":"integer","value":"7"}]],"cols":[{"name":"x","decltype":null}],"affected_row_count":3,"last_insert_rowid":"9"}],"step_errors":[null]}}}]}`,
		"errors first":               `{"baton":"b","results":[{"type":"ok","response":{"type":"batch","result":{"step_errors":[null,{"message":"m","code":"c"}],"step_results":[{"cols":[],"rows":[]},null]}}}]}`,
		"type last":                  `{"baton":"b","results":[{"response":{"result":{"step_results":[{"cols":[],"rows":[[{"type":"text","value":"v"}]]}],"step_errors":[null]},"type":"batch"},"type":"ok"}]}`,
		"results first":              `{"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[{"cols":[{"name":"a","decltype":"TEXT"}],"rows":[[{"type":"text","value":"v"}]]}],"step_errors":[null]}}}],"base_url":"http://h","baton":"late"}`,
		"members unknown":            `{"baton":"b","extra":{"x":[1,{"y":"]}"}]},"results":[{"type":"ok","more":null,"response":{"type":"batch","z":true,"result":{"step_results":[{"cols":[],"w":-1.5e3,"rows":[]}],"step_errors":[null]}}}]}`,
		"a value not in sqld's form": `{"baton":"b","results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[{"cols":[{"name":"a","decltype":null}],"rows":[[{"value":"5","type":"integer"}],[{"type":"blob","base64":"AP8="}]]}],"step_errors":[null]}}}]}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			pr, want, err := referenceEntries([]byte(body))
			if err != nil {
				t.Fatalf("the reference fails: %v", err)
			}
			for _, oneByte := range []bool{false, true} {
				head, got, err := streamedEntries([]byte(body), 0, oneByte)
				if err != nil {
					t.Fatalf("one byte at a time %v: %v", oneByte, err)
				}
				if !reflect.DeepEqual(head.Baton, pr.Baton) || !reflect.DeepEqual(head.BaseURL, pr.BaseURL) {
					t.Fatalf("head %v %v, want %v %v", head.Baton, head.BaseURL, pr.Baton, pr.BaseURL)
				}
				if !sameEntries(got, want) {
					t.Fatalf("entries\n got %+v\nwant %+v", got, want)
				}
			}
		})
	}
}

func TestAnswerRefuses(t *testing.T) {
	cases := map[string]string{
		"empty":            ``,
		"not an object":    `[1]`,
		"no results":       `{"baton":null,"base_url":null}`,
		"zero results":     `{"baton":null,"base_url":null,"results":[]}`,
		"two results":      `{"baton":null,"base_url":null,"results":[{"type":"error","error":{"message":"a"}},{"type":"error","error":{"message":"b"}}]}`,
		"cut short":        sqldBatchAnswer[:len(sqldBatchAnswer)/2],
		"cut in a value":   sqldBatchAnswer[:strings.Index(sqldBatchAnswer, `"a \"body`)+5],
		"trailing data":    sqldBatchAnswer + `{}`,
		"unknown type":     `{"baton":null,"results":[{"type":"maybe"}]}`,
		"error without":    `{"baton":null,"results":[{"type":"error"}]}`,
		"an execute":       `{"baton":null,"results":[{"type":"ok","response":{"type":"execute","result":{"cols":[],"rows":[]}}}]}`,
		"no result":        `{"baton":null,"results":[{"type":"ok","response":{"type":"batch"}}]}`,
		"a bad row":        `{"baton":null,"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[{"cols":[],"rows":[[{"type":"integer","value":"x"}]]}]}}}]}`,
		"a row not a list": `{"baton":null,"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[{"cols":[],"rows":[{}]}]}}}]}`,
		"a step a number":  `{"baton":null,"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[1]}}}]}`,
		"key not a string": `{baton:null}`,
		"missing comma":    `{"baton":null "results":[]}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := streamedEntries([]byte(body), 0, false)
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v (%T), want a protocol error", err, err)
			}
		})
	}
}

// A value over the size limit fails with the limit's error, having read
// no more than the limit of it.
func TestAnswerSizeLimit(t *testing.T) {
	big := strings.Repeat("x", 5000)
	body := `{"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[{"cols":[],"rows":[` +
		strings.Repeat(`[{"type":"text","value":"small"}],`, 1000) + `[{"type":"text","value":"` + big + `"}]]}],"step_errors":[null]}}}]}`
	_, got, err := streamedEntries([]byte(body), 4096, false)
	var tl *ResponseTooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("got %v, want the size limit's error", err)
	}
	if len(got) != 1001 { // step_begin and the small rows: each row is bounded alone
		t.Fatalf("%d entries before the large one, want 1001", len(got))
	}
	if _, _, err := streamedEntries([]byte(body), 8192, false); err != nil {
		t.Fatalf("under the limit: %v", err)
	}
}

// The streamed decoding holds one row at a time: decoding many rows
// allocates about as much as the rows themselves, never the answer.
func TestAnswerStreams(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[{"cols":[{"name":"a","decltype":"TEXT"}],"rows":[`)
	const n = 20000
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`[{"type":"text","value":"` + strings.Repeat("r", 100) + strconv.Itoa(i) + `"}]`)
	}
	b.WriteString(`],"affected_row_count":0}],"step_errors":[null]}}}]}`)
	a := newAnswer(&Client{}, bufio.NewReader(strings.NewReader(b.String())))
	if _, err := a.readHead(); err != nil {
		t.Fatal(err)
	}
	rows := 0
	for {
		e, err := a.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Type == "row" {
			rows++
		}
		if cap(a.j.buf) > 4096 {
			t.Fatalf("the reader's buffer grew to %d bytes", cap(a.j.buf))
		}
	}
	if rows != n {
		t.Fatalf("%d rows", rows)
	}
}

// canonicalAnswer writes what referenceEntries decoded in sqld's order.
func canonicalAnswer(pr *pipelineResponse, entries []CursorEntry, steps int) []byte {
	var b []byte
	str := func(s *string) {
		if s == nil {
			b = append(b, "null"...)
		} else {
			b = appendString(b, *s)
		}
	}
	b = append(b, `{"baton":`...)
	str(pr.Baton)
	b = append(b, `,"base_url":`...)
	str(pr.BaseURL)
	b = append(b, `,"results":[`...)
	if len(entries) == 1 && entries[0].Type == "error" {
		e, _ := json.Marshal(entries[0].Error)
		b = append(b, `{"type":"error","error":`...)
		b = append(append(b, e...), "}]}"...)
		return b
	}
	b = append(b, `{"type":"ok","response":{"type":"batch","result":{"step_results":[`...)
	results := make([][]byte, steps)
	errs := make([]*Error, steps)
	var cur []byte
	step := 0
	for _, e := range entries {
		switch e.Type {
		case "step_begin":
			step = e.Step
			cols, _ := json.Marshal(e.Cols)
			if e.Cols == nil {
				cols = []byte("[]")
			}
			cur = append([]byte(`{"cols":`), cols...)
			cur = append(cur, `,"rows":[`...)
		case "row":
			if cur[len(cur)-1] == ']' {
				cur = append(cur, ',')
			}
			cur = append(cur, '[')
			for i, v := range e.Row {
				if i > 0 {
					cur = append(cur, ',')
				}
				cur, _ = appendValue(cur, v.V)
			}
			cur = append(cur, ']')
		case "step_end":
			cur = append(cur, `],"affected_row_count":`...)
			cur = strconv.AppendInt(cur, e.AffectedRowCount, 10)
			cur = append(cur, `,"last_insert_rowid":`...)
			if e.LastInsertRowID.Valid {
				cur = append(cur, fmt.Sprintf(`"%d"`, e.LastInsertRowID.Value)...)
			} else {
				cur = append(cur, "null"...)
			}
			results[step] = append(cur, '}')
		case "step_error":
			errs[e.Step] = e.Error
		}
	}
	for i, r := range results {
		if i > 0 {
			b = append(b, ',')
		}
		if r == nil {
			r = []byte("null")
		}
		b = append(b, r...)
	}
	e, _ := json.Marshal(errs)
	b = append(b, `],"step_errors":`...)
	b = append(b, e...)
	return append(b, `,"replication_index":null}}}]}`...)
}

// plainKeys reports whether every object key in body is lower case and
// unique in its object, as encoding/json would read it: the streamed
// decoding matches keys exactly and takes a step's first columns.
func plainKeys(body []byte) bool {
	d := json.NewDecoder(bytes.NewReader(body))
	type level struct {
		obj  bool
		key  bool // the next token is a key
		seen map[string]bool
	}
	var stack []*level
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.key {
			if s, ok := tok.(string); ok {
				if s != strings.ToLower(s) || top.seen[strings.ToLower(s)] {
					return false
				}
				top.seen[s] = true
				top.key = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			if top != nil && top.obj {
				top.key = true
			}
			stack = append(stack, &level{obj: true, key: true, seen: map[string]bool{}})
			continue
		case json.Delim('['):
			if top != nil && top.obj {
				top.key = true
			}
			stack = append(stack, &level{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].key = true
			}
			continue
		}
		if top != nil && top.obj {
			top.key = true
		}
	}
}

// FuzzAnswer decodes arbitrary bodies as streamed answers, a byte at a
// time. Nothing may panic or loop; where encoding/json reads the body,
// the streamed decoding gives the same entries from sqld's form of it,
// and from the body itself when its keys read the same both ways.
func FuzzAnswer(f *testing.F) {
	f.Add([]byte(sqldBatchAnswer))
	f.Add([]byte(`{"baton":"b","base_url":null,"results":[{"type":"error","error":{"message":"Response is too large","code":"RESPONSE_TOO_LARGE"}}]}`))
	f.Add([]byte(`{"baton":"b","results":[{"response":{"result":{"step_results":[{"rows":[[{"type":"text","value":"v"}]],"cols":[]}]},"type":"batch"},"type":"ok"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		head, got, err := streamedEntries(body, 1<<16, true)
		if err != nil && err.Error() == "" {
			t.Fatal("an empty error")
		}
		pr, want, rerr := referenceEntries(body)
		if rerr != nil {
			return
		}
		steps := 0
		for _, e := range want {
			steps = max(steps, e.Step+1)
		}
		canon := canonicalAnswer(pr, want, steps)
		chead, cgot, cerr := streamedEntries(canon, 0, true)
		if cerr != nil {
			t.Fatalf("sqld's form of a good answer fails: %v\n%s", cerr, canon)
		}
		if !sameEntries(cgot, want) || !reflect.DeepEqual(chead.Baton, pr.Baton) {
			t.Fatalf("sqld's form decodes differently\n got %+v\nwant %+v\n%s", cgot, want, canon)
		}
		if !plainKeys(body) || len(body) > 1<<16 {
			return
		}
		if err != nil {
			t.Fatalf("encoding/json reads it, the streamed decoding fails: %v", err)
		}
		if !sameEntries(got, want) || !reflect.DeepEqual(head.Baton, pr.Baton) {
			t.Fatalf("decodes differently\n got %+v\nwant %+v", got, want)
		}
	})
}
