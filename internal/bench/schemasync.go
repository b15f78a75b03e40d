package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entschema "entgo.io/ent/dialect/sql/schema"

	"github.com/entlibsql/entlibsql/internal/inspecttest"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// Schema sync: ent's Schema.Create on an up-to-date schema of n tables
// (what every app start and enttest.Open runs), on a new driver, behind
// a proxy that adds schemaDelay to every request. The floor is the same
// queries posted bare in one pipeline through the same proxy.

const schemaDelay = 20 * time.Millisecond

var schemaSizes = []int{5, 20, 50}

type syncRow struct {
	tables           int
	ours, base       []float64 // per round
	oursReq, baseReq int64
	floor            []float64
}

func schemaSync(ctx context.Context, srv *sqldtest.Server, rounds int) ([]syncRow, error) {
	p, err := sqldtest.NewProxy(srv.URL())
	if err != nil {
		return nil, err
	}
	defer p.Close()
	subs := subjects()
	var out []syncRow
	for _, n := range schemaSizes {
		tables := inspecttest.Tables(fmt.Sprintf("sync%d", n), n)
		if err := syncOnce(ctx, subs[0], srv.URL(), tables); err != nil {
			return nil, err
		}
		queries, err := inspectionQueries(ctx, subs[1], srv.URL(), tables)
		if err != nil {
			return nil, err
		}
		p.SetDelay(schemaDelay)
		row := syncRow{tables: n}
		for r := 0; r < rounds; r++ {
			f, err := floorOf(ctx, p.URL(), queries)
			if err != nil {
				return nil, fmt.Errorf("schema sync floor: %w", err)
			}
			row.floor = append(row.floor, f)
			for i, s := range subs {
				d, requests, err := syncTimed(ctx, s, p, tables)
				if err != nil {
					return nil, fmt.Errorf("schema sync, %s: %w", s.name, err)
				}
				if i == 0 {
					row.ours, row.oursReq = append(row.ours, d), requests
				} else {
					row.base, row.baseReq = append(row.base, d), requests
				}
			}
		}
		p.SetDelay(0)
		out = append(out, row)
	}
	return out, nil
}

// syncOnce opens a driver of s on url, runs Schema.Create of tables and
// closes it.
func syncOnce(ctx context.Context, s *subject, url string, tables []*entschema.Table) error {
	drv, err := s.open(url)
	if err != nil {
		return err
	}
	defer drv.Close()
	return migratetest.Migrate(ctx, drv, tables)
}

// syncTimed is syncOnce through p, timing Schema.Create and counting its
// requests from the driver's opening to the end of Create (not its Close).
func syncTimed(ctx context.Context, s *subject, p *sqldtest.Proxy, tables []*entschema.Table) (float64, int64, error) {
	drv, err := s.open(p.URL())
	if err != nil {
		return 0, 0, err
	}
	defer drv.Close()
	p.Reset()
	start := time.Now()
	err = migratetest.Migrate(ctx, drv, tables)
	return float64(time.Since(start)), p.Requests(), err
}

// recording is a driver that writes down the queries of a migration.
type recording struct {
	dialect.Driver
	mu sync.Mutex
	qs []string // Hrana execute requests, as JSON
}

func (r *recording) Query(ctx context.Context, query string, args, v any) error {
	r.mu.Lock()
	stmt := map[string]any{"sql": query}
	if a, ok := args.([]any); ok && len(a) > 0 {
		var vals []map[string]string
		for _, x := range a {
			vals = append(vals, map[string]string{"type": "text", "value": fmt.Sprint(x)})
		}
		stmt["args"] = vals
	}
	b, _ := json.Marshal(map[string]any{"type": "execute", "stmt": stmt})
	r.qs = append(r.qs, string(b))
	r.mu.Unlock()
	return r.Driver.Query(ctx, query, args, v)
}

// inspectionQueries are the queries an up-to-date Schema.Create sends
// through s (the baseline: Atlas's queries, one by one).
func inspectionQueries(ctx context.Context, s *subject, url string, tables []*entschema.Table) ([]string, error) {
	drv, err := s.open(url)
	if err != nil {
		return nil, err
	}
	defer drv.Close()
	rec := &recording{Driver: drv}
	if err := migratetest.Migrate(ctx, rec, tables); err != nil {
		return nil, err
	}
	return rec.qs, nil
}

// floorOf posts queries in one pipeline on a new stream, closing it in
// the same request, and returns the time it took.
func floorOf(ctx context.Context, url string, queries []string) (float64, error) {
	b := newBare(url)
	defer b.close()
	start := time.Now()
	_, err := b.post(ctx, "", strings.Join(queries, ",")+`,{"type":"close"}`)
	return float64(time.Since(start)), err
}

func printSchemaSync(rows []syncRow, rounds int) {
	fmt.Printf("\nSchema sync: an up-to-date Schema.Create on a new driver, %s added to every request, median of %d rounds\n\n", schemaDelay, rounds)
	fmt.Println("| tables | entlibsql | requests | libsql-client-go | requests | ratio | one-pipeline floor | entlibsql / floor (target ≤ 1.5) |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		ours, base, floor := median(r.ours), median(r.base), median(r.floor)
		fmt.Printf("| %d | %s | %d | %s | %d | %.2f× | %s | %.2f |\n", r.tables, ms(ours), r.oursReq, ms(base), r.baseReq,
			ours/base, ms(floor), median(perRound(r.floor, r.ours, func(f, o float64) float64 { return o / f })))
	}
}

func ms(v float64) string { return time.Duration(v).Round(100 * time.Microsecond).String() }
