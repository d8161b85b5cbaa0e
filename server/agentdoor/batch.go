// Package agentdoor is the agent door of the server: enrolment and reports
// over HTTP, with group commit — concurrent reports are applied in one
// transaction, and each is acknowledged only after that commits.
package agentdoor

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/schulit/cmdb/server/cmdb"
)

// Applier applies reports in one transaction (cmdb.AgentStore does).
type Applier interface {
	ApplyReports(ctx context.Context, items []*cmdb.ReportItem) ([]cmdb.ReportResult, error)
}

type job struct {
	item *cmdb.ReportItem
	done chan outcome
}

type outcome struct {
	res cmdb.ReportResult
	err error
}

// batcher collects reports and commits them in batches.
type batcher struct {
	store    Applier
	jobs     chan *job
	maxBatch int
	maxWait  time.Duration
	log      *slog.Logger
	size     prometheus.Observer
	took     prometheus.Observer
	stop     chan struct{}
	stopped  chan struct{}

	mu     sync.RWMutex // held for reading while queueing, so close sees no late job
	closed bool
}

func newBatcher(store Applier, maxBatch int, maxWait time.Duration, flushers int, log *slog.Logger, size, took prometheus.Observer) *batcher {
	b := &batcher{store: store, jobs: make(chan *job, maxBatch*flushers*2), maxBatch: maxBatch, maxWait: maxWait,
		log: log, size: size, took: took, stop: make(chan struct{}), stopped: make(chan struct{})}
	done := make(chan struct{}, flushers)
	for i := 0; i < flushers; i++ {
		go func() { b.flusher(); done <- struct{}{} }()
	}
	go func() {
		for i := 0; i < flushers; i++ {
			<-done
		}
		close(b.stopped)
	}()
	return b
}

// submit queues a report and waits until its batch committed (or failed).
func (b *batcher) submit(ctx context.Context, it *cmdb.ReportItem) (cmdb.ReportResult, error) {
	j := &job{item: it, done: make(chan outcome, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return cmdb.ReportResult{}, errStopped
	}
	select {
	case b.jobs <- j:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		return cmdb.ReportResult{}, ctx.Err()
	}
	// Once queued, the job is committed or failed whatever the client does:
	// waiting for it keeps the answer true.
	o := <-j.done
	return o.res, o.err
}

var errStopped = cmdb.Errorf(cmdb.EUNAVAILABLE, "The server is shutting down; try again.")

// close stops taking reports and waits until the queued ones are done.
func (b *batcher) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	<-b.stopped
}

func (b *batcher) flusher() {
	for {
		var first *job
		select {
		case first = <-b.jobs:
		case <-b.stop:
			// Drain what was queued before the stop.
			select {
			case first = <-b.jobs:
			default:
				return
			}
		}
		batch := []*job{first}
		timer := time.NewTimer(b.maxWait)
	collect:
		for len(batch) < b.maxBatch {
			select {
			case j := <-b.jobs:
				batch = append(batch, j)
			case <-timer.C:
				break collect
			}
		}
		timer.Stop()
		b.apply(batch)
	}
}

// apply commits a batch. If the batch fails, whatever the reason (bad
// input, a conflict, a value the database refuses), its reports are
// applied one by one, so that one bad report fails alone and never its
// neighbours of other devices and tenants.
func (b *batcher) apply(batch []*job) {
	b.size.Observe(float64(len(batch)))
	start := time.Now()
	defer func() { b.took.Observe(time.Since(start).Seconds()) }()
	items := make([]*cmdb.ReportItem, len(batch))
	for i, j := range batch {
		items[i] = j.item
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := b.store.ApplyReports(ctx, items)
	if err == nil {
		for i, j := range batch {
			j.done <- outcome{res: res[i]}
		}
		return
	}
	if len(batch) > 1 && ctx.Err() == nil {
		for _, j := range batch {
			r, err := b.store.ApplyReports(ctx, []*cmdb.ReportItem{j.item})
			if err != nil {
				b.logFailure(1, err)
				j.done <- outcome{err: err}
			} else {
				j.done <- outcome{res: r[0]}
			}
		}
		return
	}
	b.logFailure(len(batch), err)
	for _, j := range batch {
		j.done <- outcome{err: err}
	}
}

func (b *batcher) logFailure(n int, err error) {
	if cmdb.ErrorCode(err) == cmdb.EINTERNAL && !errors.Is(err, context.Canceled) {
		b.log.Error("applying reports", "batch", n, "err", err)
	}
}
