package sqldtest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"
)

// Fake is a fake Hrana server on 127.0.0.1, for tests of what a client does
// when whatever answers in a server's place misbehaves: it records every
// request (and every WebSocket hello) and answers with the test's handler.
// It runs no SQL; where real behaviour matters, use a real sqld.
type Fake struct {
	srv     *httptest.Server
	certPEM []byte
	handler atomic.Pointer[http.Handler]

	mu    sync.Mutex
	reqs  []FakeRequest
	conns map[net.Conn]struct{}
}

// FakeRequest is one request a Fake received.
type FakeRequest struct {
	Method        string
	Path          string
	Authorization string
	Body          []byte // the first MiB
	// Hello is the jwt of a WebSocket hello ("" for HTTP requests, or a
	// hello with a null jwt); WebSocket marks an upgrade.
	WebSocket bool
	Hello     string
}

// NewFake serves h over plain HTTP (nil: 404 until SetHandler).
func NewFake(h http.Handler) *Fake { return newFake(h, false) }

// NewTLSFake serves h over HTTPS with a self-signed certificate for
// 127.0.0.1 and localhost: trust CertPEM.
func NewTLSFake(h http.Handler) *Fake { return newFake(h, true) }

// NewWebSocketFake serves Hrana 3 over WebSocket with answer (see
// Fake.WebSocket), over plain HTTP.
func NewWebSocketFake(answer WSAnswer) *Fake {
	f := newFake(nil, false)
	f.SetHandler(f.WebSocket(answer))
	return f
}

// SetHandler makes h answer from now on.
func (f *Fake) SetHandler(h http.Handler) {
	if h == nil {
		h = http.NotFoundHandler()
	}
	f.handler.Store(&h)
}

func newFake(h http.Handler, useTLS bool) *Fake {
	f := &Fake{conns: map[net.Conn]struct{}{}}
	f.SetHandler(h)
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		f.record(FakeRequest{
			Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization"),
			Body: body, WebSocket: strings.EqualFold(r.Header.Get("Upgrade"), "websocket"),
		})
		(*f.handler.Load()).ServeHTTP(w, r)
	}))
	f.srv.Config.ErrorLog = nil
	f.srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch s {
		case http.StateNew:
			f.conns[c] = struct{}{}
		case http.StateClosed:
			delete(f.conns, c)
		}
	}
	if useTLS {
		cert, pem, err := selfSigned()
		if err != nil {
			panic("sqldtest: " + err.Error())
		}
		f.certPEM = pem
		f.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	return f
}

func (f *Fake) record(r FakeRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, r)
}

// URL is the fake's base URL, http://127.0.0.1:PORT or https://….
func (f *Fake) URL() string { return f.srv.URL }

// Addr is the host:port the fake listens on.
func (f *Fake) Addr() string { return f.srv.Listener.Addr().String() }

// CertPEM is the certificate of a TLS fake.
func (f *Fake) CertPEM() []byte { return f.certPEM }

// Requests returns what the fake received so far.
func (f *Fake) Requests() []FakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FakeRequest(nil), f.reqs...)
}

// Close stops the fake and cuts every connection to it, hijacked ones
// (WebSockets) included.
func (f *Fake) Close() {
	f.mu.Lock()
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.srv.CloseClientConnections()
	f.srv.Close()
}

// WSRequest is one request message a client sent over a fake WebSocket.
type WSRequest struct {
	ID      int64           // its request_id
	Type    string          // its request's type: open_stream, execute, ...
	Request json.RawMessage // the request object
}

// WSAnswer answers one request message: the messages to send back
// (usually one, with the request's id), none to stay silent.
type WSAnswer func(ctx context.Context, r WSRequest) [][]byte

// WebSocket is a handler for f that accepts Hrana 3 WebSocket upgrades,
// answers the hello with hello_ok (recording its jwt in f's log), then
// answers each request message with answer. With answer nil, the hello
// gets no answer at all.
func (f *Fake) WebSocket(answer WSAnswer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"hrana3"}})
		if err != nil {
			return
		}
		defer conn.CloseNow()
		conn.SetReadLimit(64 << 20)
		ctx := r.Context()
		_, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		var hello struct {
			JWT *string `json:"jwt"`
		}
		json.Unmarshal(data, &hello)
		rec := FakeRequest{Method: "HELLO", Path: r.URL.Path, WebSocket: true}
		if hello.JWT != nil {
			rec.Hello = *hello.JWT
		}
		f.record(rec)
		if answer == nil {
			<-ctx.Done()
			return
		}
		if conn.Write(ctx, websocket.MessageText, []byte(`{"type":"hello_ok"}`)) != nil {
			return
		}
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var m struct {
				ID      int64           `json:"request_id"`
				Request json.RawMessage `json:"request"`
			}
			json.Unmarshal(data, &m)
			var kind struct {
				Type string `json:"type"`
			}
			json.Unmarshal(m.Request, &kind)
			for _, out := range answer(ctx, WSRequest{ID: m.ID, Type: kind.Type, Request: m.Request}) {
				if conn.Write(ctx, websocket.MessageText, out) != nil {
					return
				}
			}
		}
	})
}

// Redirect is a handler that answers every request with status and a
// Location of target plus the request's path.
func Redirect(status int, target string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", strings.TrimSuffix(target, "/")+r.URL.Path)
		w.WriteHeader(status)
	})
}
