package libsql_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// The workloads under faults are in internal/faulttest; these are the
// driver's single-shot checks: secrets, deadlines, large values.

// TestSecretsNeverPrinted prints the config, the connector and the driver
// with every fmt verb and through slog: the token never shows.
func TestSecretsNeverPrinted(t *testing.T) {
	const secret = "tok-very-secret-0123456789"
	c, err := libsql.NewConnector("libsql://db.example.com?authToken="+secret,
		libsql.WithRequestTimeout(time.Second),
		libsql.WithAuthTokenFunc(func(context.Context) (string, error) { return secret, nil }))
	if err != nil {
		t.Fatal(err)
	}
	drv, err := libsql.Open("http://127.0.0.1:1?authToken=" + secret)
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	cfg := c.Config()
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", cfg, "connector", c)
	// Structs that hold a Config: fmt prints an unexported field by
	// reflection, without its methods.
	type holder struct {
		cfg  libsql.Config
		ptr  *libsql.Config
		list []libsql.Config
	}
	type Exported struct {
		Cfg libsql.Config
		Any any
	}
	for _, v := range []any{cfg, &cfg, c, drv, holder{cfg, &cfg, []libsql.Config{cfg}}, &holder{cfg: cfg}, Exported{cfg, cfg}, map[string]libsql.Config{"k": cfg}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, secret) || strings.Contains(s, fmt.Sprintf("%x", secret)) {
				t.Errorf("%s of %T shows the token: %s", verb, v, s)
			}
		}
	}
	if strings.Contains(logged.String(), secret) {
		t.Errorf("slog shows the token: %s", logged.String())
	}
	if !strings.Contains(fmt.Sprint(cfg), "REDACTED") {
		t.Errorf("the config does not say it has a token: %v", cfg)
	}
}

// TestRequestTimeoutStuckServer: a server that accepts a connection and
// never answers fails a statement without a deadline after the request
// timeout, over HTTP, HTTPS (stuck in the TLS handshake) and WebSocket;
// a context deadline, when given, rules.
func TestRequestTimeoutStuckServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	defer func() {
		ln.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	addr := ln.Addr().String()
	for _, url := range []string{"http://" + addr, "https://" + addr, "ws://" + addr, "wss://" + addr} {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) {
			drv := openDriver(t, url, libsql.WithRequestTimeout(300*time.Millisecond))
			start := time.Now()
			_, err := drv.DB().ExecContext(context.Background(), "INSERT INTO nowhere VALUES (1)")
			took := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) {
				t.Fatalf("want a deadline error that is not a bad connection, got %v", err)
			}
			if took > 10*time.Second {
				t.Fatalf("the request timeout of 300ms took %v", took)
			}
			// A read is not retried on a timeout either: a stuck server
			// would hold the caller three times as long.
			start = time.Now()
			if _, err := drv.DB().ExecContext(context.Background(), "SELECT 1"); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("read: want a deadline error, got %v", err)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Fatalf("a read took %v", took)
			}
			// The caller's deadline rules.
			slow := openDriver(t, url, libsql.WithRequestTimeout(time.Hour))
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start = time.Now()
			if _, err := slow.DB().ExecContext(ctx, "SELECT 1"); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("with a deadline: %v", err)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Fatalf("a deadline of 200ms took %v", took)
			}
		})
	}
}

// TestLargeBlob: over HTTP and WebSocket, a 10 MB blob round-trips or
// fails with an error that says why (sqld 0.24.32 refuses it: "string or
// blob too big"), and the connection goes on; a 1 MB blob round-trips,
// whole and through a cursor.
func TestLargeBlob(t *testing.T) {
	for _, url := range []string{serverURL(), wsURL(serverURL())} {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) {
			db := openDriver(t, url).DB()
			db.SetMaxOpenConns(1) // the same connection goes on after the refusal
			tbl := scratchTable(t, db, "id INTEGER PRIMARY KEY, b BLOB")
			ctx := context.Background()
			for id, size := range []int{10 << 20, 1 << 20} {
				blob := make([]byte, size)
				rand.Read(blob)
				if _, err := db.ExecContext(ctx, "INSERT INTO "+tbl+" (id, b) VALUES (?, ?)", id, blob); err != nil {
					if size == 10<<20 && strings.Contains(err.Error(), "too big") {
						t.Logf("10 MB refused clearly: %v", err)
						continue
					}
					t.Fatalf("inserting %d bytes: %v", size, err)
				}
				for _, q := range []string{"SELECT b FROM " + tbl + " WHERE id = ?", "SELECT b FROM " + tbl + " WHERE id = ? LIMIT 1"} {
					var got []byte
					if err := db.QueryRowContext(ctx, q, id).Scan(&got); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
					if !bytes.Equal(got, blob) {
						t.Fatalf("%s: %d bytes back, not the %d sent", q, len(got), len(blob))
					}
				}
			}
		})
	}
}

// TestTransactionTimeoutBreaksTransaction: sqld gives up on a transaction
// idle for about 5 s and answers its next statement TRANSACTION_TIMEOUT;
// the statements after would run in autocommit mode. The driver breaks
// the transaction there: a caller who goes on applies nothing.
// (Over WebSocket, where the stream itself does not expire.)
func TestTransactionTimeoutBreaksTransaction(t *testing.T) {
	db := openDriver(t, wsURL(serverURL())).DB()
	tbl := scratchTable(t, db, "k TEXT")
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO "+tbl+" VALUES ('a')"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(6 * time.Second)
	// Another writer takes the lock sqld took back.
	if _, err := db.ExecContext(ctx, "INSERT INTO "+tbl+" VALUES ('other')"); err != nil {
		t.Fatal(err)
	}
	_, err1 := tx.ExecContext(ctx, "INSERT INTO "+tbl+" VALUES ('b')")
	_, err2 := tx.ExecContext(ctx, "INSERT INTO "+tbl+" VALUES ('c')")
	errC := tx.Commit()
	if err1 == nil || err2 == nil || errC == nil {
		t.Fatalf("after the transaction timed out: %v, %v, commit %v", err1, err2, errC)
	}
	if !strings.Contains(err2.Error(), "transaction aborted") {
		t.Fatalf("the statement after TRANSACTION_TIMEOUT: %v", err2)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+tbl+" WHERE k <> 'other'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows of the timed-out transaction applied (%v)", n, err)
	}
}

// TestErrorBodiesOfAnyShape: a gateway's HTML, an empty 503 and the token
// echoed in an error page all map to errors that say what happened and
// never show the token.
func TestErrorBodiesOfAnyShape(t *testing.T) {
	const secret = "tok-echoed-by-a-gateway"
	p, err := sqldtest.NewFaultProxy(serverURL())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, f := range []sqldtest.Fault{sqldtest.Answer502, sqldtest.Answer503, sqldtest.TruncateBody, sqldtest.CorruptBody} {
		t.Run(f.String(), func(t *testing.T) {
			p.Set(f, 1)
			defer p.Set(sqldtest.NoFault, 0)
			drv := openDriver(t, p.URL()+"?authToken="+secret)
			_, err := drv.DB().ExecContext(context.Background(), "INSERT INTO nowhere VALUES (1)")
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the error shows the token: %v", err)
			}
			want := map[sqldtest.Fault]string{sqldtest.Answer502: "HTTP 502", sqldtest.Answer503: "HTTP 503", sqldtest.TruncateBody: "malformed", sqldtest.CorruptBody: "malformed"}[f]
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("want %q in the error, got %v", want, err)
			}
		})
	}
}

// stallingProxy forwards TCP connections to target, but of what the
// server sends passes only the first budget bytes of each connection,
// then holds the connection open and silent: a server stuck in the middle
// of an answer.
func stallingProxy(t *testing.T, target string, budget int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	keep := func(c ...net.Conn) { mu.Lock(); conns = append(conns, c...); mu.Unlock() }
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			keep(client, server)
			go io.Copy(server, client)
			go io.CopyN(client, server, budget) // then nothing more
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestRequestTimeoutStalledCursor: rows streaming through a cursor
// (/v3/cursor over HTTP, fetch_cursor pages over WebSocket) from a server
// that stops half way fail after the request timeout (the clock runs
// while waiting on the server), without a context deadline, instead of
// hanging the caller.
func TestRequestTimeoutStalledCursor(t *testing.T) {
	ctx := context.Background()
	// A sqld of its own: the proxy passes plain HTTP bytes.
	srv, err := sqldtest.Start(ctx, sqldtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	direct := openDriver(t, srv.URL()).DB()
	tbl := scratchTable(t, direct, "id INTEGER PRIMARY KEY, v TEXT")
	if _, err := direct.ExecContext(ctx, `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 20000)
		INSERT INTO `+tbl+` (id, v) SELECT x, 'a value long enough to fill the answer ' || x FROM n`); err != nil {
		t.Fatal(err)
	}
	for _, scheme := range []string{"http", "ws"} {
		t.Run(scheme, func(t *testing.T) {
			proxy := strings.Replace(stallingProxy(t, srv.Addr(), 16<<10), "http", scheme, 1)
			drv := openDriver(t, proxy, libsql.WithRequestTimeout(500*time.Millisecond))
			start := time.Now()
			rows, err := drv.DB().QueryContext(ctx, "SELECT id, v FROM "+tbl)
			if err == nil {
				n := 0
				for rows.Next() {
					n++
				}
				err = rows.Err()
				rows.Close()
				t.Logf("read %d rows before the stall", n)
			}
			took := time.Since(start)
			t.Logf("after %v: %v", took, err)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("want a deadline error from the stalled cursor, got %v", err)
			}
			if took > 10*time.Second {
				t.Fatalf("a request timeout of 500ms took %v against a stalled cursor", took)
			}
		})
	}
}
