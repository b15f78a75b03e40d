package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/entlibsql/entlibsql/internal/testent/ent"
	"github.com/entlibsql/entlibsql/internal/testent/ent/post"
	"github.com/entlibsql/entlibsql/internal/testent/ent/predicate"
	"github.com/entlibsql/entlibsql/internal/testent/ent/user"
)

// Reads through ent at several sizes: client time, the CPU time sqld
// spends on them (from /proc, Linux only) and peak heap, for each subject.

var readSizes = []int{1, 100, 10_000, 100_000}

type readOp struct {
	name string
	run  func(ctx context.Context, c *ent.Client, n int) (int, error) // rows it read
}

// readOps read n of the bulk rows by an id range (the primary key), so
// that the server's work is the rows, not a scan of the table.
func readOps(e *env) []readOp {
	rng := func(n int) predicate.Post { return post.And(post.IDGTE(e.firstPost), post.IDLT(e.firstPost+n)) }
	return []readOp{
		{"All", func(ctx context.Context, c *ent.Client, n int) (int, error) {
			ps, err := c.Post.Query().Where(rng(n)).All(ctx)
			return len(ps), err
		}},
		{"IDs", func(ctx context.Context, c *ent.Client, n int) (int, error) {
			ids, err := c.Post.Query().Where(rng(n)).IDs(ctx)
			return len(ids), err
		}},
		{"Count", func(ctx context.Context, c *ent.Client, n int) (int, error) {
			return c.Post.Query().Where(rng(n)).Count(ctx)
		}},
		{"WithPosts (eager load)", func(ctx context.Context, c *ent.Client, n int) (int, error) {
			u, err := c.User.Query().Where(user.ID(e.authorID)).
				WithPosts(func(q *ent.PostQuery) { q.Where(rng(n)) }).Only(ctx)
			if err != nil {
				return 0, err
			}
			return len(u.Edges.Posts), nil
		}},
	}
}

type readResult struct {
	op          string
	rows        int
	time, sqld  [2]float64 // per operation, per subject
	alloc       [2]float64 // bytes allocated per operation
	heap        [2]uint64  // peak heap of one operation (0: too short to sample)
	sqldMeasure bool
}

// reads measures every op at every size for both subjects, rounds times
// interleaved, keeping each subject's best round (the machine is shared).
func reads(ctx context.Context, e *env, subs []*subject, rounds int) ([]readResult, error) {
	pid := e.srv.PID()
	_, sqldOK := processCPU(pid)
	var out []readResult
	for _, n := range readSizes {
		if n > e.rows {
			continue
		}
		for _, op := range readOps(e) {
			res := readResult{op: op.name, rows: n, sqldMeasure: sqldOK}
			reps := max(1, min(200, 20_000/n))
			if op.name == "Count" {
				reps = 200 // one row whatever n: below /proc's 10 ms resolution otherwise
			}
			for r := 0; r < rounds; r++ {
				for i, s := range subs {
					var m0, m1 runtime.MemStats
					runtime.ReadMemStats(&m0)
					cpu0, _ := processCPU(pid)
					start := time.Now()
					for k := 0; k < reps; k++ {
						got, err := op.run(ctx, s.client, n)
						if err != nil {
							return nil, fmt.Errorf("%s of %d rows, %s: %w", op.name, n, s.name, err)
						}
						if got != n {
							return nil, fmt.Errorf("%s of %d rows, %s: read %d", op.name, n, s.name, got)
						}
					}
					d := float64(time.Since(start)) / float64(reps)
					cpu1, _ := processCPU(pid)
					runtime.ReadMemStats(&m1)
					c := float64(cpu1-cpu0) / float64(reps)
					a := float64(m1.TotalAlloc-m0.TotalAlloc) / float64(reps)
					if r == 0 || a < res.alloc[i] {
						res.alloc[i] = a
					}
					if r == 0 || d < res.time[i] {
						res.time[i] = d
					}
					if r == 0 || c < res.sqld[i] {
						res.sqld[i] = c
					}
				}
			}
			if n >= 10_000 {
				// A read long enough for the sampler (every 2 ms) to see
				// its peak.
				for i, s := range subs {
					old := debug.SetGCPercent(heapGCPercent)
					h, err := peakHeap(func() error { _, err := op.run(ctx, s.client, n); return err })
					debug.SetGCPercent(old)
					if err != nil {
						return nil, err
					}
					res.heap[i] = h
				}
			}
			out = append(out, res)
		}
	}
	return out, nil
}

func printReads(rs []readResult, rounds int) {
	fmt.Printf("\nReads through ent of n rows by an id range, per read, best of %d rounds: time; sqld's CPU time (from /proc); "+
		"bytes allocated; peak heap at GOGC=%d (reads of 10,000 rows and more: shorter ones end between two samples)\n\n", rounds, heapGCPercent)
	fmt.Println("| read | rows | entlibsql | libsql-client-go | ratio | sqld CPU, entlibsql | sqld CPU, libsql-client-go | ratio | allocated, entlibsql | allocated, libsql-client-go | ratio | peak heap, entlibsql | peak heap, libsql-client-go | ratio |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		cpu := "— | — | —"
		if r.sqldMeasure {
			cpu = fmt.Sprintf("%s | %s | %s", formatDuration(r.sqld[0]), formatDuration(r.sqld[1]), ratio(r.sqld[0], r.sqld[1]))
		}
		heap := "— | — | —"
		if r.heap[0] > 0 {
			heap = fmt.Sprintf("%s | %s | %s", kib(r.heap[0]), kib(r.heap[1]), ratio(float64(r.heap[0]), float64(r.heap[1])))
		}
		fmt.Printf("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.op, r.rows,
			formatDuration(r.time[0]), formatDuration(r.time[1]), ratio(r.time[0], r.time[1]), cpu,
			kib(uint64(r.alloc[0])), kib(uint64(r.alloc[1])), ratio(r.alloc[0], r.alloc[1]), heap)
	}
}

func ratio(a, b float64) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func kib(b uint64) string {
	if b >= 1<<20 {
		return mib(b)
	}
	return fmt.Sprintf("%.0f KiB", float64(b)/1024)
}

// processCPU is a process's user and system CPU time, from /proc.
func processCPU(pid int) (time.Duration, bool) {
	if runtime.GOOS != "linux" {
		return 0, false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	k, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const clockTick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	return time.Duration(u+k) * clockTick, true
}
