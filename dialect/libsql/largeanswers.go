package libsql

import (
	"hash/maphash"
	"sync"
)

// connShared is what a connector's connections share.
type connShared struct {
	large largeAnswers
	epoch inspectionEpoch // see inspect.go
}

// largeAnswers remembers the reads whose answers sqld refused as too
// large (see conn.query), so that they go through a cursor at once next
// time instead of costing the server the refused answer first. A
// statement is known by its text; past maxLargeAnswers texts the memory
// starts over, so it stays small whatever the application sends.
type largeAnswers struct {
	mu   sync.Mutex
	seed maphash.Seed
	seen map[uint64]struct{}
}

const maxLargeAnswers = 256

func (l *largeAnswers) has(sql string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		return false
	}
	_, ok := l.seen[maphash.String(l.seed, sql)]
	return ok
}

func (l *largeAnswers) add(sql string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil || len(l.seen) >= maxLargeAnswers {
		if l.seen == nil {
			l.seed = maphash.MakeSeed()
		}
		l.seen = make(map[uint64]struct{})
	}
	l.seen[maphash.String(l.seed, sql)] = struct{}{}
}
