package demo

import (
	"sync"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// Options of a load.
type Options struct {
	// SetNow sets the clock of the store Load writes through (see Clock),
	// so that the demo's tickets, comments and changes are stamped with
	// their times in the past year; Load calls it before every write of
	// the ticket history and with the zero time, meaning the wall clock
	// again, when done. Nil: everything is stamped with the store's own
	// clock, as if the whole year happened at once.
	SetNow func(time.Time)
	// Password is every demo person's password; a loaded demo's people
	// are given it too. Empty: Password, and people found keep theirs.
	Password cmdb.Secret
}

// Clock is a clock that can be set, for the store handle the demo is
// loaded through: pass Now as postgres.Options.Now and Set as
// Options.SetNow. The zero Clock, and a Clock set to the zero time, tell
// the wall-clock time.
type Clock struct {
	mu sync.Mutex
	at time.Time
}

// Now returns the time set, or time.Now() when none is.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() {
		return time.Now()
	}
	return c.at
}

// Set sets the time Now returns; the zero time means the wall clock.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = t
}
