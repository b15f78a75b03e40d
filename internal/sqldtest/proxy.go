package sqldtest

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy is an HTTP reverse proxy in front of a server, for tests that
// count or delay requests, or read what the driver sent.
type Proxy struct {
	srv      *http.Server
	ln       net.Listener
	requests atomic.Int64
	delay    atomic.Int64 // nanoseconds added before each request

	mu  sync.Mutex
	log []RequestRecord
}

// RequestRecord is one request that passed through the proxy.
type RequestRecord struct {
	Method string
	Path   string
	Body   []byte
}

const maxRecords = 1000

// NewProxy starts a proxy on 127.0.0.1 that forwards to target.
func NewProxy(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1 // stream responses (cursors) as they come
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := p.delay.Load(); d > 0 {
			time.Sleep(time.Duration(d))
		}
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		p.requests.Add(1)
		p.record(RequestRecord{Method: r.Method, Path: r.URL.Path, Body: body})
		rp.ServeHTTP(w, r)
	})}
	go p.srv.Serve(ln)
	return p, nil
}

// URL is the proxy's base URL.
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Requests is the number of requests forwarded since the last Reset.
func (p *Proxy) Requests() int64 { return p.requests.Load() }

// Reset zeroes the count and clears the log.
func (p *Proxy) Reset() {
	p.requests.Store(0)
	p.mu.Lock()
	p.log = nil
	p.mu.Unlock()
}

// SetDelay adds d before forwarding each request.
func (p *Proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// Log returns the last requests forwarded (at most 1000).
func (p *Proxy) Log() []RequestRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]RequestRecord(nil), p.log...)
}

func (p *Proxy) record(r RequestRecord) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.log) == maxRecords {
		p.log = p.log[1:]
	}
	p.log = append(p.log, r)
}

// Close stops the proxy.
func (p *Proxy) Close() { p.srv.Close() }
