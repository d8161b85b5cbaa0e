package postgres

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/cmdb"
)

// EnqueueMailTx exposes enqueueMail, the in-transaction enqueue that
// store code (tickets) uses, to the tests.
func EnqueueMailTx(ctx context.Context, db *DB, tx *sqlx.Tx, m *cmdb.OutboundMail) (bool, error) {
	return db.enqueueMail(ctx, tx, m)
}
