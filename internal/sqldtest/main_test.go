package sqldtest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

const selectOne = `{"baton":null,"requests":[{"type":"execute","stmt":{"sql":"select 1"}},{"type":"close"}]}`

// pipeline posts a Hrana pipeline body to base and returns the response.
func pipeline(t *testing.T, base, body string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/v3/pipeline", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if tok := AuthToken(); tok != "" && base == URL() {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s/v3/pipeline: HTTP %d: %s", base, resp.StatusCode, b)
	}
	return string(b)
}

// stmts builds a pipeline body that runs each statement, then closes.
func stmts(sql ...string) string {
	var b strings.Builder
	b.WriteString(`{"baton":null,"requests":[`)
	for _, s := range sql {
		b.WriteString(`{"type":"execute","stmt":{"sql":"` + s + `"}},`)
	}
	b.WriteString(`{"type":"close"}]}`)
	return b.String()
}

func TestServerUnderTest(t *testing.T) {
	if External() {
		if Local() != nil || URL() != os.Getenv("LIBSQL_TEST_URL") {
			t.Fatalf("external mode: Local=%v URL=%q", Local(), URL())
		}
	} else {
		if Local() == nil || URL() != Local().URL() || AuthToken() != "" {
			t.Fatalf("local mode: Local=%v URL=%q", Local(), URL())
		}
		if !strings.HasPrefix(URL(), "http://127.0.0.1:") || URL() != "http://"+Local().Addr() {
			t.Fatalf("URL %q, Addr %q", URL(), Local().Addr())
		}
		resp, err := http.Get(URL() + "/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /health: HTTP %d", resp.StatusCode)
		}
	}
	if out := pipeline(t, URL(), selectOne); !strings.Contains(out, `"value":"1"`) {
		t.Fatalf("select 1 answered %s", out)
	}
}

// TestMainFailsLoudly runs this test binary again with a bad SQLD_BIN:
// Main must exit 1 with a "sqldtest: " message, never skip or pass.
func TestMainFailsLoudly(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LIBSQL_TEST_URL=") && !strings.HasPrefix(kv, "SQLD_BIN=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "SQLD_BIN=/nonexistent/sqld")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1; stderr:\n%s", err, stderr.String())
	}
	if !strings.HasPrefix(stderr.String(), "sqldtest: ") || !strings.Contains(stderr.String(), "SQLD_BIN") {
		t.Fatalf("stderr:\n%s", stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe for sqld's output goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
