package hrana

import (
	"errors"
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
	c := &Client{token: tok}
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
