package libsql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// calls records what ent's migration sends a driver, from its
// "PRAGMA foreign_keys = off" on, with a run of plan statements as one
// entry, and the transactions it opened.
type calls struct {
	mu  sync.Mutex
	log []string
	txs []dialect.Tx
	on  bool
}

func (c *calls) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if strings.Contains(s, "PRAGMA foreign_keys = off") {
		c.on = true
	}
	if !c.on {
		return
	}
	if s == "tx Exec <plan>" && len(c.log) > 0 && c.log[len(c.log)-1] == s {
		return
	}
	c.log = append(c.log, s)
}

type recordingDriver struct {
	*Driver
	c *calls
}

func (d recordingDriver) Exec(ctx context.Context, query string, args, v any) error {
	d.c.add("driver Exec " + query)
	return d.Driver.Exec(ctx, query, args, v)
}

func (d recordingDriver) Query(ctx context.Context, query string, args, v any) error {
	if d.c.on {
		d.c.add("driver Query " + query)
	}
	return d.Driver.Query(ctx, query, args, v)
}

func (d recordingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	d.c.add("driver Tx")
	tx, err := d.Driver.Tx(ctx)
	d.c.mu.Lock()
	d.c.txs = append(d.c.txs, tx)
	d.c.mu.Unlock()
	return recordingTx{tx, d.c}, err
}

type recordingTx struct {
	dialect.Tx
	c *calls
}

func (t recordingTx) Exec(ctx context.Context, query string, args, v any) error {
	t.c.add("tx Exec <plan>")
	return t.Tx.Exec(ctx, query, args, v)
}

func (t recordingTx) Query(ctx context.Context, query string, args, v any) error {
	t.c.add("tx Query " + query)
	return t.Tx.Query(ctx, query, args, v)
}

func (t recordingTx) Commit() error   { t.c.add("tx Commit"); return t.Tx.Commit() }
func (t recordingTx) Rollback() error { t.c.add("tx Rollback"); return t.Tx.Rollback() }

// The interception of ent's Schema.Create rests on the exact sequence ent
// and Atlas send (see entmigrate.go). This pins it, against the ent and
// Atlas in go.mod: if an upgrade changes it, this fails here, rather than
// a migration running on a pooled connection with foreign keys on.
func TestEntMigrationSequence(t *testing.T) {
	drv, err := Open(sqldtest.URL(), WithAuthToken(sqldtest.AuthToken()))
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	ctx := context.Background()
	prefix := fmt.Sprintf("seq%d", time.Now().UnixNano()%1e9)
	want := []string{
		"driver Exec PRAGMA foreign_keys = off",
		"driver Tx",
		"tx Query PRAGMA foreign_key_check",
		"tx Exec <plan>",
		"tx Query PRAGMA foreign_key_check",
		"tx Commit",
		"driver Exec PRAGMA foreign_keys = on",
	}
	for _, step := range []struct {
		name string
		f    migratetest.Family
	}{
		{"create", migratetest.NewFamily(prefix, false)},
		{"rebuild", migratetest.NewFamily(prefix, true)},
	} {
		c := &calls{}
		if err := migratetest.Migrate(ctx, recordingDriver{drv, c}, step.f.Tables()); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got := strings.Join(c.log, "\n"); got != strings.Join(want, "\n") {
			t.Fatalf("%s: ent and Atlas sent:\n%s\n\nthe interception expects:\n%s", step.name, got, strings.Join(want, "\n"))
		}
		if len(c.txs) != 1 {
			t.Fatalf("%s: %d transactions", step.name, len(c.txs))
		}
		lt, ok := c.txs[0].(*lazyTx)
		if !ok {
			t.Fatalf("%s: the transaction is a %T, not one that waits for its first statement", step.name, c.txs[0])
		}
		if m, ok := lt.tx.(*Migration); !ok || !m.atlas || m.guard == nil {
			t.Fatalf("%s: the migration ran in a %T, not a Migration", step.name, lt.tx)
		}
		if drv.fk.pending() || drv.fk.taken != 0 {
			t.Fatalf("%s: foreign-key requests left: %d waiting, %d taken", step.name, drv.fk.waiting, drv.fk.taken)
		}
		if step.name == "create" {
			migratetest.Fill(t, drv.DB(), step.f)
		}
	}
}

// A migration that no longer opens as ent's does (foreign keys asked off,
// but the transaction's first statement something else) does not run a
// table rebuild with foreign keys on: DROP TABLE is refused, loudly.
func TestChangedMigrationSequenceFailsLoudly(t *testing.T) {
	drv, err := Open(sqldtest.URL(), WithAuthToken(sqldtest.AuthToken()))
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	ctx := context.Background()
	name := fmt.Sprintf("seqx%d", time.Now().UnixNano()%1e9)
	if err := drv.Exec(ctx, "PRAGMA foreign_keys = off", []any{}, nil); err != nil {
		t.Fatal(err)
	}
	defer drv.Exec(ctx, "PRAGMA foreign_keys = on", []any{}, nil)
	tx, err := drv.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.Exec(ctx, "CREATE TABLE "+name+" (id integer PRIMARY KEY)", []any{}, nil); err != nil {
		t.Fatal(err)
	}
	err = tx.Exec(ctx, "DROP TABLE "+name, []any{}, nil)
	if !errors.Is(err, errUnpinnedRebuild) || !strings.Contains(err.Error(), "foreign keys on") {
		t.Fatalf("DROP TABLE in a transaction that did not open as ent's migration: %v", err)
	}
}
