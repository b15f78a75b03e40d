package libsql

import (
	"fmt"
	"time"

	"github.com/entlibsql/entlibsql/internal/hrana"
)

// DefaultRequestTimeout is how long a statement whose context has no
// deadline waits on a server that makes no progress before it fails: no
// answer to a request, or no next part of an answer being read (rows of a
// cursor included; time the caller spends between rows does not count).
// A context deadline, when there is one, rules instead. Connecting is
// bounded too: 10 s for TCP and 10 s for the TLS handshake.
const DefaultRequestTimeout = hrana.DefaultRequestTimeout

// DefaultMaxResponseSize is the most the driver reads of one answer unless
// WithMaxResponseSize says otherwise: 128 MiB, counted after
// decompression, for a pipeline answer, one cursor row or one WebSocket
// message. sqld itself refuses answers over 10 MB unless started with
// --max-response-size.
const DefaultMaxResponseSize = hrana.DefaultMaxResponseSize

// WithRequestTimeout sets how long a statement whose context has no
// deadline waits on a server that makes no progress (see
// DefaultRequestTimeout); a negative d turns the bound off. It fails with
// an error satisfying errors.Is(err, context.DeadlineExceeded), and is
// never retried: the statement may have run.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *Config) { c.RequestTimeout = d }
}

// String shows the connector's URL, never its token.
func (c *Connector) String() string { return "libsql.Connector(" + c.cfg.String() + ")" }

// GoString keeps %#v from printing the connector's fields, the token
// among them.
func (c *Connector) GoString() string { return c.String() }

// Format keeps every fmt verb, %+v included, from printing the token.
func (c *Connector) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }
