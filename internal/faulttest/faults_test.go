package faulttest_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// opsPerFault is the workload under each fault; -short (the race run in
// CI) trims it.
func opsPerFault() int {
	if testing.Short() {
		return 200
	}
	return 1000
}

const (
	workers    = 4
	faultRate  = 0.02                  // of requests (HTTP) or messages (WebSocket)
	concurrent = 6                     // scenarios at once: most of their time is waiting
	backoff    = 50 * time.Millisecond // after an error
)

// env is where a workload runs and what breaks under it.
type env struct {
	url     string // the driver's URL (through the fault)
	check   string // a direct URL to verify the data
	token   string // the auth token; must never show in an error
	proxy   *sqldtest.FaultProxy
	during  func(op int)                                       // called before each operation: kills, restarts
	end     func()                                             // ends the fault
	opCtx   func(op int) time.Duration                         // a per-operation deadline, 0 for none
	stop    func()                                             // stops the servers
	sidecar func(db *sql.DB) (checks int, violations []string) // runs alongside the workload
}

// result is what a workload saw and what the data says afterwards.
type result struct {
	name       string
	ops        int
	errs       int
	injected   int64
	lost       int // acknowledged writes missing (autocommit keys and committed transactions)
	dups       int // keys present more than once
	partial    int // transactions neither whole nor absent
	badReads   int // reads of an acknowledged write that did not see it once
	leakTokens int // errors showing the token
	recovery   []string
	violations []string
	samples    map[string]int
	took       time.Duration
	setupErr   error
}

type scenario struct {
	name  string
	setup func() (*env, error)
}

// TestFaults runs the workload under every fault, several scenarios at
// a time (each with servers of its own, so a fault's stall in one does
// not slow another), then checks the invariants and that no goroutine
// outlived the drivers.
func TestFaults(t *testing.T) {
	key, err := sqldtest.NewJWTKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	jwtKey = key
	base := runtime.NumGoroutine()
	ops := opsPerFault()
	var scenarios []scenario
	for _, ws := range []bool{false, true} {
		tr := "http"
		if ws {
			tr = "ws"
		}
		for _, f := range []sqldtest.Fault{
			sqldtest.DropBeforeServer, sqldtest.DropAfterServer, sqldtest.DropMidResponse,
			sqldtest.Answer502, sqldtest.Answer503, sqldtest.TruncateBody, sqldtest.CorruptBody,
		} {
			scenarios = append(scenarios, scenario{tr + "/" + f.String(), proxiedEnv(f, ws, false)})
		}
		scenarios = append(scenarios,
			scenario{tr + "/delay+deadlines", proxiedEnv(sqldtest.NoFault, ws, true)},
			scenario{tr + "/sigkill+restart", killEnv(ws, ops)},
			scenario{tr + "/idle-transaction", idleTxEnv(ws)},
		)
	}
	scenarios = append(scenarios, scenario{"http/replica-disappears", replicaEnv(ops)})

	if only := os.Getenv("FAULTTEST_ONLY"); only != "" { // for debugging one scenario
		scenarios = slices.DeleteFunc(scenarios, func(sc scenario) bool { return !strings.Contains(sc.name, only) })
	}
	results := make([]*result, len(scenarios))
	sem := make(chan struct{}, concurrent)
	var wg sync.WaitGroup
	for i, sc := range scenarios {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = runScenario(sc, ops)
		}()
	}
	wg.Wait()

	t.Logf("%d operations per fault, %d workers, fault rate %.0f%%", ops, workers, faultRate*100)
	t.Logf("%-28s %6s %6s %8s %5s %5s %7s %9s %7s", "fault", "ops", "errors", "injected", "lost", "dups", "partial", "bad reads", "took")
	for _, r := range results {
		t.Logf("%-28s %6d %6d %8d %5d %5d %7d %9d %7s", r.name, r.ops, r.errs, r.injected, r.lost, r.dups, r.partial, r.badReads, r.took.Round(100*time.Millisecond))
	}
	for _, r := range results {
		t.Run(r.name, func(t *testing.T) {
			if r.setupErr != nil {
				t.Fatal(r.setupErr)
			}
			for msg, n := range r.samples {
				t.Logf("error ×%d: %s", n, msg)
			}
			if r.ops < ops {
				t.Errorf("ran %d operations, want %d", r.ops, ops)
			}
			if r.lost+r.dups+r.partial+r.badReads+r.leakTokens > 0 {
				t.Errorf("lost %d, duplicated %d, partial transactions %d, bad reads %d, errors showing the token %d",
					r.lost, r.dups, r.partial, r.badReads, r.leakTokens)
			}
			for _, v := range r.violations {
				t.Error(v)
			}
			for _, e := range r.recovery {
				t.Errorf("after the fault ended: %s", e)
			}
		})
	}
	checkGoroutines(t, base)
}

// runScenario sets up, runs the workload, ends the fault, checks that the
// driver works again and verifies the data.
func runScenario(sc scenario, ops int) *result {
	r := &result{name: sc.name, samples: map[string]int{}}
	e, err := sc.setup()
	if err != nil {
		r.setupErr = err
		return r
	}
	defer e.stop()
	start := time.Now()
	defer func() { r.took = time.Since(start) }()

	check, err := libsql.Open(e.check + tokenParam(e.token))
	if err != nil {
		r.setupErr = err
		return r
	}
	defer check.Close()
	cdb := check.DB()
	ctx := context.Background()
	if _, err := cdb.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS w (k TEXT NOT NULL, tx INTEGER)"); err != nil {
		r.setupErr = err
		return r
	}
	if _, err := cdb.ExecContext(ctx, "CREATE INDEX IF NOT EXISTS w_k ON w (k)"); err != nil {
		r.setupErr = err
		return r
	}

	drv, err := libsql.Open(e.url + tokenParam(e.token))
	if err != nil {
		r.setupErr = err
		return r
	}
	db := drv.DB()
	w := &workload{db: db, acked: map[string]bool{}, committed: map[int]bool{}, attempted: map[int]bool{}}

	var sideDone chan struct{}
	var sideViolations []string
	stopSide := make(chan struct{})
	if e.sidecar != nil {
		sideDone = make(chan struct{})
		go func() {
			defer close(sideDone)
			for {
				select {
				case <-stopSide:
					return
				default:
				}
				_, v := e.sidecar(db)
				sideViolations = append(sideViolations, v...)
			}
		}()
	}

	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= ops {
					return
				}
				if e.during != nil {
					e.during(i)
				}
				octx, cancel := context.WithTimeout(ctx, 2*time.Minute) // a safety net; the driver's own bounds come first
				if e.opCtx != nil {
					if d := e.opCtx(i); d > 0 {
						cancel()
						octx, cancel = context.WithTimeout(ctx, d)
					}
				}
				began := time.Now()
				err := w.op(octx, i)
				took := time.Since(began)
				cancel()
				mu.Lock()
				r.ops++
				if took > time.Minute {
					r.violations = append(r.violations, fmt.Sprintf("operation %d hung for %v: %v", i, took.Round(time.Second), err))
				}
				if err != nil {
					r.errs++
					msg := err.Error()
					if e.token != "" && strings.Contains(msg, e.token) {
						r.leakTokens++
						msg = "(shows the token)"
					}
					var bad *badRead
					if errors.As(err, &bad) {
						r.badReads++
					}
					r.samples[sample(msg)]++
				}
				mu.Unlock()
				if err != nil {
					// As an application would, rather than spin through
					// the workload while the server is away.
					time.Sleep(backoff)
				}
			}
		}()
	}
	wg.Wait()
	if e.sidecar != nil {
		close(stopSide)
		<-sideDone
		r.violations = append(r.violations, sideViolations...)
	}
	if e.proxy != nil {
		r.injected = e.proxy.Injected()
	}
	if e.end != nil {
		e.end()
	}

	// The driver works again: every operation succeeds.
	for i := ops; i < ops+60; i++ {
		octx, cancel := context.WithTimeout(ctx, time.Minute)
		err := w.op(octx, i)
		cancel()
		if err != nil {
			r.recovery = append(r.recovery, fmt.Sprintf("operation %d: %v", i, err))
		}
	}
	drv.Close()
	if e.proxy != nil {
		e.proxy.Close()
	}
	w.verify(ctx, cdb, r)
	return r
}

func tokenParam(tok string) string {
	if tok == "" {
		return ""
	}
	return "?authToken=" + tok
}

// sample shortens an error message for the table of errors: numbers
// (ports, request ids, op keys) would make every message unique.
func sample(msg string) string {
	var b strings.Builder
	digits := false
	for _, r := range msg {
		if r >= '0' && r <= '9' {
			if !digits {
				b.WriteByte('N')
			}
			digits = true
			continue
		}
		digits = false
		b.WriteRune(r)
	}
	s := b.String()
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// workload runs operations with unique keys and remembers which were
// acknowledged.
type workload struct {
	db        *sql.DB
	mu        sync.Mutex
	acked     map[string]bool
	ackedList []string
	committed map[int]bool
	attempted map[int]bool
}

type badRead struct {
	key string
	n   int
}

func (e *badRead) Error() string {
	return fmt.Sprintf("a read of acknowledged write %s saw it %d times", e.key, e.n)
}

// op runs operation i: one in twenty a transaction of three inserts, seven
// a read of an acknowledged write (through a cursor or whole), the rest an
// autocommit insert.
func (w *workload) op(ctx context.Context, i int) error {
	switch k := i % 20; {
	case k == 19:
		w.mu.Lock()
		w.attempted[i] = true
		w.mu.Unlock()
		tx, err := w.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for j := 0; j < 3; j++ {
			if _, err := tx.ExecContext(ctx, "INSERT INTO w (k, tx) VALUES (?, ?)", fmt.Sprintf("t%d-%d", i, j), i); err != nil {
				tx.Rollback()
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		w.mu.Lock()
		w.committed[i] = true
		w.mu.Unlock()
		return nil
	case k >= 12:
		w.mu.Lock()
		key := ""
		if n := len(w.ackedList); n > 0 {
			key = w.ackedList[rand.IntN(n)]
		}
		w.mu.Unlock()
		q := "SELECT count(*) FROM w WHERE k = ?" // streams through a cursor
		if k%2 == 0 {
			q += " LIMIT 1" // comes whole
		}
		var n int
		if err := w.db.QueryRowContext(ctx, q, key).Scan(&n); err != nil {
			return err
		}
		if key != "" && n != 1 {
			return &badRead{key, n}
		}
		return nil
	default:
		key := fmt.Sprintf("a%d", i)
		if _, err := w.db.ExecContext(ctx, "INSERT INTO w (k) VALUES (?)", key); err != nil {
			return err
		}
		w.mu.Lock()
		w.acked[key] = true
		w.ackedList = append(w.ackedList, key)
		w.mu.Unlock()
		return nil
	}
}

// verify reads the table back on a direct connection.
func (w *workload) verify(ctx context.Context, db *sql.DB, r *result) {
	rows, err := db.QueryContext(ctx, "SELECT k, tx, count(*) FROM w GROUP BY k")
	if err != nil {
		r.violations = append(r.violations, "verify: "+err.Error())
		return
	}
	defer rows.Close()
	present := map[string]int{}
	perTx := map[int]int{}
	for rows.Next() {
		var k string
		var tx sql.NullInt64
		var n int
		if err := rows.Scan(&k, &tx, &n); err != nil {
			r.violations = append(r.violations, "verify: "+err.Error())
			return
		}
		present[k] = n
		if n > 1 {
			r.dups++
		}
		if tx.Valid {
			perTx[int(tx.Int64)]++
		}
	}
	if err := rows.Err(); err != nil {
		r.violations = append(r.violations, "verify: "+err.Error())
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for k := range w.acked {
		if present[k] == 0 {
			r.lost++
		}
	}
	for id := range w.attempted {
		switch n := perTx[id]; {
		case n != 0 && n != 3:
			r.partial++
		case n == 0 && w.committed[id]:
			r.lost++
		}
	}
	for id := range perTx {
		if !w.attempted[id] {
			r.violations = append(r.violations, fmt.Sprintf("rows of transaction %d, never run", id))
		}
	}
}

// jwtKey signs the tokens of the scenarios' servers; set by TestFaults.
var jwtKey *sqldtest.JWTKey

// jwtServer starts a sqld that requires a token, and returns a token.
// It runs libsql-wal: sqld 0.24.32's default WAL can wedge under
// concurrent writers (see the README), which would hang a workload
// whatever the driver does.
func jwtServer(args ...string) (*sqldtest.Server, string, error) {
	return jwtServerWAL(true, args...)
}

// jwtServerWAL is jwtServer with the default WAL unless libsqlWAL: the
// idle-transaction scenarios test how sqld's default gives up on an idle
// transaction's write lock (libsql-wal does not, so its writers queue).
func jwtServerWAL(libsqlWAL bool, args ...string) (*sqldtest.Server, string, error) {
	key := jwtKey
	args = append(key.Args(), args...)
	if libsqlWAL {
		args = append(args, "--use-custom-wal", "libsql-wal")
	}
	srv, err := sqldtest.Start(context.Background(), sqldtest.Options{Args: args})
	if err != nil {
		return nil, "", err
	}
	return srv, key.Token(map[string]any{"a": "rw"}), nil
}

func wsURL(u string) string { return "ws" + strings.TrimPrefix(u, "http") }

func transport(u string, ws bool) string {
	if ws {
		return wsURL(u)
	}
	return u
}

// proxiedEnv puts a fault proxy in front of an authenticated sqld. With
// deadlines, the proxy delays every request and one operation in ten has
// a deadline that often expires mid-flight.
func proxiedEnv(f sqldtest.Fault, ws, deadlines bool) func() (*env, error) {
	return func() (*env, error) {
		srv, token, err := jwtServer()
		if err != nil {
			return nil, err
		}
		p, err := sqldtest.NewFaultProxy(srv.URL())
		if err != nil {
			srv.Stop()
			return nil, err
		}
		e := &env{
			url:   transport(p.URL(), ws),
			check: srv.URL(),
			token: token,
			proxy: p,
			stop:  func() { p.Close(); srv.Stop() },
		}
		if deadlines {
			p.SetDelay(2 * time.Millisecond)
			e.opCtx = func(op int) time.Duration {
				if op%10 == 3 {
					return time.Duration(1+op%5) * time.Millisecond
				}
				return 0
			}
			e.end = func() { p.SetDelay(0) }
			return e, nil
		}
		p.Set(f, faultRate)
		e.end = func() { p.Set(sqldtest.NoFault, 0) }
		return e, nil
	}
}

// killEnv kills sqld with SIGKILL twice mid-workload and restarts it on
// the same data directory and port.
func killEnv(ws bool, ops int) func() (*env, error) {
	return func() (*env, error) {
		srv, token, err := jwtServer()
		if err != nil {
			return nil, err
		}
		var restartErr error
		var mu sync.Mutex
		e := &env{
			url:   transport(srv.URL(), ws),
			check: srv.URL(),
			token: token,
			stop:  func() { srv.Stop() },
		}
		e.during = func(op int) {
			if op != ops/3 && op != 2*ops/3 {
				return
			}
			// In the background, so the other workers run into it.
			go func() {
				mu.Lock()
				defer mu.Unlock()
				srv.Kill()
				time.Sleep(200 * time.Millisecond)
				if err := srv.Restart(context.Background()); err != nil && restartErr == nil {
					restartErr = err
				}
			}()
		}
		e.end = func() {
			mu.Lock() // waits for a restart in progress
			defer mu.Unlock()
			if restartErr != nil {
				panic(restartErr)
			}
		}
		return e, nil
	}
}

// replicaEnv runs the workload through a sqld replica, which is killed
// mid-workload and comes back on its data; the data is verified on the
// primary.
func replicaEnv(ops int) func() (*env, error) {
	return func() (*env, error) {
		grpc, err := sqldtest.FreeAddr()
		if err != nil {
			return nil, err
		}
		primary, err := sqldtest.Start(context.Background(), sqldtest.Options{Args: []string{"--grpc-listen-addr", grpc}})
		if err != nil {
			return nil, err
		}
		replica, err := sqldtest.Start(context.Background(), sqldtest.Options{Args: []string{"--primary-grpc-url", "http://" + grpc}})
		if err != nil {
			primary.Stop()
			return nil, err
		}
		var mu sync.Mutex
		e := &env{
			url:   replica.URL(),
			check: primary.URL(),
			stop:  func() { replica.Stop(); primary.Stop() },
		}
		e.during = func(op int) {
			if op != ops/3 {
				return
			}
			go func() {
				mu.Lock()
				defer mu.Unlock()
				replica.Kill()
				time.Sleep(time.Second) // gone for a while
				replica.Restart(context.Background())
			}()
		}
		e.end = func() { mu.Lock(); mu.Unlock() }
		return e, nil
	}
}

// idleTxEnv runs the workload while a side goroutine leaves transactions
// idle past sqld's limits: about 5 s, after which sqld gives the write
// lock to the next writer and answers TRANSACTION_TIMEOUT, and (over
// HTTP) about 10 s, after which the stream is gone. Each such transaction
// must fail and leave nothing behind, even when the caller goes on after
// the first error.
func idleTxEnv(ws bool) func() (*env, error) {
	return func() (*env, error) {
		srv, token, err := jwtServerWAL(false)
		if err != nil {
			return nil, err
		}
		idle := 6 * time.Second
		if !ws {
			idle = 11 * time.Second
		}
		var n atomic.Int64
		e := &env{
			url:   transport(srv.URL(), ws),
			check: srv.URL(),
			token: token,
			stop:  func() { srv.Stop() },
		}
		e.sidecar = func(db *sql.DB) (int, []string) {
			ctx := context.Background()
			id := n.Add(1)
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return 1, []string{"idle transaction: begin: " + err.Error()}
			}
			key := func(j int) string { return fmt.Sprintf("idle%d-%d", id, j) }
			if _, err := tx.ExecContext(ctx, "INSERT INTO w (k) VALUES (?)", key(0)); err != nil {
				tx.Rollback()
				return 1, []string{"idle transaction: first insert: " + err.Error()}
			}
			time.Sleep(idle)
			var v []string
			err1 := execIgnore(tx, key(1))
			err2 := execIgnore(tx, key(2)) // a caller that goes on after an error
			errC := tx.Commit()
			if err1 == nil || errC == nil {
				v = append(v, fmt.Sprintf("idle transaction: after %v idle: insert %v, commit %v; want errors", idle, err1, errC))
			}
			_ = err2
			var found int
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM w WHERE k LIKE ?", fmt.Sprintf("idle%d-%%", id)).Scan(&found); err != nil {
				v = append(v, "idle transaction: count: "+err.Error())
			} else if found != 0 {
				v = append(v, fmt.Sprintf("idle transaction %d: %d of its rows were applied after it failed", id, found))
			}
			return 1, v
		}
		return e, nil
	}
}

func execIgnore(tx *sql.Tx, key string) error {
	_, err := tx.ExecContext(context.Background(), "INSERT INTO w (k) VALUES (?)", key)
	return err
}

// checkGoroutines fails if goroutines started since base are still
// running once everything is closed, printing their stacks.
func checkGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			t.Logf("goroutines after Close: %d (before: %d)", n, base)
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			stacks := strings.Split(string(buf), "\n\n")
			sort.Strings(stacks)
			t.Fatalf("%d goroutines still running after every driver and server closed (%d before):\n%s", n, base, strings.Join(stacks, "\n\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
