package postgres

import (
	"context"
	"database/sql"
	"errors"

	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

// FindPersonName names a user the caller meets; see cmdb.TicketStore. A
// provider's staff are not users the authority's IT may list, nor the
// authority's IT users a provider may list, yet each must see who wrote
// and who works on the tickets they share.
func (db *DB) FindPersonName(ctx context.Context, s cmdb.Scope, userID int64) (string, error) {
	var user, tickets where
	userVisible(&user, s)
	ticketScope(&tickets, s)
	// A comment is read by everyone who sees its ticket when it is
	// public, and by the ticket's staff (staffOf) when it is internal.
	args := append(append([]any{userID}, user.args...), tickets.args...)
	args = append(args, tickets.args...)
	args = append(args, s.Admin, pq.Array(s.Authorities), pq.Array(s.Schools), pq.Array(s.Providers))
	var name string
	err := db.db.GetContext(ctx, &name, rebind(`SELECT CASE WHEN u.name <> '' THEN u.name ELSE u.email END FROM users u
		WHERE u.id = ? AND (`+user.String()+`
			OR EXISTS (SELECT 1 FROM tickets t WHERE (t.reporter_user_id = u.id OR t.assignee_user_id = u.id) AND `+tickets.String()+`)
			OR EXISTS (SELECT 1 FROM ticket_comments c JOIN tickets t ON t.id = c.ticket_id
				WHERE c.author_user_id = u.id AND `+tickets.String()+`
				AND (NOT c.internal OR ? OR t.authority_id = ANY(?) OR t.school_id = ANY(?) OR t.provider_id = ANY(?))))`), args...)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("user", userID)
	}
	return name, mapErr("postgres.FindPersonName", err)
}

// FindJoinedTickets says which tickets the caller joined; see
// cmdb.TicketStore. Only the caller's own joins are read, of tickets it
// sees.
func (db *DB) FindJoinedTickets(ctx context.Context, s cmdb.Scope, ticketIDs []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if s.UserID == 0 || len(ticketIDs) == 0 {
		return out, nil
	}
	var w where
	ticketScope(&w, s)
	var ids []int64
	err := db.db.SelectContext(ctx, &ids, rebind(`SELECT t.id FROM tickets t JOIN ticket_watchers x ON x.ticket_id = t.id AND x.user_id = ?
		WHERE t.id = ANY(?) AND `+w.String()), append([]any{s.UserID, pq.Array(ticketIDs)}, w.args...)...)
	for _, id := range ids {
		out[id] = true
	}
	return out, mapErr("postgres.FindJoinedTickets", err)
}

// FindRecentRooms lists the rooms of the caller's own reports in a
// school; see cmdb.TicketStore.
func (db *DB) FindRecentRooms(ctx context.Context, s cmdb.Scope, schoolID int64, limit int) ([]int64, error) {
	out := []int64{}
	if s.UserID == 0 {
		return out, nil
	}
	if limit <= 0 || limit > 20 {
		limit = 5
	}
	// The caller's own tickets (tickets_reporter), newest first; a device's
	// room is where it is now. Rooms are checked against the school, so a
	// device moved elsewhere does not bring another school's room along.
	err := db.db.SelectContext(ctx, &out, `SELECT room FROM (
			SELECT coalesce(t.room_id, c.room_id) AS room, max(t.created_at) AS at
			FROM tickets t LEFT JOIN ticket_cis x ON x.ticket_id = t.id LEFT JOIN cis c ON c.id = x.ci_id
			WHERE t.reporter_user_id = $1 AND t.school_id = $2
			GROUP BY 1) r
		JOIN rooms ro ON ro.id = r.room AND ro.school_id = $2
		ORDER BY r.at DESC, r.room LIMIT $3`, s.UserID, schoolID, limit)
	return out, mapErr("postgres.FindRecentRooms", err)
}
