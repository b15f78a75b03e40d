package libsql_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// Issue 14, point 10: several app instances share one server. Each
// driver keeps only a few idle warm streams (and gives them back after a
// second), a WebSocket carries a bounded number of streams, and a 429
// that ran nothing is sent again after a backoff.

// Six drivers taking turns with bursts of 32 concurrent reads against a
// default sqld (128 connections in all): no call fails.
func TestSixInstancesTakingTurns(t *testing.T) {
	if sqldtest.External() {
		t.Log("the measure needs a default sqld of its own; the external server is not used here")
	}
	srv, err := sqldtest.Start(context.Background(), sqldtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	for _, url := range []string{srv.URL(), wsURL(srv.URL())} {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) {
			rounds := 80
			if testing.Short() {
				rounds = 20 // the race run
			}
			calls, failures, first := turns(t, url, rounds)
			t.Logf("%d calls, %d failed (first: %v)", calls, failures, first)
			if failures != 0 {
				t.Fatalf("%d of %d calls failed, first: %v", failures, calls, first)
			}
		})
	}
}

// turns runs rounds bursts of 32 reads, each on the next of six drivers.
func turns(t *testing.T, url string, rounds int) (calls, failures int64, first error) {
	t.Helper()
	var drivers []*libsql.Driver
	for i := 0; i < 6; i++ {
		drivers = append(drivers, openDriver(t, url))
	}
	var nfail, ncalls atomic.Int64
	var firstErr atomic.Value
	for round := 0; round < rounds; round++ {
		db := drivers[round%len(drivers)].DB()
		var wg sync.WaitGroup
		for g := 0; g < 32; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				var n int
				err := db.QueryRowContext(ctx, "SELECT ? + 1", g).Scan(&n)
				ncalls.Add(1)
				if err != nil {
					nfail.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}(g)
		}
		wg.Wait()
	}
	if e, ok := firstErr.Load().(error); ok {
		first = e
	}
	return ncalls.Load(), nfail.Load(), first
}

const overloaded = `{"error":"Timed out while opening database connection"}`

// A 429 that ran nothing goes again after a backoff, and succeeds when
// the server has room again.
func TestOverloadedIsRetriedWithBackoff(t *testing.T) {
	var n atomic.Int64
	srv := fake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 3 {
			answer(w, 429, overloaded)
			return
		}
		(&hranaHTTP{}).ServeHTTP(w, r)
	}))
	if _, err := fakeDriver(t, srv.URL()).DB().ExecContext(context.Background(), "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatalf("after three 429s: %v", err)
	}
	if got := n.Load(); got != 4 {
		t.Fatalf("%d requests, want 4", got)
	}
}

// A server that stays overloaded fails the call within the request
// timeout, with the 429; and a 429 inside a transaction is not resent.
func TestOverloadedGivesUp(t *testing.T) {
	var n atomic.Int64
	srv := fake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		answer(w, 429, overloaded)
	}))
	drv := fakeDriver(t, srv.URL(), libsql.WithRequestTimeout(500*time.Millisecond))
	within(t, 30*time.Second, "an overloaded call", func() {
		_, err := drv.DB().ExecContext(context.Background(), "INSERT INTO t VALUES (1)")
		if err == nil || !strings.Contains(err.Error(), "HTTP 429") || !strings.Contains(err.Error(), "Timed out while opening database connection") {
			t.Errorf("want the 429, got %v", err)
		}
	})
	if n.Load() < 2 {
		t.Fatalf("%d requests: the 429 was not retried", n.Load())
	}
	var inTx atomic.Int64
	srv2 := fake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("X-Nothing"), "x") {
			return
		}
		var buf [1 << 12]byte
		k, _ := r.Body.Read(buf[:])
		if strings.Contains(string(buf[:k]), "'second'") {
			inTx.Add(1)
			answer(w, 429, overloaded)
			return
		}
		r.Body = &readerCloser{strings.NewReader(string(buf[:k]))}
		(&hranaHTTP{}).ServeHTTP(w, r)
	}))
	db := fakeDriver(t, srv2.URL()).DB()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES ('first')"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES ('second')"); err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("a 429 in a transaction: %v", err)
	}
	if inTx.Load() != 1 {
		t.Fatalf("a statement in a transaction was sent %d times", inTx.Load())
	}
	tx.Rollback()
}

// A WebSocket carries at most 64 streams at once: the 65th connection
// waits for one to end instead of asking the server for one too many
// (sqld closes the whole socket then).
func TestWebSocketStreamCap(t *testing.T) {
	var open, peak atomic.Int64
	srv := wsFake(t, hranaWS(func(r sqldtest.WSRequest) ([][]byte, bool) {
		switch r.Type {
		case "open_stream":
			if o := open.Add(1); o > peak.Load() {
				peak.Store(o)
			}
		case "close_stream":
			open.Add(-1)
		}
		return nil, false
	}))
	db := fakeDriver(t, wsOf(srv)).DB()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	release := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	var holding atomic.Int64
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				errs <- err
				return
			}
			if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil {
				errs <- err
				return
			}
			holding.Add(1)
			<-release
			errs <- tx.Commit()
		}()
	}
	for holding.Load() < 64 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // room for any 65th to (wrongly) open
	if h := holding.Load(); h != 64 {
		t.Errorf("%d transactions hold a stream at once, want 64", h)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if p := peak.Load(); p > 64 {
		t.Fatalf("%d streams open on one socket", p)
	}
	t.Logf("at most %d streams open at once", peak.Load())
}
