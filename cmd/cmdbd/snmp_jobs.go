package main

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/health"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/snmp"
)

// snmpRound polls every SNMP target once, with bounded concurrency, and
// writes the round: observations through reconcile, metrics, health
// events, and unreachable marks after missLimit misses in a row. A
// device that does not answer costs its timeout, never the round.
func snmpRound(ctx context.Context, db *postgres.DB, opts snmp.Options, missLimit, concurrency int) error {
	targets, err := db.FindSNMPTargets(ctx, cmdb.AdminScope("snmp"), 0)
	if err != nil {
		return err
	}
	var ids []int64
	creds := map[int64][]cmdb.SNMPCredential{}
	for _, t := range targets {
		if t.Kind != cmdb.TargetSNMP {
			continue
		}
		ids = append(ids, t.ID)
		if _, ok := creds[t.SchoolID]; !ok {
			if creds[t.SchoolID], err = db.PollCredentials(ctx, t.SchoolID); err != nil {
				return err
			}
		}
	}
	states, err := db.HealthStates(ctx, ids)
	if err != nil {
		return err
	}
	recs := make([]*postgres.PollRecord, 0, len(ids))
	var mu sync.Mutex
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for _, t := range targets {
		if t.Kind != cmdb.TargetSNMP || len(creds[t.SchoolID]) == 0 {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(t *cmdb.SNMPTarget) {
			defer func() { <-sem; wg.Done() }()
			rec := pollOne(ctx, t, creds[t.SchoolID], states[t.ID], opts)
			mu.Lock()
			recs = append(recs, rec)
			mu.Unlock()
		}(t)
	}
	wg.Wait()
	if len(recs) == 0 {
		return nil
	}
	return db.RecordPolls(ctx, recs, missLimit)
}

// pollOne polls a target and turns the answer into what the store keeps.
func pollOne(ctx context.Context, t *cmdb.SNMPTarget, creds []cmdb.SNMPCredential, state json.RawMessage, opts snmp.Options) *postgres.PollRecord {
	res, err := snmp.Poll(ctx, t.Address, creds, opts)
	if err != nil || res == nil {
		res = &cmdb.PollResult{Target: t.Address}
	}
	tracker := health.NewTracker(health.Options{})
	if len(state) > 0 && string(state) != "{}" {
		json.Unmarshal(state, tracker)
	}
	rec := &postgres.PollRecord{Target: t, Result: res}
	for _, e := range tracker.Observe(res, res.PolledAt) {
		rec.Events = append(rec.Events, postgres.HealthEventRecord{Kind: string(e.Kind), Subject: e.Subject, Open: e.Open, At: e.At, Detail: e.Detail})
	}
	rec.HealthState, _ = json.Marshal(tracker)
	if res.Reachable {
		o := snmp.Observation(res, t.AuthorityID, t.SchoolID)
		rec.Observation = &o
		rec.Metrics = snmp.Metrics(res)
	}
	return rec
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
		creds, err := db.PollCredentials(ctx, r.SchoolID)
		if err != nil {
			return err
		} else if len(creds) == 0 {
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
