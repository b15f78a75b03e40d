// Command entsuites runs ent's own integration suites (entc/integration of
// a checkout of github.com/ent/ent) against this module's driver on sqld:
//
//	go run ./internal/entsuites -ent /path/to/ent
//
// It copies entc/integration into a temporary module, changes only the
// calls that open a SQLite database (see rewrite.go) so that each gets a
// fresh sqld from dialect/libsql/libsqltest, points the module at the ent
// checkout and at this checkout with replace directives, runs the suites
// with go test, and prints per suite how many tests ran, passed, failed
// and were skipped. Tests that need MySQL, PostgreSQL or Gremlin are left
// out and listed. The suites' own dependencies (go-sqlite3, testify, ...)
// stay in the temporary module, out of this module's go.mod.
//
// It exits 1 if a test failed other than the known one (migrate's
// TestSQLite, which runs PRAGMA case_sensitive_like, refused by sqld).
package main

import (
	_ "embed"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

//go:embed helper.go.txt
var helperSource []byte

const suitesModule = "entgo.io/ent/entc/integration"

func main() {
	var (
		entDir  = flag.String("ent", "", "a checkout of github.com/ent/ent (required), at the version in this module's go.mod")
		work    = flag.String("work", "", "directory for the rewritten suites (default: a new temporary directory, removed afterwards)")
		run     = flag.String("run", "", "go test -run pattern, to run some tests only")
		timeout = flag.Duration("timeout", 10*time.Minute, "go test -timeout, per suite")
		verbose = flag.Bool("v", false, "print go test's output as it runs")
		asIs    = flag.Bool("unchanged", false, "run the suites as ent ships them, on go-sqlite3: the baseline")
		noLike  = flag.Bool("without-case-sensitive-like", false, "also drop migrate's PRAGMA case_sensitive_like=1, which sqld refuses, and the two checks that need it, so the rest of migrate's TestSQLite runs")
	)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./internal/entsuites -ent /path/to/ent [flags]\n\n"+
			"Runs ent's entc/integration suites against entlibsql on sqld and prints per suite run/pass/fail/skip.\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *entDir == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	code, err := runSuites(options{ent: *entDir, work: *work, run: *run, timeout: *timeout, verbose: *verbose, noLike: *noLike, asIs: *asIs, out: os.Stdout})
	if err != nil {
		fmt.Fprintln(os.Stderr, "entsuites:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

type options struct {
	ent, work, run        string
	timeout               time.Duration
	verbose, noLike, asIs bool
	out                   io.Writer
}

func runSuites(o options) (int, error) {
	self, err := moduleRoot()
	if err != nil {
		return 0, err
	}
	entRoot, err := filepath.Abs(o.ent)
	if err != nil {
		return 0, err
	}
	src := filepath.Join(entRoot, "entc", "integration")
	if _, err := os.Stat(filepath.Join(src, "go.mod")); err != nil {
		return 0, fmt.Errorf("%s is not a checkout of github.com/ent/ent: no entc/integration/go.mod (%v)", o.ent, err)
	}
	fmt.Fprintf(o.out, "ent checkout: %s%s\n", entRoot, entVersionNote(self, entRoot))
	dst := o.work
	if dst == "" {
		if dst, err = os.MkdirTemp("", "entsuites-"); err != nil {
			return 0, err
		}
		defer os.RemoveAll(dst)
	} else if dst, err = filepath.Abs(dst); err != nil {
		return 0, err
	}
	if err := copyTree(src, dst); err != nil {
		return 0, fmt.Errorf("copying the suites: %w", err)
	}
	if o.noLike {
		if err := dropCaseSensitiveLike(dst); err != nil {
			return 0, err
		}
		fmt.Fprintln(o.out, "dropped migrate's PRAGMA case_sensitive_like=1 and its EqualFold and ContainsFold checks (-without-case-sensitive-like)")
	}
	left, ours, opens, adapted, err := rewriteTree(dst, !o.asIs)
	if err != nil {
		return 0, err
	}
	skip, err := skipPattern(left, ours)
	if err != nil {
		return 0, err
	}
	if o.asIs {
		fmt.Fprintf(o.out, "running the suites unchanged, on go-sqlite3 (-unchanged), in %s\n", dst)
	} else {
		fmt.Fprintf(o.out, "rewrote %d open calls (and %d *entsql.Driver arguments) in %s\n", opens, adapted, dst)
	}
	if err := prepareModule(dst, entRoot, self); err != nil {
		return 0, err
	}
	results, err := goTest(dst, o, skip)
	if err != nil {
		return 0, err
	}
	printTable(o.out, results, left)
	return exitCode(o.out, results), nil
}

// caseSensitiveLike is the part of migrate's TestSQLite that needs the
// pragma sqld refuses.
var caseSensitiveLike = regexp.MustCompile(`(?m)^\s*_, err = drv\.ExecContext\(ctx, "PRAGMA case_sensitive_like=1"\)\s*\n\s*require\.NoError\(t, err\)\s*\n\s*EqualFold\(t, client\)\s*\n\s*ContainsFold\(t, client\)\s*\n`)

func dropCaseSensitiveLike(dir string) error {
	p := filepath.Join(dir, "migrate", "migrate_test.go")
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if !caseSensitiveLike.Match(b) {
		return fmt.Errorf("-without-case-sensitive-like: %s has no PRAGMA case_sensitive_like=1 block as in ent v0.14.5", p)
	}
	b = caseSensitiveLike.ReplaceAll(b, []byte("\t// entsuites -without-case-sensitive-like: PRAGMA case_sensitive_like=1, EqualFold and ContainsFold dropped.\n"))
	return os.WriteFile(p, b, 0o644)
}

// moduleRoot is this checkout: the module the command is run in.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Path}} {{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("finding this module (run the command inside the entlibsql checkout): %w", err)
	}
	path, dir, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if path != "github.com/entlibsql/entlibsql" {
		return "", fmt.Errorf("run inside the entlibsql checkout (the current module is %q)", path)
	}
	return dir, nil
}

// entVersionNote compares the checkout's tag with the ent this module
// requires, as a note after its path.
func entVersionNote(self, entRoot string) string {
	want, err := exec.Command("go", "list", "-C", self, "-m", "-f", "{{.Version}}", "entgo.io/ent").Output()
	if err != nil {
		return ""
	}
	w := strings.TrimSpace(string(want))
	got, err := exec.Command("git", "-C", entRoot, "describe", "--tags", "--always").Output()
	if err != nil {
		return fmt.Sprintf(" (not a git checkout; this module requires ent %s)", w)
	}
	g := strings.TrimSpace(string(got))
	if g != w {
		return fmt.Sprintf(" (at %s; WARNING: this module requires ent %s, check out that tag)", g, w)
	}
	return " (at " + g + ")"
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// rewriteTree rewrites every package under root (when write is set) and
// writes the helper package. left maps each suite to its tests that need
// another database.
func rewriteTree(root string, write bool) (left map[string]map[string]string, ours map[string]bool, opens, adapted int, err error) {
	left, ours = map[string]map[string]string{}, map[string]bool{}
	err = filepath.WalkDir(root, func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		files := map[string][]byte{}
		for _, e := range entries {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".go") {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					return err
				}
				files[e.Name()] = b
			}
		}
		if len(files) == 0 {
			return nil
		}
		r, err := rewritePackage(files, suitesModule)
		if err != nil {
			return fmt.Errorf("rewriting %s: %w", dir, err)
		}
		for name, b := range r.files {
			if !write {
				break
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				return err
			}
		}
		opens += r.opens
		adapted += r.adapted
		if len(r.other) > 0 {
			left[suiteName(root, dir)] = r.other
		}
		for t := range r.ours {
			ours[t] = true
		}
		return nil
	})
	if err != nil {
		return nil, nil, 0, 0, err
	}
	helperDir := filepath.Join(root, suiteRelPath)
	if err := os.MkdirAll(helperDir, 0o755); err != nil {
		return nil, nil, 0, 0, err
	}
	return left, ours, opens, adapted, os.WriteFile(filepath.Join(helperDir, "entlibsqlsuite.go"), helperSource, 0o644)
}

// suiteName is a package's name in the table: its directory under the
// suites, "integration" for their root.
func suiteName(root, dir string) string {
	rel, _ := filepath.Rel(root, dir)
	if rel == "." {
		return "integration"
	}
	return filepath.ToSlash(rel)
}

// prepareModule points the suites' module at the ent checkout and at this
// module, and completes its go.sum (through the Go module proxy).
func prepareModule(dir, entRoot, self string) error {
	goVersion, err := exec.Command("go", "list", "-C", self, "-m", "-f", "{{.GoVersion}}").Output()
	if err != nil {
		return fmt.Errorf("reading this module's go version: %w", err)
	}
	steps := [][]string{
		{"go", "mod", "edit",
			"-replace", "entgo.io/ent=" + entRoot,
			"-require", "github.com/entlibsql/entlibsql@v0.0.0-00010101000000-000000000000",
			"-replace", "github.com/entlibsql/entlibsql=" + self,
			"-go", strings.TrimSpace(string(goVersion))},
		{"go", "mod", "tidy"},
	}
	for _, s := range steps {
		cmd := exec.Command(s[0], s[1:]...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", strings.Join(s, " "), err, out)
		}
	}
	return nil
}

// skipPattern is go test's -skip for the tests left out. It names tests,
// not packages, so a name left out in one suite must not open SQLite in
// another.
func skipPattern(left map[string]map[string]string, ours map[string]bool) (string, error) {
	set := map[string]bool{}
	for suite, tests := range left {
		for t := range tests {
			if ours[t] {
				return "", fmt.Errorf("%s in %s needs another database, but a test of the same name elsewhere opens SQLite: one -skip cannot tell them apart", t, suite)
			}
			set[regexp.QuoteMeta(t)] = true
		}
	}
	if len(set) == 0 {
		return "", nil
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return "^(" + strings.Join(names, "|") + ")$", nil
}
