package libsql

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
)

// Option changes how Open connects.
type Option func(*Config)

// WithAuthToken sets the auth token (a Turso database token or a JWT). A
// token given both here and in the URL must be the same token.
func WithAuthToken(token string) Option {
	return func(c *Config) { c.AuthToken = token }
}

// WithLogger logs every request at debug level: the statements, the
// stream, the duration and any error. Argument values and the auth token
// are never logged. It is the counterpart of sqlalchemy-libsql's
// --log-debug=libsql_client.
func WithLogger(l *slog.Logger) Option {
	return func(c *Config) { c.Logger = l }
}

// WithHTTPClient sends requests through client instead of the driver's own
// keep-alive transport (for proxies, custom TLS or instrumentation).
func WithHTTPClient(client *http.Client) Option {
	return func(c *Config) { c.HTTPClient = client }
}

// WithAuthTokenFunc supplies the auth token for every request, for tokens
// that rotate. It replaces a token from the URL or WithAuthToken. Its
// errors fail the statement; they should not contain the token.
func WithAuthTokenFunc(f func(context.Context) (string, error)) Option {
	return func(c *Config) { c.AuthTokenFunc = f }
}

// WithTLSConfig configures TLS: custom root CAs for a self-hosted sqld
// behind TLS, client certificates. The server is always verified; a TLS
// URL never falls back to plain text.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *Config) { c.TLSConfig = cfg }
}
