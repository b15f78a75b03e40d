package hrana

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestAppendPipeline(t *testing.T) {
	reqs := []Request{
		ExecuteBatch(Batch{Steps: []BatchStep{
			{Stmt: Stmt{SQL: "BEGIN", SkipRows: true}},
			{Condition: OK(0), Stmt: Stmt{SQL: "INSERT INTO t VALUES (?, :n)", Args: []any{int64(1)}, NamedArgs: []NamedArg{{Name: ":n", Value: "x"}}}},
			{Condition: And(Failed(1), Not(IsAutocommit())), Stmt: Stmt{SQL: "ROLLBACK"}},
			{Condition: Or(OK(0), OK(1)), Stmt: Stmt{SQL: "SELECT 1"}},
		}}),
		Sequence("CREATE TABLE a(x); CREATE TABLE b(y)"),
		GetAutocommit(),
		Close(),
	}
	b, err := appendPipeline(nil, "bat\"on", reqs)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"baton":"bat\"on","requests":[` +
		`{"type":"batch","batch":{"steps":[` +
		`{"stmt":{"sql":"BEGIN","want_rows":false}},` +
		`{"condition":{"type":"ok","step":0},"stmt":{"sql":"INSERT INTO t VALUES (?, :n)","args":[{"type":"integer","value":"1"}],"named_args":[{"name":":n","value":{"type":"text","value":"x"}}]}},` +
		`{"condition":{"type":"and","conds":[{"type":"error","step":1},{"type":"not","cond":{"type":"is_autocommit"}}]},"stmt":{"sql":"ROLLBACK"}},` +
		`{"condition":{"type":"or","conds":[{"type":"ok","step":0},{"type":"ok","step":1}]},"stmt":{"sql":"SELECT 1"}}]}},` +
		`{"type":"sequence","sql":"CREATE TABLE a(x); CREATE TABLE b(y)"},` +
		`{"type":"get_autocommit"},{"type":"close"}]}`
	if string(b) != want {
		t.Fatalf("got\n%s\nwant\n%s", b, want)
	}
	if !json.Valid(b) {
		t.Fatal("not valid JSON")
	}
	if b, _ := appendPipeline(nil, "", []Request{Close()}); string(b) != `{"baton":null,"requests":[{"type":"close"}]}` {
		t.Fatalf("new stream: %s", b)
	}
}

func TestAppendPipelineRefuses(t *testing.T) {
	for name, r := range map[string]Request{
		"bad sql":  Execute(Stmt{SQL: "SELECT '\xff'"}),
		"bad arg":  Execute(Stmt{SQL: "SELECT ?", Args: []any{"\xfe"}}),
		"bad name": Execute(Stmt{SQL: "SELECT ?", NamedArgs: []NamedArg{{Name: "\xfe", Value: nil}}}),
		"bad type": Execute(Stmt{SQL: "SELECT ?", Args: []any{uint8(1)}}),
		"bad step": ExecuteBatch(Batch{Steps: []BatchStep{{Stmt: Stmt{SQL: "\xff"}}}}),
	} {
		if _, err := appendPipeline(nil, "", []Request{r}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// A response as sqld 0.24.32 sends it (captured), with every shape.
const sampleResponse = `{"baton":"b1","base_url":null,"results":[` +
	`{"type":"ok","response":{"type":"execute","result":{"cols":[{"name":"id","decltype":"INTEGER"},{"name":"x","decltype":null}],"rows":[[{"type":"integer","value":"1"},{"type":"null"}]],"affected_row_count":0,"last_insert_rowid":null,"replication_index":"6","rows_read":1,"rows_written":0,"query_duration_ms":0.047}}},` +
	`{"type":"error","error":{"message":"SQLite error: UNIQUE constraint failed: t.name","code":"SQLITE_CONSTRAINT"}},` +
	`{"type":"ok","response":{"type":"batch","result":{"step_results":[{"cols":[],"rows":[],"affected_row_count":1,"last_insert_rowid":"7"},null],"step_errors":[null,{"message":"boom"}]}}},` +
	`{"type":"ok","response":{"type":"get_autocommit","is_autocommit":true}},` +
	`{"type":"ok","response":{"type":"close"}}]}`

func sampleRequests() []Request {
	return []Request{Execute(Stmt{}), Execute(Stmt{}), ExecuteBatch(Batch{}), GetAutocommit(), Close()}
}

func TestDecodePipeline(t *testing.T) {
	pr, res, err := decodePipeline([]byte(sampleResponse), sampleRequests())
	if err != nil {
		t.Fatal(err)
	}
	if *pr.Baton != "b1" || pr.BaseURL != nil {
		t.Fatalf("baton/base_url: %+v", pr)
	}
	r0 := res[0].Response.Result
	if len(r0.Cols) != 2 || r0.Cols[0].Decltype != "INTEGER" || r0.Cols[1].Decltype != "" || r0.Rows[0][0].V != int64(1) || r0.Rows[0][1].V != nil {
		t.Fatalf("execute result: %+v", r0)
	}
	if r0.LastInsertRowID.Valid || !r0.ReplicationIndex.Valid || r0.ReplicationIndex.Value != 6 {
		t.Fatalf("optional ints: %+v", r0)
	}
	if e, ok := res[1].Err.(*Error); !ok || e.Code != "SQLITE_CONSTRAINT" {
		t.Fatalf("error result: %#v", res[1].Err)
	}
	b := res[2].Response.Batch
	if b.StepResults[0].LastInsertRowID.Value != 7 || b.StepResults[1] != nil || b.StepErrors[0] != nil || b.StepErrors[1].Message != "boom" {
		t.Fatalf("batch result: %+v", b)
	}
	if !res[3].Response.IsAutocommit || res[4].Response.Type != "close" {
		t.Fatalf("tail: %+v %+v", res[3].Response, res[4].Response)
	}
}

func TestDecodePipelineRejects(t *testing.T) {
	for name, body := range map[string]string{
		"not json":        `<html>bad gateway</html>`,
		"too few":         `{"baton":null,"results":[]}`,
		"wrong kind":      strings.Replace(sampleResponse, `"type":"get_autocommit","is`, `"type":"close","is`, 1),
		"unknown result":  strings.Replace(sampleResponse, `"type":"error","error"`, `"type":"weird","error"`, 1),
		"error w/o body":  strings.Replace(sampleResponse, `"type":"error","error":{"message":"SQLite error: UNIQUE constraint failed: t.name","code":"SQLITE_CONSTRAINT"}`, `"type":"error"`, 1),
		"exec w/o result": strings.Replace(sampleResponse, `"type":"execute","result":{"cols"`, `"type":"execute","x":{"cols"`, 1),
		"bad value":       strings.Replace(sampleResponse, `"value":"1"`, `"value":"x"`, 1),
	} {
		if _, _, err := decodePipeline([]byte(body), sampleRequests()); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// sampleExecuteAnswer is sqld's answer to one execute request, as sent.
const sampleExecuteAnswer = `{"baton":"b1","base_url":null,"results":[{"type":"ok","response":{"type":"execute","result":{` +
	`"cols":[{"name":"id","decltype":"INTEGER"},{"name":"name","decltype":"TEXT"},{"name":"1.5","decltype":null}],` +
	`"rows":[[{"type":"integer","value":"1"},{"type":"text","value":"a\"b"},{"type":"float","value":1.5}],[{"type":"null"},{"type":"blob","base64":"AP8"},{"type":"float","value":-0}]],` +
	`"affected_row_count":0,"last_insert_rowid":"42","replication_index":null,"rows_read":2,"rows_written":0,"query_duration_ms":0.088}}}]}`

// checkExecuteFastPath checks that where the fast path decodes an answer,
// encoding/json decodes it to the same.
func checkExecuteFastPath(t *testing.T, body []byte) {
	t.Helper()
	pr, r, ok := parseExecuteAnswer(body)
	if !ok {
		return
	}
	reqs := []Request{Execute(Stmt{SQL: "x"})}
	slowPR, slow, err := decodePipelineJSON(body, reqs)
	if err != nil {
		t.Fatalf("fast path decoded %s; encoding/json says %v", body, err)
	}
	if !reflect.DeepEqual(pr.Baton, slowPR.Baton) || !reflect.DeepEqual(pr.BaseURL, slowPR.BaseURL) {
		t.Fatalf("baton or base_url differ for %s", body)
	}
	fast := &Response{Type: "execute", Result: r}
	if !reflect.DeepEqual(fast, slow[0].Response) || !sameRows(r.Rows, slow[0].Response.Result.Rows) {
		t.Fatalf("fast path decoded %s as\n%#v\nencoding/json as\n%#v", body, fast.Result, slow[0].Response.Result)
	}
}

func sameRows(a, b [][]Value) bool {
	for i := range a {
		for j := range a[i] {
			if !sameValue(a[i][j].V, b[i][j].V) {
				return false
			}
		}
	}
	return true
}

func TestParseExecuteAnswer(t *testing.T) {
	_, r, ok := parseExecuteAnswer([]byte(sampleExecuteAnswer))
	if !ok || len(r.Cols) != 3 || len(r.Rows) != 2 || r.LastInsertRowID != (OptInt{42, true}) || r.Rows[0][1].V != `a"b` {
		t.Fatalf("sample: %+v, %v", r, ok)
	}
	checkExecuteFastPath(t, []byte(sampleExecuteAnswer))
	for name, body := range map[string]string{
		"no stats":   strings.Replace(sampleExecuteAnswer, `,"rows_read":2,"rows_written":0,"query_duration_ms":0.088`, ``, 1),
		"empty":      `{"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"execute","result":{"cols":[],"rows":[],"affected_row_count":1,"last_insert_rowid":null,"replication_index":"3"}}}]}`,
		"empty row":  strings.Replace(sampleExecuteAnswer, `"rows":[[`, `"rows":[[],[`, 1),
		"null names": strings.Replace(sampleExecuteAnswer, `{"name":"id"`, `{"name":null`, 1),
	} {
		if _, _, ok := parseExecuteAnswer([]byte(body)); !ok {
			t.Errorf("%s: not decoded", name)
		}
		checkExecuteFastPath(t, []byte(body))
	}
	for name, body := range map[string]string{
		"leading comma":  strings.Replace(sampleExecuteAnswer, `"cols":[`, `"cols":[,`, 1),
		"missing comma":  strings.Replace(sampleExecuteAnswer, `"INTEGER"},`, `"INTEGER"}`, 1),
		"trailing comma": strings.Replace(sampleExecuteAnswer, `"AP8"},`, `"AP8"},,`, 1),
		"unknown field":  strings.Replace(sampleExecuteAnswer, `"rows_read"`, `"cols"`, 1),
		"float count":    strings.Replace(sampleExecuteAnswer, `"affected_row_count":0`, `"affected_row_count":0.5`, 1),
		"bare rowid":     strings.Replace(sampleExecuteAnswer, `"42"`, `42`, 1),
		"error":          `{"baton":null,"base_url":null,"results":[{"type":"error","error":{"message":"x"}}]}`,
		"trailing":       sampleExecuteAnswer + " ",
	} {
		if _, _, ok := parseExecuteAnswer([]byte(body)); ok {
			t.Errorf("%s: decoded by the fast path", name)
		}
	}
}

// FuzzDecodePipeline feeds arbitrary bodies to the response decoder: it
// must return results or an error, never panic, and every result it
// returns must be usable without nil checks beyond the documented ones.
func FuzzDecodePipeline(f *testing.F) {
	f.Add([]byte(sampleResponse))
	f.Add([]byte(`{"baton":null,"base_url":"http://x","results":[{"type":"ok","response":{"type":"close"}}]}`))
	f.Add([]byte(sampleExecuteAnswer))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkExecuteFastPath(t, body)
		reqs := sampleRequests()
		for n := 0; n <= len(reqs); n++ {
			_, res, err := decodePipeline(body, reqs[:n])
			if err != nil {
				continue
			}
			for i, r := range res {
				if (r.Response == nil) == (r.Err == nil) {
					t.Fatalf("result %d has neither or both of response and error", i)
				}
				if r.Response != nil && reqs[i].kind == "execute" && r.Response.Result == nil {
					t.Fatalf("execute result %d without a result", i)
				}
				if r.Response != nil && reqs[i].kind == "batch" && r.Response.Batch == nil {
					t.Fatalf("batch result %d without a result", i)
				}
			}
		}
	})
}

func TestAppendReplicationIndex(t *testing.T) {
	b, err := appendPipeline(nil, "", []Request{
		Execute(Stmt{SQL: "SELECT 1", ReplicationIndex: 42}),
		ExecuteBatch(Batch{Steps: []BatchStep{{Stmt: Stmt{SQL: "SELECT 2"}}}, ReplicationIndex: 7}),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"baton":null,"requests":[{"type":"execute","stmt":{"sql":"SELECT 1","replication_index":42}},` +
		`{"type":"batch","batch":{"steps":[{"stmt":{"sql":"SELECT 2"}}],"replication_index":7}}]}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	_, res, err := decodePipeline([]byte(`{"baton":null,"base_url":null,"results":[`+
		`{"type":"ok","response":{"type":"execute","result":{"cols":[],"rows":[],"affected_row_count":0,"last_insert_rowid":null,"replication_index":"9"}}},`+
		`{"type":"ok","response":{"type":"batch","result":{"step_results":[],"step_errors":[],"replication_index":"11"}}}]}`),
		[]Request{Execute(Stmt{SQL: "x"}), ExecuteBatch(Batch{})})
	if err != nil {
		t.Fatal(err)
	}
	if got := res[0].Response.Result.ReplicationIndex; got != (OptInt{9, true}) {
		t.Fatalf("execute replication index %v", got)
	}
	if got := res[1].Response.Batch.ReplicationIndex; got != (OptInt{11, true}) {
		t.Fatalf("batch replication index %v", got)
	}
}

// TestFollowBaseURL: a base_url is followed over the same scheme and port
// to the client's own host, a host under its registrable domain, or an
// allowed host; anything else keeps the client's URL.
func TestFollowBaseURL(t *testing.T) {
	for _, tt := range []struct {
		client, baseURL string
		allow           []string
		want            string
	}{
		{"https://db.example.com", "https://db.example.com/", nil, "https://db.example.com"},
		{"https://db.example.com", "https://node2.example.com/p/", nil, "https://node2.example.com/p"},
		{"https://db.example.com", "https://a.b.example.com", nil, "https://a.b.example.com"},
		{"https://db.example.com", "https://DB.EXAMPLE.COM:443", nil, "https://DB.EXAMPLE.COM:443"},
		{"https://my-db-org.turso.io", "https://x.turso.io", nil, "https://x.turso.io"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/", nil, "http://127.0.0.1:8080"},
		{"ws://127.0.0.1:8080", "http://127.0.0.1:8080", nil, "http://127.0.0.1:8080"},
		// Refused: a downgrade, another port, another site, an IP.
		{"https://db.example.com", "http://db.example.com", nil, ""},
		{"https://db.example.com", "https://db.example.com:8443", nil, ""},
		{"https://db.example.com", "https://evil.com", nil, ""},
		{"https://db.example.com", "https://example.com.evil.com", nil, ""},
		{"https://app1.fly.dev", "https://app2.fly.dev", nil, ""}, // a public suffix of its own
		{"http://127.0.0.1:8080", "http://127.0.0.1:8999", nil, ""},
		{"http://127.0.0.1:8080", "http://127.0.0.2:8080", nil, ""},
		{"http://localhost:8080", "http://other.localhost:8080", nil, ""},
		{"https://db.example.com", "https://user:pw@node2.example.com", nil, ""},
		{"https://db.example.com", "ftp://node2.example.com", nil, ""},
		{"https://db.example.com", "/relative", nil, ""},
		{"https://db.example.com", "::", nil, ""},
		// Allowed explicitly.
		{"https://db.example.com", "https://edge.other.net", []string{"EDGE.other.net"}, "https://edge.other.net"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8999", []string{"127.0.0.1:8999"}, "http://127.0.0.1:8999"},
		{"https://db.example.com", "https://edge.other.net", []string{"edge.other.net:443"}, "https://edge.other.net"},
		{"https://db.example.com", "https://edge.other.net:8443", []string{"edge.other.net:443"}, ""},
		{"https://db.example.com", "http://edge.other.net", []string{"edge.other.net"}, ""},
	} {
		c, err := NewClient(Config{URL: tt.client, BaseURLHosts: tt.allow})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.followBaseURL(context.Background(), tt.baseURL); got != tt.want {
			t.Errorf("%s given %s (allow %v): %q, want %q", tt.client, tt.baseURL, tt.allow, got, tt.want)
		}
	}
}

func TestAppendWSRequest(t *testing.T) {
	r := Execute(Stmt{SQL: "SELECT ?", Args: []any{int64(1)}, ReplicationIndex: 5})
	b, err := appendWSRequest(nil, 3, 2, wsKind(r.kind), &r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"request","request_id":3,"request":{"type":"execute","stream_id":2,"stmt":{"sql":"SELECT ?","args":[{"type":"integer","value":"1"}],"replication_index":5},"replication_index":5}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	c := Close()
	if b, _ := appendWSRequest(nil, 4, 2, wsKind(c.kind), &c); string(b) != `{"type":"request","request_id":4,"request":{"type":"close_stream","stream_id":2}}` {
		t.Fatalf("close: %s", b)
	}
}

const sampleCursor = `{"baton":"b","base_url":null}
{"type":"step_begin","step":0,"cols":[{"name":"x","decltype":"INTEGER"}]}
{"type":"row","row":[{"type":"integer","value":"1"}]}
{"type":"row","row":[{"type":"blob","base64":"AAE"}]}
{"type":"step_end","affected_row_count":0,"last_insert_rowid":null}
{"type":"replication_index","replication_index":"7"}
{"type":"step_error","step":1,"error":{"message":"no such table","code":"SQLITE_ERROR"}}
`

func TestCursorEntries(t *testing.T) {
	c, _ := NewClient(Config{URL: "http://x"})
	cur := newCursor(c, io.NopCloser(strings.NewReader(sampleCursor)), 2)
	h, err := cur.readHead()
	if err != nil || h.Baton == nil || *h.Baton != "b" {
		t.Fatalf("head: %+v, %v", h, err)
	}
	var types []string
	for {
		e, err := cur.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, e.Type)
	}
	if got := strings.Join(types, " "); got != "step_begin row row step_end step_error" {
		t.Fatalf("entries: %s", got)
	}
	if c.ReplicationIndex() != 7 {
		t.Fatalf("replication index %d", c.ReplicationIndex())
	}
	if err := cur.Close(); err != nil {
		t.Fatal(err)
	}
}

// FuzzCursor reads arbitrary cursor bodies: errors, never a panic or a
// hang.
func FuzzCursor(f *testing.F) {
	f.Add([]byte(sampleCursor))
	f.Add([]byte("{\"baton\":null}\n{\"type\":\"row\",\"row\":[{\"type\":\"float\",\"value\":1e400}]}\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, _ := NewClient(Config{URL: "http://x"})
		cur := newCursor(c, io.NopCloser(bytes.NewReader(body)), 2)
		if _, err := cur.readHead(); err != nil {
			return
		}
		for i := 0; i <= len(body); i++ {
			if _, err := cur.Next(); err != nil {
				break
			}
		}
		cur.Close()
	})
}
