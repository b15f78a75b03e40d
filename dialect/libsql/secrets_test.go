package libsql_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// Issue 14, point 14: the token never shows, whatever a server sends back:
// statement errors (message and code), values quoted in a protocol error,
// cursor step errors, HTTP error pages, redirects, base_urls, WebSocket
// response errors, the hello, a close reason; not even cut short by a
// clip. Checked in the errors and in the debug log, with a fixed token and
// a rotating one.
func TestServerTextNeverShowsTheToken(t *testing.T) {
	long := strings.Repeat("x", 500) // a clip at 512 bytes would cut a token after it in half
	httpCases := map[string]http.Handler{
		"statement error": &hranaHTTP{result: func(r wireRequest) string {
			return `{"type":"error","error":{"message":"no such table: ` + fakeToken + `","code":"` + fakeToken + `"}}`
		}},
		"statement error, long": &hranaHTTP{result: func(r wireRequest) string {
			return `{"type":"error","error":{"message":"` + long + fakeToken + `","code":"X"}}`
		}},
		"unknown value type": &hranaHTTP{result: func(r wireRequest) string {
			return `{"type":"ok","response":{"type":"execute","result":{"cols":[{"name":"x"}],"rows":[[{"type":"` + fakeToken + `"}]],"affected_row_count":0}}}`
		}},
		"unknown result type": &hranaHTTP{result: func(r wireRequest) string { return `{"type":"` + fakeToken + `"}` }},
		"bad integer": &hranaHTTP{result: func(r wireRequest) string {
			return `{"type":"ok","response":{"type":"execute","result":{"cols":[{"name":"x"}],"rows":[[{"type":"integer","value":"` + fakeToken + `"}]],"affected_row_count":0}}}`
		}},
		"cursor step error": &hranaHTTP{cursor: cursorEntries(`{"type":"step_error","step":$STEP,"error":{"message":"` + long + fakeToken + `","code":"` + fakeToken + `"}}`)},
		"cursor value":      &hranaHTTP{cursor: cursorEntries(`{"type":"step_begin","step":$STEP,"cols":[{"name":"x"}]}`, `{"type":"row","row":[{"type":"`+fakeToken+`"}]}`)},
		"error page": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			answer(w, 502, "<html><body>"+long+" Authorization: Bearer "+fakeToken+"</body></html>")
		}),
		"error json": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			answer(w, 401, `{"error":{"message":"bad token `+fakeToken+`","code":"`+fakeToken+`"}}`)
		}),
		"redirect": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "http://elsewhere.example/"+fakeToken+"?t="+fakeToken)
			w.WriteHeader(307)
		}),
		"base_url": &hranaHTTP{result: func(r wireRequest) string { return "" }},
	}
	wsCases := map[string]func(sqldtest.WSRequest) ([][]byte, bool){
		"response error": func(r sqldtest.WSRequest) ([][]byte, bool) {
			return [][]byte{[]byte(fmt.Sprintf(`{"type":"response_error","request_id":%d,"error":{"message":"%s%s","code":"%s"}}`, r.ID, long, fakeToken, fakeToken))}, r.Type == "execute"
		},
		"unknown message": func(r sqldtest.WSRequest) ([][]byte, bool) {
			return [][]byte{[]byte(`{"type":"` + fakeToken + `"}`)}, r.Type == "execute"
		},
		"cursor step error": func(r sqldtest.WSRequest) ([][]byte, bool) {
			return [][]byte{wsOK(r.ID, `{"type":"fetch_cursor","entries":[{"type":"step_error","step":0,"error":{"message":"`+fakeToken+`","code":"`+fakeToken+`"}}],"done":true}`)}, r.Type == "fetch_cursor"
		},
	}
	for _, rotating := range []bool{false, true} {
		opts := func(logged *syncBuffer) []libsql.Option {
			o := []libsql.Option{libsql.WithLogger(slog.New(slog.NewTextHandler(logged, &slog.HandlerOptions{Level: slog.LevelDebug})))}
			if rotating {
				o = append(o, libsql.WithAuthTokenFunc(func(context.Context) (string, error) { return fakeToken, nil }))
			}
			return o
		}
		for name, h := range httpCases {
			t.Run(fmt.Sprintf("http %s rotating=%v", name, rotating), func(t *testing.T) {
				var logged syncBuffer
				srv := fake(t, h)
				if name == "base_url" {
					srv.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						answer(w, 200, `{"baton":"b","base_url":"http://evil.example/`+fakeToken+`","results":[{"type":"ok","response":{"type":"execute","result":`+emptyResult+`}}]}`)
					}))
				}
				leakCheck(t, fakeDriver(t, srv.URL(), opts(&logged)...), &logged)
			})
		}
		for name, a := range wsCases {
			t.Run(fmt.Sprintf("ws %s rotating=%v", name, rotating), func(t *testing.T) {
				var logged syncBuffer
				leakCheck(t, fakeDriver(t, wsOf(wsFake(t, hranaWS(a))), opts(&logged)...), &logged)
			})
		}
		t.Run(fmt.Sprintf("ws hello rotating=%v", rotating), func(t *testing.T) {
			f := sqldtest.NewFake(nil)
			t.Cleanup(f.Close)
			f.SetHandler(helloError(`{"type":"hello_error","error":{"message":"` + long + fakeToken + `","code":"` + fakeToken + `"}}`))
			var logged syncBuffer
			leakCheck(t, fakeDriver(t, wsOf(f), opts(&logged)...), &logged)
		})
	}
}

// leakCheck runs statements of every kind and checks that no error and no
// log line shows the token.
func leakCheck(t *testing.T, drv *libsql.Driver, logged *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := drv.DB()
	var errs []error
	_, err := db.ExecContext(ctx, "INSERT INTO t VALUES (?)", "x")
	errs = append(errs, err)
	var v any
	errs = append(errs, db.QueryRowContext(ctx, "SELECT x FROM t LIMIT 1").Scan(&v))
	rows, err := db.QueryContext(ctx, "SELECT x FROM t")
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	errs = append(errs, err)
	_, err = db.ExecContext(ctx, "SELECT 2")
	errs = append(errs, err)
	some := false
	for _, err := range errs {
		if err != nil {
			some = true
			noSecret(t, "an error", err.Error())
			noSecret(t, "an error (%+v)", fmt.Sprintf("%+v %#v", err, err))
			oneErrorPrefix(t, err)
		}
	}
	if !some {
		t.Fatal("no statement failed: the case tests nothing")
	}
	noSecret(t, "the debug log", logged.String())
}

// helloError answers a WebSocket's hello with msg.
func helloError(msg string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := acceptHrana(w, r)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		conn.Read(r.Context())
		conn.Write(r.Context(), websocket.MessageText, []byte(msg))
		conn.Read(r.Context())
	})
}
