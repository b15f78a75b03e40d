package hrana

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzWSMessage feeds arbitrary server messages to the WebSocket decoding:
// the message itself, then the answer as each request kind reads it.
// Nothing may panic; a decoded answer is a response or an error.
func FuzzWSMessage(f *testing.F) {
	f.Add([]byte(`{"type":"response_ok","request_id":3,"response":{"type":"execute","result":{"cols":[{"name":"a","decltype":"INTEGER"}],"rows":[[{"type":"integer","value":"1"}]],"affected_row_count":0,"last_insert_rowid":null,"replication_index":"7"}}}`))
	f.Add([]byte(`{"type":"response_ok","request_id":4,"response":{"type":"batch","result":{"step_results":[null,{"cols":[],"rows":[],"affected_row_count":1}],"step_errors":[{"message":"x","code":"SQLITE_BUSY"},null]}}}`))
	f.Add([]byte(`{"type":"response_ok","request_id":5,"response":{"type":"fetch_cursor","entries":[{"type":"step_begin","step":0,"cols":[]},{"type":"row","row":[{"type":"blob","base64":"AAE"}]},{"type":"step_end"}],"done":true}}`))
	f.Add([]byte(`{"type":"response_error","request_id":6,"error":{"message":"no such table: t","code":"SQLITE_ERROR"}}`))
	f.Add([]byte(`{"type":"response_ok","request_id":-1,"response":null}`))
	f.Add([]byte(`{"type":"hello_ok"}`))
	f.Add([]byte(`{"type":"hello_error","error":{"message":"Authentication failed"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := decodeHello(data); err != nil && err.Error() == "" {
			t.Fatal("hello: an empty error")
		}
		_, a, err := decodeWSMessage(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		if a == nil {
			return // a message type this client ignores
		}
		if (a.response == nil) == (a.err == nil) {
			t.Fatalf("an answer with neither or both of response and error: %+v", a)
		}
		if a.response == nil {
			return
		}
		for _, kind := range []string{"execute", "batch", "sequence", "close", "get_autocommit", "fetch_cursor"} {
			resp, err := toResponse(a.response, kind, wsKind(kind))
			if err != nil {
				continue
			}
			if kind == "execute" && resp.Result == nil || kind == "batch" && resp.Batch == nil {
				t.Fatalf("%s answer without a result", kind)
			}
		}
		c := &Cursor{c: &Client{}, ws: &wsSocket{}}
		if c.takePage(*a) == nil {
			for len(c.buf) > 0 {
				if _, err := c.wsNext(); err != nil {
					break
				}
			}
		}
	})
}

// FuzzHTTPError maps error answers of any shape: the spec's JSON, sqld's,
// a proxy's HTML, empty, binary, huge. The message must be short valid
// UTF-8 and never empty.
func FuzzHTTPError(f *testing.F) {
	f.Add(502, []byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
	f.Add(400, []byte(`{"error":"Invalid baton"}`))
	f.Add(401, []byte(`{"error":{"message":"Unauthorized","code":"AUTH"}}`))
	f.Add(500, []byte(`{"message":"x","code":"y"}`))
	f.Add(503, []byte{})
	f.Add(404, []byte{0xff, 0xfe, 0})
	f.Add(500, []byte(`{"error":"`+strings.Repeat("é", 5000)+`"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		c, _ := NewClient(Config{URL: "http://x", AuthToken: "secret-token"})
		err := c.sanitize(httpError(status, body))
		e, ok := err.(*HTTPError)
		if !ok {
			t.Fatalf("%T", err)
		}
		if e.Message == "" {
			t.Fatalf("empty message for %q", body)
		}
		if len(e.Message) > 520 || len(e.Code) > 72 || !utf8.ValidString(e.Message) || !utf8.ValidString(e.Code) {
			t.Fatalf("message or code not short valid UTF-8: %q (%q)", e.Message, e.Code)
		}
		if strings.Contains(err.Error(), "secret-token") {
			t.Fatalf("the token shows: %v", err)
		}
	})
}
