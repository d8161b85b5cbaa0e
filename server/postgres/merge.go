package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/cmdb"
)

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// FindDuplicates lists duplicate candidates in visible authorities.
func (db *DB) FindDuplicates(ctx context.Context, s cmdb.Scope, f cmdb.DuplicateFilter) ([]*cmdb.DuplicateCandidate, int, error) {
	if f.Status == "" {
		f.Status = cmdb.DupOpen
	} else if !containsStr([]string{cmdb.DupOpen, cmdb.DupMerged, cmdb.DupDismissed}, f.Status) {
		return nil, 0, cmdb.Invalid("status", "must be open, merged or dismissed")
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var w where
	w.scope(s, "d.authority_id", "")
	w.add("d.status = ?", f.Status)
	if f.CIID != 0 {
		w.add("(d.ci_a = ? OR d.ci_b = ?)", f.CIID, f.CIID)
	}
	if f.AuthorityID != 0 {
		w.add("d.authority_id = ?", f.AuthorityID)
	}
	type row struct {
		cmdb.DuplicateCandidate
		Total int `db:"total"`
	}
	var rows []row
	err := db.db.SelectContext(ctx, &rows, rebind(`SELECT d.id, d.authority_id AS authorityid, d.ci_a AS cia, d.ci_b AS cib,
		d.rule, d.detail, d.status, d.created_at AS createdat, coalesce(d.resolved_by, '') AS resolvedby,
		d.resolved_at AS resolvedat, count(*) OVER () AS total
		FROM duplicate_candidates d WHERE `+w.String()+` ORDER BY d.id LIMIT ? OFFSET ?`), append(w.args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, mapErr("postgres.FindDuplicates", err)
	}
	out := make([]*cmdb.DuplicateCandidate, len(rows))
	total := 0
	for i := range rows {
		out[i], total = &rows[i].DuplicateCandidate, rows[i].Total
	}
	return out, total, nil
}

func (db *DB) findDuplicate(ctx context.Context, q sqlx.QueryerContext, s cmdb.Scope, id int64) (*cmdb.DuplicateCandidate, error) {
	var w where
	w.scope(s, "authority_id", "")
	w.add("id = ?", id)
	var d cmdb.DuplicateCandidate
	err := sqlx.GetContext(ctx, q, &d, rebind(`SELECT id, authority_id AS authorityid, ci_a AS cia, ci_b AS cib, rule, detail, status
		FROM duplicate_candidates WHERE `+w.String()), w.args...)
	if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
		return nil, notFound("duplicate candidate", id)
	}
	return &d, mapErr("postgres.findDuplicate", err)
}

// DismissDuplicate marks an open candidate as not a duplicate; it is not
// proposed again.
func (db *DB) DismissDuplicate(ctx context.Context, s cmdb.Scope, id int64) error {
	d, err := db.findDuplicate(ctx, db.db, s, id)
	if err != nil {
		return err
	} else if d.Status != cmdb.DupOpen {
		return cmdb.Errorf(cmdb.ECONFLICT, "Duplicate candidate %d is already %s.", id, d.Status)
	}
	_, err = db.db.ExecContext(ctx, `UPDATE duplicate_candidates SET status = 'dismissed', resolved_by = $2, resolved_at = $3
		WHERE id = $1 AND status = 'open'`, id, subject(s), db.now())
	return mapErr("postgres.DismissDuplicate", err)
}

// MergeDuplicate merges the candidate's other CI into keepID, which must
// be one of its two CIs.
func (db *DB) MergeDuplicate(ctx context.Context, s cmdb.Scope, id, keepID int64) (*cmdb.CI, error) {
	d, err := db.findDuplicate(ctx, db.db, s, id)
	if err != nil {
		return nil, err
	} else if d.Status != cmdb.DupOpen {
		return nil, cmdb.Errorf(cmdb.ECONFLICT, "Duplicate candidate %d is already %s.", id, d.Status)
	}
	remove := d.CIB
	switch keepID {
	case d.CIA:
	case d.CIB:
		remove = d.CIA
	default:
		return nil, cmdb.Invalid("keep", "must be %d or %d, the CIs of this candidate", d.CIA, d.CIB)
	}
	return db.MergeCIs(ctx, s, keepID, remove)
}

// MergeCIs merges remove into keep. See cmdb.CIStore.
func (db *DB) MergeCIs(ctx context.Context, s cmdb.Scope, keepID, removeID int64) (*cmdb.CI, error) {
	if keepID == removeID {
		return nil, cmdb.Invalid("other", "a CI cannot be merged with itself")
	}
	var keep *cmdb.CI
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		k, err := findCI(ctx, tx, s, keepID)
		if err != nil {
			return err
		}
		rm, err := findCI(ctx, tx, s, removeID)
		if err != nil {
			return asRef(err, "other", "CI", removeID)
		} else if k.AuthorityID != rm.AuthorityID {
			return cmdb.Invalid("other", "CIs of different authorities cannot be merged")
		} else if !s.CanSeeAuthority(k.AuthorityID) {
			return cmdb.Errorf(cmdb.EFORBIDDEN, "Only authority IT may merge CIs.")
		}
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, authorityLockClass, int32(k.AuthorityID)); err != nil {
			return err
		}
		// Read both again under the lock.
		if k, err = findCI(ctx, tx, s, keepID); err != nil {
			return err
		} else if rm, err = findCI(ctx, tx, s, removeID); err != nil {
			return err
		}
		for _, c := range []*cmdb.CI{k, rm} {
			if c.MergedInto != 0 {
				return cmdb.Errorf(cmdb.ECONFLICT, "CI %d was already merged into CI %d.", c.ID, c.MergedInto)
			}
		}
		keep = k
		return db.merge(ctx, tx, s, k, rm)
	})
	if err != nil {
		return nil, mapErr("postgres.MergeCIs", err)
	}
	return db.FindCIByID(ctx, s, keep.ID)
}

func (db *DB) merge(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, keep, rm *cmdb.CI) error {
	now, who := db.now(), subject(s)
	// Fold the removed CI's attributes into keep by the domain's
	// precedence: keep's locks hold, a higher or fresher source wins.
	in := cmdb.MergeInput{Now: now, Locked: map[string]bool{}, LastSeen: map[string]time.Time{}}
	rows, err := tx.QueryxContext(ctx, `SELECT 'lock', attr, NULL::timestamptz FROM ci_locks WHERE ci_id = $1
		UNION ALL SELECT 'seen', source, max(last_seen) FROM ci_sources WHERE ci_id IN ($1, $2) GROUP BY source`, keep.ID, rm.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var what, name string
		var at *time.Time
		if err := rows.Scan(&what, &name, &at); err != nil {
			rows.Close()
			return err
		}
		if what == "lock" {
			in.Locked[name] = true
		} else {
			in.LastSeen[name] = *at
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var hist []historyEntry
	for _, c := range db.policy.MergeCI(keep, rm, in) {
		hist = append(hist, historyEntry{keep.ID, c.Attr, c.Old, c.New, who, now})
	}
	if err := writeHistory(ctx, tx, hist...); err != nil {
		return err
	}
	if err := updateCIs(ctx, tx, []ciRow{fromCI(keep)}, now); err != nil {
		return err
	}
	stmts := []string{
		// Identifiers, source last-seen times and locks move over where keep lacks them.
		`UPDATE ci_identifiers i SET ci_id = $1 WHERE ci_id = $2 AND NOT EXISTS (SELECT 1 FROM ci_identifiers k
			WHERE k.ci_id = $1 AND k.kind = i.kind AND k.value = i.value AND k.school_id = i.school_id)`,
		`DELETE FROM ci_identifiers WHERE ci_id = $1`,
		`INSERT INTO ci_sources (ci_id, source, last_seen) SELECT $1, source, last_seen FROM ci_sources WHERE ci_id = $2
			ON CONFLICT (ci_id, source) DO UPDATE SET last_seen = GREATEST(ci_sources.last_seen, EXCLUDED.last_seen)`,
		`DELETE FROM ci_sources WHERE ci_id = $1`,
		`UPDATE ci_locks l SET ci_id = $1 WHERE ci_id = $2 AND NOT EXISTS (SELECT 1 FROM ci_locks k WHERE k.ci_id = $1 AND k.attr = l.attr)`,
		`DELETE FROM ci_locks WHERE ci_id = $1`,
		// Relations follow, without self-loops or doubles.
		`DELETE FROM ci_relations WHERE (from_ci = $1 AND to_ci = $2) OR (from_ci = $2 AND to_ci = $1)`,
		`UPDATE ci_relations r SET from_ci = $1 WHERE from_ci = $2 AND NOT EXISTS (SELECT 1 FROM ci_relations k
			WHERE k.from_ci = $1 AND k.to_ci = r.to_ci AND k.kind = r.kind)`,
		`UPDATE ci_relations r SET to_ci = $1 WHERE to_ci = $2 AND NOT EXISTS (SELECT 1 FROM ci_relations k
			WHERE k.to_ci = $1 AND k.from_ci = r.from_ci AND k.kind = r.kind)`,
		`DELETE FROM ci_relations WHERE from_ci = $1 OR to_ci = $1`,
		// Installed software and enrolled agents follow the CI.
		`INSERT INTO ci_software (ci_id, software_id, first_seen) SELECT $1, software_id, first_seen FROM ci_software
			WHERE ci_id = $2 ON CONFLICT DO NOTHING`,
		`DELETE FROM ci_software WHERE ci_id = $1`,
		`DELETE FROM ci_software_sets WHERE ci_id = $1`,
		`UPDATE devices SET ci_id = $1 WHERE ci_id = $2`,
		// Open candidates naming the removed CI now name keep.
		`INSERT INTO duplicate_candidates (authority_id, ci_a, ci_b, rule, detail, created_at)
			SELECT authority_id, LEAST($1, o), GREATEST($1, o), rule, detail, created_at FROM (
				SELECT authority_id, CASE WHEN ci_a = $2 THEN ci_b ELSE ci_a END AS o, rule, detail, created_at
				FROM duplicate_candidates WHERE status = 'open' AND (ci_a = $2 OR ci_b = $2)) d
			WHERE o <> $1 ON CONFLICT (ci_a, ci_b) WHERE status <> 'merged' DO NOTHING`,
	}
	for _, q := range stmts {
		args := []any{keep.ID, rm.ID}
		if !strings.Contains(q, "$2") {
			args = args[1:] // statements about the removed CI alone
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	// The survivor's software set is its rows, now with the removed CI's.
	if _, err := tx.ExecContext(ctx, `INSERT INTO ci_software_sets (ci_id, software_ids)
		SELECT $1, array_agg(software_id ORDER BY software_id) FROM ci_software WHERE ci_id = $1 HAVING count(*) > 0
		ON CONFLICT (ci_id) DO UPDATE SET software_ids = EXCLUDED.software_ids`, keep.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE duplicate_candidates SET status = 'merged', resolved_by = $2, resolved_at = $3
		WHERE status = 'open' AND (ci_a = $1 OR ci_b = $1)`, rm.ID, who, now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE cis SET merged_into = $1, updated_at = $3 WHERE id = $2`, keep.ID, rm.ID, now); err != nil {
		return err
	}
	if err := writeHistory(ctx, tx, historyEntry{keep.ID, "merged", "", "CI " + itoa(rm.ID), who, now},
		historyEntry{rm.ID, "merged_into", "", "CI " + itoa(keep.ID), who, now}); err != nil {
		return err
	}
	return audit(ctx, tx, s, cmdb.AuditMerge, "ci:"+itoa(keep.ID), keep.AuthorityID, map[string]any{"merged": rm.ID}, now)
}
