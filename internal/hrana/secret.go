package hrana

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// The auth token must never leave the client except in the Authorization
// header or the WebSocket hello: not in an error, a log record or a
// printed value. Printing a Config or a Client shows the URL and whether
// there is a token, never the token; errors built from what a server sent
// back (which may echo a request's headers) are scrubbed of it.

const redacted = "[REDACTED]"

// String shows the config with the token redacted.
func (cfg Config) String() string {
	var b strings.Builder
	b.WriteString("hrana.Config{URL: " + cfg.URL)
	if cfg.AuthToken != "" {
		b.WriteString(", AuthToken: " + redacted)
	}
	if cfg.TokenFunc != nil {
		b.WriteString(", TokenFunc: set")
	}
	if cfg.RequestTimeout != 0 {
		fmt.Fprintf(&b, ", RequestTimeout: %v", cfg.RequestTimeout)
	}
	b.WriteString("}")
	return b.String()
}

// GoString keeps %#v from printing the token.
func (cfg Config) GoString() string { return cfg.String() }

// Format keeps every fmt verb, %+v included, from printing the token.
func (cfg Config) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(cfg.String())) }

// LogValue keeps slog from printing the token.
func (cfg Config) LogValue() slog.Value { return slog.StringValue(cfg.String()) }

// GoString keeps %#v from printing the client's fields, the token among
// them.
func (c *Client) GoString() string { return c.String() }

// Format keeps every fmt verb from printing the client's fields.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// token returns the token for a request: the TokenFunc's, or the fixed one.
func (c *Client) authToken(ctx context.Context) (string, error) {
	if c.tokenFunc == nil {
		return c.token, nil
	}
	tok, err := c.tokenFunc(ctx)
	if err != nil {
		if te := (*TimeoutError)(nil); errors.As(context.Cause(ctx), &te) {
			return "", &TransportError{Err: &TimeoutError{After: te.After, TokenFunc: true}, NotSent: true}
		}
		return "", &TransportError{Err: &tokenError{wrap("getting the auth token", c.scrubErr(err))}, NotSent: true}
	}
	if tok != "" {
		c.rememberToken(tok)
	}
	return tok, nil
}

// tokenError is the token function's failure.
type tokenError struct{ error }

func (e *tokenError) Unwrap() error { return e.error }

// Scrubbing. A server, or a proxy in front of it, may echo a request's
// token in what it answers: whole or cut anywhere (a clipped excerpt, a
// prefix), as it is or encoded (percent-encoded, hex, base64 as a header
// dump would, "Bearer " included), and an encoded echo may be cut too. So
// a text is scrubbed of each form of the token whole, then of any run of
// a form's fragments that stand for fragmentLen bytes or more of the
// token. A TokenFunc's tokens are remembered, the last rememberedTokens
// of them: a request may still be answered after the function moved on.

const (
	fragmentLen      = 8
	rememberedTokens = 64
)

// secretText is one token and the texts that would show it.
type secretText struct {
	token string
	forms []string    // the token and its encodings, longest first
	grams []gramTable // the fragments of each form
}

// gramTable holds a form's substrings of n bytes, each of which stands
// for fragmentLen bytes or more of the token, as sorted hashes: a token
// of a few hundred bytes has thousands of them, and a TokenFunc's are
// kept for rememberedTokens tokens.
type gramTable struct {
	n      int
	hashes []uint64
}

// gramSeed hashes fragments; a collision only redacts a little more.
var gramSeed = maphash.MakeSeed()

func (g gramTable) has(s string) bool {
	_, ok := slices.BinarySearch(g.hashes, maphash.String(gramSeed, s))
	return ok
}

func newSecretText(tok string) *secretText {
	st := &secretText{token: tok}
	// add records form f, whose every n bytes hold fragmentLen bytes of
	// the token (n = 0: f is not cut into fragments).
	add := func(f string, n int) {
		if f == "" || slices.Contains(st.forms, f) {
			return
		}
		st.forms = append(st.forms, f)
		if n == 0 || len(f) <= n {
			return
		}
		i := slices.IndexFunc(st.grams, func(g gramTable) bool { return g.n == n })
		if i < 0 {
			st.grams = append(st.grams, gramTable{n: n})
			i = len(st.grams) - 1
		}
		for j := 0; j+n <= len(f); j++ {
			st.grams[i].hashes = append(st.grams[i].hashes, maphash.String(gramSeed, f[j:j+n]))
		}
	}
	if len(tok) <= fragmentLen {
		add(tok, 0) // too short to cut: only whole
		add(url.QueryEscape(tok), 0)
		add(url.PathEscape(tok), 0)
	} else {
		add(tok, fragmentLen)
		// An escaped character takes 3 bytes: n bytes of an escaped
		// token hold n/3 of its bytes at least.
		add(url.QueryEscape(tok), 3*fragmentLen)
		add(url.PathEscape(tok), 3*fragmentLen)
	}
	hexTok := hex.EncodeToString([]byte(tok))
	add(hexTok, 2*fragmentLen)
	add(strings.ToUpper(hexTok), 2*fragmentLen)
	var upper, lower strings.Builder
	for i := 0; i < len(tok); i++ {
		fmt.Fprintf(&upper, "%%%02X", tok[i])
		fmt.Fprintf(&lower, "%%%02x", tok[i])
	}
	add(upper.String(), 3*fragmentLen)
	add(lower.String(), 3*fragmentLen)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for align := 0; align < 3; align++ {
			// The token at each offset of a larger encoded text: the
			// characters that also encode the bytes around it (up to 3 at
			// the start, a last group and its padding at the end) are left
			// out. 4 characters encode 3 bytes: 11 hold 8 at least.
			b := enc.EncodeToString(append(make([]byte, align, align+len(tok)), tok...))
			if len(b) >= 7+fragmentLen {
				add(b[3:len(b)-4], (4*fragmentLen+2)/3)
			}
		}
	}
	slices.SortFunc(st.forms, func(a, b string) int { return len(b) - len(a) })
	for i := range st.grams {
		slices.Sort(st.grams[i].hashes)
		st.grams[i].hashes = slices.Clip(slices.Compact(st.grams[i].hashes))
	}
	return st
}

// scrub replaces in s every form of the token, then every run of a
// form's fragments, by the redaction mark.
func (st *secretText) scrub(s string) string {
	for _, f := range st.forms {
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, redacted)
		}
	}
	for _, g := range st.grams {
		s = g.scrub(s)
	}
	return s
}

// scrub replaces every run of overlapping fragments in s by the mark.
func (g gramTable) scrub(s string) string {
	if len(s) < g.n {
		return s
	}
	var b strings.Builder
	last, runStart, runEnd := 0, -1, -1
	flush := func() {
		if runStart >= 0 {
			b.WriteString(s[last:runStart])
			b.WriteString(redacted)
			last = runEnd
		}
	}
	for i := 0; i+g.n <= len(s); i++ {
		if !g.has(s[i : i+g.n]) {
			continue
		}
		if i > runEnd {
			flush()
			runStart = i
		}
		runEnd = i + g.n
	}
	if runStart < 0 {
		return s
	}
	flush()
	b.WriteString(s[last:])
	return b.String()
}

// rememberToken records a token the TokenFunc gave, to scrub it too. Its
// forms are worked out only when a text is scrubbed: a TokenFunc may
// mint a token per request.
func (c *Client) rememberToken(tok string) {
	if r := c.funcTokens.Load(); r != nil && len(*r) > 0 && (*r)[0].token == tok {
		return // the same as last time: the usual case
	}
	c.tokensMu.Lock()
	defer c.tokensMu.Unlock()
	var old []*lazySecret
	if r := c.funcTokens.Load(); r != nil {
		old = *r
	}
	ring := make([]*lazySecret, 1, rememberedTokens)
	ring[0] = &lazySecret{token: tok}
	for _, ls := range old {
		if ls.token == tok {
			ring[0] = ls
		} else if len(ring) < rememberedTokens {
			ring = append(ring, ls)
		}
	}
	c.funcTokens.Store(&ring)
}

// lazySecret is a secretText made on first use.
type lazySecret struct {
	token string
	once  sync.Once
	st    *secretText
}

func (ls *lazySecret) text() *secretText {
	ls.once.Do(func() { ls.st = newSecretText(ls.token) })
	return ls.st
}

// scrub removes the client's tokens from s.
func (c *Client) scrub(s string) string {
	if c.fixedToken != nil {
		s = c.fixedToken.scrub(s)
	}
	if r := c.funcTokens.Load(); r != nil {
		for _, ls := range *r {
			s = ls.text().scrub(s)
		}
	}
	return s
}

// scrubErr returns err, or an error with its text cleaned, if it held a
// token (errors.Is/As then see only the scrubbed text) or is longer than
// an excerpt: net/http quotes a malformed answer's status line, a header
// or a Location whole, whatever their size.
func (c *Client) scrubErr(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := c.scrub(msg); clean != msg {
		return scrubbedError(clip(clean, maxMessage))
	}
	if len(msg) > maxMessage {
		return &clippedError{msg: clip(msg, maxMessage), err: err}
	}
	return err
}

type scrubbedError string

func (e scrubbedError) Error() string { return string(e) }

// clippedError is an error whose text is cut to an excerpt; it held no
// token, so its cause stays reachable.
type clippedError struct {
	msg string
	err error
}

func (e *clippedError) Error() string { return e.msg }
func (e *clippedError) Unwrap() error { return e.err }
