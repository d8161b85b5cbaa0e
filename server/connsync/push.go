package connsync

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/server/cmdb"
)

// MaxPushBatch is the most changes one Push call carries. Each call has
// the plugin's call deadline (2 minutes by default), and a web API that
// allows 2 requests a second, with a read and a write per change (Snipe-IT
// by default), writes 60 changes in that time: 50 leave room for the
// lookups a connector makes first.
const MaxPushBatch = 50

// pushOrigin names push failures in the run log.
const pushOrigin = "Zurückschreiben"

// Describe starts the instance's pinned connector and asks who it is and
// what it can do (whether it can push, say).
func (e *Engine) Describe(ctx context.Context, inst *cmdb.ConnectorInstance) (connector.Description, error) {
	c, stop, err := e.o.Launch(ctx, inst)
	if err != nil {
		return connector.Description{}, err
	}
	defer stop()
	return c.Describe(ctx)
}

// pushBack writes the CMDB's changes back through the connector: every
// active record whose CI differs from the source's view (one query in the
// store) becomes a Change with the CMDB's current values, sent in batches
// of at most MaxPushBatch. What the source took becomes the view; what it
// refused stays as it was, so the next run tries it again. A dry run only
// lists the changes in its plan.
func (st *state) pushBack(ctx context.Context, c connector.Connector, cfg connector.Config) error {
	m := &st.inst.Mapping
	statusOK, locationOK := m.Allows(cmdb.AttrStatus), m.Allows(cmdb.AttrSchool)
	cands, err := st.e.o.Store.PushCandidates(ctx, st.s, st.inst.ID, statusOK, locationOK)
	if err != nil {
		return err
	}
	changes := make([]connector.Change, len(cands))
	for i, cand := range cands {
		var plan []cmdb.PlanChange
		changes[i], plan = st.change(cand, statusOK, locationOK)
		if st.run.Plan != nil {
			st.run.Plan.Add(&st.run.Plan.Pushes, cmdb.PlanCI{SourceKey: cand.NativeKey, CIID: cand.CIID, Changes: plan})
		}
	}
	if st.opts.DryRun {
		st.run.Pushed = len(changes)
		return nil
	}
	for len(changes) > 0 {
		n := min(len(changes), MaxPushBatch)
		if err := st.pushBatch(ctx, c, cfg, changes[:n], cands[:n]); err != nil {
			return err
		}
		changes, cands = changes[n:], cands[n:]
		if err := st.report(ctx, true); err != nil {
			return err
		}
	}
	return nil
}

// pushBatch sends one batch and records its outcome.
func (st *state) pushBatch(ctx context.Context, c connector.Connector, cfg connector.Config, changes []connector.Change, cands []*cmdb.PushCandidate) error {
	// The plugin options' call deadline, as a launched connector enforces
	// it too (an in-process one does not).
	cctx, cancel := context.WithTimeout(ctx, st.e.o.Plugin.WithDefaults().CallTimeout)
	res, err := c.Push(cctx, cfg, changes)
	cancel()
	if err != nil {
		if errors.Is(err, connector.ErrUnsupported) {
			return fmt.Errorf("der Connector %s kann nicht zurückschreiben; schalten Sie push für ihn aus", st.inst.Plugin)
		}
		if ctx.Err() != nil {
			return err // cancelled or the run's own deadline
		}
		return fmt.Errorf("das Zurückschreiben brach nach %d geschriebenen Änderungen ab: %s", st.run.Pushed, redact(err.Error(), cfg))
	}
	sent := make(map[string]bool, len(cands))
	for _, c := range cands {
		sent[c.NativeKey] = true
	}
	failed := map[string]bool{}
	known := true
	for _, f := range res.Failures {
		st.run.PushFailures++
		st.addEntry(&cmdb.RunError{Origin: pushOrigin, SourceKey: f.SourceKey, Field: "push", Rule: "refused",
			Message: redact(f.Message, cfg)})
		failed[f.SourceKey] = true
		known = known && sent[f.SourceKey]
	}
	if !known {
		// A failure under a key the batch did not send: which change it
		// concerns is unknown, so the whole batch is tried again.
		return nil
	}
	var done []*cmdb.PushCandidate
	for _, cand := range cands {
		if !failed[cand.NativeKey] {
			done = append(done, cand)
		}
	}
	if err := st.e.o.Store.MarkPushed(ctx, st.s, st.inst.ID, done); err != nil {
		return err
	}
	st.run.Pushed += len(done)
	return nil
}

// change builds the Change of one candidate: the fields that differ from
// the source's view, with the CMDB's values in the source's words where
// the instance's mapping names them. The serial always goes along (it
// names the device in the connector's messages); it is written only
// where it differs. It also returns the plan entry (source → CMDB).
func (st *state) change(c *cmdb.PushCandidate, statusOK, locationOK bool) (connector.Change, []cmdb.PlanChange) {
	m := &st.inst.Mapping
	now, was := &c.Now, &c.Was
	ch := connector.Change{SourceKey: c.NativeKey, CIID: strconv.FormatInt(c.CIID, 10)}
	c.Sent = map[string]bool{}
	var plan []cmdb.PlanChange
	diff := func(attr, old, new string) { plan = append(plan, cmdb.PlanChange{Attr: attr, Old: old, New: new}) }
	if now.Serial != "" {
		ch.Identifiers.Serial = now.Serial
		c.Sent["serial"] = true
		if !strings.EqualFold(now.Serial, strings.TrimSpace(was.Serial)) {
			diff(cmdb.AttrSerial, was.Serial, now.Serial)
		}
	}
	if statusOK && now.Status != "" && now.Status != was.Status {
		ch.Status = sourceWord(m.Statuses, now.Status)
		c.Sent["status"] = true
		diff(cmdb.AttrStatus, was.Status, now.Status)
	}
	if locationOK && ((now.School != "" && now.School != was.School) || (now.Room != "" && (now.Room != was.Room || now.Building != was.Building))) {
		name := c.SchoolName
		if w := sourceWord(m.Schools, now.School); w != now.School {
			name = w
		}
		ch.Location = connector.Location{SchoolCode: now.School, SchoolName: name, Building: now.Building, Room: now.Room}
		c.Sent["location"] = true
		for _, f := range [][3]string{{cmdb.AttrSchool, was.School, now.School}, {"building", was.Building, now.Building}, {cmdb.AttrRoom, was.Room, now.Room}} {
			if f[1] != f[2] {
				diff(f[0], f[1], f[2])
			}
		}
	}
	if len(now.MACs) > 0 && !overlap(now.MACs, was.MACs) {
		ch.Identifiers.MACs = now.MACs
		c.Sent["macs"] = true
		diff("macs", strings.Join(was.MACs, ", "), strings.Join(now.MACs, ", "))
	}
	return ch, plan
}

// sourceWord is the source's word for a CMDB value: the first key (in
// order) of a value mapping that maps to it, else the value itself.
func sourceWord(m map[string]string, v string) string {
	keys := make([]string, 0, len(m))
	for k, t := range m {
		if t == v {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return v
	}
	sort.Strings(keys)
	return keys[0]
}

func overlap(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// redact keeps the instance's secrets out of what a connector says: a
// connector's message goes to the run log and the server's log.
func redact(msg string, cfg connector.Config) string {
	for _, s := range cfg.Secrets {
		if v := s.Reveal(); len(v) >= 4 {
			msg = strings.ReplaceAll(msg, v, "[redacted]")
		}
	}
	return msg
}
