package hrana

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Redirects. Hrana servers do not redirect, and a request carries the
// auth token, the SQL and its arguments: a redirect is followed only to
// the same origin (scheme, host and port), so never from https to http
// nor to another host or port, and for a POST only as 307 or 308 (which
// keep the method and body). Any other redirect is not followed: the
// request fails with an *HTTPError naming where it pointed. The same
// rules hold for the WebSocket upgrade, whose hello carries the token.

// maxRedirects is how many same-origin redirects one request follows.
const maxRedirects = 3

// withRedirectRules returns a copy of hc that follows redirects under the
// rules above, and then under hc's own rules, if any.
func (c *Client) withRedirectRules(hc *http.Client) *http.Client {
	cp := *hc
	cp.Transport = locationGuard{hc.Transport}
	theirs := hc.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects || !sameOrigin(req.URL, via[0].URL) {
			return http.ErrUseLastResponse
		}
		if via[0].Method != http.MethodGet && req.Response != nil &&
			req.Response.StatusCode != http.StatusTemporaryRedirect && req.Response.StatusCode != http.StatusPermanentRedirect {
			return http.ErrUseLastResponse // a POST turned into a GET carries no request
		}
		if theirs != nil {
			return theirs(req, via)
		}
		return nil
	}
	return &cp
}

// sameOrigin reports whether a and b have the same scheme, host and
// (effective) port.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		effectivePort(a) == effectivePort(b)
}

// effectivePort is u's port, or its scheme's default.
func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https", "wss":
		return "443"
	}
	return "80"
}

// locationGuard hides from net/http a redirect's Location that does not
// parse: net/http would fail the request with an error quoting the header
// whole, whatever its size and content, before any redirect rule could
// refuse it. The answer then reads as a redirect that was not followed.
type locationGuard struct{ rt http.RoundTripper }

// unreadableLocation marks an answer whose Location the guard hid.
const unreadableLocation = "X-Hrana-Client-Unreadable-Location"

func (g locationGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	rt := g.rt
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(req)
	if err == nil && resp.StatusCode/100 == 3 {
		if loc := resp.Header.Get("Location"); loc != "" {
			if _, perr := req.URL.Parse(loc); perr != nil {
				resp.Header.Del("Location")
				resp.Header.Set(unreadableLocation, "1")
			}
		}
	}
	return resp, err
}

// CloseIdleConnections passes http.Client.CloseIdleConnections on.
func (g locationGuard) CloseIdleConnections() {
	rt := g.rt
	if rt == nil {
		rt = http.DefaultTransport
	}
	if ci, ok := rt.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// redirectError is the error for a redirect answer that was not followed.
func redirectError(resp *http.Response) *HTTPError {
	where := "nowhere (no Location header)"
	if loc, err := resp.Location(); err == nil {
		where = describeURL(loc)
	} else if resp.Header.Get("Location") != "" || resp.Header.Get(unreadableLocation) != "" {
		where = "an unreadable Location"
	}
	return &HTTPError{
		Status:  resp.StatusCode,
		Message: fmt.Sprintf("the server redirected the request to %s, which was not followed (Hrana servers do not redirect; only a 307 or 308 to the same scheme, host and port is followed)", where),
	}
}

// describeURL shows where u points (scheme, host, port and path), never
// its user info or query.
func describeURL(u *url.URL) string {
	return u.Scheme + "://" + net.JoinHostPort(u.Hostname(), effectivePort(u)) + u.EscapedPath()
}
