package readmetest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entlibsql/entlibsql/dialect/libsql/libsqltest"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// TestReadmeCommands builds a new module in a temporary directory from the
// README's Quick start and Versioned migrations sections, writing their
// files and running their commands in order, as a reader pasting them
// would. What it changes, and only that:
//
//   - after `go mod init`, a replace directive points
//     github.com/entlibsql/entlibsql at this checkout, and GOPROXY ends in
//     "|off" instead of "direct", so that looking the module up on the
//     proxy (where this checkout is not) ends in "not found" and the
//     replace directive, rather than in an error or a git clone;
//   - the server URLs (http://127.0.0.1:8080 for the Quick start,
//     libsql://my-db-my-org.turso.io for Versioned migrations) become
//     fresh sqld servers of the harness.
//
// It needs the Go module proxy (for ent's own command's dependencies) and,
// for the migration command's default dev database, cgo.
func TestReadmeCommands(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	quick, err := steps(string(readme), "## Quick start")
	if err != nil {
		t.Fatal(err)
	}
	versioned, err := steps(string(readme), "## Versioned migrations")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bin, err := sqldtest.Binary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	app, migrated := libsqltest.URL(t), libsqltest.URL(t)

	dir := t.TempDir()
	proxy, err := exec.Command("go", "env", "GOPROXY").Output()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GOWORK=off", "GOPROXY="+offline(string(proxy)), "SQLD_BIN="+bin, "LIBSQL_AUTH_TOKEN=", "LIBSQL_URL=")
	r := &runner{t: t, dir: dir, env: env, root: root, urls: map[string]string{
		"http://127.0.0.1:8080":          app,
		"libsql://my-db-my-org.turso.io": migrated,
	}}
	for _, s := range quick {
		r.do(s)
	}
	if !strings.Contains(r.output["go run ."], "created User(id=1, name=ada)") {
		t.Errorf("go run . printed:\n%s", r.output["go run ."])
	}
	for _, s := range versioned {
		r.do(s)
	}
	for cmd, want := range map[string]string{
		"migrate diff":   "_init.sql and updated atlas.sum",
		"migrate status": "pending: 1 file",
		"migrate apply":  "applied 1 file",
		"migrate hash":   "atlas.sum for 1 file",
	} {
		if !strings.Contains(r.output[cmd], want) {
			t.Errorf("%s printed, without %q:\n%s", cmd, want, r.output[cmd])
		}
	}
	// The migration made the schema on the second server.
	out := r.run("go tool entlibsql migrate status --dir file://ent/migrate/migrations --url " + migrated)
	if !strings.Contains(out, "up to date") {
		t.Errorf("status after apply:\n%s", out)
	}
}

type runner struct {
	t         *testing.T
	dir, root string
	env       []string
	urls      map[string]string
	output    map[string]string // by command, as keyed in do
}

var migrateOp = regexp.MustCompile(`go tool entlibsql (migrate \w+)`)

// offline is GOPROXY without "direct" (no git clones: the proxy only),
// with "|off" last, so that a module the proxies refuse is not found.
func offline(goproxy string) string {
	var keep []string
	for _, p := range strings.FieldsFunc(strings.TrimSpace(goproxy), func(r rune) bool { return r == ',' || r == '|' }) {
		if p != "direct" && p != "off" {
			keep = append(keep, p)
		}
	}
	return strings.Join(append(keep, "off"), "|")
}

func (r *runner) do(s step) {
	r.t.Helper()
	if s.file != "" {
		p := filepath.Join(r.dir, filepath.FromSlash(s.file))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s.content), 0o644); err != nil {
			r.t.Fatal(err)
		}
		return
	}
	cmd := s.command
	for from, to := range r.urls {
		cmd = strings.ReplaceAll(cmd, from, to)
	}
	out := r.run(cmd)
	if r.output == nil {
		r.output = map[string]string{}
	}
	key := s.command
	if m := migrateOp.FindStringSubmatch(s.command); m != nil {
		key = m[1]
	} else if strings.HasSuffix(s.command, "go run .") {
		key = "go run ."
	}
	r.output[key] = out
	if strings.HasPrefix(s.command, "go mod init") {
		r.run("go mod edit -replace github.com/entlibsql/entlibsql=" + r.root)
	}
}

// run runs a shell command line in the module, which must succeed.
func (r *runner) run(line string) string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", line)
	cmd.Dir, cmd.Env = r.dir, r.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r.t.Logf("$ %s  (%s)", line, time.Since(start).Round(100*time.Millisecond))
	if err != nil {
		r.t.Fatalf("the README's command failed: %s: %v\n%s", line, err, out.String())
	}
	return out.String()
}
