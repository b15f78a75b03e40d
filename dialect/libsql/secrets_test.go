package libsql_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	for _, q := range []string{"SELECT x FROM t", cursorRead} { // a pipeline, a cursor
		rows, err := db.QueryContext(ctx, q)
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		errs = append(errs, err)
	}
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

// A server, or a proxy in front of it, that echoes the token cut short or
// encoded (percent-encoded, hex, base64 as a header dump would), in any
// text it sends back, including the raw status line and a Location
// net/http cannot parse: the token shows in no form, with a fixed token
// and with a TokenFunc that mints one per request.
func TestEchoedTokenNeverShows(t *testing.T) {
	echoes := map[string]func(tok string) string{
		"a prefix":        func(tok string) string { return "bad token " + tok[:20] },
		"a suffix":        func(tok string) string { return tok[len(tok)-20:] + " is expired" },
		"percent-encoded": func(tok string) string { return "token=" + percentAll(tok) },
		"hex":             func(tok string) string { return "0x" + hex.EncodeToString([]byte(tok)) },
		"base64 header": func(tok string) string {
			return base64.StdEncoding.EncodeToString([]byte("Authorization: Bearer " + tok + "\r\n"))
		},
		"base64url": func(tok string) string { return base64.RawURLEncoding.EncodeToString([]byte(tok)) },
		"clipped base64 header": func(tok string) string {
			return base64.StdEncoding.EncodeToString([]byte("Authorization: Bearer " + tok))[:50]
		},
		"clipped hex":       func(tok string) string { return hex.EncodeToString([]byte(tok))[:41] },
		"prefix after clip": func(tok string) string { return strings.Repeat("x", 505) + tok[:20] },
	}
	bearer := func(r *http.Request) string { return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") }
	for name, echo := range echoes {
		for _, minting := range []bool{false, true} {
			var minted atomic.Int64
			opts := []libsql.Option{}
			if minting {
				opts = append(opts, libsql.WithAuthTokenFunc(func(context.Context) (string, error) {
					return fmt.Sprintf("%s-%d", fakeToken, minted.Add(1)), nil
				}))
			}
			t.Run(fmt.Sprintf("%s minting=%v", name, minting), func(t *testing.T) {
				var seen sync.Map // every token a request carried
				record := func(tok string) string { seen.Store(tok, true); return tok }
				check := func(what, s string) {
					t.Helper()
					seen.Range(func(k, _ any) bool {
						noTokenForm(t, what, s, k.(string))
						return true
					})
				}
				cases := map[string]http.Handler{
					"error page": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						answer(w, 400, "<pre>"+echo(record(bearer(r)))+"</pre>")
					}),
					"statement error": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						tok := record(bearer(r))
						(&hranaHTTP{
							result: func(wireRequest) string {
								return `{"type":"error","error":{"message":"` + echo(tok) + `","code":"` + echo(tok) + `"}}`
							},
							cursor: cursorEntries(`{"type":"step_error","step":$STEP,"error":{"message":"` + echo(tok) + `"}}`),
						}).ServeHTTP(w, r)
					}),
					"unreadable location": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						w.Header().Set("Location", "http://%zz/"+echo(record(bearer(r))))
						w.WriteHeader(307)
					}),
				}
				for cname, h := range cases {
					drv := fakeDriver(t, fake(t, h).URL(), opts...)
					for _, err := range echoWorkload(drv) {
						check(cname, err.Error())
						check(cname+" (%+v)", fmt.Sprintf("%+v %#v", err, err))
					}
				}
				raw := rawHTTPServer(t, func(req string) string {
					tok := record(strings.TrimSpace(strings.TrimPrefix(headerOf(req, "Authorization"), "Bearer ")))
					return "HTTP/1.1 " + echo(tok) + "\r\n\r\n"
				})
				for _, err := range echoWorkload(fakeDriver(t, raw, opts...)) {
					check("a malformed status line", err.Error())
					if len(err.Error()) > 1024 {
						t.Errorf("a malformed status line: an error of %d bytes", len(err.Error()))
					}
				}
				ws := sqldtest.NewFake(nil)
				t.Cleanup(ws.Close)
				ws.SetHandler(ws.WebSocket(func(_ context.Context, r sqldtest.WSRequest) [][]byte {
					if r.Type == "open_stream" {
						return [][]byte{wsOK(r.ID, `{"type":"open_stream"}`)}
					}
					var tok string // the token of the last hello
					for _, req := range ws.Requests() {
						if req.Method == "HELLO" {
							tok = record(req.Hello)
						}
					}
					return [][]byte{[]byte(fmt.Sprintf(`{"type":"response_error","request_id":%d,"error":{"message":"%s","code":"%s"}}`, r.ID, echo(tok), echo(tok)))}
				}))
				for _, err := range echoWorkload(fakeDriver(t, wsOf(ws), opts...)) {
					check("a WebSocket error", err.Error())
				}
			})
		}
	}
}

// echoWorkload runs statements of every kind, some at once, and returns
// their errors; it fails if none failed.
func echoWorkload(drv *libsql.Driver) []error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := drv.DB()
	var mu sync.Mutex
	var errs []error
	add := func(err error) {
		if err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.ExecContext(ctx, "INSERT INTO t VALUES (?)", i)
			add(err)
			rows, err := db.QueryContext(ctx, "SELECT x FROM t")
			if err == nil {
				for rows.Next() {
				}
				err = rows.Err()
				rows.Close()
			}
			add(err)
		}()
	}
	wg.Wait()
	if len(errs) == 0 {
		errs = append(errs, errors.New("no statement failed: the case tests nothing"))
	}
	return errs
}

// noTokenForm fails the test if s shows 12 bytes in a row of tok, or of
// its percent, hex or base64 encodings (at any alignment).
func noTokenForm(t testing.TB, what, s, tok string) {
	t.Helper()
	forms := []string{tok, percentAll(tok), strings.ToLower(percentAll(tok)), hex.EncodeToString([]byte(tok))}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for align := 0; align < 3; align++ {
			b := enc.EncodeToString(append(make([]byte, align), tok...))
			forms = append(forms, b[4:len(b)-4])
		}
	}
	if strings.Contains(s, "no statement failed") {
		t.Fatalf("%s: %s", what, s)
	}
	for _, f := range forms {
		for i := 0; i+12 <= len(f); i++ {
			if strings.Contains(s, f[i:i+12]) {
				t.Fatalf("%s shows (a form of) the token: %s", what, s)
			}
		}
	}
}

// percentAll percent-encodes every byte of s.
func percentAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

// rawHTTPServer answers every request on a TCP listener with the bytes
// answer returns for it, then closes the connection: for answers net/http
// would refuse to write.
func rawHTTPServer(t testing.TB, answer func(req string) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				br := bufio.NewReader(c)
				var head strings.Builder
				for {
					line, err := br.ReadString('\n')
					head.WriteString(line)
					if err != nil || line == "\r\n" {
						break
					}
				}
				c.Write([]byte(answer(head.String())))
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// headerOf is the value of header name in a raw request head.
func headerOf(head, name string) string {
	for _, line := range strings.Split(head, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Whatever text a server sends back, of any size and holding the token,
// every error and log line is a short excerpt without it: over WebSocket
// for each request type (an open_stream refused with 100 KB once came
// back whole), over HTTP for every place an answer carries text.
func TestServerTextIsShortAndScrubbedWS(t *testing.T) {
	long := strings.Repeat("y", 100000)
	for _, typ := range []string{"open_stream", "execute", "open_cursor", "fetch_cursor", "close_cursor", "close"} {
		ws := wsFake(t, hranaWS(func(r sqldtest.WSRequest) ([][]byte, bool) {
			if r.Type == typ {
				return [][]byte{[]byte(`{"type":"response_error","request_id":` + strconv.FormatInt(r.ID, 10) + `,"error":{"message":"` + long + fakeToken + `","code":"` + long + `"}}`)}, true
			}
			return nil, false
		}))
		drv := fakeDriver(t, wsOf(ws))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		db := drv.DB()
		_, err1 := db.ExecContext(ctx, "INSERT INTO t VALUES (1)")
		rows, err2 := db.QueryContext(ctx, cursorRead)
		if err2 == nil {
			for rows.Next() {
			}
			err2 = rows.Err()
			if err2 == nil {
				err2 = rows.Close()
			}
		}
		cancel()
		for _, err := range []error{err1, err2} {
			if err != nil {
				noSecret(t, typ, err.Error())
				if len(err.Error()) > maxErrorBytes {
					t.Errorf("%s: %d bytes: %.200s", typ, len(err.Error()), err.Error())
				}
			}
		}
	}
}

func TestServerTextIsShortAndScrubbedHTTP(t *testing.T) {
	long := strings.Repeat("y", 100000) + fakeToken + strings.Repeat("z", 1000)
	errObj := `{"message":"` + long + `","code":"` + long + `"}`
	cases := map[string]http.Handler{
		"result error": &hranaHTTP{result: func(r wireRequest) string {
			if r.Type == "execute" || r.Type == "batch" {
				return `{"type":"error","error":` + errObj + `}`
			}
			return ""
		}},
		"step error": &hranaHTTP{result: func(r wireRequest) string {
			if r.Type == "batch" {
				n := len(r.Batch.Steps)
				res := strings.TrimSuffix(strings.Repeat("null,", n), ",")
				errs := strings.TrimSuffix(strings.Repeat(errObj+",", n), ",")
				return batchAnswer("["+res+"]", "["+errs+"]")
			}
			return ""
		}, cursor: cursorEntries(`{"type":"step_error","step":$STEP,"error":` + errObj + `}`)},
		"cursor error": &hranaHTTP{cursor: cursorEntries(`{"type":"error","error":` + errObj + `}`)},
		"bad int":      &hranaHTTP{cursor: cursorEntries(`{"type":"step_begin","step":$STEP,"cols":[{"name":"a"}]}`, `{"type":"row","row":[{"type":"integer","value":"`+long+`"}]}`)},
		"bad type":     &hranaHTTP{cursor: cursorEntries(`{"type":"step_begin","step":$STEP,"cols":[{"name":"a"}]}`, `{"type":"row","row":[{"type":"`+long+`"}]}`)},
		"bad float":    &hranaHTTP{cursor: cursorEntries(`{"type":"step_begin","step":$STEP,"cols":[{"name":"a"}]}`, `{"type":"row","row":[{"type":"float","value":"`+long+`"}]}`)},
		"bad entry":    &hranaHTTP{cursor: cursorEntries(`{"type":"` + long + `"}`)},
		"bad col name": &hranaHTTP{cursor: cursorEntries(`{"type":"step_begin","step":$STEP,"cols":[{"name":"`+long+`","decltype":"`+long+`"}]}`, `{"type":"row","row":[{"type":"float","value":"x"}]}`)},
		"bad result value": &hranaHTTP{result: func(r wireRequest) string {
			if r.Type == "execute" {
				return `{"type":"ok","response":{"type":"execute","result":{"cols":[{"name":"a"}],"rows":[[{"type":"integer","value":"` + long + `"}]],"affected_row_count":0}}}`
			}
			return ""
		}},
		"bad response type": &hranaHTTP{result: func(r wireRequest) string {
			return `{"type":"ok","response":{"type":"` + long + `"}}`
		}},
		"bad result type": &hranaHTTP{result: func(r wireRequest) string {
			return `{"type":"` + long + `"}`
		}},
		"http 500":      http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { answer(w, 500, `{"error":"`+long+`","code":"`+long+`"}`) }),
		"http 400 text": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { answer(w, 400, long) }),
		"bad first line": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/cursor") {
				w.Write([]byte(`{"baton":"` + long + `","base_url":` + long + "}\n"))
				return
			}
			answer(w, 200, `{"baton":"`+long+`","base_url":"`+long+`","results":`+long+`}`)
		}),
		"base url": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			(&hranaHTTP{}).ServeHTTP(&baseWriter{ResponseWriter: w, base: "http://" + long + "/"}, r)
		}),
	}
	for name, h := range cases {
		var logBuf syncBuf
		drv := fakeDriver(t, fake(t, h).URL(), libsql.WithLogger(slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
		defer func() {
			noSecret(t, name+" log", logBuf.String())
			for _, line := range strings.Split(logBuf.String(), "\n") {
				if len(line) > 4096 {
					t.Errorf("%s: log line of %d bytes: %.300s", name, len(line), line)
				}
			}
		}()
		errs := echoWorkload(drv)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		tx, err := drv.DB().BeginTx(ctx, nil)
		if err == nil {
			_, err = tx.ExecContext(ctx, "INSERT INTO t VALUES (1)")
			if err != nil {
				errs = append(errs, err)
			}
			err = tx.Commit()
		}
		if err != nil {
			errs = append(errs, err)
		}
		cancel()
		for _, err := range errs {
			noSecret(t, name, err.Error())
			if len(err.Error()) > maxErrorBytes {
				t.Errorf("%s: %d bytes: %.200s", name, len(err.Error()), err.Error())
			}
		}
	}
}

// maxErrorBytes bounds the text of an error built from a server's answer.
const maxErrorBytes = 2048

// baseWriter puts base into the first base_url of what a handler writes.
type baseWriter struct {
	http.ResponseWriter
	base string
}

func (b *baseWriter) Write(p []byte) (int, error) {
	return b.ResponseWriter.Write([]byte(strings.Replace(string(p), `"base_url":null`, `"base_url":"`+b.base+`"`, 1)))
}

// syncBuf is a buffer for a logger used from several goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// A token function that does not return within the request timeout
// fails the call with an error that says so, over HTTP and WebSocket:
// it read "the server made no progress", and the server was never asked.
func TestSlowTokenFuncIsItsOwnTimeout(t *testing.T) {
	srv := fake(t, &hranaHTTP{})
	ws := wsFake(t, hranaWS(nil))
	for _, u := range []string{srv.URL(), wsOf(ws)} {
		drv := fakeDriver(t, u, libsql.WithRequestTimeout(300*time.Millisecond), libsql.WithAuthTokenFunc(func(ctx context.Context) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		}))
		within(t, 10*time.Second, "exec", func() {
			_, err := drv.DB().ExecContext(context.Background(), "INSERT INTO t VALUES (1)")
			if err == nil || !strings.Contains(err.Error(), "auth token function did not return") || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s: %v", u, err)
			}
		})
	}
}
