// Command vectors measures libSQL vector search through ent: the top 10
// of n vectors of 128 dimensions found through the vector index
// (vector.Nearest, libSQL's vector_top_k) against the exact answer by
// brute force (ordering every row by vector_distance_cos), their
// latencies and the index's recall@10 against the exact answer, and the
// insert throughput with the index. It runs on a sqld it starts (over
// HTTP) and on the embedded engine (a local file), and prints a table:
//
//	go run ./internal/bench/vectors [-n 100000] [-queries 100] [-engines sqld,embedded]
//
// It is a command of its own, not a mode of internal/bench: the embedded
// engine (go-libsql) and that benchmark's baseline (libsql-client-go)
// both register the database/sql name "libsql" and cannot share a binary.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/dialect/libsql/vector"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/internal/vectortest/ent"
	"github.com/entlibsql/entlibsql/internal/vectortest/ent/item"
	libsqlschema "github.com/entlibsql/entlibsql/schema"
)

const (
	dims  = 128
	top   = 10
	batch = 100 // rows per statement: each row inserted into the index takes milliseconds
)

func main() {
	n := flag.Int("n", 100_000, "vectors to insert and search")
	queries := flag.Int("queries", 100, "query vectors")
	engines := flag.String("engines", "sqld,embedded", "where to run: sqld, embedded or both")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("vectors: ")
	data := dataset(*n, *queries)
	fmt.Printf("%d vectors of %d dimensions, top %d, %d queries, %d CPUs:\n\n", *n, dims, top, *queries, runtime.NumCPU())
	fmt.Println("| engine | insert with the index, rows/s | insert without, rows/s | top-10 by the index, median (p95) | exact top-10, median (p95) | speed-up | recall@10 |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, e := range strings.Split(*engines, ",") {
		r, err := measure(context.Background(), strings.TrimSpace(e), data)
		if err != nil {
			log.Fatalf("%s: %v", e, err)
		}
		fmt.Println(r) // as each engine finishes: a run takes minutes
	}
}

type data struct {
	vectors, queries []vector.Vector
}

// dataset is deterministic: vectors gathered around 200 random centres,
// as embeddings of related texts are, and queries drawn the same way.
func dataset(n, queries int) data {
	r := rand.New(rand.NewPCG(18, 128))
	centres := make([]vector.Vector, 200)
	for i := range centres {
		centres[i] = gaussian(r, nil, 1)
	}
	near := func() vector.Vector { return gaussian(r, centres[r.IntN(len(centres))], 0.5) }
	d := data{vectors: make([]vector.Vector, n), queries: make([]vector.Vector, queries)}
	for i := range d.vectors {
		d.vectors[i] = near()
	}
	for i := range d.queries {
		d.queries[i] = near()
	}
	return d
}

func gaussian(r *rand.Rand, centre vector.Vector, scale float64) vector.Vector {
	v := make(vector.Vector, dims)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
		if centre != nil {
			v[i] += centre[i]
		}
	}
	return v
}

func measure(ctx context.Context, engine string, d data) (string, error) {
	var url string
	switch engine {
	case "sqld":
		srv, err := sqldtest.Start(ctx, sqldtest.Options{})
		if err != nil {
			return "", err
		}
		defer srv.Stop()
		url = srv.URL()
	case "embedded":
		dir, err := os.MkdirTemp("", "vectors")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(dir)
		url = "file:" + filepath.Join(dir, "vectors.db")
	default:
		return "", fmt.Errorf("unknown engine %q (sqld or embedded)", engine)
	}
	// One statement inserting rows into a vector index can take longer
	// than the driver's default request timeout on a loaded machine.
	drv, err := libsql.Open(url, libsql.WithRequestTimeout(10*time.Minute))
	if err != nil {
		return "", err
	}
	defer drv.Close()
	client := ent.NewClient(ent.Driver(drv))
	if err := client.Schema.Create(ctx, libsqlschema.WithLibSQL()); err != nil {
		return "", err
	}

	// Insert throughput without an index: the same rows into a plain
	// F32_BLOB table, for comparison.
	db := drv.DB()
	if _, err := db.ExecContext(ctx, "CREATE TABLE plain (id INTEGER PRIMARY KEY, embedding F32_BLOB(128) NOT NULL)"); err != nil {
		return "", err
	}
	start := time.Now()
	for i := 0; i < len(d.vectors); i += batch {
		chunk := d.vectors[i:min(i+batch, len(d.vectors))]
		q := "INSERT INTO plain (embedding) VALUES " + strings.TrimSuffix(strings.Repeat("(?),", len(chunk)), ",")
		args := make([]any, len(chunk))
		for j, v := range chunk {
			args[j] = v
		}
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			return "", err
		}
	}
	plainRate := float64(len(d.vectors)) / time.Since(start).Seconds()

	start = time.Now()
	for i := 0; i < len(d.vectors); i += batch {
		chunk := d.vectors[i:min(i+batch, len(d.vectors))]
		creates := make([]*ent.ItemCreate, len(chunk))
		for j, v := range chunk {
			creates[j] = client.Item.Create().SetEmbedding(v)
		}
		if err := client.Item.CreateBulk(creates...).Exec(ctx); err != nil {
			return "", err
		}
		if i%10_000 == 0 {
			log.Printf("%s: %d of %d inserted (%.0f rows/s)", engine, i+len(chunk), len(d.vectors), float64(i+len(chunk))/time.Since(start).Seconds())
		}
	}
	indexRate := float64(len(d.vectors)) / time.Since(start).Seconds()

	var exactTimes, indexTimes []time.Duration
	var recall float64
	for _, q := range d.queries {
		dist := vector.CosineDistance(item.FieldEmbedding, q)
		t0 := time.Now()
		exact, err := client.Item.Query().Order(dist.Asc()).Limit(top).IDs(ctx)
		if err != nil {
			return "", err
		}
		exactTimes = append(exactTimes, time.Since(t0))
		t0 = time.Now()
		found, err := client.Item.Query().Where(vector.Nearest("item_embedding", q, top)).Order(dist.Asc()).IDs(ctx)
		if err != nil {
			return "", err
		}
		indexTimes = append(indexTimes, time.Since(t0))
		hits := 0
		for _, id := range found {
			if slices.Contains(exact, id) {
				hits++
			}
		}
		recall += float64(hits) / top
	}
	recall /= float64(len(d.queries))
	im, ip := quantiles(indexTimes)
	em, ep := quantiles(exactTimes)
	log.Printf("%s: done", engine)
	return fmt.Sprintf("| %s | %.0f | %.0f | %s (%s) | %s (%s) | %.0f× | %.3f |",
		engine, indexRate, plainRate, ms(im), ms(ip), ms(em), ms(ep), float64(em)/float64(im), recall), nil
}

func quantiles(ds []time.Duration) (median, p95 time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2], s[int(math.Ceil(float64(len(s))*0.95))-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
