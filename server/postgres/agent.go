package postgres

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/agentproto"
	"github.com/schulit/cmdb/server/cmdb"
)

var _ cmdb.AgentStore = (*DB)(nil)

// Enrolment token bounds.
const (
	MaxEnrolmentTTL     = 366 * 24 * time.Hour
	DefaultEnrolmentTTL = 30 * 24 * time.Hour
	defaultInterval     = 3600
)

// CreateEnrolmentToken makes a per-school enrolment token (school IT and
// authority IT of that school, admins) and returns it once.
func (db *DB) CreateEnrolmentToken(ctx context.Context, s cmdb.Scope, t *cmdb.EnrolmentToken) (cmdb.Secret, error) {
	if err := cmdb.ValidateName("name", t.Name); err != nil {
		return "", err
	}
	sch, err := db.FindSchoolByID(ctx, s, t.SchoolID)
	if err != nil {
		return "", asRef(err, "school_id", "school", t.SchoolID)
	} else if !s.CanWrite(sch.AuthorityID, sch.ID) {
		return "", cmdb.Errorf(cmdb.EFORBIDDEN, "You may not enrol devices in this school.")
	}
	now := db.now()
	if t.MaxUses == 0 {
		t.MaxUses = 500
	} else if t.MaxUses < 1 || t.MaxUses > 100000 {
		return "", cmdb.Invalid("max_uses", "must be between 1 and 100000")
	}
	if t.ExpiresAt.IsZero() {
		t.ExpiresAt = now.Add(DefaultEnrolmentTTL)
	} else if !t.ExpiresAt.After(now) || t.ExpiresAt.Sub(now) > MaxEnrolmentTTL {
		return "", cmdb.Invalid("expires_at", "must lie in the future and at most a year ahead")
	}
	tok, hash := newSecret("cmdbe_")
	t.AuthorityID, t.CreatedBy, t.CreatedAt = sch.AuthorityID, s.Subject, now
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &t.ID, `INSERT INTO enrolment_tokens (authority_id, school_id, name, token_hash, max_uses,
			created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			t.AuthorityID, t.SchoolID, t.Name, hash, t.MaxUses, t.CreatedBy, now, t.ExpiresAt); err != nil {
			return err
		}
		return audit(ctx, tx, s, "enrolment_token_created", "enrolment_token:"+itoa(t.ID), t.AuthorityID,
			map[string]any{"school_id": t.SchoolID, "max_uses": t.MaxUses}, now)
	})
	if err != nil {
		return "", mapErr("postgres.CreateEnrolmentToken", err)
	}
	return tok, nil
}

const enrolmentColumns = `e.id, e.authority_id AS authorityid, e.school_id AS schoolid, e.name, e.max_uses AS maxuses, e.uses,
	e.created_by AS createdby, e.created_at AS createdat, e.expires_at AS expiresat, e.revoked_at AS revokedat`

// FindEnrolmentTokens lists the enrolment tokens of visible, changeable
// schools (one school when schoolID is not 0).
func (db *DB) FindEnrolmentTokens(ctx context.Context, s cmdb.Scope, schoolID int64) ([]*cmdb.EnrolmentToken, error) {
	var w where
	if !s.Admin {
		w.add("(e.authority_id = ANY(?) OR e.school_id = ANY(?))", pq.Array(s.Authorities), pq.Array(s.Schools))
	}
	if schoolID != 0 {
		w.add("e.school_id = ?", schoolID)
	}
	out := []*cmdb.EnrolmentToken{}
	err := db.db.SelectContext(ctx, &out, rebind(`SELECT `+enrolmentColumns+` FROM enrolment_tokens e WHERE `+w.String()+` ORDER BY e.id`), w.args...)
	return out, mapErr("postgres.FindEnrolmentTokens", err)
}

// RevokeEnrolmentToken stops a token from enrolling more devices.
func (db *DB) RevokeEnrolmentToken(ctx context.Context, s cmdb.Scope, id int64) error {
	ts, err := db.FindEnrolmentTokens(ctx, s, 0)
	if err != nil {
		return err
	}
	var t *cmdb.EnrolmentToken
	for _, x := range ts {
		if x.ID == id {
			t = x
		}
	}
	if t == nil {
		return notFound("enrolment token", id)
	}
	return mapErr("postgres.RevokeEnrolmentToken", db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE enrolment_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`, id, db.now()); err != nil {
			return err
		}
		return audit(ctx, tx, s, "enrolment_token_revoked", "enrolment_token:"+itoa(id), t.AuthorityID, nil, db.now())
	}))
}

func newDeviceID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

var errBadEnrolmentToken = cmdb.Errorf(cmdb.EUNAUTHORIZED, "Invalid, expired, revoked or used-up enrolment token.")

// CheckEnrolmentToken tells whether a token may enrol now, without using
// it up. See cmdb.AgentStore.
func (db *DB) CheckEnrolmentToken(ctx context.Context, token cmdb.Secret) error {
	var ok bool
	err := db.db.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM enrolment_tokens WHERE token_hash = $1
		AND revoked_at IS NULL AND expires_at > $2 AND uses < max_uses)`, secretHash(token.Reveal()), db.now())
	if err != nil {
		return mapErr("postgres.CheckEnrolmentToken", err)
	} else if !ok {
		return errBadEnrolmentToken
	}
	return nil
}

// Enroll trades an enrolment token for a device credential. See cmdb.AgentStore.
func (db *DB) Enroll(ctx context.Context, token cmdb.Secret, req *cmdb.EnrollRequest, meta cmdb.RequestMeta) (*cmdb.EnrollResponse, error) {
	unauth := errBadEnrolmentToken
	nics := req.NICs
	sys := req.System
	id := newDeviceID()
	item := &cmdb.ReportItem{Device: &cmdb.Device{ID: id}, Report: &cmdb.Report{}, System: &sys, Network: &nics}
	if err := item.Validate(); err != nil {
		// Name the fields as the enrol request has them.
		if e, ok := err.(*cmdb.Error); ok {
			c := *e
			c.Field = strings.NewReplacer("sections.system.", "system.", "sections.network", "nics").Replace(c.Field)
			return nil, &c
		}
		return nil, err
	}
	cred, credHash := newSecret("cmdbd_")
	var resp *cmdb.EnrollResponse
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var t struct {
			ID          int64      `db:"id"`
			AuthorityID int64      `db:"authority_id"`
			SchoolID    int64      `db:"school_id"`
			Uses        int        `db:"uses"`
			MaxUses     int        `db:"max_uses"`
			ExpiresAt   time.Time  `db:"expires_at"`
			RevokedAt   *time.Time `db:"revoked_at"`
		}
		err := tx.GetContext(ctx, &t, `SELECT id, authority_id, school_id, uses, max_uses, expires_at, revoked_at
			FROM enrolment_tokens WHERE token_hash = $1 FOR UPDATE`, secretHash(token.Reveal()))
		now := db.now()
		if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND || (err == nil && (t.RevokedAt != nil || !now.Before(t.ExpiresAt) || t.Uses >= t.MaxUses)) {
			return unauth
		} else if err != nil {
			return err
		}
		item.Device.AuthorityID, item.Device.SchoolID = t.AuthorityID, t.SchoolID
		o := item.Observation(now)
		if err := o.Validate(); err != nil {
			return cmdb.WithFieldPrefix(err, "system")
		}
		scope := cmdb.Scope{Subject: "enrolment_token:" + itoa(t.ID), Authorities: []int64{t.AuthorityID}, IP: meta.IP}
		res, err := db.reconcileTx(ctx, tx, scope, []cmdb.Observation{o})
		if err != nil {
			return err
		}
		ci := res.Items[0].CIID
		if _, err := tx.ExecContext(ctx, `INSERT INTO devices (id, authority_id, school_id, ci_id, credential_hash, enrolment_token, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, t.AuthorityID, t.SchoolID, ci, credHash, t.ID, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE enrolment_tokens SET uses = uses + 1 WHERE id = $1`, t.ID); err != nil {
			return err
		}
		resp = &cmdb.EnrollResponse{DeviceID: id, Credential: agentproto.Secret(cred.Reveal()), CIID: ci, IntervalSeconds: defaultInterval}
		return audit(ctx, tx, scope, "device_enrolled", "device:"+id, t.AuthorityID,
			map[string]any{"ci_id": ci, "hostname": sys.Hostname, "rule": res.Items[0].Rule}, now)
	})
	if err != nil {
		return nil, mapErr("postgres.Enroll", err)
	}
	return resp, nil
}

type deviceRow struct {
	ID          string  `db:"id"`
	AuthorityID int64   `db:"authority_id"`
	SchoolID    int64   `db:"school_id"`
	CIID        int64   `db:"ci_id"`
	LastSeq     int64   `db:"last_seq"`
	Hashes      rawJSON `db:"hashes"`
	Interval    int     `db:"interval_seconds"`
}

// device is the row as a cmdb.Device; an error when its stored section
// hashes are not the JSON object the server wrote.
func (r *deviceRow) device() (*cmdb.Device, error) {
	d := &cmdb.Device{ID: r.ID, AuthorityID: r.AuthorityID, SchoolID: r.SchoolID, CIID: r.CIID, LastSeq: uint64(r.LastSeq),
		IntervalSeconds: r.Interval}
	var err error
	d.Hashes, err = storedHashes(r.ID, r.Hashes)
	return d, err
}

// storedHashes decodes a device's stored section hashes (NULL is none).
func storedHashes(deviceID string, raw rawJSON) (map[string]string, error) {
	h := map[string]string{}
	if len(raw) == 0 {
		return h, nil
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, fmt.Errorf("device %s: stored section hashes: %w", deviceID, err)
	}
	return h, nil
}

const deviceColumns = `id, authority_id, school_id, ci_id, last_seq, hashes, interval_seconds`

// DeviceByCredential returns the device a credential belongs to.
func (db *DB) DeviceByCredential(ctx context.Context, credential string) (*cmdb.Device, error) {
	var r deviceRow
	err := db.db.GetContext(ctx, &r, `SELECT `+deviceColumns+` FROM devices WHERE credential_hash = $1 AND revoked_at IS NULL`,
		secretHash(credential))
	if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
		return nil, cmdb.Errorf(cmdb.EUNAUTHORIZED, "Unknown or revoked device credential.")
	} else if err != nil {
		return nil, mapErr("postgres.DeviceByCredential", err)
	}
	d, err := r.device()
	if err != nil {
		return nil, mapErr("postgres.DeviceByCredential", err)
	}
	return d, nil
}

// ApplyReports applies validated reports in one transaction. Reports a
// device already had acknowledged are answered again, not applied.
func (db *DB) ApplyReports(ctx context.Context, items []*cmdb.ReportItem) ([]cmdb.ReportResult, error) {
	if heartbeatsOnly(items) {
		for attempt := 0; ; attempt++ {
			res, err := db.applyHeartbeats(ctx, items)
			// A deadlock with a batch holding the same devices is retried,
			// as inTx does.
			var pe *pq.Error
			if err != nil && attempt < 4 && errors.As(err, &pe) && pe.Code == "40P01" {
				continue
			}
			return res, mapErr("postgres.ApplyReports", err)
		}
	}
	var results []cmdb.ReportResult
	var learned map[swKey]int64
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		learned = map[swKey]int64{}
		results, err = db.applyReports(ctx, tx, items, learned)
		return err
	})
	if err != nil {
		return nil, mapErr("postgres.ApplyReports", err)
	}
	db.software.add(learned)
	return results, nil
}

// heartbeatsOnly reports whether items are heartbeats (no sections) of
// distinct devices.
func heartbeatsOnly(items []*cmdb.ReportItem) bool {
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		if len(it.Report.Sections) > 0 || seen[it.Device.ID] {
			return false
		}
		seen[it.Device.ID] = true
	}
	return true
}

// heartbeatStep is how stale a CI's last-seen mark of the agent source
// may get before a heartbeat renews it. Staleness counts in days, so
// renewing it on every heartbeat would only write rows.
const heartbeatStep = 10 * time.Minute

// renewAgentSeen is the part of a WITH clause that renews the agent
// last-seen mark of the CIs in c(ci_id) that is older than heartbeatStep,
// and makes the mark where a CI has none: now and cutoff name the
// statement's parameters for the time and the time less heartbeatStep.
func renewAgentSeen(now, cutoff string) string {
	return `renew AS (UPDATE ci_sources s SET last_seen = ` + now + ` FROM c
			WHERE s.ci_id = c.ci_id AND s.source = 'agent' AND s.last_seen < ` + cutoff + `),
		missing AS (INSERT INTO ci_sources (ci_id, source, last_seen)
			SELECT ci_id, 'agent', ` + now + ` FROM c WHERE NOT EXISTS (SELECT 1 FROM ci_sources s WHERE s.ci_id = c.ci_id AND s.source = 'agent')
			ON CONFLICT DO NOTHING)`
}

// applyHeartbeats is the fast path of ApplyReports for a batch of
// heartbeats of distinct devices, most of the traffic: one statement
// that moves each device's seq on, without row locks taken beforehand
// and without the reconcile's per-authority lock.
func (db *DB) applyHeartbeats(ctx context.Context, items []*cmdb.ReportItem) ([]cmdb.ReportResult, error) {
	now := db.now()
	ids := make([]string, len(items))
	seqs := make([]int64, len(items))
	for i, it := range items {
		ids[i], seqs[i] = it.Device.ID, int64(it.Report.Seq)
	}
	var rows []struct {
		ID      string  `db:"id"`
		CIID    int64   `db:"ci_id"`
		LastSeq int64   `db:"last_seq"`
		Hashes  rawJSON `db:"hashes"`
		Applied bool    `db:"applied"`
	}
	// The updated rows say which heartbeats were applied; the others (a
	// seq already acknowledged) are answered with the device's seq. The
	// main query sees the devices as they were before the update.
	err := db.db.SelectContext(ctx, &rows, `WITH x AS (SELECT * FROM unnest($1::uuid[], $2::bigint[]) AS x(id, seq)),
		u AS (UPDATE devices d SET last_seq = x.seq, last_report_at = $3 FROM x
			WHERE d.id = x.id AND d.last_seq < x.seq RETURNING d.id, d.ci_id),
		c AS (SELECT DISTINCT ci_id FROM u),
		`+renewAgentSeen("$3", "$4")+`
		SELECT d.id, d.ci_id, CASE WHEN u.id IS NULL THEN d.last_seq ELSE x.seq END AS last_seq, d.hashes, u.id IS NOT NULL AS applied
		FROM x JOIN devices d ON d.id = x.id LEFT JOIN u ON u.id = x.id`,
		pq.Array(ids), pq.Array(seqs), now, now.Add(-heartbeatStep))
	if err != nil {
		return nil, err
	}
	byID := make(map[string]int, len(rows))
	for i := range rows {
		byID[rows[i].ID] = i
	}
	results := make([]cmdb.ReportResult, len(items))
	for i, it := range items {
		k, ok := byID[it.Device.ID]
		if !ok {
			return nil, cmdb.Errorf(cmdb.EUNAUTHORIZED, "Unknown device %s.", it.Device.ID)
		}
		r := &rows[k]
		if !r.Applied {
			results[i] = cmdb.ReportResult{Ack: uint64(r.LastSeq)}
			continue
		}
		// The statement moved the seq on; the hashes kept decide the rest.
		hashes, err := storedHashes(r.ID, r.Hashes)
		if err != nil {
			return nil, err
		}
		kept := cmdb.Device{Hashes: hashes}
		results[i] = cmdb.ReportResult{Ack: it.Report.Seq, Applied: true, WantFull: kept.LacksSection(it.Report)}
		it.Device.CIID = r.CIID
	}
	return results, nil
}

func (db *DB) applyReports(ctx context.Context, tx *sqlx.Tx, items []*cmdb.ReportItem, learned map[swKey]int64) ([]cmdb.ReportResult, error) {
	now := db.now()
	ids := make([]string, 0, len(items))
	for _, it := range items {
		ids = append(ids, it.Device.ID)
	}
	var rows []deviceRow
	// Locked in id order, so that concurrent batches cannot deadlock.
	if err := tx.SelectContext(ctx, &rows, `SELECT `+deviceColumns+` FROM devices WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
		pq.Array(ids)); err != nil {
		return nil, err
	}
	state := map[string]*cmdb.Device{}
	for i := range rows {
		d, err := rows[i].device()
		if err != nil {
			return nil, err
		}
		state[rows[i].ID] = d
	}
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ia, ib := items[order[a]], items[order[b]]
		if ia.Device.ID != ib.Device.ID {
			return ia.Device.ID < ib.Device.ID
		}
		return ia.Report.Seq < ib.Report.Seq
	})
	results := make([]cmdb.ReportResult, len(items))
	var obs []cmdb.Observation
	var obsItems []int
	var beats []int64
	auths := map[int64]bool{}
	for _, i := range order {
		it := items[i]
		d := state[it.Device.ID]
		if d == nil {
			return nil, cmdb.Errorf(cmdb.EUNAUTHORIZED, "Unknown device %s.", it.Device.ID)
		}
		if results[i] = d.ApplyReport(it.Report); !results[i].Applied {
			continue
		}
		it.Device.CIID = d.CIID
		if len(it.Report.Sections) == 0 {
			beats = append(beats, d.CIID)
			continue
		}
		obs = append(obs, it.Observation(now))
		obsItems = append(obsItems, i)
		auths[d.AuthorityID] = true
	}
	// Everything that does not need the reconcile's per-authority lock is
	// written first, so that concurrent batches of one authority wait for
	// each other only for the reconcile itself. Software and devices are
	// written for the CI each device had; the few whose CI the reconcile
	// changes are moved after it.
	if len(beats) > 0 {
		if _, err := tx.ExecContext(ctx, `WITH c AS (SELECT DISTINCT ci_id FROM unnest($1::bigint[]) AS ci_id),
			`+renewAgentSeen("$2", "$3")+` SELECT 1`, pq.Array(beats), now, now.Add(-heartbeatStep)); err != nil {
			return nil, err
		}
	}
	if err := db.writeSoftware(ctx, tx, items, results, now, learned); err != nil {
		return nil, err
	}
	if err := updateDevices(ctx, tx, state, now); err != nil {
		return nil, err
	}
	if len(obs) == 0 {
		return results, nil
	}
	scope := cmdb.Scope{Subject: "agent"}
	for a := range auths {
		scope.Authorities = append(scope.Authorities, a)
	}
	// The devices' rows are locked: no other batch reconciles their CIs.
	res, err := db.reconcileTxShared(ctx, tx, scope, obs)
	if err != nil {
		return nil, err
	}
	moved := map[string]*cmdb.Device{}
	var movedItems []*cmdb.ReportItem
	var movedResults []cmdb.ReportResult
	for k, i := range obsItems {
		ci := res.Items[k].CIID
		if d := state[items[i].Device.ID]; ci != d.CIID {
			d.CIID = ci
			moved[d.ID] = d
		}
		items[i].Device.CIID = ci
	}
	if len(moved) == 0 {
		return results, nil
	}
	for i, it := range items {
		if moved[it.Device.ID] != nil {
			movedItems, movedResults = append(movedItems, it), append(movedResults, results[i])
		}
	}
	if err := db.writeSoftware(ctx, tx, movedItems, movedResults, now, learned); err != nil {
		return nil, err
	}
	return results, updateDevices(ctx, tx, moved, now)
}

// updateDevices writes the devices' CI, seq and section hashes.
func updateDevices(ctx context.Context, tx *sqlx.Tx, state map[string]*cmdb.Device, now time.Time) error {
	type devJSON struct {
		ID      string            `json:"id"`
		CIID    int64             `json:"ci_id"`
		LastSeq uint64            `json:"last_seq"`
		Hashes  map[string]string `json:"hashes"`
	}
	upd := make([]devJSON, 0, len(state))
	for _, d := range state {
		upd = append(upd, devJSON{d.ID, d.CIID, d.LastSeq, d.Hashes})
	}
	_, err := tx.ExecContext(ctx, `UPDATE devices SET ci_id = x.ci_id, last_seq = x.last_seq, hashes = x.hashes, last_report_at = $2
		FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, ci_id bigint, last_seq bigint, hashes jsonb) WHERE devices.id = x.id`,
		mustJSON(upd), now)
	return err
}
