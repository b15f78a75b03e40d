package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"path"
	"sort"
	"strconv"
	"strings"
)

// The rewrite changes only the calls that open a SQLite database, in the
// test files of one package:
//
//	<client>.Open("sqlite3", dsn, opts...)       -> entlibsqlsuite.Client(t, dsn, <client>.NewClient, <client>.Driver, opts...)
//	enttest.Open(t, "sqlite3", dsn, opts...)     -> enttest.NewClient(t, enttest.WithOptions(<client>.Driver(entlibsqlsuite.Driver(t, dsn))), opts...)
//	entsql.Open("sqlite3", dsn)                  -> entlibsqlsuite.SQLDriver(t, dsn)
//	database/sql.Open("sqlite3", dsn)            -> entlibsqlsuite.DB(t, dsn)
//
// ("sqlite3" is also dialect.SQLite.) entlibsqlsuite.SQLDriver returns
// *libsql.Driver, which embeds *entsql.Driver; where such a variable is
// passed to a function of the package taking a *entsql.Driver, the
// argument becomes v.Driver (the one other kind of edit). Test functions
// that open MySQL, PostgreSQL or Gremlin are reported, to be left out.

const (
	entSQLPath   = "entgo.io/ent/dialect/sql"
	dialectPath  = "entgo.io/ent/dialect"
	helperPkg    = "entlibsqlsuite"
	suiteRelPath = "entlibsqlsuite" // under the suites' module
)

// otherDrivers are the driver names of tests this command cannot run.
var otherDrivers = map[string]string{"mysql": "MySQL", "postgres": "PostgreSQL", "gremlin": "Gremlin"}

// dialectConsts maps entgo.io/ent/dialect constants to driver names.
var dialectConsts = map[string]string{"SQLite": "sqlite3", "MySQL": "mysql", "Postgres": "postgres", "Gremlin": "gremlin"}

// pkgRewrite is the outcome for one package.
type pkgRewrite struct {
	files   map[string][]byte // rewritten test files, by name
	opens   int               // open calls changed
	adapted int               // *libsql.Driver arguments adapted
	// other maps a top-level test that needs another database to its name.
	other map[string]string
	// ours holds the top-level tests that open a SQLite database.
	ours map[string]bool
}

// srcFile is one parsed file of a package.
type srcFile struct {
	name string
	src  []byte
	f    *ast.File
}

// rewritePackage rewrites the test files among files (name -> source);
// modPath is the suites' module path, for the helper's import.
func rewritePackage(files map[string][]byte, modPath string) (*pkgRewrite, error) {
	fset := token.NewFileSet()
	var parsed []*srcFile
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f, err := parser.ParseFile(fset, n, files[n], parser.ParseComments)
		if err != nil {
			return nil, err
		}
		parsed = append(parsed, &srcFile{name: n, src: files[n], f: f})
	}
	driverParams := entSQLDriverParams(parsed)
	out := &pkgRewrite{files: map[string][]byte{}, other: map[string]string{}, ours: map[string]bool{}}
	for _, sf := range parsed {
		if !strings.HasSuffix(sf.name, "_test.go") {
			continue
		}
		r := &fileRewriter{fset: fset, sf: sf, imports: importNames(sf.f), driverParams: driverParams,
			modPath: modPath, sqlDrivers: map[string][]ast.Node{}}
		src, err := r.rewrite()
		if err != nil {
			return nil, err
		}
		for test, db := range r.other {
			out.other[test] = db
		}
		for test := range r.ours {
			out.ours[test] = true
		}
		if r.opens == 0 {
			continue
		}
		out.files[sf.name] = src
		out.opens += r.opens
		out.adapted += r.adapted
	}
	return out, nil
}

// entSQLDriverParams finds the package's functions with *entsql.Driver
// parameters: name -> parameter positions.
func entSQLDriverParams(files []*srcFile) map[string][]int {
	m := map[string][]int{}
	for _, sf := range files {
		imports := importNames(sf.f)
		for _, d := range sf.f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil {
				continue
			}
			i := 0
			for _, field := range fd.Type.Params.List {
				n := max(len(field.Names), 1)
				if isEntSQLDriver(field.Type, imports) {
					for j := range n {
						m[fd.Name.Name] = append(m[fd.Name.Name], i+j)
					}
				}
				i += n
			}
		}
	}
	return m
}

func isEntSQLDriver(e ast.Expr, imports map[string]string) bool {
	star, ok := e.(*ast.StarExpr)
	if !ok {
		return false
	}
	pkg, name := qualified(star.X)
	return name == "Driver" && imports[pkg] == entSQLPath
}

// qualified splits pkg.Name; "" for any other expression.
func qualified(e ast.Expr) (pkg, name string) {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return "", ""
	}
	x, ok := sel.X.(*ast.Ident)
	if !ok {
		return "", ""
	}
	return x.Name, sel.Sel.Name
}

// inspect walks f as ast.Inspect does, giving fn the path from the file
// down to each node.
func inspect(f *ast.File, fn func(n ast.Node, stack []ast.Node) bool) {
	var stack []ast.Node
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return false
		}
		stack = append(stack, n)
		return fn(n, stack)
	})
}

// importNames maps the names a file's imports are used by to their paths.
func importNames(f *ast.File) map[string]string {
	m := map[string]string{}
	for _, is := range f.Imports {
		p, _ := strconv.Unquote(is.Path.Value)
		name := path.Base(p)
		if is.Name != nil {
			name = is.Name.Name
		}
		if name != "_" && name != "." {
			m[name] = p
		}
	}
	return m
}

type edit struct {
	start, end int
	text       string
}

type fileRewriter struct {
	fset         *token.FileSet
	sf           *srcFile
	imports      map[string]string
	driverParams map[string][]int
	modPath      string

	edits      []edit
	removed    []edit                // the source ranges the edits drop, for unused imports
	sqlDrivers map[string][]ast.Node // variables holding an entlibsqlsuite.SQLDriver: the functions they are declared in
	addImports map[string]string
	opens      int
	adapted    int
	other      map[string]string
	ours       map[string]bool
	err        error
}

func (r *fileRewriter) off(p token.Pos) int { return r.fset.Position(p).Offset }

func (r *fileRewriter) text(n ast.Node) string {
	return string(r.sf.src[r.off(n.Pos()):r.off(n.End())])
}

func (r *fileRewriter) rewrite() ([]byte, error) {
	r.other, r.ours = map[string]string{}, map[string]bool{}
	r.addImports = map[string]string{}
	inspect(r.sf.f, func(n ast.Node, stack []ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			r.call(call, stack)
		}
		if as, ok := n.(*ast.AssignStmt); ok && len(as.Rhs) == 1 && len(as.Lhs) >= 1 {
			if call, ok := as.Rhs[0].(*ast.CallExpr); ok && r.isSQLOpen(call) {
				if id, ok := as.Lhs[0].(*ast.Ident); ok {
					r.sqlDrivers[id.Name] = append(r.sqlDrivers[id.Name], innermostFunc(stack))
				}
			}
		}
		return r.err == nil
	})
	if r.err != nil {
		return nil, r.err
	}
	if r.opens == 0 {
		return r.sf.src, nil
	}
	r.adaptArgs()
	r.blankUnusedImports()
	r.addImports[helperPkg] = r.modPath + "/" + suiteRelPath
	return r.apply()
}

// openCall classifies a call: which form of Open it is, its driver name
// and DSN arguments; kind "" if it is none.
func (r *fileRewriter) openCall(call *ast.CallExpr) (kind, pkg, driver string, dsn ast.Expr) {
	pkg, name := qualified(call.Fun)
	p, ok := r.imports[pkg]
	if name != "Open" || !ok {
		return "", "", "", nil
	}
	args := call.Args
	switch {
	case strings.HasSuffix(p, "/enttest"):
		if len(args) < 3 {
			return "", "", "", nil
		}
		return "enttest", pkg, r.driverName(args[1]), args[2]
	case p == entSQLPath:
		kind = "entsql"
	case p == "database/sql":
		kind = "database/sql"
	default:
		kind = "client"
	}
	if len(args) < 2 {
		return "", "", "", nil
	}
	return kind, pkg, r.driverName(args[0]), args[1]
}

func (r *fileRewriter) isSQLOpen(call *ast.CallExpr) bool {
	kind, _, driver, _ := r.openCall(call)
	return kind == "entsql" && driver == "sqlite3"
}

// driverName evaluates a driver-name argument: a string literal or a
// dialect constant; "" if it is neither.
func (r *fileRewriter) driverName(e ast.Expr) string {
	switch v := e.(type) {
	case *ast.BasicLit:
		if s, err := strconv.Unquote(v.Value); err == nil {
			return s
		}
	case *ast.SelectorExpr:
		if pkg, name := qualified(v); r.imports[pkg] == dialectPath {
			return dialectConsts[name]
		}
	}
	return ""
}

func (r *fileRewriter) call(call *ast.CallExpr, stack []ast.Node) {
	kind, pkg, driver, dsn := r.openCall(call)
	if kind == "" {
		return
	}
	test := topLevelTest(stack)
	if db, ok := otherDrivers[driver]; ok {
		if test != "" {
			r.other[test] = db
		}
		return
	}
	if driver != "sqlite3" {
		return
	}
	if test != "" {
		r.ours[test] = true
	}
	t, err := testingVar(stack)
	if err != nil {
		pos := r.fset.Position(call.Pos())
		r.err = fmt.Errorf("%s:%d: %v", path.Base(pos.Filename), pos.Line, err)
		return
	}
	start, dsnEnd := r.off(call.Fun.Pos()), r.off(dsn.End())
	d := r.text(dsn)
	var text string
	switch kind {
	case "client":
		text = fmt.Sprintf("%s.Client(%s, %s, %s.NewClient, %s.Driver", helperPkg, t, d, pkg, pkg)
	case "entsql":
		text = fmt.Sprintf("%s.SQLDriver(%s, %s", helperPkg, t, d)
	case "database/sql":
		text = fmt.Sprintf("%s.DB(%s, %s", helperPkg, t, d)
	case "enttest":
		client := r.clientOf(pkg)
		first := r.text(call.Args[0])
		driverOpt := fmt.Sprintf("%s.WithOptions(%s.Driver(%s.Driver(%s, %s)))", pkg, client, helperPkg, t, d)
		if call.Ellipsis.IsValid() && len(call.Args) == 4 {
			// NewClient(t, opts...) has no room before the spread.
			text = fmt.Sprintf("%s.NewClient(%s, append([]%s.Option{%s}, %s...)...)", pkg, first, pkg, driverOpt, r.text(call.Args[3]))
			r.replace(start, r.off(call.End()), text)
			r.opens++
			return
		}
		text = fmt.Sprintf("%s.NewClient(%s, %s", pkg, first, driverOpt)
	}
	r.replace(start, dsnEnd, text)
	r.opens++
}

func (r *fileRewriter) replace(start, end int, text string) {
	e := edit{start, end, text}
	r.edits = append(r.edits, e)
	r.removed = append(r.removed, e)
}

// clientOf names the generated client package of an enttest package,
// adding its import if the file lacks it.
func (r *fileRewriter) clientOf(enttest string) string {
	p := strings.TrimSuffix(r.imports[enttest], "/enttest")
	for name, ip := range r.imports {
		if ip == p {
			return name
		}
	}
	name := "entlibsqlclient"
	r.addImports[name] = p
	r.imports[name] = p
	return name
}

// topLevelTest names the Test function the stack is in, if any.
func topLevelTest(stack []ast.Node) string {
	for _, n := range stack {
		if fd, ok := n.(*ast.FuncDecl); ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "Test") {
			return fd.Name.Name
		}
	}
	return ""
}

// testingVar finds the innermost enclosing function's *testing.T (or
// testing.TB, *testing.B) parameter.
func testingVar(stack []ast.Node) (string, error) {
	for i := len(stack) - 1; i >= 0; i-- {
		var ft *ast.FuncType
		switch f := stack[i].(type) {
		case *ast.FuncDecl:
			ft = f.Type
		case *ast.FuncLit:
			ft = f.Type
		default:
			continue
		}
		for _, field := range ft.Params.List {
			if isTestingType(field.Type) && len(field.Names) > 0 && field.Names[0].Name != "_" {
				return field.Names[0].Name, nil
			}
		}
	}
	return "", fmt.Errorf("the database is opened outside any function taking a *testing.T, so it cannot get a server of its own")
}

func isTestingType(e ast.Expr) bool {
	if star, ok := e.(*ast.StarExpr); ok {
		e = star.X
	}
	pkg, name := qualified(e)
	return pkg == "testing" && (name == "T" || name == "TB" || name == "B")
}

// adaptArgs passes v.Driver where a variable holding a *libsql.Driver goes
// to a parameter declared *entsql.Driver, within the function that
// declared the variable.
func (r *fileRewriter) adaptArgs() {
	if len(r.sqlDrivers) == 0 {
		return
	}
	inspect(r.sf.f, func(n ast.Node, stack []ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		fn, ok := call.Fun.(*ast.Ident)
		if !ok {
			return true
		}
		for _, i := range r.driverParams[fn.Name] {
			if i >= len(call.Args) {
				continue
			}
			if id, ok := call.Args[i].(*ast.Ident); ok && r.inScope(id.Name, stack) {
				p := r.off(id.End())
				r.edits = append(r.edits, edit{p, p, ".Driver"})
				r.adapted++
			}
		}
		return true
	})
}

// inScope reports whether name was assigned an entlibsqlsuite.SQLDriver in
// a function enclosing the stack's top.
func (r *fileRewriter) inScope(name string, stack []ast.Node) bool {
	for _, fn := range r.sqlDrivers[name] {
		for _, n := range stack {
			if n == fn {
				return true
			}
		}
	}
	return false
}

// innermostFunc is the function (declaration or literal) the stack's top
// is in.
func innermostFunc(stack []ast.Node) ast.Node {
	for i := len(stack) - 1; i >= 0; i-- {
		switch stack[i].(type) {
		case *ast.FuncDecl, *ast.FuncLit:
			return stack[i]
		}
	}
	return nil
}

// blankUnusedImports turns imports that only the replaced calls used
// (dialect for dialect.SQLite, say) into blank imports.
func (r *fileRewriter) blankUnusedImports() {
	used := map[string]bool{}
	ast.Inspect(r.sf.f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		x, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		p := r.off(x.Pos())
		for _, e := range r.removed {
			if p >= e.start && p < e.end && !strings.Contains(e.text, x.Name+".") {
				return true
			}
		}
		used[x.Name] = true
		return true
	})
	for _, is := range r.sf.f.Imports {
		p, _ := strconv.Unquote(is.Path.Value)
		name := path.Base(p)
		if is.Name != nil {
			name = is.Name.Name
		}
		if name == "_" || name == "." || used[name] {
			continue
		}
		if is.Name != nil {
			r.edits = append(r.edits, edit{r.off(is.Name.Pos()), r.off(is.Name.End()), "_"})
		} else {
			at := r.off(is.Path.Pos())
			r.edits = append(r.edits, edit{at, at, "_ "})
		}
	}
}

// apply makes the edits and adds imports after the package clause.
func (r *fileRewriter) apply() ([]byte, error) {
	var imp strings.Builder
	names := make([]string, 0, len(r.addImports))
	for n := range r.addImports {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&imp, "\nimport %s %q\n", n, r.addImports[n])
	}
	at := r.off(r.sf.f.Name.End())
	r.edits = append(r.edits, edit{at, at, "\n" + imp.String()})
	sort.SliceStable(r.edits, func(i, j int) bool { return r.edits[i].start > r.edits[j].start })
	src := bytes.Clone(r.sf.src)
	for i, e := range r.edits {
		if i > 0 && e.end > r.edits[i-1].start {
			return nil, fmt.Errorf("%s: overlapping edits at offset %d", r.sf.name, e.start)
		}
		src = append(src[:e.start:e.start], append([]byte(e.text), src[e.end:]...)...)
	}
	out, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("%s: the rewritten file does not parse: %v", r.sf.name, err)
	}
	return out, nil
}
