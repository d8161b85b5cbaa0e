package loadgen

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Verify checks in the database that every acknowledged report was
// committed: for each device in acked (device id → highest acknowledged
// seq), devices.last_seq must be at least that seq. It returns how many
// devices fall short (or are missing).
func Verify(ctx context.Context, db *sqlx.DB, acked map[string]uint64) (lost int, err error) {
	ids := make([]string, 0, len(acked))
	for id := range acked {
		ids = append(ids, id)
	}
	have := make(map[string]uint64, len(ids))
	const chunk = 5000
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		rows, err := db.QueryContext(ctx, `SELECT id::text, last_seq FROM devices WHERE id = ANY($1::uuid[])`, pq.Array(ids[:n]))
		if err != nil {
			return 0, fmt.Errorf("loadgen.Verify: %w", err)
		}
		for rows.Next() {
			var id string
			var seq int64
			if err := rows.Scan(&id, &seq); err != nil {
				rows.Close()
				return 0, fmt.Errorf("loadgen.Verify: %w", err)
			}
			have[id] = uint64(seq)
		}
		if err := rows.Close(); err != nil {
			return 0, fmt.Errorf("loadgen.Verify: %w", err)
		} else if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("loadgen.Verify: %w", err)
		}
		ids = ids[n:]
	}
	for id, seq := range acked {
		if got, ok := have[id]; !ok || got < seq {
			lost++
		}
	}
	return lost, nil
}
