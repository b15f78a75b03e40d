// Package entc is the ent codegen extension for libSQL. With it, the
// generated Open("libsql", dsn) returns a client on the dialect/libsql
// driver, for every URL form libsql.Open accepts, and so does the
// generated enttest.Open(t, "libsql", dsn); "sqlite3", "mysql" and
// "postgres" keep working in the same client. In ent/entc.go:
//
//	err := entc.Generate("./schema", &gen.Config{},
//		entc.Extensions(libsqlentc.Extension()))
package entc

import (
	"embed"
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
}

// WithDriverName makes the generated Open take name for libSQL instead of
// "libsql".
func WithDriverName(name string) Option {
	return func(c *config) { c.driverName = name }
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
}

func (annotation) Name() string { return "EntLibSQL" }

func (e *extension) Annotations() []entc.Annotation {
	return []entc.Annotation{annotation{DriverName: e.cfg.driverName}}
}

func (e *extension) Templates() []*gen.Template {
	return []*gen.Template{gen.MustParse(gen.NewTemplate("entlibsql").ParseFS(templates, "template/*.tmpl"))}
}

// Hooks adds the driver name to the cases of the generated Open's switch,
// which lists the SQL dialects.
func (e *extension) Hooks() []gen.Hook {
	name := strconv.Quote(e.cfg.driverName)
	return []gen.Hook{func(next gen.Generator) gen.Generator {
		return gen.GenerateFunc(func(g *gen.Graph) error {
			if g.Storage != nil && g.Storage.Name == "sql" && !slices.Contains(g.Storage.Dialects, name) {
				st := *g.Storage
				st.Dialects = append(slices.Clip(st.Dialects), name)
				g.Storage = &st
			}
			return next.Generate(g)
		})
	}}
}
