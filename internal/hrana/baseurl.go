package hrana

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// base_url. A server may answer with a base_url, the address its later
// requests for the stream should go to (a hosted service pins a stream to
// one of its instances). Those requests carry the token and the SQL, so a
// base_url is followed only when it keeps the client's scheme and port and
// its host is the client's own, a host under the same registrable domain
// (x.example.io for db.example.io, by the public suffix list, so never a
// neighbour under a shared suffix such as another app on fly.dev), or one
// the caller allowed (Config.BaseURLHosts). Otherwise the stream goes on
// at the client's own URL, and a debug line says so once per client.

// followBaseURL returns the base to send a stream's next requests to for
// the base_url raw, or "" to keep the client's own.
func (c *Client) followBaseURL(ctx context.Context, raw string) string {
	// A server sends the same base_url with every answer: decide once.
	if last := c.lastBase.Load(); last != nil && last.raw == raw {
		return last.base
	}
	base, err := c.judgeBaseURL(raw)
	c.lastBase.Store(&baseURLVerdict{raw: raw, base: base})
	if base != "" {
		return base
	}
	if c.log != nil && c.baseLogged.CompareAndSwap(false, true) {
		where := "an unreadable URL"
		if u, perr := url.Parse(raw); perr == nil && err == nil && u.Host != "" {
			where = describeURL(u)
		}
		c.log.LogAttrs(ctx, slog.LevelDebug, "hrana: not following the server's base_url (another scheme, port or site); the stream stays at the client's URL",
			slog.String("base_url", clip(c.scrub(where), maxMessage)))
	}
	return ""
}

// baseURLVerdict is the decision on one base_url text.
type baseURLVerdict struct{ raw, base string }

// judgeBaseURL returns the base for raw, or "" if it is not followed
// (err set when it does not parse).
func (c *Client) judgeBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if !c.baseURLAllowed(u) {
		return "", nil
	}
	return strings.TrimSuffix(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// baseURLAllowed applies the rules above to an absolute base_url.
func (c *Client) baseURLAllowed(u *url.URL) bool {
	if u.User != nil || u.Opaque != "" || u.Hostname() == "" || !strings.EqualFold(u.Scheme, c.origin.Scheme) {
		return false
	}
	if sameOrigin(u, c.origin) {
		return true
	}
	host := strings.ToLower(u.Hostname())
	withPort := net.JoinHostPort(host, effectivePort(u))
	for _, h := range c.baseHosts {
		if h == host || h == withPort {
			return true
		}
	}
	if effectivePort(u) != effectivePort(c.origin) {
		return false
	}
	return sameSite(host, strings.ToLower(c.origin.Hostname()))
}

// sameSite reports whether a and b are DNS names under one registrable
// domain (eTLD+1). IP addresses and names that are themselves a public
// suffix (localhost included) have none.
func sameSite(a, b string) bool {
	if net.ParseIP(a) != nil || net.ParseIP(b) != nil {
		return false
	}
	da, err := publicsuffix.EffectiveTLDPlusOne(a)
	if err != nil {
		return false
	}
	db, err := publicsuffix.EffectiveTLDPlusOne(b)
	return err == nil && da == db
}

// normalizeHosts lower-cases the allowed hosts.
func normalizeHosts(hosts []string) []string {
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			out = append(out, h)
		}
	}
	return out
}
