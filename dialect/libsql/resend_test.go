package libsql_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/entlibsql/entlibsql/dialect/libsql"
)

// Issue 14, points 12 and 13: what is resent, and what is not.

// proxyFront starts a fake in front of the real sqld that passes requests
// on, rewrite changing each body first; replace may run one on sqld and
// answer the client itself. It returns the front's URL and a count of the
// requests that reached sqld.
func proxyFront(t *testing.T, rewrite func(body []byte) []byte, replace func(body []byte) (int, string, bool)) (string, *atomic.Int64) {
	t.Helper()
	target, _ := url.Parse(serverURL())
	rp := httputil.NewSingleHostReverseProxy(target)
	var reached atomic.Int64
	srv := fake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if rewrite != nil {
			body = rewrite(body)
		}
		if replace != nil {
			if status, ans, ok := replace(body); ok {
				// Run it on the server, then answer as the front pleases.
				req, _ := http.NewRequest(http.MethodPost, serverURL()+r.URL.Path, bytes.NewReader(body))
				if resp, err := http.DefaultClient.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					reached.Add(1)
				}
				answer(w, status, ans)
				return
			}
		}
		reached.Add(1)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		rp.ServeHTTP(w, r)
	}))
	return srv.URL(), &reached
}

// Point 12: a write on a warm stream answered 400 by something that ran
// it is not resent: only sqld's own proof (an unknown baton) allows it.
func TestWarmStreamResendNeedsProof(t *testing.T) {
	db := openDriver(t, "").DB()
	tbl := scratchTable(t, db, "k TEXT")
	ctx := context.Background()
	t.Run("a proxy's 400", func(t *testing.T) {
		u, _ := proxyFront(t, nil, func(body []byte) (int, string, bool) {
			return 400, `{"error":"Bad Request"}`, bytes.Contains(body, []byte("'proxied'")) && !bytes.Contains(body, []byte(`"baton":null`))
		})
		conn, err := openDriver(t, u).DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT 1"); err != nil { // the stream is warm now
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO "+tbl+" VALUES ('proxied')"); err == nil || !strings.Contains(err.Error(), "HTTP 400") {
			t.Fatalf("want the 400, got %v", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+tbl+" WHERE k = 'proxied'").Scan(&n); err != nil || n != 1 {
			t.Fatalf("the write ran %d times (%v), want once", n, err)
		}
	})
	t.Run("sqld's unknown baton", func(t *testing.T) {
		baton := regexp.MustCompile(`"baton":"[^"]*"`)
		u, reached := proxyFront(t, func(body []byte) []byte {
			if bytes.Contains(body, []byte("'resent'")) {
				return baton.ReplaceAll(body, []byte(`"baton":"not-a-baton"`))
			}
			return body
		}, nil)
		conn, err := openDriver(t, u).DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		before := reached.Load()
		if _, err := conn.ExecContext(ctx, "INSERT INTO "+tbl+" VALUES ('resent')"); err != nil {
			t.Fatalf("a warm stream the server does not know: %v", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+tbl+" WHERE k = 'resent'").Scan(&n); err != nil || n != 1 {
			t.Fatalf("the write ran %d times (%v), want once", n, err)
		}
		if got := reached.Load() - before; got != 2 {
			t.Fatalf("%d requests for a refused then resent write, want 2", got)
		}
	})
}

// Point 13: a statement sqld's parser rejects, streamed through
// /v3/cursor, comes back as HTTP 500; it is a SQL error with its code,
// sent once. A read goes as a pipeline, where sqld refuses it with the
// same code and keeps the stream.
func TestCursorParseErrorIsASQLError(t *testing.T) {
	drv, proxy := proxied(t)
	db, ctx := drv.DB(), context.Background()
	for q, path := range map[string]string{
		"SELECT * FROM t WHERE":                   "/v3/pipeline",
		"WITH x AS (SELECT 1) SELEC * FROM x":     "/v3/cursor",
		"WITH x AS (SELECT 1) SELECT 1; SELECT 2": "/v3/cursor",
		"SELECT 1; SELECT 2":                      "/v3/pipeline",
		"VALUES (1,":                              "/v3/pipeline",
	} {
		proxy.ResetLog()
		_, err := db.QueryContext(ctx, q)
		var le *libsql.Error
		if !errors.As(err, &le) || !strings.HasPrefix(le.Code, "SQL_") || le.HTTPStatus != 0 {
			t.Fatalf("%s: want a SQL error with its code, got %v (%#v)", q, err, le)
		}
		if log := proxy.Log(); len(log) != 1 || !strings.HasSuffix(log[0].Path, path) {
			t.Fatalf("%s: sent %d times, want once to %s", q, len(log), path)
		}
		oneErrorPrefix(t, err)
		t.Logf("%s: %v", q, err)
	}
	// In a transaction: sqld drops the stream with the refused cursor
	// batch, so the transaction is over; it says so.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.QueryContext(ctx, "WITH x AS (SELECT 1) SELECT 1; SELECT 2"); err == nil || !strings.Contains(err.Error(), "SQL_MANY_STATEMENTS") {
		t.Fatalf("in a transaction: %v", err)
	}
	if _, err := tx.ExecContext(ctx, "SELECT 1"); err == nil || !strings.Contains(err.Error(), "transaction aborted") {
		t.Fatalf("the transaction went on after its stream was dropped: %v", err)
	}
	tx.Rollback()
	// A refused read's pipeline keeps the stream: the transaction goes on.
	tx, err = db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.QueryContext(ctx, "SELECT 1; SELECT 2"); err == nil || !strings.Contains(err.Error(), "SQL_MANY_STATEMENTS") {
		t.Fatalf("in a transaction: %v", err)
	}
	var one int
	if err := tx.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("after a refused read: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// As a transaction's first statement nothing began: it goes on.
	for _, q := range []string{"SELECT 1; SELECT 2", "WITH x AS (SELECT 1) SELECT 1; SELECT 2"} {
		tx, err = db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.QueryContext(ctx, q); err == nil {
			t.Fatal("no error")
		}
		if err := tx.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			t.Fatalf("after a refused first statement: %v", err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}
