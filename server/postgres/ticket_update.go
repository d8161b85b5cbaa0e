package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

// reporterMayApply reports whether a reporter who is not staff may make
// the update: only reopen (resolved → in progress) or confirm (resolved →
// closed) their own resolved ticket.
func reporterMayApply(s cmdb.Scope, t *cmdb.Ticket, u cmdb.TicketUpdate) bool {
	if s.UserID == 0 || t.ReporterUserID != s.UserID || u.Status == nil || t.Status != cmdb.StatusResolved {
		return false
	}
	only := u.Title == nil && u.Description == nil && u.CategoryID == nil && u.Impact == nil && u.Urgency == nil &&
		u.Level == nil && u.ProviderID == nil && u.AssigneeUserID == nil && u.CIIDs == nil
	return only && (*u.Status == cmdb.StatusInProgress || *u.Status == cmdb.StatusClosed)
}

// UpdateTicket changes a ticket; see cmdb.TicketStore.
func (db *DB) UpdateTicket(ctx context.Context, s cmdb.Scope, id int64, u cmdb.TicketUpdate) (*cmdb.Ticket, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	var out *cmdb.Ticket
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		t, err := findTicket(ctx, tx, s, id, true)
		if err != nil {
			return err
		}
		if !staffOf(s, t) && !reporterMayApply(s, t, u) {
			return cmdb.Errorf(cmdb.EFORBIDDEN, "You may not change this ticket; add a comment instead.")
		}
		if t.Status == cmdb.StatusClosed {
			return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "status", Message: "The ticket is closed; a closed ticket cannot change. Open a new one."}
		}
		if err := checkSeen(ctx, tx, t, u); err != nil {
			return err
		}
		now := db.now()
		var cs []change
		str := func(field string, dst *string, v *string) {
			if v != nil && *v != *dst {
				cs = append(cs, change{field, *dst, *v})
				*dst = *v
			}
		}
		num := func(field string, dst *int64, v *int64) {
			if v != nil && *v != *dst {
				cs = append(cs, change{field, idText(*dst), idText(*v)})
				*dst = *v
			}
		}
		small := func(field string, dst *int, v *int) {
			if v != nil && *v != *dst {
				cs = append(cs, change{field, strconv.Itoa(*dst), strconv.Itoa(*v)})
				*dst = *v
			}
		}
		str("title", &t.Title, u.Title)
		str("description", &t.Description, u.Description)
		relink := u.CIIDs != nil && !slices.Equal(sortedIDs(*u.CIIDs), t.CIIDs)
		var classes []string
		if relink {
			if classes, err = checkTicketCIs(ctx, tx, s, t, *u.CIIDs); err != nil {
				return err
			}
			cs = append(cs, change{"ci_ids", joinIDs(t.CIIDs), joinIDs(sortedIDs(*u.CIIDs))})
		} else if err := tx.SelectContext(ctx, &classes, `SELECT c.class FROM ticket_cis x JOIN cis c ON c.id = x.ci_id WHERE x.ticket_id = $1`, t.ID); err != nil {
			return err
		}
		if relink && (u.CategoryID == nil || *u.CategoryID == t.CategoryID) {
			// The category must still fit the devices.
			if _, err := checkCategory(ctx, tx, t.AuthorityID, t.CategoryID, classes); err != nil {
				return err
			}
		}
		if u.CategoryID != nil && *u.CategoryID != t.CategoryID {
			name, err := checkCategory(ctx, tx, t.AuthorityID, *u.CategoryID, classes)
			if err != nil {
				return err
			}
			cs = append(cs, change{"category", t.Category, name})
			t.CategoryID, t.Category = *u.CategoryID, name
		}
		small("impact", &t.Impact, u.Impact)
		small("urgency", &t.Urgency, u.Urgency)
		if u.Impact != nil || u.Urgency != nil { // re-rated: by the authority's matrix of today
			m, err := priorityMatrix(ctx, tx, t.AuthorityID)
			if err != nil {
				return err
			}
			prio, err := m.Priority(t.Impact, t.Urgency)
			if err != nil {
				return err
			}
			small("priority", &t.Priority, &prio)
		}
		small("level", &t.Level, u.Level)
		if u.ProviderID != nil || u.AssigneeUserID != nil {
			p, a := t.ProviderID, t.AssigneeUserID
			if u.ProviderID != nil {
				p = *u.ProviderID
			}
			if u.AssigneeUserID != nil {
				a = *u.AssigneeUserID
			} else if p != t.ProviderID {
				a = 0 // handed to another group: its person is not ours
			}
			check := a // only a new assignment is checked, so that an unchanged one never blocks an edit
			if a == t.AssigneeUserID && p == t.ProviderID {
				check = 0
			}
			if err := checkAssignee(ctx, tx, t.AuthorityID, t.SchoolID, p, check, p != t.ProviderID); err != nil {
				return err
			}
			num("provider_id", &t.ProviderID, &p)
			num("assignee_user_id", &t.AssigneeUserID, &a)
		}
		oldStatus := t.Status
		if u.Status != nil && *u.Status != t.Status {
			if err := cmdb.CheckTransition(t.Status, *u.Status, t.ResolvedAt, now, cmdb.DefaultReopenWindow); err != nil {
				return err
			}
			switch *u.Status {
			case cmdb.StatusResolved:
				t.ResolvedAt = &now
			case cmdb.StatusClosed:
				t.ClosedAt = &now
			default:
				t.ResolvedAt = nil // a reopen
			}
			str("status", &t.Status, u.Status)
		}
		if len(cs) == 0 && u.Solution == nil {
			out = t
			return nil
		}
		if len(cs) > 0 {
			if err := writeTicketChange(ctx, tx, s, t, u, cs, relink, now); err != nil {
				return err
			}
		}
		if u.Solution != nil {
			if err := db.addComment(ctx, tx, s, t, solution(u), s.Source()); err != nil {
				return err
			}
		}
		out, err = findTicket(ctx, tx, cmdb.AdminScope(s.Subject), t.ID, false)
		if err != nil || out.Status == oldStatus {
			return err
		}
		return db.notifyTicket(ctx, tx, s, cmdb.TicketEvent{Kind: cmdb.NotifyStatusChanged, Ticket: out, OldStatus: oldStatus},
			fmt.Sprintf("%s.%d", out.Status, now.UnixNano()))
	})
	db.settleSLA(out)
	return out, mapErr("postgres.UpdateTicket", err)
}

// writeTicketChange writes the changes cs of update u to t (its row, its
// CIs when relinked, its history and its SLA), in tx.
func writeTicketChange(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, t *cmdb.Ticket, u cmdb.TicketUpdate, cs []change, relink bool, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE tickets SET title = $2, description = $3, category_id = $4, impact = $5, urgency = $6,
		priority = $7, level = $8, provider_id = $9, assignee_user_id = $10, status = $11, resolved_at = $12, closed_at = $13,
		updated_at = $14 WHERE id = $1`, t.ID, t.Title, t.Description, t.CategoryID, t.Impact, t.Urgency, t.Priority, t.Level,
		nullID(t.ProviderID), nullID(t.AssigneeUserID), t.Status, t.ResolvedAt, t.ClosedAt, now)
	if err != nil {
		return err
	}
	if relink {
		if _, err := tx.ExecContext(ctx, `DELETE FROM ticket_cis WHERE ticket_id = $1`, t.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_cis (ticket_id, ci_id) SELECT $1, unnest($2::bigint[])`, t.ID, pq.Array(*u.CIIDs)); err != nil {
			return err
		}
		if err := repeatFailuresAfterLink(ctx, tx, t.AuthorityID, append(slices.Clone(t.CIIDs), *u.CIIDs...), now); err != nil {
			return err
		}
	}
	if err := addTicketHistory(ctx, tx, t.ID, now, s, u.Channel, cs); err != nil {
		return err
	}
	return slaAfterUpdate(ctx, tx, s, t, cs, now)
}

// solution is the public comment an update carries.
func solution(u cmdb.TicketUpdate) *cmdb.TicketComment {
	ch := u.Channel
	if ch == "" {
		ch = cmdb.ChannelAPI
	}
	return &cmdb.TicketComment{Body: *u.Solution, Channel: ch}
}

// checkTicketCIs checks CIs newly linked to a ticket: visible to the
// scope, not merged, in the ticket's authority and (if it has one) school.
// It returns their classes.
func checkTicketCIs(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, t *cmdb.Ticket, ids []int64) ([]string, error) {
	var classes []string
	for i, id := range ids {
		field := fmt.Sprintf("ci_ids[%d]", i)
		auth, school, class, err := ticketCI(ctx, tx, s, field, id)
		switch {
		case err != nil:
			return nil, err
		case auth != t.AuthorityID:
			return nil, unknownRef(field, "CI", id)
		case t.SchoolID != 0 && school != 0 && school != t.SchoolID:
			return nil, cmdb.Invalid(field, "lies in another school than the ticket; open one ticket per school")
		}
		classes = append(classes, class)
	}
	return classes, nil
}

func sortedIDs(ids []int64) []int64 { return slices.Sorted(slices.Values(ids)) }

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

func idText(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// AddTicketComment adds a comment; see cmdb.TicketStore.
func (db *DB) AddTicketComment(ctx context.Context, s cmdb.Scope, c *cmdb.TicketComment) error {
	if err := c.Validate(); err != nil {
		return err
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		t, err := findTicket(ctx, tx, s, c.TicketID, true)
		if err != nil {
			return err
		}
		return db.addComment(ctx, tx, s, t, c, s.Source())
	})
	return mapErr("postgres.AddTicketComment", err)
}

// addComment adds comment c by author to t, which the caller found with a
// row lock in tx for scope s.
func (db *DB) addComment(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, t *cmdb.Ticket, c *cmdb.TicketComment, author string) error {
	if c.Internal && !staffOf(s, t) {
		return &cmdb.Error{Code: cmdb.EFORBIDDEN, Field: "internal", Message: "Only IT staff and the assigned provider write internal comments."}
	}
	if t.Status == cmdb.StatusClosed {
		return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "status", Message: "The ticket is closed; comments are no longer taken. Open a new ticket."}
	}
	now := db.now()
	if s.UserID != 0 {
		// A double submit: the caller's same text is still the newest
		// comment. The ticket's row lock orders two at once.
		var first struct {
			ID int64     `db:"id"`
			At time.Time `db:"created_at"`
		}
		err := tx.GetContext(ctx, &first, `SELECT id, created_at FROM (SELECT id, author_user_id, body, internal, created_at
			FROM ticket_comments WHERE ticket_id = $1 ORDER BY id DESC LIMIT 1) c
			WHERE author_user_id = $2 AND body = $3 AND internal = $4 AND created_at > $5`,
			t.ID, s.UserID, c.Body, c.Internal, now.Add(-cmdb.DoubleSubmitWindow))
		if err == nil {
			c.ID, c.Author, c.AuthorUserID, c.CreatedAt = first.ID, author, s.UserID, first.At
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	c.Author, c.AuthorUserID, c.CreatedAt = author, s.UserID, now
	if err := tx.GetContext(ctx, &c.ID, `INSERT INTO ticket_comments (ticket_id, author, author_user_id, body, internal, channel, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, t.ID, c.Author, nullID(c.AuthorUserID), c.Body, c.Internal, c.Channel, now); err != nil {
		return err
	}
	field := "comment"
	if c.Internal {
		field = "internal_comment"
	}
	if _, err := tx.ExecContext(ctx, `UPDATE tickets SET updated_at = $2 WHERE id = $1`, t.ID, now); err != nil {
		return err
	}
	if err := slaAfterComment(ctx, tx, s, t, c, now); err != nil {
		return err
	}
	if err := addTicketHistory(ctx, tx, t.ID, now, s, c.Channel, []change{{field, "", idText(c.ID)}}); err != nil {
		return err
	}
	return db.notifyComment(ctx, tx, s, t, c)
}

// FindTicketComments lists a ticket's comments; see cmdb.TicketStore.
func (db *DB) FindTicketComments(ctx context.Context, s cmdb.Scope, ticketID int64) ([]*cmdb.TicketComment, error) {
	t, err := findTicket(ctx, db.db, s, ticketID, false)
	if err != nil {
		return nil, err
	}
	rows, err := db.db.QueryxContext(ctx, `SELECT id, ticket_id, author, coalesce(author_user_id, 0), body, internal, channel, created_at
		FROM ticket_comments WHERE ticket_id = $1 AND (NOT internal OR $2) ORDER BY id`, t.ID, staffOf(s, t))
	if err != nil {
		return nil, mapErr("postgres.FindTicketComments", err)
	}
	defer rows.Close()
	out := []*cmdb.TicketComment{}
	for rows.Next() {
		var c cmdb.TicketComment
		if err := rows.Scan(&c.ID, &c.TicketID, &c.Author, &c.AuthorUserID, &c.Body, &c.Internal, &c.Channel, &c.CreatedAt); err != nil {
			return nil, mapErr("postgres.FindTicketComments", err)
		}
		out = append(out, &c)
	}
	return out, mapErr("postgres.FindTicketComments", rows.Err())
}

// AddTicketWatcher adds the caller to the people affected; see
// cmdb.TicketStore.
func (db *DB) AddTicketWatcher(ctx context.Context, s cmdb.Scope, ticketID int64) (*cmdb.Ticket, error) {
	if s.UserID == 0 {
		return nil, cmdb.Invalid("user", "only a signed-in person can join a ticket, not an integration token")
	}
	var out *cmdb.Ticket
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		t, err := findTicket(ctx, tx, s, ticketID, true)
		if err != nil {
			return err
		}
		if !t.Open() {
			return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "status", Message: fmt.Sprintf("The ticket is %s; only open tickets can be joined.", t.Status)}
		}
		now := db.now()
		res, err := tx.ExecContext(ctx, `INSERT INTO ticket_watchers (ticket_id, user_id, created_at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, t.ID, s.UserID, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if err := addTicketHistory(ctx, tx, t.ID, now, s, cmdb.ChannelAPI, []change{{"watcher", "", "user:" + idText(s.UserID)}}); err != nil {
				return err
			}
		}
		out, err = findTicket(ctx, tx, cmdb.AdminScope(s.Subject), t.ID, false)
		return err
	})
	return out, mapErr("postgres.AddTicketWatcher", err)
}

// FindTicketHistory lists a ticket's changes, oldest first; callers who
// may not read internal comments do not see that they were written.
func (db *DB) FindTicketHistory(ctx context.Context, s cmdb.Scope, ticketID int64) ([]*cmdb.TicketHistoryEntry, error) {
	t, err := findTicket(ctx, db.db, s, ticketID, false)
	if err != nil {
		return nil, err
	}
	rows, err := db.db.QueryxContext(ctx, `SELECT id, ticket_id, at, subject, channel, field, old_value, new_value
		FROM ticket_history WHERE ticket_id = $1 AND (field NOT IN ('internal_comment', 'internal_attachment') OR $2) ORDER BY id`, t.ID, staffOf(s, t))
	if err != nil {
		return nil, mapErr("postgres.FindTicketHistory", err)
	}
	defer rows.Close()
	out := []*cmdb.TicketHistoryEntry{}
	for rows.Next() {
		var h cmdb.TicketHistoryEntry
		if err := rows.Scan(&h.ID, &h.TicketID, &h.At, &h.Subject, &h.Channel, &h.Field, &h.Old, &h.New); err != nil {
			return nil, mapErr("postgres.FindTicketHistory", err)
		}
		out = append(out, &h)
	}
	return out, mapErr("postgres.FindTicketHistory", rows.Err())
}

// FindTicketCategories lists the categories of a class (all for ""), the
// general ones included: the defaults and those of the authorities the
// caller belongs to.
func (db *DB) FindTicketCategories(ctx context.Context, s cmdb.Scope, class string) ([]*cmdb.TicketCategory, error) {
	if class != "" && class != "general" && !slices.Contains(cmdb.Classes, class) {
		return nil, cmdb.Invalid("class", "must be general or a CI class, not %q", class)
	}
	var w where
	w.add("active")
	if class != "" {
		w.add("class IN (?, 'general')", class)
	}
	if !s.Admin {
		w.add(`(authority_id IS NULL OR authority_id = ANY(?) OR authority_id IN (SELECT authority_id FROM schools WHERE id = ANY(?))
			OR authority_id IN (SELECT authority_id FROM provider_contracts WHERE provider_id = ANY(?)))`,
			pq.Array(s.Authorities), pq.Array(s.VisibleSchools()), pq.Array(s.Providers))
		hiddenCategories(&w, s)
	}
	rows, err := db.db.QueryxContext(ctx, rebind(`SELECT id, coalesce(authority_id, 0), class, name, position, active FROM ticket_categories WHERE `+
		w.String()+` ORDER BY class = 'general', class, position, name`), w.args...)
	if err != nil {
		return nil, mapErr("postgres.FindTicketCategories", err)
	}
	defer rows.Close()
	out := []*cmdb.TicketCategory{}
	for rows.Next() {
		var c cmdb.TicketCategory
		if err := rows.Scan(&c.ID, &c.AuthorityID, &c.Class, &c.Name, &c.Position, &c.Active); err != nil {
			return nil, mapErr("postgres.FindTicketCategories", err)
		}
		out = append(out, &c)
	}
	return out, mapErr("postgres.FindTicketCategories", rows.Err())
}

// CloseResolvedTickets closes every ticket resolved longer ago than
// window (the reporter did not reopen it) and records the change as
// "system:auto-close". It returns how many it closed. It is the job of
// one replica at a time (the scheduler's), but safe to run on several.
func (db *DB) CloseResolvedTickets(ctx context.Context, window time.Duration) (int, error) {
	now := db.now()
	var n int
	err := db.db.GetContext(ctx, &n, `WITH closed AS (
			UPDATE tickets SET status = 'closed', closed_at = $1, updated_at = $1
			WHERE status = 'resolved' AND resolved_at <= $2 RETURNING id),
		logged AS (
			INSERT INTO ticket_history (ticket_id, at, subject, channel, field, old_value, new_value)
			SELECT id, $1, 'system:auto-close', 'api', 'status', 'resolved', 'closed' FROM closed RETURNING 1)
		SELECT count(*) FROM logged`, now, now.Add(-window))
	return n, mapErr("postgres.CloseResolvedTickets", err)
}
