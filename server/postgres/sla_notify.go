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
//
// A stub: the ticket e-mail work (the outbox notifications built on
// another branch) replaces it at merge.
func (db *DB) notifySLAWarning(ctx context.Context, tx *sqlx.Tx, t *cmdb.Ticket, which string) error {
	return nil
}
