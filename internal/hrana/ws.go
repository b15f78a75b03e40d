package hrana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Hrana over WebSocket: one socket per client carries every stream, each
// a stream_id; requests carry a request_id and are sent without waiting
// for the answers to the ones before (the server answers each stream's in
// order). The socket opens on first use with a hello carrying the token;
// when it dies, the requests waiting on it fail, the streams on it are
// lost, and the next request opens a new socket.

const (
	wsReadLimit    = 256 << 20 // a large result set is one message
	wsPingInterval = 30 * time.Second
)

// ErrSocketLost is the cause when the WebSocket carrying a stream died:
// the stream and whatever it held (a transaction) are gone.
var ErrSocketLost = errors.New("hrana: the WebSocket connection to the server was lost")

// wsSocket is one WebSocket connection and the requests waiting on it.
type wsSocket struct {
	conn    *websocket.Conn
	version int // 3, or 2 when the server speaks only hrana2

	writeMu sync.Mutex

	mu         sync.Mutex
	nextReq    int32
	nextStream int32
	nextCursor int32
	pending    map[int32]chan wsAnswer
	err        error         // set once the socket died
	done       chan struct{} // closed then
}

// wsAnswer is the server's answer to one request.
type wsAnswer struct {
	response *wireResponse
	err      *Error
}

// socket returns the client's live socket, dialing one if needed.
// The dial is bounded by ctx, or by the request timeout if ctx has no
// deadline; a caller waiting for another's dial gives up with its ctx.
func (c *Client) socket(ctx context.Context) (*wsSocket, error) {
	select {
	case c.wsMu <- struct{}{}:
	case <-ctx.Done():
		return nil, &TransportError{Err: context.Cause(ctx), NotSent: true}
	}
	defer func() { <-c.wsMu }()
	if c.ws != nil && c.ws.alive() {
		return c.ws, nil
	}
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	s, err := c.dialSocket(ctx)
	if err != nil {
		return nil, err
	}
	c.ws = s
	return s, nil
}

func (c *Client) dialSocket(ctx context.Context) (*wsSocket, error) {
	conn, resp, err := websocket.Dial(ctx, c.base, &websocket.DialOptions{
		HTTPClient:   c.http,
		Subprotocols: []string{"hrana3", "hrana2"},
	})
	if err != nil {
		if resp != nil && resp.StatusCode/100 != 2 && resp.StatusCode != 101 {
			return nil, &TransportError{Err: &HTTPError{Status: resp.StatusCode, Message: "WebSocket upgrade refused"}, NotSent: true}
		}
		return nil, &TransportError{Err: fmt.Errorf("WebSocket: %w", err), NotSent: true}
	}
	s := &wsSocket{conn: conn, version: 3, pending: map[int32]chan wsAnswer{}, done: make(chan struct{})}
	switch conn.Subprotocol() {
	case "hrana3":
	case "hrana2":
		s.version = 2
	default:
		conn.Close(websocket.StatusProtocolError, "no hrana subprotocol")
		return nil, &TransportError{Err: fmt.Errorf("the server speaks no Hrana subprotocol over WebSocket (got %q)", conn.Subprotocol()), NotSent: true}
	}
	conn.SetReadLimit(wsReadLimit)
	if err := s.hello(ctx, c); err != nil {
		conn.Close(websocket.StatusNormalClosure, "")
		return nil, err
	}
	go s.readLoop()
	go s.pingLoop()
	return s, nil
}

// hello authenticates the socket and waits for hello_ok.
func (s *wsSocket) hello(ctx context.Context, c *Client) error {
	token, err := c.authToken(ctx)
	if err != nil {
		return err
	}
	msg := []byte(`{"type":"hello","jwt":`)
	if token == "" {
		msg = append(msg, "null"...)
	} else {
		msg = appendString(msg, token)
	}
	msg = append(msg, '}')
	if err := s.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		return &TransportError{Err: fmt.Errorf("WebSocket hello: %w", c.scrubErr(err)), NotSent: true}
	}
	_, data, err := s.conn.Read(ctx)
	if err != nil {
		return &TransportError{Err: fmt.Errorf("WebSocket hello: %w", err), NotSent: true}
	}
	if err := decodeHello(data); err != nil {
		var he *HTTPError
		if errors.As(err, &he) {
			he.Message = c.scrub(he.Message)
		}
		return err
	}
	return nil
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
			e.Message = clip(e.Message+": "+m.Error.Message, 512)
			e.Code = clip(m.Error.Code, 64)
		}
		return &TransportError{Err: e, NotSent: true}
	}
	return &ProtocolError{Msg: fmt.Sprintf("unexpected answer %q to hello", truncateString(m.Type))}
}

func (s *wsSocket) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// fail marks the socket dead and fails every waiting request.
func (s *wsSocket) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	s.err = err
	close(s.done)
	for id, ch := range s.pending {
		close(ch)
		delete(s.pending, id)
	}
	s.conn.Close(websocket.StatusGoingAway, "")
}

func (s *wsSocket) readLoop() {
	for {
		_, data, err := s.conn.Read(context.Background())
		if err != nil {
			s.fail(fmt.Errorf("%w: %v", ErrSocketLost, err))
			return
		}
		id, a, err := decodeWSMessage(data)
		if err != nil {
			s.fail(fmt.Errorf("%w: %v", ErrSocketLost, err))
			return
		}
		s.mu.Lock()
		ch, ok := s.pending[id]
		delete(s.pending, id)
		s.mu.Unlock()
		if !ok {
			continue // its caller gave up
		}
		if a == nil {
			close(ch)
			continue
		}
		ch <- *a
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
		return 0, nil, &ProtocolError{Msg: fmt.Sprintf("message of type %q from the server without a request_id", truncateString(m.Type))}
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
				s.fail(fmt.Errorf("%w: ping: %v", ErrSocketLost, err))
				return
			}
		}
	}
}

// send writes one request and returns where its answer will arrive.
func (s *wsSocket) send(ctx context.Context, build func(b []byte, id int32) ([]byte, error)) (<-chan wsAnswer, error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return nil, s.err
	}
	s.nextReq++
	id := s.nextReq
	ch := make(chan wsAnswer, 1)
	s.pending[id] = ch
	s.mu.Unlock()
	msg, err := build(make([]byte, 0, 256), id)
	if err == nil {
		s.writeMu.Lock()
		err = s.conn.Write(ctx, websocket.MessageText, msg)
		s.writeMu.Unlock()
		if err != nil {
			s.fail(fmt.Errorf("%w: %v", ErrSocketLost, err))
		}
	}
	if err != nil {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
		return nil, err
	}
	return ch, nil
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

// wsPipeline runs reqs on the stream over the client's socket: it opens
// the server stream first if needed, sends every request without waiting,
// then collects the answers.
func (s *Stream) wsPipeline(ctx context.Context, reqs []Request) ([]Result, error) {
	if s.ws != nil && !s.ws.alive() {
		// The stream died with its socket; this request was not sent.
		s.Reset()
		return nil, &TransportError{Err: ErrSocketLost, NotSent: true}
	}
	ctx, cancel := s.c.bounded(ctx)
	defer cancel()
	sock := s.ws
	if sock == nil {
		var err error
		if sock, err = s.c.socket(ctx); err != nil {
			return nil, err
		}
	}
	// Encode everything first: a value that cannot be sent fails the
	// pipeline before anything reaches the server.
	for _, r := range reqs {
		if _, err := appendWSRequest(nil, 0, 0, wsKind(r.kind), &r); err != nil {
			return nil, &EncodeError{Err: err}
		}
	}
	opening := s.wsID == 0
	streamID := s.wsID
	var chans []<-chan wsAnswer
	if opening {
		streamID = sock.newStreamID()
		ch, err := sock.send(ctx, func(b []byte, id int32) ([]byte, error) {
			return appendWSRequest(b, id, streamID, "open_stream", nil)
		})
		if err != nil {
			return nil, &TransportError{Err: err, NotSent: true}
		}
		chans = append(chans, ch)
		s.ws, s.wsID = sock, streamID
	}
	for i := range reqs {
		r := &reqs[i]
		ch, err := sock.send(ctx, func(b []byte, id int32) ([]byte, error) {
			return appendWSRequest(b, id, streamID, wsKind(r.kind), r)
		})
		if err != nil {
			s.Reset()
			return nil, &TransportError{Err: err, NotSent: opening && i == 0 && len(chans) == 0}
		}
		chans = append(chans, ch)
	}
	answers := make([]wsAnswer, len(chans))
	for i, ch := range chans {
		select {
		case a, ok := <-ch:
			if !ok {
				s.Reset()
				return nil, &TransportError{Err: ErrSocketLost}
			}
			answers[i] = a
		case <-ctx.Done():
			// The stream's state is unknown now; forget it. The socket
			// stays: other streams share it.
			s.Reset()
			return nil, &TransportError{Err: context.Cause(ctx)}
		}
	}
	if opening {
		if e := answers[0].err; e != nil {
			s.Reset()
			return nil, &TransportError{Err: fmt.Errorf("opening a stream: %w", e), NotSent: true}
		}
		answers = answers[1:]
	}
	results := make([]Result, len(reqs))
	for i, a := range answers {
		if a.err != nil {
			results[i].Err = a.err
			continue
		}
		resp, err := toResponse(a.response, reqs[i].kind, wsKind(reqs[i].kind))
		if err != nil {
			s.Reset()
			return nil, err
		}
		results[i].Response = resp
	}
	if len(reqs) > 0 && reqs[len(reqs)-1].kind == "close" {
		s.ws, s.wsID = nil, 0
	}
	return results, nil
}

// closeSocket closes the client's socket, if any.
func (c *Client) closeSocket() {
	c.wsMu <- struct{}{}
	defer func() { <-c.wsMu }()
	if c.ws != nil {
		c.ws.fail(errors.New("hrana: client closed"))
		c.ws = nil
	}
}
