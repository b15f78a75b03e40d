package libsql_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// selfURLServer starts a sqld that sends selfURL as every answer's
// base_url (sticky sessions, --http-self-url).
func selfURLServer(t *testing.T, selfURL string) *sqldtest.Server {
	t.Helper()
	srv, err := sqldtest.Start(context.Background(), sqldtest.Options{Args: []string{"--http-self-url", selfURL}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	return srv
}

// forwarding is a fake that passes every request on to target, as a
// front of the same server would.
func forwarding(t *testing.T, target string) *sqldtest.Fake {
	t.Helper()
	u, _ := url.Parse(target)
	return fake(t, httputil.NewSingleHostReverseProxy(u))
}

// sixStatements runs what issue 14 measured: six requests, on warm,
// transaction and cursor streams.
func sixStatements(t *testing.T, drv *libsql.Driver) {
	t.Helper()
	ctx := context.Background()
	conn, err := drv.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tbl := "base_url_" + strings.ReplaceAll(time.Now().Format("150405.000000000"), ".", "_")
	for _, q := range []string{
		"CREATE TABLE " + tbl + " (x)",
		"INSERT INTO " + tbl + " VALUES (1)",
		"INSERT INTO " + tbl + " VALUES (2)",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO "+tbl+" VALUES (3)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+tbl).Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d rows, %v", n, err)
	}
}

// Issue 14, point 3: a real sqld started with --http-self-url pointing to
// another origin. The base_url is not followed: no request, and so no
// token, goes there; the statements work at the URL given; one debug
// line says so.
func TestBaseURLToAnotherOriginIsNotFollowed(t *testing.T) {
	sink := fake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { answer(w, 500, `{"error":"wrong place"}`) }))
	for _, self := range []string{sink.URL(), "http://evil.example:80", "https://" + sink.Addr()} {
		t.Run(self, func(t *testing.T) {
			srv := selfURLServer(t, self)
			var logged syncBuffer
			drv := fakeDriver(t, srv.URL(), libsql.WithLogger(slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			sixStatements(t, drv)
			if n := len(sink.Requests()); n != 0 {
				t.Fatalf("%d requests went to the base_url", n)
			}
			out := logged.String()
			if n := strings.Count(out, "not following the server's base_url"); n != 1 {
				t.Fatalf("the refused base_url was logged %d times:\n%s", n, out)
			}
			noSecret(t, "the log", out)
		})
	}
}

// A base_url to a host under the URL's registrable domain (a sibling, as
// a hosted service pins streams to instances) is followed, with the
// token. Names are resolved by the test's own dialer.
func TestBaseURLWithinTheSiteIsFollowed(t *testing.T) {
	srv := selfURLServer(t, "http://node2.example.com")
	node2 := forwarding(t, srv.URL())
	dial := map[string]string{"db.example.com:80": srv.Addr(), "node2.example.com:80": node2.Addr()}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, dial[addr])
	}}}
	drv := fakeDriver(t, "http://db.example.com", libsql.WithHTTPClient(hc))
	sixStatements(t, drv)
	reqs := node2.Requests()
	if len(reqs) == 0 {
		t.Fatal("no request followed the base_url")
	}
	for _, r := range reqs {
		if r.Authorization != "Bearer "+fakeToken {
			t.Fatalf("a request at the base_url without the token: %q", r.Authorization)
		}
	}
	t.Logf("%d of the requests followed the base_url", len(reqs))
}

// WithBaseURLHosts allows another host explicitly.
func TestBaseURLToAnAllowedHost(t *testing.T) {
	var front *sqldtest.Fake
	front = fake(t, nil)
	srv := selfURLServer(t, front.URL())
	u, _ := url.Parse(srv.URL())
	front.SetHandler(httputil.NewSingleHostReverseProxy(u))
	drv := fakeDriver(t, srv.URL(), libsql.WithBaseURLHosts(front.Addr()))
	sixStatements(t, drv)
	if len(front.Requests()) == 0 {
		t.Fatal("no request went to the allowed base_url")
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
