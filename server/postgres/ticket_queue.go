package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/cmdb"
)

// The staff queue's store side: the filters FindTickets took on for it
// (assignee or nobody, channel, order by due time), the counts per queue, saved
// filters and the refusal of a stale edit.

var _ cmdb.TicketQueueStore = (*DB)(nil)

// ticketDueOrder sorts open tickets by the deadline that decides their
// SLA state, those without one last (index tickets_open_due).
const ticketDueOrder = ` ORDER BY t.sla_deadline NULLS LAST, t.priority, t.created_at, t.id`

// queueFilter adds the queue's filters to w and returns the order of the
// list (order unless the filter asks for another).
func queueFilter(w *where, f cmdb.TicketFilter, order string) string {
	if f.AssigneeUserID != 0 {
		w.add("t.assignee_user_id = ?", f.AssigneeUserID)
	}
	if f.Unassigned {
		w.add("t.assignee_user_id IS NULL")
	}
	if f.Channel != "" {
		w.add("t.channel = ?", f.Channel)
	}
	if f.ReporterUserID != 0 {
		w.add("t.reporter_user_id = ?", f.ReporterUserID)
	}
	if f.Sort == cmdb.SortDue {
		if order == ticketOpenOrder {
			return ticketDueOrder
		}
		return ` ORDER BY (t.status IN ('resolved', 'closed')), t.sla_deadline NULLS LAST, t.priority, t.created_at, t.id`
	}
	return order
}

// queueScope adds the scope's condition as FindTickets does: the one
// authority alone when that is all the scope sees (the indexes serve it).
func (db *DB) queueScope(ctx context.Context, w *where, s cmdb.Scope) error {
	a, ok, err := db.onlyAuthority(ctx, s)
	if err != nil {
		return err
	}
	if ok {
		w.add("t.authority_id = ?", a)
	} else {
		ticketScope(w, s)
	}
	return nil
}

// CountTicketQueues counts the open tickets per queue; see
// cmdb.TicketQueueStore.
func (db *DB) CountTicketQueues(ctx context.Context, s cmdb.Scope) (*cmdb.TicketQueueCounts, error) {
	var w where
	if err := db.queueScope(ctx, &w, s); err != nil {
		return nil, mapErr("postgres.CountTicketQueues", err)
	}
	w.add("t.status IN " + openStatuses)
	now := db.now()
	// One pass over the open tickets, grouped by the assignee group.
	args := append([]any{s.UserID, now, now, now.Add(cmdb.DueSoonWindow)}, w.args...)
	rows, err := db.db.QueryxContext(ctx, rebind(`SELECT coalesce(t.provider_id, 0), count(*),
		count(*) FILTER (WHERE t.status = 'new'),
		count(*) FILTER (WHERE t.assignee_user_id = ?),
		count(*) FILTER (WHERE t.level = 1), count(*) FILTER (WHERE t.level = 2), count(*) FILTER (WHERE t.level = 3),
		count(*) FILTER (WHERE t.sla_deadline <= ?),
		count(*) FILTER (WHERE t.sla_deadline > ? AND t.sla_deadline <= ?)
		FROM tickets t WHERE `+w.String()+` GROUP BY 1`), args...)
	if err != nil {
		return nil, mapErr("postgres.CountTicketQueues", err)
	}
	defer rows.Close()
	c := &cmdb.TicketQueueCounts{Providers: map[int64]int{}}
	for rows.Next() {
		var provider int64
		var open, nw, mine, l1, l2, l3, breached, soon int
		if err := rows.Scan(&provider, &open, &nw, &mine, &l1, &l2, &l3, &breached, &soon); err != nil {
			return nil, mapErr("postgres.CountTicketQueues", err)
		}
		c.Open += open
		c.New += nw
		c.Mine += mine
		c.Level1 += l1
		c.Level2 += l2
		c.Level3 += l3
		c.Breached += breached
		c.DueSoon += soon
		if provider == 0 {
			c.Authority = open
		} else {
			c.Providers[provider] = open
		}
	}
	return c, mapErr("postgres.CountTicketQueues", rows.Err())
}

func savedFilterOwner(s cmdb.Scope) error {
	if s.UserID == 0 {
		return cmdb.Invalid("user", "only a signed-in person keeps saved filters, not an integration token")
	}
	return nil
}

// FindSavedFilters lists the caller's filters; see cmdb.TicketQueueStore.
func (db *DB) FindSavedFilters(ctx context.Context, s cmdb.Scope) ([]*cmdb.SavedFilter, error) {
	if err := savedFilterOwner(s); err != nil {
		return nil, err
	}
	out := []*cmdb.SavedFilter{}
	err := db.db.SelectContext(ctx, &out, `SELECT id, user_id AS userid, name, query, created_at AS createdat
		FROM saved_filters WHERE user_id = $1 ORDER BY lower(name), id`, s.UserID)
	return out, mapErr("postgres.FindSavedFilters", err)
}

// SaveFilter stores one of the caller's filters; see
// cmdb.TicketQueueStore.
func (db *DB) SaveFilter(ctx context.Context, s cmdb.Scope, f *cmdb.SavedFilter) error {
	if err := savedFilterOwner(s); err != nil {
		return err
	}
	if err := f.Validate(); err != nil {
		return err
	}
	f.UserID, f.CreatedAt = s.UserID, db.now()
	err := db.db.QueryRowxContext(ctx, `INSERT INTO saved_filters (user_id, name, query, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query RETURNING id, created_at`,
		f.UserID, f.Name, f.Query, f.CreatedAt).Scan(&f.ID, &f.CreatedAt)
	return mapErr("postgres.SaveFilter", err)
}

// DeleteSavedFilter deletes one of the caller's filters; see
// cmdb.TicketQueueStore.
func (db *DB) DeleteSavedFilter(ctx context.Context, s cmdb.Scope, id int64) error {
	if err := savedFilterOwner(s); err != nil {
		return err
	}
	res, err := db.db.ExecContext(ctx, `DELETE FROM saved_filters WHERE id = $1 AND user_id = $2`, id, s.UserID)
	if err != nil {
		return mapErr("postgres.DeleteSavedFilter", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("saved filter", id)
	}
	return nil
}

// unseenFields are the history entries that add to a ticket without
// changing what an edit form shows: they never make an edit stale.
const unseenFields = `('comment', 'internal_comment', 'watcher', 'attachment', 'internal_attachment')`

// checkSeen refuses an update made on a stale view of t: when u.Seen is
// set and someone changed one of t's fields after it, ECONFLICT naming
// "updated_at" with what changed. t was read with a row lock in tx, so
// no change can slip in between the check and the update.
func checkSeen(ctx context.Context, tx *sqlx.Tx, t *cmdb.Ticket, u cmdb.TicketUpdate) error {
	if u.Seen == nil || !t.UpdatedAt.After(*u.Seen) {
		return nil
	}
	var hs []struct {
		Subject, Field, Old, New string
		At                       time.Time
	}
	if err := tx.SelectContext(ctx, &hs, `SELECT subject, field, old_value AS old, new_value AS new, at FROM ticket_history
		WHERE ticket_id = $1 AND at > $2 AND field NOT IN `+unseenFields+` ORDER BY id`, t.ID, *u.Seen); err != nil && err != sql.ErrNoRows {
		return err
	}
	if len(hs) == 0 {
		return nil // only comments and the like came in: nothing the form showed changed
	}
	var what []string
	for _, h := range hs {
		what = append(what, fmt.Sprintf("%s %q → %q by %s", h.Field, h.Old, h.New, h.Subject))
	}
	return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "updated_at", Message: fmt.Sprintf(
		"The ticket was changed after you opened it (%s); reload it and make your change again.", strings.Join(what, "; "))}
}
