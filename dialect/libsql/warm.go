package libsql

import (
	"sync"
	"time"
)

// Warm streams, bounded. An autocommit statement leaves its stream open
// ("warm") so that the conn's next statement skips opening one. But every
// open stream holds one of the server's database connections (a default
// sqld has 128, for all its clients), and database/sql keeps idle conns by
// the dozen: six app instances each holding 32 idle warm streams starve
// each other (measured: 64 of 2,553 calls failed with HTTP 429). So a conn
// going back to the pool "parks" its warm stream, and:
//
//   - at most maxParked streams are parked per driver: past that the
//     stream is closed at once, in the background;
//   - a stream parked for parkedIdle is closed, in the background, by a
//     sweep;
//   - a conn taken from the pool unparks first, so that a sweep never
//     touches a stream in use.
//
// Streams in use, and streams holding state (a transaction, a PRAGMA),
// are not counted: they are the caller's.

const (
	maxParked  = 8
	parkedIdle = time.Second
)

// warmStreams is a driver's parked streams.
type warmStreams struct {
	mu     sync.Mutex
	parked map[*conn]time.Time // all access to a parked conn's stream holds mu
	timer  *time.Timer
	closed bool
}

// park registers c's warm stream as idle, or closes it when too many are.
// database/sql calls it (through IsValid) as c goes back to the pool.
func (w *warmStreams) park(c *conn) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.parked[c]; ok {
		return
	}
	if !c.stream.Open() || c.sticky || c.tx != txNone || c.bad {
		return
	}
	if w.closed || len(w.parked) >= maxParked {
		c.stream.Reset()
		return
	}
	if w.parked == nil {
		w.parked = map[*conn]time.Time{}
	}
	w.parked[c] = time.Now()
	if w.timer == nil {
		w.timer = time.AfterFunc(parkedIdle, w.sweep)
	}
}

// unpark takes c's stream back before c is used.
func (w *warmStreams) unpark(c *conn) {
	if w == nil {
		return
	}
	w.mu.Lock()
	delete(w.parked, c)
	w.mu.Unlock()
}

// sweep closes the streams parked for parkedIdle and waits for the next.
func (w *warmStreams) sweep() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = nil
	if w.closed {
		return
	}
	now := time.Now()
	next := time.Duration(0)
	for c, since := range w.parked {
		if idle := now.Sub(since); idle >= parkedIdle {
			c.stream.Reset()
			delete(w.parked, c)
		} else if left := parkedIdle - idle; next == 0 || left < next {
			next = left
		}
	}
	if len(w.parked) > 0 {
		w.timer = time.AfterFunc(next, w.sweep)
	}
}

// close closes every parked stream and stops the sweeps.
func (w *warmStreams) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	for c := range w.parked {
		c.stream.Reset()
		delete(w.parked, c)
	}
}
