package libsql

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/idna"
)

// Config is a parsed libSQL URL plus the options given to Open. Printing it
// (fmt, slog, inside any struct) never shows the auth token.
type Config struct {
	// URL is the server's HTTP(S) or WebSocket base URL, without query or
	// token, its host as it is dialled (ASCII, IDNA-mapped).
	URL string
	// token is the bearer token, behind a pointer so that printing a
	// struct that holds a Config by reflection shows an address only.
	token *string
	// AuthTokenFunc, when set, supplies the token for every request, for
	// tokens that rotate; it replaces the fixed token.
	AuthTokenFunc func(context.Context) (string, error)
	// Logger, when set, receives a debug record for every request.
	Logger *slog.Logger
	// TLSConfig configures TLS (custom roots, client certificates); by
	// default the system roots verify the server (SSL_CERT_FILE is honoured
	// where Go honours it).
	TLSConfig *tls.Config
	// HTTPClient replaces the driver's own keep-alive transport.
	HTTPClient *http.Client
	// RequestTimeout bounds how long a statement whose context has no
	// deadline waits on a server that makes no progress: 0 means
	// DefaultRequestTimeout, a negative value no bound. See
	// WithRequestTimeout.
	RequestTimeout time.Duration
	// MaxResponseSize bounds what is read of one answer: 0 means
	// DefaultMaxResponseSize, a negative value no bound. See
	// WithMaxResponseSize.
	MaxResponseSize int64
	// BaseURLHosts are further hosts a server's base_url may send a
	// stream to. See WithBaseURLHosts.
	BaseURLHosts []string
}

// AuthToken is the bearer token (a Turso database token or a JWT), from
// the URL or WithAuthToken; "" if none.
func (c Config) AuthToken() string {
	if c.token == nil {
		return ""
	}
	return *c.token
}

func (c *Config) setToken(tok string) {
	if tok == "" {
		c.token = nil
		return
	}
	c.token = &tok
}

// tokenParams are the URL parameters that carry the auth token: libSQL
// clients use authToken, sqlalchemy-libsql accepts auth_token, older
// examples use jwt.
var tokenParams = []string{"authToken", "auth_token", "jwt"}

// knownParams are every parameter a URL may carry.
var knownParams = append([]string{"tls", "secure"}, tokenParams...)

// schemes is the list of URL forms an error suggests.
const schemes = "libsql:// (Turso, TLS), http:// (a local sqld), https://, wss:// or ws://"

// ParseURL parses a libSQL URL:
//
//	libsql://host[:port]                 HTTPS (add ?tls=0 for plain HTTP)
//	https://host[:port], http://host[:port]
//	sqlite+libsql://host[:port]/?secure=true   sqlalchemy-libsql form; plain HTTP unless secure=true
//	wss://host[:port], ws://host[:port]        Hrana over WebSocket
//
// Each takes the auth token as authToken, auth_token or jwt. Errors name
// the problem but never repeat the URL or any part of a parameter, which
// may hold the token.
func ParseURL(dsn string) (*Config, error) {
	if strings.HasPrefix(dsn, ":memory:") {
		return nil, urlErr(errEmbedded)
	}
	if hasBidiControl(dsn) {
		return nil, urlErr("a bidirectional control character (such as U+202E) in the URL: it can make the URL read differently from what is dialled")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		if !strings.Contains(dsn, "://") && !strings.HasPrefix(dsn, "file:") {
			return nil, urlErr("missing scheme: start the URL with " + schemes)
		}
		return nil, urlErr(parseProblem(err))
	}
	scheme := strings.ToLower(u.Scheme)
	var useTLS bool
	switch scheme {
	case "libsql":
		useTLS = true // as Turso's clients: TLS unless ?tls=0
	case "https":
		useTLS = true
	case "http", "sqlite+libsql":
		useTLS = false
	case "ws":
		useTLS = false
	case "wss":
		useTLS = true
	case "file":
		return nil, urlErr(errEmbedded)
	default:
		if u.Scheme == "" || !strings.Contains(dsn, "://") {
			// "db.turso.io", or "localhost:8080" (read as scheme "localhost").
			return nil, urlErr("missing scheme: start the URL with " + schemes)
		}
		if len(u.Scheme) > maxQuotedScheme || strings.Contains(u.Scheme, ".") {
			// A token pasted before "://" parses as a scheme.
			return nil, urlErr(fmt.Sprintf("unsupported scheme (want %s, or sqlite+libsql://)", schemes))
		}
		return nil, urlErr(fmt.Sprintf("unsupported scheme %q (want %s, or sqlite+libsql://)", u.Scheme, schemes))
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, urlErr("missing host")
	}
	if looksLikeJWT(u.Hostname()) || slices.ContainsFunc(strings.Split(u.Path, "/"), looksLikeJWT) {
		// It would be printed with the URL, in every error that names it.
		return nil, urlErr("the URL's host or path holds what looks like an auth token (a JWT): pass it as ?authToken= or with WithAuthToken")
	}
	if u.User != nil {
		return nil, urlErr("user info (user:password@) is not supported; pass the token as ?authToken=")
	}
	if u.Fragment != "" || strings.Contains(dsn, "#") {
		return nil, urlErr("a fragment (#...) is not allowed")
	}
	port := u.Port()
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, urlErr("invalid port")
		}
	}
	host, err := dialledHost(u.Hostname())
	if err != nil {
		return nil, urlErr("invalid host name")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, urlErr("malformed query string")
	}
	cfg := &Config{}
	var tlsFrom string // the parameter that set TLS explicitly
	for name, vals := range q {
		if !isKnownParam(name) {
			return nil, urlErr(unknownParam(name))
		}
		if len(vals) > 1 {
			return nil, urlErr(fmt.Sprintf("parameter %q is given more than once", name))
		}
		switch name {
		case "tls", "secure":
			on, err := strconv.ParseBool(vals[0])
			if err != nil {
				return nil, urlErr(fmt.Sprintf("parameter %q must be true or false (or 1 or 0)", name))
			}
			// http:// and https:// already say it: the parameter may only agree.
			fixed := scheme == "http" || scheme == "https" || scheme == "ws" || scheme == "wss"
			if (fixed || tlsFrom != "") && on != useTLS {
				if tlsFrom != "" {
					return nil, urlErr("conflicting parameters tls and secure")
				}
				// vals[0] parsed as a bool: it is one of a dozen spellings.
				return nil, urlErr(fmt.Sprintf("parameter %s=%s conflicts with the %s:// scheme", name, vals[0], scheme))
			}
			useTLS, tlsFrom = on, name
		}
	}
	for _, name := range tokenParams {
		if !q.Has(name) {
			continue
		}
		tok := q.Get(name)
		if tok == "" {
			return nil, urlErr(fmt.Sprintf("parameter %q is empty", name))
		}
		if cfg.AuthToken() != "" && cfg.AuthToken() != tok {
			return nil, urlErr("conflicting auth tokens in " + strings.Join(present(q, tokenParams), " and "))
		}
		cfg.setToken(tok)
	}
	transport := "http"
	if scheme == "ws" || scheme == "wss" {
		transport = "ws"
	}
	if useTLS {
		transport += "s"
	}
	if strings.Contains(host, ":") {
		host = "[" + strings.Replace(host, "%", "%25", 1) + "]" // a zone's % escaped, as URLs write it
	}
	if port != "" {
		host += ":" + port
	}
	cfg.URL = transport + "://" + host + strings.TrimSuffix(u.EscapedPath(), "/")
	return cfg, nil
}

// maxQuotedScheme is the longest unsupported scheme an error repeats.
const maxQuotedScheme = 16

// looksLikeJWT reports whether s has a JWT's shape (Turso's tokens are
// JWTs): three base64url parts joined by dots, the first a JSON object's
// encoding.
func looksLikeJWT(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "eyJ") || len(s) < 24 {
		return false
	}
	for _, p := range parts[:2] {
		if p == "" || strings.Trim(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return false
		}
	}
	return true
}

// dialledHost is host as net/http dials it: an ASCII host as it is, any
// other through IDNA's lookup mapping (fullwidth dots as dots, Unicode as
// punycode), so that the URL printed is the one reached: "127。0。0。1"
// dials 127.0.0.1.
func dialledHost(host string) (string, error) {
	if strings.Contains(host, ":") { // only an IPv6 address, from [...]
		addr, _, _ := strings.Cut(host, "%")
		if net.ParseIP(addr) == nil {
			return "", errors.New("invalid host")
		}
		return host, nil
	}
	if isASCII(host) {
		return host, nil
	}
	ascii, err := idna.Lookup.ToASCII(host)
	if err != nil || ascii == "" || strings.ContainsAny(ascii, "/?#@ ") {
		return "", errors.New("invalid host")
	}
	return ascii, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// hasBidiControl reports whether s holds a Unicode bidirectional control
// (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069).
func hasBidiControl(s string) bool {
	for _, r := range s {
		switch {
		case r == 0x061C, r == 0x200E, r == 0x200F,
			r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
			return true
		}
	}
	return false
}

func isKnownParam(name string) bool {
	for _, k := range knownParams {
		if name == k {
			return true
		}
	}
	return false
}

// unknownParam describes a parameter this package does not know without
// repeating it (a token pasted without its "authToken=" would show): it
// names the known parameter it resembles, or lists them all.
func unknownParam(name string) string {
	lower := strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(name))
	for _, k := range knownParams {
		if lower == strings.ToLower(strings.ReplaceAll(k, "_", "")) {
			return "an unknown parameter; did you mean " + k + "? (names are case-sensitive)"
		}
	}
	return "an unknown parameter (known: " + strings.Join(knownParams, ", ") + ")"
}

func present(q url.Values, names []string) []string {
	var out []string
	for _, n := range names {
		if q.Has(n) {
			out = append(out, n)
		}
	}
	return out
}

const errEmbedded = "local files (file:, :memory:) need the embedded libSQL engine: import _ \"github.com/entlibsql/entlibsql/dialect/embedded\" (it needs cgo)"

// URLError is a problem with a libSQL URL. It never contains the URL.
type URLError struct {
	Problem string
}

func (e *URLError) Error() string { return "libsql: invalid URL: " + e.Problem }

func urlErr(problem string) error { return &URLError{Problem: problem} }

// parseProblem describes a url.Parse failure without quoting the input:
// net/url errors repeat the whole URL, token included.
func parseProblem(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var esc url.EscapeError
	var host url.InvalidHostError
	switch {
	case errors.As(err, &esc):
		return "invalid %-escape"
	case errors.As(err, &host):
		return "invalid character in host"
	case strings.Contains(err.Error(), "invalid port"):
		return "invalid port"
	case strings.Contains(err.Error(), "control character"):
		return "control character in URL"
	case strings.Contains(err.Error(), "missing protocol scheme"):
		return "missing scheme: start the URL with " + schemes
	default:
		return "malformed URL"
	}
}

// String shows the config with the token redacted.
func (c Config) String() string {
	tok := ""
	if c.AuthToken() != "" {
		tok = ", AuthToken: [REDACTED]"
	}
	return "libsql.Config{URL: " + c.URL + tok + "}"
}

// GoString keeps %#v from printing the token.
func (c Config) GoString() string { return c.String() }

// Format keeps every fmt verb, %+v included, from printing the token.
func (c Config) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue keeps slog from printing the token.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }
