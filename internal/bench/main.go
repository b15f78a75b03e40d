// Command bench measures this driver against ent over libsql-client-go
// (through libsql.OpenDB) on a sqld it starts, interleaving the two in
// rounds so that machine drift touches both alike, and prints a table of
// times and ratios. Run it with:
//
//	go run ./internal/bench [-rounds 3] [-rows 100000] [-cpuprofile file]
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	_ "github.com/tursodatabase/libsql-client-go/libsql" // registers "libsql": the baseline

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/internal/testent/ent"
)

func main() {
	rounds := flag.Int("rounds", 3, "interleaved rounds per measurement")
	rows := flag.Int("rows", 100_000, "rows for the read measurements")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*rounds, *rows); err != nil {
		log.Fatal(err)
	}
}

// subject is one way of running ent on libSQL.
type subject struct {
	name   string
	open   func(url string) (*libsql.Driver, error)
	client *ent.Client
	drv    *libsql.Driver
}

func subjects() []*subject {
	return []*subject{
		{name: "entlibsql", open: func(url string) (*libsql.Driver, error) { return libsql.Open(url) }},
		{name: "libsql-client-go", open: func(url string) (*libsql.Driver, error) {
			db, err := sql.Open("libsql", url)
			if err != nil {
				return nil, err
			}
			return libsql.OpenDB(db), nil
		}},
	}
}

func run(rounds, rows int) error {
	ctx := context.Background()
	srv, err := sqldtest.Start(ctx, sqldtest.Options{})
	if err != nil {
		return err
	}
	defer srv.Stop()
	subs := subjects()
	for _, s := range subs {
		if s.drv, err = s.open(srv.URL()); err != nil {
			return err
		}
		defer s.drv.Close()
		s.client = ent.NewClient(ent.Driver(s.drv))
	}
	if err := subs[0].client.Schema.Create(ctx); err != nil {
		return err
	}
	env, err := newEnv(ctx, srv, subs[0].client, rows)
	if err != nil {
		return err
	}
	defer env.close()

	var table []row
	for _, m := range measurements(env) {
		results := make([]result, len(subs))
		for r := 0; r < rounds; r++ {
			for i, s := range subs {
				res, err := m.run(ctx, s)
				if err != nil {
					if i == 0 {
						return fmt.Errorf("%s, %s: %w", m.name, s.name, err)
					}
					// The baseline failing is a result too.
					res = result{failed: firstLine(err.Error())}
				}
				results[i] = results[i].add(res, r == 0)
			}
		}
		table = append(table, row{m: m, ours: results[0].div(rounds), base: results[1].div(rounds)})
		fmt.Fprintf(os.Stderr, "measured: %s\n", m.name)
	}
	limit, err := serverLimit(ctx, srv.URL(), env.userID)
	if err != nil {
		return err
	}
	printTable(table, limit, rounds, rows)
	return nil
}

// result is one measurement of one subject: a value (lower is better
// unless the measurement says otherwise) and, where measured, peak heap.
type result struct {
	value  float64
	heap   uint64
	failed string // why the measurement failed, for the baseline
}

func (a result) add(b result, first bool) result {
	if first || b.failed != "" {
		return b
	}
	if a.failed != "" {
		return a
	}
	return result{value: a.value + b.value, heap: max(a.heap, b.heap)}
}

func (a result) div(n int) result {
	return result{value: a.value / float64(n), heap: a.heap, failed: a.failed}
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			s = s[:i] + " " + s[i+1:]
		}
	}
	return s
}

type row struct {
	m          measurement
	ours, base result
}

func printTable(table []row, limit float64, rounds, rows int) {
	fmt.Printf("entlibsql vs ent over libsql-client-go, sqld %s, %s/%s, %d CPUs, %s, %d rounds interleaved\n\n",
		sqldtest.SQLDVersion, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), time.Now().Format("2006-01-02"), rounds)
	fmt.Println("| measurement | entlibsql | libsql-client-go | ratio | target |")
	fmt.Println("|---|---|---|---|---|")
	for _, r := range table {
		if r.base.failed != "" {
			fmt.Printf("| %s | %s | fails: %s | — | %s |\n", r.m.name, r.m.format(r.ours.value), r.base.failed, r.m.target)
			if r.m.heap {
				fmt.Printf("| %s, peak heap | %s | — | — | %s |\n", r.m.name, mib(r.ours.heap), r.m.heapTarget)
			}
			continue
		}
		ratio := r.ours.value / r.base.value
		fmt.Printf("| %s | %s | %s | %.2f× | %s |\n", r.m.name, r.m.format(r.ours.value), r.m.format(r.base.value), ratio, r.m.target)
		if r.m.heap {
			fmt.Printf("| %s, peak heap | %s | %s | %.2f× | %s |\n", r.m.name, mib(r.ours.heap), mib(r.base.heap),
				float64(r.ours.heap)/float64(r.base.heap), r.m.heapTarget)
		}
	}
	for _, r := range table {
		if r.m.throughput {
			fmt.Printf("\nserver limit (a bare loop posting the same Get request): %.0f req/s; entlibsql reaches %.2f of it (target ≥ 0.8)\n",
				limit, r.ours.value/limit)
		}
	}
	fmt.Printf("\nrows in the read measurements: %d\n", rows)
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func formatDuration(v float64) string {
	return time.Duration(v).Round(time.Microsecond).String()
}

func init() { log.SetFlags(0); log.SetPrefix("bench: ") }
