package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

var _ cmdb.FailureStore = (*DB)(nil)

// repeatFailureColumn reads a CI's flag as JSON (NULL: none). A subquery
// on the flag table's key rather than a join, so that every query of CIs
// "FROM cis c" can add it without changing its FROM clause; it costs one
// index probe per row returned, never a scan.
const repeatFailureColumn = `(SELECT json_build_object('since', f.since, 'count', f.incident_count,
	'min_incidents', f.min_incidents, 'window_days', f.window_days, 'tickets', f.ticket_numbers, 'clears_at', f.clears_at)
	FROM ci_repeat_failures f WHERE f.ci_id = c.id) AS repeat_failure`

// ciReadColumns are ciColumns with the repeat-failure flag, for the
// queries that answer callers.
const ciReadColumns = ciColumns + `, ` + repeatFailureColumn

// parseRepeatFailure decodes repeatFailureColumn; nil for NULL.
func parseRepeatFailure(raw []byte) (*cmdb.RepeatFailureFlag, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var f cmdb.RepeatFailureFlag
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("repeat_failure: %w", err)
	}
	return &f, nil
}

// repeatRules loads an authority's rules (zero Default and no overrides
// when it has none: RepeatRules.For then gives the defaults).
func repeatRules(ctx context.Context, q sqlx.QueryerContext, authority int64) (cmdb.RepeatRules, error) {
	var r cmdb.RepeatRules
	err := q.QueryRowxContext(ctx, `SELECT min_incidents, window_days FROM repeat_failure_rules WHERE authority_id = $1`, authority).
		Scan(&r.Default.Threshold, &r.Default.WindowDays)
	if err != nil && err != sql.ErrNoRows {
		return r, err
	}
	rows, err := q.QueryxContext(ctx, `SELECT class, min_incidents, window_days FROM repeat_failure_class_rules WHERE authority_id = $1`, authority)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	for rows.Next() {
		var class string
		var rule cmdb.RepeatRule
		if err := rows.Scan(&class, &rule.Threshold, &rule.WindowDays); err != nil {
			return r, err
		}
		if r.ByClass == nil {
			r.ByClass = map[string]cmdb.RepeatRule{}
		}
		r.ByClass[class] = rule
	}
	return r, rows.Err()
}

// authorityExists answers ENOTFOUND for an authority the scope does not
// see whole, or that does not exist.
func (db *DB) authorityExists(ctx context.Context, s cmdb.Scope, authority int64) error {
	if !s.CanSeeAuthority(authority) {
		return notFound("authority", authority)
	}
	var ok bool
	if err := db.db.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM authorities WHERE id = $1)`, authority); err != nil || !ok {
		return cmpErr(err, notFound("authority", authority))
	}
	return nil
}

// FindRepeatFailureRule returns an authority's rule; see cmdb.FailureStore.
func (db *DB) FindRepeatFailureRule(ctx context.Context, s cmdb.Scope, authority int64) (cmdb.RepeatRules, error) {
	if err := db.authorityExists(ctx, s, authority); err != nil {
		return cmdb.RepeatRules{}, err
	}
	r, err := repeatRules(ctx, db.db, authority)
	if r.Default == (cmdb.RepeatRule{}) {
		r.Default = cmdb.DefaultRepeatRule() // say what applies
	}
	if r.ByClass == nil {
		r.ByClass = map[string]cmdb.RepeatRule{}
	}
	return r, mapErr("postgres.FindRepeatFailureRule", err)
}

// SetRepeatFailureRule stores an authority's rule and applies it; see
// cmdb.FailureStore.
func (db *DB) SetRepeatFailureRule(ctx context.Context, s cmdb.Scope, authority int64, r cmdb.RepeatRules) error {
	if err := db.authorityExists(ctx, s, authority); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	if r.Default == (cmdb.RepeatRule{}) {
		r.Default = cmdb.DefaultRepeatRule()
	}
	type classRule struct {
		Class      string `json:"class"`
		Threshold  int    `json:"threshold"`
		WindowDays int    `json:"window_days"`
	}
	classes := []classRule{}
	for c, cr := range r.ByClass {
		classes = append(classes, classRule{c, cr.Threshold, cr.WindowDays})
	}
	return mapErr("postgres.SetRepeatFailureRule", db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := db.now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO repeat_failure_rules (authority_id, min_incidents, window_days, updated_at, updated_by)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (authority_id) DO UPDATE SET min_incidents = $2, window_days = $3, updated_at = $4, updated_by = $5`,
			authority, r.Default.Threshold, r.Default.WindowDays, now, s.Source()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM repeat_failure_class_rules WHERE authority_id = $1`, authority); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO repeat_failure_class_rules (authority_id, class, min_incidents, window_days)
			SELECT $1, x.class, x.threshold, x.window_days FROM jsonb_to_recordset($2::jsonb) AS x(class text, threshold int, window_days int)`,
			authority, mustJSON(classes)); err != nil {
			return err
		}
		if err := audit(ctx, tx, s, cmdb.AuditRepeatRuleSet, "authority:"+itoa(authority), authority, map[string]any{"rule": r}, now); err != nil {
			return err
		}
		// Flags follow the new rule at once, not at the next daily run.
		_, _, err := recomputeRepeatFailures(ctx, tx, authority, nil, now)
		return err
	}))
}

// RecomputeRepeatFailures applies the repeat-failure rule to every CI of
// an authority at the store's clock: it flags the CIs that now hold the
// rule, clears the flags of those that no longer do, and records each
// change in the CI's history (source cmdb.RepeatFailureSource). It is
// the scheduler's daily job, which clears flags whose window has passed.
func (db *DB) RecomputeRepeatFailures(ctx context.Context, authority int64) (set, cleared int, err error) {
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		set, cleared, err = recomputeRepeatFailures(ctx, tx, authority, nil, db.now())
		return err
	})
	return set, cleared, mapErr("postgres.RecomputeRepeatFailures", err)
}

// RecomputeAllRepeatFailures runs RecomputeRepeatFailures for every
// authority, one transaction each; it returns the totals and the first
// error, going on with the other authorities after one fails.
func (db *DB) RecomputeAllRepeatFailures(ctx context.Context) (set, cleared int, err error) {
	var ids []int64
	if err := db.db.SelectContext(ctx, &ids, `SELECT id FROM authorities ORDER BY id`); err != nil {
		return 0, 0, mapErr("postgres.RecomputeAllRepeatFailures", err)
	}
	for _, id := range ids {
		s, c, e := db.RecomputeRepeatFailures(ctx, id)
		set, cleared = set+s, cleared+c
		if e != nil && err == nil {
			err = fmt.Errorf("authority %d: %w", id, e)
		}
	}
	return set, cleared, err
}

// repeatFailuresAfterLink re-applies the rule to the CIs a ticket was
// just linked to or unlinked from (opened, relinked, merged), inside the
// ticket's transaction, so that the flag is right when it commits.
func repeatFailuresAfterLink(ctx context.Context, tx *sqlx.Tx, authority int64, ciIDs []int64, now time.Time) error {
	if len(ciIDs) == 0 {
		return nil
	}
	_, _, err := recomputeRepeatFailures(ctx, tx, authority, ciIDs, now)
	return err
}

// repeatFlag is a stored flag, or one about to be.
type repeatFlag struct {
	CIID         int64     `db:"ci_id" json:"ci_id"`
	Since        time.Time `db:"since" json:"since"`
	Count        int       `db:"incident_count" json:"count"`
	MinIncidents int       `db:"min_incidents" json:"min_incidents"`
	WindowDays   int       `db:"window_days" json:"window_days"`
	TicketIDs    []int64   `db:"-" json:"ticket_ids"`
	Numbers      []string  `db:"-" json:"ticket_numbers"`
	ClearsAt     time.Time `db:"clears_at" json:"clears_at"`
}

// reason is the flag's reason as the history records it.
func (f *repeatFlag) reason() string {
	if f == nil {
		return ""
	}
	return cmdb.RepeatFailure{Flagged: true, Count: f.Count, Tickets: f.Numbers}.Reason(cmdb.RepeatRule{WindowDays: f.WindowDays})
}

// recomputeRepeatFailures applies the rule to the CIs of an authority
// (ciIDs nil: all of them) at now. One query finds the candidates — CIs
// with at least the threshold of incident tickets in their class's
// window, which over-counts duplicates and so never misses a CI — and a
// second loads the candidates' incidents, on which the domain rule
// (cmdb.EvaluateRepeatFailure) decides exactly, duplicates and all. The
// difference to the stored flags is then written in three statements.
// Runs of one authority take turns (an advisory lock), so that a ticket
// and the daily job never write the same flag at once.
func recomputeRepeatFailures(ctx context.Context, tx *sqlx.Tx, authority int64, ciIDs []int64, now time.Time) (set, cleared int, err error) {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 7))`, "repeat-failure|"+itoa(authority)); err != nil {
		return 0, 0, err
	}
	rules, err := repeatRules(ctx, tx, authority)
	if err != nil {
		return 0, 0, err
	}
	type classRule struct {
		Class      string `json:"class"`
		Threshold  int    `json:"threshold"`
		WindowDays int    `json:"window_days"`
	}
	perClass := make([]classRule, 0, len(cmdb.Classes))
	maxWindow := 0
	for _, c := range cmdb.Classes {
		r := rules.For(c)
		perClass = append(perClass, classRule{c, r.Threshold, r.WindowDays})
		maxWindow = max(maxWindow, r.WindowDays)
	}
	only, restrict := pq.Array(ciIDs), ciIDs != nil
	// A day more than the window: the rule counts calendar days in its own
	// time zone, the candidates need only be a superset.
	var cands []struct {
		CIID  int64  `db:"ci_id"`
		Class string `db:"class"`
	}
	if err := tx.SelectContext(ctx, &cands, `WITH r AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS r(class text, threshold int, window_days int))
		SELECT x.ci_id, c.class FROM tickets t JOIN ticket_cis x ON x.ticket_id = t.id JOIN cis c ON c.id = x.ci_id JOIN r ON r.class = c.class
		WHERE t.authority_id = $1 AND t.type = 'incident' AND t.created_at <= $3 AND t.created_at > $4
			AND t.created_at > $3 - make_interval(days => r.window_days + 1) AND c.merged_into IS NULL
			AND (NOT $5 OR x.ci_id = ANY($6))
		GROUP BY x.ci_id, c.class, r.threshold HAVING count(*) >= r.threshold`,
		authority, mustJSON(perClass), now, now.AddDate(0, 0, -maxWindow-1), restrict, only); err != nil {
		return 0, 0, err
	}
	classOf := make(map[int64]string, len(cands))
	ids := make([]int64, len(cands))
	for i, c := range cands {
		classOf[c.CIID], ids[i] = c.Class, c.CIID
	}
	var tickets []struct {
		CIID       int64     `db:"ci_id"`
		ID         int64     `db:"id"`
		Number     string    `db:"number"`
		CreatedAt  time.Time `db:"created_at"`
		MergedInto int64     `db:"merged_into"`
	}
	if len(ids) > 0 {
		if err := tx.SelectContext(ctx, &tickets, `SELECT x.ci_id, t.id, t.number, t.created_at, coalesce(t.merged_into_id, 0) AS merged_into
			FROM ticket_cis x JOIN tickets t ON t.id = x.ticket_id WHERE x.ci_id = ANY($1) AND t.type = 'incident' ORDER BY x.ci_id`,
			pq.Array(ids)); err != nil {
			return 0, 0, err
		}
	}
	byCI := map[int64][]cmdb.RepeatTicket{}
	idOf := map[string]int64{}
	for _, t := range tickets {
		rt := cmdb.RepeatTicket{ID: itoa(t.ID), Number: t.Number, Incident: true, OpenedAt: t.CreatedAt}
		if t.MergedInto != 0 {
			rt.MergedInto = itoa(t.MergedInto)
		}
		byCI[t.CIID] = append(byCI[t.CIID], rt)
		idOf[t.Number] = t.ID
	}
	// PostgreSQL keeps microseconds, rounded: a ticket opened at now in
	// this very transaction may read back a fraction of a microsecond
	// after now, and must still count.
	evalAt := now.Truncate(time.Microsecond).Add(time.Microsecond)
	want := map[int64]*repeatFlag{}
	for ci, ts := range byCI {
		rule := rules.For(classOf[ci])
		f := cmdb.EvaluateRepeatFailure(ts, rule, evalAt)
		if !f.Flagged {
			continue
		}
		flag := &repeatFlag{CIID: ci, Since: now, Count: f.Count, MinIncidents: rule.Threshold, WindowDays: rule.WindowDays,
			Numbers: f.Tickets, ClearsAt: f.ClearsAt}
		for _, n := range f.Tickets {
			flag.TicketIDs = append(flag.TicketIDs, idOf[n])
		}
		want[ci] = flag
	}

	rows, err := tx.QueryxContext(ctx, `SELECT ci_id, since, incident_count, min_incidents, window_days, ticket_numbers, clears_at
		FROM ci_repeat_failures WHERE authority_id = $1 AND (NOT $2 OR ci_id = ANY($3)) FOR UPDATE`, authority, restrict, only)
	if err != nil {
		return 0, 0, err
	}
	have := map[int64]*repeatFlag{}
	for rows.Next() {
		var f repeatFlag
		var numbers pq.StringArray
		if err := rows.Scan(&f.CIID, &f.Since, &f.Count, &f.MinIncidents, &f.WindowDays, &numbers, &f.ClearsAt); err != nil {
			rows.Close()
			return 0, 0, err
		}
		f.Numbers = numbers
		have[f.CIID] = &f
	}
	if err := rows.Close(); err != nil {
		return 0, 0, err
	}
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}

	var upsert []*repeatFlag
	var drop []int64
	var hist []historyEntry
	for ci, w := range want {
		h := have[ci]
		if h == nil {
			set++
		} else {
			w.Since = h.Since // the flag holds on; its reason may change
		}
		if h == nil || h.reason() != w.reason() || h.MinIncidents != w.MinIncidents || !h.ClearsAt.Equal(w.ClearsAt) {
			upsert = append(upsert, w)
		}
		if oldReason, newReason := h.reason(), w.reason(); oldReason != newReason {
			hist = append(hist, historyEntry{ci, "repeat_failure", oldReason, newReason, cmdb.RepeatFailureSource, now})
		}
	}
	for ci, h := range have {
		if want[ci] == nil {
			cleared++
			drop = append(drop, ci)
			hist = append(hist, historyEntry{ci, "repeat_failure", h.reason(), "", cmdb.RepeatFailureSource, now})
		}
	}
	// One order for the history rows, so that a CI's entries read the same on every run.
	slices.SortFunc(hist, func(a, b historyEntry) int { return int(a.CIID - b.CIID) })
	if len(drop) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM ci_repeat_failures WHERE ci_id = ANY($1)`, pq.Array(drop)); err != nil {
			return 0, 0, err
		}
	}
	if len(upsert) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ci_repeat_failures (ci_id, authority_id, since, incident_count, min_incidents,
				window_days, ticket_ids, ticket_numbers, clears_at, updated_at)
			SELECT x.ci_id, $2, x.since, x.count, x.min_incidents, x.window_days,
				ARRAY(SELECT jsonb_array_elements_text(x.ticket_ids)::bigint), ARRAY(SELECT jsonb_array_elements_text(x.ticket_numbers)),
				x.clears_at, $3
			FROM jsonb_to_recordset($1::jsonb) AS x(ci_id bigint, since timestamptz, count int, min_incidents int, window_days int,
				ticket_ids jsonb, ticket_numbers jsonb, clears_at timestamptz)
			ON CONFLICT (ci_id) DO UPDATE SET incident_count = EXCLUDED.incident_count, min_incidents = EXCLUDED.min_incidents,
				window_days = EXCLUDED.window_days, ticket_ids = EXCLUDED.ticket_ids, ticket_numbers = EXCLUDED.ticket_numbers,
				clears_at = EXCLUDED.clears_at, updated_at = EXCLUDED.updated_at`, mustJSON(upsert), authority, now); err != nil {
			return 0, 0, err
		}
	}
	return set, cleared, writeHistory(ctx, tx, hist...)
}

// staffOnly is the part of a scope that works on devices: authority IT
// and school IT, without the schools it may only read or the providers.
func staffOnly(s cmdb.Scope) cmdb.Scope {
	return cmdb.Scope{Subject: s.Subject, UserID: s.UserID, Admin: s.Admin, Authorities: s.Authorities, Schools: s.Schools}
}

// FindRepeatFailures lists flagged CIs; see cmdb.FailureStore.
func (db *DB) FindRepeatFailures(ctx context.Context, s cmdb.Scope, f cmdb.RepeatFailureFilter) ([]*cmdb.CI, int, error) {
	if err := f.Validate(); err != nil {
		return nil, 0, err
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	var w where
	w.add("c.merged_into IS NULL")
	w.scope(staffOnly(s), "c.authority_id", "c.school_id")
	if f.AuthorityID != 0 {
		w.add("c.authority_id = ?", f.AuthorityID)
	}
	if f.SchoolID != 0 {
		w.add("c.school_id = ?", f.SchoolID)
	}
	if f.Class != "" {
		w.add("c.class = ?", f.Class)
	}
	var rows []ciPageRow
	err := db.db.SelectContext(ctx, &rows, rebind(`SELECT `+ciReadColumns+`, count(*) OVER () AS total
		FROM ci_repeat_failures rf JOIN cis c ON c.id = rf.ci_id WHERE `+w.String()+`
		ORDER BY rf.incident_count DESC, rf.since, c.id LIMIT ? OFFSET ?`), append(w.args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, mapErr("postgres.FindRepeatFailures", err)
	}
	return ciPage(rows, "postgres.FindRepeatFailures")
}
