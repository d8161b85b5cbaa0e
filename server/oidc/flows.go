package oidc

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// flow is a sign-in in progress, between Login and Callback.
type flow struct {
	authority string
	issuer    string
	state     string
	nonce     string
	verifier  string // PKCE code verifier
	next      string // the local path to return to after sign-in
	expires   time.Time
}

// flows keeps sign-ins in progress in memory, keyed by a random id that is
// the only thing the browser gets. It holds at most max entries: expired
// ones are purged when it is full, and then the oldest is dropped.
type flows struct {
	mu  sync.Mutex
	max int
	m   map[string]*flow
}

func newFlows(limit int) *flows {
	return &flows{max: limit, m: map[string]*flow{}}
}

// put stores f under a new random id and returns the id.
func (fs *flows) put(f *flow, now time.Time) string {
	id := randomString()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.m) >= fs.max {
		fs.purge(now)
	}
	for len(fs.m) >= fs.max {
		var oldest string
		for k, v := range fs.m {
			if oldest == "" || v.expires.Before(fs.m[oldest].expires) {
				oldest = k
			}
		}
		delete(fs.m, oldest)
	}
	fs.m[id] = f
	return id
}

// take removes and returns the unexpired flow with the id, or nil. A flow
// can be taken once.
func (fs *flows) take(id string, now time.Time) *flow {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := fs.m[id]
	delete(fs.m, id)
	if f == nil || !now.Before(f.expires) {
		return nil
	}
	return f
}

// len returns the number of flows kept.
func (fs *flows) len() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.m)
}

// purge drops expired flows; the caller holds the lock.
func (fs *flows) purge(now time.Time) {
	for k, v := range fs.m {
		if !now.Before(v.expires) {
			delete(fs.m, k)
		}
	}
}

// randomString returns 256 random bits, base64url-encoded.
func randomString() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}
