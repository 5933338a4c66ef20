package delta

import (
	"sync"
	"time"

	"github.com/deltaglider-go/deltaglider/vcdiff"
)

// DefaultSourceMemory is how much memory a Client keeps, by default, in
// references read and indexed for the VCDIFF encoder between puts (see
// WithSourceMemory).
const DefaultSourceMemory = 512 << 20

// sourceIdle is how long an unused prepared reference is kept.
const sourceIdle = 30 * time.Second

// sourceCache keeps the references most recently encoded against, read
// and indexed (vcdiff.Source), so that a run of puts into one deltaspace
// (cp -r, sync, migrate, a client uploading release after release)
// indexes its reference once instead of once per put, and concurrent puts
// share one copy. Entries are keyed by the reference's content (SHA-256),
// so a replaced reference is never used for the wrong deltas; they are
// dropped, least recently used first, past the memory budget, and after
// sourceIdle without use.
type sourceCache struct {
	budget int64

	mu      sync.Mutex
	used    int64
	tick    uint64
	entries map[string]*sourceEntry
}

type sourceEntry struct {
	key   string
	ready chan struct{} // closed once s/err are set
	s     *vcdiff.Source
	err   error
	size  int64  // bytes counted in sourceCache.used (0 until kept)
	last  uint64 // tick of the last use (LRU order)
	timer *time.Timer
}

func newSourceCache(budget int64) *sourceCache {
	return &sourceCache{budget: budget, entries: map[string]*sourceEntry{}}
}

// get returns the prepared source for key, building it with build if no
// one has (concurrent callers for one key wait for a single build).
func (sc *sourceCache) get(key string, build func() (*vcdiff.Source, error)) (*vcdiff.Source, error) {
	sc.mu.Lock()
	e, ok := sc.entries[key]
	if ok {
		sc.touch(e)
		sc.mu.Unlock()
		<-e.ready
		return e.s, e.err
	}
	e = &sourceEntry{key: key, ready: make(chan struct{})}
	sc.entries[key] = e
	sc.touch(e)
	sc.mu.Unlock()

	s, err := build()
	sc.mu.Lock()
	e.s, e.err = s, err
	close(e.ready)
	switch {
	case err != nil || s.MemBytes() > sc.budget:
		// Not kept: a failed build is retried by the next put, and a
		// source over the whole budget would only push the others out.
		sc.remove(e)
	case sc.entries[e.key] == e: // not expired while being built
		e.size = s.MemBytes()
		sc.used += e.size
		sc.shrink(e)
	}
	sc.mu.Unlock()
	return s, err
}

// touch marks e as just used and restarts its idle timer. sc.mu is held.
func (sc *sourceCache) touch(e *sourceEntry) {
	sc.tick++
	e.last = sc.tick
	if e.timer == nil {
		e.timer = time.AfterFunc(sourceIdle, func() { sc.expire(e) })
	} else {
		e.timer.Reset(sourceIdle)
	}
}

func (sc *sourceCache) expire(e *sourceEntry) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	select {
	case <-e.ready:
		sc.remove(e)
	default: // still being built: wait for the next expiry
		e.timer.Reset(sourceIdle)
	}
}

// remove drops e if it is still the entry for its key. sc.mu is held.
func (sc *sourceCache) remove(e *sourceEntry) {
	if sc.entries[e.key] != e {
		return
	}
	delete(sc.entries, e.key)
	if e.timer != nil {
		e.timer.Stop()
	}
	sc.used -= e.size
	e.size = 0
}

// shrink drops the least recently used built entries other than keep
// until the budget holds. sc.mu is held.
func (sc *sourceCache) shrink(keep *sourceEntry) {
	for sc.used > sc.budget {
		var lru *sourceEntry
		for _, e := range sc.entries {
			if e == keep || e.s == nil {
				continue
			}
			if lru == nil || e.last < lru.last {
				lru = e
			}
		}
		if lru == nil {
			return
		}
		sc.remove(lru)
	}
}

// clear drops every kept source.
func (sc *sourceCache) clear() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for _, e := range sc.entries {
		select {
		case <-e.ready:
			sc.remove(e)
		default: // being built: its builder keeps or drops it
		}
	}
}
