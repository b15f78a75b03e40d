package hrana_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/entlibsql/entlibsql/internal/hrana"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// These tests speak Hrana to the real sqld the harness started.
func TestMain(m *testing.M) { sqldtest.Main(m) }

func newStream(t *testing.T) *hrana.Stream {
	t.Helper()
	c, err := hrana.NewClient(hrana.Config{URL: sqldtest.URL(), AuthToken: sqldtest.AuthToken()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.Stream()
}

// pipeline runs reqs and fails the test on an exchange error.
func pipeline(t *testing.T, s *hrana.Stream, reqs ...hrana.Request) []hrana.Result {
	t.Helper()
	res, err := s.Pipeline(context.Background(), reqs...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestServerValuesRoundTrip(t *testing.T) {
	s := newStream(t)
	args := []any{
		int64(math.MaxInt64), int64(math.MinInt64), 0.1, -2.5e-300,
		"NUL\x00 and emoji 🙂", "", []byte{0, 1, 255}, []byte{}, nil,
	}
	res := pipeline(t, s, hrana.Execute(hrana.Stmt{SQL: "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?", Args: args}), hrana.Close())
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	row := res[0].Response.Result.Rows[0]
	for i, want := range args {
		got := row[i].V
		if wb, ok := want.([]byte); ok {
			if gb, ok := got.([]byte); !ok || !bytes.Equal(gb, wb) {
				t.Errorf("arg %d: got %#v, want %#v", i, got, want)
			}
			continue
		}
		if got != want {
			t.Errorf("arg %d: got %#v (%T), want %#v (%T)", i, got, got, want, want)
		}
	}
	if s.Open() {
		t.Error("the stream is still open after close")
	}
}

func TestServerNamedArgs(t *testing.T) {
	s := newStream(t)
	res := pipeline(t, s, hrana.Execute(hrana.Stmt{
		SQL:       "SELECT :a, @b, $c",
		NamedArgs: []hrana.NamedArg{{Name: ":a", Value: int64(1)}, {Name: "@b", Value: "two"}, {Name: "c", Value: 3.5}},
	}), hrana.Close())
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	row := res[0].Response.Result.Rows[0]
	if row[0].V != int64(1) || row[1].V != "two" || row[2].V != 3.5 {
		t.Fatalf("got %v %v %v", row[0].V, row[1].V, row[2].V)
	}
}

// A batch's conditions decide which steps run: the steps after a failed
// one are skipped or run as their conditions say, in one request.
func TestServerBatchConditions(t *testing.T) {
	s := newStream(t)
	batch := hrana.Batch{Steps: []hrana.BatchStep{
		{Stmt: hrana.Stmt{SQL: "BEGIN"}},
		{Condition: hrana.OK(0), Stmt: hrana.Stmt{SQL: "SELECT no_such_column"}},
		{Condition: hrana.OK(1), Stmt: hrana.Stmt{SQL: "SELECT 'skipped'"}},
		{Condition: hrana.Failed(1), Stmt: hrana.Stmt{SQL: "ROLLBACK"}},
		{Condition: hrana.And(hrana.Not(hrana.Failed(3)), hrana.IsAutocommit()), Stmt: hrana.Stmt{SQL: "SELECT 'rolled back'"}},
		{Condition: hrana.Or(hrana.OK(2), hrana.OK(4)), Stmt: hrana.Stmt{SQL: "SELECT 'or'"}},
	}}
	res := pipeline(t, s, hrana.ExecuteBatch(batch), hrana.GetAutocommit(), hrana.Close())
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	b := res[0].Response.Batch
	ran := func(i int) bool { return b.StepResults[i] != nil }
	if !ran(0) || b.StepErrors[1] == nil || ran(2) || !ran(3) || !ran(4) || !ran(5) {
		t.Fatalf("steps: results %v, errors %v", b.StepResults, b.StepErrors)
	}
	if !res[1].Response.IsAutocommit {
		t.Fatal("get_autocommit: still in a transaction after the rollback step")
	}
}

func TestServerSequenceAndAutocommit(t *testing.T) {
	s := newStream(t)
	// sqld refuses CREATE TEMP TABLE; the transaction is the stream's state.
	res := pipeline(t, s,
		hrana.Sequence("DROP TABLE IF EXISTS seq_t; CREATE TABLE seq_t(x); BEGIN; INSERT INTO seq_t VALUES (1); INSERT INTO seq_t VALUES (2)"),
		hrana.GetAutocommit(),
		hrana.Execute(hrana.Stmt{SQL: "SELECT sum(x) FROM seq_t"}),
	)
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("request %d: %v", i, r.Err)
		}
	}
	if res[1].Response.IsAutocommit {
		t.Fatal("get_autocommit: true inside BEGIN")
	}
	if got := res[2].Response.Result.Rows[0][0].V; got != int64(3) {
		t.Fatalf("sum = %v", got)
	}
	// The stream stays open between requests, its transaction with it.
	if !s.Open() {
		t.Fatal("no baton after a pipeline without close")
	}
	res = pipeline(t, s, hrana.Execute(hrana.Stmt{SQL: "ROLLBACK"}), hrana.GetAutocommit(),
		hrana.Execute(hrana.Stmt{SQL: "SELECT count(*) FROM seq_t"}), hrana.Close())
	if res[0].Err != nil || !res[1].Response.IsAutocommit || res[2].Response.Result.Rows[0][0].V != int64(0) {
		t.Fatalf("rollback on the same stream: %v, autocommit %v, rows %v", res[0].Err, res[1].Response, res[2])
	}
}

// A failed statement is that request's error, with the server's message
// and code; the rest of the pipeline still runs.
func TestServerErrorsKeepMessageAndCode(t *testing.T) {
	s := newStream(t)
	res := pipeline(t, s,
		hrana.Execute(hrana.Stmt{SQL: "SELEC 1"}),
		hrana.Execute(hrana.Stmt{SQL: "SELECT 1"}),
		hrana.Close(),
	)
	var he *hrana.Error
	if !errors.As(res[0].Err, &he) || he.Message == "" || he.Code == "" {
		t.Fatalf("want a server error with message and code, got %#v", res[0].Err)
	}
	if res[1].Err != nil {
		t.Fatalf("the request after the failed one: %v", res[1].Err)
	}
}

// Every call honours its context: a cancelled one sends nothing.
func TestServerCancelledContext(t *testing.T) {
	s := newStream(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Pipeline(ctx, hrana.Execute(hrana.Stmt{SQL: "SELECT 1"})); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

// A base_url in the answer (sticky sessions) to a host the client allows
// sends the stream's later requests there.
func TestServerBaseURLIsHonoured(t *testing.T) {
	sticky, err := sqldtest.NewProxy(sqldtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer sticky.Close()
	target, _ := url.Parse(sqldtest.URL())
	rp := httputil.NewSingleHostReverseProxy(target)
	direct := rp.Director
	rp.Director = func(r *http.Request) {
		direct(r)
		r.Header.Del("Accept-Encoding") // a plain body to rewrite
	}
	rp.ModifyResponse = func(r *http.Response) error {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		var m map[string]any
		if json.Unmarshal(body, &m) == nil && m["baton"] != nil {
			m["base_url"] = sticky.URL()
			body, _ = json.Marshal(m)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	front := httptest.NewServer(rp)
	defer front.Close()

	stickyHost := strings.TrimPrefix(sticky.URL(), "http://")
	c, err := hrana.NewClient(hrana.Config{URL: front.URL, AuthToken: sqldtest.AuthToken(), BaseURLHosts: []string{stickyHost}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := c.Stream()
	pipeline(t, s, hrana.Execute(hrana.Stmt{SQL: "SELECT 1"})) // opens the stream at the front
	if sticky.Requests() != 0 {
		t.Fatal("the first request went to the base_url")
	}
	res := pipeline(t, s, hrana.Execute(hrana.Stmt{SQL: "SELECT 2"}), hrana.Close())
	if res[0].Err != nil || sticky.Requests() != 1 {
		t.Fatalf("the stream's next request: %v, %d at the base_url", res[0].Err, sticky.Requests())
	}
}

// Cursors over both transports: the entries of a batch, in pages over
// WebSocket.
func TestServerCursor(t *testing.T) {
	for _, base := range []string{sqldtest.URL(), "ws" + strings.TrimPrefix(sqldtest.URL(), "http")} {
		c, err := hrana.NewClient(hrana.Config{URL: base, AuthToken: sqldtest.AuthToken()})
		if err != nil {
			t.Fatal(err)
		}
		s := c.Stream()
		cur, err := s.Cursor(context.Background(), hrana.Batch{Steps: []hrana.BatchStep{
			{Stmt: hrana.Stmt{SQL: "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 3000) SELECT x FROM n"}},
			{Stmt: hrana.Stmt{SQL: "SELECT * FROM no_such_table"}},
		}})
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		rows, errs := 0, 0
		for {
			e, err := cur.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			switch e.Type {
			case "row":
				rows++
			case "step_error":
				errs++
			}
		}
		cur.Close()
		if rows != 3000 || errs != 1 {
			t.Fatalf("%s: %d rows, %d step errors", base, rows, errs)
		}
		c.Close()
	}
}
