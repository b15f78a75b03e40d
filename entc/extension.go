// Package entc is the ent codegen extension for libSQL. With it, the
// generated Open("libsql", dsn) returns a client on the dialect/libsql
// driver, for every URL form libsql.Open accepts, and so does the
// generated enttest.Open(t, "libsql", dsn); "sqlite3", "mysql" and
// "postgres" keep working in the same client. In ent/entc.go:
//
//	err := entc.Generate("./schema", &gen.Config{},
//		entc.Extensions(libsqlentc.Extension()))
//
// On a libSQL driver (however the client was opened), the generated
// Schema.Create, Schema.WriteTo and enttest migrate with
// schema.WithLibSQL() (package github.com/entlibsql/entlibsql/schema):
// ALTER COLUMN instead of table rebuilds, rows checked first. Other
// drivers get ent's plan unchanged. WithoutLibSQLSchema turns the
// default off.
package entc

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

// DriverName is the name the generated Open takes for libSQL.
const DriverName = "libsql"

//go:embed template/*.tmpl
var templates embed.FS

// Option configures the extension.
type Option func(*config)

type config struct {
	driverName string
	noSchema   bool
}

// WithDriverName makes the generated Open take name for libSQL instead of
// "libsql".
func WithDriverName(name string) Option {
	return func(c *config) { c.driverName = name }
}

// WithoutLibSQLSchema makes the generated Schema.Create and enttest
// migrate a libSQL database as ent migrates SQLite, without
// schema.WithLibSQL() unless it is passed: table rebuilds where libSQL
// could ALTER COLUMN.
func WithoutLibSQLSchema() Option {
	return func(c *config) { c.noSchema = true }
}

// Extension returns the extension, for entc.Extensions.
func Extension(opts ...Option) entc.Extension {
	c := config{driverName: DriverName}
	for _, o := range opts {
		o(&c)
	}
	return &extension{cfg: c}
}

type extension struct {
	entc.DefaultExtension
	cfg config
}

// annotation is what the templates read, as $.Annotations.EntLibSQL.
type annotation struct {
	DriverName string
	// LibSQLSchema: migrate with schema.WithLibSQL() on a libSQL driver.
	LibSQLSchema bool
}

func (annotation) Name() string { return "EntLibSQL" }

func (e *extension) Annotations() []entc.Annotation {
	return []entc.Annotation{annotation{DriverName: e.cfg.driverName, LibSQLSchema: !e.cfg.noSchema}}
}

func (e *extension) Templates() []*gen.Template {
	return []*gen.Template{gen.MustParse(gen.NewTemplate("entlibsql").ParseFS(templates, "template/*.tmpl"))}
}

// Hooks adds the driver name to the cases of the generated Open's switch,
// which lists the SQL dialects, and routes the generated migrate.Create's
// options through libsqlOptions (see migrateCreate).
func (e *extension) Hooks() []gen.Hook {
	name := strconv.Quote(e.cfg.driverName)
	return []gen.Hook{func(next gen.Generator) gen.Generator {
		return gen.GenerateFunc(func(g *gen.Graph) error {
			if g.Storage == nil || g.Storage.Name != "sql" {
				return next.Generate(g)
			}
			if !slices.Contains(g.Storage.Dialects, name) {
				st := *g.Storage
				st.Dialects = append(slices.Clip(st.Dialects), name)
				g.Storage = &st
			}
			if err := next.Generate(g); err != nil || e.cfg.noSchema {
				return err
			}
			return patchMigrateCreate(filepath.Join(g.Config.Target, "migrate", "migrate.go"))
		})
	}}
}

// migrateCreate is the first statement of the migrate.Create ent
// generates, which Schema.Create, Schema.WriteTo and enttest all go
// through. ent's migrate template has no place for an extension to add
// to, so the generated file is edited: the options pass through
// libsqlOptions (in migrate/entlibsql.go, from this extension's
// template), which adds schema.WithLibSQL() on a libSQL driver.
var (
	migrateCreate = []byte("func Create(ctx context.Context, s *Schema, tables []*schema.Table, opts ...schema.MigrateOption) error {\n\tmigrate, err := schema.NewMigrate(s.drv, opts...)\n")
	libsqlCreate  = []byte("func Create(ctx context.Context, s *Schema, tables []*schema.Table, opts ...schema.MigrateOption) error {\n\tmigrate, err := schema.NewMigrate(s.drv, libsqlOptions(s.drv, opts)...)\n")
)

func patchMigrateCreate(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("entlibsql: reading the generated %s: %w", path, err)
	}
	if bytes.Contains(b, libsqlCreate) {
		return nil
	}
	if bytes.Count(b, migrateCreate) != 1 {
		return fmt.Errorf("entlibsql: the generated %s has no migrate.Create as ent v0.14 writes it (another ent version, or a migrate template of "+
			"your own), so its options cannot go through libsqlOptions; generate with libsqlentc.WithoutLibSQLSchema() and pass "+
			"schema.WithLibSQL() to Schema.Create yourself", path)
	}
	return os.WriteFile(path, bytes.Replace(b, migrateCreate, libsqlCreate, 1), 0o644)
}
