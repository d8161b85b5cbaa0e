package pgembed

import (
	"fmt"
	"path/filepath"
	"sync"
	"time"
)

// watchInterval is how often the postmaster's process is looked at.
const watchInterval = 500 * time.Millisecond

// watcher notices when the postmaster serving the cluster dies.
type watcher struct {
	stopOnce sync.Once
	stop     chan struct{} // closed by Stop: the end is intended
	exited   chan struct{} // closed when the goroutine has returned
	dead     chan struct{} // closed when the postmaster died unasked
	err      error         // why; written before dead is closed
}

// watch starts watching the postmaster named in postmaster.pid.
func (c *Cluster) watch() error {
	pf, err := readPidFile(filepath.Join(c.dataDir, "postmaster.pid"))
	if err != nil {
		return fmt.Errorf("reading the postmaster's pid: %w", err)
	}
	w := &watcher{stop: make(chan struct{}), exited: make(chan struct{}), dead: make(chan struct{})}
	c.watcher = w
	go func() {
		defer close(w.exited)
		t := time.NewTicker(watchInterval)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
			if processState(pf.pid) == procPostgres {
				continue
			}
			select {
			case <-w.stop: // stopped meanwhile: as asked
				return
			default:
			}
			w.err = fmt.Errorf("the private PostgreSQL (postmaster pid %d, %s) has died; its log %s ends with:\n%s",
				pf.pid, c.dataDir, c.logPath, logTail(c.logPath, 0, 10))
			c.log.Error("private PostgreSQL died", "pid", pf.pid, "log", c.logPath, "err", w.err)
			close(w.dead)
			return
		}
	}()
	return nil
}

// stopWatching ends the watch before an intended stop and waits for it.
func (w *watcher) stopWatching() {
	if w == nil {
		return
	}
	w.stopOnce.Do(func() { close(w.stop) })
	<-w.exited
}

// Died returns a channel that is closed when the postmaster serving the
// cluster dies without Stop having been called (killed, crashed, or
// stopped by someone else); Err then says why. The database is gone at
// that point: the caller should stop serving (cmdbd exits non-zero, so
// that its service manager restarts it, and with it PostgreSQL).
func (c *Cluster) Died() <-chan struct{} { return c.watcher.dead }

// Err returns why the postmaster died once Died is closed; nil before.
func (c *Cluster) Err() error {
	select {
	case <-c.watcher.dead:
		return c.watcher.err
	default:
		return nil
	}
}
