package sqldtest

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func startProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := NewProxy(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func TestProxyCountsAndRecords(t *testing.T) {
	p := startProxy(t, URL())
	if !strings.HasPrefix(p.URL(), "http://127.0.0.1:") {
		t.Fatalf("proxy URL %s", p.URL())
	}
	const n = 5
	var bodies []string
	for i := 1; i <= n; i++ {
		body := stmts(fmt.Sprintf("select %d", i))
		bodies = append(bodies, body)
		if out := viaProxy(t, p, body); !strings.Contains(out, fmt.Sprintf(`"value":"%d"`, i)) {
			t.Fatalf("select %d through the proxy answered %s", i, out)
		}
	}
	if got := p.Requests(); got != n {
		t.Fatalf("counted %d requests for %d posts", got, n)
	}
	log := p.Log()
	if len(log) != n {
		t.Fatalf("log has %d records, want %d", len(log), n)
	}
	for i, rec := range log {
		if rec.Method != http.MethodPost || rec.Path != "/v3/pipeline" || string(rec.Body) != bodies[i] || rec.Truncated {
			t.Fatalf("record %d: %s %s %q, want POST /v3/pipeline %q", i, rec.Method, rec.Path, rec.Body, bodies[i])
		}
	}
	p.Reset()
	if p.Requests() != 0 || len(p.Log()) != n {
		t.Fatalf("Reset: %d requests, %d records", p.Requests(), len(p.Log()))
	}
	p.ResetLog()
	if len(p.Log()) != 0 {
		t.Fatal("ResetLog kept records")
	}
}

// viaProxy posts body to the proxy, adding the token of an external server.
func viaProxy(t *testing.T, p *Proxy, body string) string {
	t.Helper()
	out, err := postProxy(p, body)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// postProxy is viaProxy for goroutines, which must not call t.Fatal.
func postProxy(p *Proxy, body string) (string, error) {
	req, err := http.NewRequest(http.MethodPost, p.URL()+"/v3/pipeline", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	if tok := AuthToken(); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	return string(b), nil
}

func TestProxyConcurrentAndDelay(t *testing.T) {
	p := startProxy(t, URL())
	const workers, each = 8, 5
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := postProxy(p, selectOne); err != nil {
					t.Error(err)
				}
				p.Log()
			}
		}()
	}
	wg.Wait()
	if got := p.Requests(); got != workers*each {
		t.Fatalf("counted %d, want %d", got, workers*each)
	}

	p.SetDelay(150 * time.Millisecond)
	start := time.Now()
	viaProxy(t, p, selectOne)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("request with a 150ms delay took %v", d)
	}
	p.SetDelay(0)
}

func TestProxyLogIsBounded(t *testing.T) {
	p := startProxy(t, URL())
	for i := 0; i < maxRecords+5; i++ {
		p.record("POST", "/", []byte(strconv.Itoa(i)))
	}
	log := p.Log()
	if len(log) != maxRecords || string(log[0].Body) != "5" {
		t.Fatalf("%d records, first %q", len(log), log[0].Body)
	}
	p.ResetLog()
	big := make([]byte, maxBodyBytes+1)
	for i := 0; i < 5; i++ {
		p.record("POST", "/", big)
	}
	log = p.Log()
	if !log[0].Truncated || len(log[0].Body) != maxBodyBytes || len(log)*maxBodyBytes > maxLogBytes {
		t.Fatalf("%d records of %d bytes, truncated=%v", len(log), len(log[0].Body), log[0].Truncated)
	}
}

// TestProxyStreams: the proxy passes each chunk on as the target flushes
// it, not when the response ends.
func TestProxyStreams(t *testing.T) {
	release := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "second\n")
	}))
	defer backend.Close()
	defer close(release)
	p := startProxy(t, backend.URL)
	resp, err := http.Get(p.URL() + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(resp.Body).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		if s != "first\n" {
			t.Fatalf("got %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("first chunk held back by the proxy")
	}
}

// TestProxyWebSocket: a Hrana WebSocket upgrade passes through the proxy,
// and Close cuts the upgraded connection.
func TestProxyWebSocket(t *testing.T) {
	if External() {
		t.Log("external server: checking the upgrade through the proxy against it")
	}
	p, err := NewProxy(URL())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: hrana3\r\n\r\n",
		strings.TrimPrefix(p.URL(), "http://"))
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Protocol") != "hrana3" {
		t.Fatalf("upgrade answered %s, protocol %q", resp.Status, resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	if p.Requests() != 1 {
		t.Fatalf("upgrade counted as %d requests", p.Requests())
	}
	p.Close()
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("upgraded connection still open after Close")
	}
}

// The TLS proxy serves HTTPS with a certificate the client can trust.
func TestTLSProxy(t *testing.T) {
	p, err := NewTLSProxy(URL())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !strings.HasPrefix(p.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL %s", p.URL())
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(p.CertPEM()) {
		t.Fatal("no certificate")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(p.URL() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || p.Requests() != 1 {
		t.Fatalf("status %d, %d requests", resp.StatusCode, p.Requests())
	}
	// Untrusted without the certificate.
	if _, err := http.Get(p.URL() + "/health"); err == nil {
		t.Fatal("the self-signed certificate was trusted")
	}
}
