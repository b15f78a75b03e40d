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

	// Over WebSocket: the socket and stream_id of the open server stream,
	// which holds one of the socket's stream slots.
	ws   *wsSocket
	wsID int32

	// Holding says the server stream holds state the caller relies on (a
	// transaction, session settings): an exchange the caller cancels then
	// finishes in the background, to close the stream with the baton its
	// answer brings (see detach.go). The caller sets it.
	Holding bool
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

// Reset forgets the server stream at once and closes it on the server in
// the background (which rolls back a transaction it holds). Use it when
// the stream is no longer wanted or its state is unknown.
func (s *Stream) Reset() {
	if s.ws != nil {
		if s.wsID != 0 {
			s.ws.closeStream(s.wsID)
		}
	} else if s.baton != "" {
		s.c.closeInBackground(s.baton, s.baseURL)
	}
	s.forget()
}

// Close closes the server stream, if one is open: over HTTP with one
// request, waited for (within abandonTimeout), so that what the stream
// held is gone when Close returns; over WebSocket by queueing
// close_stream, which the server runs after everything sent before it.
func (s *Stream) Close() {
	if !s.Open() {
		return
	}
	if s.ws != nil {
		s.Reset()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), abandonTimeout)
	defer cancel()
	_, _ = s.Pipeline(ctx, Close())
}

// forget drops the handle's stream without telling the server.
func (s *Stream) forget() {
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
	results, err := s.pipeline(ctx, reqs)
	if err != nil {
		return nil, s.c.sanitize(err)
	}
	s.c.cleanResults(results)
	return results, nil
}

func (s *Stream) pipeline(ctx context.Context, reqs []Request) ([]Result, error) {
	if ctx.Err() != nil {
		return nil, &TransportError{Err: ctxErr(ctx), NotSent: true}
	}
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
	baton, base, c := s.baton, s.baseURL, s.c
	xctx, w := c.exchangeContext(ctx, s.Holding)
	pr, err, orphaned := detach(c, ctx, w, s.Holding, false,
		func() (*pipelineResponse, error) { return c.roundTrip(xctx, w, baton, base, body, reqs) },
		func(pr *pipelineResponse, err error) { c.settleOrphan(xctx, baton, base, pr, err) })
	s.logRequest(ctx, reqs, start, err)
	switch {
	case orphaned:
		s.forget() // the background closes the stream once it answers
		return nil, err
	case err != nil:
		s.abandon(err)
		return nil, err
	}
	s.c.observeResults(pr.results)
	s.adopt(ctx, pr.Baton, pr.BaseURL)
	return pr.results, nil
}

// adopt takes the baton and base_url of an answer: the stream goes on
// there, or is closed when the baton is null.
func (s *Stream) adopt(ctx context.Context, baton, baseURL *string) {
	s.baton = ""
	if baton != nil {
		s.baton = *baton
	}
	if s.baton == "" {
		s.baseURL = ""
		return
	}
	if baseURL != nil && *baseURL != "" {
		s.baseURL = s.c.followBaseURL(ctx, *baseURL)
	}
}

// roundTrip posts a pipeline body and decodes the answer. It runs on the
// exchange's own context and touches no Stream.
func (c *Client) roundTrip(ctx context.Context, w *watchdog, baton, base string, body []byte, reqs []Request) (*pipelineResponse, error) {
	for {
		usedV2 := c.v2.Load()
		data, resp, err := c.post(ctx, w, c.pipelineURL(base), body)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusNotFound && !usedV2 && baton == "" && base == "" {
			// A server without Hrana 3 over HTTP: fall back to v2 for good.
			// The 404 means nothing ran, so resending is safe.
			c.v2.Store(true)
			continue
		}
		if resp.StatusCode/100 != 2 {
			return nil, c.statusError(resp, data)
		}
		pr, results, err := decodePipeline(data, reqs)
		if err != nil {
			return nil, err
		}
		pr.results = results
		return pr, nil
	}
}

// statusError maps an answer that is not 2xx: a redirect that was not
// followed, or an error.
func (c *Client) statusError(resp *http.Response, data []byte) error {
	if resp.StatusCode/100 == 3 {
		return redirectError(resp)
	}
	return httpError(resp.StatusCode, data)
}

// settleOrphan ends the stream of a pipeline whose caller gave up: with
// the baton of its answer if it came, or as abandon would if it failed.
func (c *Client) settleOrphan(ctx context.Context, baton, base string, pr *pipelineResponse, err error) {
	if err != nil {
		c.abandonBaton(baton, base, err)
		return
	}
	if pr.Baton != nil && *pr.Baton != "" {
		if pr.BaseURL != nil && *pr.BaseURL != "" {
			base = c.followBaseURL(ctx, *pr.BaseURL)
		}
		c.closeInBackground(*pr.Baton, base)
	}
}

// post sends one HTTP request and reads the whole answer, within the
// client's size bound for a successful answer. The answer's body is
// closed; its status and headers stay readable.
func (c *Client) post(ctx context.Context, w *watchdog, url string, body []byte) ([]byte, *http.Response, error) {
	resp, err := c.send(ctx, url, body, false)
	if err != nil {
		return nil, nil, w.explain(err)
	}
	defer resp.Body.Close()
	var data []byte
	if resp.StatusCode/100 != 2 {
		data, err = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody)) // error bodies need not be read whole
	} else if c.tooLarge(resp.ContentLength) {
		return nil, nil, &ResponseTooLargeError{What: "a pipeline answer", Limit: c.maxSize}
	} else {
		data, err = c.readLimited(resp.Body, "a pipeline answer")
	}
	if err != nil {
		var tl *ResponseTooLargeError
		if errors.As(err, &tl) {
			return nil, nil, err
		}
		return nil, nil, w.explain(&TransportError{Err: c.scrubErr(err)})
	}
	return data, resp, nil
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
func (c *Client) send(ctx context.Context, url string, body []byte, gzip bool) (*http.Response, error) {
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
		return nil, &TransportError{Err: errors.New("cannot build the request"), NotSent: true}
	}
	req.Header.Set("Content-Type", "application/json")
	if !gzip {
		req.Header.Set("Accept-Encoding", "identity")
	}
	token, err := c.authToken(ctx)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// Unsent only if the request was never written whole. A request
		// cut by its context may have been written as the cut came: the
		// transport's report can lag, so it counts as sent.
		return nil, &TransportError{Err: c.explainDial(err), NotSent: !wrote.Load() && ctx.Err() == nil}
	}
	return resp, nil
}

// explainDial scrubs a transport error and names the usual mistake behind
// a TLS handshake answered in plain text.
func (c *Client) explainDial(err error) error {
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return errors.New("the server answered in plain HTTP, not TLS: for a server without TLS use an http:// (or ws://) URL, or add ?tls=0 to a libsql:// URL")
	}
	return c.scrubErr(err)
}

// httpError maps an error answer. The body may be the spec's Error JSON,
// sqld's {"error": "..."}, plain text or an HTML page from a proxy, of
// any size: sanitize cuts the message short.
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
	e.Message = strings.TrimSpace(e.Message)
	return e
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
		attrs = append(attrs, slog.String("error", s.c.sanitize(err).Error()))
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
