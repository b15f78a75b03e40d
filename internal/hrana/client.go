package hrana

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config says where the server is and how to talk to it.
type Config struct {
	// URL is the server's base URL, http:// or https://, optionally with a
	// path prefix. The pipeline endpoint is appended to it.
	URL string
	// AuthToken, when set, is sent as a bearer token. It never appears in
	// an error or a log line.
	AuthToken string
	// TokenFunc, when set, supplies the token for each request instead of
	// AuthToken, for tokens that rotate. Its errors stop the request.
	TokenFunc func(context.Context) (string, error)
	// TLSConfig configures TLS for the client's own transport (custom
	// roots, client certificates); by default the system roots verify the
	// server. Ignored with HTTPClient.
	TLSConfig *tls.Config
	// HTTPClient replaces the client's own keep-alive transport.
	HTTPClient *http.Client
	// Logger receives one debug record per request.
	Logger *slog.Logger
	// RequestTimeout bounds how long a request whose context has no
	// deadline waits on a server that makes no progress (no answer, or no
	// next part of a body being read): 0 means DefaultRequestTimeout, a
	// negative value no bound. A context deadline always rules.
	RequestTimeout time.Duration
}

// Client talks Hrana over HTTP to one server. It is safe for concurrent
// use; each Stream it hands out is not.
type Client struct {
	base      string // base URL without trailing slash
	token     string
	tokenFunc func(context.Context) (string, error)
	http      *http.Client
	transport *http.Transport // ours, when we made it; closed with the client
	log       *slog.Logger
	v2        atomic.Bool // the server lacks /v3/pipeline
	noCursor  atomic.Bool // the server lacks /v3/cursor
	streamIDs atomic.Uint64
	replIndex atomic.Uint64          // see replication.go
	timeout   time.Duration          // see timeout.go
	lastToken atomic.Pointer[string] // the TokenFunc's last token, to scrub from errors

	bgCtx    context.Context // ends with Close: best-effort closes of abandoned streams
	bgCancel context.CancelFunc
	bgMu     sync.Mutex // orders bg.Add before Close's bg.Wait
	bg       sync.WaitGroup

	isWS bool          // Hrana over WebSocket (ws.go) rather than HTTP
	wsMu chan struct{} // a lock that a context can give up on; guards ws
	ws   *wsSocket
}

// NewClient checks cfg and returns a client. It does not contact the server.
func NewClient(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ws" && u.Scheme != "wss") {
		return nil, errors.New("hrana: the base URL must be an absolute http://, https://, ws:// or wss:// URL")
	}
	c := &Client{
		base:      strings.TrimSuffix(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"),
		token:     cfg.AuthToken,
		tokenFunc: cfg.TokenFunc,
		http:      cfg.HTTPClient,
		log:       cfg.Logger,
		isWS:      u.Scheme == "ws" || u.Scheme == "wss",
		timeout:   requestTimeout(cfg.RequestTimeout),
		wsMu:      make(chan struct{}, 1),
	}
	c.bgCtx, c.bgCancel = context.WithCancel(context.Background())
	if c.http == nil {
		c.transport = newTransport()
		if cfg.TLSConfig != nil {
			c.transport.TLSClientConfig = cfg.TLSConfig.Clone()
		}
		c.http = &http.Client{Transport: c.transport}
	}
	return c, nil
}

// newTransport is a keep-alive pool sized for many concurrent streams:
// http.DefaultTransport keeps only two idle connections per host, so a busy
// pool would redial on most requests.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Close releases idle connections of the client's own transport and ends
// the client's background work.
func (c *Client) Close() {
	c.bgMu.Lock()
	c.bgCancel()
	c.bgMu.Unlock()
	c.bg.Wait()
	c.closeSocket()
	if c.transport != nil {
		c.transport.CloseIdleConnections()
	}
}

// Stream returns a handle on a server stream. Nothing is sent until its
// first pipeline, which opens the stream on the server.
func (c *Client) Stream() *Stream {
	return &Stream{c: c, id: c.streamIDs.Add(1)}
}

// pipelineURL is the endpoint for a stream whose server-given base is base
// ("" for the client's own).
func (c *Client) pipelineURL(base string) string {
	if base == "" {
		base = c.base
	}
	if c.v2.Load() {
		return base + "/v2/pipeline"
	}
	return base + "/v3/pipeline"
}

// checkBaseURL vets a base_url the server sent: absolute http(s), and never
// a downgrade from TLS to plain text.
func (c *Client) checkBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", &ProtocolError{Msg: "server sent a base_url that is not an absolute http(s) URL"}
	}
	if strings.HasPrefix(c.base, "https:") && u.Scheme != "https" {
		return "", &ProtocolError{Msg: "server sent a plain-text base_url for a TLS connection"}
	}
	return strings.TrimSuffix(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

func (c *Client) String() string { return fmt.Sprintf("hrana.Client(%s)", c.base) }
