package hrana

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Hrana over WebSocket: one socket per client carries every stream, each
// a stream_id; requests carry a request_id and are sent without waiting
// for the answers to the ones before (the server answers each stream's in
// order). The socket opens on first use with a hello carrying the token;
// when it dies, the requests waiting on it fail with the recorded cause,
// the streams on it are lost, and the next request opens a new socket.
//
// One caller never breaks another: a caller's context governs only its
// own wait. Messages are written by the socket's own writer in the order
// they were sent, under a bound of the socket's, never the caller's (a
// write cut half way would corrupt the socket for everyone); the dial and
// the hello run in the background, so a caller that gives up leaves the
// socket to the others.
//
// A socket carries at most wsMaxStreams streams at once: sqld closes the
// whole socket, with every stream on it, when it cannot open one more
// database connection, and its default allows 128 in all.

const (
	wsPingInterval = 30 * time.Second
	wsMaxStreams   = 64
	// wsDialBound bounds a dial and its hello when the request timeout
	// is off.
	wsDialBound = 30 * time.Second
	// wsWriteBound bounds one write: a socket the server does not read
	// from for that long is dead.
	wsWriteBound = 30 * time.Second
)

// ErrSocketLost is the cause when the WebSocket carrying a stream died:
// the stream and whatever it held (a transaction) are gone. The error is
// a *SocketLostError that says why.
var ErrSocketLost = errors.New("the WebSocket connection to the server was lost")

// SocketLostError is ErrSocketLost with its recorded cause: a malformed
// message, the server closing the socket, an answer over the size limit,
// a failed write or ping.
type SocketLostError struct {
	Cause error
}

func (e *SocketLostError) Error() string {
	if e.Cause == nil {
		return ErrSocketLost.Error()
	}
	return ErrSocketLost.Error() + ": " + e.Cause.Error()
}

func (e *SocketLostError) Is(target error) bool { return target == ErrSocketLost }
func (e *SocketLostError) Unwrap() error        { return e.Cause }

// wsSocket is one WebSocket connection and the requests waiting on it.
type wsSocket struct {
	c       *Client
	conn    *websocket.Conn
	version int // 3, or 2 when the server speaks only hrana2
	slots   chan struct{}

	mu         sync.Mutex
	nextReq    int32
	nextStream int32
	nextCursor int32
	pending    map[int32]chan wsAnswer
	queue      [][]byte      // messages for the writer, in order
	wake       chan struct{} // tells the writer there is a queue
	err        *SocketLostError
	done       chan struct{} // closed once the socket died
}

// wsAnswer is the server's answer to one request.
type wsAnswer struct {
	response *wireResponse
	err      error // the server's *Error, or a *ResponseTooLargeError
}

// wsDial is a dial in progress, shared by the callers waiting for it.
type wsDial struct {
	done chan struct{}
	sock *wsSocket
	err  error
	// awaitingToken is set while the hello waits for the token function,
	// and stays set if it fails: a caller that gives up meanwhile was
	// waiting for the function, not for the server.
	awaitingToken atomic.Bool
}

// socket returns the client's live socket, dialing one if needed. The
// dial runs in the background, bounded by the request timeout (or
// wsDialBound); a caller waits for it only as long as its ctx allows.
func (c *Client) socket(ctx context.Context) (*wsSocket, error) {
	c.wsMu.Lock()
	if c.ws != nil && c.ws.alive() {
		s := c.ws
		c.wsMu.Unlock()
		return s, nil
	}
	d := c.dial
	if d == nil {
		d = &wsDial{done: make(chan struct{})}
		if !c.goBackground(func(bg context.Context) { c.runDial(bg, d) }) {
			c.wsMu.Unlock()
			return nil, &TransportError{Err: errClientClosed, NotSent: true}
		}
		c.dial = d
	}
	c.wsMu.Unlock()
	select {
	case <-d.done:
		return d.sock, d.err
	case <-ctx.Done():
		err := ctxErr(ctx)
		if te := (*TimeoutError)(nil); errors.As(err, &te) && d.awaitingToken.Load() {
			err = &TimeoutError{After: te.After, TokenFunc: true}
		}
		return nil, &TransportError{Err: err, NotSent: true}
	}
}

func (c *Client) runDial(bg context.Context, d *wsDial) {
	bound := c.timeout
	if bound <= 0 {
		bound = wsDialBound
	}
	ctx, cancel := context.WithTimeoutCause(bg, bound, &TimeoutError{After: bound})
	defer cancel()
	sock, err := c.dialSocket(ctx, d)
	c.wsMu.Lock()
	if err == nil && bg.Err() != nil {
		sock.fail(errClientClosed)
		sock, err = nil, &TransportError{Err: errClientClosed, NotSent: true}
	}
	if err == nil {
		c.ws = sock
	}
	c.dial = nil
	d.sock = sock
	if err != nil {
		d.err = cleaned{c.sanitize(err)} // every waiter gets it
	}
	c.wsMu.Unlock()
	close(d.done)
}

func (c *Client) dialSocket(ctx context.Context, d *wsDial) (*wsSocket, error) {
	conn, resp, err := websocket.Dial(ctx, c.base, &websocket.DialOptions{
		HTTPClient:   c.http,
		Subprotocols: []string{"hrana3", "hrana2"},
	})
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, &TransportError{Err: ctxErr(ctx), NotSent: true}
		case resp != nil && resp.StatusCode/100 == 3:
			return nil, &TransportError{Err: redirectError(resp), NotSent: true}
		case resp != nil && resp.StatusCode/100 != 2 && resp.StatusCode != 101:
			return nil, &TransportError{Err: &HTTPError{Status: resp.StatusCode, Message: "WebSocket upgrade refused"}, NotSent: true}
		}
		return nil, &TransportError{Err: wrap("WebSocket", c.explainDial(err)), NotSent: true}
	}
	s := &wsSocket{
		c: c, conn: conn, version: 3,
		slots:   make(chan struct{}, wsMaxStreams),
		pending: map[int32]chan wsAnswer{},
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	switch conn.Subprotocol() {
	case "hrana3":
	case "hrana2":
		s.version = 2
	default:
		conn.CloseNow()
		return nil, &TransportError{Err: &ProtocolError{Msg: "the server speaks no Hrana subprotocol over WebSocket; it chose", Quote: conn.Subprotocol()}, NotSent: true}
	}
	conn.SetReadLimit(-1) // readLoop applies the client's own bound
	if err := s.hello(ctx, d); err != nil {
		conn.CloseNow()
		if te := (*TimeoutError)(nil); errors.As(err, &te) && te.TokenFunc {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, &TransportError{Err: ctxErr(ctx), NotSent: true}
		}
		return nil, err
	}
	for _, loop := range []func(){s.readLoop, s.writeLoop, s.pingLoop} {
		if !c.goBackground(func(context.Context) { loop() }) {
			s.fail(errClientClosed)
			return nil, &TransportError{Err: errClientClosed, NotSent: true}
		}
	}
	return s, nil
}

// hello authenticates the socket and waits for hello_ok.
func (s *wsSocket) hello(ctx context.Context, d *wsDial) error {
	d.awaitingToken.Store(true)
	token, err := s.c.authToken(ctx)
	if err != nil {
		return err
	}
	d.awaitingToken.Store(false)
	msg := []byte(`{"type":"hello","jwt":`)
	if token == "" {
		msg = append(msg, "null"...)
	} else {
		msg = appendString(msg, token)
	}
	msg = append(msg, '}')
	if err := s.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		return &TransportError{Err: wrap("WebSocket hello", s.c.scrubErr(err)), NotSent: true}
	}
	_, r, err := s.conn.Reader(ctx)
	if err != nil {
		return &TransportError{Err: wrap("WebSocket hello", s.lostCause(err)), NotSent: true}
	}
	data, err := s.c.readLimited(r, "a WebSocket message")
	if err != nil {
		return &TransportError{Err: wrap("WebSocket hello", err), NotSent: true}
	}
	return decodeHello(data)
}

// decodeHello reads the server's answer to hello: nil for hello_ok.
func decodeHello(data []byte) error {
	var m struct {
		Type  string `json:"type"`
		Error *Error `json:"error"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return &ProtocolError{Msg: "malformed answer to hello", Err: err}
	}
	switch m.Type {
	case "hello_ok":
		return nil
	case "hello_error":
		e := &HTTPError{Status: 401, Message: "hello_error"}
		if m.Error != nil {
			e.Message += ": " + m.Error.Message
			e.Code = m.Error.Code
		}
		return &TransportError{Err: e, NotSent: true}
	}
	return &ProtocolError{Msg: "unexpected answer to hello:", Quote: m.Type}
}

func (s *wsSocket) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// lost is the error of a request whose socket died: the recorded cause.
func (s *wsSocket) lost() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		return ErrSocketLost
	}
	return s.err
}

// fail marks the socket dead with its cause and fails every waiting
// request.
func (s *wsSocket) fail(cause error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.err = &SocketLostError{Cause: s.c.sanitize(cause)} // every waiter gets it
	close(s.done)
	for id, ch := range s.pending {
		close(ch)
		delete(s.pending, id)
	}
	s.queue = nil
	s.mu.Unlock()
	if cause == errClientClosed {
		s.conn.Close(websocket.StatusNormalClosure, "")
		return
	}
	s.conn.CloseNow()
}

// lostCause describes why reading the socket failed, with the server's
// close reason scrubbed and clipped.
func (s *wsSocket) lostCause(err error) error {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		msg := fmt.Sprintf("the server closed it (status %d", int(ce.Code))
		if reason := clip(s.c.scrub(ce.Reason), maxMessage); reason != "" {
			msg += ": " + reason
		}
		return errors.New(msg + ")")
	}
	return errors.New("the connection broke: " + clip(s.c.scrub(err.Error()), maxMessage))
}

func (s *wsSocket) readLoop() {
	for {
		_, r, err := s.conn.Reader(context.Background())
		if err != nil {
			s.fail(s.lostCause(err))
			return
		}
		head := &headRecorder{r: r}
		data, err := s.c.readLimited(head, "a WebSocket message")
		if err != nil {
			var tl *ResponseTooLargeError
			if !errors.As(err, &tl) {
				s.fail(s.lostCause(err))
				return
			}
			if !s.refuse(head, r, tl) {
				return
			}
			continue
		}
		id, a, err := decodeWSMessage(data)
		if err != nil {
			s.fail(err)
			return
		}
		s.mu.Lock()
		ch, ok := s.pending[id]
		delete(s.pending, id)
		s.mu.Unlock()
		if !ok {
			continue // its caller gave up, or it was never asked for
		}
		if a == nil {
			close(ch)
			continue
		}
		ch <- *a
	}
}

// refuse ends an answer over the size bound without ending the socket:
// its request gets the error, the rest of the message is read and
// thrown away (the ping loop bounds how long that may take), and the
// socket goes on for the other streams. The server ran the request, and
// its stream goes on, as after sqld's own RESPONSE_TOO_LARGE. It reports
// false, having ended the socket, if the message does not say which
// request it answers before its answer (the socket cannot be trusted
// then) or the socket broke.
func (s *wsSocket) refuse(head *headRecorder, rest io.Reader, tl *ResponseTooLargeError) bool {
	id, ok := messageRequestID(head.buf)
	if !ok {
		s.fail(tl)
		return false
	}
	s.mu.Lock()
	ch, ok := s.pending[id]
	delete(s.pending, id)
	s.mu.Unlock()
	if ok {
		ch <- wsAnswer{err: tl}
	}
	if _, err := io.Copy(io.Discard, rest); err != nil {
		s.fail(s.lostCause(err))
		return false
	}
	return true
}

// headRecorder keeps the first bytes read through it: where a message
// says which request it answers.
type headRecorder struct {
	r   io.Reader
	buf []byte
}

const messageHeadSize = 512

func (h *headRecorder) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if room := messageHeadSize - len(h.buf); room > 0 {
		h.buf = append(h.buf, p[:min(n, room)]...)
	}
	return n, err
}

// messageRequestID reads the request_id of a server message from its
// first bytes, if it comes before any object or array member (sqld
// writes type, request_id, then the response).
func messageRequestID(head []byte) (int32, bool) {
	d := json.NewDecoder(bytes.NewReader(head))
	d.UseNumber()
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return 0, false
	}
	for {
		k, err := d.Token()
		key, ok := k.(string)
		if err != nil || !ok {
			return 0, false
		}
		v, err := d.Token()
		if err != nil {
			return 0, false
		}
		switch v := v.(type) {
		case json.Delim:
			return 0, false
		case json.Number:
			if key == "request_id" {
				id, err := strconv.ParseInt(string(v), 10, 32)
				if err != nil {
					return 0, false
				}
				return int32(id), true
			}
		}
	}
}

// writeLoop writes the queued messages in order.
func (s *wsSocket) writeLoop() {
	bound := wsWriteBound
	if s.c.timeout > bound {
		bound = s.c.timeout
	}
	for {
		select {
		case <-s.done:
			return
		case <-s.wake:
		}
		s.mu.Lock()
		queue := s.queue
		s.queue = nil
		s.mu.Unlock()
		for _, msg := range queue {
			ctx, cancel := context.WithTimeout(context.Background(), bound)
			err := s.conn.Write(ctx, websocket.MessageText, msg)
			cancel()
			if err != nil {
				// A write fails when the server closed the socket: the
				// reader is about to say why, with the server's reason.
				select {
				case <-s.done:
				case <-time.After(time.Second):
				}
				s.fail(errors.New("writing to it failed: " + clip(s.c.scrub(err.Error()), maxMessage)))
				return
			}
		}
	}
}

// decodeWSMessage reads one message from the server: the request it
// answers and the answer, nil for a message type this client does not
// know. An error means the message is malformed: the socket cannot be
// trusted after it.
func decodeWSMessage(data []byte) (int32, *wsAnswer, error) {
	var m struct {
		Type      string        `json:"type"`
		RequestID *int32        `json:"request_id"`
		Response  *wireResponse `json:"response"`
		Error     *Error        `json:"error"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return 0, nil, &ProtocolError{Msg: "malformed message from the server", Err: err}
	}
	if m.RequestID == nil {
		return 0, nil, &ProtocolError{Msg: "a message from the server without a request_id, of type", Quote: m.Type}
	}
	switch m.Type {
	case "response_ok":
		if m.Response == nil {
			return 0, nil, &ProtocolError{Msg: "response_ok without a response"}
		}
		return *m.RequestID, &wsAnswer{response: m.Response}, nil
	case "response_error":
		if m.Error == nil {
			m.Error = &Error{Message: "request failed"}
		}
		return *m.RequestID, &wsAnswer{err: m.Error}, nil
	}
	return *m.RequestID, nil, nil
}

// pingLoop keeps idle sockets open through proxies and notices dead ones.
func (s *wsSocket) pingLoop() {
	t := time.NewTicker(wsPingInterval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), wsPingInterval)
			err := s.conn.Ping(ctx)
			cancel()
			if err != nil {
				s.fail(errors.New("the server did not answer a ping within " + wsPingInterval.String()))
				return
			}
		}
	}
}

// send queues one request for the writer and returns where its answer
// will arrive. It does not wait for the write: a caller gives up only on
// the answer.
func (s *wsSocket) send(build func(b []byte, id int32) ([]byte, error)) (<-chan wsAnswer, error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return nil, s.err
	}
	s.nextReq++
	id := s.nextReq
	s.mu.Unlock()
	msg, err := build(make([]byte, 0, 256), id)
	if err != nil {
		return nil, err
	}
	ch := make(chan wsAnswer, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	s.pending[id] = ch
	s.queue = append(s.queue, msg)
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return ch, nil
}

// acquire takes one of the socket's stream slots, waiting within ctx.
func (s *wsSocket) acquire(ctx context.Context) error {
	select {
	case s.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case s.slots <- struct{}{}:
		return nil
	case <-s.done:
		return s.lost()
	case <-ctx.Done():
		return fmt.Errorf("all %d streams of the WebSocket connection are in use: %w", wsMaxStreams, ctxErr(ctx))
	}
}

// release gives a stream slot back.
func (s *wsSocket) release() {
	select {
	case <-s.slots:
	default:
	}
}

// closeStream closes stream id on the server without waiting for the
// answer, and gives its slot back. The server runs it after the requests
// sent on the stream before it.
func (s *wsSocket) closeStream(id int32) {
	_, _ = s.send(func(b []byte, rid int32) ([]byte, error) {
		return appendWSRequest(b, rid, id, "close_stream", nil)
	})
	s.release()
}

func (s *wsSocket) newCursorID() int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextCursor++
	return s.nextCursor
}

func (s *wsSocket) newStreamID() int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextStream++
	return s.nextStream
}

// appendWSRequest writes {"type":"request","request_id":N,"request":{...}}
// for request r on stream streamID.
func appendWSRequest(b []byte, id, streamID int32, kind string, r *Request) ([]byte, error) {
	b = append(b, `{"type":"request","request_id":`...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, `,"request":{"type":"`...)
	b = append(b, kind...)
	b = append(b, `","stream_id":`...)
	b = strconv.AppendInt(b, int64(streamID), 10)
	var err error
	if r != nil {
		if b, err = appendRequestFields(b, r); err == nil && r.kind == "execute" && r.stmt.ReplicationIndex > 0 {
			// Over WebSocket sqld reads an execute's replication index from
			// the request, not from the statement as over HTTP.
			b = append(b, `,"replication_index":`...)
			b = strconv.AppendUint(b, r.stmt.ReplicationIndex, 10)
		}
	}
	return append(b, "}}"...), err
}

// wsKind is the WebSocket name of a request kind.
func wsKind(kind string) string {
	if kind == "close" {
		return "close_stream"
	}
	return kind
}

// openStream makes sure the stream is open on sock: it takes a slot and
// queues open_stream if needed, and returns the channel of that answer
// (nil if the stream was open already).
func (s *Stream) openStream(ctx context.Context, sock *wsSocket) (<-chan wsAnswer, error) {
	if s.wsID != 0 {
		return nil, nil
	}
	if err := sock.acquire(ctx); err != nil {
		return nil, &TransportError{Err: err, NotSent: true}
	}
	streamID := sock.newStreamID()
	ch, err := sock.send(func(b []byte, id int32) ([]byte, error) {
		return appendWSRequest(b, id, streamID, "open_stream", nil)
	})
	if err != nil {
		sock.release()
		return nil, &TransportError{Err: err, NotSent: true}
	}
	s.ws, s.wsID = sock, streamID
	return ch, nil
}

// wsSocketFor returns the stream's socket, or the client's, and says the
// stream is lost if its socket died.
func (s *Stream) wsSocketFor(ctx context.Context) (*wsSocket, error) {
	if s.ws != nil {
		if !s.ws.alive() {
			// The stream died with its socket; this request was not sent.
			err := s.ws.lost()
			s.forget()
			return nil, &TransportError{Err: err, NotSent: true}
		}
		return s.ws, nil
	}
	return s.c.socket(ctx)
}

// wsPipeline runs reqs on the stream over the client's socket: it opens
// the server stream first if needed, sends every request without waiting,
// then collects the answers.
func (s *Stream) wsPipeline(ctx context.Context, reqs []Request) ([]Result, error) {
	ctx, cancel := s.c.bounded(ctx)
	defer cancel()
	// Encode everything first: a value that cannot be sent fails the
	// pipeline before anything reaches the server.
	for _, r := range reqs {
		if _, err := appendWSRequest(nil, 0, 0, wsKind(r.kind), &r); err != nil {
			return nil, &EncodeError{Err: err}
		}
	}
	sock, err := s.wsSocketFor(ctx)
	if err != nil {
		return nil, err
	}
	openCh, err := s.openStream(ctx, sock)
	if err != nil {
		return nil, err
	}
	var chans []<-chan wsAnswer
	if openCh != nil {
		chans = append(chans, openCh)
	}
	streamID := s.wsID
	for i := range reqs {
		r := &reqs[i]
		ch, err := sock.send(func(b []byte, id int32) ([]byte, error) {
			return appendWSRequest(b, id, streamID, wsKind(r.kind), r)
		})
		if err != nil {
			s.forget()
			return nil, &TransportError{Err: err, NotSent: i == 0}
		}
		chans = append(chans, ch)
	}
	// giveUp ends the stream after a failure: its state is unknown, so it
	// is closed after what was sent (unless that ends with a close: a
	// second one would be a protocol error, and sqld would close the
	// socket). The socket stays: other streams share it.
	closing := len(reqs) > 0 && reqs[len(reqs)-1].kind == "close"
	giveUp := func() {
		if closing {
			sock.release()
			s.forget()
			return
		}
		s.Reset()
	}
	answers, err := s.c.wait(ctx, sock, chans)
	if err != nil {
		if ctx.Err() != nil {
			giveUp()
		} else {
			s.forget() // the socket died
		}
		return nil, err
	}
	if openCh != nil {
		if e := answers[0].err; e != nil {
			sock.release()
			s.forget()
			return nil, &TransportError{Err: wrap("opening a stream", e), NotSent: true}
		}
		answers = answers[1:]
	}
	results := make([]Result, len(reqs))
	for i, a := range answers {
		if a.err != nil {
			results[i].Err = a.err
			continue
		}
		resp, perr := toResponse(a.response, reqs[i].kind, wsKind(reqs[i].kind))
		if perr != nil {
			giveUp()
			return nil, perr
		}
		results[i].Response = resp
	}
	if closing {
		sock.release()
		s.forget()
	}
	return results, nil
}

// wait collects the answers of requests sent together, within ctx.
func (c *Client) wait(ctx context.Context, sock *wsSocket, chans []<-chan wsAnswer) ([]wsAnswer, error) {
	answers := make([]wsAnswer, len(chans))
	for i, ch := range chans {
		select {
		case a, ok := <-ch:
			if !ok {
				return nil, &TransportError{Err: sock.lost()}
			}
			answers[i] = a
		case <-ctx.Done():
			return nil, &TransportError{Err: ctxErr(ctx)}
		}
	}
	return answers, nil
}

// closeSocket closes the client's socket, if any.
func (c *Client) closeSocket() {
	c.wsMu.Lock()
	s := c.ws
	c.ws = nil
	c.wsMu.Unlock()
	if s != nil {
		s.fail(errClientClosed)
	}
}
