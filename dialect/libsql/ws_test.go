package libsql_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/internal/testent/ent"
)

// wsURL is the server under test, over WebSocket.
func wsURL(base string) string {
	return "ws" + strings.TrimPrefix(base, "http")
}

func TestWebSocketCRUD(t *testing.T) {
	crudThrough(t, openDriver(t, wsURL(serverURL())))
}

// Every field type, time.Time included (libsql-client-go cannot save one
// over ws://), round-trips over WebSocket.
func TestWebSocketFieldTypes(t *testing.T) {
	drv := openDriver(t, wsURL(serverURL()))
	c := ent.NewClient(ent.Driver(drv))
	ctx := context.Background()
	if err := c.Schema.Create(ctx); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 11, 25, 22, 30, 1, 123456789, time.FixedZone("", -7*3600))
	k, err := newKind(c).SetTs(ts).SetStr("NUL\x00 🙂").SetBin([]byte{}).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Kind.GetX(ctx, k.ID)
	if !got.Ts.Equal(ts) || got.Str != "NUL\x00 🙂" || got.Bin == nil || len(got.Bin) != 0 {
		t.Fatalf("over WebSocket: ts %v, str %q, bin %#v", got.Ts, got.Str, got.Bin)
	}
}

// Many goroutines share one socket, each database/sql connection a
// stream on it.
func TestWebSocketConcurrent(t *testing.T) {
	drv := openDriver(t, wsURL(serverURL()))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		go func(w int) {
			var err error
			for i := 0; i < 20 && err == nil; i++ {
				var n int
				err = drv.DB().QueryRowContext(ctx, "SELECT ? + ?", w, i).Scan(&n)
				if err == nil && n != w+i {
					err = context.Canceled
				}
			}
			errs <- err
		}(w)
	}
	for w := 0; w < 16; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// When the socket dies, a transaction on it fails clearly and the driver
// reconnects for the next statement.
func TestWebSocketReconnects(t *testing.T) {
	p, err := sqldtest.NewProxy(serverURL())
	if err != nil {
		t.Fatal(err)
	}
	drv := openDriver(t, wsURL(p.URL()))
	ctx := context.Background()
	tx, err := drv.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	p.Close() // cuts the socket
	p2, err := sqldtest.NewProxyAt(p.Addr(), serverURL())
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	if _, err := tx.ExecContext(ctx, "SELECT 2"); err == nil || !strings.Contains(err.Error(), "WebSocket") {
		t.Fatalf("a transaction on a dead socket: %v", err)
	}
	tx.Rollback()
	var one int
	if err := drv.DB().QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("after the socket died: %v", err)
	}
}
