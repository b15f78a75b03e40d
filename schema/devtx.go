package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/ddl"
	"github.com/entlibsql/entlibsql/internal/rebuild"
)

// Diff replays the directory on the dev database twice (once for ent's
// plan, once for the catalog its rebuilds keep), inspects it four times
// (ent's replay mode) and empties it again. Statement by statement that is
// a request per statement, twice, and a request per object dropped: 368
// for 50 tables. So all of it runs in one transaction on the dev
// database, rolled back at the end, which leaves it as empty as it was
// found:
//
//   - statements whose results nobody reads (the replays, Atlas's
//     cleanup) wait and go together with the next query: the libSQL
//     driver's migration (BeginReplay) sends what it holds in one request;
//   - the first statement that waits takes a savepoint: the catalog's
//     replay starts from it, from the empty database, and only when the
//     plan has a rebuild to keep things through;
//   - what Atlas's cleanup holds back when the catalog is read, or at the
//     end, is dropped unsent: the rollback undoes it anyway.
//
// The transaction is the one the statement-by-statement replay used for
// the catalog (foreign keys on, checked as each statement runs), so a
// directory replays in it exactly when it replayed there. Anything that
// fails in it is rolled back and Diff runs again statement by statement
// (diffReplaying), which says which file and statement failed as before.

// replayer is a driver that opens BeginReplay's transaction.
type replayer interface {
	BeginReplay(ctx context.Context) (*libsql.Migration, error)
}

// savepoint is where the catalog's replay starts.
const savepoint = "entlibsql_dev_replay"

// devTx is the dev database's transaction, as the dialect.Driver ent's
// migrate runs on.
type devTx struct {
	m     *libsql.Migration
	held  []heldStmt // waiting for the next query
	saved bool       // the savepoint is taken (held or sent)
}

type heldStmt struct {
	query string
	args  any
}

var _ dialect.Driver = (*devTx)(nil)

// Exec holds back a statement whose result nobody reads (Atlas reads
// none of its replay's or cleanup's), and runs any other after what is
// held.
func (t *devTx) Exec(ctx context.Context, query string, args, v any) error {
	res, ok := v.(*sql.Result)
	if v != nil && !ok {
		if err := t.send(ctx, false); err != nil {
			return err
		}
		return t.m.Exec(ctx, query, args, v)
	}
	t.hold(query, args)
	if ok {
		*res = heldResult{}
	}
	return nil
}

// Query runs a query after what is held. One that may write takes the
// savepoint first.
func (t *devTx) Query(ctx context.Context, query string, args, v any) error {
	if err := t.send(ctx, !isRead(query)); err != nil {
		return err
	}
	return t.m.Query(ctx, query, args, v)
}

func (t *devTx) hold(query string, args any) {
	t.save()
	t.held = append(t.held, heldStmt{query, args})
}

// save takes the savepoint, before the first statement that may write.
func (t *devTx) save() {
	if !t.saved {
		t.held = append(t.held, heldStmt{query: "SAVEPOINT " + savepoint, args: []any{}})
		t.saved = true
	}
}

// send hands what is held to the migration, which sends it with the
// query that follows; writes takes the savepoint first.
func (t *devTx) send(ctx context.Context, writes bool) error {
	if writes {
		t.save()
	}
	held := t.held
	t.held = nil
	for _, h := range held {
		if err := t.m.Exec(ctx, h.query, h.args, nil); err != nil {
			return err
		}
	}
	return nil
}

// catalog is the schema the files build, read in the transaction: back
// at the savepoint (dropping unsent what waits: it would be undone), the
// files replayed, the catalog read.
func (t *devTx) catalog(ctx context.Context, stmts []fileStmt) (*rebuild.Catalog, error) {
	t.held = nil
	if t.saved {
		t.held = append(t.held, heldStmt{query: "ROLLBACK TO " + savepoint, args: []any{}})
	}
	for _, s := range stmts {
		t.hold(s.text, []any{})
	}
	return rebuild.Read(ctx, t)
}

// Tx is refused: Diff's migrate runs in the transaction it has.
func (t *devTx) Tx(context.Context) (dialect.Tx, error) {
	return nil, errors.New("diff: a transaction inside the dev database's transaction")
}

// Close does nothing: Diff ends the transaction.
func (t *devTx) Close() error { return nil }

// Dialect is SQLite's, as for the libSQL driver.
func (t *devTx) Dialect() string { return dialect.SQLite }

// heldResult is the result of a statement held back: not known.
type heldResult struct{}

var errHeld = errors.New("diff: the statement's result is not known: it was held back to go with the next query")

func (heldResult) LastInsertId() (int64, error) { return 0, errHeld }
func (heldResult) RowsAffected() (int64, error) { return 0, errHeld }

// isRead reports whether query only reads: a SELECT, or a PRAGMA that sets
// nothing. It reads the leading keyword; anything else counts as a write.
func isRead(query string) bool {
	toks := ddl.Tokens(query)
	if len(toks) == 0 {
		return false
	}
	if toks[0].Is("SELECT") {
		return true
	}
	if !toks[0].Is("PRAGMA") {
		return false
	}
	for _, tk := range toks[1:] {
		if tk.Kind == ddl.Punct && (tk.Text == "=" || tk.Text == "(") {
			return false
		}
	}
	return true
}

// fileStmt is a statement of a migration file, where the file has it.
type fileStmt struct {
	file  string
	index int // from 1
	text  string
}

// dirStmts lists the statements of dir's files, split as Atlas splits
// them.
func dirStmts(adrv migrate.Driver, files []migrate.File) ([]fileStmt, error) {
	var out []fileStmt
	for _, f := range files {
		decls, err := migrate.FileStmtDecls(adrv, f)
		if err != nil {
			return nil, &FileError{File: f.Name(), Err: fmt.Errorf("reading statements: %w", err)}
		}
		for i, d := range decls {
			out = append(out, fileStmt{file: f.Name(), index: i + 1, text: d.Text})
		}
	}
	return out, nil
}

// controlsTransactions reports whether a statement begins, ends or
// marks a transaction (BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE):
// run in Diff's transaction, it could end it and leave the dev database
// holding what it replayed. Such a directory replays statement by
// statement.
func controlsTransactions(stmts []fileStmt) bool {
	for _, s := range stmts {
		toks := ddl.Tokens(s.text)
		if len(toks) == 0 {
			continue
		}
		for _, kw := range []string{"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"} {
			if toks[0].Is(kw) {
				return true
			}
		}
	}
	return false
}
