package sqldtest

import (
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestRestartKeepsData(t *testing.T) {
	ctx := testContext(t)
	var out syncBuffer
	srv, err := Start(ctx, Options{Stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	url, dir := srv.URL(), srv.DataDir()
	if _, err := os.Stat(dir + "/data.sqld"); err != nil {
		t.Fatalf("no data.sqld in the data dir: %v", err)
	}
	if !strings.Contains(out.String(), listeningLine+srv.Addr()) {
		t.Fatalf("Stderr did not get sqld's log:\n%s", out.String())
	}
	pipeline(t, url, stmts("create table kept(x)", "insert into kept values (42)"))

	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if srv.URL() != url {
		t.Fatalf("Restart moved the server from %s to %s", url, srv.URL())
	}
	if got := pipeline(t, url, stmts("select x from kept")); !strings.Contains(got, `"value":"42"`) {
		t.Fatalf("data lost across Restart: %s", got)
	}

	// A crash keeps committed data too, and Restart recovers from it.
	pipeline(t, url, stmts("insert into kept values (43)"))
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(url + "/health"); err == nil {
		resp.Body.Close()
		t.Fatal("killed server still answers")
	}
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if got := pipeline(t, url, stmts("select count(*) from kept")); !strings.Contains(got, `"value":"2"`) {
		t.Fatalf("data lost across Kill and Restart: %s", got)
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("Stop left the temporary data dir %s: %v", dir, err)
	}
	if err := srv.Restart(ctx); err == nil {
		t.Fatal("Restart after Stop succeeded")
	}
}

func TestDataDirIsReused(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	first, err := Start(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	pipeline(t, first.URL(), stmts("create table t(x)", "insert into t values ('kept')"))
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + "/data.sqld"); err != nil {
		t.Fatalf("Stop removed a caller's data dir: %v", err)
	}
	second, err := Start(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Stop()
	if got := pipeline(t, second.URL(), stmts("select x from t")); !strings.Contains(got, `"value":"kept"`) {
		t.Fatalf("second server does not see the data: %s", got)
	}
}

// TestStartFailureShowsOutput: when sqld refuses to start, the error
// carries what sqld said.
func TestStartFailureShowsOutput(t *testing.T) {
	_, err := Start(testContext(t), Options{Args: []string{"--no-such-flag"}})
	if err == nil {
		t.Fatal("sqld started with a bogus flag")
	}
	if !strings.Contains(err.Error(), "exited during start-up") || !strings.Contains(err.Error(), "--no-such-flag") {
		t.Fatalf("error lacks sqld's output: %v", err)
	}
}

func TestChildEnvDropsSQLDVariables(t *testing.T) {
	t.Setenv("SQLD_AUTH_JWT_KEY", "x")
	t.Setenv("LIBSQL_ADMIN_AUTH_KEY", "x")
	t.Setenv("SQLDTEST_KEEP", "x")
	env := strings.Join(childEnv(), "\n")
	if strings.Contains(env, "SQLD_AUTH_JWT_KEY") || strings.Contains(env, "LIBSQL_ADMIN_AUTH_KEY") || !strings.Contains(env, "SQLDTEST_KEEP=x") {
		t.Fatalf("child env:\n%s", env)
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 10}
	b.Write([]byte("abc\n"))
	if b.String() != "abc\n" {
		t.Fatalf("%q", b.String())
	}
	b.Write([]byte("0123\n4567\n"))
	if got := b.String(); got != "…\n4567\n" {
		t.Fatalf("%q", got)
	}
}
