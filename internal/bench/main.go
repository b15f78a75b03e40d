// Command bench measures this driver against ent over libsql-client-go
// (through libsql.OpenDB) on a sqld it starts, interleaving the two in
// rounds so that machine drift touches both alike, and prints a table of
// times and ratios. Peak heap is measured in runs of their own with the
// collector at GOGC=10 (heapGCPercent), so that it follows live memory
// rather than the collector's 4 MiB floor. Run it with:
//
//	go run ./internal/bench [-rounds 3] [-rows 100000] [-only reads|schema|core] [-cpuprofile file]
//
// Beyond the main table it measures reads through ent at 1 to 100,000
// rows (client time, sqld's CPU time, peak heap; reads.go) and schema sync
// at 5, 20 and 50 tables behind 20 ms per request (schemasync.go).
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
	"slices"
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
	only := flag.String("only", "", "run only one part: core (the main table), reads or schema")
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
	switch *only {
	case "", "core", "reads", "schema":
	default:
		log.Fatalf("-only %q: want core, reads or schema", *only)
	}
	if err := run(*rounds, *rows, *only); err != nil {
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

func run(rounds, rows int, only string) error {
	ctx := context.Background()
	// sqld refuses answers over 10 MB by default, which the baseline
	// needs to read 100,000 rows in one body.
	srv, err := sqldtest.Start(ctx, sqldtest.Options{Args: []string{
		"--max-response-size", "256MB", "--max-total-response-size", "512MB",
	}})
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

	if only == "" || only == "reads" {
		// First, while the posts table holds only the rows to read.
		rs, err := reads(ctx, env, subs, rounds)
		if err != nil {
			return err
		}
		defer printReads(rs, rounds)
	}
	if only == "" || only == "schema" {
		sync, err := schemaSync(ctx, srv, rounds)
		if err != nil {
			return err
		}
		defer printSchemaSync(sync, rounds)
	}
	if only != "" && only != "core" {
		return nil
	}
	var table []row
	for _, m := range measurements(env) {
		results := make([]result, len(subs))
		var refs, ours []float64 // per round, for measurements with a reference
		for r := 0; r < rounds; r++ {
			if m.reference != nil {
				v, err := m.reference(ctx)
				if err != nil {
					return fmt.Errorf("%s, reference: %w", m.name, err)
				}
				refs = append(refs, v)
			}
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
				if i == 0 && m.reference != nil {
					ours = append(ours, res.value)
				}
			}
		}
		table = append(table, row{m: m, ours: results[0].div(rounds), base: results[1].div(rounds), refs: refs, oursPerRound: ours})
		fmt.Fprintf(os.Stderr, "measured: %s\n", m.name)
	}
	printTable(table, rounds, rows)
	return nil
}

// result is one measurement of one subject: a value (lower is better
// unless the measurement says otherwise) and, where measured, peak heap
// and HTTP requests per operation.
type result struct {
	value    float64
	heap     uint64
	requests float64
	failed   string // why the measurement failed, for the baseline
}

func (a result) add(b result, first bool) result {
	if first || b.failed != "" {
		return b
	}
	if a.failed != "" {
		return a
	}
	return result{value: a.value + b.value, heap: max(a.heap, b.heap), requests: a.requests + b.requests}
}

func (a result) div(n int) result {
	return result{value: a.value / float64(n), heap: a.heap, requests: a.requests / float64(n), failed: a.failed}
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
	// Per round, for a measurement with a reference: the reference and
	// entlibsql, measured one right after the other.
	refs, oursPerRound []float64
}

func printTable(table []row, rounds, rows int) {
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
		if r.m.requests {
			fmt.Printf("| %s, HTTP requests | %.1f | %.1f | — | 4 |\n", r.m.name, r.ours.requests, r.base.requests)
		}
	}
	fmt.Println()
	for _, r := range table {
		if r.m.reference != nil {
			fmt.Println(r.m.describeRef(r.refs, r.oursPerRound))
		}
	}
	fmt.Printf("rows in the read measurements: %d; peak heap sampled with GOGC=%d for both drivers\n", rows, heapGCPercent)
}

// median of per-round values: one round disturbed by the machine's other
// work does not move it.
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// perRound applies f to each round's reference and entlibsql value.
func perRound(refs, ours []float64, f func(ref, ours float64) float64) []float64 {
	out := make([]float64, len(refs))
	for i := range refs {
		out[i] = f(refs[i], ours[i])
	}
	return out
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func formatDuration(v float64) string {
	return time.Duration(v).Round(time.Microsecond).String()
}

func init() { log.SetFlags(0); log.SetPrefix("bench: ") }
