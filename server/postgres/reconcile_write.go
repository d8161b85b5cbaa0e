package postgres

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

// apply identifies one observation, merges it into its CI (a new one if
// none was found) and queues the writes.
func (r *reconciler) apply(o *cmdb.Observation, id *cmdb.Identity) (*cmdb.CI, cmdb.ReconcileItem, error) {
	ix := r.index[o.AuthorityID]
	at := o.ObservedAt
	if at.IsZero() || at.After(r.now) {
		at = r.now
	}
	var m cmdb.Match
	if o.CIID != 0 {
		m = cmdb.Match{CIID: o.CIID, Rule: cmdb.RuleCIID}
	} else {
		m = ix.Identify(id)
	}
	if m.ClonedUUID != "" {
		r.cloned[clonedKey{o.AuthorityID, m.ClonedUUID}] = true
	}
	if m.CIID != 0 && o.CIID == 0 {
		if c := r.byID[m.CIID]; !r.scope.CanWrite(c.AuthorityID, c.SchoolID) {
			// The device is registered where the caller may not change it.
			if o.MustCreate {
				return nil, cmdb.ReconcileItem{}, &cmdb.Error{Code: cmdb.ECONFLICT, Field: ruleField(m.Rule),
					Message: fmt.Sprintf("A device with this %s is already registered in another school.", ruleField(m.Rule))}
			}
			return nil, cmdb.ReconcileItem{}, &cmdb.Error{Code: cmdb.EFORBIDDEN, Field: ruleField(m.Rule),
				Message: "This device is registered where you may not change it."}
		}
	}
	if o.MustCreate && m.CIID != 0 {
		return nil, cmdb.ReconcileItem{}, &cmdb.Error{Code: cmdb.ECONFLICT, Field: ruleField(m.Rule),
			Message: fmt.Sprintf("CI %d already has this %s; edit it instead of creating another.", m.CIID, ruleField(m.Rule))}
	}
	item := cmdb.ReconcileItem{Rule: m.Rule, Outcome: cmdb.OutcomeUpdated}
	ci := r.byID[m.CIID]
	if m.CIID == 0 {
		r.nextTmp--
		ci = &cmdb.CI{ID: r.nextTmp, AuthorityID: o.AuthorityID, Attributes: map[string]string{},
			Provenance: map[string]cmdb.Provenance{}}
		ix.CIs[ci.ID] = ci
		r.byID[ci.ID] = ci
		r.created = append(r.created, ci)
		r.isNew[ci] = true
		item.Outcome = cmdb.OutcomeCreated
	}
	values := o.Values(r.schoolOf(o))
	for i, v := range values {
		// A junk serial or UUID is no value: it never replaces a real one.
		if (v.Attr == cmdb.AttrSerial && r.junk.JunkSerial(cmdb.NormalizeSerial(v.Value))) ||
			(v.Attr == cmdb.AttrHardwareUUID && r.junk.JunkUUID(v.Value)) {
			values[i].Value = ""
		}
	}
	if item.Outcome == cmdb.OutcomeCreated {
		// A new CI always gets a class and a status.
		if o.Class == "" {
			values[0].Value = cmdb.ClassOther
		}
		if o.Status == "" {
			values[1].Value = cmdb.DefaultStatus(o.Source)
		}
	}
	before := maps.Clone(ci.Provenance)
	changes, locks := r.db.policy.Merge(ci, cmdb.MergeInput{Source: o.Source, Now: at, Values: values,
		Clear: o.Clear, Locked: r.locks[ci.ID], LastSeen: r.seen[ci.ID]})
	// A school change without a room leaves the old room behind: clear it.
	if ci.RoomID != 0 && ci.Get(cmdb.AttrSchool) != "" && o.RoomID == 0 && changed(changes, cmdb.AttrSchool) {
		old := ci.Get(cmdb.AttrRoom)
		ci.Set(cmdb.AttrRoom, "")
		delete(ci.Provenance, cmdb.AttrRoom)
		changes = append(changes, cmdb.Change{Attr: cmdb.AttrRoom, Old: old})
	}
	for _, c := range changes {
		r.history = append(r.history, historyRow{ci: ci, attr: c.Attr, old: c.Old, new: c.New, source: o.Source, at: at})
		item.Changed = append(item.Changed, c.Attr)
	}
	// Hand edits lock what they change; creating a CI by hand does not, so
	// that agents and the poller may still fill it in.
	for _, a := range locks {
		if item.Outcome == cmdb.OutcomeCreated {
			break
		}
		r.newLocks[lockKey{ci, a}] = lockRow{value: ci.Get(a), by: o.Source, at: at}
		if !r.locks[ci.ID][a] {
			// The timeline shows a lock coming as it shows one going
			// (ReleaseLock writes "locked" → "unlocked").
			r.history = append(r.history, historyRow{ci: ci, attr: "lock." + a, old: "unlocked", new: "locked", source: o.Source, at: at})
			if r.locks[ci.ID] == nil {
				r.locks[ci.ID] = map[string]bool{}
			}
			r.locks[ci.ID][a] = true
		}
	}
	if len(changes) > 0 || !maps.Equal(before, ci.Provenance) {
		r.dirty[ci] = true
	} else if item.Outcome != cmdb.OutcomeCreated {
		item.Outcome = cmdb.OutcomeUnchanged
	}
	for _, x := range id.Identifiers(o.Source) {
		if ix.Add(ci.ID, x) {
			x.FirstSeen = at
			r.idents = append(r.idents, identRow{ci: ci, x: x})
		}
	}
	sk := sourceKey{ci, o.Source}
	if t, ok := r.sources[sk]; !ok || at.After(t) {
		r.sources[sk] = at
	}
	ix.Seen(ci.ID, o.Source, at)
	dup := func(other int64, d dupRow) {
		a, b := ci, r.byID[other]
		if a.ID > b.ID {
			a, b = b, a
		}
		r.dups[[2]*cmdb.CI{a, b}] = d
		// The id may be a temporary one of a CI created in this batch;
		// run() puts in the real one after the write.
		item.Duplicates = append(item.Duplicates, other)
	}
	for _, other := range m.Others {
		dup(other, dupRow{rule: m.Rule, detail: dupDetail(m.Rule, id, len(m.Others)+1)})
	}
	for _, c := range m.Contradicted {
		dup(c.CIID, dupRow{rule: c.Rule, detail: dupDetail(c.Rule, id, 2) +
			" Not merged: the CI holds " + c.Key + ", another live key of source " + o.Source + "."})
	}
	item.Dropped = id.Dropped
	return ci, item, nil
}

// dupDetail says in words which identifier matched several CIs.
func dupDetail(rule string, id *cmdb.Identity, n int) string {
	var what string
	switch rule {
	case cmdb.RuleSourceKey:
		what = "source key " + id.SourceKey
	case cmdb.RuleSerial:
		what = "serial " + id.Serial
	case cmdb.RuleUUID:
		what = "hardware UUID " + id.UUID
	case cmdb.RuleMAC:
		what = "MAC " + strings.Join(id.MACs, ", ")
	case cmdb.RuleHostname:
		what = "hostname " + id.Hostname + " in school " + strconv.FormatInt(id.SchoolID, 10)
	}
	return fmt.Sprintf("An observation with %s matched %d CIs; they may be one device.", what, n)
}

func changed(cs []cmdb.Change, attr string) bool {
	for _, c := range cs {
		if c.Attr == attr {
			return true
		}
	}
	return false
}

func ruleField(rule string) string {
	switch rule {
	case cmdb.RuleSerial:
		return "serial"
	case cmdb.RuleUUID:
		return "hardware_uuid"
	case cmdb.RuleMAC:
		return "nics"
	case cmdb.RuleHostname:
		return "hostname"
	}
	return "source_key"
}

// write allocates ids for new CIs and writes everything queued, one
// statement per table.
func (r *reconciler) write(ctx context.Context) error {
	if len(r.created) > 0 {
		var ids []int64
		if err := r.tx.SelectContext(ctx, &ids, `SELECT nextval('cis_id_seq') FROM generate_series(1, $1)`, len(r.created)); err != nil {
			return err
		}
		// The default name is credited to the source that created the CI.
		creator := make(map[*cmdb.CI]historyRow, len(r.created))
		for _, h := range r.history {
			if _, ok := creator[h.ci]; !ok {
				creator[h.ci] = h
			}
		}
		for i, ci := range r.created {
			ci.ID = ids[i]
			if ci.Name == "" {
				ci.Name = cmdb.DefaultName(ci)
				h := creator[ci]
				ci.Provenance[cmdb.AttrName] = cmdb.Provenance{Source: h.source, At: h.at}
				r.history = append(r.history, historyRow{ci: ci, attr: cmdb.AttrName, new: ci.Name, source: h.source, at: h.at})
			}
		}
		if err := r.insertCIs(ctx); err != nil {
			return err
		}
	}
	var upd []ciRow
	for ci := range r.dirty {
		if !r.isNew[ci] {
			upd = append(upd, fromCI(ci))
		}
	}
	if err := updateCIs(ctx, r.tx, upd, r.now); err != nil {
		return err
	}
	return r.writeRest(ctx)
}

// insertCIs inserts the CIs created in this batch, whose ids write has
// set: through COPY for a large batch (a connector's first sync), else in
// one INSERT.
func (r *reconciler) insertCIs(ctx context.Context) error {
	rows := make([]ciRow, len(r.created))
	for i, ci := range r.created {
		rows[i] = fromCI(ci)
	}
	if len(rows) >= copyMin {
		return copyRows(ctx, r.tx, "cis", []string{"id", "authority_id", "school_id", "room_id", "class", "status", "name",
			"vendor", "model", "serial", "asset_tag", "hostname", "hardware_uuid", "os_name", "os_version", "owner", "purchase_date",
			"warranty_end", "attributes", "provenance", "created_at", "updated_at"}, len(rows), func(i int) []any {
			c := &rows[i]
			return []any{c.ID, c.AuthorityID, nullIfZero(c.SchoolID), nullIfZero(c.RoomID), c.Class, c.Status, c.Name,
				c.Vendor, c.Model, c.Serial, c.AssetTag, c.Hostname, c.HardwareUUID, c.OSName, c.OSVersion, c.Owner,
				nullIfEmpty(c.PurchaseDate), nullIfEmpty(c.WarrantyEnd), jsonText(c.Attributes), jsonText(c.Provenance), r.now, r.now}
		})
	}
	_, err := r.tx.ExecContext(ctx, `INSERT INTO cis (id, authority_id, school_id, room_id, class, status, name,
		vendor, model, serial, asset_tag, hostname, hardware_uuid, os_name, os_version, owner, purchase_date,
		warranty_end, attributes, provenance, created_at, updated_at)
		SELECT id, authority_id, NULLIF(school_id, 0), NULLIF(room_id, 0), class, status, name, vendor, model, serial,
		asset_tag, hostname, hardware_uuid, os_name, os_version, owner, NULLIF(purchase_date, '')::date,
		NULLIF(warranty_end, '')::date, attributes, provenance, $2, $2
		FROM jsonb_to_recordset($1::jsonb) AS `+ciRecordset, mustJSON(rows), r.now)
	return err
}

// jsonText is a jsonb value for COPY, "{}" when empty as in MarshalJSON
// (COPY would send []byte as bytea).
func jsonText(r rawJSON) string {
	if len(r) == 0 {
		return "{}"
	}
	return string(r)
}

func (r *reconciler) writeRest(ctx context.Context) error {
	type identJSON struct {
		CIID        int64     `json:"ci_id"`
		AuthorityID int64     `json:"authority_id"`
		Kind        string    `json:"kind"`
		Value       string    `json:"value"`
		Vendor      string    `json:"vendor"`
		SchoolID    int64     `json:"school_id"`
		Source      string    `json:"source"`
		FirstSeen   time.Time `json:"first_seen"`
	}
	// A CI created in this batch has a new id, and none of its identifiers
	// is in the table yet (a source key there would have identified it),
	// so they need no ON CONFLICT and can go through COPY.
	var fresh, known []identRow
	for _, x := range r.idents {
		if r.isNew[x.ci] {
			fresh = append(fresh, x)
		} else {
			known = append(known, x)
		}
	}
	if len(fresh) < copyMin {
		known, fresh = r.idents, nil
	}
	if len(fresh) > 0 {
		if err := copyRows(ctx, r.tx, "ci_identifiers", []string{"ci_id", "authority_id", "kind", "value", "vendor", "school_id", "source", "first_seen"},
			len(fresh), func(i int) []any {
				x := &fresh[i]
				return []any{x.ci.ID, x.ci.AuthorityID, x.x.Kind, x.x.Value, x.x.Vendor, x.x.SchoolID, x.x.Source, x.x.FirstSeen}
			}); err != nil {
			return err
		}
	}
	if len(known) > 0 {
		rows := make([]identJSON, len(known))
		for i, x := range known {
			rows[i] = identJSON{x.ci.ID, x.ci.AuthorityID, x.x.Kind, x.x.Value, x.x.Vendor, x.x.SchoolID, x.x.Source, x.x.FirstSeen}
		}
		if _, err := r.tx.ExecContext(ctx, `INSERT INTO ci_identifiers (ci_id, authority_id, kind, value, vendor, school_id, source, first_seen)
			SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(ci_id bigint, authority_id bigint, kind text, value text,
			vendor text, school_id bigint, source text, first_seen timestamptz)
			ON CONFLICT DO NOTHING`, mustJSON(rows)); err != nil {
			return err
		}
	}
	hist := make([]historyEntry, len(r.history))
	for i, h := range r.history {
		hist[i] = historyEntry{h.ci.ID, h.attr, h.old, h.new, h.source, h.at}
	}
	if err := writeHistory(ctx, r.tx, hist...); err != nil {
		return err
	}
	if len(r.sources) > 0 {
		ids, srcs, ts := make([]int64, 0, len(r.sources)), make([]string, 0, len(r.sources)), make([]string, 0, len(r.sources))
		for k, t := range r.sources {
			ids, srcs, ts = append(ids, k.ci.ID), append(srcs, k.source), append(ts, t.Format(time.RFC3339Nano))
		}
		if _, err := r.tx.ExecContext(ctx, `INSERT INTO ci_sources (ci_id, source, last_seen)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[])
			ON CONFLICT (ci_id, source) DO UPDATE SET last_seen = GREATEST(ci_sources.last_seen, EXCLUDED.last_seen)`,
			pq.Array(ids), pq.Array(srcs), pq.Array(ts)); err != nil {
			return err
		}
	}
	for k, l := range r.newLocks {
		if _, err := r.tx.ExecContext(ctx, `INSERT INTO ci_locks (ci_id, attr, value, locked_by, locked_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (ci_id, attr) DO UPDATE SET value = EXCLUDED.value, locked_by = EXCLUDED.locked_by, locked_at = EXCLUDED.locked_at`,
			k.ci.ID, k.attr, l.value, l.by, l.at); err != nil {
			return err
		}
		if err := audit(ctx, r.tx, r.scope, cmdb.AuditLockSet, "ci:"+strconv.FormatInt(k.ci.ID, 10), k.ci.AuthorityID,
			map[string]any{"attribute": k.attr}, r.now); err != nil {
			return err
		}
	}
	for k, d := range r.dups {
		if _, err := r.tx.ExecContext(ctx, `INSERT INTO duplicate_candidates (authority_id, ci_a, ci_b, rule, detail, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ci_a, ci_b) WHERE status <> 'merged' DO NOTHING`,
			k[0].AuthorityID, min(k[0].ID, k[1].ID), max(k[0].ID, k[1].ID), d.rule, d.detail, r.now); err != nil {
			return err
		}
	}
	for k := range r.cloned {
		if _, err := r.tx.ExecContext(ctx, `INSERT INTO cloned_uuids (authority_id, uuid, first_seen) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, k.authority, k.uuid, r.now); err != nil {
			return err
		}
	}
	return nil
}
