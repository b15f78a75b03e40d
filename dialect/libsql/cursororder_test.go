package libsql_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/entlibsql/entlibsql/dialect/libsql"
)

// Cursor entries in the spec's order, and what a server that breaks it
// gets: a protocol error at once. Progress, which the request timeout
// waits for, is an entry of the statement the caller reads; entries of
// the steps before it (a transaction's BEGIN) are not.

const (
	rowEntry     = `{"type":"row","row":[{"type":"integer","value":"1"}]}`
	stepEndEntry = `{"type":"step_end","affected_row_count":0}`
)

// Rows outside a step, a step begun twice or out of the batch, a
// step_error naming another step: protocol errors, over HTTP and
// WebSocket, in and out of transactions. Before, rows or step_ends before
// the statement's step_begin were skipped as they came, forever.
func TestCursorEntriesOutOfOrder(t *testing.T) {
	begin := `{"type":"step_begin","step":$STEP,"cols":[{"name":"x"}]}`
	for name, entries := range map[string][]string{
		"a row before the step":         {rowEntry, begin, stepEndEntry},
		"a step_end outside a step":     {stepEndEntry, begin, stepEndEntry},
		"a step begun twice":            {begin, rowEntry, begin, stepEndEntry},
		"a step beyond the batch":       {`{"type":"step_begin","step":7,"cols":[]}`},
		"a negative step":               {`{"type":"step_begin","step":-1,"cols":[]}`},
		"a step_error for another step": {begin, `{"type":"step_error","step":9,"error":{"message":"x"}}`},
	} {
		for _, transport := range []string{"http", "ws"} {
			t.Run(transport+" "+name, func(t *testing.T) {
				drv := fakeDriver(t, cursorFakeURL(t, transport, entries))
				within(t, time.Minute, "the query", func() {
					for i, err := range queryOutcome(t, drv.DB(), cursorRead) {
						if err == nil || !strings.Contains(err.Error(), "protocol error: a cursor entry of type") {
							t.Errorf("query %d: want a protocol error, got %v", i, err)
						} else {
							oneErrorPrefix(t, err)
						}
					}
				})
			})
		}
	}
}

// A server that sends, without end, rows or step_ends before the
// statement's step_begin, or rows of a transaction's BEGIN: the query
// fails (a protocol error, or the request timeout), it does not wait
// forever.
func TestEndlessEntriesBeforeTheStatement(t *testing.T) {
	forever := func(prefix string, line string) func(w http.ResponseWriter, flush func(), steps []string) {
		return func(w http.ResponseWriter, flush func(), steps []string) {
			fmt.Fprint(w, prefix)
			for {
				if _, err := fmt.Fprintln(w, line); err != nil {
					return
				}
				flush()
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	for name, c := range map[string]struct {
		tx   bool
		body func(w http.ResponseWriter, flush func(), steps []string)
	}{
		"rows before the step":      {false, forever("", rowEntry)},
		"step_ends before the step": {false, forever("", stepEndEntry)},
		"rows of BEGIN":             {true, forever(`{"type":"step_begin","step":0,"cols":[]}`+"\n", rowEntry)},
	} {
		t.Run(name, func(t *testing.T) {
			drv := fakeDriver(t, fake(t, &hranaHTTP{cursor: c.body}).URL(), libsql.WithRequestTimeout(shortTimeout))
			within(t, 30*time.Second, "the query", func() {
				ctx := context.Background()
				var err error
				if c.tx {
					tx, terr := drv.DB().BeginTx(ctx, nil)
					if terr != nil {
						t.Error(terr)
						return
					}
					defer tx.Rollback()
					_, err = tx.QueryContext(ctx, "WITH q AS (SELECT 1) SELECT x FROM t")
				} else {
					_, err = drv.DB().QueryContext(ctx, "WITH q AS (SELECT 1) SELECT x FROM t")
				}
				if err == nil || !(isDeadline(err) || strings.Contains(err.Error(), "protocol error")) {
					t.Errorf("want a timeout or a protocol error, got %v", err)
				}
			})
		})
	}
}

// The time a caller takes between the query and its first row does not
// count against the request timeout, on a real sqld: the statement's
// step_begin is progress. Before, the clock ran on from the query, and a
// caller that paused longer than the timeout before reading lost the
// rows not yet buffered (HTTP) or not yet fetched (WebSocket).
func TestCallerTimeBeforeTheFirstRow(t *testing.T) {
	// sqld itself pauses about 100 ms every few thousand rows: the
	// timeout leaves room for that on a loaded machine.
	const n, timeout = 30000, time.Second
	overTransports(t, func(t *testing.T, url string) {
		drv := openDriver(t, url, libsql.WithRequestTimeout(timeout))
		rows, err := drv.DB().QueryContext(context.Background(), fmt.Sprintf("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT %d) SELECT x, 'a row of some length, number ' || x FROM n", n))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		time.Sleep(5 * timeout / 2) // the caller's own work
		got := 0
		for rows.Next() {
			got++
		}
		if err := rows.Err(); err != nil || got != n {
			t.Fatalf("read %d of %d rows: %v", got, n, err)
		}
	})
}

// After the statement's last row and step_end, closing reads what is
// left (the replication index) within one request timeout, however the
// server goes on: silent, sending blank lines, or rows (which it may
// not: the batch is over), and whatever the caller's deadline.
func TestCloseAfterTheLastStepIsBounded(t *testing.T) {
	for name, after := range map[string]func(w http.ResponseWriter, flush func(), stop <-chan struct{}){
		"silence": func(w http.ResponseWriter, flush func(), stop <-chan struct{}) { <-stop },
		"blank lines": func(w http.ResponseWriter, flush func(), stop <-chan struct{}) {
			for {
				if _, err := fmt.Fprintln(w); err != nil {
					return
				}
				flush()
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		},
		"rows just within the timeout": func(w http.ResponseWriter, flush func(), stop <-chan struct{}) {
			for {
				select {
				case <-stop:
					return
				case <-time.After(shortTimeout * 3 / 4):
				}
				if _, err := fmt.Fprintln(w, rowEntry); err != nil {
					return
				}
				flush()
			}
		},
	} {
		for _, deadline := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, deadline %v", name, deadline), func(t *testing.T) {
				stop := make(chan struct{})
				body := func(w http.ResponseWriter, flush func(), steps []string) {
					fmt.Fprintf(w, "{\"type\":\"step_begin\",\"step\":%d,\"cols\":[{\"name\":\"x\"}]}\n%s\n%s\n", len(steps)-1, rowEntry, stepEndEntry)
					flush()
					after(w, flush, stop)
				}
				drv := fakeDriver(t, fake(t, &hranaHTTP{cursor: body}).URL(), libsql.WithRequestTimeout(shortTimeout))
				t.Cleanup(func() { close(stop) }) // before the fake's Close, which waits for its handlers
				ctx := context.Background()
				if deadline {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, time.Hour)
					defer cancel()
				}
				// 16 entries just within the timeout each took 16 times
				// it; a silent server held a caller with a deadline until
				// the deadline.
				within(t, 10*shortTimeout, "reading the rows and closing", func() {
					rows, err := drv.DB().QueryContext(ctx, "WITH q AS (SELECT 1) SELECT x FROM t")
					if err != nil {
						t.Error(err)
						return
					}
					got := 0
					for rows.Next() { // the last Next closes the rows
						got++
					}
					if err := rows.Err(); err != nil || got != 1 {
						t.Errorf("read %d rows: %v", got, err)
					}
					rows.Close()
				})
			})
		}
	}
}
