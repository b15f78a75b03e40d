package hrana

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestIsStreamNotFound: only sqld's own answers to a stream it does not
// know prove that a request ran nothing.
func TestIsStreamNotFound(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&HTTPError{Status: 400, Message: "Received an invalid baton"}, true},
		{&HTTPError{Status: 400, Message: "Received a baton that has already been used"}, true},
		{&HTTPError{Status: 400, Message: "Stream for this baton was closed"}, true},
		{&HTTPError{Status: 400, Message: "The stream has expired due to inactivity", Code: "STREAM_EXPIRED"}, true},
		{&HTTPError{Status: 500, Message: "The stream has expired due to inactivity", Code: "STREAM_EXPIRED"}, true},
		{&TransportError{Err: &HTTPError{Status: 400, Message: "Received an invalid baton"}}, true},
		{&HTTPError{Status: 400, Message: "Bad Request"}, false},
		{&HTTPError{Status: 400, Message: "Received an invalid baton", Code: "X"}, false},
		{&HTTPError{Status: 502, Message: "Received an invalid baton"}, false},
		{&HTTPError{Status: 404, Code: "STREAM_EXPIRED"}, false},
		{errors.New("Received an invalid baton"), false},
	} {
		if got := IsStreamNotFound(c.err); got != c.want {
			t.Errorf("%v: %v, want %v", c.err, got, c.want)
		}
	}
}

// TestCursorStatusError: sqld's HTTP 500 for a batch it refused before
// running is the statement's error with its code; other 500s are not.
func TestCursorStatusError(t *testing.T) {
	for body, want := range map[string]string{
		"{\"error\":\"Internal Error: `SQL string could not be parsed: near X`\"}":               "SQL_PARSE_ERROR",
		"{\"error\":\"Internal Error: `SQL string contains more than one statement`\"}":          "SQL_MANY_STATEMENTS",
		"{\"error\":\"Internal Error: `SQL string does not contain any statement`\"}":            "SQL_NO_STATEMENT",
		"{\"error\":\"Internal Error: `Arguments do not match SQL parameters: x`\"}":             "ARGS_INVALID",
		"{\"error\":\"Internal Error: `something broke`\"}":                                      "",
		"{\"error\":\"SQL string could not be parsed: x\"}":                                      "",
		"{\"message\":\"The stream has expired due to inactivity\",\"code\":\"STREAM_EXPIRED\"}": "",
		"<html>500</html>": "",
	} {
		err := cursorStatusError(500, []byte(body))
		var se *Error
		switch {
		case want == "" && errors.As(err, &se):
			t.Errorf("%s: a statement error %v", body, se)
		case want != "" && (!errors.As(err, &se) || se.Code != want || strings.Contains(se.Message, "Internal Error")):
			t.Errorf("%s: %#v, want code %s", body, err, want)
		}
	}
	if err := cursorStatusError(502, []byte("{\"error\":\"Internal Error: `SQL string contains more than one statement`\"}")); !errors.As(err, new(*HTTPError)) {
		t.Errorf("a 502: %v", err)
	}
}

// TestSanitize: the server's text is scrubbed of tokens before it is
// clipped, wherever it sits in an error chain.
func TestSanitize(t *testing.T) {
	const tok = "tok-0123456789abcdefghijklmnopqrstuvwxyz"
	c, _ := NewClient(Config{URL: "http://x", AuthToken: tok})
	long := strings.Repeat("é", 250) // 500 bytes: a clip at 512 would cut the token
	for _, err := range []error{
		&Error{Message: long + tok, Code: tok},
		&HTTPError{Status: 502, Message: long + tok, Code: tok},
		&TransportError{Err: &ProtocolError{Msg: "bad", Quote: tok}},
		&ProtocolError{Msg: "malformed", Err: &valueError{format: "unknown value type %q", val: tok}},
		&SocketLostError{Cause: &ProtocolError{Msg: "x", Quote: long + tok}},
		errors.Join(&Error{Message: tok}, &HTTPError{Message: tok}),
	} {
		got := c.sanitize(err).Error()
		for i := 0; i+8 <= len(tok); i++ {
			if strings.Contains(got, tok[i:i+8]) {
				t.Fatalf("%T shows part of the token: %s", err, got)
			}
		}
		if len(got) > 2*maxMessage+64 {
			t.Fatalf("%T: not clipped (%d bytes)", err, len(got))
		}
	}
}

// TestSameOrigin: scheme, host and effective port.
func TestSameOrigin(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"https://h/x", "https://H:443/y", true},
		{"http://h", "http://h:80", true},
		{"https://h", "http://h", false},
		{"https://h", "https://h:8443", false},
		{"http://h:8080", "http://g:8080", false},
		{"http://[::1]:80", "http://[::1]", true},
	} {
		a, _ := url.Parse(c.a)
		b, _ := url.Parse(c.b)
		if got := sameOrigin(a, b); got != c.want {
			t.Errorf("%s, %s: %v", c.a, c.b, got)
		}
	}
}

// TestScrubEchoedTokens: a token echoed whole, cut anywhere, encoded as a
// header dump or a URL would carry it, never shows; neither does one a
// TokenFunc gave a while ago.
func TestScrubEchoedTokens(t *testing.T) {
	const tok = "eyJhbGciOiJFZERTQSJ9.eyJhIjoicncifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg+/="
	var pctUpper, pctLower strings.Builder
	for i := 0; i < len(tok); i++ {
		fmt.Fprintf(&pctUpper, "%%%02X", tok[i])
		fmt.Fprintf(&pctLower, "%%%02x", tok[i])
	}
	echoes := map[string]string{
		"whole":                      "invalid token " + tok,
		"a prefix":                   "invalid token " + tok[:20] + "…",
		"a suffix":                   "…" + tok[len(tok)-14:] + " expired",
		"the middle":                 "x" + tok[30:45] + "y",
		"query-escaped":              "GET /?jwt=" + url.QueryEscape(tok),
		"path-escaped":               "GET /" + url.PathEscape(tok),
		"percent-encoded, upper":     "token=" + pctUpper.String(),
		"percent-encoded, lower":     "token=" + pctLower.String(),
		"hex":                        "0x" + hex.EncodeToString([]byte(tok)),
		"base64":                     base64.StdEncoding.EncodeToString([]byte(tok)),
		"base64url":                  base64.RawURLEncoding.EncodeToString([]byte(tok)),
		"base64 of the header":       base64.StdEncoding.EncodeToString([]byte("Bearer " + tok)),
		"base64 of the header line":  base64.StdEncoding.EncodeToString([]byte("Authorization: Bearer " + tok + "\r\n")),
		"a clipped base64 dump":      base64.StdEncoding.EncodeToString([]byte("Authorization: Bearer " + tok))[:60] + "…",
		"a clipped hex dump":         hex.EncodeToString([]byte("Bearer " + tok))[:50],
		"a clipped percent-encoding": "token=" + pctUpper.String()[:60],
		"the middle of base64url":    base64.RawURLEncoding.EncodeToString([]byte(tok))[20:40],
	}
	shows := func(s string) bool {
		forms := []string{tok, url.QueryEscape(tok), pctUpper.String(), pctLower.String(), hex.EncodeToString([]byte(tok))}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
			for align := 0; align < 3; align++ {
				b := enc.EncodeToString(append(make([]byte, align), tok...))
				forms = append(forms, b[4:len(b)-4])
			}
		}
		for _, f := range forms {
			for i := 0; i+12 <= len(f); i++ {
				if strings.Contains(s, f[i:i+12]) {
					return true
				}
			}
		}
		return false
	}
	fixed, _ := NewClient(Config{URL: "http://x", AuthToken: tok})
	n := 0
	rotating, _ := NewClient(Config{URL: "http://x", TokenFunc: func(context.Context) (string, error) {
		n++
		if n == 1 {
			return tok, nil
		}
		return fmt.Sprintf("another-token-%d-0123456789", n), nil
	}})
	for i := 0; i < rememberedTokens; i++ { // tok, then newer ones
		if _, err := rotating.authToken(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for name, echo := range echoes {
		if !shows(echo) {
			t.Fatalf("%s: the case shows nothing", name)
		}
		for cname, c := range map[string]*Client{"fixed": fixed, "rotating": rotating} {
			got := c.sanitize(&HTTPError{Status: 401, Message: echo}).Error()
			if shows(got) || !strings.Contains(got, redacted) {
				t.Errorf("%s, %s token: %s", name, cname, got)
			}
		}
	}
	if got := fixed.scrub("no such table: users"); got != "no such table: users" {
		t.Fatalf("a text without the token changed: %s", got)
	}
}
