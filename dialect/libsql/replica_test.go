package libsql_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/internal/testent/ent"
)

// primaryAndReplica starts a sqld primary and a replica of it, both
// stopped with the test.
func primaryAndReplica(t *testing.T) (primary, replica *sqldtest.Server) {
	t.Helper()
	ctx := context.Background()
	grpc := freeAddr(t)
	primary, err := sqldtest.Start(ctx, sqldtest.Options{Args: []string{"--grpc-listen-addr", grpc}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { primary.Stop() })
	replica, err = sqldtest.Start(ctx, sqldtest.Options{Args: []string{"--primary-grpc-url", "http://" + grpc}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { replica.Stop() })
	return primary, replica
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Through a replica, the driver reads its own writes on every pooled
// connection: each autocommit statement is a fresh stream, which waits
// for the replication index the driver last saw. Also an interactive
// transaction on the replica.
func TestReplicaReadYourWrites(t *testing.T) {
	if sqldtest.External() {
		t.Log("starts its own primary and replica; the external server is not used here")
	}
	_, replica := primaryAndReplica(t)
	ctx := context.Background()
	for _, url := range []string{replica.URL(), wsURL(replica.URL())} {
		c := ent.NewClient(ent.Driver(openDriver(t, url)))
		if err := c.Schema.Create(ctx); err != nil {
			t.Fatal(err)
		}
		const tries = 100
		seen := 0
		for i := 0; i < tries; i++ {
			u, err := c.User.Create().SetName(fmt.Sprintf("ryw-%s-%d", url[:2], i)).SetAge(i).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := c.User.Get(ctx, u.ID); err == nil && got.Age == i {
				seen++
			}
		}
		t.Logf("read-your-writes through the replica over %s: %d of %d", url[:strings.Index(url, ":")], seen, tries)
		if seen != tries {
			t.Fatalf("read-your-writes through the replica: %d of %d", seen, tries)
		}
	}
	c := ent.NewClient(ent.Driver(openDriver(t, replica.URL())))

	tx, err := c.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u := tx.User.Create().SetName("in-tx").SetAge(1).SaveX(ctx)
	if got := tx.User.GetX(ctx, u.ID); got.Name != "in-tx" {
		t.Fatalf("inside the transaction: %v", got)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.User.Get(ctx, u.ID); err != nil || got.Name != "in-tx" {
		t.Fatalf("after the transaction: %v, %v", got, err)
	}
}
