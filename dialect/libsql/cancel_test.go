package libsql_test

import (
	"context"

	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// Issue 14, points 8 and 9: one caller's cancellation never breaks
// another's work, and a cancelled statement never leaves SQLite's write
// lock held.

// isCtxErr reports whether err is a context's own error.
func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Point 8: over one WebSocket, callers cancelling at random (deadlines up
// to 20 ms) fail with their context's error only; a transaction that
// was never cancelled survives every round. Over HTTP too.
func TestCancellationIsolation(t *testing.T) {
	onFreshServer(t, func(t *testing.T, url string) {
		db := openDriver(t, url).DB()
		tbl := scratchTable(t, db, "k TEXT")
		rounds, workers, each := 10, 8, 50
		if testing.Short() {
			rounds = 3 // the race run
		}
		var ops, cancelled, overloaded, failed atomic.Int64
		var firstFailure atomic.Value
		for round := 0; round < rounds; round++ {
			ctx := context.Background()
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO "+tbl+" VALUES (?)", fmt.Sprintf("tx-%d-a", round)); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := 0; i < each; i++ {
						ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.N(20000))*time.Microsecond)
						var err error
						if i%2 == 0 {
							var n int
							err = db.QueryRowContext(ctx, "SELECT ?", i).Scan(&n)
						} else {
							_, err = db.ExecContext(ctx, "SELECT ?", i)
						}
						cancel()
						ops.Add(1)
						switch {
						case err == nil:
						case isCtxErr(err):
							cancelled.Add(1)
						case strings.Contains(err.Error(), "[HTTP 429]"):
							// The server's own limit on requests in flight,
							// which a storm of cut requests can reach: the
							// server refused, nothing broke.
							overloaded.Add(1)
						default:
							failed.Add(1)
							firstFailure.CompareAndSwap(nil, err.Error())
						}
					}
				}(w)
			}
			wg.Wait()
			if _, err := tx.ExecContext(ctx, "INSERT INTO "+tbl+" VALUES (?)", fmt.Sprintf("tx-%d-b", round)); err != nil {
				t.Fatalf("round %d: the transaction nobody cancelled broke: %v", round, err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatalf("round %d: commit: %v", round, err)
			}
		}
		var n int
		if err := db.QueryRowContext(context.Background(), "SELECT count(*) FROM "+tbl).Scan(&n); err != nil || n != 2*rounds {
			t.Fatalf("%d rows of %d transactions (%v)", n, rounds, err)
		}
		t.Logf("%d operations, %d cancelled, %d refused by an overloaded server, %d failed otherwise; %d of %d transactions survived", ops.Load(), cancelled.Load(), overloaded.Load(), failed.Load(), rounds, rounds)
		if failed.Load() != 0 {
			t.Fatalf("%d operations failed with something other than their context's error, first: %v", failed.Load(), firstFailure.Load())
		}
	})
}

// Point 9: the cancel lands after sqld ran the statement and before its
// answer arrived (a front holds the answer). Rollback returns at once, and
// the server stream is closed with the baton that answer carries as soon
// as it arrives: the next writer gets the lock, rather than waiting for
// sqld to give up on the transaction after 5 s.
func TestCancelledStatementReleasesTheWriteLock(t *testing.T) {
	direct := openDriver(t, "").DB()
	tbl := scratchTable(t, direct, "k TEXT")
	target, _ := url.Parse(serverURL())
	rp := httputil.NewSingleHostReverseProxy(target)
	ran := make(chan struct{})
	hold := make(chan struct{})
	var once sync.Once
	rp.ModifyResponse = func(r *http.Response) error {
		if r.Request.Header.Get("X-Held") != "" {
			once.Do(func() { close(ran) })
			<-hold
		}
		return nil
	}
	front := fake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, r.ContentLength)
		r.Body.Read(body)
		if strings.Contains(string(body), "'held'") {
			r.Header.Set("X-Held", "1")
		}
		r.Body = &readerCloser{strings.NewReader(string(body))}
		rp.ServeHTTP(w, r)
	}))
	db := openDriver(t, front.URL()).DB()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO "+tbl+" VALUES ('first')"); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := tx.ExecContext(cctx, "INSERT INTO "+tbl+" VALUES ('held')")
		done <- err
	}()
	select {
	case <-ran:
	case <-time.After(30 * time.Second):
		t.Fatal("the statement never reached the server")
	}
	cancel() // sqld ran it; its answer is held
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	close(hold) // the answer goes on to the client's background
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 4*time.Second) // sqld would hold the lock 5 s
	defer wcancel()
	start := time.Now()
	if _, err := direct.ExecContext(wctx, "INSERT INTO "+tbl+" VALUES ('next writer')"); err != nil {
		t.Fatalf("the next writer: %v", err)
	}
	t.Logf("the next writer got the lock after %v", time.Since(start))
	var rows []string
	r, err := direct.QueryContext(ctx, "SELECT k FROM "+tbl+" ORDER BY k")
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var k string
		r.Scan(&k)
		rows = append(rows, k)
	}
	if strings.Join(rows, ",") != "next writer" {
		t.Fatalf("rows %v: the cancelled transaction was not rolled back", rows)
	}
}

// The same race, left to chance, over both transports: statements in a
// transaction cancelled at random points, then Rollback; the next writer
// never waits for sqld's 5 s.
func TestCancelledStatementsNeverHoldTheLock(t *testing.T) {
	onFreshServer(t, func(t *testing.T, url string) {
		db := openDriver(t, url).DB()
		tbl := scratchTable(t, db, "k TEXT")
		other := openDriver(t, strings.Replace(url, "ws://", "http://", 1)).DB()
		ctx := context.Background()
		for i := 0; i < 20; i++ {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO "+tbl+" VALUES ('tx')"); err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithTimeout(ctx, time.Duration(rand.N(2000))*time.Microsecond)
			_, err = tx.ExecContext(cctx, "INSERT INTO "+tbl+" VALUES ('cancelled')")
			cancel()
			if err != nil && !isCtxErr(err) {
				t.Fatal(err)
			}
			tx.Rollback()
			wctx, wcancel := context.WithTimeout(ctx, 4*time.Second)
			_, err = other.ExecContext(wctx, "INSERT INTO "+tbl+" VALUES ('other')")
			wcancel()
			if err != nil {
				t.Fatalf("round %d: the next writer: %v", i, err)
			}
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+tbl+" WHERE k <> 'other'").Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d rows of rolled back transactions (%v)", n, err)
		}
	})
}

type readerCloser struct{ *strings.Reader }

func (readerCloser) Close() error { return nil }

// onFreshServer runs f over HTTP and over WebSocket, each on a sqld of its
// own: a storm of cancelled requests leaves streams that sqld keeps for
// 10 s, and they would count against the next test's connections.
func onFreshServer(t *testing.T, f func(t *testing.T, url string)) {
	for _, ws := range []bool{false, true} {
		name := "http"
		if ws {
			name = "ws"
		}
		t.Run(name, func(t *testing.T) {
			url := serverURL()
			if !sqldtest.External() {
				srv, err := sqldtest.Start(context.Background(), sqldtest.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { srv.Stop() })
				url = srv.URL()
			}
			if ws {
				url = wsURL(url)
			}
			f(t, url)
		})
	}
}
