package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/health"
	"github.com/schulit/cmdb/server/pjlink"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/snmp"
)

// poller runs polling rounds over the targets in the store: SNMP targets
// with the SNMP credential profiles of their school, PJLink projectors
// with its PJLink passwords.
type poller struct {
	DB   *postgres.DB
	SNMP snmp.Options
	// PJLinkTimeout bounds one PJLink query; 0: pjlink.DefaultTimeout.
	PJLinkTimeout time.Duration
	// MissLimit: polls in a row a target may miss before it is marked
	// unreachable.
	MissLimit int
	// Concurrency bounds the targets polled at once.
	Concurrency int
	// Sink, when not nil, is offered every health event before it is
	// stored (see offer).
	Sink health.Sink
	// Logger gets warnings about refused passwords and failed
	// deliveries; nil: none. Secrets are never passed to it.
	Logger *slog.Logger
}

// poller returns the server's poller: its options, and in the demo the
// simulated devices.
func (m *Main) poller() *poller {
	opts := snmp.Options{Logger: m.log}
	if m.demoSim != nil {
		opts.Dial = m.demoSim.Dial
	}
	misses := m.Config.SNMPMisses
	if misses <= 0 {
		misses = 3
	}
	return &poller{DB: m.db, SNMP: opts, MissLimit: misses, Concurrency: 64, Logger: m.log}
}

// snmpRound polls every target once; see poller.round.
func snmpRound(ctx context.Context, db *postgres.DB, opts snmp.Options, missLimit, concurrency int) error {
	p := &poller{DB: db, SNMP: opts, MissLimit: missLimit, Concurrency: concurrency, Logger: opts.Logger}
	return p.round(ctx)
}

// schoolCreds are a school's credential profiles, split by protocol, in
// the order they are tried.
type schoolCreds struct {
	snmp   []cmdb.SNMPCredential
	pjlink []string // passwords
}

// round polls every target once, with bounded concurrency, and writes
// the round: observations through reconcile, metrics, health events, and
// unreachable marks after MissLimit misses in a row. A device that does
// not answer costs its timeout, never the round. SNMP targets of a school
// without SNMP credential profiles are skipped; PJLink targets are polled
// without a password when their school has none.
func (p *poller) round(ctx context.Context) error {
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	targets, err := p.DB.FindSNMPTargets(ctx, cmdb.AdminScope("snmp"), 0)
	if err != nil {
		return err
	}
	creds := map[int64]*schoolCreds{}
	var todo []*cmdb.SNMPTarget
	for _, t := range targets {
		c, ok := creds[t.SchoolID]
		if !ok {
			all, err := p.DB.PollCredentials(ctx, t.SchoolID)
			if err != nil {
				return err
			}
			c = splitCreds(all)
			creds[t.SchoolID] = c
		}
		if t.Kind == cmdb.TargetPJLink || t.Kind == cmdb.TargetSNMP && len(c.snmp) > 0 {
			todo = append(todo, t)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	ids := make([]int64, len(todo))
	for i, t := range todo {
		ids[i] = t.ID
	}
	states, err := p.DB.HealthStates(ctx, ids)
	if err != nil {
		return err
	}
	recs := make([]*postgres.PollRecord, len(todo))
	sem := make(chan struct{}, max(p.Concurrency, 1))
	var wg sync.WaitGroup
	for i, t := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			recs[i] = p.poll(ctx, t, creds[t.SchoolID], states[t.ID])
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.Sink != nil {
		p.offer(ctx, recs)
	}
	return p.DB.RecordPolls(ctx, recs, p.MissLimit)
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
func (p *poller) poll(ctx context.Context, t *cmdb.SNMPTarget, c *schoolCreds, state json.RawMessage) *postgres.PollRecord {
	rec := &postgres.PollRecord{Target: t}
	now := time.Now().UTC()
	if p.SNMP.Now != nil {
		now = p.SNMP.Now().UTC()
	}
	if t.Kind == cmdb.TargetPJLink {
		st, err := p.queryPJLink(ctx, t, c.pjlink)
		if err != nil {
			rec.Result = &cmdb.PollResult{Target: t.Address, PolledAt: now}
		} else {
			rec.Result = pjlink.Result(st, t.Address, now)
			o := pjlink.Observation(st, pjlinkKey(t), t.AuthorityID, t.SchoolID, now)
			rec.Observation, rec.Metrics = &o, pjlink.Metrics(st)
		}
	} else {
		res, err := snmp.Poll(ctx, t.Address, c.snmp, p.SNMP)
		if err != nil || res == nil {
			res = &cmdb.PollResult{Target: t.Address, PolledAt: now}
		}
		rec.Result = res
		if res.Reachable {
			o := snmp.Observation(res, t.AuthorityID, t.SchoolID)
			rec.Observation, rec.Metrics = &o, snmp.Metrics(res)
		}
	}
	tracker := health.NewTracker(health.Options{})
	if len(state) > 0 && string(state) != "{}" {
		json.Unmarshal(state, tracker)
	}
	for _, e := range tracker.Observe(rec.Result, rec.Result.PolledAt) {
		rec.Events = append(rec.Events, postgres.HealthEventRecord{Kind: string(e.Kind), Subject: e.Subject, Open: e.Open, At: e.At, Detail: e.Detail})
	}
	rec.HealthState, _ = json.Marshal(tracker)
	return rec
}

// pjlinkKey is the poller's own key for the projector behind a PJLink
// target: PJLink tells no MAC and, before class 2, no serial.
func pjlinkKey(t *cmdb.SNMPTarget) string { return "pjlink-target:" + strconv.FormatInt(t.ID, 10) }

// queryPJLink reads a projector, trying the school's passwords in order
// until one is accepted (a projector without a password accepts any; with
// none configured, none is sent).
func (p *poller) queryPJLink(ctx context.Context, t *cmdb.SNMPTarget, passwords []string) (*pjlink.Status, error) {
	if len(passwords) == 0 {
		passwords = []string{""}
	}
	var err error
	for _, pw := range passwords {
		var st *pjlink.Status
		st, err = pjlink.Query(ctx, t.Address, pjlink.Options{Password: pw, Timeout: p.PJLinkTimeout})
		if err == nil {
			return st, nil
		} else if !errors.Is(err, pjlink.ErrAuth) {
			break
		}
	}
	if errors.Is(err, pjlink.ErrAuth) {
		p.Logger.Warn("PJLink: the projector accepted none of its school's passwords", "target", t.Address, "school_id", t.SchoolID)
	} else {
		p.Logger.Debug("PJLink: no answer", "target", t.Address, "err", err)
	}
	return nil, err
}

// offer hands the health events of each polled device to the Sink, in
// order. Events are edges: one the Sink did not take would never come
// again. So when the Sink fails on any event of a device, neither this
// poll's tracker state nor its events are stored for that device (its
// observation and metrics are): the next poll detects the same edges and
// offers them all again, and the CI's event list stays in step with what
// the Sink took. A Sink may therefore see an event again after a failure
// and should treat it as an update. Events of a device that has no CI yet
// (its first answer) are held back the same way, until the next poll
// knows the CI.
func (p *poller) offer(ctx context.Context, recs []*postgres.PollRecord) {
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
			ev := health.Event{Kind: health.Kind(e.Kind), Subject: e.Subject, Open: e.Open, At: e.At, Detail: e.Detail}
			if err := p.Sink.HealthEvent(ctx, ciID, ev); err != nil {
				p.Logger.Warn("health event not delivered; offered again at the next poll", "ci_id", ciID,
					"target", rec.Target.Address, "kind", e.Kind, "err", err)
				rec.Events, rec.HealthState = nil, nil
				break
			}
		}
	}
}

// snmpDiscovery scans every school's discovery ranges and adds the
// devices that answer as targets, so that the next rounds poll them.
func snmpDiscovery(ctx context.Context, db *postgres.DB, opts snmp.Options) error {
	admin := cmdb.AdminScope("snmp-discovery")
	ranges, err := db.FindSNMPRanges(ctx, admin, 0)
	if err != nil {
		return err
	}
	for _, r := range ranges {
		all, err := db.PollCredentials(ctx, r.SchoolID)
		if err != nil {
			return err
		}
		creds := splitCreds(all).snmp
		if len(creds) == 0 {
			continue
		}
		found, err := snmp.Discover(ctx, r.CIDR, creds, opts)
		if err != nil {
			return err
		}
		for _, res := range found {
			if !res.Reachable {
				continue
			}
			t := &cmdb.SNMPTarget{SchoolID: r.SchoolID, Address: res.Target}
			if err := db.CreateSNMPTarget(ctx, admin, t); err != nil && cmdb.ErrorCode(err) != cmdb.ECONFLICT {
				return err
			}
		}
	}
	return nil
}
