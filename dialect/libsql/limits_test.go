package libsql_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entlibsql/entlibsql/dialect/libsql"
)

// Issue 14, point 6: every answer is read up to a maximum size, counted
// after decompression (libsql.WithMaxResponseSize, default
// DefaultMaxResponseSize): a pipeline answer, each cursor entry, each
// WebSocket message. The error names the limit and how to change it.

// tooLarge checks err is the size error for limit.
func tooLarge(t *testing.T, err error, limit string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), "larger than the maximum response size of "+limit) || !strings.Contains(err.Error(), "WithMaxResponseSize") {
		t.Fatalf("want the size limit of %s in the error, got %v", limit, err)
	}
	oneErrorPrefix(t, err)
}

// allocated runs f and returns the bytes it allocated on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestEndlessPipelineAnswer(t *testing.T) {
	var written atomic.Int64
	srv := fake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		fmt.Fprint(w, `{"baton":"`)
		chunk := bytes.Repeat([]byte("b"), 64<<10)
		for {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	drv := fakeDriver(t, srv.URL(), libsql.WithMaxResponseSize(1<<20))
	var err error
	heap := allocated(func() {
		within(t, time.Minute, "the statement", func() {
			_, err = drv.DB().ExecContext(context.Background(), "INSERT INTO t VALUES (1)")
		})
	})
	tooLarge(t, err, "1 MiB")
	t.Logf("%v; the server wrote %d MiB, the client allocated %d MiB", err, written.Load()>>20, heap>>20)
	if heap > 64<<20 {
		t.Fatalf("reading an endless answer allocated %d MiB", heap>>20)
	}
}

// An answer that announces its size is refused before it is read: the
// default limit, 128 MiB.
func TestAnnouncedSizeOverTheDefault(t *testing.T) {
	srv := fake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(libsql.DefaultMaxResponseSize+1))
		w.WriteHeader(200)
		fmt.Fprint(w, `{"baton":null`)
	}))
	_, err := fakeDriver(t, srv.URL()).DB().ExecContext(context.Background(), "INSERT INTO t VALUES (1)")
	tooLarge(t, err, "128 MiB")
}

// cursorLine writes one entry of size bytes after the statement began.
func cursorLine(size int) func(w http.ResponseWriter, flush func(), steps []string) {
	return func(w http.ResponseWriter, flush func(), steps []string) {
		fmt.Fprintf(w, "{\"type\":\"step_begin\",\"step\":%d,\"cols\":[{\"name\":\"x\"}]}\n", len(steps)-1)
		fmt.Fprint(w, `{"type":"row","row":[{"type":"text","value":"`)
		chunk := strings.Repeat("v", 64<<10)
		for n := 0; n < size; n += len(chunk) {
			if _, err := fmt.Fprint(w, chunk); err != nil {
				return
			}
		}
		fmt.Fprintln(w, `"}]}`)
	}
}

// A cursor entry of 64 MiB, read through the cursor (the path of
// statements that may write, and of reads too large for a pipeline).
func TestHugeCursorEntry(t *testing.T) {
	drv := fakeDriver(t, fake(t, &hranaHTTP{cursor: cursorLine(64 << 20)}).URL(), libsql.WithMaxResponseSize(1<<20))
	var err error
	heap := allocated(func() { err = readRows(t, drv) })
	tooLarge(t, err, "1 MiB")
	if heap > 32<<20 {
		t.Fatalf("a 64 MiB line allocated %d MiB under a 1 MiB limit", heap>>20)
	}
}

// A read's answer with a 64 MiB row: the size limit holds for each row,
// and the row is never held whole.
func TestHugeRowInAnAnswer(t *testing.T) {
	drv := fakeDriver(t, fake(t, &hranaHTTP{rows: func(w http.ResponseWriter, flush func()) {
		fmt.Fprint(w, `[{"type":"integer","value":"1"}],[{"type":"text","value":"`)
		chunk := strings.Repeat("v", 64<<10)
		for n := 0; n < 64<<20; n += len(chunk) {
			if _, err := fmt.Fprint(w, chunk); err != nil {
				return
			}
		}
		fmt.Fprint(w, `"}]`)
	}}).URL(), libsql.WithMaxResponseSize(1<<20))
	var err error
	heap := allocated(func() { err = readQuery(t, drv, "SELECT x FROM t") })
	tooLarge(t, err, "1 MiB")
	if heap > 32<<20 {
		t.Fatalf("a 64 MiB row allocated %d MiB under a 1 MiB limit", heap>>20)
	}
}

// A read's answer compressed although the driver asked for none (it
// never does for pipelines): the bytes are not JSON, and nothing
// inflates them.
func TestGzipBombAnswer(t *testing.T) {
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	fmt.Fprint(zw, `{"baton":"b","base_url":null,"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[{"cols":[{"name":"x"}],"rows":[[{"type":"text","value":"`)
	zeros := bytes.Repeat([]byte("0"), 1<<20)
	for i := 0; i < 64; i++ {
		zw.Write(zeros)
	}
	fmt.Fprint(zw, `"}]]}],"step_errors":[null]}}}]}`)
	zw.Close()
	srv := fake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(200)
		w.Write(bomb.Bytes())
	}))
	drv := fakeDriver(t, srv.URL(), libsql.WithMaxResponseSize(4<<20))
	var err error
	heap := allocated(func() { err = readQuery(t, drv, "SELECT x FROM t") })
	if err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Fatalf("want a malformed answer, got %v", err)
	}
	oneErrorPrefix(t, err)
	if heap > 16<<20 {
		t.Fatalf("the bomb allocated %d MiB", heap>>20)
	}
}

// A gzip bomb: a small compressed cursor body that inflates to a 64 MiB
// line. The limit counts inflated bytes.
func TestGzipBombCursor(t *testing.T) {
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	fmt.Fprintln(zw, `{"baton":"b","base_url":null}`)
	fmt.Fprintln(zw, `{"type":"step_begin","step":0,"cols":[{"name":"x"}]}`)
	fmt.Fprint(zw, `{"type":"row","row":[{"type":"text","value":"`)
	zeros := bytes.Repeat([]byte("0"), 1<<20)
	for i := 0; i < 64; i++ {
		zw.Write(zeros)
	}
	fmt.Fprintln(zw, `"}]}`)
	zw.Close()
	srv := fake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			answer(w, 200, executeOK("b"))
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(200)
		w.Write(bomb.Bytes())
	}))
	drv := fakeDriver(t, srv.URL(), libsql.WithMaxResponseSize(4<<20))
	var err error
	heap := allocated(func() { err = readRows(t, drv) })
	tooLarge(t, err, "4 MiB")
	t.Logf("%d KiB of gzip, inflating to 64 MiB: %v; allocated %d MiB", bomb.Len()>>10, err, heap>>20)
	if heap > 64<<20 {
		t.Fatalf("the bomb allocated %d MiB under a 4 MiB limit", heap>>20)
	}
}

// On a real sqld: a 2 MiB value is read whole, through a pipeline and a
// cursor, over HTTP and WebSocket; under a 1 MiB limit it fails clearly,
// and the driver goes on.
func TestMaxResponseSizeOnSqld(t *testing.T) {
	overTransports(t, func(t *testing.T, url string) {
		db := openDriver(t, url).DB()
		tbl := scratchTable(t, db, "id INTEGER PRIMARY KEY, b BLOB")
		ctx := context.Background()
		blob := make([]byte, 2<<20)
		rand.Read(blob)
		if _, err := db.ExecContext(ctx, "INSERT INTO "+tbl+" VALUES (1, ?)", blob); err != nil {
			t.Fatal(err)
		}
		small := openDriver(t, url, libsql.WithMaxResponseSize(1<<20)).DB()
		for _, q := range []string{"SELECT b FROM " + tbl, "SELECT b FROM " + tbl + " LIMIT 1"} {
			var got []byte
			if err := db.QueryRowContext(ctx, q).Scan(&got); err != nil || !bytes.Equal(got, blob) {
				t.Fatalf("%s: %d bytes, %v", q, len(got), err)
			}
			err := small.QueryRowContext(ctx, q).Scan(&got)
			tooLarge(t, err, "1 MiB")
			var n int
			if err := small.QueryRowContext(ctx, "SELECT count(*) FROM "+tbl).Scan(&n); err != nil || n != 1 {
				t.Fatalf("after the refused answer: %d, %v", n, err)
			}
		}
	})
}
