// Package poller runs the SNMP/PJLink polling round: it reads the targets
// and credential profiles from a cmdb.PollStore, polls every device with
// bounded concurrency (SNMP through server/snmp, PJLink projectors through
// server/pjlink), debounces health conditions (server/health), offers the
// events to a cmdb.HealthSink and writes the round back: observations
// through reconcile, metrics, events, misses and failure reasons. It also
// runs discovery over the schools' ranges. It imports the domain and the
// protocol packages, never the store or the HTTP side.
package poller

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/health"
	"github.com/schulit/cmdb/server/pjlink"
	"github.com/schulit/cmdb/server/snmp"
)

// Options configure a Poller. Store is required; zero values of the
// others take the defaults named in their comments.
type Options struct {
	Store cmdb.PollStore
	// SNMP tunes the SNMP polls (timeouts, retries, catalog, Dial).
	SNMP snmp.Options
	// PJLinkTimeout bounds one PJLink query; 0: pjlink.DefaultTimeout.
	PJLinkTimeout time.Duration
	// MissLimit: polls in a row a target may miss before it is marked
	// unreachable (default 3).
	MissLimit int
	// Concurrency bounds the targets polled at once (default 64).
	Concurrency int
	// Sink, when not nil, is offered every health event before it is
	// stored (see Round).
	Sink cmdb.HealthSink
	// Logger gets a summary line per round and warnings about refused
	// passwords, unreadable credentials and failed deliveries; nil:
	// none. Secrets are never passed to it.
	Logger *slog.Logger
	// Registry, when not nil, gets the round's metrics (see Poller).
	Registry prometheus.Registerer
}

// Poller runs polling rounds. It exports, when given a Registry:
//
//	cmdb_poll_round_seconds{kind}              time until the last target of a kind (snmp, pjlink) was polled
//	cmdb_poll_devices_total{kind,outcome}      targets by outcome: ok, not_printer, unreachable, skipped
//	cmdb_poll_unreachable_total{kind,reason}   unreachable and skipped targets by cmdb.PollFailure
//
// A Poller is safe for concurrent use, but rounds are meant to run one at
// a time (the scheduler sees to that).
type Poller struct {
	opts    Options
	metrics *metrics
}

// New returns a Poller. It fails only when the metrics cannot be
// registered (a second Poller on the same Registry).
func New(o Options) (*Poller, error) {
	if o.MissLimit <= 0 {
		o.MissLimit = 3
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(o.Registry)
	if err != nil {
		return nil, err
	}
	return &Poller{opts: o, metrics: m}, nil
}

// SNMPOptions returns the SNMP options the Poller polls with.
func (p *Poller) SNMPOptions() snmp.Options { return p.opts.SNMP }

// schoolCreds are a school's credential profiles, split by protocol, in
// the order they are tried. unreadable is set when they could not be
// read: the school's targets are then not polled.
type schoolCreds struct {
	snmp       []cmdb.SNMPCredential
	pjlink     []string // passwords
	unreadable bool
}

// Round polls every target once, with bounded concurrency, and writes
// the round: observations through reconcile, metrics, health events, the
// reason of each failure, and unreachable marks after MissLimit misses in
// a row. A device that does not answer costs its timeout, never the
// round. SNMP targets of a school without SNMP credential profiles are
// skipped; PJLink targets are polled without a password when their school
// has none. When a school's credential profiles cannot be read (the
// secret key changed), its targets are not polled: they are marked
// credentials_unreadable and the error is logged without any secret.
//
// Health events go to the Sink, in order, before they are stored. Events
// are edges: one the Sink did not take would never come again. So when
// the Sink fails on any event of a device, neither this poll's tracker
// state nor its events are stored for that device (its observation and
// metrics are): the next poll detects the same edges and offers them all
// again, and the CI's event list stays in step with what the Sink took.
// Events of a device that has no CI yet (its first answer) are held back
// the same way, until the next poll knows the CI.
func (p *Poller) Round(ctx context.Context) error {
	start := time.Now()
	targets, err := p.opts.Store.FindSNMPTargets(ctx, cmdb.AdminScope("snmp"), 0)
	if err != nil {
		return err
	}
	creds := map[int64]*schoolCreds{}
	var todo []*cmdb.SNMPTarget
	var skipped []*cmdb.PollRecord
	for _, t := range targets {
		c, ok := creds[t.SchoolID]
		if !ok {
			if c, err = p.schoolCreds(ctx, t.SchoolID); err != nil {
				return err
			}
			creds[t.SchoolID] = c
		}
		switch {
		case c.unreadable:
			skipped = append(skipped, &cmdb.PollRecord{Target: t, Failure: cmdb.PollCredentialsUnreadable})
		case t.Kind == cmdb.TargetPJLink || t.Kind == cmdb.TargetSNMP && len(c.snmp) > 0:
			todo = append(todo, t)
		}
	}
	if len(todo)+len(skipped) == 0 {
		return nil
	}
	ids := make([]int64, len(todo))
	for i, t := range todo {
		ids[i] = t.ID
	}
	states := map[int64]json.RawMessage{}
	if len(ids) > 0 {
		if states, err = p.opts.Store.HealthStates(ctx, ids); err != nil {
			return err
		}
	}
	recs := make([]*cmdb.PollRecord, len(todo))
	sum := newSummary(start)
	sem := make(chan struct{}, p.opts.Concurrency)
	var wg sync.WaitGroup
	for i, t := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			recs[i] = p.poll(ctx, t, creds[t.SchoolID], states[t.ID])
			sum.done(t.Kind)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.opts.Sink != nil {
		p.offer(ctx, recs)
	}
	recs = append(recs, skipped...)
	if err := p.opts.Store.RecordPolls(ctx, recs, p.opts.MissLimit); err != nil {
		return err
	}
	sum.count(recs)
	p.metrics.observe(sum)
	sum.log(p.opts.Logger, time.Since(start))
	return nil
}

// schoolCreds reads a school's credential profiles. An error of the
// store that is not the context's marks them unreadable (logged, without
// secrets) instead of failing the round for every school.
func (p *Poller) schoolCreds(ctx context.Context, schoolID int64) (*schoolCreds, error) {
	all, err := p.opts.Store.PollCredentials(ctx, schoolID)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		p.opts.Logger.Error("credential profiles of a school cannot be read; its targets are not polled",
			"school_id", schoolID, "err", err)
		return &schoolCreds{unreadable: true}, nil
	}
	return splitCreds(all), nil
}

func splitCreds(all []cmdb.SNMPCredential) *schoolCreds {
	c := &schoolCreds{}
	for _, cr := range all {
		if cr.Version == cmdb.CredentialPJLink {
			c.pjlink = append(c.pjlink, cr.AuthPass.Reveal())
		} else {
			c.snmp = append(c.snmp, cr)
		}
	}
	return c
}

// poll polls one target and turns the answer into what the store keeps.
func (p *Poller) poll(ctx context.Context, t *cmdb.SNMPTarget, c *schoolCreds, state json.RawMessage) *cmdb.PollRecord {
	rec := &cmdb.PollRecord{Target: t}
	now := time.Now().UTC()
	if p.opts.SNMP.Now != nil {
		now = p.opts.SNMP.Now().UTC()
	}
	if t.Kind == cmdb.TargetPJLink {
		st, err := p.queryPJLink(ctx, t, c.pjlink)
		if err != nil {
			rec.Result = &cmdb.PollResult{Target: t.Address, PolledAt: now, Failure: PJLinkFailure(err)}
		} else {
			rec.Result = pjlink.Result(st, t.Address, now)
			o := pjlink.Observation(st, pjlinkKey(t), t.AuthorityID, t.SchoolID, now)
			rec.Observation, rec.Metrics = &o, pjlink.Metrics(st)
		}
	} else {
		res, err := snmp.Poll(ctx, t.Address, c.snmp, p.opts.SNMP)
		if err != nil || res == nil {
			// Bad input (a stored target or profile the poller cannot
			// use) or the context ending.
			p.opts.Logger.Warn("SNMP target not polled", "target", t.Address, "school_id", t.SchoolID, "err", err)
			res = &cmdb.PollResult{Target: t.Address, PolledAt: now, Failure: cmdb.PollOther}
		}
		rec.Result = res
		if res.Reachable {
			o := snmp.Observation(res, t.AuthorityID, t.SchoolID)
			rec.Observation, rec.Metrics = &o, snmp.Metrics(res)
		}
	}
	tracker := health.NewTracker(health.Options{})
	if len(state) > 0 && string(state) != "{}" && string(state) != "null" {
		if err := json.Unmarshal(state, tracker); err != nil {
			// A state this version cannot read: start afresh rather than
			// stop polling the device; conditions open again after Raise.
			p.opts.Logger.Warn("health state of a target unreadable; starting afresh", "target", t.Address, "err", err)
			tracker = health.NewTracker(health.Options{})
		}
	}
	rec.Events = tracker.Observe(rec.Result, rec.Result.PolledAt)
	hs, err := json.Marshal(tracker)
	if err != nil { // a Tracker is plain data; keep the stored state
		p.opts.Logger.Error("health state not encoded", "target", t.Address, "err", err)
		rec.Events = nil
	} else {
		rec.HealthState = hs
	}
	return rec
}

// pjlinkKey is the poller's own key for the projector behind a PJLink
// target: PJLink tells no MAC and, before class 2, no serial.
func pjlinkKey(t *cmdb.SNMPTarget) string { return "pjlink-target:" + strconv.FormatInt(t.ID, 10) }

// queryPJLink reads a projector, trying the school's passwords in order
// until one is accepted (a projector without a password accepts any; with
// none configured, none is sent).
func (p *Poller) queryPJLink(ctx context.Context, t *cmdb.SNMPTarget, passwords []string) (*pjlink.Status, error) {
	if len(passwords) == 0 {
		passwords = []string{""}
	}
	var err error
	for _, pw := range passwords {
		var st *pjlink.Status
		st, err = pjlink.Query(ctx, t.Address, pjlink.Options{Password: pw, Timeout: p.opts.PJLinkTimeout})
		if err == nil {
			return st, nil
		} else if !errors.Is(err, pjlink.ErrAuth) {
			break
		}
	}
	if errors.Is(err, pjlink.ErrAuth) {
		p.opts.Logger.Warn("PJLink: the projector accepted none of its school's passwords", "target", t.Address, "school_id", t.SchoolID)
	} else {
		p.opts.Logger.Debug("PJLink: no answer", "target", t.Address, "err", err)
	}
	return nil, err
}

// offer hands the health events of each polled device to the Sink, in
// order; see Round.
func (p *Poller) offer(ctx context.Context, recs []*cmdb.PollRecord) {
	if bs, ok := p.opts.Sink.(cmdb.HealthBatchSink); ok {
		p.offerBatch(ctx, bs, recs)
		return
	}
	for _, rec := range recs {
		if len(rec.Events) == 0 {
			continue
		}
		ciID := rec.Target.CIID
		if ciID == 0 {
			rec.Events, rec.HealthState = nil, nil
			continue
		}
		for _, e := range rec.Events {
			e.CIID = ciID
			if err := p.opts.Sink.HealthEvent(ctx, e); err != nil {
				p.opts.Logger.Warn("health event not delivered; offered again at the next poll", "ci_id", ciID,
					"target", rec.Target.Address, "kind", e.Kind, "err", err)
				rec.Events, rec.HealthState = nil, nil
				break
			}
		}
	}
}

// offerBatch is offer for a sink that takes a round's events at once
// (and may handle devices concurrently): a device any of whose events
// was refused keeps neither its events nor its tracker state, as in
// offer.
func (p *Poller) offerBatch(ctx context.Context, bs cmdb.HealthBatchSink, recs []*cmdb.PollRecord) {
	var events []cmdb.HealthEvent
	var owner []*cmdb.PollRecord
	for _, rec := range recs {
		if len(rec.Events) == 0 {
			continue
		}
		if rec.Target.CIID == 0 {
			rec.Events, rec.HealthState = nil, nil
			continue
		}
		for _, e := range rec.Events {
			e.CIID = rec.Target.CIID
			events = append(events, e)
			owner = append(owner, rec)
		}
	}
	if len(events) == 0 {
		return
	}
	errs := bs.HealthEvents(ctx, events)
	for i, err := range errs {
		rec := owner[i]
		if err == nil || rec.Events == nil {
			continue
		}
		p.opts.Logger.Warn("health event not delivered; offered again at the next poll", "ci_id", rec.Target.CIID,
			"target", rec.Target.Address, "kind", events[i].Kind, "err", err)
		rec.Events, rec.HealthState = nil, nil
	}
}

// Discover scans every school's discovery ranges and adds the devices
// that answer as targets, so that the next rounds poll them. Schools
// whose credential profiles cannot be read are left out (logged).
func (p *Poller) Discover(ctx context.Context) error {
	admin := cmdb.AdminScope("snmp-discovery")
	ranges, err := p.opts.Store.FindSNMPRanges(ctx, admin, 0)
	if err != nil {
		return err
	}
	for _, r := range ranges {
		c, err := p.schoolCreds(ctx, r.SchoolID)
		if err != nil {
			return err
		}
		if len(c.snmp) == 0 {
			continue
		}
		found, err := snmp.Discover(ctx, r.CIDR, c.snmp, p.opts.SNMP)
		if err != nil {
			return err
		}
		for _, res := range found {
			if !res.Reachable {
				continue
			}
			t := &cmdb.SNMPTarget{SchoolID: r.SchoolID, Address: res.Target}
			if err := p.opts.Store.CreateSNMPTarget(ctx, admin, t); err != nil && cmdb.ErrorCode(err) != cmdb.ECONFLICT {
				return err
			}
		}
	}
	return nil
}
