// Command example is a small ent app on libSQL: users, posts and tags (a
// one-to-many and a many-to-many edge), a schema migration, an upsert and
// a transaction, through the client generated with the libSQL extension;
// and semantic search over the posts, stored as libSQL vectors.
//
//	go run ./example                                    # an embedded libSQL file
//	go run ./example -url http://127.0.0.1:8080         # a local sqld
//	go run ./example -search "turso for go"             # what to search the posts for
//	LIBSQL_URL='libsql://my-db-my-org.turso.io?authToken=...' go run ./example
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	_ "github.com/entlibsql/entlibsql/dialect/embedded" // file: URLs: the embedded engine (cgo)
	"github.com/entlibsql/entlibsql/dialect/libsql/vector"
	"github.com/entlibsql/entlibsql/example/ent"
	"github.com/entlibsql/entlibsql/example/ent/post"
	"github.com/entlibsql/entlibsql/example/ent/tag"
	"github.com/entlibsql/entlibsql/example/ent/user"
	libsqlschema "github.com/entlibsql/entlibsql/schema"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	dsn := fs.String("url", os.Getenv("LIBSQL_URL"), "database URL (default $LIBSQL_URL, else an embedded file in the user cache dir)")
	name := fs.String("user", "ada", "whose posts to write")
	search := fs.String("search", "migrating schemas", "what to search the posts for")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dsn == "" {
		file, err := defaultFile()
		if err != nil {
			return err
		}
		*dsn = "file:" + file
	}
	*dsn = withToken(*dsn, os.Getenv("LIBSQL_AUTH_TOKEN"))

	client, err := ent.Open("libsql", *dsn)
	if err != nil {
		return err
	}
	defer client.Close()
	fmt.Fprintf(out, "database: %s\n", describe(*dsn))

	// The migration: created on the first run, a no-op afterwards.
	if err := client.Schema.Create(ctx, libsqlschema.WithLibSQL()); err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	author, err := writePosts(ctx, client, *name)
	if err != nil {
		return err
	}
	if err := report(ctx, client, author, out); err != nil {
		return err
	}
	return searchPosts(ctx, client, author, *search, out)
}

// defaultFile is the embedded database of `go run ./example`.
func defaultFile() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "entlibsql-example")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return filepath.Join(dir, "example.db"), nil
}

// withToken adds LIBSQL_AUTH_TOKEN to a server URL that has no token.
func withToken(dsn, token string) string {
	if token == "" || strings.HasPrefix(dsn, "file:") || strings.Contains(dsn, "authToken=") {
		return dsn
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "authToken=" + url.QueryEscape(token)
}

// describe names the database without its token.
func describe(dsn string) string {
	if file, ok := strings.CutPrefix(dsn, "file:"); ok {
		return "embedded libSQL file " + strings.SplitN(file, "?", 2)[0]
	}
	if u, err := url.Parse(dsn); err == nil {
		return u.Scheme + "://" + u.Host
	}
	return "a libSQL server"
}

var posts = []struct {
	title string
	tags  []string
}{
	{"Hello, libSQL", []string{"libsql", "go"}},
	{"ent on Turso", []string{"ent", "go", "turso"}},
	{"One stream per migration", []string{"ent", "libsql"}},
}

// writePosts upserts the author and the tags, and replaces the author's
// posts, in one transaction: all of it lands or none.
func writePosts(ctx context.Context, client *ent.Client, name string) (int, error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return 0, err
	}
	fail := func(err error) (int, error) {
		return 0, errors.Join(err, tx.Rollback())
	}
	// Upserts: the author by name, the tags by name.
	id, err := tx.User.Create().SetName(name).SetEmail(name + "@example.com").
		OnConflictColumns(user.FieldName).UpdateEmail().ID(ctx)
	if err != nil {
		return fail(err)
	}
	var names []string
	for _, p := range posts {
		names = append(names, p.tags...)
	}
	names = unique(names)
	creates := make([]*ent.TagCreate, len(names))
	for i, n := range names {
		creates[i] = tx.Tag.Create().SetName(n)
	}
	if err := tx.Tag.CreateBulk(creates...).OnConflictColumns(tag.FieldName).Ignore().Exec(ctx); err != nil {
		return fail(err)
	}
	tags, err := tx.Tag.Query().Where(tag.NameIn(names...)).All(ctx)
	if err != nil {
		return fail(err)
	}
	byName := map[string]*ent.Tag{}
	for _, t := range tags {
		byName[t.Name] = t
	}
	if _, err := tx.Post.Delete().Where(post.HasAuthorWith(user.ID(id))).Exec(ctx); err != nil {
		return fail(err)
	}
	for _, p := range posts {
		c := tx.Post.Create().SetTitle(p.title).SetAuthorID(id).
			SetEmbedding(embed(p.title + " " + strings.Join(p.tags, " ")))
		for _, n := range p.tags {
			c.AddTags(byName[n])
		}
		if err := c.Exec(ctx); err != nil {
			return fail(err)
		}
	}
	return id, tx.Commit()
}

// report prints the author's posts with their tags (eager loading), and
// how many of them carry each tag.
func report(ctx context.Context, client *ent.Client, id int, out io.Writer) error {
	u, err := client.User.Query().Where(user.ID(id)).
		WithPosts(func(q *ent.PostQuery) {
			q.Order(ent.Asc(post.FieldID)).WithTags(func(q *ent.TagQuery) { q.Order(ent.Asc(tag.FieldName)) })
		}).Only(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s's posts:\n", u.Name)
	count := map[string]int{}
	for _, p := range u.Edges.Posts {
		var names []string
		for _, t := range p.Edges.Tags {
			names = append(names, t.Name)
			count[t.Name]++
		}
		fmt.Fprintf(out, "  %-26s %s\n", p.Title, strings.Join(names, ", "))
	}
	var names []string
	for n := range count {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprint(out, "tags:")
	for _, n := range names {
		fmt.Fprintf(out, " %s %d", n, count[n])
	}
	fmt.Fprintln(out)
	return nil
}

// searchPosts prints the author's two posts nearest in meaning to query,
// by the exact distance to each of them, with their tags. An author has
// a few posts, and an exact distance reads only those; the vector index
// (vector.Nearest) is for searching many rows. It would also miss some
// of these: every author here writes the same posts, and libSQL's index
// loses some of a set of identical vectors (see the README).
func searchPosts(ctx context.Context, client *ent.Client, id int, query string, out io.Writer) error {
	q := embed(query)
	found, err := client.Post.Query().
		Where(post.HasAuthorWith(user.ID(id))).
		Order(vector.CosineDistance(post.FieldEmbedding, q).Asc(), ent.Asc(post.FieldID)).
		Limit(2).
		WithTags(func(q *ent.TagQuery) { q.Order(ent.Asc(tag.FieldName)) }).
		All(ctx)
	if err != nil {
		return fmt.Errorf("searching: %w", err)
	}
	fmt.Fprintf(out, "nearest to %q:\n", query)
	for _, p := range found {
		var names []string
		for _, t := range p.Edges.Tags {
			names = append(names, t.Name)
		}
		fmt.Fprintf(out, "  %-26s %s\n", p.Title, strings.Join(names, ", "))
	}
	return nil
}

func unique(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
