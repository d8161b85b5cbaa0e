// Package monitorbench pushes health events into a cmdb.HealthSink at a
// set rate for a bounded time and reports what the sink took: events
// per second, failures, latency and (with a counter) tickets opened. It
// is the load behind "1,000 monitoring events per second without a
// flood": most events repeat a condition that already has a ticket, as a
// real polling round's do, and each condition clears now and then.
package monitorbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// Limits keep a run bounded whatever the caller asks.
const (
	MaxRate     = 100000
	MaxDuration = 10 * time.Minute
)

// Options say what load to make. CIs and Sink are required.
type Options struct {
	Sink cmdb.HealthSink
	// CIs are the configuration items the events are about (printers,
	// ideally); events go round them.
	CIs []int64
	// Rate is the events per second offered in total (default 1000).
	Rate int
	// Duration bounds the run (default 10s, at most MaxDuration).
	Duration time.Duration
	// Workers call the sink concurrently (default 16), like the
	// poller's concurrent targets; events of one CI and kind stay on one
	// worker, in order.
	Workers int
	// Kinds are the conditions raised (default supply_empty and jam).
	Kinds []cmdb.HealthKind
	// ClearEvery: each condition clears after this many opening events
	// of it and opens again with the next (0: 10; negative: never).
	ClearEvery int
	// Tickets, when set, counts the tickets there are; the report then
	// says how many the run opened.
	Tickets func(ctx context.Context) (int, error)
	// Now stamps the events; nil: time.Now.
	Now func() time.Time
}

// Report is what a run did.
type Report struct {
	Offered, Taken, Failed int64
	Elapsed                time.Duration
	// PerSecond is the events taken per second of Elapsed.
	PerSecond float64
	// P50 and P99 are the latencies of one HealthEvent call.
	P50, P99 time.Duration
	// TicketsOpened is -1 without Options.Tickets.
	TicketsOpened int
	// Conditions is the number of distinct CI × kind pairs; with
	// auto-resolve, TicketsOpened stays at about Conditions × the clears
	// per condition, whatever the rate.
	Conditions int
	// FirstError is the first error the sink returned, if any.
	FirstError error
}

// Print writes the report in one line per figure.
func (r Report) Print(w io.Writer) {
	fmt.Fprintf(w, "events offered %d, taken %d, failed %d in %s: %.0f events/s\n",
		r.Offered, r.Taken, r.Failed, r.Elapsed.Round(time.Millisecond), r.PerSecond)
	fmt.Fprintf(w, "latency p50 %s, p99 %s\n", r.P50, r.P99)
	fmt.Fprintf(w, "conditions %d, tickets opened %d\n", r.Conditions, r.TicketsOpened)
	if r.FirstError != nil {
		fmt.Fprintf(w, "first error: %v\n", r.FirstError)
	}
}

// Run offers events at o.Rate until o.Duration is over or ctx ends.
// When the sink is slower than the rate, events wait (no event is
// dropped) and PerSecond shows what the sink managed.
func Run(ctx context.Context, o Options) (Report, error) {
	if o.Sink == nil || len(o.CIs) == 0 {
		return Report{}, errors.New("monitorbench: a Sink and at least one CI are required")
	}
	if o.Rate <= 0 {
		o.Rate = 1000
	}
	o.Rate = min(o.Rate, MaxRate)
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	o.Duration = min(o.Duration, MaxDuration)
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if len(o.Kinds) == 0 {
		o.Kinds = []cmdb.HealthKind{cmdb.HealthSupplyEmpty, cmdb.HealthJam}
	}
	if o.ClearEvery == 0 {
		o.ClearEvery = 10
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	rep := Report{TicketsOpened: -1, Conditions: len(o.CIs) * len(o.Kinds)}
	before := 0
	if o.Tickets != nil {
		n, err := o.Tickets(ctx)
		if err != nil {
			return rep, err
		}
		before = n
	}

	// One queue per worker; a condition always lands on the same one,
	// so its events keep their order as the poller's do.
	queues := make([]chan cmdb.HealthEvent, o.Workers)
	for i := range queues {
		queues[i] = make(chan cmdb.HealthEvent, 64)
	}
	var taken, failed atomic.Int64
	var firstErr error
	var mu sync.Mutex
	lat := make([][]time.Duration, o.Workers)
	var wg sync.WaitGroup
	for w := range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range queues[w] {
				t0 := time.Now()
				err := o.Sink.HealthEvent(ctx, e)
				lat[w] = append(lat[w], time.Since(t0))
				if err != nil {
					failed.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				} else {
					taken.Add(1)
				}
			}
		}()
	}

	start := time.Now()
	end := start.Add(o.Duration)
	seen := make([]int, rep.Conditions) // opening events per condition since its last clear
	interval := time.Second / time.Duration(o.Rate)
	var offered int64
loop:
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if due.After(end) {
			break
		}
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
				break loop
			case <-time.After(d):
			}
		} else if ctx.Err() != nil {
			break
		}
		c := i % rep.Conditions
		ci, kind := o.CIs[c%len(o.CIs)], o.Kinds[c/len(o.CIs)]
		e := cmdb.HealthEvent{CIID: ci, Kind: kind, Open: true, At: o.Now().UTC(), Detail: "benchmark"}
		if kind == cmdb.HealthSupplyEmpty || kind == cmdb.HealthSupplyLow {
			e.Subject = "#1 Black Toner"
		}
		if o.ClearEvery > 0 && seen[c] >= o.ClearEvery {
			e.Open, seen[c] = false, 0
		} else {
			seen[c]++
		}
		select {
		case queues[c%o.Workers] <- e:
			offered++
		case <-ctx.Done():
			break loop
		}
	}
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	rep.Elapsed = time.Since(start)
	rep.Offered, rep.Taken, rep.Failed, rep.FirstError = offered, taken.Load(), failed.Load(), firstErr
	rep.PerSecond = float64(rep.Taken) / rep.Elapsed.Seconds()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) > 0 {
		rep.P50, rep.P99 = all[len(all)/2], all[len(all)*99/100]
	}
	if o.Tickets != nil {
		// Counted with a fresh context: the run's may have ended.
		n, err := o.Tickets(context.WithoutCancel(ctx))
		if err != nil {
			return rep, err
		}
		rep.TicketsOpened = n - before
	}
	return rep, nil
}
