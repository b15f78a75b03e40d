package libsql_test

import (
	"context"
	"database/sql"
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

// Issue 14, points 4, 11 and 16: answers that break the protocol are
// errors that say so, never a panic; COMMIT is acknowledged only by its
// own result; errors have one prefix and tell their cause.

// cursorRead is a query that streams through a cursor (a WITH query
// may write, so it is never sent twice); reads go as pipelines.
const cursorRead = "WITH q AS (SELECT 1) SELECT * FROM t"

// queryOutcome runs a streamed query, outside and inside a transaction,
// reading every row, and returns the errors.
func queryOutcome(t *testing.T, db *sql.DB, query string) []error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	read := func(q interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}) error {
		rows, err := q.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v any
			rows.Scan(&v)
		}
		return rows.Err()
	}
	// It runs off the test's goroutine (see within): no t.Fatal here.
	var errs []error
	errs = append(errs, read(db))
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return append(errs, err)
	}
	errs = append(errs, read(tx))
	tx.Rollback()
	tx, err = db.BeginTx(ctx, nil)
	if err != nil {
		return append(errs, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (1)"); err != nil {
		t.Errorf("an insert in a transaction: %v", err)
	}
	errs = append(errs, read(tx))
	tx.Rollback()
	return errs
}

// Cursor entries step_error and error without their error object, over
// HTTP and WebSocket, in and out of transactions: a protocol error.
func TestCursorEntriesWithoutTheirError(t *testing.T) {
	for _, entries := range [][]string{
		{`{"type":"step_error","step":$STEP}`},
		{`{"type":"step_begin","step":$STEP,"cols":[{"name":"x"}]}`, `{"type":"row","row":[{"type":"integer","value":"1"}]}`, `{"type":"step_error","step":$STEP}`},
		{`{"type":"error"}`},
		{`{"type":"step_begin","step":$STEP,"cols":[]}`, `{"type":"error","error":null}`},
	} {
		for _, transport := range []string{"http", "ws"} {
			t.Run(transport+" "+strings.Join(entries, " "), func(t *testing.T) {
				drv := fakeDriver(t, cursorFakeURL(t, transport, entries))
				within(t, time.Minute, "the query", func() {
					for i, err := range queryOutcome(t, drv.DB(), cursorRead) {
						if err == nil || !strings.Contains(err.Error(), "without its error") {
							t.Errorf("query %d: want a protocol error, got %v", i, err)
						} else {
							oneErrorPrefix(t, err)
						}
					}
				})
			})
		}
	}
}

// A read's pipeline answered without its step's result or error, or with
// a request error lacking the error, over HTTP and WebSocket, in and out
// of transactions: a protocol error.
func TestPipelineAnswersMissingParts(t *testing.T) {
	for name, c := range map[string]struct {
		answer func(steps int) string
		want   string
	}{
		"no step result": {func(steps int) string {
			return batchAnswer("["+strings.Repeat(emptyResult+",", steps-1)+"null]", "["+strings.Repeat("null,", steps-1)+"null]")
		}, "ended before the statement started"},
		"no steps":                   {func(int) string { return batchAnswer("[]", "[]") }, "ended before the statement started"},
		"an error without its error": {func(int) string { return `{"type":"error"}` }, "has no error"},
		"another kind of answer":     {func(int) string { return `{"type":"ok","response":{"type":"execute","result":` + emptyResult + `}}` }, `does not answer a "batch" request`},
	} {
		read := func(req wireRequest) string {
			if req.Type == "batch" && strings.HasPrefix(req.Batch.sqls()[len(req.Batch.Steps)-1], "SELECT") {
				return c.answer(len(req.Batch.Steps))
			}
			return ""
		}
		for _, transport := range []string{"http", "ws"} {
			t.Run(transport+" "+name, func(t *testing.T) {
				var url string
				if transport == "http" {
					url = fake(t, &hranaHTTP{result: read}).URL()
				} else {
					url = wsOf(wsFake(t, hranaWS(func(r sqldtest.WSRequest) ([][]byte, bool) {
						var req wireRequest
						json.Unmarshal(r.Request, &req)
						req.Type = r.Type
						if res := read(req); res != "" {
							var w struct {
								Type     string          `json:"type"`
								Response json.RawMessage `json:"response"`
								Error    json.RawMessage `json:"error"`
							}
							json.Unmarshal([]byte(res), &w)
							if w.Type == "error" {
								return [][]byte{[]byte(fmt.Sprintf(`{"type":"response_error","request_id":%d}`, r.ID))}, true
							}
							return [][]byte{wsOK(r.ID, string(w.Response))}, true
						}
						return nil, false
					})))
				}
				drv := fakeDriver(t, url)
				within(t, time.Minute, "the query", func() {
					for i, err := range queryOutcome(t, drv.DB(), "SELECT * FROM t") {
						if err == nil || (transport == "http" || c.want != "has no error") && !strings.Contains(err.Error(), c.want) {
							t.Errorf("query %d: want an error saying %q, got %v", i, c.want, err)
						} else {
							oneErrorPrefix(t, err)
						}
					}
				})
			})
		}
	}
}

// wsCursorEntriesFor answers a fetch_cursor with the entries of the last
// step, after the entries of the steps before it, read from the batch the
// open_cursor carried.
func wsCursorEntriesFor(entries []string) func(r sqldtest.WSRequest) ([][]byte, bool) {
	steps := 1
	return func(r sqldtest.WSRequest) ([][]byte, bool) {
		switch r.Type {
		case "open_cursor":
			steps = strings.Count(string(r.Request), `"stmt"`)
			return nil, false
		case "fetch_cursor":
			var out []string
			for i := 0; i < steps-1; i++ {
				out = append(out, fmt.Sprintf(`{"type":"step_begin","step":%d,"cols":[]}`, i), `{"type":"step_end","affected_row_count":0}`)
			}
			for _, e := range entries {
				out = append(out, strings.ReplaceAll(e, "$STEP", fmt.Sprint(steps-1)))
			}
			return [][]byte{wsOK(r.ID, `{"type":"fetch_cursor","entries":[`+strings.Join(out, ",")+`],"done":true}`)}, true
		}
		return nil, false
	}
}

// Point 11: Commit fails when the answer lacks the COMMIT step's result:
// no steps, or the step skipped. With it, Commit succeeds.
func TestCommitNeedsItsOwnResult(t *testing.T) {
	for _, c := range []struct {
		name, results, errors string
		ok                    bool
	}{
		{"no steps", `[]`, `[]`, false},
		{"skipped", `[null,null]`, `[null,null]`, false},
		{"only the rollback ran", `[null,` + emptyResult + `]`, `[null,null]`, false},
		{"committed", `[` + emptyResult + `,null]`, `[null,null]`, true},
	} {
		for _, transport := range []string{"http", "ws"} {
			t.Run(transport+" "+c.name, func(t *testing.T) {
				commit := batchAnswer(c.results, c.errors)
				var url string
				if transport == "http" {
					url = fake(t, &hranaHTTP{result: func(r wireRequest) string {
						if r.Type == "batch" && r.Batch.Steps[0].Stmt.SQL == "COMMIT" {
							return commit
						}
						return ""
					}}).URL()
				} else {
					url = wsOf(wsFake(t, hranaWS(func(r sqldtest.WSRequest) ([][]byte, bool) {
						if r.Type == "batch" && strings.Contains(string(r.Request), `"sql":"COMMIT"`) {
							resp := strings.TrimSuffix(strings.TrimPrefix(commit, `{"type":"ok","response":`), "}")
							return [][]byte{wsOK(r.ID, resp)}, true
						}
						return nil, false
					})))
				}
				db := fakeDriver(t, url).DB()
				ctx := context.Background()
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (1)"); err != nil {
					t.Fatal(err)
				}
				err = tx.Commit()
				if c.ok != (err == nil) {
					t.Fatalf("Commit: %v", err)
				}
				if err != nil {
					if !strings.Contains(err.Error(), "unknown") {
						t.Fatalf("the error does not say the outcome is unknown: %v", err)
					}
					oneErrorPrefix(t, err)
				}
			})
		}
	}
}

// Point 16: a cursor whose answer ends before its statement began says
// so, not "EOF".
func TestCursorThatNeverStarted(t *testing.T) {
	drv := fakeDriver(t, fake(t, &hranaHTTP{cursor: func(http.ResponseWriter, func(), []string) {}}).URL())
	_, err := drv.DB().QueryContext(context.Background(), cursorRead)
	if err == nil || !strings.Contains(err.Error(), "ended before the statement started") || strings.Contains(err.Error(), "EOF") {
		t.Fatalf("want a cursor that never started, got %v", err)
	}
	oneErrorPrefix(t, err)
}

// Point 16: a 502 inside a transaction is a 502, not an expired stream,
// and the transaction is over.
func TestGatewayErrorInsideTransaction(t *testing.T) {
	calls := 0
	srv := fake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 2 {
			answer(w, 502, `<html><body>502 Bad Gateway</body></html>`)
			return
		}
		(&hranaHTTP{}).ServeHTTP(w, r)
	}))
	db := fakeDriver(t, srv.URL()).DB()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO t VALUES (2)")
	if err == nil || !strings.Contains(err.Error(), "HTTP 502") || strings.Contains(err.Error(), "expired") || strings.Contains(err.Error(), "no longer holds") {
		t.Fatalf("a 502 in a transaction: %v", err)
	}
	oneErrorPrefix(t, err)
	_, err = tx.ExecContext(ctx, "INSERT INTO t VALUES (3)")
	if err == nil || !strings.Contains(err.Error(), "transaction aborted") || !strings.Contains(err.Error(), "HTTP 502") {
		t.Fatalf("the statement after: %v", err)
	}
	oneErrorPrefix(t, err)
	if err := tx.Commit(); err == nil {
		t.Fatal("committed")
	}
}

// Point 16: a lost WebSocket reports why: a malformed message, the
// server closing it (with its reason), an answer over the size limit.
func TestLostWebSocketSaysWhy(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer func(r sqldtest.WSRequest) ([][]byte, bool)
		want   string
	}{
		{"malformed", func(r sqldtest.WSRequest) ([][]byte, bool) {
			return [][]byte{[]byte(`{"type":"response_ok","request_id":`)}, r.Type == "execute"
		}, "malformed message from the server"},
		{"too large, its request unnamed before its answer", func(r sqldtest.WSRequest) ([][]byte, bool) {
			return [][]byte{[]byte(fmt.Sprintf(`{"type":"response_ok","response":{"type":"execute","result":{"cols":[],"rows":[[{"type":"text","value":"%s"}]],"affected_row_count":0}},"request_id":%d}`, strings.Repeat("x", 200<<10), r.ID))}, r.Type == "execute"
		}, "larger than the maximum response size of 64 KiB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			drv := fakeDriver(t, wsOf(wsFake(t, hranaWS(c.answer))), libsql.WithMaxResponseSize(64<<10))
			_, err := drv.DB().ExecContext(context.Background(), "INSERT INTO t VALUES (1)")
			if err == nil || !strings.Contains(err.Error(), "WebSocket connection to the server was lost") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want the lost socket's cause %q, got %v", c.want, err)
			}
			oneErrorPrefix(t, err)
		})
	}
	// An answer over the size limit that names its request first (as
	// sqld's do) fails that request only: the socket goes on.
	t.Run("too large", func(t *testing.T) {
		big := true
		drv := fakeDriver(t, wsOf(wsFake(t, hranaWS(func(r sqldtest.WSRequest) ([][]byte, bool) {
			if r.Type != "execute" {
				return nil, false
			}
			v := "small"
			if big {
				v, big = strings.Repeat("x", 200<<10), false
			}
			return [][]byte{wsOK(r.ID, `{"type":"execute","result":{"cols":[],"rows":[[{"type":"text","value":"`+v+`"}]],"affected_row_count":0}}`)}, true
		}))), libsql.WithMaxResponseSize(64<<10))
		_, err := drv.DB().ExecContext(context.Background(), "INSERT INTO t VALUES (1)")
		if err == nil || strings.Contains(err.Error(), "WebSocket connection to the server was lost") || !strings.Contains(err.Error(), "larger than the maximum response size of 64 KiB") {
			t.Fatalf("want the size limit, the socket kept, got %v", err)
		}
		oneErrorPrefix(t, err)
		if _, err := drv.DB().ExecContext(context.Background(), "INSERT INTO t VALUES (2)"); err != nil {
			t.Fatalf("after the refused answer: %v", err)
		}
	})
	t.Run("server close", func(t *testing.T) {
		f := sqldtest.NewFake(nil)
		t.Cleanup(f.Close)
		f.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, err := acceptHrana(w, r)
			if err != nil {
				return
			}
			conn.Read(r.Context())
			conn.Write(r.Context(), websocket.MessageText, []byte(`{"type":"hello_ok"}`))
			conn.Read(r.Context())
			conn.Close(websocket.StatusInternalError, "cannot open a connection, "+fakeToken)
		}))
		drv := fakeDriver(t, wsOf(f))
		_, err := drv.DB().ExecContext(context.Background(), "INSERT INTO t VALUES (1)")
		if err == nil || !strings.Contains(err.Error(), "the server closed it (status 1011: cannot open a connection, [REDACTED])") {
			t.Fatalf("want the server's close and reason, got %v", err)
		}
		noSecret(t, "the error", err.Error())
		oneErrorPrefix(t, err)
		var le *libsql.Error
		if errors.As(err, &le) {
			t.Fatalf("a lost socket is not a server's statement error: %#v", le)
		}
	})
}

// Point 11 for migrations: a migration's plan goes with its COMMIT in one
// batch, and only the COMMIT step's own result proves the commit.
func TestMigrationCommitNeedsItsOwnResult(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"commit skipped", false},
		{"committed", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			url := fake(t, &hranaHTTP{result: func(r wireRequest) string {
				if r.Type != "batch" {
					return ""
				}
				steps := r.Batch.sqls()
				commit := -1
				for i, s := range steps {
					if s == "COMMIT" {
						commit = i
					}
				}
				if commit < 1 || c.ok {
					return ""
				}
				// Every step ran but COMMIT, which has neither a result
				// nor an error.
				var res, errs []string
				for i := range steps {
					if i == commit || i == commit+1 {
						res = append(res, "null")
					} else {
						res = append(res, emptyResult)
					}
					errs = append(errs, "null")
				}
				return batchAnswer("["+strings.Join(res, ",")+"]", "["+strings.Join(errs, ",")+"]")
			}}).URL()
			drv := fakeDriver(t, url)
			ctx := context.Background()
			m, err := drv.BeginMigration(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Exec(ctx, "CREATE TABLE t (a)", []any{}, nil); err != nil {
				t.Fatal(err)
			}
			err = m.Commit()
			if c.ok != (err == nil) {
				t.Fatalf("Commit: %v", err)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "unknown") {
					t.Fatalf("the error does not say the outcome is unknown: %v", err)
				}
				oneErrorPrefix(t, err)
			}
		})
	}
}
