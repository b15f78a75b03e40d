package libsql

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is a parsed libSQL URL plus the options given to Open. Printing it
// (fmt, slog) never shows the auth token.
type Config struct {
	// URL is the server's HTTP(S) base URL, without query or token.
	URL string
	// AuthToken is the bearer token (a Turso database token or a JWT).
	AuthToken string
	// AuthTokenFunc, when set, supplies the token for every request, for
	// tokens that rotate; it replaces AuthToken.
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
}

// tokenParams are the URL parameters that carry the auth token: libSQL
// clients use authToken, sqlalchemy-libsql accepts auth_token, older
// examples use jwt.
var tokenParams = []string{"authToken", "auth_token", "jwt"}

// ParseURL parses a libSQL URL:
//
//	libsql://host[:port]                 HTTPS (add ?tls=0 for plain HTTP)
//	https://host[:port], http://host[:port]
//	sqlite+libsql://host[:port]/?secure=true   sqlalchemy-libsql form; plain HTTP unless secure=true
//	wss://host[:port], ws://host[:port]        Hrana over WebSocket
//
// Each takes the auth token as authToken, auth_token or jwt. Errors name
// the problem but never repeat the URL, which may hold the token.
func ParseURL(dsn string) (*Config, error) {
	if strings.HasPrefix(dsn, ":memory:") {
		return nil, urlErr(errEmbedded)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, urlErr(parseProblem(err))
	}
	if u.Scheme == "" {
		return nil, urlErr("missing scheme (want libsql://, https://, http://, wss://, ws:// or sqlite+libsql://)")
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
		return nil, urlErr(fmt.Sprintf("unsupported scheme %q (want libsql://, https://, http://, wss://, ws:// or sqlite+libsql://)", u.Scheme))
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, urlErr("missing host")
	}
	if u.User != nil {
		return nil, urlErr("user info (user:password@) is not supported; pass the token as ?authToken=")
	}
	if u.Fragment != "" || strings.Contains(dsn, "#") {
		return nil, urlErr("a fragment (#...) is not allowed")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, urlErr("invalid port")
		}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, urlErr("malformed query string")
	}
	cfg := &Config{}
	var tlsFrom string // the parameter that set TLS explicitly
	for name, vals := range q {
		if len(vals) > 1 {
			return nil, urlErr(fmt.Sprintf("parameter %q is given more than once", name))
		}
		switch name {
		case "authToken", "auth_token", "jwt":
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
				return nil, urlErr(fmt.Sprintf("parameter %s=%s conflicts with the %s:// scheme", name, vals[0], scheme))
			}
			useTLS, tlsFrom = on, name
		default:
			return nil, urlErr(fmt.Sprintf("unknown parameter %q", name))
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
		if cfg.AuthToken != "" && cfg.AuthToken != tok {
			return nil, urlErr("conflicting auth tokens in " + strings.Join(present(q, tokenParams), " and "))
		}
		cfg.AuthToken = tok
	}
	transport := "http"
	if scheme == "ws" || scheme == "wss" {
		transport = "ws"
	}
	if useTLS {
		transport += "s"
	}
	cfg.URL = transport + "://" + u.Host + strings.TrimSuffix(u.EscapedPath(), "/")
	return cfg, nil
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
		return "missing scheme"
	default:
		return "malformed URL"
	}
}

// String shows the config with the token redacted.
func (c Config) String() string {
	tok := ""
	if c.AuthToken != "" {
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
