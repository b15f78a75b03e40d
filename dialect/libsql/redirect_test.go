package libsql_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// Issue 14, points 1 and 2: a redirect to another origin (scheme, host,
// port), or from https to http, is never followed, over HTTP and for the
// WebSocket upgrade; the error says where it pointed, never the token.
func TestRedirectsToAnotherOriginAreRefused(t *testing.T) {
	sink := fake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { answer(w, 200, executeOK("b")) }))
	tlsSink := tlsFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { answer(w, 200, executeOK("b")) }))
	wsSink := sqldtest.NewWebSocketFake(func(context.Context, sqldtest.WSRequest) [][]byte { return nil })
	t.Cleanup(wsSink.Close)
	for _, c := range []struct {
		name   string
		status int
		to     *sqldtest.Fake
		scheme string // of the client's URL
	}{
		{"https to http, 307", 307, sink, "https"},
		{"https to http, 308", 308, sink, "https"},
		{"https to another port, 308", 308, tlsSink, "https"},
		{"http to another host and port, 307", 307, sink, "http"},
		{"wss upgrade to ws, 307", 307, wsSink, "wss"},
		{"wss upgrade to ws, 302", 302, wsSink, "wss"},
		{"ws upgrade to another port, 301", 301, wsSink, "ws"},
	} {
		t.Run(c.name, func(t *testing.T) {
			target := c.to.URL()
			var front *sqldtest.Fake
			if c.scheme == "https" || c.scheme == "wss" {
				front = tlsFake(t, sqldtest.Redirect(c.status, target))
			} else {
				front = fake(t, sqldtest.Redirect(c.status, target))
			}
			url := c.scheme + "://" + front.Addr()
			drv := fakeDriver(t, url, trusting(front, tlsSink))
			before := len(c.to.Requests())
			ctx := context.Background()
			_, err := drv.DB().ExecContext(ctx, "INSERT INTO t VALUES (?)", "secret-argument")
			if err == nil {
				t.Fatal("a redirect to another origin was followed")
			}
			if !strings.Contains(err.Error(), "redirected the request to") || !strings.Contains(err.Error(), c.to.Addr()) {
				t.Fatalf("the error does not say where the redirect pointed: %v", err)
			}
			noSecret(t, "the error", err.Error())
			oneErrorPrefix(t, err)
			t.Log(err)
			if c.scheme == "http" || c.scheme == "https" {
				// A streamed read goes to /v3/cursor: refused the same way.
				if _, err := drv.DB().QueryContext(ctx, "SELECT * FROM t"); err == nil || !strings.Contains(err.Error(), "redirected") {
					t.Fatalf("a cursor request: %v", err)
				}
			}
			if got := c.to.Requests()[before:]; len(got) != 0 {
				t.Fatalf("the redirect's target received %d requests (the first with Authorization %q)", len(got), got[0].Authorization)
			}
		})
	}
}

// A redirect within the same origin (307 or 308) is followed, with the
// token; one that would turn the POST into a GET is not.
func TestRedirectsWithinTheOrigin(t *testing.T) {
	var srv *sqldtest.Fake
	srv = fake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/moved/"):
			answer(w, 200, executeOK("b"))
		case strings.HasPrefix(r.URL.Path, "/see/"):
			answer(w, 405, `{"error":"method not allowed"}`)
		case r.URL.Query().Get("x") == "" && strings.HasPrefix(r.URL.Path, "/get/"):
			http.Redirect(w, r, "/see"+strings.TrimPrefix(r.URL.Path, "/get"), http.StatusFound)
		default:
			http.Redirect(w, r, "/moved"+r.URL.Path, http.StatusTemporaryRedirect)
		}
	}))
	drv := fakeDriver(t, srv.URL())
	if _, err := drv.DB().ExecContext(context.Background(), "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatalf("a same-origin 307: %v", err)
	}
	var moved int
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/moved/") {
			moved++
			if r.Authorization != "Bearer "+fakeToken || !strings.Contains(string(r.Body), "INSERT") {
				t.Fatalf("the followed request lost its token or body: %q %q", r.Authorization, r.Body)
			}
		}
	}
	if moved != 1 {
		t.Fatalf("%d requests at the redirect's target, want 1", moved)
	}
	get := fakeDriver(t, srv.URL()+"/get")
	_, err := get.DB().ExecContext(context.Background(), "INSERT INTO t VALUES (1)")
	if err == nil || !strings.Contains(err.Error(), "redirected") {
		t.Fatalf("a 302 of a POST: %v", err)
	}
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/see/") {
			t.Fatal("a 302 turned the POST into a GET")
		}
	}
}
