package postgres

import (
	"context"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

var _ cmdb.MetricPlotStore = (*DB)(nil)

// FindMetricPlot thins the daily rollups in the database, so that a
// plot of two years reads a few hundred rows per series; see
// cmdb.MetricPlotStore.
func (db *DB) FindMetricPlot(ctx context.Context, s cmdb.Scope, ciID int64, from time.Time, points int) ([]*cmdb.Metric, error) {
	if points < 2 || points > 2000 {
		return nil, cmdb.Invalid("points", "must be 2 to 2000")
	}
	if _, err := db.FindCIByID(ctx, s, ciID); err != nil {
		return nil, err
	}
	type row struct {
		Name  string    `db:"name"`
		At    time.Time `db:"at"`
		Value float64   `db:"value"`
		Last  float64   `db:"last"`
		Count int       `db:"count"`
	}
	var rows []row
	// The bucket is whole days, wide enough for points buckets over the
	// days there are (one day when they are few).
	// A counter never falls, so a bucket's last value is its largest;
	// Last is only read for counters.
	err := db.db.SelectContext(ctx, &rows, `WITH d AS MATERIALIZED (
			SELECT name, bucket, avg, last, (extract(epoch FROM bucket) / 86400)::int AS day
			FROM ci_metrics_daily WHERE ci_id = $1 AND bucket >= $2),
		r AS (SELECT min(day) AS lo, greatest(1, ceil((max(day) - min(day) + 1) / $3::float8))::int AS days FROM d)
		SELECT name, to_timestamp(avg(day) * 86400) AS at, avg(avg) AS value, max(last) AS last, count(*) AS count
		FROM d, r GROUP BY name, (day - r.lo) / r.days
		ORDER BY name, at`, ciID, from, points)
	if err != nil {
		return nil, mapErr("postgres.FindMetricPlot", err)
	}
	out := make([]*cmdb.Metric, len(rows))
	for i, r := range rows {
		last := r.Last
		out[i] = &cmdb.Metric{Name: r.Name, At: r.At.UTC(), Value: r.Value, Last: &last, Count: r.Count}
	}
	return out, nil
}
