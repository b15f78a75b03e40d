package libsql

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The whole path from the server's bytes to driver.Rows, fuzzed: any
// answer, over HTTP (pipelines and cursors) and WebSocket, goes through
// the driver's statements, queries, transactions and rows (Next, Scan,
// Close) as an application uses them. Nothing may panic, every call must
// return (well within fuzzBound), and every error must read as one.

const fuzzBound = 20 * time.Second

// driverWorkload is what an application does; it returns the errors.
func driverWorkload(t *testing.T, db *sql.DB) []error {
	ctx, cancel := context.WithTimeout(context.Background(), fuzzBound/2)
	defer cancel()
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	readAll := func(rows *sql.Rows, err error, limit int) {
		if err != nil {
			add(err)
			return
		}
		cols, _ := rows.Columns()
		dest := make([]any, len(cols))
		for i := range dest {
			dest[i] = new(any)
		}
		for n := 0; rows.Next(); n++ {
			if n > 1<<16 {
				t.Error("more rows than the answer could hold") // off the test's goroutine
				break
			}
			add(rows.Scan(dest...))
			if n == limit {
				break
			}
		}
		add(rows.Err())
		add(rows.Close())
	}
	_, err := db.ExecContext(ctx, "INSERT INTO t VALUES (?, ?)", 1, "x")
	add(err)
	rows, err := db.QueryContext(ctx, "SELECT a, b FROM t")
	readAll(rows, err, -1)
	rows, err = db.QueryContext(ctx, "SELECT a FROM t")
	readAll(rows, err, 2) // closed early
	rows, err = db.QueryContext(ctx, "SELECT a FROM t LIMIT 1")
	readAll(rows, err, -1)
	if tx, err := db.BeginTx(ctx, nil); err == nil {
		rows, err := tx.QueryContext(ctx, "SELECT a FROM t")
		readAll(rows, err, -1)
		_, err = tx.ExecContext(ctx, "INSERT INTO t VALUES (2)")
		add(err)
		add(tx.Commit())
	} else {
		add(err)
	}
	return errs
}

// fuzzToken is the driver's token; "$TOK" in an answer stands for it, so
// the fuzzer can echo it, whole or cut, anywhere.
const fuzzToken = "fuzz-token-0123456789"

// maxErrorText bounds an error's text: the server's part of it is an
// excerpt.
const maxErrorText = 2048

// checkErrors holds the errors to their promises: text that reads as one
// error, short, without 8 bytes in a row of the token.
func checkErrors(t *testing.T, errs []error) {
	for _, err := range errs {
		s := err.Error()
		if s == "" || strings.Contains(s, "hrana:") || strings.Count(s, "libsql: ") > 1 {
			t.Fatalf("a malformed error: %q", s)
		}
		if len(s) > maxErrorText {
			t.Fatalf("an error of %d bytes: %.300q…", len(s), s)
		}
		for i := 0; i+8 <= len(fuzzToken); i++ {
			if strings.Contains(s, fuzzToken[i:i+8]) {
				t.Fatalf("the token shows in an error: %q", s)
			}
		}
	}
}

// fuzzRun runs the workload on a driver for url and bounds it.
func fuzzRun(t *testing.T, url string, opts ...Option) {
	c, err := NewConnector(url, append([]Option{WithRequestTimeout(300 * time.Millisecond), WithMaxResponseSize(1 << 20), WithAuthToken(fuzzToken)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	done := make(chan []error, 1)
	go func() { done <- driverWorkload(t, db) }()
	select {
	case errs := <-done:
		checkErrors(t, errs)
	case <-time.After(fuzzBound):
		t.Fatalf("the workload has not returned after %v", fuzzBound)
	}
	closed := make(chan struct{})
	go func() { db.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(fuzzBound):
		t.Fatalf("Close has not returned after %v", fuzzBound)
	}
}

// replay answers the driver's HTTP requests from the fuzzer's input: parts
// separated by a 0 byte, one per request in turn (then again), each a
// status selector byte and a body.
type replay struct {
	parts [][]byte
	n     atomic.Int64
}

var fuzzStatuses = []int{200, 200, 200, 200, 400, 404, 429, 500, 502, 307}

func (r *replay) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	p := bytes.ReplaceAll(r.parts[int(r.n.Add(1)-1)%len(r.parts)], []byte("$TOK"), []byte(fuzzToken))
	status, body := 200, p
	if len(p) > 0 {
		status, body = fuzzStatuses[int(p[0])%len(fuzzStatuses)], p[1:]
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if status == 307 {
		h.Set("Location", "http://elsewhere.example"+req.URL.Path)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: -1, Request: req}, nil
}

func FuzzDriverHTTP(f *testing.F) {
	ok := func(res string) string {
		return "\x00" + `{"baton":"b","base_url":null,"results":[` + res + `]}`
	}
	exec := `{"type":"ok","response":{"type":"execute","result":{"cols":[{"name":"a","decltype":"INTEGER"}],"rows":[[{"type":"integer","value":"1"}]],"affected_row_count":1,"last_insert_rowid":"1","replication_index":null}}}`
	batch := `{"type":"ok","response":{"type":"batch","result":{"step_results":[{"cols":[],"rows":[],"affected_row_count":0},{"cols":[],"rows":[],"affected_row_count":1}],"step_errors":[null,null]}}}`
	cursor := "\x00" + `{"baton":"b","base_url":null}` + "\n" +
		`{"type":"step_begin","step":0,"cols":[{"name":"a","decltype":"INTEGER"},{"name":"b","decltype":"TEXT"}]}` + "\n" +
		`{"type":"row","row":[{"type":"integer","value":"1"},{"type":"text","value":"x"}]}` + "\n" +
		`{"type":"row","row":[{"type":"float","value":1.5},{"type":"blob","base64":"AAE"}]}` + "\n" +
		`{"type":"step_end","affected_row_count":0,"last_insert_rowid":null}` + "\n" +
		`{"type":"replication_index","replication_index":"3"}` + "\n"
	f.Add([]byte(ok(exec) + "\x00" + cursor + "\x00" + cursor + "\x00" + ok(exec) + "\x00" + cursor + "\x00" + ok(batch) + "\x00" + ok(batch)))
	f.Add([]byte(cursor + "\x00" + `{"baton":"b"}` + "\n" + `{"type":"step_error","step":0}` + "\n"))
	f.Add([]byte(cursor + "\x00" + `{"baton":"b"}` + "\n" + `{"type":"error","error":{"message":"x","code":"SQLITE_ERROR"}}` + "\n"))
	f.Add([]byte("\x07" + `{"error":"Internal Error: ` + "`SQL string could not be parsed: x`" + `"}`))
	f.Add([]byte("\x04Received an invalid baton\x00" + ok(exec)))
	f.Add([]byte("\x06" + `{"error":"Timed out while opening database connection"}`))
	f.Add([]byte(ok(`{"type":"ok","response":{"type":"batch","result":{"step_results":[],"step_errors":[]}}}`)))
	f.Add([]byte("\x09"))
	f.Add([]byte("\x04" + `{"error":"bad token $TOK","code":"$TOK"}`))
	f.Add([]byte(cursor + "\x00" + `{"baton":"b"}` + "\n" + `{"type":"step_begin","step":0,"cols":[]}` + "\n" + `{"type":"step_error","step":0,"error":{"message":"near $TOK: syntax error","code":"$TOK"}}` + "\n"))
	f.Add([]byte(ok(`{"type":"error","error":{"message":"` + strings.Repeat("x", 600) + `$TOK","code":"SQLITE_ERROR"}}`)))
	f.Add([]byte(ok(`{"type":"ok","response":{"type":"execute","result":{"cols":[{"name":"a"}],"rows":[[{"type":"integer","value":"$TOK"}]],"affected_row_count":0}}}`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		rt := &replay{parts: bytes.Split(data, []byte{0})}
		fuzzRun(t, "http://fuzz.example", WithHTTPClient(&http.Client{Transport: rt}))
	})
}

// wsScripts holds the input of each WebSocket fuzz run, by path.
var (
	wsScripts   sync.Map
	wsScriptSeq atomic.Int64
	wsFuzzOnce  sync.Once
	wsFuzzURL   string
)

// wsFuzzServer answers a socket from the script of its path: the messages
// of the input, one per line, in turn, the first for the hello; "$ID" in
// a message stands for the request_id of the request it answers.
func wsFuzzServer() string {
	wsFuzzOnce.Do(func() {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v, ok := wsScripts.Load(r.URL.Path)
			if !ok {
				http.NotFound(w, r)
				return
			}
			msgs := v.([][]byte)
			conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"hrana3"}})
			if err != nil {
				return
			}
			defer conn.CloseNow()
			conn.SetReadLimit(-1)
			ctx := r.Context()
			for i := 0; ; i++ {
				_, req, err := conn.Read(ctx)
				if err != nil {
					return
				}
				id := "0"
				if k := bytes.Index(req, []byte(`"request_id":`)); k >= 0 {
					rest := req[k+len(`"request_id":`):]
					end := bytes.IndexByte(rest, ',')
					if end > 0 {
						id = string(rest[:end])
					}
				}
				if len(msgs) == 0 {
					continue
				}
				msg := bytes.ReplaceAll(msgs[i%len(msgs)], []byte("$ID"), []byte(id))
				msg = bytes.ReplaceAll(msg, []byte("$TOK"), []byte(fuzzToken))
				if conn.Write(ctx, websocket.MessageText, msg) != nil {
					return
				}
			}
		}))
		wsFuzzURL = "ws" + strings.TrimPrefix(srv.URL, "http")
	})
	return wsFuzzURL
}

func FuzzDriverWS(f *testing.F) {
	ok := func(resp string) string {
		return `{"type":"response_ok","request_id":$ID,"response":` + resp + `}`
	}
	open := ok(`{"type":"open_stream"}`)
	exec := ok(`{"type":"execute","result":{"cols":[{"name":"a","decltype":null}],"rows":[[{"type":"integer","value":"1"}]],"affected_row_count":1,"last_insert_rowid":null,"replication_index":"2"}}`)
	page := ok(`{"type":"fetch_cursor","entries":[{"type":"step_begin","step":0,"cols":[{"name":"a"},{"name":"b"}]},{"type":"row","row":[{"type":"integer","value":"1"},{"type":"null"}]},{"type":"step_end","affected_row_count":0}],"done":true}`)
	f.Add([]byte(strings.Join([]string{`{"type":"hello_ok"}`, open, exec, open, ok(`{"type":"open_cursor"}`), page, ok(`{"type":"close_cursor"}`)}, "\n")))
	f.Add([]byte(strings.Join([]string{`{"type":"hello_ok"}`, open, ok(`{"type":"open_cursor"}`), ok(`{"type":"fetch_cursor","entries":[{"type":"step_error","step":0}],"done":false}`)}, "\n")))
	f.Add([]byte(strings.Join([]string{`{"type":"hello_ok"}`, `{"type":"response_error","request_id":$ID,"error":{"message":"no","code":"SQLITE_ERROR"}}`}, "\n")))
	f.Add([]byte(`{"type":"hello_error","error":{"message":"bad token"}}`))
	f.Add([]byte(`{"type":"hello_error","error":{"message":"bad token $TOK","code":"$TOK"}}`))
	f.Add([]byte(`{"type":"$TOK"}`))
	f.Add([]byte(strings.Join([]string{`{"type":"hello_ok"}`, `{"type":"response_error","request_id":$ID,"error":{"message":"$TOK","code":"$TOK"}}`}, "\n")))
	f.Add([]byte(strings.Join([]string{`{"type":"hello_ok"}`, open, ok(`{"type":"open_cursor"}`), ok(`{"type":"fetch_cursor","entries":[{"type":"row","row":[{"type":"$TOK"}]}],"done":false}`)}, "\n")))
	f.Add([]byte(strings.Join([]string{`{"type":"hello_ok"}`, open, `{"type":"response_ok","request_id":`}, "\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := "/" + strconv.FormatInt(wsScriptSeq.Add(1), 10)
		var msgs [][]byte
		if len(data) > 0 {
			msgs = bytes.Split(data, []byte("\n"))
		}
		wsScripts.Store(path, msgs)
		defer wsScripts.Delete(path)
		fuzzRun(t, wsFuzzServer()+path)
	})
}
