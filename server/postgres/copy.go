package postgres

import (
	"context"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// copyMin is the number of rows from which a bulk insert goes through
// COPY: below it the one round trip of an INSERT … SELECT is cheaper than
// COPY's three (prepare, rows, end).
const copyMin = 64

// copyRows appends n rows to table with COPY FROM STDIN inside tx. It
// has no ON CONFLICT: callers use it only for rows that cannot collide
// (new ids, append-only history). COPY skips the JSON encoding and the
// executor's per-row work of INSERT … SELECT FROM jsonb_to_recordset,
// which was most of the cost of a connector's first sync.
func copyRows(ctx context.Context, tx *sqlx.Tx, table string, cols []string, n int, row func(i int) []any) error {
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = pq.QuoteIdentifier(c)
	}
	stmt, err := tx.PrepareContext(ctx, "COPY "+pq.QuoteIdentifier(table)+" ("+strings.Join(quoted, ", ")+") FROM STDIN")
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range n {
		if _, err := stmt.ExecContext(ctx, row(i)...); err != nil {
			return err
		}
	}
	_, err = stmt.ExecContext(ctx)
	return err
}

// nullIfEmpty sends an empty string as NULL for COPY, as NULLIF does.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullIfZero is NULLIF(v, 0) for COPY.
func nullIfZero(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}
