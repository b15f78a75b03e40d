package vectortest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	entmigrate "github.com/entlibsql/entlibsql/internal/vectortest/ent/migrate"
	"github.com/entlibsql/entlibsql/schema"
)

// Versioned migrations of the generated schema, with the embedded engine
// as the dev database (the entlibsql command's default): the file holds
// the vector indexes and applies, and the next diff is empty.
func TestVersionedDiffEmbeddedDev(t *testing.T) {
	ctx := context.Background()
	dev, err := libsql.Open("file:" + filepath.Join(t.TempDir(), "dev.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	path := t.TempDir()
	dir, err := migrate.NewLocalDir(path)
	if err != nil {
		t.Fatal(err)
	}
	file, err := schema.Diff(ctx, dev, dir, "init", entmigrate.Tables)
	if err != nil || file == "" {
		t.Fatalf("diff: %q %v", file, err)
	}
	b, err := os.ReadFile(filepath.Join(path, file))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"CREATE INDEX `doc_embedding` ON `docs` ((libsql_vector_idx(`embedding`, 'metric=cosine', 'max_neighbors=8')))",
		"CREATE INDEX `note_embedding` ON `notes` ((libsql_vector_idx(`embedding`, 'metric=l2')))",
		"`embedding` f32_blob(4) NULL",
	} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("%s lacks %s:\n%s", file, want, b)
		}
	}
	if again, err := schema.Diff(ctx, dev, dir, "again", entmigrate.Tables); err != nil || again != "" {
		t.Fatalf("second diff: %q %v", again, err)
	}
	target, err := libsql.Open("file:" + filepath.Join(t.TempDir(), "target.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if _, err := schema.Apply(ctx, target, dir, schema.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := target.DB().Exec("SELECT id FROM vector_top_k('doc_embedding', vector32('[1,2,3,4]'), 3)"); err != nil {
		t.Fatalf("the applied index: %v", err)
	}
}
