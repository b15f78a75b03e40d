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
	// URL is the server's base URL, http://, https://, ws:// or wss://,
	// optionally with a path prefix. The pipeline endpoint is appended to
	// it.
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
	// HTTPClient replaces the client's own keep-alive transport. The
	// client follows its redirect rules (see redirect.go) on a copy.
	HTTPClient *http.Client
	// Logger receives one debug record per request.
	Logger *slog.Logger
	// RequestTimeout bounds how long a request whose context has no
	// deadline waits on a server that makes no progress (see timeout.go):
	// 0 means DefaultRequestTimeout, a negative value no bound. A context
	// deadline always rules.
	RequestTimeout time.Duration
	// MaxResponseSize bounds, in bytes after decompression, a pipeline
	// answer, one entry of a cursor and one WebSocket message: 0 means
	// DefaultMaxResponseSize, a negative value no bound.
	MaxResponseSize int64
	// BaseURLHosts are hosts ("host" or "host:port") a base_url may point
	// to besides the client's own origin and its registrable domain (see
	// baseurl.go).
	BaseURLHosts []string
}

// Client talks Hrana over HTTP to one server. It is safe for concurrent
// use; each Stream it hands out is not.
type Client struct {
	base       string   // base URL without trailing slash
	origin     *url.URL // scheme and host of base, for redirects and base_url
	token      string
	tokenFunc  func(context.Context) (string, error)
	http       *http.Client
	transport  *http.Transport // ours, when we made it; closed with the client
	log        *slog.Logger
	v2         atomic.Bool // the server lacks /v3/pipeline
	noCursor   atomic.Bool // the server lacks /v3/cursor
	streamIDs  atomic.Uint64
	replIndex  atomic.Uint64 // see replication.go
	timeout    time.Duration // see timeout.go
	maxSize    int64         // see limit.go; 0: no bound
	baseHosts  []string      // see baseurl.go
	baseLogged atomic.Bool   // a refused base_url was logged
	lastBase   atomic.Pointer[baseURLVerdict]
	fixedToken *secretText                   // see secret.go
	funcTokens atomic.Pointer[[]*lazySecret] // the TokenFunc's last tokens, newest first
	tokensMu   sync.Mutex                    // orders updates of funcTokens

	bgCtx    context.Context // ends with Close: best-effort closes of abandoned streams
	bgCancel context.CancelFunc
	bgMu     sync.Mutex // orders bg.Add before Close's bg.Wait
	bg       sync.WaitGroup

	isWS bool // Hrana over WebSocket (ws.go) rather than HTTP
	wsMu sync.Mutex
	ws   *wsSocket
	dial *wsDial // the dial in progress, if any
}

// NewClient checks cfg and returns a client. It does not contact the server.
func NewClient(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ws" && u.Scheme != "wss") {
		return nil, errors.New("the base URL must be an absolute http://, https://, ws:// or wss:// URL with a host")
	}
	c := &Client{
		base:      strings.TrimSuffix(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"),
		origin:    &url.URL{Scheme: httpScheme(u.Scheme), Host: strings.ToLower(u.Host)},
		token:     cfg.AuthToken,
		tokenFunc: cfg.TokenFunc,
		log:       cfg.Logger,
		isWS:      u.Scheme == "ws" || u.Scheme == "wss",
		timeout:   requestTimeout(cfg.RequestTimeout),
		maxSize:   maxResponseSize(cfg.MaxResponseSize),
		baseHosts: normalizeHosts(cfg.BaseURLHosts),
	}
	if c.token != "" {
		c.fixedToken = newSecretText(c.token)
	}
	c.bgCtx, c.bgCancel = context.WithCancel(context.Background())
	hc := cfg.HTTPClient
	if hc == nil {
		c.transport = newTransport()
		if cfg.TLSConfig != nil {
			c.transport.TLSClientConfig = cfg.TLSConfig.Clone()
		}
		hc = &http.Client{Transport: c.transport}
	}
	c.http = c.withRedirectRules(hc)
	return c, nil
}

// httpScheme is the HTTP scheme a WebSocket URL dials.
func httpScheme(scheme string) string {
	switch scheme {
	case "ws":
		return "http"
	case "wss":
		return "https"
	}
	return scheme
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
	c.closeSocket()
	c.bg.Wait()
	if c.transport != nil {
		c.transport.CloseIdleConnections()
	}
}

// goBackground runs f on a goroutine that Close waits for, with a context
// that Close ends; it reports false (and runs nothing) once the client is
// closed.
func (c *Client) goBackground(f func(ctx context.Context)) bool {
	c.bgMu.Lock()
	defer c.bgMu.Unlock()
	if c.bgCtx.Err() != nil {
		return false
	}
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		f(c.bgCtx)
	}()
	return true
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

func (c *Client) String() string { return fmt.Sprintf("hrana.Client(%s)", c.base) }
