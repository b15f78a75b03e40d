package libsql_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// Issue 14, point 5: the request timeout bounds the call, not the gaps
// between bytes. Servers that keep sending without progress (rows) fail
// the call after the request timeout, over HTTP and WebSocket.

const shortTimeout = 300 * time.Millisecond

// endless writes line every few milliseconds until the client goes.
func endless(line string) func(w http.ResponseWriter, flush func(), steps []string) {
	return func(w http.ResponseWriter, flush func(), steps []string) {
		fmt.Fprintf(w, "{\"type\":\"step_begin\",\"step\":%d,\"cols\":[{\"name\":\"x\"}]}\n", len(steps)-1)
		fmt.Fprintln(w, `{"type":"row","row":[{"type":"integer","value":"1"}]}`)
		flush()
		for {
			if _, err := fmt.Fprint(w, line); err != nil {
				return
			}
			flush()
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// trickle writes a row's line one byte at a time, forever.
func trickle(w http.ResponseWriter, flush func(), steps []string) {
	fmt.Fprintf(w, "{\"type\":\"step_begin\",\"step\":%d,\"cols\":[{\"name\":\"x\"}]}\n", len(steps)-1)
	fmt.Fprintln(w, `{"type":"row","row":[{"type":"integer","value":"1"}]}`)
	fmt.Fprint(w, `{"type":"row","row":[{"type":"text","value":"`)
	flush()
	for {
		if _, err := fmt.Fprint(w, "x"); err != nil {
			return
		}
		flush()
		time.Sleep(20 * time.Millisecond)
	}
}

// readRows reads the rows of a query streamed through a cursor to the
// end and returns its error.
func readRows(t *testing.T, drv *libsql.Driver) error {
	t.Helper()
	return readQuery(t, drv, "WITH q AS (SELECT 1) SELECT x FROM t")
}

// readQuery reads query's rows to the end and returns its error.
func readQuery(t *testing.T, drv *libsql.Driver, query string) error {
	t.Helper()
	var err error
	within(t, 30*time.Second, "the query", func() {
		var rows interface {
			Next() bool
			Err() error
			Close() error
		}
		rows, err = drv.DB().QueryContext(context.Background(), query)
		if err != nil {
			return
		}
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	})
	return err
}

func TestNoProgressIsATimeout(t *testing.T) {
	for name, body := range map[string]func(http.ResponseWriter, func(), []string){
		"blank lines":               endless("\n"),
		"replication_index entries": endless(`{"type":"replication_index","replication_index":"1"}` + "\n"),
		"unknown entries":           endless(`{"type":"heartbeat"}` + "\n"),
		"a row trickling":           trickle,
	} {
		t.Run("http "+name, func(t *testing.T) {
			drv := fakeDriver(t, fake(t, &hranaHTTP{cursor: body}).URL(), libsql.WithRequestTimeout(shortTimeout))
			if err := readRows(t, drv); !isDeadline(err) {
				t.Fatalf("want a timeout, got %v", err)
			}
		})
	}
	t.Run("ws empty pages", func(t *testing.T) {
		drv := fakeDriver(t, wsOf(wsFake(t, hranaWS(func(r sqldtest.WSRequest) ([][]byte, bool) {
			if r.Type == "fetch_cursor" {
				return [][]byte{wsOK(r.ID, `{"type":"fetch_cursor","entries":[],"done":false}`)}, true
			}
			return nil, false
		}))), libsql.WithRequestTimeout(shortTimeout))
		if err := readRows(t, drv); !isDeadline(err) {
			t.Fatalf("want a timeout, got %v", err)
		}
	})
	t.Run("ws pages of replication indexes", func(t *testing.T) {
		var pages atomic.Int64
		drv := fakeDriver(t, wsOf(wsFake(t, hranaWS(func(r sqldtest.WSRequest) ([][]byte, bool) {
			if r.Type == "fetch_cursor" {
				begin := ""
				if pages.Add(1) == 1 {
					begin = `{"type":"step_begin","step":0,"cols":[]},`
				}
				return [][]byte{wsOK(r.ID, `{"type":"fetch_cursor","entries":[`+begin+`{"type":"replication_index","replication_index":"3"}],"done":false}`)}, true
			}
			return nil, false
		}))), libsql.WithRequestTimeout(shortTimeout))
		if err := readRows(t, drv); !isDeadline(err) {
			t.Fatalf("want a timeout, got %v", err)
		}
	})
	t.Run("http a read's answer trickling", func(t *testing.T) {
		drv := fakeDriver(t, fake(t, &hranaHTTP{rows: func(w http.ResponseWriter, flush func()) {
			fmt.Fprint(w, `[{"type":"integer","value":"1"}],[{"type":"text","value":"`)
			flush()
			for {
				if _, err := fmt.Fprint(w, "x"); err != nil {
					return
				}
				flush()
				time.Sleep(20 * time.Millisecond)
			}
		}}).URL(), libsql.WithRequestTimeout(shortTimeout))
		if err := readQuery(t, drv, "SELECT x FROM t"); !isDeadline(err) {
			t.Fatalf("want a timeout, got %v", err)
		}
	})
	t.Run("http pipeline trickling", func(t *testing.T) {
		drv := fakeDriver(t, fake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			for {
				if _, err := fmt.Fprint(w, " "); err != nil {
					return
				}
				http.NewResponseController(w).Flush()
				time.Sleep(20 * time.Millisecond)
			}
		})).URL(), libsql.WithRequestTimeout(shortTimeout))
		within(t, 30*time.Second, "the statement", func() {
			if _, err := drv.DB().ExecContext(context.Background(), "INSERT INTO t VALUES (1)"); !isDeadline(err) {
				t.Errorf("want a timeout, got %v", err)
			}
		})
	})
}

// Closing the rows of an endless cursor returns at once over HTTP (the
// request ends) and within the request timeout over WebSocket even if
// the server never answers close_cursor.
func TestCloseOfAnEndlessCursor(t *testing.T) {
	rows := endless(`{"type":"row","row":[{"type":"integer","value":"2"}]}` + "\n")
	t.Run("http", func(t *testing.T) {
		drv := fakeDriver(t, fake(t, &hranaHTTP{cursor: rows}).URL(), libsql.WithRequestTimeout(time.Hour))
		closeEndless(t, drv)
	})
	t.Run("ws, close_cursor never answered", func(t *testing.T) {
		drv := fakeDriver(t, wsOf(wsFake(t, hranaWS(func(r sqldtest.WSRequest) ([][]byte, bool) {
			switch r.Type {
			case "fetch_cursor":
				entries := strings.Repeat(`{"type":"row","row":[{"type":"integer","value":"2"}]},`, 100)
				return [][]byte{wsOK(r.ID, `{"type":"fetch_cursor","entries":[{"type":"step_begin","step":0,"cols":[{"name":"x"}]},`+strings.TrimSuffix(entries, ",")+`],"done":false}`)}, true
			case "close_cursor":
				return nil, true // silence
			}
			return nil, false
		}))), libsql.WithRequestTimeout(shortTimeout))
		closeEndless(t, drv)
	})
}

// Closing the rows of a read whose answer never ends returns at once.
func TestCloseOfAnEndlessAnswer(t *testing.T) {
	drv := fakeDriver(t, fake(t, &hranaHTTP{rows: func(w http.ResponseWriter, flush func()) {
		for i := 0; ; i++ {
			if i > 0 {
				fmt.Fprint(w, ",")
			}
			if _, err := fmt.Fprint(w, `[{"type":"integer","value":"2"}]`); err != nil {
				return
			}
			flush()
			time.Sleep(time.Millisecond)
		}
	}}).URL(), libsql.WithRequestTimeout(time.Hour))
	closeEndlessQuery(t, drv, "SELECT x FROM t")
}

func closeEndless(t *testing.T, drv *libsql.Driver) {
	t.Helper()
	closeEndlessQuery(t, drv, "WITH q AS (SELECT 1) SELECT x FROM t")
}

func closeEndlessQuery(t *testing.T, drv *libsql.Driver, query string) {
	t.Helper()
	rows, err := drv.DB().QueryContext(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if !rows.Next() {
			t.Fatalf("row %d: %v", i, rows.Err())
		}
	}
	// The old bound was a fixed 10 s; a drain of an endless body had none.
	within(t, 8*time.Second, "rows.Close", func() { rows.Close() })
}

// A WebSocket hello that timed out is not tried again: one socket for
// one call.
func TestWebSocketHelloTimeoutIsNotRetried(t *testing.T) {
	srv := wsFake(t, nil) // never answers the hello
	drv := fakeDriver(t, wsOf(srv), libsql.WithRequestTimeout(shortTimeout))
	within(t, 30*time.Second, "the statement", func() {
		if _, err := drv.DB().ExecContext(context.Background(), "SELECT 1"); !isDeadline(err) {
			t.Errorf("want a timeout, got %v", err)
		}
	})
	hellos := 0
	for _, r := range srv.Requests() {
		if r.Method == "HELLO" {
			hellos++
		}
	}
	if hellos != 1 {
		t.Fatalf("%d hellos for one call, want 1", hellos)
	}
}
