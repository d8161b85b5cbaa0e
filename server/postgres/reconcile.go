package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

// authorityLockClass is the first key of the transaction advisory lock
// that serialises writers of one authority's CIs (the second key is the
// authority id). Reconcile and merge take it, so concurrent batches that
// observe the same device can never both create it.
const authorityLockClass = 7201

// Reconcile identifies, merges and writes a batch of observations in one
// transaction. See cmdb.CIStore.
func (db *DB) Reconcile(ctx context.Context, s cmdb.Scope, obs []cmdb.Observation) (*cmdb.ReconcileResult, error) {
	if len(obs) > cmdb.MaxBatch {
		return nil, cmdb.Invalid("observations", "must have at most %d entries", cmdb.MaxBatch)
	}
	for i := range obs {
		if err := obs[i].Validate(); err != nil {
			return nil, cmdb.WithFieldPrefix(err, "observations["+strconv.Itoa(i)+"]")
		}
	}
	var res *cmdb.ReconcileResult
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		res, err = db.reconcileTx(ctx, tx, s, obs)
		return err
	})
	if err != nil {
		return nil, mapErr("postgres.Reconcile", err)
	}
	return res, nil
}

// reconcileTx reconciles validated observations inside the caller's
// transaction, for writers that commit more than CIs at once.
func (db *DB) reconcileTx(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, obs []cmdb.Observation) (*cmdb.ReconcileResult, error) {
	r := &reconciler{db: db, tx: tx, scope: s, now: db.now()}
	res, err := r.run(ctx, obs)
	if err == nil {
		db.metrics.count(obs, res)
	}
	return res, err
}

// reconcileTxShared is reconcileTx for a caller that holds row locks
// ensuring that no other caller of reconcileTxShared writes the same CIs
// at the same time (the agent door locks the reporting devices). It first
// tries the authority lock in shared mode, so that such batches run side
// by side: when all they do is change attributes of CIs found by their
// identifiers, that is safe. A batch that would create a CI, add an
// identifier, record a duplicate or mark a cloned UUID can change what
// another batch identifies; it is undone and run again under the
// exclusive lock.
func (db *DB) reconcileTxShared(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, obs []cmdb.Observation) (*cmdb.ReconcileResult, error) {
	// lockAuthorities sets the savepoint with the lock.
	r := &reconciler{db: db, tx: tx, scope: s, now: db.now(), shared: true}
	res, err := r.run(ctx, obs)
	if err != errNeedsExclusive {
		if err == nil {
			db.metrics.count(obs, res)
		}
		return res, err
	}
	// Rolling back to the savepoint also gives up the shared lock.
	if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT reconcile_shared`); err != nil {
		return nil, err
	}
	r = &reconciler{db: db, tx: tx, scope: s, now: r.now}
	if res, err = r.run(ctx, obs); err == nil {
		db.metrics.count(obs, res)
	}
	return res, err
}

// errNeedsExclusive says a batch run under the shared authority lock
// needs the exclusive one.
var errNeedsExclusive = errors.New("reconcile needs the exclusive authority lock")

// needsExclusive reports whether the batch applied so far changes more
// than attributes of CIs it found.
func (r *reconciler) needsExclusive() bool {
	return len(r.created) > 0 || len(r.idents) > 0 || len(r.dups) > 0 || len(r.cloned) > 0 || len(r.newLocks) > 0
}

// reconciler holds the state of one Reconcile transaction.
type reconciler struct {
	db    *DB
	tx    *sqlx.Tx
	scope cmdb.Scope
	now   time.Time
	// shared: take the authority lock in shared mode (reconcileTxShared).
	shared bool

	rooms   map[int64]roomRef
	schools map[int64]int64 // school id → authority id
	index   map[int64]*cmdb.IdentityIndex
	locks   map[int64]map[string]bool
	seen    map[int64]map[string]time.Time
	nextTmp int64

	created  []*cmdb.CI
	isNew    map[*cmdb.CI]bool
	dirty    map[*cmdb.CI]bool
	idents   []identRow
	history  []historyRow
	sources  map[sourceKey]time.Time
	newLocks map[lockKey]lockRow
	dups     map[[2]*cmdb.CI]dupRow
	cloned   map[clonedKey]bool
	byID     map[int64]*cmdb.CI
	junk     *cmdb.Junk
}

type roomRef struct{ school, authority int64 }

type clonedKey struct {
	authority int64
	uuid      string
}

type identRow struct {
	ci *cmdb.CI
	x  cmdb.Identifier
}

type historyRow struct {
	ci       *cmdb.CI
	attr     string
	old, new string
	source   string
	at       time.Time
}

type sourceKey struct {
	ci     *cmdb.CI
	source string
}

type lockKey struct {
	ci   *cmdb.CI
	attr string
}

type lockRow struct {
	value, by string
	at        time.Time
}

type dupRow struct{ rule, detail string }

func (r *reconciler) run(ctx context.Context, obs []cmdb.Observation) (*cmdb.ReconcileResult, error) {
	r.dirty = map[*cmdb.CI]bool{}
	r.isNew = map[*cmdb.CI]bool{}
	r.sources = map[sourceKey]time.Time{}
	r.newLocks = map[lockKey]lockRow{}
	r.dups = map[[2]*cmdb.CI]dupRow{}
	r.cloned = map[clonedKey]bool{}
	r.byID = map[int64]*cmdb.CI{}

	if err := r.loadTargets(ctx, obs); err != nil {
		return nil, err
	}
	if err := r.resolveLocations(ctx, obs); err != nil {
		return nil, err
	}
	auths := map[int64]bool{}
	for i := range obs {
		auths[obs[i].AuthorityID] = true
	}
	if err := r.lockAuthorities(ctx, auths); err != nil {
		return nil, err
	}
	// Targets were read before the lock; read them again under it.
	if err := r.loadTargets(ctx, obs); err != nil {
		return nil, err
	}
	junk, err := r.db.loadJunk(ctx, r.tx)
	if err != nil {
		return nil, err
	}
	r.junk = junk
	ids := make([]cmdb.Identity, len(obs))
	for i := range obs {
		ids[i] = junk.Identity(&obs[i], r.schoolOf(&obs[i]))
	}
	if err := r.loadIndex(ctx, obs, ids, junk); err != nil {
		return nil, err
	}

	res := &cmdb.ReconcileResult{Items: make([]cmdb.ReconcileItem, len(obs))}
	refs := make([]*cmdb.CI, len(obs))
	for i := range obs {
		ci, item, err := r.apply(&obs[i], &ids[i])
		if err != nil {
			return nil, cmdb.WithFieldPrefix(err, "observations["+strconv.Itoa(i)+"]")
		}
		refs[i], res.Items[i] = ci, item
	}
	if r.shared && r.needsExclusive() {
		return nil, errNeedsExclusive
	}
	if err := r.write(ctx); err != nil {
		return nil, err
	}
	for i, ci := range refs {
		res.Items[i].CIID = ci.ID
		for j, d := range res.Items[i].Duplicates {
			res.Items[i].Duplicates[j] = r.byID[d].ID
		}
	}
	return res, nil
}

// loadTargets loads the CIs that hand edits name by id, checks they are
// visible and not merged, and fills in their authority.
func (r *reconciler) loadTargets(ctx context.Context, obs []cmdb.Observation) error {
	var want []int64
	for i := range obs {
		if obs[i].CIID != 0 {
			want = append(want, obs[i].CIID)
		}
	}
	if len(want) == 0 {
		return nil
	}
	cis, err := r.loadCIs(ctx, want)
	if err != nil {
		return err
	}
	for i := range obs {
		o := &obs[i]
		if o.CIID == 0 {
			continue
		}
		field := "observations[" + strconv.Itoa(i) + "].ci_id"
		ci := cis[o.CIID]
		if ci == nil || !r.scope.CanSee(ci.AuthorityID, ci.SchoolID) {
			return &cmdb.Error{Code: cmdb.ENOTFOUND, Field: field, Message: noSuch("CI", o.CIID)}
		} else if !r.scope.CanWrite(ci.AuthorityID, ci.SchoolID) {
			return &cmdb.Error{Code: cmdb.EFORBIDDEN, Field: field, Message: fmt.Sprintf("You may see CI %d but not change it.", o.CIID)}
		} else if ci.MergedInto != 0 {
			return &cmdb.Error{Code: cmdb.ECONFLICT, Field: field, Message: fmt.Sprintf("CI %d was merged into CI %d.", ci.ID, ci.MergedInto)}
		} else if o.AuthorityID != 0 && o.AuthorityID != ci.AuthorityID {
			return cmdb.Invalid("observations["+strconv.Itoa(i)+"].authority_id", "a CI cannot move to another authority")
		}
		o.AuthorityID = ci.AuthorityID
	}
	return nil
}

// resolveLocations checks that every school and room exists in the
// observation's authority and that the caller may write there.
func (r *reconciler) resolveLocations(ctx context.Context, obs []cmdb.Observation) error {
	r.rooms, r.schools = map[int64]roomRef{}, map[int64]int64{}
	var roomIDs, schoolIDs []int64
	for i := range obs {
		if obs[i].RoomID != 0 {
			roomIDs = append(roomIDs, obs[i].RoomID)
		}
		if obs[i].SchoolID != 0 {
			schoolIDs = append(schoolIDs, obs[i].SchoolID)
		}
	}
	if len(roomIDs) > 0 {
		rows, err := r.tx.QueryxContext(ctx, `SELECT id, school_id, authority_id FROM rooms WHERE id = ANY($1)`, pq.Array(roomIDs))
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var ref roomRef
			if err := rows.Scan(&id, &ref.school, &ref.authority); err != nil {
				rows.Close()
				return err
			}
			r.rooms[id] = ref
		}
		rows.Close()
	}
	if len(schoolIDs) > 0 {
		rows, err := r.tx.QueryxContext(ctx, `SELECT id, authority_id FROM schools WHERE id = ANY($1)`, pq.Array(schoolIDs))
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, a int64
			if err := rows.Scan(&id, &a); err != nil {
				rows.Close()
				return err
			}
			r.schools[id] = a
		}
		rows.Close()
	}
	// Authorities named by new observations must exist (admins see all ids).
	var authIDs []int64
	for i := range obs {
		if obs[i].CIID == 0 && obs[i].AuthorityID != 0 {
			authIDs = append(authIDs, obs[i].AuthorityID)
		}
	}
	authorities := map[int64]bool{}
	if len(authIDs) > 0 {
		var have []int64
		if err := r.tx.SelectContext(ctx, &have, `SELECT id FROM authorities WHERE id = ANY($1)`, pq.Array(authIDs)); err != nil {
			return err
		}
		for _, a := range have {
			authorities[a] = true
		}
	}
	for i := range obs {
		o := &obs[i]
		p := "observations[" + strconv.Itoa(i) + "]."
		if o.CIID == 0 && o.AuthorityID != 0 && !authorities[o.AuthorityID] {
			return unknownRef(p+"authority_id", "authority", o.AuthorityID)
		}
		if o.RoomID != 0 {
			ref, ok := r.rooms[o.RoomID]
			if !ok || !r.scope.CanSee(ref.authority, ref.school) {
				return unknownRef(p+"room_id", "room", o.RoomID)
			} else if ref.authority != o.AuthorityID {
				return cmdb.Invalid(p+"room_id", "room %d is not in authority %d", o.RoomID, o.AuthorityID)
			} else if o.SchoolID != 0 && o.SchoolID != ref.school {
				return cmdb.Invalid(p+"room_id", "room %d is not in school %d", o.RoomID, o.SchoolID)
			}
		}
		if o.SchoolID != 0 {
			if a, ok := r.schools[o.SchoolID]; !ok || !r.scope.CanSee(a, o.SchoolID) {
				return unknownRef(p+"school_id", "school", o.SchoolID)
			} else if a != o.AuthorityID {
				return cmdb.Invalid(p+"school_id", "school %d is not in authority %d", o.SchoolID, o.AuthorityID)
			}
		}
		if o.CIID != 0 && r.schoolOf(o) == 0 {
			// A hand edit that does not move the CI: loadTargets checked the CI.
			continue
		}
		if !r.scope.CanSee(o.AuthorityID, r.schoolOf(o)) {
			return unknownRef(p+"authority_id", "authority", o.AuthorityID)
		} else if !r.scope.CanWrite(o.AuthorityID, r.schoolOf(o)) {
			return &cmdb.Error{Code: cmdb.EFORBIDDEN, Field: p + "authority_id", Message: "You may not change devices here."}
		} else if o.CIID == 0 && !o.MustCreate && !r.scope.CanSeeAuthority(o.AuthorityID) {
			// Sources (agent, poller, connectors) speak for a whole authority.
			return &cmdb.Error{Code: cmdb.EFORBIDDEN, Field: p + "source", Message: "Only authority IT and integrations may send observations."}
		}
	}
	return nil
}

func (r *reconciler) schoolOf(o *cmdb.Observation) int64 {
	if o.RoomID != 0 {
		return r.rooms[o.RoomID].school
	}
	return o.SchoolID
}

func (r *reconciler) lockAuthorities(ctx context.Context, auths map[int64]bool) error {
	ids := make([]int64, 0, len(auths))
	for a := range auths {
		ids = append(ids, a)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	// One round trip for all: the keys are numbers, written out, so that
	// the statements go as one simple query.
	var q strings.Builder
	if r.shared {
		q.WriteString("SAVEPOINT reconcile_shared;")
	}
	lock := "pg_advisory_xact_lock"
	if r.shared {
		lock = "pg_advisory_xact_lock_shared"
	}
	for _, a := range ids {
		fmt.Fprintf(&q, "SELECT %s(%d, %d);", lock, authorityLockClass, int32(a))
	}
	_, err := r.tx.ExecContext(ctx, q.String())
	return err
}

// junkTTL is how long the junk identifier list is cached: it is data an
// operator changes rarely, by hand, and every batch needs it.
const junkTTL = time.Minute

// junkCache holds the junk identifier list last read.
type junkCache struct {
	mu   sync.Mutex
	junk *cmdb.Junk // read-only once loaded
	at   time.Time
}

// loadJunk returns the junk identifier list, read at most junkTTL ago.
func (db *DB) loadJunk(ctx context.Context, q sqlx.QueryerContext) (*cmdb.Junk, error) {
	db.junk.mu.Lock()
	j, at := db.junk.junk, db.junk.at
	db.junk.mu.Unlock()
	if j != nil && time.Since(at) < junkTTL {
		return j, nil
	}
	j, err := readJunk(ctx, q)
	if err != nil {
		return nil, err
	}
	db.junk.mu.Lock()
	db.junk.junk, db.junk.at = j, time.Now()
	db.junk.mu.Unlock()
	return j, nil
}

// readJunk reads the junk identifier list.
func readJunk(ctx context.Context, q sqlx.QueryerContext) (*cmdb.Junk, error) {
	rows, err := q.QueryxContext(ctx, `SELECT kind, value FROM junk_identifiers`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	j := &cmdb.Junk{Serials: map[string]bool{}, UUIDs: map[string]bool{}}
	for rows.Next() {
		var kind, v string
		if err := rows.Scan(&kind, &v); err != nil {
			return nil, err
		}
		if kind == cmdb.IdentSerial {
			j.AddSerial(v)
		} else if u, ok := cmdb.NormalizeUUID(v); ok {
			j.UUIDs[u] = true
		}
	}
	return j, rows.Err()
}

// loadIndex reads every CI that shares an identifier with the batch, with
// its locks and per-source last-seen times, into one index per authority.
func (r *reconciler) loadIndex(ctx context.Context, obs []cmdb.Observation, ids []cmdb.Identity, junk *cmdb.Junk) error {
	r.index = map[int64]*cmdb.IdentityIndex{}
	var auth []int64
	var kinds, values, uuids []string
	for i := range obs {
		a := obs[i].AuthorityID
		if r.index[a] == nil {
			r.index[a] = cmdb.NewIdentityIndex(junk)
		}
		for _, x := range ids[i].Identifiers("") {
			if x.Kind == cmdb.IdentAssetTag {
				continue
			}
			auth, kinds, values = append(auth, a), append(kinds, x.Kind), append(values, x.Value)
			if x.Kind == cmdb.IdentUUID {
				uuids = append(uuids, x.Value)
			}
		}
	}
	type hit struct {
		CIID        int64  `db:"ci_id"`
		AuthorityID int64  `db:"authority_id"`
		Kind        string `db:"kind"`
		Value       string `db:"value"`
		SchoolID    int64  `db:"school_id"`
	}
	var hits []hit
	if len(auth) > 0 {
		// LATERAL with OFFSET 0 keeps the planner on the index: one probe per
		// key. A plain join makes it read every identifier of the authority.
		err := sqlx.SelectContext(ctx, r.tx, &hits, `SELECT DISTINCT i.ci_id, i.authority_id, i.kind, i.value, i.school_id
			FROM unnest($1::bigint[], $2::text[], $3::text[]) AS k(a, kind, value)
			CROSS JOIN LATERAL (SELECT i.ci_id, i.authority_id, i.kind, i.value, i.school_id FROM ci_identifiers i
				WHERE i.authority_id = k.a AND i.kind = k.kind AND i.value = k.value OFFSET 0) i`,
			pq.Array(auth), pq.Array(kinds), pq.Array(values))
		if err != nil {
			return err
		}
	}
	want := make([]int64, 0, len(hits))
	for _, h := range hits {
		want = append(want, h.CIID)
	}
	for i := range obs {
		if obs[i].CIID != 0 {
			want = append(want, obs[i].CIID)
		}
	}
	cis, err := r.loadCIs(ctx, want)
	if err != nil {
		return err
	}
	for id, ci := range cis {
		r.byID[id] = ci
		r.index[ci.AuthorityID].CIs[id] = ci
	}
	for _, h := range hits {
		r.index[h.AuthorityID].Add(h.CIID, cmdb.Identifier{Kind: h.Kind, Value: h.Value, SchoolID: h.SchoolID})
	}
	if err := r.loadLocksAndSeen(ctx, want, uuids); err != nil {
		return err
	}
	// Identify tells live source keys from quiet ones by the last-seen times.
	for _, ix := range r.index {
		ix.Now, ix.StaleAfter = r.now, r.db.policy.StaleAfter
	}
	for id, m := range r.seen {
		if ci := r.byID[id]; ci != nil {
			for src, t := range m {
				r.index[ci.AuthorityID].Seen(id, src, t)
			}
		}
	}
	return nil
}

func (r *reconciler) loadCIs(ctx context.Context, ids []int64) (map[int64]*cmdb.CI, error) {
	out := map[int64]*cmdb.CI{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []ciRow
	if err := sqlx.SelectContext(ctx, r.tx, &rows, `SELECT `+ciColumns+` FROM cis c WHERE c.id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, err
	}
	for i := range rows {
		ci, err := rows[i].toCI()
		if err != nil {
			return nil, err
		}
		out[ci.ID] = ci
	}
	return out, nil
}

// loadLocksAndSeen reads, in one round trip, the locks, per-source
// last-seen times and source keys of the CIs ids and which of uuids are
// known clones.
func (r *reconciler) loadLocksAndSeen(ctx context.Context, ids []int64, uuids []string) error {
	r.locks, r.seen = map[int64]map[string]bool{}, map[int64]map[string]time.Time{}
	if len(ids) == 0 && len(uuids) == 0 {
		return nil
	}
	rows, err := r.tx.QueryxContext(ctx, `SELECT 'lock' AS what, ci_id AS id, attr AS name, NULL::timestamptz AS at FROM ci_locks WHERE ci_id = ANY($1)
		UNION ALL SELECT 'seen', ci_id, source, last_seen FROM ci_sources WHERE ci_id = ANY($1)
		UNION ALL SELECT 'cloned', authority_id, uuid, NULL FROM cloned_uuids WHERE uuid = ANY($2)
		UNION ALL SELECT 'key', ci_id, value, NULL FROM ci_identifiers WHERE ci_id = ANY($1) AND kind = 'source_key'`,
		pq.Array(ids), pq.Array(uuids))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var what, name string
		var id int64
		var at *time.Time
		if err := rows.Scan(&what, &id, &name, &at); err != nil {
			return err
		}
		switch what {
		case "lock":
			if r.locks[id] == nil {
				r.locks[id] = map[string]bool{}
			}
			r.locks[id][name] = true
		case "seen":
			if r.seen[id] == nil {
				r.seen[id] = map[string]time.Time{}
			}
			r.seen[id][name] = *at
		case "cloned":
			if ix := r.index[id]; ix != nil {
				ix.Cloned[name] = true
			}
		case "key":
			// Every source key of a candidate, not only those the batch
			// names: a source's other live key contradicts a match.
			if ci := r.byID[id]; ci != nil {
				r.index[ci.AuthorityID].Add(id, cmdb.Identifier{Kind: cmdb.IdentSourceKey, Value: name})
			}
		}
	}
	return rows.Err()
}
