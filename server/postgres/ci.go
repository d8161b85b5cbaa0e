package postgres

import (
	"context"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

var _ cmdb.CIStore = (*DB)(nil)

// FindCIByID returns one CI, also a merged one (MergedInto tells);
// ENOTFOUND outside the scope.
func (db *DB) FindCIByID(ctx context.Context, s cmdb.Scope, id int64) (*cmdb.CI, error) {
	return findCI(ctx, db.db, s, id)
}

func findCI(ctx context.Context, q sqlx.QueryerContext, s cmdb.Scope, id int64) (*cmdb.CI, error) {
	var w where
	w.ciReadScope(s)
	w.add("c.id = ?", id)
	var row ciRow
	if err := sqlx.GetContext(ctx, q, &row, rebind(`SELECT `+ciReadColumns+` FROM cis c WHERE `+w.String()), w.args...); err != nil {
		if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
			return nil, notFound("CI", id)
		}
		return nil, mapErr("postgres.FindCIByID", err)
	}
	return row.toCI()
}

// ciReadScope adds the condition under which the scope may read a CI
// (alias c): its tenants' CIs, and for a provider's staff also the CIs
// linked by a ticket that is assigned to their provider and not closed —
// only while it is assigned. Reading is all it grants: every change
// checks CanWrite on the CI's authority and school.
func (w *where) ciReadScope(s cmdb.Scope) {
	if s.Admin || len(s.Providers) == 0 {
		w.scope(s, "c.authority_id", "c.school_id")
		return
	}
	var own where
	own.scope(s, "c.authority_id", "c.school_id")
	w.add("("+own.String()+` OR EXISTS (SELECT 1 FROM ticket_cis pc JOIN tickets pt ON pt.id = pc.ticket_id
		WHERE pc.ci_id = c.id AND pt.provider_id = ANY(?) AND pt.status <> 'closed'))`, append(own.args, pq.Array(s.Providers))...)
}

// ciPageRow is a CI row of a page query with the total of all matches
// (count(*) OVER () AS total).
type ciPageRow struct {
	ciRow
	Total int `db:"total"`
}

// ciPage turns a page of rows into CIs and the total; op names the
// caller in errors.
func ciPage(rows []ciPageRow, op string) ([]*cmdb.CI, int, error) {
	out := make([]*cmdb.CI, 0, len(rows))
	total := 0
	for i := range rows {
		ci, err := rows[i].toCI()
		if err != nil {
			return nil, 0, mapErr(op, err)
		}
		out, total = append(out, ci), rows[i].Total
	}
	return out, total, nil
}

// likePattern escapes LIKE wildcards in a search text.
func likePattern(q string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
}

// FindCIs returns a page of visible, unmerged CIs and the total matching.
func (db *DB) FindCIs(ctx context.Context, s cmdb.Scope, f cmdb.CIFilter) ([]*cmdb.CI, int, error) {
	if err := f.Validate(); err != nil {
		return nil, 0, err
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	var w where
	w.add("c.merged_into IS NULL")
	w.ciReadScope(s)
	if f.AuthorityID != 0 {
		w.add("c.authority_id = ?", f.AuthorityID)
	}
	if f.SchoolID != 0 {
		w.add("c.school_id = ?", f.SchoolID)
	}
	if f.RoomID != 0 {
		w.add("c.room_id = ?", f.RoomID)
	}
	if f.Class != "" {
		w.add("c.class = ?", f.Class)
	}
	if f.Status != "" {
		w.add("c.status = ?", f.Status)
	}
	if f.Vendor != "" {
		w.add("lower(c.vendor) = lower(?)", f.Vendor)
	}
	if f.Model != "" {
		w.add("lower(c.model) = lower(?)", f.Model)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		p := likePattern(q)
		// Stored MACs are normalised (3c:d9:2b:01:02:03); a whole MAC
		// matches exactly, a part of one in any notation as hex digits.
		mac := "i.value LIKE ?"
		macArg := likePattern(strings.ToLower(q))
		if m, ok := cmdb.NormalizeMAC(q); ok {
			mac, macArg = "i.value = ?", m
		} else if hex, ok := cmdb.MACFragment(q); ok {
			mac, macArg = "replace(i.value, ':', '') LIKE ?", likePattern(hex)
		}
		w.add(`(c.name ILIKE ? OR c.serial ILIKE ? OR c.asset_tag ILIKE ? OR c.hostname ILIKE ? OR c.vendor ILIKE ? OR c.model ILIKE ?
			OR EXISTS (SELECT 1 FROM ci_identifiers i WHERE i.ci_id = c.id AND i.kind = 'mac' AND `+mac+`))`,
			p, p, p, p, p, p, macArg)
	}
	var rows []ciPageRow
	err := db.db.SelectContext(ctx, &rows, rebind(`SELECT `+ciReadColumns+`, count(*) OVER () AS total FROM cis c
		WHERE `+w.String()+` ORDER BY c.name, c.id LIMIT ? OFFSET ?`), append(w.args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, mapErr("postgres.FindCIs", err)
	}
	out, total, err := ciPage(rows, "postgres.FindCIs")
	if err != nil {
		return nil, 0, err
	}
	if len(rows) == 0 && f.Offset > 0 {
		// The page is past the end; count anyway so clients can page back.
		if err := db.db.GetContext(ctx, &total, rebind(`SELECT count(*) FROM cis c WHERE `+w.String()), w.args...); err != nil {
			return nil, 0, mapErr("postgres.FindCIs", err)
		}
	}
	return out, total, nil
}

// FindIdentifiers lists a visible CI's identifiers.
func (db *DB) FindIdentifiers(ctx context.Context, s cmdb.Scope, ciID int64) ([]*cmdb.Identifier, error) {
	if _, err := db.FindCIByID(ctx, s, ciID); err != nil {
		return nil, err
	}
	out := []*cmdb.Identifier{}
	err := db.db.SelectContext(ctx, &out, `SELECT kind, value, vendor, school_id AS schoolid, source, first_seen AS firstseen
		FROM ci_identifiers WHERE ci_id = $1 ORDER BY kind, value`, ciID)
	return out, mapErr("postgres.FindIdentifiers", err)
}

// FindLocks lists locks of one visible CI, or of all visible CIs.
func (db *DB) FindLocks(ctx context.Context, s cmdb.Scope, ciID int64) ([]*cmdb.Lock, error) {
	var w where
	w.ciReadScope(s)
	if ciID != 0 {
		if _, err := db.FindCIByID(ctx, s, ciID); err != nil {
			return nil, err
		}
		w.add("l.ci_id = ?", ciID)
	}
	out := []*cmdb.Lock{}
	err := db.db.SelectContext(ctx, &out, rebind(`SELECT l.ci_id AS ciid, l.attr, l.value, l.locked_by AS lockedby,
		l.locked_at AS lockedat FROM ci_locks l JOIN cis c ON c.id = l.ci_id WHERE `+w.String()+` ORDER BY l.ci_id, l.attr`), w.args...)
	return out, mapErr("postgres.FindLocks", err)
}

// ReleaseLock removes a lock so that sources may set the attribute again;
// the release is recorded in the CI's history.
func (db *DB) ReleaseLock(ctx context.Context, s cmdb.Scope, ciID int64, attr string) error {
	ci, err := db.FindCIByID(ctx, s, ciID)
	if err != nil {
		return err
	} else if !s.CanWrite(ci.AuthorityID, ci.SchoolID) {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "You may see CI %d but not change it.", ciID)
	}
	return mapErr("postgres.ReleaseLock", db.inTx(ctx, func(tx *sqlx.Tx) error {
		var value string
		err := tx.GetContext(ctx, &value, `DELETE FROM ci_locks WHERE ci_id = $1 AND attr = $2 RETURNING value`, ciID, attr)
		if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
			return &cmdb.Error{Code: cmdb.ENOTFOUND, Field: "attribute", Message: "CI " + itoa(ciID) + " has no lock on " + attr + "."}
		} else if err != nil {
			return err
		}
		now := db.now()
		if err := writeHistory(ctx, tx, historyEntry{ciID, "lock." + attr, "locked", "unlocked", subject(s), now}); err != nil {
			return err
		}
		return audit(ctx, tx, s, cmdb.AuditLockReleased, "ci:"+itoa(ciID), ci.AuthorityID, map[string]any{"attribute": attr}, now)
	}))
}

// subject names the caller in history rows, as hand edits do.
func subject(s cmdb.Scope) string { return s.Source() }

// FindHistory lists the history of a visible CI and of the CIs merged
// into it, newest first.
func (db *DB) FindHistory(ctx context.Context, s cmdb.Scope, ciID int64, limit int) ([]*cmdb.HistoryEntry, error) {
	if _, err := db.FindCIByID(ctx, s, ciID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	out := []*cmdb.HistoryEntry{}
	err := db.db.SelectContext(ctx, &out, `WITH RECURSIVE m(id) AS (
			SELECT $1::bigint UNION SELECT c.id FROM cis c JOIN m ON c.merged_into = m.id)
		SELECT h.* FROM m CROSS JOIN LATERAL (
			-- Each CI's newest rows straight from ci_history_ci_at (0024),
			-- so a printer with 10,000 rows is not sorted on every page.
			SELECT h.id, h.ci_id AS ciid, h.attr, h.old, h.new, h.source, h.at FROM ci_history h
			WHERE h.ci_id = m.id ORDER BY h.at DESC, h.id DESC LIMIT $2) h
		ORDER BY h.at DESC, h.id DESC LIMIT $2`, ciID, limit)
	return out, mapErr("postgres.FindHistory", err)
}

// CreateRelation links two visible CIs of one authority.
func (db *DB) CreateRelation(ctx context.Context, s cmdb.Scope, r *cmdb.Relation) error {
	if !containsStr(cmdb.RelationKinds, r.Kind) {
		return cmdb.Invalid("kind", "must be one of %s", strings.Join(cmdb.RelationKinds, ", "))
	} else if r.FromID == r.ToID {
		return cmdb.Invalid("to_ci_id", "a CI cannot be related to itself")
	}
	from, err := db.FindCIByID(ctx, s, r.FromID)
	if err != nil {
		return asRef(err, "from_ci_id", "CI", r.FromID)
	}
	to, err := db.FindCIByID(ctx, s, r.ToID)
	if err != nil {
		return asRef(err, "to_ci_id", "CI", r.ToID)
	} else if from.AuthorityID != to.AuthorityID {
		return cmdb.Invalid("to_ci_id", "CIs of different authorities cannot be related")
	} else if from.MergedInto != 0 || to.MergedInto != 0 {
		return cmdb.Invalid("to_ci_id", "a merged CI cannot be related")
	} else if !s.CanWrite(from.AuthorityID, from.SchoolID) || !s.CanWrite(to.AuthorityID, to.SchoolID) {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "You may see these CIs but not change them.")
	}
	r.Source = subject(s)
	return mapErr("postgres.CreateRelation", db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := db.now()
		if err := tx.QueryRowxContext(ctx, `INSERT INTO ci_relations (authority_id, from_ci, to_ci, kind, source, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at`, from.AuthorityID, r.FromID, r.ToID, r.Kind, r.Source, now).
			Scan(&r.ID, &r.CreatedAt); err != nil {
			return err
		}
		return writeHistory(ctx, tx, historyEntry{r.FromID, "relation." + r.Kind, "", "CI " + itoa(r.ToID), r.Source, now},
			historyEntry{r.ToID, "relation." + r.Kind + ".from", "", "CI " + itoa(r.FromID), r.Source, now})
	}))
}

// FindRelations lists relations from or to a visible CI.
func (db *DB) FindRelations(ctx context.Context, s cmdb.Scope, ciID int64) ([]*cmdb.Relation, error) {
	if _, err := db.FindCIByID(ctx, s, ciID); err != nil {
		return nil, err
	}
	var w where
	w.add("(r.from_ci = ? OR r.to_ci = ?)", ciID, ciID)
	w.scope(s, "o.authority_id", "o.school_id") // the other end must be visible too
	out := []*cmdb.Relation{}
	err := db.db.SelectContext(ctx, &out, rebind(`SELECT r.id, r.from_ci AS fromid, r.to_ci AS toid, r.kind, r.source,
		r.created_at AS createdat FROM ci_relations r
		JOIN cis o ON o.id = CASE WHEN r.from_ci = ? THEN r.to_ci ELSE r.from_ci END
		WHERE `+w.String()+` ORDER BY r.id`), append([]any{ciID}, w.args...)...)
	return out, mapErr("postgres.FindRelations", err)
}

// DeleteRelation removes a relation between visible CIs.
func (db *DB) DeleteRelation(ctx context.Context, s cmdb.Scope, id int64) error {
	var w where
	w.scope(s, "c.authority_id", "c.school_id")
	w.add("r.id = ?", id)
	var r struct {
		cmdb.Relation
		AuthorityID int64 `db:"authority_id"`
		SchoolID    int64 `db:"school_id"`
		ToSchoolID  int64 `db:"to_school_id"`
	}
	// Both ends must be visible to see the relation, and changeable to delete it.
	w.scope(s, "t.authority_id", "t.school_id")
	if err := db.db.GetContext(ctx, &r, rebind(`SELECT r.id, r.from_ci AS fromid, r.to_ci AS toid, r.kind, c.authority_id,
		coalesce(c.school_id, 0) AS school_id, coalesce(t.school_id, 0) AS to_school_id FROM ci_relations r
		JOIN cis c ON c.id = r.from_ci JOIN cis t ON t.id = r.to_ci WHERE `+w.String()), w.args...); err != nil {
		if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
			return notFound("relation", id)
		}
		return mapErr("postgres.DeleteRelation", err)
	} else if !s.CanWrite(r.AuthorityID, r.SchoolID) || !s.CanWrite(r.AuthorityID, r.ToSchoolID) {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "You may see this relation but not change it.")
	}
	return mapErr("postgres.DeleteRelation", db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM ci_relations WHERE id = $1`, id); err != nil {
			return err
		}
		return writeHistory(ctx, tx, historyEntry{r.FromID, "relation." + r.Kind, "CI " + itoa(r.ToID), "", subject(s), db.now()})
	}))
}

func containsStr(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
