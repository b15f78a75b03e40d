package libsql_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// crudSuite is the foundation's ent suite: the tests that run through
// entClient on whatever server LIBSQL_TEST_URL names.
const crudSuite = "^Test(CRUD|EdgesAndEagerLoading|AggregatesOrderingPaging|Upsert|CreateBulk1000|Transactions|" +
	"ConstraintErrors|FieldTypesRoundTrip|Uint64AboveMaxInt64IsAnError|JSONFields|UpsertJSONFields|MigrationRebuildKeepsRows)$"

// TestCRUDSuiteOverTransports runs the whole suite again, in a child test
// process pointed at the server by each way users reach it: WebSocket,
// TLS, a JWT-protected sqld, and a replica of a primary.
func TestCRUDSuiteOverTransports(t *testing.T) {
	if sqldtest.External() {
		t.Log("the suite already runs on the external server; the transports here need local servers")
		return
	}
	suite := func(t *testing.T, url, token string, env ...string) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run", crudSuite, "-test.count=1")
		cmd.Env = append(os.Environ(), append(env, "LIBSQL_TEST_URL="+url, "LIBSQL_TEST_AUTH_TOKEN="+token)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the suite over %s failed: %v\n%s", url, err, out)
		}
	}
	t.Run("websocket", func(t *testing.T) { suite(t, wsURL(serverURL()), "") })

	t.Run("jwt", func(t *testing.T) {
		srv, key := jwtServer(t)
		tok := key.Token(map[string]any{"a": "rw"})
		suite(t, srv.URL(), tok)
		suite(t, wsURL(srv.URL()), tok)
	})

	t.Run("replica", func(t *testing.T) {
		_, replica := primaryAndReplica(t)
		suite(t, replica.URL(), "")
		suite(t, wsURL(replica.URL()), "")
	})

	t.Run("tls", func(t *testing.T) {
		if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
			t.Log("over TLS the suite trusts the proxy through SSL_CERT_FILE, which Go ignores on " + runtime.GOOS + "; TestTLS covers TLS there")
			return
		}
		p, err := sqldtest.NewTLSProxy(serverURL())
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		ca := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(ca, p.CertPEM(), 0o600); err != nil {
			t.Fatal(err)
		}
		host := strings.TrimPrefix(p.URL(), "https://")
		suite(t, "libsql://"+host, "", "SSL_CERT_FILE="+ca)
		suite(t, "wss://"+host, "", "SSL_CERT_FILE="+ca)
	})
}
