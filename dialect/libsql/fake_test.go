package libsql_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// Helpers for the tests against fake servers (sqldtest.Fake): servers,
// proxies and fronts that answer as the hostile ones in issue 14 did.

// fakeToken is the token the fakes' clients send; no error, log line or
// other server's log may show it.
const fakeToken = "tok-fake-0123456789abcdefghijklmnopqrstuvwxyz"

// fake starts a fake server for the test.
func fake(t testing.TB, h http.Handler) *sqldtest.Fake {
	t.Helper()
	f := sqldtest.NewFake(h)
	t.Cleanup(f.Close)
	return f
}

// tlsFake starts a TLS fake server for the test.
func tlsFake(t testing.TB, h http.Handler) *sqldtest.Fake {
	t.Helper()
	f := sqldtest.NewTLSFake(h)
	t.Cleanup(f.Close)
	return f
}

// trusting trusts the certificates of TLS fakes.
func trusting(fakes ...*sqldtest.Fake) libsql.Option {
	roots := x509.NewCertPool()
	for _, f := range fakes {
		roots.AppendCertsFromPEM(f.CertPEM())
	}
	return libsql.WithTLSConfig(&tls.Config{RootCAs: roots})
}

// fakeDriver opens a driver on url with the fake token, closed with the
// test.
func fakeDriver(t testing.TB, url string, opts ...libsql.Option) *libsql.Driver {
	t.Helper()
	drv, err := libsql.Open(url, append([]libsql.Option{libsql.WithAuthToken(fakeToken)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	return drv
}

// answer writes a JSON answer.
func answer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

// executeOK is a pipeline answer of one execute, leaving the stream open
// under baton (closed when baton is "").
func executeOK(baton string) string {
	b := "null"
	if baton != "" {
		b = `"` + baton + `"`
	}
	return `{"baton":` + b + `,"base_url":null,"results":[{"type":"ok","response":{"type":"execute","result":{"cols":[],"rows":[],"affected_row_count":1,"last_insert_rowid":null,"replication_index":null}}}]}`
}

// within runs f and fails the test if it has not returned after limit: a
// generous bound that tells a bounded call from one that hangs, never a
// measure of speed. f runs on a goroutine of its own, so it reports with
// t.Error, never t.Fatal.
func within(t testing.TB, limit time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("%s has not returned after %v", what, limit)
	}
}

// noSecret fails the test if s shows the fake token, or any 12 bytes of
// it in a row (a clipped token is still a leak).
func noSecret(t testing.TB, what, s string) {
	t.Helper()
	for i := 0; i+12 <= len(fakeToken); i++ {
		if strings.Contains(s, fakeToken[i:i+12]) {
			t.Fatalf("%s shows (part of) the token: %s", what, s)
		}
	}
}

// oneErrorPrefix fails the test if err's text has more than one prefix or
// any left by the layer below.
func oneErrorPrefix(t testing.TB, err error) {
	t.Helper()
	s := err.Error()
	if strings.Contains(s, "hrana:") || strings.Count(s, "libsql: ") > 1 {
		t.Fatalf("an error with more than one prefix: %s", s)
	}
}

// isDeadline reports whether err is a timeout and nothing that
// database/sql would resend.
func isDeadline(err error) bool {
	return errors.Is(err, context.DeadlineExceeded)
}

// hranaHTTP is a scripted Hrana-over-HTTP server: every pipeline request
// gets an ordinary answer (an empty result, every batch step run, the
// stream kept open as baton "b" unless closed) unless result says
// otherwise; a cursor request gets its first line and then what cursor
// writes.
type hranaHTTP struct {
	// result answers one request of a pipeline; "" for the default.
	result func(r wireRequest) string
	// cursor writes the lines of a cursor's body after the first.
	cursor func(w http.ResponseWriter, flush func(), steps []string)
	// rows, when set, answers a read's pipeline (a batch ending in a
	// SELECT) as a stream: the answer up to the last step's rows, then
	// what rows writes, then the rest.
	rows func(w http.ResponseWriter, flush func())
}

// wireRequest is one request of a pipeline, as far as the fakes read it.
type wireRequest struct {
	Type string `json:"type"`
	Stmt *struct {
		SQL string `json:"sql"`
	} `json:"stmt"`
	Batch *wireBatch `json:"batch"`
}

type wireBatch struct {
	Steps []struct {
		Stmt struct {
			SQL string `json:"sql"`
		} `json:"stmt"`
	} `json:"steps"`
}

// sqls lists the statements of a batch.
func (b *wireBatch) sqls() []string {
	var out []string
	for _, s := range b.Steps {
		out = append(out, s.Stmt.SQL)
	}
	return out
}

const emptyResult = `{"cols":[],"rows":[],"affected_row_count":0,"last_insert_rowid":null,"replication_index":null}`

func (h *hranaHTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Requests []wireRequest `json:"requests"`
		Batch    *wireBatch    `json:"batch"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		answer(w, 400, `{"error":"bad request"}`)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/cursor") {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, `{"baton":"b","base_url":null}`)
		flush := func() { http.NewResponseController(w).Flush() }
		flush()
		if h.cursor != nil && body.Batch != nil {
			h.cursor(w, flush, body.Batch.sqls())
		}
		return
	}
	if h.rows != nil && len(body.Requests) == 1 && body.Requests[0].Type == "batch" {
		if sqls := body.Requests[0].Batch.sqls(); strings.HasPrefix(sqls[len(sqls)-1], "SELECT") {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"baton":"b","base_url":null,"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[`)
			fmt.Fprint(w, strings.Repeat(emptyResult+",", len(sqls)-1)+`{"cols":[{"name":"x","decltype":null}],"rows":[`)
			flush := func() { http.NewResponseController(w).Flush() }
			flush()
			h.rows(w, flush)
			fmt.Fprint(w, `],"affected_row_count":0,"last_insert_rowid":null}],"step_errors":[`+strings.TrimSuffix(strings.Repeat("null,", len(sqls)), ",")+`]}}}]}`)
			return
		}
	}
	baton := `"b"`
	var results []string
	for _, req := range body.Requests {
		res := ""
		if h.result != nil {
			res = h.result(req)
		}
		if res == "" {
			res = defaultResult(req)
		}
		if req.Type == "close" {
			baton = "null"
		}
		results = append(results, res)
	}
	answer(w, 200, `{"baton":`+baton+`,"base_url":null,"results":[`+strings.Join(results, ",")+`]}`)
}

// defaultResult answers a request as a server that runs it without rows.
func defaultResult(req wireRequest) string {
	switch req.Type {
	case "execute":
		return `{"type":"ok","response":{"type":"execute","result":` + emptyResult + `}}`
	case "batch":
		n := len(req.Batch.Steps)
		res := strings.TrimSuffix(strings.Repeat(emptyResult+",", n), ",")
		errs := strings.TrimSuffix(strings.Repeat("null,", n), ",")
		return batchAnswer("["+res+"]", "["+errs+"]")
	}
	return `{"type":"ok","response":{"type":"` + req.Type + `"}}`
}

// batchAnswer is the result of a batch request.
func batchAnswer(stepResults, stepErrors string) string {
	return `{"type":"ok","response":{"type":"batch","result":{"step_results":` + stepResults + `,"step_errors":` + stepErrors + `}}}`
}

// hranaWS answers Hrana 3 requests over a fake WebSocket as a server that
// runs everything without rows (a fetch_cursor: no entries, done), unless
// override answers (ok).
func hranaWS(override func(r sqldtest.WSRequest) (msgs [][]byte, ok bool)) sqldtest.WSAnswer {
	return func(_ context.Context, r sqldtest.WSRequest) [][]byte {
		if override != nil {
			if msgs, ok := override(r); ok {
				return msgs
			}
		}
		switch r.Type {
		case "execute":
			return [][]byte{wsOK(r.ID, `{"type":"execute","result":`+emptyResult+`}`)}
		case "batch":
			var req struct {
				Batch wireBatch `json:"batch"`
			}
			json.Unmarshal(r.Request, &req)
			n := len(req.Batch.Steps)
			res := strings.TrimSuffix(strings.Repeat(emptyResult+",", n), ",")
			errs := strings.TrimSuffix(strings.Repeat("null,", n), ",")
			return [][]byte{wsOK(r.ID, `{"type":"batch","result":{"step_results":[`+res+`],"step_errors":[`+errs+`]}}`)}
		case "fetch_cursor":
			return [][]byte{wsOK(r.ID, `{"type":"fetch_cursor","entries":[],"done":true}`)}
		}
		return [][]byte{wsOK(r.ID, `{"type":"`+r.Type+`"}`)}
	}
}

// wsOK is a response_ok message.
func wsOK(id int64, response string) []byte {
	return []byte(fmt.Sprintf(`{"type":"response_ok","request_id":%d,"response":%s}`, id, response))
}

// wsFake starts a fake Hrana WebSocket server answering with answer.
func wsFake(t testing.TB, answer sqldtest.WSAnswer) *sqldtest.Fake {
	t.Helper()
	f := sqldtest.NewWebSocketFake(answer)
	t.Cleanup(f.Close)
	return f
}

// wsOf is the ws:// URL of a fake.
func wsOf(f *sqldtest.Fake) string { return "ws://" + f.Addr() }

// acceptHrana accepts a Hrana 3 WebSocket upgrade, for fakes that speak
// the protocol themselves.
func acceptHrana(w http.ResponseWriter, r *http.Request) (*websocket.Conn, error) {
	return websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"hrana3"}})
}

// cursorEntries is a cursor body that answers the last step of a batch
// with entries (the steps before it succeed).
func cursorEntries(entries ...string) func(w http.ResponseWriter, flush func(), steps []string) {
	return func(w http.ResponseWriter, flush func(), steps []string) {
		for i := 0; i < len(steps)-1; i++ {
			fmt.Fprintf(w, "{\"type\":\"step_begin\",\"step\":%d,\"cols\":[]}\n{\"type\":\"step_end\",\"affected_row_count\":0}\n", i)
		}
		for _, e := range entries {
			fmt.Fprintln(w, strings.ReplaceAll(e, "$STEP", fmt.Sprint(len(steps)-1)))
		}
	}
}

// cursorFakeURL is the URL of a fake server, over transport ("http" or
// "ws"), that answers a query's cursor with entries.
func cursorFakeURL(t testing.TB, transport string, entries []string) string {
	t.Helper()
	if transport == "http" {
		return fake(t, &hranaHTTP{cursor: cursorEntries(entries...)}).URL()
	}
	return wsOf(wsFake(t, hranaWS(wsCursorEntriesFor(entries))))
}
