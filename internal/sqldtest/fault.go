package sqldtest

import (
	"bufio"
	"bytes"
	be "encoding/binary"
	"errors"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is what a FaultProxy does to the requests (HTTP) or messages
// (WebSocket) it picks.
type Fault int

const (
	// NoFault forwards everything untouched.
	NoFault Fault = iota
	// DropBeforeServer cuts the client's connection once its request has
	// arrived: the server never sees it. (The client cannot tell this
	// from DropAfterServer.)
	DropBeforeServer
	// DropAfterServer forwards the request, lets the server run it and
	// answer, then cuts the client's connection instead of answering.
	DropAfterServer
	// DropMidResponse forwards the request and cuts the connection half
	// way through the answer (HTTP: after the headers and half the body;
	// WebSocket: half a frame).
	DropMidResponse
	// Answer502 answers 502 with an HTML page, without forwarding. Over
	// WebSocket it cuts sockets as DropBeforeServer does, and refuses
	// upgrades with 502.
	Answer502
	// Answer503 answers 503 with an empty body, without forwarding; over
	// WebSocket as Answer502, with 503.
	Answer503
	// TruncateBody forwards the request and sends back the first half of
	// the answer, framed as if complete.
	TruncateBody
	// CorruptBody forwards the request and sends back the answer with a
	// NUL byte in the middle, which no JSON parser accepts.
	CorruptBody
)

var faultNames = [...]string{"none", "drop-before-server", "drop-after-server", "drop-mid-response", "502", "503", "truncate-body", "corrupt-body"}

func (f Fault) String() string {
	if f >= 0 && int(f) < len(faultNames) {
		return faultNames[f]
	}
	return "Fault(" + strconv.Itoa(int(f)) + ")"
}

// FaultProxy sits in front of a real sqld and injects faults into the
// traffic of both Hrana transports: HTTP requests, and the messages of a
// WebSocket (relayed frame by frame). Set picks the fault and how often
// it strikes; SetDelay adds latency. It is safe for concurrent use.
type FaultProxy struct {
	target    *url.URL
	addr      string
	srv       *http.Server
	transport *http.Transport

	mu    sync.Mutex
	fault Fault
	rate  float64
	delay time.Duration
	conns map[net.Conn]struct{} // hijacked and WebSocket connections
	done  bool

	wg       sync.WaitGroup
	injected atomic.Int64
	seen     atomic.Int64
}

// NewFaultProxy starts a fault proxy on 127.0.0.1 in front of target, an
// http:// base URL. It injects nothing until Set.
func NewFaultProxy(target string) (*FaultProxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("fault proxy target %q: want an http:// URL", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &FaultProxy{
		target:    u,
		addr:      ln.Addr().String(),
		transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64},
		conns:     map[net.Conn]struct{}{},
	}
	p.srv = &http.Server{Handler: p}
	go p.srv.Serve(ln)
	return p, nil
}

// URL is the proxy's HTTP base URL; ws:// and the same address reach it
// over WebSocket.
func (p *FaultProxy) URL() string { return "http://" + p.addr }

// Set makes the proxy apply f to each request or message with
// probability rate (0 to 1). NoFault or rate 0 turns faults off.
func (p *FaultProxy) Set(f Fault, rate float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault, p.rate = f, rate
}

// SetDelay makes the proxy wait d before forwarding each request or
// client message. 0 turns it off.
func (p *FaultProxy) SetDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// Injected is how many faults the proxy has injected.
func (p *FaultProxy) Injected() int64 { return p.injected.Load() }

// Seen is how many requests and client messages the proxy has handled.
func (p *FaultProxy) Seen() int64 { return p.seen.Load() }

// pick decides the fault for one request or message: f if it strikes
// this time, else NoFault.
func (p *FaultProxy) pick(applies func(Fault) bool) (Fault, time.Duration) {
	p.seen.Add(1)
	p.mu.Lock()
	f, rate, d := p.fault, p.rate, p.delay
	p.mu.Unlock()
	if f == NoFault || !applies(f) || rand.Float64() >= rate {
		return NoFault, d
	}
	p.injected.Add(1)
	return f, d
}

// Close stops the proxy, cuts every connection through it and waits for
// its goroutines.
func (p *FaultProxy) Close() {
	p.srv.Close()
	p.mu.Lock()
	p.done = true
	conns := p.conns
	p.conns = map[net.Conn]struct{}{}
	p.mu.Unlock()
	for c := range conns {
		c.Close()
	}
	p.wg.Wait()
	p.transport.CloseIdleConnections()
}

// track registers a connection for Close; false if the proxy is closed.
func (p *FaultProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *FaultProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func sleep(d time.Duration, done <-chan struct{}) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-done:
	}
}

func (p *FaultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.wg.Add(1)
	defer p.wg.Done()
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		p.serveWebSocket(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	f, delay := p.pick(func(Fault) bool { return r.Method == http.MethodPost })
	sleep(delay, r.Context().Done())
	switch f {
	case DropBeforeServer:
		p.cut(w)
		return
	case Answer502:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		// Like some debugging gateways, it echoes the request's headers:
		// a client must not repeat them (the token) in its error.
		fmt.Fprintf(w, "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><pre>Authorization: %s</pre></body></html>\n",
			html.EscapeString(r.Header.Get("Authorization")))
		return
	case Answer503:
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target.Scheme+"://"+p.target.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for _, h := range []string{"Authorization", "Content-Type"} {
		if v := r.Header.Get(h); v != "" {
			out.Header.Set(h, v)
		}
	}
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		http.Error(w, "fault proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		p.cut(w)
		return
	}
	switch f {
	case DropAfterServer:
		p.cut(w)
		return
	case DropMidResponse:
		p.cutMidway(w, resp, answer)
		return
	case TruncateBody:
		answer = answer[:len(answer)/2]
	case CorruptBody:
		answer = corrupt(answer)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	w.WriteHeader(resp.StatusCode)
	w.Write(answer)
}

// corrupt returns a copy of b with a NUL byte in its middle.
func corrupt(b []byte) []byte {
	b = bytes.Clone(b)
	if len(b) > 0 {
		b[len(b)/2] = 0
	}
	return b
}

// cut closes the client's connection without an answer.
func (p *FaultProxy) cut(w http.ResponseWriter) {
	if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
		c.Close()
	}
}

// cutMidway sends the answer's head and half its body, then closes.
func (p *FaultProxy) cutMidway(w http.ResponseWriter, resp *http.Response, body []byte) {
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer c.Close()
	fmt.Fprintf(brw, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		resp.StatusCode, http.StatusText(resp.StatusCode), resp.Header.Get("Content-Type"), len(body))
	brw.Write(body[:len(body)/2])
	brw.Flush()
}

// serveWebSocket relays a WebSocket to the target frame by frame,
// injecting faults into data frames: DropBeforeServer into the client's,
// the others into the server's.
func (p *FaultProxy) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if f, _ := p.pick(func(f Fault) bool { return f == Answer502 || f == Answer503 }); f != NoFault {
		status := http.StatusBadGateway
		if f == Answer503 {
			status = http.StatusServiceUnavailable
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	server, err := net.DialTimeout("tcp", p.target.Host, 10*time.Second)
	if err != nil {
		http.Error(w, "fault proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	client, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if !p.track(client) {
		return
	}
	defer p.untrack(client)

	// The upgrade request, as the client sent it, to the server.
	var head bytes.Buffer
	fmt.Fprintf(&head, "GET %s HTTP/1.1\r\nHost: %s\r\n", r.URL.RequestURI(), p.target.Host)
	r.Header.Write(&head)
	head.WriteString("\r\n")
	if _, err := server.Write(head.Bytes()); err != nil {
		return
	}
	// The server's answer, up to the blank line, to the client.
	srv := bufio.NewReader(server)
	for {
		line, err := srv.ReadString('\n')
		if err != nil {
			return
		}
		if _, err := client.Write([]byte(line)); err != nil {
			return
		}
		if line == "\r\n" {
			break
		}
	}
	done := make(chan struct{})
	var once sync.Once
	stop := func() {
		once.Do(func() {
			close(done)
			client.Close()
			server.Close()
		})
	}
	var relays sync.WaitGroup
	relays.Add(2)
	go func() { // client to server
		defer relays.Done()
		defer stop()
		for {
			fr, err := readFrame(brw.Reader)
			if err != nil {
				return
			}
			if fr.data() {
				// A failing gateway (502, 503) drops sockets too, so
				// that clients come back through a refused upgrade.
				f, delay := p.pick(func(f Fault) bool { return f == DropBeforeServer || f == Answer502 || f == Answer503 })
				sleep(delay, done)
				if f != NoFault {
					return
				}
			}
			if _, err := server.Write(fr.raw()); err != nil {
				return
			}
		}
	}()
	go func() { // server to client
		defer relays.Done()
		defer stop()
		for {
			fr, err := readFrame(srv)
			if err != nil {
				return
			}
			if fr.data() {
				f, _ := p.pick(func(f Fault) bool {
					return f == DropAfterServer || f == DropMidResponse || f == TruncateBody || f == CorruptBody
				})
				switch f {
				case DropAfterServer:
					return
				case DropMidResponse:
					raw := fr.raw()
					client.Write(raw[:len(fr.head)+len(fr.payload)/2])
					return
				case TruncateBody:
					fr.payload = fr.payload[:len(fr.payload)/2]
					fr.head = frameHead(fr.head[0], len(fr.payload))
				case CorruptBody:
					fr.payload = corrupt(fr.payload)
				}
			}
			if _, err := client.Write(fr.raw()); err != nil {
				return
			}
		}
	}()
	relays.Wait()
}

// frame is one WebSocket frame: its header as read, and its payload
// (still masked when the client sent it).
type frame struct {
	head    []byte
	payload []byte
}

// data reports whether the frame carries a message (text, binary or a
// continuation) rather than control.
func (f *frame) data() bool { return f.head[0]&0x0f < 8 }

func (f *frame) raw() []byte { return append(bytes.Clone(f.head), f.payload...) }

const maxFrame = 1 << 30

var errFrameTooBig = errors.New("fault proxy: WebSocket frame too large")

func readFrame(r *bufio.Reader) (*frame, error) {
	head := make([]byte, 2, 14)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, err
	}
	n := uint64(head[1] & 0x7f)
	ext := 0
	switch n {
	case 126:
		ext = 2
	case 127:
		ext = 8
	}
	if head[1]&0x80 != 0 {
		ext += 4 // the mask key
	}
	head = head[:2+ext]
	if _, err := io.ReadFull(r, head[2:]); err != nil {
		return nil, err
	}
	switch n {
	case 126:
		n = uint64(be.BigEndian.Uint16(head[2:]))
	case 127:
		n = be.BigEndian.Uint64(head[2:])
	}
	if n > maxFrame {
		return nil, errFrameTooBig
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return nil, err
	}
	return &frame{head: head, payload: payload}, nil
}

// frameHead is an unmasked frame header with first byte b0 for a payload
// of n bytes.
func frameHead(b0 byte, n int) []byte {
	switch {
	case n < 126:
		return []byte{b0, byte(n)}
	case n <= 0xffff:
		return be.BigEndian.AppendUint16([]byte{b0, 126}, uint16(n))
	}
	return be.BigEndian.AppendUint64([]byte{b0, 127}, uint64(n))
}
