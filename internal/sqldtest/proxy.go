package sqldtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// The log keeps at most this many records and this many body bytes in
	// all, dropping the oldest, so a long benchmark cannot fill memory.
	maxRecords   = 1000
	maxLogBytes  = 64 << 20
	maxBodyBytes = 16 << 20 // larger bodies are recorded cut short
)

// RequestRecord is one request the proxy forwarded.
type RequestRecord struct {
	Method string
	Path   string
	// Body is the request body as sent (its first 16 MiB).
	Body []byte
	// Truncated reports that Body is only the start of the body.
	Truncated bool
}

// Proxy is an HTTP reverse proxy on 127.0.0.1 in front of a server, for
// tests that count requests, add latency, or check what a client sent.
// Responses stream through unbuffered, and WebSocket upgrades pass (one
// upgrade counts as one request). It is safe for concurrent use.
type Proxy struct {
	target    *url.URL
	addr      string
	srv       *http.Server
	transport *http.Transport
	scheme    string // http, or https for NewTLSProxy
	certPEM   []byte

	requests atomic.Int64
	delay    atomic.Int64 // a time.Duration

	mu       sync.Mutex
	log      []RequestRecord
	logBytes int
	conns    map[*trackedConn]struct{}
	closed   bool
}

// NewProxy starts a proxy that forwards every request to target, an
// http:// or https:// base URL.
func NewProxy(target string) (*Proxy, error) { return newProxy("127.0.0.1:0", target, nil) }

// NewProxyAt is NewProxy listening on addr, for instance the Addr of a
// closed proxy, so that clients reconnect to the same place.
func NewProxyAt(addr, target string) (*Proxy, error) { return newProxy(addr, target, nil) }

// NewTLSProxy is NewProxy serving HTTPS, with a certificate for 127.0.0.1
// and localhost made for it and signed by itself: for tests of the TLS
// URL forms against sqld, which serves plain HTTP. CertPEM gives the
// certificate for the client to trust.
func NewTLSProxy(target string) (*Proxy, error) {
	cert, pem, err := selfSigned()
	if err != nil {
		return nil, err
	}
	p, err := newProxy("127.0.0.1:0", target, &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		return nil, err
	}
	p.certPEM = pem
	return p, nil
}

func newProxy(listen, target string, tlsConfig *tls.Config) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("proxy target: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("proxy target %q: want an http:// or https:// URL", target)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // tests talk to the target directly, whatever HTTP_PROXY says
	p := &Proxy{
		target:    u,
		addr:      ln.Addr().String(),
		transport: t,
		conns:     map[*trackedConn]struct{}{},
		scheme:    "http",
	}
	rp := &httputil.ReverseProxy{
		Rewrite:       p.rewrite,
		Transport:     t,
		FlushInterval: -1, // pass each chunk on at once: cursors stream
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			// Expected when a test kills the server; say so to the
			// client, not in the test log.
			http.Error(w, "sqldtest proxy: "+err.Error(), http.StatusBadGateway)
		},
	}
	p.srv = &http.Server{Handler: p.handler(rp)}
	var l net.Listener = &trackingListener{Listener: ln, p: p}
	if tlsConfig != nil {
		p.scheme = "https"
		l = tls.NewListener(l, tlsConfig)
	}
	go p.srv.Serve(l)
	return p, nil
}

// Addr is the proxy's "127.0.0.1:PORT".
func (p *Proxy) Addr() string { return p.addr }

// CertPEM is the certificate of a NewTLSProxy, PEM-encoded; nil for a
// plain proxy.
func (p *Proxy) CertPEM() []byte { return p.certPEM }

// selfSigned makes a one-day ECDSA certificate for 127.0.0.1 and
// localhost, signed by its own key, so it is its own root.
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "sqldtest proxy"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return cert, certPEM, err
}

func (p *Proxy) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body first, so the record is complete before the
		// client can see a response, then forward the same bytes.
		var body []byte
		if r.Body != nil && r.Body != http.NoBody {
			var err error
			if body, err = io.ReadAll(r.Body); err != nil {
				http.Error(w, "sqldtest proxy: reading request body: "+err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		p.requests.Add(1)
		p.record(r.Method, r.URL.Path, body)
		if d := time.Duration(p.delay.Load()); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// rewrite points the request at the target with the target's Host header,
// except that a name such as ns1.localhost is kept: sqld with
// --enable-namespaces picks the namespace from the Host's first label.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(p.target)
	host := pr.In.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host != "" && host != "localhost" && net.ParseIP(host) == nil {
		pr.Out.Host = pr.In.Host
	}
}

func (p *Proxy) record(method, path string, body []byte) {
	rec := RequestRecord{Method: method, Path: path}
	if len(body) > maxBodyBytes {
		body, rec.Truncated = body[:maxBodyBytes:maxBodyBytes], true
	}
	rec.Body = body
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = append(p.log, rec)
	p.logBytes += len(body)
	drop := 0
	for len(p.log)-drop > maxRecords || p.logBytes > maxLogBytes {
		p.logBytes -= len(p.log[drop].Body)
		drop++
	}
	if drop > 0 {
		// Copy rather than reslice, so dropped bodies can be freed.
		p.log = append([]RequestRecord(nil), p.log[drop:]...)
	}
}

// URL is the proxy's base URL, "http://127.0.0.1:PORT" (https:// for a
// NewTLSProxy).
func (p *Proxy) URL() string { return p.scheme + "://" + p.addr }

// Requests is the number of requests forwarded since NewProxy or Reset.
func (p *Proxy) Requests() int64 { return p.requests.Load() }

// Reset sets the request count to zero. The log is kept: see ResetLog.
func (p *Proxy) Reset() { p.requests.Store(0) }

// SetDelay makes the proxy wait d before forwarding each request, to
// simulate network latency. 0 turns it off.
func (p *Proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// Log returns the requests forwarded since NewProxy or ResetLog, oldest
// first: at most the last 1000, and fewer if their bodies exceed 64 MiB.
// The records must not be modified.
func (p *Proxy) Log() []RequestRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]RequestRecord(nil), p.log...)
}

// ResetLog empties the log.
func (p *Proxy) ResetLog() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log, p.logBytes = nil, 0
}

// Close stops the proxy and cuts every connection through it, WebSockets
// included, so clients see the server go away.
func (p *Proxy) Close() {
	p.srv.Close() // closes the listener and the connections it still owns
	p.mu.Lock()
	conns := p.conns
	p.conns, p.closed = map[*trackedConn]struct{}{}, true
	p.mu.Unlock()
	for c := range conns {
		c.Conn.Close() // hijacked ones: upgraded WebSockets
	}
	p.transport.CloseIdleConnections()
}

// trackingListener remembers accepted connections, because http.Server
// forgets the ones ReverseProxy hijacks for WebSockets and Close would
// leave them open.
type trackingListener struct {
	net.Listener
	p *Proxy
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, p: l.p}
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	if l.p.closed { // accepted just as Close ran
		c.Close()
		return nil, net.ErrClosed
	}
	l.p.conns[tc] = struct{}{}
	return tc, nil
}

type trackedConn struct {
	net.Conn
	p    *Proxy
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.p.mu.Lock()
		delete(c.p.conns, c)
		c.p.mu.Unlock()
	})
	return c.Conn.Close()
}
