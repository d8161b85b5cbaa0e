package postgres

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

// syncWriter writes one run's batches through reconcile: each Apply is one
// transaction holding the CIs and the replica rows together, so a run
// that stops half way leaves whole batches behind and a re-run converges.
// A dry run does the same work and rolls every transaction back; batches
// then do not see each other's new CIs (see Apply).
type syncWriter struct {
	db    *DB
	scope cmdb.Scope
	inst  *cmdb.ConnectorInstance
	dry   bool
}

// BeginSync starts writing a run; see cmdb.ConnectorStore.
func (db *DB) BeginSync(ctx context.Context, s cmdb.Scope, inst *cmdb.ConnectorInstance, dryRun bool) (cmdb.SyncWriter, error) {
	if _, err := db.FindConnectorByID(ctx, s, inst.ID); err != nil {
		return nil, err
	}
	return &syncWriter{db: db, scope: s, inst: inst, dry: dryRun}, nil
}

// errDryRun rolls a dry run's transaction back.
var errDryRun = errors.New("dry run")

// inTx runs fn in one transaction, rolled back in a dry run. A dry run's
// batch is its own transaction too, so that a long dry run never holds
// the authority's reconcile lock between batches.
func (w *syncWriter) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	err := w.db.inTx(ctx, func(tx *sqlx.Tx) error {
		// A batch lost to a crash right after its commit is applied again
		// by the next run (its replica rows are lost with it), so the sync
		// need not wait for the WAL to reach the disk.
		if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			return err
		}
		if w.dry {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		return nil
	}
	return err
}

var obsIndexRE = regexp.MustCompile(`^observations\[(\d+)\]\.?`)

// Apply reconciles a batch; see cmdb.SyncWriter.
func (w *syncWriter) Apply(ctx context.Context, items []cmdb.SyncItem) ([]cmdb.SyncOutcome, error) {
	var out []cmdb.SyncOutcome
	err := w.inTx(ctx, func(tx *sqlx.Tx) error {
		out = make([]cmdb.SyncOutcome, len(items))
		var idx []int
		var obs []cmdb.Observation
		for i := range items {
			it := &items[i]
			if it.Err != nil {
				out[i].Err = it.Err
				continue
			}
			it.Obs.Source, it.Obs.SourceKey, it.Obs.AuthorityID = w.inst.Source(), it.NativeKey, w.inst.AuthorityID
			if err := it.Obs.Validate(); err != nil {
				out[i].Err = runError(it, err)
				continue
			}
			idx, obs = append(idx, i), append(obs, it.Obs)
		}
		if err := w.reconcile(ctx, tx, items, idx, obs, out); err != nil {
			return err
		}
		return w.writeReplica(ctx, tx, items, out)
	})
	if err != nil {
		return nil, mapErr("postgres.ApplySync", err)
	}
	return out, nil
}

// reconcile runs the observations obs (items[idx[j]]) through reconcile.
// An observation reconcile refuses (a serial on a CI this caller may not
// change, a school of another authority) is taken out and reported, and
// the rest tried again, so that one bad record never stops its batch.
func (w *syncWriter) reconcile(ctx context.Context, tx *sqlx.Tx, items []cmdb.SyncItem, idx []int, obs []cmdb.Observation, out []cmdb.SyncOutcome) error {
	for len(obs) > 0 {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT connector_batch`); err != nil {
			return err
		}
		r := &reconciler{db: w.db, tx: tx, scope: w.scope, now: w.db.now()}
		res, err := r.run(ctx, obs)
		if err == nil {
			w.db.metrics.count(obs, res)
			changes := map[int64][]cmdb.PlanChange{}
			for _, h := range r.history {
				changes[h.ci.ID] = append(changes[h.ci.ID], cmdb.PlanChange{Attr: h.attr, Old: h.old, New: h.new})
			}
			for j, item := range res.Items {
				o := &out[idx[j]]
				o.CIID, o.Outcome, o.Changes = item.CIID, item.Outcome, changes[item.CIID]
				if len(item.Duplicates) > 0 {
					o.Conflict = &cmdb.RunError{Origin: items[idx[j]].Origin, SourceKey: items[idx[j]].NativeKey,
						Field: ruleField(item.Rule), Rule: "duplicate",
						Message: "Die Kennungen stehen auch an anderen CIs (" + joinIDs(item.Duplicates) + "); ein Duplikat-Kandidat wurde angelegt."}
				}
			}
			return nil
		}
		var ae *cmdb.Error
		m := []string(nil)
		if errors.As(err, &ae) {
			m = obsIndexRE.FindStringSubmatch(ae.Field)
		}
		if m == nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT connector_batch`); err != nil {
			return err
		}
		j, _ := strconv.Atoi(m[1])
		if j >= len(obs) {
			return err
		}
		it := &items[idx[j]]
		field := ae.Field[len(m[0]):]
		e := &cmdb.RunError{Origin: it.Origin, SourceKey: it.NativeKey, Field: field, Rule: ae.Code, Message: ae.Message}
		if ae.Code == cmdb.EINVALID {
			out[idx[j]].Err = e
		} else {
			e.Rule = "conflict"
			out[idx[j]].Conflict = e
		}
		idx = append(idx[:j:j], idx[j+1:]...)
		obs = append(obs[:j:j], obs[j+1:]...)
	}
	return nil
}

func runError(it *cmdb.SyncItem, err error) *cmdb.RunError {
	return &cmdb.RunError{Origin: it.Origin, SourceKey: it.NativeKey, Field: cmdb.ErrorField(err),
		Rule: cmdb.ErrorCode(err), Message: cmdb.ErrorMessage(err)}
}

// writeReplica upserts the batch's replica rows in one statement. A record
// that was not applied keeps hash 0, so the next run tries it again. An
// applied record's row also takes the source's view of the pushable
// fields (cmdb.PushView): school, building and room by the names the
// CMDB gives the observation's school and room.
func (w *syncWriter) writeReplica(ctx context.Context, tx *sqlx.Tx, items []cmdb.SyncItem, out []cmdb.SyncOutcome) error {
	n := len(items)
	keys, ciIDs, hashes, states, errs := make([]string, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]string, 0, n), make([]string, 0, n)
	vStatus, vSchool, vRoom, vSerial, vMACs := make([]string, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]string, 0, n), make([]string, 0, n)
	for i := range items {
		o := &out[i]
		e := o.Err
		if e == nil && o.Outcome == "" && o.Conflict != nil {
			e = o.Conflict
		}
		keys = append(keys, items[i].NativeKey)
		ciIDs = append(ciIDs, o.CIID)
		if e != nil {
			hashes, states, errs = append(hashes, 0), append(states, cmdb.ReplicaError), append(errs, e.Field+": "+e.Message)
		} else {
			hashes, states, errs = append(hashes, items[i].Hash), append(states, cmdb.ReplicaActive), append(errs, "")
		}
		obs := &items[i].Obs
		vStatus, vSchool, vRoom, vSerial = append(vStatus, obs.Status), append(vSchool, obs.SchoolID), append(vRoom, obs.RoomID), append(vSerial, obs.Serial)
		vMACs = append(vMACs, viewMACs(obs.NICs))
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO connector_records (instance_id, native_key, ci_id, hash, last_seen, state, last_error,
			view_status, view_school, view_building, view_room, view_serial, view_macs, view_at)
		SELECT $1, x.k, NULLIF(x.c, 0), x.h, $2, x.s, x.e, x.vs, coalesce(sc.code, ''), coalesce(b.name, ''), coalesce(rm.name, ''),
			x.vn, string_to_array(x.vm, ','), CASE WHEN x.s = 'active' THEN $2::timestamptz END
		FROM unnest($3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::text[])
			AS x(k, c, h, s, e, vs, vsc, vr, vn, vm)
		LEFT JOIN schools sc ON sc.id = x.vsc
		LEFT JOIN rooms rm ON rm.id = x.vr
		LEFT JOIN buildings b ON b.id = rm.building_id
		ON CONFLICT (instance_id, native_key) DO UPDATE SET ci_id = coalesce(EXCLUDED.ci_id, connector_records.ci_id),
			hash = EXCLUDED.hash, last_seen = EXCLUDED.last_seen, state = EXCLUDED.state, gone_since = NULL,
			last_error = EXCLUDED.last_error,
			view_status = CASE WHEN EXCLUDED.state = 'active' THEN EXCLUDED.view_status ELSE connector_records.view_status END,
			view_school = CASE WHEN EXCLUDED.state = 'active' THEN EXCLUDED.view_school ELSE connector_records.view_school END,
			view_building = CASE WHEN EXCLUDED.state = 'active' THEN EXCLUDED.view_building ELSE connector_records.view_building END,
			view_room = CASE WHEN EXCLUDED.state = 'active' THEN EXCLUDED.view_room ELSE connector_records.view_room END,
			view_serial = CASE WHEN EXCLUDED.state = 'active' THEN EXCLUDED.view_serial ELSE connector_records.view_serial END,
			view_macs = CASE WHEN EXCLUDED.state = 'active' THEN EXCLUDED.view_macs ELSE connector_records.view_macs END,
			view_at = CASE WHEN EXCLUDED.state = 'active' THEN EXCLUDED.view_at ELSE connector_records.view_at END`,
		w.inst.ID, w.db.now(), pq.Array(keys), pq.Array(ciIDs), pq.Array(hashes), pq.Array(states), pq.Array(errs),
		pq.Array(vStatus), pq.Array(vSchool), pq.Array(vRoom), pq.Array(vSerial), pq.Array(vMACs))
	return err
}

// viewMACs is an observation's MACs as the view keeps them: lower case,
// sorted, joined by commas (no MAC has one).
func viewMACs(nics []cmdb.NIC) string {
	if len(nics) == 0 {
		return ""
	}
	macs := make([]string, 0, len(nics))
	for _, n := range nics {
		if m := strings.ToLower(strings.TrimSpace(n.MAC)); m != "" {
			macs = append(macs, m)
		}
	}
	sort.Strings(macs)
	return strings.Join(slices.Compact(macs), ",")
}

// Touch marks unchanged records seen; see cmdb.SyncWriter.
func (w *syncWriter) Touch(ctx context.Context, since, at time.Time, except []string) error {
	if w.dry {
		return nil
	}
	var err error
	if except == nil {
		_, err = w.db.db.ExecContext(ctx, `UPDATE connector_instances SET last_synced_at = $2 WHERE id = $1`, w.inst.ID, at)
	} else {
		_, err = w.db.db.ExecContext(ctx, `UPDATE connector_records SET last_seen = $2
			WHERE instance_id = $1 AND state = 'active' AND last_seen < $3 AND NOT (native_key = ANY($4))`,
			w.inst.ID, at, since, pq.Array(except))
	}
	return mapErr("postgres.TouchSync", err)
}

// Forget marks disappeared records gone; see cmdb.SyncWriter.
func (w *syncWriter) Forget(ctx context.Context, keys []string, at time.Time) error {
	if len(keys) == 0 || w.dry {
		return nil
	}
	_, err := w.db.db.ExecContext(ctx, `UPDATE connector_records SET state = 'gone', gone_since = coalesce(gone_since, $2)
		WHERE instance_id = $1 AND native_key = ANY($3)`, w.inst.ID, at, pq.Array(keys))
	return mapErr("postgres.ForgetSync", err)
}

// Retire sets the status of disappeared records' CIs through reconcile;
// see cmdb.SyncWriter.
func (w *syncWriter) Retire(ctx context.Context, recs []*cmdb.ReplicaRecord, status string) ([]cmdb.SyncOutcome, error) {
	state := cmdb.ReplicaRetired
	if status == cmdb.StatusDisposed {
		state = cmdb.ReplicaDisposed
	}
	var out []cmdb.SyncOutcome
	err := w.inTx(ctx, func(tx *sqlx.Tx) error {
		out = make([]cmdb.SyncOutcome, len(recs))
		items := make([]cmdb.SyncItem, len(recs))
		var idx []int
		var obs []cmdb.Observation
		for i, rec := range recs {
			items[i] = cmdb.SyncItem{NativeKey: rec.NativeKey, Origin: rec.NativeKey}
			if rec.CIID == 0 {
				continue
			}
			idx = append(idx, i)
			obs = append(obs, cmdb.Observation{Source: w.inst.Source(), AuthorityID: w.inst.AuthorityID, CIID: rec.CIID, Status: status})
		}
		if err := w.reconcile(ctx, tx, items, idx, obs, out); err != nil {
			return err
		}
		keys := make([]string, len(recs))
		for i, rec := range recs {
			keys[i] = rec.NativeKey
		}
		now := w.db.now()
		_, err := tx.ExecContext(ctx, `UPDATE connector_records SET state = $2, gone_since = coalesce(gone_since, $3)
			WHERE instance_id = $1 AND native_key = ANY($4)`, w.inst.ID, state, now, pq.Array(keys))
		return err
	})
	if err != nil {
		return nil, mapErr("postgres.RetireSync", err)
	}
	return out, nil
}

// Close ends the writer; every transaction has ended already.
func (w *syncWriter) Close() error { return nil }
