package sqldtest

import (
	"strings"
	"sync"
)

// tailBuffer keeps the last max bytes written to it: enough of a
// process's output to explain a failure, without growing for as long as a
// server runs.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
	cut bool // bytes were dropped from the front
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
		b.cut = true
	}
	return len(p), nil
}

// String returns the kept bytes, starting at a line boundary when the
// start was cut off.
func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := string(b.buf)
	if b.cut {
		if i := strings.IndexByte(s, '\n'); i >= 0 && i+1 < len(s) {
			s = "…\n" + s[i+1:]
		}
	}
	return s
}
