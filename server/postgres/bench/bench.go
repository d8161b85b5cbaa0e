// Package bench measures reconcile throughput against a real PostgreSQL:
// it seeds an authority, loads devices and then replays rounds of a
// realistic mix of observations (mostly unchanged, some changed, a few
// new) from agents, the SNMP poller and a connector. `cmdbd bench
// reconcile` calls Run.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
)

// The mix of a round, in percent of its observations; the rest are
// unchanged.
const (
	pctNew     = 2
	pctChanged = 8
)

// Tenant tree seeded by Run.
const (
	schoolsPerAuthority = 10
	roomsPerSchool      = 24
)

// Options for Run.
type Options struct {
	Devices int       // distinct devices in the authority (default 20000)
	Batch   int       // observations per Reconcile call (default 1000)
	Rounds  int       // rounds over all devices after the initial load (default 3)
	Workers int       // concurrent batches (default 1; >1 means parallel batches, same authority)
	Out     io.Writer // where the report is printed; nil discards it
}

func (o *Options) defaults() error {
	if o.Devices == 0 {
		o.Devices = 20000
	}
	if o.Batch == 0 {
		o.Batch = 1000
	}
	if o.Rounds == 0 {
		o.Rounds = 3
	}
	if o.Workers == 0 {
		o.Workers = 1
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	switch {
	case o.Devices < 0:
		return errors.New("bench: devices must be positive")
	case o.Batch < 0 || o.Batch > cmdb.MaxBatch:
		return fmt.Errorf("bench: batch must be between 1 and %d", cmdb.MaxBatch)
	case o.Rounds < 0:
		return errors.New("bench: rounds must be positive")
	case o.Workers < 0:
		return errors.New("bench: workers must be positive")
	}
	return nil
}

// Result holds the figures. Observations, Duration, PerSecond and the
// outcome counts cover the rounds after the initial load; the initial
// load has its own rate.
type Result struct {
	Observations         int
	Duration             time.Duration
	PerSecond            float64
	InitialLoadPerSecond float64
	Created              int
	Updated              int
	Unchanged            int
	// Unexpected counts observations whose outcome differed from the one
	// the generator intended (e.g. an "unchanged" one that updated). It
	// is 0 unless the merge policy or the generator changed.
	Unexpected int
}

// scope is the scope Run reconciles with.
var scope = cmdb.AdminScope("bench")

// Run seeds an authority (1 authority, 10 schools with one building and
// 24 rooms each) in db and loads opts.Devices devices (the initial load,
// all new, whose rate is reported separately). Then it runs opts.Rounds
// rounds. Each round has opts.Devices observations: 2% of new devices
// and 98% of existing ones in a fresh random order, so that almost every
// device is seen once per round; of all observations ~8% change a free
// attribute, the hostname or the room, the rest repeat exactly what the
// source said last time. Sources: agent (laptops and desktops: serial and
// vendor, hardware UUID, one or two MACs, hostname, 8 attributes), snmp
// (printers: serial, MAC, model and counters) and connector:bench
// (inventory records: asset tag, room, serial, purchase date). It prints
// one line per round and a summary. Timing covers only the Reconcile
// calls, not generating observations. The data is the same on every run.
func Run(ctx context.Context, db *postgres.DB, opts Options) (*Result, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	t, err := seedTenant(ctx, db, "")
	if err != nil {
		return nil, err
	}
	w := newWorkload(t, 1)

	// Initial load.
	obs, exp := w.initial(opts.Devices)
	st, err := reconcileAll(ctx, db, split(obs, exp, opts.Batch), opts.Workers)
	if err != nil {
		return nil, fmt.Errorf("bench: initial load: %w", err)
	}
	res := &Result{InitialLoadPerSecond: rate(opts.Devices, st.dur)}
	fmt.Fprintf(opts.Out, "initial load: %d devices in %s = %.0f obs/s (batch %d, workers %d)\n",
		opts.Devices, round(st.dur), res.InitialLoadPerSecond, opts.Batch, opts.Workers)
	if st.unexpected > 0 {
		fmt.Fprintf(opts.Out, "  warning: %d observations had an unexpected outcome\n", st.unexpected)
	}

	for i := 1; i <= opts.Rounds; i++ {
		obs, exp := w.round(opts.Devices)
		st, err := reconcileAll(ctx, db, split(obs, exp, opts.Batch), opts.Workers)
		if err != nil {
			return nil, fmt.Errorf("bench: round %d: %w", i, err)
		}
		res.Observations += len(obs)
		res.Duration += st.dur
		res.Created += st.created
		res.Updated += st.updated
		res.Unchanged += st.unchanged
		res.Unexpected += st.unexpected
		fmt.Fprintf(opts.Out, "round %d: %d observations in %s = %.0f obs/s (%d unchanged, %d updated, %d created)\n",
			i, len(obs), round(st.dur), rate(len(obs), st.dur), st.unchanged, st.updated, st.created)
	}
	res.PerSecond = rate(res.Observations, res.Duration)
	pct := func(n int) int {
		if res.Observations == 0 {
			return 0
		}
		return int(float64(n)*100/float64(res.Observations) + 0.5)
	}
	fmt.Fprintf(opts.Out, "reconcile: %d observations in %s = %.0f obs/s (batch %d, workers %d; %d%% unchanged, %d%% changed, %d%% new)\n",
		res.Observations, round(res.Duration), res.PerSecond, opts.Batch, opts.Workers,
		pct(res.Unchanged), pct(res.Updated), pct(res.Created))
	if res.Unexpected > 0 {
		fmt.Fprintf(opts.Out, "warning: %d observations had an unexpected outcome\n", res.Unexpected)
	}
	return res, nil
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func round(d time.Duration) time.Duration {
	if d > 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}

// tenant is the tenant tree the benchmark writes to.
type tenant struct {
	Authority *cmdb.Authority
	Schools   []*cmdb.School
	Rooms     [][]*cmdb.Room // rooms per school, in the order of Schools
}

// seedTenant creates an authority with 10 schools, one building and 24
// rooms each. The authority code is code, or "bench-<time>" when empty,
// so that runs against one database do not collide.
func seedTenant(ctx context.Context, db *postgres.DB, code string) (*tenant, error) {
	if code == "" {
		code = "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	t := &tenant{Authority: &cmdb.Authority{Code: code, Name: "Benchmark " + code}}
	if err := db.CreateAuthority(ctx, scope, t.Authority); err != nil {
		return nil, fmt.Errorf("bench: seed: %w", err)
	}
	for s := range schoolsPerAuthority {
		sc := &cmdb.School{AuthorityID: t.Authority.ID, Code: fmt.Sprintf("S%02d", s+1), Name: fmt.Sprintf("Schule %d", s+1)}
		if err := db.CreateSchool(ctx, scope, sc); err != nil {
			return nil, fmt.Errorf("bench: seed: %w", err)
		}
		b := &cmdb.Building{SchoolID: sc.ID, Code: "A", Name: "Haus A"}
		if err := db.CreateBuilding(ctx, scope, b); err != nil {
			return nil, fmt.Errorf("bench: seed: %w", err)
		}
		var rooms []*cmdb.Room
		for r := range roomsPerSchool {
			code := fmt.Sprintf("%d.%02d", r/8, r%8+1)
			rm := &cmdb.Room{BuildingID: b.ID, Code: code, Name: "Raum " + code}
			if err := db.CreateRoom(ctx, scope, rm); err != nil {
				return nil, fmt.Errorf("bench: seed: %w", err)
			}
			rooms = append(rooms, rm)
		}
		t.Schools = append(t.Schools, sc)
		t.Rooms = append(t.Rooms, rooms)
	}
	return t, nil
}

// batch is one Reconcile call's observations with the outcome the
// generator intends for each.
type batch struct {
	obs []cmdb.Observation
	exp []string
}

func split(obs []cmdb.Observation, exp []string, size int) []batch {
	var out []batch
	for off := 0; off < len(obs); off += size {
		end := min(off+size, len(obs))
		out = append(out, batch{obs[off:end], exp[off:end]})
	}
	return out
}

// stats are the figures of a set of Reconcile calls.
type stats struct {
	dur                                     time.Duration
	created, updated, unchanged, unexpected int
}

func (s *stats) add(b batch, res *cmdb.ReconcileResult) {
	for i, it := range res.Items {
		switch it.Outcome {
		case cmdb.OutcomeCreated:
			s.created++
		case cmdb.OutcomeUpdated:
			s.updated++
		case cmdb.OutcomeUnchanged:
			s.unchanged++
		}
		if it.Outcome != b.exp[i] {
			s.unexpected++
		}
	}
}

// reconcileAll reconciles the batches with workers concurrent callers
// and returns the wall time of the calls and the outcome counts.
func reconcileAll(ctx context.Context, db *postgres.DB, batches []batch, workers int) (stats, error) {
	var st stats
	if workers <= 1 {
		for _, b := range batches {
			start := time.Now()
			res, err := db.Reconcile(ctx, scope, b.obs)
			st.dur += time.Since(start)
			if err != nil {
				return st, err
			}
			st.add(b, res)
		}
		return st, nil
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan batch)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				res, err := db.Reconcile(ctx, scope, b.obs)
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
						cancel()
					}
				} else {
					st.add(b, res)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, b := range batches {
		select {
		case next <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	st.dur = time.Since(start)
	if firstErr == nil {
		firstErr = parent.Err()
	}
	return st, firstErr
}
