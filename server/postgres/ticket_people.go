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
