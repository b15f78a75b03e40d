package hrana

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The errors of this package carry no prefix of their own: the driver
// above adds one ("libsql: "), once.
//
// Text that came from the server (messages, codes, values quoted in a
// protocol error, a redirect's target, a WebSocket close reason) is kept
// whole where it is decoded, and cleaned once, where the error leaves the
// package (Client.sanitize): the client's tokens are scrubbed out first,
// then the text is clipped to a short excerpt, so that a clip can never
// leave half a token behind.

const (
	maxMessage = 512 // bytes of a server's message kept in an error
	maxCode    = 64  // bytes of a server's error code kept in an error
	maxQuote   = 64  // bytes of a server's value quoted in a protocol error
)

// Error is an error the server reported for a request or a batch step:
// a SQL error, a constraint failure, a rejected statement.
type Error struct {
	Message string `json:"message"`
	Code    string `json:"code"` // e.g. SQLITE_CONSTRAINT, SQL_PARSE_ERROR; may be empty
}

func (e *Error) Error() string {
	if e.Code == "" {
		return e.Message
	}
	return e.Message + " (" + e.Code + ")"
}

// HTTPError is a non-2xx answer. Per the spec the stream it was sent on is
// no longer valid.
type HTTPError struct {
	Status  int
	Message string // the server's error text, or a short excerpt of the body
	Code    string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("HTTP %d", e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	return msg
}

// ProtocolError means the server's answer broke the protocol. Quote, when
// set, is the offending text the server sent (shown quoted and short).
type ProtocolError struct {
	Msg   string
	Quote string
	Err   error
}

func (e *ProtocolError) Error() string {
	msg := "protocol error: " + e.Msg
	if e.Quote != "" {
		msg += " " + strconv.Quote(truncateString(e.Quote))
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *ProtocolError) Unwrap() error { return e.Err }

// TransportError wraps a failure to exchange a request with the server.
// NotSent is true when the request provably never reached the server, so
// repeating it cannot apply anything twice.
type TransportError struct {
	Err     error
	NotSent bool
}

func (e *TransportError) Error() string { return e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }

// EncodeError means a request could not be encoded (a value JSON cannot
// carry, text that is not UTF-8). Nothing was sent.
type EncodeError struct {
	Err error
}

func (e *EncodeError) Error() string { return e.Err.Error() }
func (e *EncodeError) Unwrap() error { return e.Err }

// valueError is a value or an integer the server sent that does not
// decode; format holds one verb for the value.
type valueError struct {
	format string
	val    string
}

func (e *valueError) Error() string { return fmt.Sprintf(e.format, truncateString(e.val)) }

// IsStreamNotFound reports whether err is the server saying that it does
// not know the stream a request named, which proves the request ran
// nothing: sqld answers an unknown, reused or closed baton with HTTP 400
// and one of three fixed texts, and an expired stream with an error whose
// code is STREAM_EXPIRED (HTTP 400; 500 in other versions). Any other
// error, a 400 from a proxy included, proves nothing.
func IsStreamNotFound(err error) bool {
	var he *HTTPError
	if !errors.As(err, &he) {
		return false
	}
	if he.Code == "STREAM_EXPIRED" {
		return he.Status == http.StatusBadRequest || he.Status == http.StatusInternalServerError
	}
	if he.Status != http.StatusBadRequest || he.Code != "" {
		return false
	}
	switch he.Message {
	case "Received an invalid baton", "Received a baton that has already been used", "Stream for this baton was closed":
		return true
	}
	return false
}

// IsStreamLost reports whether err means the server no longer holds the
// stream (expired, unknown baton, server restarted): its connection state,
// including any open transaction, is gone.
func IsStreamLost(err error) bool { return IsStreamNotFound(err) }

// IsOverloaded reports whether err is the server refusing a request for
// lack of capacity (HTTP 429): sqld answers so, before running anything,
// when it cannot open one more database connection in time.
func IsOverloaded(err error) bool {
	var he *HTTPError
	return errors.As(err, &he) && he.Status == http.StatusTooManyRequests
}

func validUTF8(s string) bool { return utf8.ValidString(s) }

// maxErrorText bounds the whole text of an error leaving the package: the
// server's parts are excerpts, so only an error that froze a server's
// text before it was cleaned can pass it.
const maxErrorText = 4 * maxMessage

// sanitize cleans the server's text in every error of err's chain (see the
// top of this file) and returns err. As a last guard, an error whose text
// still holds a token is replaced by its scrubbed text, and one still too
// long is clipped.
func (c *Client) sanitize(err error) error {
	if err == nil {
		return nil
	}
	c.cleanChain(err, 0)
	msg := err.Error()
	if clean := c.scrub(msg); clean != msg {
		return scrubbedError(clip(clean, maxErrorText))
	}
	if len(msg) > maxErrorText {
		return &clippedError{msg: clip(msg, maxErrorText), err: err}
	}
	return err
}

// wrap is err with what happened before it. Unlike fmt.Errorf's, its text
// is read from err when printed, so that cleaning err in place (sanitize)
// cleans it too: a text frozen before the cleaning would keep the server's
// text whole, token included.
func wrap(what string, err error) error { return &wrapped{what: what, err: err} }

type wrapped struct {
	what string
	err  error
}

func (e *wrapped) Error() string { return e.what + ": " + e.err.Error() }
func (e *wrapped) Unwrap() error { return e.err }

func (c *Client) cleanChain(err error, depth int) {
	if err == nil || depth > 32 {
		return
	}
	switch e := err.(type) {
	case cleaned, *SocketLostError:
		return // cleaned once, and shared: never written again
	case *Error:
		c.cleanError(e)
	case *HTTPError:
		e.Message = clip(c.scrub(e.Message), maxMessage)
		e.Code = clip(c.scrub(e.Code), maxCode)
		if e.Message == "" {
			e.Message = http.StatusText(e.Status)
		}
		if e.Message == "" {
			e.Message = "no error message"
		}
	case *ProtocolError:
		e.Quote = c.scrub(e.Quote)
	case *valueError:
		e.val = c.scrub(e.val)
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		c.cleanChain(u.Unwrap(), depth+1)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			c.cleanChain(e, depth+1)
		}
	}
}

// cleaned is an error sanitized already, which several callers may
// receive (a failed dial): sanitize leaves it alone.
type cleaned struct{ error }

func (e cleaned) Unwrap() error { return e.error }

// cleanError scrubs and clips a statement's error in place.
func (c *Client) cleanError(e *Error) {
	if e == nil {
		return
	}
	e.Message = clip(c.scrub(e.Message), maxMessage)
	e.Code = clip(c.scrub(e.Code), maxCode)
}

// cleanResults sanitizes what a pipeline answered, request by request.
func (c *Client) cleanResults(results []Result) {
	for i := range results {
		results[i].Err = c.sanitize(results[i].Err)
		if r := results[i].Response; r != nil && r.Batch != nil {
			for _, e := range r.Batch.StepErrors {
				c.cleanError(e)
			}
		}
	}
}

// clip makes s valid UTF-8, trimmed and at most max bytes, marking a cut.
func clip(s string, max int) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, "?"))
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max] + "…"
}
