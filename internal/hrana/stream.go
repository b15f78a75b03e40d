package hrana

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Stream is one SQL connection on the server. Over HTTP it lives between
// requests as a baton; a pipeline that ends with Close() ends it, and the
// next pipeline opens a fresh one. A Stream is not safe for concurrent use:
// the protocol requires its requests to be serial.
type Stream struct {
	c       *Client
	id      uint64 // local number, for logs only
	baton   string // "" when no server stream is open
	baseURL string // server-given base for this stream ("" = client's)

	// Over WebSocket: the socket and stream_id of the open server stream.
	ws   *wsSocket
	wsID int32
}

// Result is the outcome of one request of a pipeline: a Response, or the
// server's *Error for that request alone.
type Result struct {
	Response *Response
	Err      error
}

// ID is the stream's local number, as it appears in log records.
func (s *Stream) ID() uint64 { return s.id }

// Open reports whether a server stream is open: the next pipeline continues
// it, with whatever state (transaction, pragmas) it holds.
func (s *Stream) Open() bool { return s.baton != "" || s.wsID != 0 }

// Reset forgets the server stream without waiting for the server, which
// closes it when it expires (HTTP) or is told to (WebSocket). Use it when
// the stream's state is unknown.
func (s *Stream) Reset() {
	if s.ws != nil && s.wsID != 0 && s.ws.alive() {
		sock, id := s.ws, s.wsID
		ctx, cancel := context.WithTimeout(context.Background(), abandonTimeout)
		defer cancel()
		_, _ = sock.send(ctx, func(b []byte, rid int32) ([]byte, error) {
			return appendWSRequest(b, rid, id, "close_stream", nil)
		})
	}
	s.baton, s.baseURL = "", ""
	s.ws, s.wsID = nil, 0
}

// Pipeline sends reqs in one HTTP request and returns one Result per
// request. The server runs them all, in order, even after one fails.
//
// The returned error is for the exchange as a whole (network, HTTP status,
// malformed answer); after it the server stream is gone or unknown and the
// handle is reset. Errors of single requests are in the Results.
func (s *Stream) Pipeline(ctx context.Context, reqs ...Request) ([]Result, error) {
	if s.c.isWS {
		reqs = s.c.withReplicationIndex(reqs)
		start := time.Now()
		results, err := s.wsPipeline(ctx, reqs)
		s.logRequest(ctx, reqs, start, err)
		if err != nil {
			return nil, err
		}
		s.c.observeResults(results)
		return results, nil
	}
	body, err := appendPipeline(make([]byte, 0, 256), s.baton, s.c.withReplicationIndex(reqs))
	if err != nil {
		return nil, &EncodeError{Err: err} // nothing sent, stream untouched
	}
	start := time.Now()
	pr, results, err := s.roundTrip(ctx, body, reqs)
	s.logRequest(ctx, reqs, start, err)
	if err != nil {
		s.abandon(err)
		return nil, err
	}
	s.c.observeResults(results)
	if err := s.adopt(pr.Baton, pr.BaseURL); err != nil {
		return nil, err
	}
	return results, nil
}

// adopt takes the baton and base_url of an answer: the stream goes on
// there, or is closed when the baton is null.
func (s *Stream) adopt(baton, baseURL *string) error {
	s.baton, s.baseURL = "", ""
	if baton != nil {
		s.baton = *baton
	}
	if baseURL != nil && *baseURL != "" && s.baton != "" {
		base, err := s.c.checkBaseURL(*baseURL)
		if err != nil {
			s.Reset()
			return err
		}
		s.baseURL = base
	}
	return nil
}

func (s *Stream) roundTrip(ctx context.Context, body []byte, reqs []Request) (*pipelineResponse, []Result, error) {
	for {
		usedV2 := s.c.v2.Load()
		respBody, status, err := s.post(ctx, s.c.pipelineURL(s.baseURL), body)
		if err != nil {
			return nil, nil, err
		}
		if status == http.StatusNotFound && !usedV2 && s.baton == "" && s.baseURL == "" {
			// A server without Hrana 3 over HTTP: fall back to v2 for good.
			// The 404 means nothing ran, so resending is safe.
			s.c.v2.Store(true)
			continue
		}
		if status/100 != 2 {
			return nil, nil, s.c.httpError(status, respBody)
		}
		return decodePipeline(respBody, reqs)
	}
}

// post sends one HTTP request and reads the whole answer, within the
// request timeout when ctx has no deadline.
func (s *Stream) post(ctx context.Context, url string, body []byte) ([]byte, int, error) {
	ctx, w := s.c.watch(ctx)
	defer w.release()
	resp, err := s.send(ctx, url, body, false)
	if err != nil {
		return nil, 0, w.explain(err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.StatusCode/100 != 2 {
		r = io.LimitReader(resp.Body, maxErrorBody) // error bodies need not be read whole
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, 0, w.explain(&TransportError{Err: err})
	}
	return data, resp.StatusCode, nil
}

// maxErrorBody is how much of an error answer is read.
const maxErrorBody = 64 << 10

// send posts body to url with the client's token and returns the answer
// unread. With gzip the answer may come compressed (net/http inflates it
// on the fly): worth it for a cursor's rows, which shrink several-fold on
// the network (16x for internal/bench's rows), but not for a pipeline's
// answer of a few hundred bytes, where it costs both ends CPU for nothing
// (measured on sqld: a 4 KiB inflater per answer here, and about 10%
// fewer requests per second served).
func (s *Stream) send(ctx context.Context, url string, body []byte, gzip bool) (*http.Response, error) {
	var wrote atomic.Bool // set by the transport's goroutine
	traced := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		},
	})
	req, err := http.NewRequestWithContext(traced, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, &TransportError{Err: errors.New("cannot build request"), NotSent: true}
	}
	req.Header.Set("Content-Type", "application/json")
	if !gzip {
		req.Header.Set("Accept-Encoding", "identity")
	}
	token, err := s.c.authToken(ctx)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.c.http.Do(req)
	if err != nil {
		// Unsent only if the request was never written whole. A request
		// cut by its context may have been written as the cut came: the
		// transport's report can lag, so it counts as sent.
		return nil, &TransportError{Err: s.c.scrubErr(err), NotSent: !wrote.Load() && ctx.Err() == nil}
	}
	return resp, nil
}

// httpError maps an error answer, scrubbed of the client's tokens (a
// proxy's error page may echo the request's headers).
func (c *Client) httpError(status int, body []byte) error {
	e := httpError(status, body)
	e.Message = c.scrub(e.Message)
	return e
}

// httpError maps an error answer. The body may be the spec's Error JSON,
// sqld's {"error": "..."}, plain text or an HTML page from a proxy, of
// any size: the message is cut short.
func httpError(status int, body []byte) *HTTPError {
	e := &HTTPError{Status: status}
	var j struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Code    string          `json:"code"`
	}
	if json.Unmarshal(body, &j) == nil {
		var s string
		var nested Error
		switch {
		case json.Unmarshal(j.Error, &s) == nil:
			e.Message = s
		case json.Unmarshal(j.Error, &nested) == nil && nested.Message != "":
			e.Message, e.Code = nested.Message, nested.Code
		default:
			e.Message = j.Message
		}
		if e.Code == "" {
			e.Code = j.Code
		}
	}
	if e.Message == "" {
		e.Message = string(body)
	}
	e.Message = clip(e.Message, 512)
	e.Code = clip(e.Code, 64)
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if e.Message == "" {
		e.Message = "no error message"
	}
	return e
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

func (s *Stream) logRequest(ctx context.Context, reqs []Request, start time.Time, err error) {
	log := s.c.log
	if log == nil || !log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.Uint64("stream", s.id),
		slog.Any("requests", describe(reqs)),
		slog.Duration("duration", time.Since(start)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	log.LogAttrs(ctx, slog.LevelDebug, "hrana pipeline", attrs...)
}

// describe summarises requests for a log line: their kind and SQL, never
// argument values.
func describe(reqs []Request) []string {
	out := make([]string, 0, len(reqs))
	for _, r := range reqs {
		switch r.kind {
		case "execute":
			out = append(out, "execute: "+r.stmt.SQL)
		case "batch":
			for _, st := range r.batch.Steps {
				out = append(out, "batch: "+st.Stmt.SQL)
			}
		case "sequence":
			out = append(out, "sequence: "+r.sql)
		default:
			out = append(out, r.kind)
		}
	}
	return out
}
