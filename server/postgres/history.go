package postgres

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// historyEntry is one row of a CI's history: Attr went from Old to New
// ("" is unset), said by Source at At.
type historyEntry struct {
	CIID   int64     `json:"ci_id"`
	Attr   string    `json:"attr"`
	Old    string    `json:"old"`
	New    string    `json:"new"`
	Source string    `json:"source"`
	At     time.Time `json:"at"`
}

// writeHistory appends entries to ci_history in one statement. It is the
// only writer of ci_history (reconcile, merge, locks, relations,
// software), so that every entry has one shape: "" is stored as NULL.
func writeHistory(ctx context.Context, ex sqlx.ExecerContext, entries ...historyEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if tx, ok := ex.(*sqlx.Tx); ok && len(entries) >= copyMin {
		return copyRows(ctx, tx, "ci_history", []string{"ci_id", "attr", "old", "new", "source", "at"}, len(entries), func(i int) []any {
			e := &entries[i]
			return []any{e.CIID, e.Attr, nullIfEmpty(e.Old), nullIfEmpty(e.New), e.Source, e.At}
		})
	}
	_, err := ex.ExecContext(ctx, `INSERT INTO ci_history (ci_id, attr, old, new, source, at)
		SELECT ci_id, attr, NULLIF(old, ''), NULLIF(new, ''), source, at
		FROM jsonb_to_recordset($1::jsonb) AS x(ci_id bigint, attr text, old text, new text, source text, at timestamptz)`, mustJSON(entries))
	return err
}
