package libsql_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/internal/testent/ent"
	"github.com/entlibsql/entlibsql/internal/testent/ent/user"
)

// jwtServer starts a sqld that accepts only tokens of a key made here.
func jwtServer(t *testing.T) (*sqldtest.Server, *sqldtest.JWTKey) {
	t.Helper()
	key, err := sqldtest.NewJWTKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sqldtest.Start(context.Background(), sqldtest.Options{Args: key.Args()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	return srv, key
}

// crudThrough runs ent CRUD on a driver: the schema, a create, an edge,
// an eager load, an update in a transaction and a constraint error.
func crudThrough(t *testing.T, drv *libsql.Driver) {
	t.Helper()
	ctx := context.Background()
	c := ent.NewClient(ent.Driver(drv))
	if err := c.Schema.Create(ctx); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("crud-%d", time.Now().UnixNano())
	u := c.User.Create().SetName(name).SetAge(1).SaveX(ctx)
	c.Post.Create().SetTitle("p").SetAuthor(u).ExecX(ctx)
	got := c.User.Query().Where(user.Name(name)).WithPosts().OnlyX(ctx)
	if len(got.Edges.Posts) != 1 {
		t.Fatalf("eager load: %+v", got.Edges)
	}
	tx, err := c.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx.User.UpdateOneID(u.ID).SetAge(2).ExecX(ctx)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if c.User.GetX(ctx, u.ID).Age != 2 {
		t.Fatal("the transaction was lost")
	}
	if _, err := c.User.Create().SetName(name).SetAge(3).Save(ctx); !ent.IsConstraintError(err) {
		t.Fatalf("constraint error: %v", err)
	}
}

func TestJWTAuth(t *testing.T) {
	srv, key := jwtServer(t)
	good := key.Token(map[string]any{"a": "rw"})

	for _, base := range []string{srv.URL(), wsURL(srv.URL())} {
		t.Run("good token "+base[:strings.Index(base, ":")], func(t *testing.T) {
			crudThrough(t, openDriver(t, base+"?authToken="+good))
		})
	}
	other, err := sqldtest.NewJWTKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]string{
		"missing": "",
		"wrong":   other.Token(map[string]any{"a": "rw"}),
		"expired": key.Token(map[string]any{"a": "rw", "exp": time.Now().Add(-time.Hour).Unix()}),
	}
	for name, tok := range bad {
		for _, base := range []string{srv.URL(), wsURL(srv.URL())} {
			t.Run(name+" token "+base[:strings.Index(base, ":")], func(t *testing.T) {
				badToken(t, base, tok)
			})
		}
	}
	t.Run("rotating token", func(t *testing.T) {

		var calls atomic.Int64
		drv := openDriver(t, srv.URL(), libsql.WithAuthTokenFunc(func(context.Context) (string, error) {
			calls.Add(1)
			return key.Token(map[string]any{"a": "rw", "exp": time.Now().Add(time.Minute).Unix()}), nil
		}))
		crudThrough(t, drv)
		if calls.Load() == 0 {
			t.Fatal("the token function was never called")
		}
	})
	t.Run("token function fails", func(t *testing.T) {
		drv := openDriver(t, srv.URL(), libsql.WithAuthTokenFunc(func(context.Context) (string, error) {
			return "", errors.New("vault unreachable")
		}))
		_, err := drv.DB().ExecContext(context.Background(), "SELECT 1")
		if err == nil || !strings.Contains(err.Error(), "vault unreachable") {
			t.Fatalf("want the token function's error, got %v", err)
		}
	})
}

// badToken checks that a missing, wrong or expired token fails with an
// authentication error that does not contain it.
func badToken(t *testing.T, base, tok string) {
	drv, err := libsql.Open(base, libsql.WithAuthToken(tok))
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	_, err = drv.DB().ExecContext(context.Background(), "SELECT 1")
	var le *libsql.Error
	if err == nil || !strings.Contains(err.Error(), "authentication failed") || !errors.As(err, &le) || le.HTTPStatus != 401 {
		t.Fatalf("want an authentication error (401), got %v", err)
	}
	if tok != "" && strings.Contains(err.Error(), tok) {
		t.Fatal("the error contains the token")
	}
}

// Over TLS: a TLS-terminating proxy in front of sqld, its certificate
// trusted through WithTLSConfig. Without it the certificate is refused:
// nothing falls back to plain text.
func TestTLS(t *testing.T) {
	p, err := sqldtest.NewTLSProxy(serverURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(p.CertPEM())
	host := strings.TrimPrefix(p.URL(), "https://")
	for _, dsn := range []string{"libsql://" + host, "https://" + host, "sqlite+libsql://" + host + "/?secure=true", "wss://" + host} {
		t.Run(dsn[:strings.Index(dsn, ":")], func(t *testing.T) {
			crudThrough(t, openDriver(t, dsn, libsql.WithTLSConfig(&tls.Config{RootCAs: roots})))
			untrusted := openDriver(t, dsn)
			_, err := untrusted.DB().ExecContext(context.Background(), "SELECT 1")
			if err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("an untrusted certificate was accepted: %v", err)
			}
		})
	}
}

// A server that cannot be reached is named as such, not as database/sql's
// "bad connection" after its retries.
func TestUnreachableServerSaysWhy(t *testing.T) {
	drv := openDriver(t, "http://"+freeAddr(t)) // nothing listens there
	_, err := drv.DB().ExecContext(context.Background(), "SELECT 1")
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("want the refused connection in the error, got %v", err)
	}
}
