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

// SLA due times on tickets (schema 0018).
//
// The rules, in one place:
//   - Due and warn times are computed when a ticket is opened, from the
//     authority's calendar and targets (a service's own targets, where set,
//     replace the priority's for requests against it). Targets count
//     business time of the calendar, a service's minutes too.
//   - They are recomputed when the priority changes (the warnings are then
//     due again, as the due times are new), when the clock stops or runs
//     again, and for every open ticket of the authority when its calendar or
//     targets change (warnings already sent stay sent).
//   - The clock stops in status waiting (a pause from entering to leaving
//     it, so any number of waits add up) and when a ticket is resolved; a
//     reopen ends that pause, so the resolved span does not count.
//   - First response: the first public comment by staff of the ticket who
//     did not report it, or the first status change out of new by staff,
//     whichever comes first.
//   - Resolved and closed tickets keep their due times; their state is met
//     or breached by when they were resolved.

var _ cmdb.SLAStore = (*DB)(nil)

// slaColumn reads a ticket's SLA columns as one JSON value, appended to
// ticketColumns and decoded by scanTicketSLA.
const slaColumn = `json_build_object('first_response_due', t.first_response_due, 'resolve_due', t.resolve_due,
	'first_response_at', t.first_response_at, 'deadline', t.sla_deadline)`

type slaRow struct {
	FirstResponseDue *time.Time `json:"first_response_due"`
	ResolveDue       *time.Time `json:"resolve_due"`
	FirstResponseAt  *time.Time `json:"first_response_at"`
	Deadline         *time.Time `json:"deadline"`
}

// scanTicketSLA decodes slaColumn into t.SLA, with the state as of the
// wall clock; the read paths of the store settle it again with its own
// clock (settleSLA), so that both agree in tests with a fixed clock.
func scanTicketSLA(t *cmdb.Ticket, raw []byte) error {
	var r slaRow
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("sla: %w", err)
	}
	t.SLA = &cmdb.TicketSLA{FirstResponseDue: r.FirstResponseDue, ResolveDue: r.ResolveDue,
		FirstResponseAt: r.FirstResponseAt, Deadline: r.Deadline}
	settleTicketSLA(t, time.Now())
	return nil
}

func settleTicketSLA(t *cmdb.Ticket, now time.Time) {
	if t == nil || t.SLA == nil {
		return
	}
	end := t.ResolvedAt
	if end == nil {
		end = t.ClosedAt
	}
	t.SLA.State = t.SLA.StateAt(t.Status, end, now)
}

// settleSLA sets the SLA state of tickets as of the store's clock.
func (db *DB) settleSLA(ts ...*cmdb.Ticket) {
	now := db.now()
	for _, t := range ts {
		settleTicketSLA(t, now)
	}
}

// slaFilter adds the condition of TicketFilter.SLA: open tickets whose
// deadline passed (breached) or lies within the next hour (due soon).
// Literal open statuses, so that the partial index tickets_open_sla serves.
func slaFilter(w *where, v string, now time.Time) {
	switch v {
	case cmdb.SLAFilterBreached:
		w.add("t.status IN " + openStatuses)
		w.add("t.sla_deadline IS NOT NULL AND t.sla_deadline <= ?", now)
	case cmdb.SLAFilterDueSoon:
		w.add("t.status IN " + openStatuses)
		w.add("t.sla_deadline IS NOT NULL AND t.sla_deadline > ? AND t.sla_deadline <= ?", now, now.Add(cmdb.DueSoonWindow))
	}
}

// slaRules are an authority's calendar and targets.
type slaRules struct {
	cal     *cmdb.BusinessCalendar
	targets cmdb.SLATargets
}

func loadCalendar(ctx context.Context, q sqlx.QueryerContext, authority int64) (cmdb.Calendar, error) {
	var raw []byte
	err := sqlx.GetContext(ctx, q, &raw, `SELECT calendar FROM sla_calendars WHERE authority_id = $1`, authority)
	if err == sql.ErrNoRows {
		return cmdb.DefaultCalendar(cmdb.DefaultCalendarState), nil
	} else if err != nil {
		return cmdb.Calendar{}, err
	}
	var c cmdb.Calendar
	if err := json.Unmarshal(raw, &c); err != nil {
		return cmdb.Calendar{}, fmt.Errorf("sla_calendars %d: %w", authority, err)
	}
	return c, nil
}

func loadTargets(ctx context.Context, q sqlx.QueryerContext, authority int64) (cmdb.SLATargets, error) {
	var raw []byte
	err := sqlx.GetContext(ctx, q, &raw, `SELECT targets FROM sla_targets WHERE authority_id = $1`, authority)
	if err == sql.ErrNoRows {
		return cmdb.DefaultSLATargets(), nil
	} else if err != nil {
		return cmdb.SLATargets{}, err
	}
	var t cmdb.SLATargets
	if err := json.Unmarshal(raw, &t); err != nil {
		return cmdb.SLATargets{}, fmt.Errorf("sla_targets %d: %w", authority, err)
	}
	return t, nil
}

func loadSLARules(ctx context.Context, q sqlx.QueryerContext, authority int64) (*slaRules, error) {
	c, err := loadCalendar(ctx, q, authority)
	if err != nil {
		return nil, err
	}
	cal, err := cmdb.NewBusinessCalendar(c)
	if err != nil {
		return nil, fmt.Errorf("sla_calendars %d: %w", authority, err)
	}
	t, err := loadTargets(ctx, q, authority)
	if err != nil {
		return nil, err
	}
	return &slaRules{cal: cal, targets: t}, nil
}

// recomputeSLA computes and stores the due and warn times of the tickets
// (all of one authority, whose rules are given) from their opening time,
// priority, service and pauses. resetWarned clears the warned marks: the
// targets are new, so their warnings are due again.
func recomputeSLA(ctx context.Context, tx *sqlx.Tx, rules *slaRules, ids []int64, resetWarned bool) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.QueryxContext(ctx, `SELECT t.id, t.created_at, t.priority, t.status, sv.response_minutes, sv.resolve_minutes,
			coalesce((SELECT json_agg(json_build_object('start', p.started_at, 'end', p.ended_at) ORDER BY p.started_at)
				FROM ticket_sla_pauses p WHERE p.ticket_id = t.id), '[]')
		FROM tickets t LEFT JOIN services sv ON sv.id = t.service_id WHERE t.id = ANY($1)`, pq.Array(ids))
	if err != nil {
		return err
	}
	defer rows.Close()
	var id []int64
	var frd, frw, rd, rw []string
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	for rows.Next() {
		var tid int64
		var opened time.Time
		var prio int
		var status string
		var resp, res sql.NullInt64
		var rawPauses []byte
		if err := rows.Scan(&tid, &opened, &prio, &status, &resp, &res, &rawPauses); err != nil {
			return err
		}
		var pauses []cmdb.Interval
		if err := json.Unmarshal(rawPauses, &pauses); err != nil {
			return err
		}
		if status == cmdb.StatusResolved || status == cmdb.StatusClosed {
			// The clock stopped at the resolve; its due times stay those
			// of a clock that ran on, to compare the resolve with.
			pauses = slices.DeleteFunc(pauses, func(p cmdb.Interval) bool { return p.End.IsZero() })
		}
		d, err := rules.cal.DueTimes(opened, prio, ticketTargets(rules.targets, prio, resp, res), pauses)
		if err != nil {
			return err
		}
		id = append(id, tid)
		frd, frw = append(frd, ts(d.FirstResponse)), append(frw, ts(d.FirstResponseWarn))
		rd, rw = append(rd, ts(d.Resolve)), append(rw, ts(d.ResolveWarn))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	_, err = tx.ExecContext(ctx, `UPDATE tickets t SET first_response_due = nullif(u.frd, '')::timestamptz,
			first_response_warn = nullif(u.frw, '')::timestamptz, resolve_due = nullif(u.rd, '')::timestamptz,
			resolve_warn = nullif(u.rw, '')::timestamptz,
			first_response_warned_at = CASE WHEN $6 THEN NULL ELSE t.first_response_warned_at END,
			resolve_warned_at = CASE WHEN $6 THEN NULL ELSE t.resolve_warned_at END
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(id, frd, frw, rd, rw)
		WHERE t.id = u.id`, pq.Array(id), pq.Array(frd), pq.Array(frw), pq.Array(rd), pq.Array(rw), resetWarned)
	return err
}

// ticketTargets returns the targets for a ticket of priority p: the
// authority's, with a service's own response and resolve minutes in place
// of the priority's where the service sets them.
func ticketTargets(t cmdb.SLATargets, p int, resp, res sql.NullInt64) cmdb.SLATargets {
	if p < 1 || p > 5 || (!resp.Valid && !res.Valid) {
		return t
	}
	x := &t.Priority[p-1]
	if resp.Valid {
		x.FirstResponse = time.Duration(resp.Int64) * time.Minute
	}
	if res.Valid {
		x.Resolve = time.Duration(res.Int64) * time.Minute
	}
	if x.FirstResponse > x.Resolve { // a quick service answers at the latest when it is done
		x.FirstResponse = x.Resolve
	}
	return t
}

// slaAtCreate sets the due times of a ticket just opened.
func slaAtCreate(ctx context.Context, tx *sqlx.Tx, authority, id int64) error {
	rules, err := loadSLARules(ctx, tx, authority)
	if err != nil {
		return err
	}
	return recomputeSLA(ctx, tx, rules, []int64{id}, false)
}

// clockStopped reports whether the SLA clock stands still in a status.
func clockStopped(status string) bool {
	return status == cmdb.StatusWaiting || status == cmdb.StatusResolved || status == cmdb.StatusClosed
}

// slaAfterUpdate applies an update's changes (cs, already written) to the
// ticket's SLA: the first response, the pauses and the due times.
func slaAfterUpdate(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, t *cmdb.Ticket, cs []change, now time.Time) error {
	var from string
	var statusChanged, prioChanged bool
	for _, c := range cs {
		switch c.field {
		case "status":
			from, statusChanged = c.old, true
		case "priority":
			prioChanged = true
		}
	}
	if !statusChanged && !prioChanged {
		return nil
	}
	to := t.Status
	if statusChanged && from == cmdb.StatusNew && staffOf(s, t) {
		if err := markFirstResponse(ctx, tx, t.ID, now); err != nil {
			return err
		}
	}
	recompute, stopAfter := prioChanged, false
	if statusChanged {
		keep := from == cmdb.StatusResolved && to == cmdb.StatusClosed // stays stopped
		if clockStopped(from) && !keep {
			if _, err := tx.ExecContext(ctx, `UPDATE ticket_sla_pauses SET ended_at = greatest($2, started_at)
				WHERE ticket_id = $1 AND ended_at IS NULL`, t.ID, now); err != nil {
				return err
			}
			recompute = true
		}
		if to == cmdb.StatusWaiting {
			if err := openPause(ctx, tx, t.ID, now, "waiting"); err != nil {
				return err
			}
			recompute = true
		}
		stopAfter = (to == cmdb.StatusResolved || to == cmdb.StatusClosed) && !keep
	}
	if recompute {
		rules, err := loadSLARules(ctx, tx, t.AuthorityID)
		if err != nil {
			return err
		}
		if err := recomputeSLA(ctx, tx, rules, []int64{t.ID}, prioChanged); err != nil {
			return err
		}
	}
	if stopAfter {
		// After the recompute, so that a resolved ticket keeps the due
		// times it had when its clock stopped.
		return openPause(ctx, tx, t.ID, now, "resolved")
	}
	return nil
}

func openPause(ctx context.Context, tx *sqlx.Tx, ticket int64, at time.Time, reason string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO ticket_sla_pauses (ticket_id, started_at, reason) VALUES ($1, $2, $3)
		ON CONFLICT (ticket_id) WHERE ended_at IS NULL DO NOTHING`, ticket, at, reason)
	return err
}

func markFirstResponse(ctx context.Context, tx *sqlx.Tx, ticket int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE tickets SET first_response_at = $2 WHERE id = $1 AND first_response_at IS NULL`, ticket, at)
	return err
}

// slaAfterComment records a first response: a public comment by staff of
// the ticket who did not report it.
func slaAfterComment(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, t *cmdb.Ticket, c *cmdb.TicketComment, now time.Time) error {
	if c.Internal || !staffOf(s, t) || (s.UserID != 0 && s.UserID == t.ReporterUserID) {
		return nil
	}
	return markFirstResponse(ctx, tx, t.ID, now)
}

// recomputeOpenSLA recomputes the due times of an authority's open
// tickets after its calendar or targets changed.
func recomputeOpenSLA(ctx context.Context, tx *sqlx.Tx, authority int64) error {
	rules, err := loadSLARules(ctx, tx, authority)
	if err != nil {
		return err
	}
	var ids []int64
	if err := tx.SelectContext(ctx, &ids, `SELECT id FROM tickets WHERE authority_id = $1 AND status IN `+openStatuses+` ORDER BY id`,
		authority); err != nil {
		return err
	}
	for chunk := range slices.Chunk(ids, 2000) {
		if err := recomputeSLA(ctx, tx, rules, chunk, false); err != nil {
			return err
		}
	}
	return nil
}
