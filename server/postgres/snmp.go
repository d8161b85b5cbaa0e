package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

// schoolForWrite returns a visible school the scope may change.
func (db *DB) schoolForWrite(ctx context.Context, s cmdb.Scope, schoolID int64) (*cmdb.School, error) {
	sch, err := db.FindSchoolByID(ctx, s, schoolID)
	if err != nil {
		return nil, err
	} else if !s.CanWrite(sch.AuthorityID, sch.ID) {
		return nil, cmdb.Errorf(cmdb.EFORBIDDEN, "You may not change the devices of this school.")
	}
	return sch, nil
}

type snmpSecrets struct {
	Community string `json:"c,omitempty"`
	AuthPass  string `json:"a,omitempty"`
	PrivPass  string `json:"p,omitempty"`
}

// CreateSNMPCredential adds a credential profile to a school's list; it is
// tried after those already there. Its secrets are encrypted at rest and
// never shown again.
func (db *DB) CreateSNMPCredential(ctx context.Context, s cmdb.Scope, schoolID int64, c *cmdb.SNMPCredential) error {
	if err := cmdb.ValidateName("name", c.Name); err != nil {
		return err
	} else if err := c.Validate(); err != nil {
		return err
	}
	sch, err := db.schoolForWrite(ctx, s, schoolID)
	if err != nil {
		return err
	}
	sec, err := json.Marshal(snmpSecrets{c.Community.Reveal(), c.AuthPass.Reveal(), c.PrivPass.Reveal()})
	if err != nil { // strings always marshal; the error never holds them
		return fmt.Errorf("postgres.CreateSNMPCredential: encode secrets: %w", err)
	}
	return mapErr("postgres.CreateSNMPCredential", db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &c.ID, `INSERT INTO snmp_credentials (authority_id, school_id, name, version, v3_user, auth_proto,
			priv_proto, secrets_enc, position, created_at)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8, coalesce(max(position), 0) + 1, $9 FROM snmp_credentials WHERE school_id = $2
			RETURNING id`, sch.AuthorityID, sch.ID, c.Name, c.Version, c.User, c.AuthProto, c.PrivProto, db.seal.seal(sec), db.now()); err != nil {
			return err
		}
		c.Community, c.AuthPass, c.PrivPass = "", "", ""
		return audit(ctx, tx, s, "snmp_credential_created", "snmp_credential:"+itoa(c.ID), sch.AuthorityID,
			map[string]any{"school_id": sch.ID, "version": c.Version}, db.now())
	}))
}

// FindSNMPCredentials lists a school's credential profiles in the order
// they are tried, without their secrets.
func (db *DB) FindSNMPCredentials(ctx context.Context, s cmdb.Scope, schoolID int64) ([]*cmdb.SNMPCredential, error) {
	if _, err := db.schoolForWrite(ctx, s, schoolID); err != nil {
		return nil, err
	}
	out := []*cmdb.SNMPCredential{}
	err := db.db.SelectContext(ctx, &out, `SELECT id, name, version, v3_user AS user, auth_proto AS authproto, priv_proto AS privproto
		FROM snmp_credentials WHERE school_id = $1 ORDER BY position`, schoolID)
	return out, mapErr("postgres.FindSNMPCredentials", err)
}

// PollCredentials returns a school's credential profiles with their
// secrets, for the poller only; it is never exposed through the API.
// A profile whose secrets cannot be decrypted (another secret key) or
// decoded is an error naming the profile, never its secrets, and no
// profile is returned: a school is not polled with an empty community.
func (db *DB) PollCredentials(ctx context.Context, schoolID int64) ([]cmdb.SNMPCredential, error) {
	var rows []struct {
		cmdb.SNMPCredential
		Sealed []byte `db:"secrets_enc"`
	}
	if err := db.db.SelectContext(ctx, &rows, `SELECT id, name, version, v3_user AS user, auth_proto AS authproto,
		priv_proto AS privproto, secrets_enc FROM snmp_credentials WHERE school_id = $1 ORDER BY position`, schoolID); err != nil {
		return nil, mapErr("postgres.PollCredentials", err)
	}
	out := make([]cmdb.SNMPCredential, len(rows))
	for i, r := range rows {
		plain, err := db.seal.open(r.Sealed)
		if err != nil {
			return nil, fmt.Errorf("postgres.PollCredentials: credential profile %d (%q) of school %d cannot be decrypted (was the secret key changed?): %w",
				r.ID, r.Name, schoolID, err)
		}
		var sec snmpSecrets
		if err := json.Unmarshal(plain, &sec); err != nil {
			// The JSON error may quote the plaintext: do not wrap it.
			return nil, fmt.Errorf("postgres.PollCredentials: credential profile %d (%q) of school %d: its decrypted secrets are not valid JSON",
				r.ID, r.Name, schoolID)
		}
		out[i] = r.SNMPCredential
		out[i].Community, out[i].AuthPass, out[i].PrivPass = cmdb.Secret(sec.Community), cmdb.Secret(sec.AuthPass), cmdb.Secret(sec.PrivPass)
	}
	return out, nil
}

var hostRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$`)

// validAddress checks host or host:port (port 1–65535); hosts are names
// or IP addresses.
func validAddress(field, addr string) error {
	host, port := addr, ""
	if h, p, err := net.SplitHostPort(addr); err == nil {
		host, port = h, p
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return cmdb.Invalid(field, "port must be 1 to 65535")
		}
	}
	if _, err := netip.ParseAddr(host); err != nil && !hostRE.MatchString(host) {
		return cmdb.Invalid(field, "must be a host name or IP address, optionally with :port")
	}
	return nil
}

// CreateSNMPTarget adds a device address to poll in a school.
func (db *DB) CreateSNMPTarget(ctx context.Context, s cmdb.Scope, t *cmdb.SNMPTarget) error {
	if t.Kind == "" {
		t.Kind = cmdb.TargetSNMP
	}
	if t.Kind != cmdb.TargetSNMP && t.Kind != cmdb.TargetPJLink {
		return cmdb.Invalid("kind", "must be snmp or pjlink")
	} else if err := validAddress("address", t.Address); err != nil {
		return err
	}
	sch, err := db.schoolForWrite(ctx, s, t.SchoolID)
	if err != nil {
		return asRef(err, "school_id", "school", t.SchoolID)
	}
	t.AuthorityID = sch.AuthorityID
	err = db.db.GetContext(ctx, &t.ID, `INSERT INTO snmp_targets (authority_id, school_id, address, kind) VALUES ($1, $2, $3, $4) RETURNING id`,
		t.AuthorityID, t.SchoolID, t.Address, t.Kind)
	if ErrorIsUnique(err) {
		return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "address", Message: "this address is already a target of the school"}
	}
	return mapErr("postgres.CreateSNMPTarget", err)
}

// CreateSNMPRange adds a discovery range (at most a /22) to a school.
func (db *DB) CreateSNMPRange(ctx context.Context, s cmdb.Scope, r *cmdb.SNMPRange) error {
	p, err := netip.ParsePrefix(r.CIDR)
	if err != nil {
		return cmdb.Invalid("cidr", "must be a network in CIDR notation such as 10.1.2.0/24")
	} else if host := p.Addr().BitLen() - p.Bits(); host > 10 {
		return cmdb.Invalid("cidr", "must be at most a /22 (1024 addresses); split larger networks")
	}
	sch, err := db.schoolForWrite(ctx, s, r.SchoolID)
	if err != nil {
		return asRef(err, "school_id", "school", r.SchoolID)
	}
	r.AuthorityID, r.CIDR = sch.AuthorityID, p.Masked().String()
	err = db.db.GetContext(ctx, &r.ID, `INSERT INTO snmp_ranges (authority_id, school_id, cidr) VALUES ($1, $2, $3) RETURNING id`,
		r.AuthorityID, r.SchoolID, r.CIDR)
	if ErrorIsUnique(err) {
		return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "cidr", Message: "this range is already there"}
	}
	return mapErr("postgres.CreateSNMPRange", err)
}

const targetColumns = `t.id, t.authority_id AS authorityid, t.school_id AS schoolid, t.address, t.kind, coalesce(t.ci_id, 0) AS ciid,
	t.misses, t.unreachable, t.last_poll_at AS lastpollat, t.last_ok_at AS lastokat,
	t.last_error_reason AS lasterrorreason, t.last_error_at AS lasterrorat`

// FindSNMPTargets lists the targets of visible schools (one school when
// schoolID is not 0).
func (db *DB) FindSNMPTargets(ctx context.Context, s cmdb.Scope, schoolID int64) ([]*cmdb.SNMPTarget, error) {
	var w where
	w.scope(s, "t.authority_id", "t.school_id")
	if schoolID != 0 {
		w.add("t.school_id = ?", schoolID)
	}
	out := []*cmdb.SNMPTarget{}
	err := db.db.SelectContext(ctx, &out, rebind(`SELECT `+targetColumns+` FROM snmp_targets t WHERE `+w.String()+` ORDER BY t.school_id, t.address`), w.args...)
	return out, mapErr("postgres.FindSNMPTargets", err)
}

// FindSNMPRanges lists the discovery ranges of visible schools.
func (db *DB) FindSNMPRanges(ctx context.Context, s cmdb.Scope, schoolID int64) ([]*cmdb.SNMPRange, error) {
	var w where
	w.scope(s, "r.authority_id", "r.school_id")
	if schoolID != 0 {
		w.add("r.school_id = ?", schoolID)
	}
	out := []*cmdb.SNMPRange{}
	err := db.db.SelectContext(ctx, &out, rebind(`SELECT r.id, r.authority_id AS authorityid, r.school_id AS schoolid, r.cidr::text AS cidr
		FROM snmp_ranges r WHERE `+w.String()+` ORDER BY r.school_id, r.cidr`), w.args...)
	return out, mapErr("postgres.FindSNMPRanges", err)
}

// RecordPolls writes a polling round in one transaction: observations of
// the devices that answered go through reconcile, their metrics and
// health events are kept, targets that missed missLimit polls in a row
// are marked unreachable, and the reason of each failed poll is kept on
// its target. A record without a Result (not polled) only sets the
// reason: its misses and last poll stay.
func (db *DB) RecordPolls(ctx context.Context, recs []*cmdb.PollRecord, missLimit int) error {
	return mapErr("postgres.RecordPolls", db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := db.now()
		var obs []cmdb.Observation
		var which []int
		auths := map[int64]bool{}
		for i, r := range recs {
			if r.Observation != nil {
				obs = append(obs, *r.Observation)
				which = append(which, i)
				auths[r.Target.AuthorityID] = true
			}
		}
		if len(obs) > 0 {
			scope := cmdb.Scope{Subject: "snmp"}
			for a := range auths {
				scope.Authorities = append(scope.Authorities, a)
			}
			res, err := db.reconcileTx(ctx, tx, scope, obs)
			if err != nil {
				return err
			}
			for k, i := range which {
				recs[i].Target.CIID = res.Items[k].CIID
			}
		}
		var mCI []int64
		var mName []string
		var mVal []float64
		type upd struct {
			ID          int64            `json:"id"`
			CIID        int64            `json:"ci_id"`
			Polled      bool             `json:"polled"`
			OK          bool             `json:"ok"`
			Reason      cmdb.PollFailure `json:"reason"`
			HealthState json.RawMessage  `json:"health_state"`
		}
		ups := make([]upd, len(recs))
		var evs []cmdb.HealthEvent
		for i, r := range recs {
			hs := r.HealthState
			if len(hs) == 0 {
				hs = json.RawMessage(`null`)
			}
			u := upd{ID: r.Target.ID, CIID: r.Target.CIID, Reason: r.Failure, HealthState: hs}
			if r.Result != nil {
				u.Polled, u.OK, u.Reason = true, r.Result.Reachable, r.Result.Failure
				if !u.OK && u.Reason == "" {
					u.Reason = cmdb.PollOther
				}
			}
			ups[i] = u
			if r.Target.CIID == 0 {
				continue
			}
			for name, v := range r.Metrics {
				mCI, mName, mVal = append(mCI, r.Target.CIID), append(mName, name), append(mVal, v)
			}
			for _, e := range r.Events {
				e.CIID = r.Target.CIID
				evs = append(evs, e)
			}
		}
		if len(mCI) > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO ci_metrics (ci_id, name, at, value)
				SELECT c, n, $4, v FROM unnest($1::bigint[], $2::text[], $3::float8[]) AS x(c, n, v) ON CONFLICT DO NOTHING`,
				pq.Array(mCI), pq.Array(mName), pq.Array(mVal), now); err != nil {
				return err
			}
		}
		if len(evs) > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO ci_health_events (ci_id, kind, subject, open, at, detail)
				SELECT ci_id, kind, coalesce(subject, ''), open, at, coalesce(detail, '') FROM jsonb_to_recordset($1::jsonb)
				AS x(ci_id bigint, kind text, subject text, open boolean, at timestamptz, detail text)`, mustJSON(evs)); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE snmp_targets t SET
			ci_id = coalesce(NULLIF(x.ci_id, 0), t.ci_id),
			misses = CASE WHEN NOT x.polled THEN t.misses WHEN x.ok THEN 0 ELSE t.misses + 1 END,
			unreachable = CASE WHEN NOT x.polled THEN t.unreachable WHEN x.ok THEN false ELSE t.misses + 1 >= $3 END,
			health_state = CASE WHEN x.health_state IS NULL OR x.health_state = 'null' THEN t.health_state ELSE x.health_state END,
			last_poll_at = CASE WHEN x.polled THEN $2 ELSE t.last_poll_at END,
			last_ok_at = CASE WHEN x.ok THEN $2 ELSE t.last_ok_at END,
			last_error_reason = CASE WHEN x.reason <> '' THEN x.reason ELSE t.last_error_reason END,
			last_error_at = CASE WHEN x.reason <> '' THEN $2 ELSE t.last_error_at END
			FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, ci_id bigint, polled boolean, ok boolean, reason text, health_state jsonb)
			WHERE t.id = x.id`,
			mustJSON(ups), now, missLimit)
		return err
	}))
}

// HealthStates returns the debounce state kept for each target.
func (db *DB) HealthStates(ctx context.Context, ids []int64) (map[int64]json.RawMessage, error) {
	rows, err := db.db.QueryxContext(ctx, `SELECT id, health_state FROM snmp_targets WHERE id = ANY($1)`, pq.Array(ids))
	if err != nil {
		return nil, mapErr("postgres.HealthStates", err)
	}
	defer rows.Close()
	out := map[int64]json.RawMessage{}
	for rows.Next() {
		var id int64
		var st []byte
		if err := rows.Scan(&id, &st); err != nil {
			return nil, mapErr("postgres.HealthStates", err)
		}
		out[id] = st
	}
	return out, rows.Err()
}

// FindMetrics returns a visible CI's metric series (one name, or all),
// newest first.
func (db *DB) FindMetrics(ctx context.Context, s cmdb.Scope, ciID int64, name string, limit int) ([]*cmdb.Metric, error) {
	if _, err := db.FindCIByID(ctx, s, ciID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	out := []*cmdb.Metric{}
	err := db.db.SelectContext(ctx, &out, `SELECT name, at, value FROM ci_metrics WHERE ci_id = $1 AND ($2 = '' OR name = $2)
		ORDER BY at DESC, name LIMIT $3`, ciID, name, limit)
	return out, mapErr("postgres.FindMetrics", err)
}

// snmpObjectNames name the kinds of deleteSchoolOwned for people.
var snmpObjectNames = map[string]string{"snmp_credential": "SNMP credential profile", "snmp_target": "SNMP target", "snmp_range": "SNMP range"}

// deleteSchoolOwned deletes a row of table that belongs to a school,
// after checking the scope may change that school; ENOTFOUND when it is
// not visible.
func (db *DB) deleteSchoolOwned(ctx context.Context, s cmdb.Scope, table, what string, id int64) error {
	var row struct {
		AuthorityID int64 `db:"authority_id"`
		SchoolID    int64 `db:"school_id"`
	}
	err := db.db.GetContext(ctx, &row, `SELECT authority_id, school_id FROM `+table+` WHERE id = $1`, id)
	if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND || (err == nil && !s.CanSee(row.AuthorityID, row.SchoolID)) {
		return notFound(snmpObjectNames[what], id)
	} else if err != nil {
		return mapErr("postgres.Delete "+what, err)
	} else if !s.CanWrite(row.AuthorityID, row.SchoolID) {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "You may not change the devices of this school.")
	}
	return mapErr("postgres.Delete "+what, db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE id = $1`, id); err != nil {
			return err
		}
		return audit(ctx, tx, s, what+"_deleted", what+":"+itoa(id), row.AuthorityID, map[string]any{"school_id": row.SchoolID}, db.now())
	}))
}

// DeleteSNMPCredential removes a credential profile.
func (db *DB) DeleteSNMPCredential(ctx context.Context, s cmdb.Scope, id int64) error {
	return db.deleteSchoolOwned(ctx, s, "snmp_credentials", "snmp_credential", id)
}

// DeleteSNMPTarget stops polling an address (its CI stays).
func (db *DB) DeleteSNMPTarget(ctx context.Context, s cmdb.Scope, id int64) error {
	return db.deleteSchoolOwned(ctx, s, "snmp_targets", "snmp_target", id)
}

// DeleteSNMPRange removes a discovery range.
func (db *DB) DeleteSNMPRange(ctx context.Context, s cmdb.Scope, id int64) error {
	return db.deleteSchoolOwned(ctx, s, "snmp_ranges", "snmp_range", id)
}

// FindHealthEvents lists a visible CI's health events, newest first.
func (db *DB) FindHealthEvents(ctx context.Context, s cmdb.Scope, ciID int64) ([]*cmdb.HealthEvent, error) {
	if _, err := db.FindCIByID(ctx, s, ciID); err != nil {
		return nil, err
	}
	out := []*cmdb.HealthEvent{}
	err := db.db.SelectContext(ctx, &out, `SELECT id, ci_id AS ciid, kind, subject, open, at, detail FROM ci_health_events
		WHERE ci_id = $1 ORDER BY id DESC LIMIT 1000`, ciID)
	return out, mapErr("postgres.FindHealthEvents", err)
}
