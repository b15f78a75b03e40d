package main

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/internal/testent/ent"
	"github.com/entlibsql/entlibsql/internal/testent/ent/post"
	"github.com/entlibsql/entlibsql/internal/testent/ent/user"
)

// env is what the measurements share: the server, a user to read, the
// author of the bulk rows, and a proxy that delays every request.
type env struct {
	srv       *sqldtest.Server
	userID    int
	authorID  int
	firstPost int // the id of the first of the rows to read
	rows      int
	proxy     *sqldtest.Proxy
	proxied   map[string]*ent.Client // per subject, through the proxy
}

func newEnv(ctx context.Context, srv *sqldtest.Server, c *ent.Client, rows int) (*env, error) {
	u, err := c.User.Create().SetName(fmt.Sprintf("bench-%d", time.Now().UnixNano())).SetAge(1).Save(ctx)
	if err != nil {
		return nil, err
	}
	// The rows to read, written in one statement.
	q := fmt.Sprintf(`WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT %d)
		INSERT INTO posts (title, body, published, views, user_posts)
		SELECT 'post ' || x, 'a body of some length for post number ' || x, x %% 2, x, ? FROM n`, rows)
	if _, err := c.ExecContext(ctx, q, u.ID); err != nil {
		return nil, err
	}
	first, err := c.Post.Query().Where(post.Title("post 1"), post.HasAuthorWith(user.ID(u.ID))).OnlyID(ctx)
	if err != nil {
		return nil, err
	}
	p, err := sqldtest.NewProxy(srv.URL())
	if err != nil {
		return nil, err
	}
	p.SetDelay(5 * time.Millisecond)
	e := &env{srv: srv, userID: u.ID, authorID: u.ID, firstPost: first, rows: rows, proxy: p, proxied: map[string]*ent.Client{}}
	for _, s := range subjects() {
		drv, err := s.open(p.URL())
		if err != nil {
			return nil, err
		}
		e.proxied[s.name] = ent.NewClient(ent.Driver(drv))
	}
	return e, nil
}

func (e *env) close() {
	for _, c := range e.proxied {
		c.Close()
	}
	e.proxy.Close()
}

// measurement is one line of the table.
type measurement struct {
	name       string
	target     string // as a ratio to the baseline
	heap       bool   // also report peak heap
	heapTarget string
	throughput bool // value is per second: higher is better
	requests   bool // also report HTTP requests per operation
	format     func(float64) string
	run        func(ctx context.Context, s *subject) (result, error)
	// reference, when set, measures what the subjects are held against
	// (the server's own limit, the bare round trips) in every round, right
	// before them; describeRef says how entlibsql compares, from the
	// values of each round.
	reference   func(ctx context.Context) (float64, error)
	describeRef func(refs, ours []float64) string
}

func measurements(e *env) []measurement {
	const gets = 300
	return []measurement{
		{name: "sequential Get, per op", target: "≤ 0.6×", format: formatDuration,
			run: func(ctx context.Context, s *subject) (result, error) {
				start := time.Now()
				for i := 0; i < gets; i++ {
					if _, err := s.client.User.Get(ctx, e.userID); err != nil {
						return result{}, err
					}
				}
				return result{value: float64(time.Since(start)) / gets}, nil
			}},
		{name: "Get throughput, 32 goroutines, per s", target: "≥ 1.5×", throughput: true,
			format: func(v float64) string { return fmt.Sprintf("%.0f", v) },
			run: func(ctx context.Context, s *subject) (result, error) {
				return throughput(ctx, 32, 2*time.Second, func(ctx context.Context) error {
					_, err := s.client.User.Get(ctx, e.userID)
					return err
				})
			},
			reference: func(ctx context.Context) (float64, error) { return serverLimit(ctx, e.srv.URL(), e.userID) },
			describeRef: func(limits, ours []float64) string {
				f := perRound(limits, ours, func(limit, ours float64) float64 { return ours / limit })
				return fmt.Sprintf("server limit (a bare loop posting the same Get request, 32 goroutines): %.0f req/s (median); "+
					"entlibsql reaches %.2f of it (median of the rounds' fractions, %.2f–%.2f; target ≥ 0.8)",
					median(limits), median(f), slices.Min(f), slices.Max(f))
			}},
		{name: "3-insert transaction, 5 ms per request", target: "≤ 23 ms", format: formatDuration,
			run: func(ctx context.Context, s *subject) (result, error) {
				c := e.proxied[s.name]
				const n = 10
				before := e.proxy.Requests()
				start := time.Now()
				for i := 0; i < n; i++ {
					tx, err := c.Tx(ctx)
					if err != nil {
						return result{}, err
					}
					for j := 0; j < 3; j++ {
						if err := tx.Post.Create().SetTitle("tx").SetAuthorID(e.authorID).Exec(ctx); err != nil {
							tx.Rollback()
							return result{}, err
						}
					}
					if err := tx.Commit(); err != nil {
						return result{}, err
					}
				}
				d := time.Since(start)
				return result{value: float64(d) / n, requests: float64(e.proxy.Requests()-before) / n}, nil
			},
			requests: true,
			reference: func(ctx context.Context) (float64, error) {
				return bareTransaction(ctx, e.proxy.URL(), e.authorID)
			},
			describeRef: func(bare, ours []float64) string {
				d := perRound(bare, ours, func(bare, ours float64) float64 { return ours - bare })
				return fmt.Sprintf("3-insert transaction: the same 4 requests posted bare, one after another, through the same proxy "+
					"take %s (median); entlibsql takes %s (median), a difference of %+.1f ms (median over the rounds)",
					formatDuration(median(bare)), formatDuration(median(ours)), median(d)/1e6)
			}},
		// SQLite takes at most 32,766 variables in a statement, so ent's
		// CreateBulk of 10,000 posts (5 columns each) goes in chunks.
		{name: "CreateBulk of 10,000 rows (chunks of 1,000)", target: "—", format: formatDuration,
			run: func(ctx context.Context, s *subject) (result, error) {
				const total, chunk = 10_000, 1_000
				start := time.Now()
				for done := 0; done < total; done += chunk {
					bulk := make([]*ent.PostCreate, chunk)
					for i := range bulk {
						bulk[i] = s.client.Post.Create().SetTitle("bulk").SetViews(done + i).SetAuthorID(e.authorID)
					}
					if err := s.client.Post.CreateBulk(bulk...).Exec(ctx); err != nil {
						return result{}, err
					}
				}
				d := time.Since(start)
				_, err := s.client.Post.Delete().Where(post.Title("bulk")).Exec(ctx)
				return result{value: float64(d)}, err
			}},
		{name: fmt.Sprintf("iterate %d rows with rows.Next", e.rows), target: "≤ 1×", heap: true, heapTarget: "≤ 0.1×", format: formatDuration,
			run: func(ctx context.Context, s *subject) (result, error) {
				return timeAndPeakHeap(func() error {
					rows, err := s.drv.DB().QueryContext(ctx, "SELECT id, title, body, views FROM posts WHERE user_posts = ?", e.authorID)
					if err != nil {
						return err
					}
					defer rows.Close()
					var (
						id, views int
						title     string
						body      sql.NullString
						n         int
					)
					for rows.Next() {
						if err := rows.Scan(&id, &title, &body, &views); err != nil {
							return err
						}
						n++
					}
					if n < e.rows {
						return fmt.Errorf("read %d rows, want %d", n, e.rows)
					}
					return rows.Err()
				})
			}},
		{name: fmt.Sprintf("load %d rows with ent's All", e.rows), target: "—", heap: true, heapTarget: "≤ 1×", format: formatDuration,
			run: func(ctx context.Context, s *subject) (result, error) {
				return timeAndPeakHeap(func() error {
					posts, err := s.client.Post.Query().Where(post.HasAuthorWith()).All(ctx)
					if err == nil && len(posts) < e.rows {
						err = fmt.Errorf("loaded %d rows, want %d", len(posts), e.rows)
					}
					return err
				})
			}},
		{name: "client CPU per Get", target: "≤ 0.5×", format: formatDuration,
			run: func(ctx context.Context, s *subject) (result, error) {
				before := cpuTime()
				for i := 0; i < gets; i++ {
					if _, err := s.client.User.Get(ctx, e.userID); err != nil {
						return result{}, err
					}
				}
				time.Sleep(50 * time.Millisecond) // let asynchronous work (libsql-client-go's closes) finish
				return result{value: float64(cpuTime()-before) / gets}, nil
			}},
	}
}

// throughput runs f from n goroutines for d and returns calls per second.
func throughput(ctx context.Context, n int, d time.Duration, f func(context.Context) error) (result, error) {
	var (
		count    atomic.Int64
		wg       sync.WaitGroup
		firstErr error
		once     sync.Once
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := f(ctx); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	return result{value: float64(count.Load()) / time.Since(start).Seconds()}, firstErr
}

// heapGCPercent is the collector's GOGC while peak heap is sampled. At the
// default 100 the heap of a streaming reader is the collector's 4 MiB
// floor, whatever it keeps live; at 10 the floor is 0.4 MiB and the peak
// follows live memory, for both drivers alike.
const heapGCPercent = 10

// timeAndPeakHeap runs f twice: timed, with the collector as configured,
// then with the collector at heapGCPercent while the heap is sampled.
func timeAndPeakHeap(f func() error) (result, error) {
	runtime.GC()
	start := time.Now()
	if err := f(); err != nil {
		return result{}, err
	}
	d := time.Since(start)
	old := debug.SetGCPercent(heapGCPercent)
	defer debug.SetGCPercent(old)
	heap, err := peakHeap(f)
	return result{value: float64(d), heap: heap}, err
}

// peakHeap samples the heap while f runs and returns its peak above the
// heap before.
func peakHeap(f func() error) (uint64, error) {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base.HeapAlloc && m.HeapAlloc-base.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc - base.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	err := f()
	close(done)
	<-sampled
	return peak.Load(), err
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
