package libsql_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql/sqlgraph"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/testent/ent"
	"github.com/entlibsql/entlibsql/internal/testent/ent/post"
	"github.com/entlibsql/entlibsql/internal/testent/ent/tag"
	"github.com/entlibsql/entlibsql/internal/testent/ent/user"
)

func TestCRUD(t *testing.T) {
	c := entClient(t)
	ctx := context.Background()
	name := uniq(t, "ada")
	u, err := c.User.Create().SetName(name).SetAge(36).SetNickname("countess").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.User.Query().Where(user.Name(name)).Only(ctx)
	if err != nil || got.ID != u.ID || got.Age != 36 || *got.Nickname != "countess" || got.Email != "" {
		t.Fatalf("read back: %+v, %v", got, err)
	}
	if !got.CreatedAt.Equal(u.CreatedAt) {
		t.Fatalf("created_at %v != %v", got.CreatedAt, u.CreatedAt)
	}
	u, err = u.Update().AddAge(1).SetEmail("ada@example.com").ClearNickname().Save(ctx)
	if err != nil || u.Age != 37 || u.Nickname != nil {
		t.Fatalf("update: %+v, %v", u, err)
	}
	n, err := c.User.Update().Where(user.Name(name)).SetAge(40).Save(ctx)
	if err != nil || n != 1 {
		t.Fatalf("bulk update: %d, %v", n, err)
	}
	if err := c.User.DeleteOne(u).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = c.User.Get(ctx, u.ID)
	if !ent.IsNotFound(err) {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestEdgesAndEagerLoading(t *testing.T) {
	c := entClient(t)
	ctx := context.Background()
	t1 := c.Tag.Create().SetName(uniq(t, "go")).SaveX(ctx)
	t2 := c.Tag.Create().SetName(uniq(t, "db")).SaveX(ctx)
	parent := c.User.Create().SetName(uniq(t, "parent")).SetAge(60).SaveX(ctx)
	a := c.User.Create().SetName(uniq(t, "a")).SetAge(30).SetParent(parent).SaveX(ctx)
	b := c.User.Create().SetName(uniq(t, "b")).SetAge(31).SetParent(parent).AddFriends(a).SaveX(ctx)
	c.Card.Create().SetNumber(uniq(t, "card")).SetExpired(time.Now().Add(time.Hour)).SetOwner(a).SaveX(ctx)
	for i := 0; i < 3; i++ {
		c.Post.Create().SetTitle(uniq(t, "post")).SetAuthor(a).AddTags(t1, t2).SaveX(ctx)
	}

	got, err := c.User.Query().Where(user.ID(a.ID)).
		WithCard().WithParent().WithFriends().
		WithPosts(func(q *ent.PostQuery) { q.WithTags().Order(ent.Asc(post.FieldID)) }).
		Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Edges.Card == nil || got.Edges.Parent.ID != parent.ID || len(got.Edges.Friends) != 1 || got.Edges.Friends[0].ID != b.ID {
		t.Fatalf("edges: %+v", got.Edges)
	}
	if len(got.Edges.Posts) != 3 || len(got.Edges.Posts[0].Edges.Tags) != 2 {
		t.Fatalf("posts/tags: %+v", got.Edges.Posts)
	}
	// Traversals, both ways across the M2M and the self-references.
	if n := c.Tag.Query().Where(tag.ID(t1.ID)).QueryPosts().QueryAuthor().QueryChildren().CountX(ctx); n != 0 {
		t.Fatalf("a has %d children", n)
	}
	if n := parent.QueryChildren().CountX(ctx); n != 2 {
		t.Fatalf("parent has %d children, want 2", n)
	}
	if n := b.QueryFriends().CountX(ctx); n != 1 { // friends is bidirectional
		t.Fatalf("b has %d friends", n)
	}
	// The card's required owner blocks deleting the user while it exists.
	if err := c.User.DeleteOne(a).Exec(ctx); !sqlgraph.IsForeignKeyConstraintError(err) {
		t.Fatalf("deleting a card owner: %v", err)
	}
	c.Card.DeleteOne(got.Edges.Card).ExecX(ctx)
	// Deleting the author cascades to the posts in the database; the M2M
	// rows of those posts go with them.
	c.User.DeleteOne(a).ExecX(ctx)
	if n := c.Post.Query().Where(post.HasAuthorWith(user.ID(a.ID))).CountX(ctx); n != 0 {
		t.Fatalf("%d posts survived their author", n)
	}
	if n := t1.QueryPosts().CountX(ctx); n != 0 {
		t.Fatalf("tag still has %d posts", n)
	}
}

func TestAggregatesOrderingPaging(t *testing.T) {
	c := entClient(t)
	ctx := context.Background()
	author := c.User.Create().SetName(uniq(t, "author")).SetAge(1).SaveX(ctx)
	prefix := uniq(t, "p")
	bulk := make([]*ent.PostCreate, 25)
	for i := range bulk {
		bulk[i] = c.Post.Create().SetTitle(prefix).SetViews(i).SetPublished(i%2 == 0).SetAuthor(author)
	}
	c.Post.CreateBulk(bulk...).ExecX(ctx)
	q := func() *ent.PostQuery { return c.Post.Query().Where(post.Title(prefix)) }

	if n := q().CountX(ctx); n != 25 {
		t.Fatalf("count %d", n)
	}
	sum := q().Aggregate(ent.Sum(post.FieldViews)).IntX(ctx)
	if sum != 300 {
		t.Fatalf("sum %d", sum)
	}
	var groups []struct {
		Published bool `json:"published"`
		Count     int  `json:"count"`
		Max       int  `json:"max"`
	}
	q().GroupBy(post.FieldPublished).Aggregate(ent.Count(), ent.Max(post.FieldViews)).ScanX(ctx, &groups)
	if len(groups) != 2 {
		t.Fatalf("groups: %+v", groups)
	}
	for _, g := range groups {
		if (g.Published && (g.Count != 13 || g.Max != 24)) || (!g.Published && (g.Count != 12 || g.Max != 23)) {
			t.Fatalf("group: %+v", g)
		}
	}
	page := q().Order(ent.Desc(post.FieldViews)).Offset(10).Limit(5).AllX(ctx)
	if len(page) != 5 || page[0].Views != 14 || page[4].Views != 10 {
		t.Fatalf("page: %v", page)
	}
	exists, err := q().Where(post.ViewsGT(23)).Exist(ctx)
	if err != nil || !exists {
		t.Fatalf("exist: %v %v", exists, err)
	}
	if _, err := q().Where(post.ViewsGT(100)).First(ctx); !ent.IsNotFound(err) {
		t.Fatalf("first of none: %v", err)
	}
	if _, err := q().Only(ctx); !ent.IsNotSingular(err) {
		t.Fatalf("only of many: %v", err)
	}
}

func TestUpsert(t *testing.T) {
	c := entClient(t)
	ctx := context.Background()
	name := uniq(t, "up")
	id1, err := c.User.Create().SetName(name).SetAge(1).OnConflictColumns(user.FieldName).UpdateNewValues().ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := c.User.Create().SetName(name).SetAge(2).OnConflictColumns(user.FieldName).UpdateAge().ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id1 != id2 {
		t.Fatalf("upsert gave a new id: %d then %d", id1, id2)
	}
	if u := c.User.GetX(ctx, id1); u.Age != 2 {
		t.Fatalf("age after upsert: %d", u.Age)
	}
	err = c.User.Create().SetName(name).SetAge(3).OnConflictColumns(user.FieldName).Ignore().Exec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u := c.User.GetX(ctx, id1); u.Age != 3 && u.Age != 2 {
		t.Fatalf("age after ignore: %d", u.Age)
	}
	// Bulk upsert.
	names := []string{uniq(t, "x"), uniq(t, "y"), name}
	bulk := make([]*ent.UserCreate, len(names))
	for i, n := range names {
		bulk[i] = c.User.Create().SetName(n).SetAge(10)
	}
	if err := c.User.CreateBulk(bulk...).OnConflictColumns(user.FieldName).UpdateNewValues().Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if n := c.User.Query().Where(user.NameIn(names...), user.Age(10)).CountX(ctx); n != 3 {
		t.Fatalf("bulk upsert touched %d rows", n)
	}
}

func TestCreateBulk1000(t *testing.T) {
	c := entClient(t)
	ctx := context.Background()
	author := c.User.Create().SetName(uniq(t, "bulk")).SetAge(1).SaveX(ctx)
	title := uniq(t, "bulk")
	bulk := make([]*ent.PostCreate, 1000)
	for i := range bulk {
		bulk[i] = c.Post.Create().SetTitle(title).SetViews(i).SetAuthor(author)
	}
	posts, err := c.Post.CreateBulk(bulk...).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// IDs come from last_insert_rowid: they must match the rows.
	for i, p := range posts {
		got := c.Post.GetX(ctx, p.ID)
		if got.Views != i {
			t.Fatalf("post %d has views %d, want %d", p.ID, got.Views, i)
		}
		if i == 20 {
			break // a sample is enough; the count below checks the rest
		}
	}
	if n := c.Post.Query().Where(post.Title(title)).CountX(ctx); n != 1000 {
		t.Fatalf("%d rows", n)
	}
	if n := c.Post.Query().Where(post.Title(title), post.IDIn(posts[999].ID), post.Views(999)).CountX(ctx); n != 1 {
		t.Fatal("last id does not match the last row")
	}
}

func TestTransactions(t *testing.T) {
	entClient(t) // the schema
	// Two clients on one driver: the second's queries take other pooled
	// connections than the transaction's. (One driver, because through a
	// replica reads follow the writes of their own driver.)
	drv := openDriver(t, "")
	c, other := ent.NewClient(ent.Driver(drv)), ent.NewClient(ent.Driver(drv))
	ctx := context.Background()

	name := uniq(t, "tx")
	tx, err := c.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u := tx.User.Create().SetName(name).SetAge(1).SaveX(ctx)
	tx.Post.Create().SetTitle(name).SetAuthor(u).SaveX(ctx)
	if n := tx.User.Query().Where(user.Name(name)).CountX(ctx); n != 1 {
		t.Fatal("the transaction does not see its own write")
	}
	if n := other.User.Query().Where(user.Name(name)).CountX(ctx); n != 0 {
		t.Fatal("another connection sees an uncommitted write")
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := other.User.Query().Where(user.Name(name)).CountX(ctx); n != 1 {
		t.Fatal("another connection does not see the committed write")
	}

	rolled := uniq(t, "rolled")
	tx, err = c.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx.User.Create().SetName(rolled).SetAge(1).SaveX(ctx)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.User.Query().Where(user.Name(rolled)).Only(ctx); !ent.IsNotFound(err) {
		t.Fatalf("rolled back row: %v", err)
	}

	// A failing statement inside a transaction, then rollback: nothing stays.
	failed := uniq(t, "failed")
	tx, _ = c.Tx(ctx)
	tx.User.Create().SetName(failed).SetAge(1).SaveX(ctx)
	if _, err := tx.User.Create().SetName(failed).SetAge(2).Save(ctx); !ent.IsConstraintError(err) {
		t.Fatalf("duplicate in tx: %v", err)
	}
	tx.Rollback()
	if n := c.User.Query().Where(user.Name(failed)).CountX(ctx); n != 0 {
		t.Fatalf("%d rows after rollback", n)
	}
	// ent's WithTx-style helper: an error rolls back.
	err = withTx(ctx, c, func(tx *ent.Tx) error {
		tx.User.Create().SetName(uniq(t, "helper")).SetAge(1).SaveX(ctx)
		return errors.New("boom")
	})
	if err == nil || err.Error() != "boom" {
		t.Fatalf("withTx: %v", err)
	}
}

func withTx(ctx context.Context, c *ent.Client, fn func(*ent.Tx) error) error {
	tx, err := c.Tx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func TestConstraintErrors(t *testing.T) {
	c := entClient(t)
	ctx := context.Background()
	name := uniq(t, "uniq")
	c.User.Create().SetName(name).SetAge(1).SaveX(ctx)

	_, err := c.User.Create().SetName(name).SetAge(2).Save(ctx)
	if !ent.IsConstraintError(err) || !sqlgraph.IsUniqueConstraintError(err) {
		t.Fatalf("unique: %v", err)
	}
	var lerr *libsql.Error
	// ServerCode is PROXY_ERROR through a replica, which forwards the write.
	if !errors.As(err, &lerr) || lerr.Code != "SQLITE_CONSTRAINT_UNIQUE" || (lerr.ServerCode != "SQLITE_CONSTRAINT" && lerr.ServerCode != "PROXY_ERROR") {
		t.Fatalf("typed error: %#v", lerr)
	}

	// A post whose author does not exist.
	_, err = c.Post.Create().SetTitle("orphan").SetAuthorID(1 << 40).Save(ctx)
	if !ent.IsConstraintError(err) || !sqlgraph.IsForeignKeyConstraintError(err) {
		t.Fatalf("foreign key: %v", err)
	}
	if !errors.As(err, &lerr) || lerr.Code != "SQLITE_CONSTRAINT_FOREIGNKEY" {
		t.Fatalf("typed error: %#v", lerr)
	}

	// CHECK constraints (ent schemas add them through annotations or
	// migrations; a raw table is enough to see the error mapping).
	db := openDriver(t, "").DB()
	tbl := scratchTable(t, db, "n INTEGER CHECK (n > 0)")
	_, err = db.ExecContext(ctx, "INSERT INTO "+tbl+" VALUES (-1)")
	if !sqlgraph.IsCheckConstraintError(err) || !errors.As(err, &lerr) || lerr.Code != "SQLITE_CONSTRAINT_CHECK" {
		t.Fatalf("check: %v", err)
	}
	// NOT NULL.
	_, err = db.ExecContext(ctx, "INSERT INTO users (name, age, created_at) VALUES (NULL, 1, '2020-01-01')")
	if !errors.As(err, &lerr) || lerr.Code != "SQLITE_CONSTRAINT_NOTNULL" || !libsql.IsConstraintError(err) {
		t.Fatalf("not null: %v", err)
	}
	// A syntax error is a server error too, but no constraint.
	_, err = db.ExecContext(ctx, "SELEC 1")
	if !errors.As(err, &lerr) || libsql.IsConstraintError(err) || lerr.Code == "" {
		t.Fatalf("syntax: %#v", err)
	}
}
