package postgres

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/cmdb"
)

// notifySLAWarning queues the mail that warns the assignee group of t that
// its due time which ("first_response" or "resolve") is near, inside tx
// (the warning job's transaction, so a warning is marked sent exactly when
// its mail is queued).
func (db *DB) notifySLAWarning(ctx context.Context, tx *sqlx.Tx, t *cmdb.Ticket, which string) error {
	ev := cmdb.TicketEvent{Kind: cmdb.NotifySLAWarning, Ticket: t, Target: which}
	if t.SLA != nil {
		due := t.SLA.ResolveDue
		if which == "first_response" {
			due = t.SLA.FirstResponseDue
		}
		if due != nil {
			ev.Due = *due
		}
	}
	return db.notifyTicket(ctx, tx, cmdb.AdminScope("system:sla"), ev, which)
}
