// Command example is a small ent app on libSQL: it migrates its schema,
// writes a user's todos in one transaction, and reads them back with
// eager loading and an aggregate.
//
//	go run ./example -url http://127.0.0.1:8080
//	LIBSQL_URL=libsql://my-db-my-org.turso.io LIBSQL_AUTH_TOKEN=... go run ./example
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/example/ent"
	"github.com/entlibsql/entlibsql/example/ent/todo"
	"github.com/entlibsql/entlibsql/example/ent/user"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	url := fs.String("url", os.Getenv("LIBSQL_URL"), "database URL (default $LIBSQL_URL)")
	name := fs.String("user", "ada", "whose todo list to write")
	debug := fs.Bool("debug", false, "log every request to the server")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		return errors.New("no database URL: pass -url or set LIBSQL_URL (for a local sqld: -url http://127.0.0.1:8080)")
	}
	opts := []libsql.Option{}
	if tok := os.Getenv("LIBSQL_AUTH_TOKEN"); tok != "" {
		opts = append(opts, libsql.WithAuthToken(tok))
	}
	if *debug {
		opts = append(opts, libsql.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	drv, err := libsql.Open(*url, opts...)
	if err != nil {
		return err
	}
	client := ent.NewClient(ent.Driver(drv))
	defer client.Close()

	if err := client.Schema.Create(ctx); err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	owner, err := writeTodos(ctx, client, *name)
	if err != nil {
		return err
	}
	return report(ctx, client, owner, out)
}

// writeTodos replaces the user's list in one transaction: either all of
// it lands or none.
func writeTodos(ctx context.Context, client *ent.Client, name string) (*ent.User, error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	owner, err := tx.User.Query().Where(user.Name(name)).Only(ctx)
	if ent.IsNotFound(err) {
		owner, err = tx.User.Create().SetName(name).Save(ctx)
	}
	if err != nil {
		return nil, rollback(tx, err)
	}
	if _, err := tx.Todo.Delete().Where(todo.HasOwnerWith(user.ID(owner.ID))).Exec(ctx); err != nil {
		return nil, rollback(tx, err)
	}
	items := []struct {
		title    string
		priority todo.Priority
		done     bool
	}{
		{"read the Hrana spec", todo.PriorityHigh, true},
		{"point ent at Turso", todo.PriorityHigh, false},
		{"water the plants", todo.PriorityLow, false},
	}
	bulk := make([]*ent.TodoCreate, len(items))
	for i, it := range items {
		bulk[i] = tx.Todo.Create().SetTitle(it.title).SetPriority(it.priority).SetOwner(owner)
		if it.done {
			bulk[i].SetDoneAt(time.Now())
		}
	}
	if _, err := tx.Todo.CreateBulk(bulk...).Save(ctx); err != nil {
		return nil, rollback(tx, err)
	}
	return owner, tx.Commit()
}

func rollback(tx *ent.Tx, err error) error {
	if rerr := tx.Rollback(); rerr != nil {
		return fmt.Errorf("%w (and rolling back: %v)", err, rerr)
	}
	return err
}

// report prints the list, eager-loaded with its owner, and a count per
// priority.
func report(ctx context.Context, client *ent.Client, owner *ent.User, out io.Writer) error {
	u, err := client.User.Query().Where(user.ID(owner.ID)).
		WithTodos(func(q *ent.TodoQuery) { q.Order(ent.Asc(todo.FieldID)) }).
		Only(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s's todos:\n", u.Name)
	for _, t := range u.Edges.Todos {
		mark := " "
		if t.DoneAt != nil {
			mark = "x"
		}
		fmt.Fprintf(out, "  [%s] %-22s %s\n", mark, t.Title, t.Priority)
	}
	var counts []struct {
		Priority todo.Priority `json:"priority"`
		Count    int           `json:"count"`
	}
	err = client.Todo.Query().Where(todo.HasOwnerWith(user.ID(u.ID))).
		GroupBy(todo.FieldPriority).Aggregate(ent.Count()).Scan(ctx, &counts)
	if err != nil {
		return err
	}
	for _, c := range counts {
		fmt.Fprintf(out, "%s: %d\n", c.Priority, c.Count)
	}
	return nil
}
