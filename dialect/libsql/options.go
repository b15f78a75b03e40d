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
	return func(c *Config) { c.setToken(token) }
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

// WithMaxResponseSize bounds, in bytes counted after decompression, what
// the driver reads of one answer from the server: a whole pipeline answer
// (a statement's rows when they come whole), one row of a cursor, one
// WebSocket message (see DefaultMaxResponseSize). Past it the statement
// fails with an error that names the limit; n < 0 turns the bound off.
func WithMaxResponseSize(n int64) Option {
	return func(c *Config) { c.MaxResponseSize = n }
}

// WithBaseURLHosts lets a server's base_url (the address it asks a
// stream's later requests to go to) point to these hosts ("host" or
// "host:port") too. Without it a base_url is followed only over the same
// scheme and port to the URL's own host or a host under its registrable
// domain (x.example.io for db.example.io); any other is ignored, and the
// token is never sent there.
func WithBaseURLHosts(hosts ...string) Option {
	return func(c *Config) { c.BaseURLHosts = append(c.BaseURLHosts, hosts...) }
}
