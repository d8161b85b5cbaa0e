package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/cmdb"
)

// Default retention of metric values.
const (
	DefaultRawRetention    = 90 * 24 * time.Hour
	DefaultHourlyRetention = 365 * 24 * time.Hour
	DefaultDailyRetention  = 5 * 365 * 24 * time.Hour
	defaultRollupBatch     = 50_000
)

// Retention says how long metric values are kept: raw values as polled,
// hourly and daily aggregates of them (min, max, avg, last, count).
type Retention struct {
	// Raw, Hourly and Daily are the ages after which values of each
	// resolution are deleted; zero means DefaultRawRetention,
	// DefaultHourlyRetention and DefaultDailyRetention.
	Raw, Hourly, Daily time.Duration
	// BatchRows bounds the rows one deletion transaction removes; 0 means 50,000.
	BatchRows int
}

// withDefaults fills zero fields.
func (r Retention) withDefaults() Retention {
	if r.Raw == 0 {
		r.Raw = DefaultRawRetention
	}
	if r.Hourly == 0 {
		r.Hourly = DefaultHourlyRetention
	}
	if r.Daily == 0 {
		r.Daily = DefaultDailyRetention
	}
	if r.BatchRows <= 0 {
		r.BatchRows = defaultRollupBatch
	}
	return r
}

// Check validates the retention (zero fields taking their defaults):
// raw at least 2 hours, hourly at least as long as raw and at least 2
// days, daily at least as long as hourly. Errors name the setting.
func (r Retention) Check() error {
	r = r.withDefaults()
	switch {
	case r.Raw < 2*time.Hour:
		return cmdb.Invalid("metrics_raw_retention", "must be at least 2h")
	case r.Hourly < r.Raw || r.Hourly < 48*time.Hour:
		return cmdb.Invalid("metrics_hourly_retention", "must be at least 48h and at least the raw retention")
	case r.Daily < r.Hourly:
		return cmdb.Invalid("metrics_daily_retention", "must be at least the hourly retention")
	}
	return nil
}

// RollupStats says what one RollupMetrics run did.
type RollupStats struct {
	Hours, Days                             int   // hourly and daily buckets aggregated
	RawDeleted, HourlyDeleted, DailyDeleted int64 // rows deleted
	Transactions                            int
}

// RollupMetrics downsamples the metric time series, as of the DB's clock:
// every complete hour (UTC) gets its hourly aggregates from the raw
// values, every complete day (UTC) its daily aggregates from the hourly
// ones, then raw values older than the raw retention, hourly ones older
// than the hourly retention and daily ones older than the daily retention
// are deleted. Each hour, day and deletion batch of at most BatchRows rows
// is its own transaction, and progress is kept in the database, so an
// interrupted run loses nothing and a second run changes nothing. Values
// are only deleted once they have been aggregated. Concurrent runs are
// serialised by a row lock.
func (db *DB) RollupMetrics(ctx context.Context) (RollupStats, error) {
	var st RollupStats
	ret := db.opts.MetricRetention.withDefaults()
	if err := ret.Check(); err != nil {
		return st, err
	}
	now := db.now().UTC()
	ok, err := db.initRollupState(ctx)
	if err != nil || !ok {
		return st, mapErr("postgres.RollupMetrics", err)
	}
	if err := db.rollup(ctx, hourlyLevel(now.Truncate(time.Hour)), &st); err != nil {
		return st, mapErr("postgres.RollupMetrics", err)
	}
	if err := db.rollup(ctx, dailyLevel, &st); err != nil {
		return st, mapErr("postgres.RollupMetrics", err)
	}
	var hourlyDone, dailyDone time.Time
	if err := db.db.QueryRowxContext(ctx, `SELECT hourly_done, daily_done FROM metric_rollup_state`).Scan(&hourlyDone, &dailyDone); err != nil {
		return st, mapErr("postgres.RollupMetrics", err)
	}
	for _, d := range []struct {
		table, col string
		before     time.Time
		n          *int64
	}{
		{"ci_metrics", "at", minTime(now.Add(-ret.Raw), hourlyDone), &st.RawDeleted},
		{"ci_metrics_hourly", "bucket", minTime(now.Add(-ret.Hourly), dailyDone), &st.HourlyDeleted},
		{"ci_metrics_daily", "bucket", now.Add(-ret.Daily), &st.DailyDeleted},
	} {
		for {
			res, err := db.db.ExecContext(ctx, `DELETE FROM `+d.table+` WHERE ctid = ANY(ARRAY(
				SELECT ctid FROM `+d.table+` WHERE `+d.col+` < $1 LIMIT $2))`, d.before, ret.BatchRows)
			if err != nil {
				return st, mapErr("postgres.RollupMetrics", err)
			}
			st.Transactions++
			n, _ := res.RowsAffected()
			*d.n += n
			if n < int64(ret.BatchRows) {
				break
			}
		}
	}
	return st, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// initRollupState creates the progress row from the oldest raw value;
// false when there is no state and no value yet.
func (db *DB) initRollupState(ctx context.Context) (bool, error) {
	var n int
	if err := db.db.GetContext(ctx, &n, `SELECT count(*) FROM metric_rollup_state`); err != nil || n > 0 {
		return n > 0, err
	}
	var oldest sql.NullTime
	if err := db.db.GetContext(ctx, &oldest, `SELECT min(at) FROM ci_metrics`); err != nil || !oldest.Valid {
		return false, err
	}
	h := oldest.Time.UTC().Truncate(time.Hour)
	_, err := db.db.ExecContext(ctx, `INSERT INTO metric_rollup_state (hourly_done, daily_done) VALUES ($1, $2)
		ON CONFLICT DO NOTHING`, h, h.Truncate(24*time.Hour))
	return err == nil, err
}

// errRollupDone ends a rollup loop from inside its transaction.
var errRollupDone = errors.New("rollup done")

// A rollupLevel is one step of the rollup: raw values into hourly
// buckets, or hourly buckets into daily ones. Column names and SQL are
// constants of this file, never input.
type rollupLevel struct {
	done   string        // the metric_rollup_state column that says how far this level got
	width  time.Duration // bucket width
	next   string        // SQL: the earliest source time in [$1, $2)
	insert string        // SQL: aggregate the source of bucket [$1, $2) into this level
	// end says up to where the level may aggregate, given how far the
	// hourly level got (locked in the same transaction).
	end   func(hourlyDone time.Time) time.Time
	count func(*RollupStats) *int
}

const upsertBucket = `
	ON CONFLICT (ci_id, name, bucket) DO UPDATE SET min = excluded.min, max = excluded.max,
		avg = excluded.avg, last = excluded.last, count = excluded.count`

// hourlyLevel aggregates the raw values of every complete hour before end.
func hourlyLevel(end time.Time) rollupLevel {
	return rollupLevel{done: "hourly_done", width: time.Hour,
		next: `SELECT min(at) FROM ci_metrics WHERE at >= $1 AND at < $2`,
		insert: `INSERT INTO ci_metrics_hourly (ci_id, name, bucket, min, max, avg, last, count)
			SELECT ci_id, name, $1, min(value), max(value), avg(value), (array_agg(value ORDER BY at DESC))[1], count(*)
			FROM ci_metrics WHERE at >= $1 AND at < $2 GROUP BY ci_id, name` + upsertBucket,
		end:   func(time.Time) time.Time { return end },
		count: func(st *RollupStats) *int { return &st.Hours },
	}
}

// dailyLevel aggregates the hourly values of every day whose hours are all
// aggregated.
var dailyLevel = rollupLevel{done: "daily_done", width: 24 * time.Hour,
	next: `SELECT min(bucket) FROM ci_metrics_hourly WHERE bucket >= $1 AND bucket < $2`,
	insert: `INSERT INTO ci_metrics_daily (ci_id, name, bucket, min, max, avg, last, count)
		SELECT ci_id, name, $1, min(min), max(max), sum(avg * count) / sum(count),
			(array_agg(last ORDER BY bucket DESC))[1], sum(count)
		FROM ci_metrics_hourly WHERE bucket >= $1 AND bucket < $2 GROUP BY ci_id, name` + upsertBucket,
	end:   func(hourlyDone time.Time) time.Time { return hourlyDone.Truncate(24 * time.Hour) },
	count: func(st *RollupStats) *int { return &st.Days },
}

// rollup aggregates one level bucket by bucket, one bucket per
// transaction, skipping buckets without values, until it reaches the
// level's end.
func (db *DB) rollup(ctx context.Context, l rollupLevel, st *RollupStats) error {
	for {
		err := db.inTx(ctx, func(tx *sqlx.Tx) error {
			var hourlyDone, done time.Time
			if err := tx.QueryRowxContext(ctx, `SELECT hourly_done, `+l.done+` FROM metric_rollup_state FOR UPDATE`).
				Scan(&hourlyDone, &done); err != nil {
				return err
			}
			end := l.end(hourlyDone.UTC())
			done = done.UTC()
			if !done.Before(end) {
				return errRollupDone
			}
			var next sql.NullTime
			if err := tx.GetContext(ctx, &next, l.next, done, end); err != nil {
				return err
			}
			if !next.Valid { // nothing more to aggregate before end
				_, err := tx.ExecContext(ctx, `UPDATE metric_rollup_state SET `+l.done+` = $1`, end)
				return err
			}
			from := next.Time.UTC().Truncate(l.width)
			to := from.Add(l.width)
			if _, err := tx.ExecContext(ctx, l.insert, from, to); err != nil {
				return err
			}
			*l.count(st)++
			_, err := tx.ExecContext(ctx, `UPDATE metric_rollup_state SET `+l.done+` = $1`, to)
			return err
		})
		st.Transactions++
		if errors.Is(err, errRollupDone) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// FindMetricSeries returns a visible CI's metric values in a time range,
// newest first, at the resolution the query asks for or, for auto, the
// finest one the retention still keeps for the range's start. Aggregates
// cover the complete hours and days up to the last RollupMetrics run.
func (db *DB) FindMetricSeries(ctx context.Context, s cmdb.Scope, ciID int64, q cmdb.MetricQuery) (*cmdb.MetricSeries, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	if _, err := db.FindCIByID(ctx, s, ciID); err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	res := q.Resolution
	if res == "" || res == cmdb.MetricAuto {
		ret := db.opts.MetricRetention.withDefaults()
		now := db.now()
		switch {
		case q.From.IsZero() || !q.From.Before(now.Add(-ret.Raw)):
			res = cmdb.MetricRaw
		case !q.From.Before(now.Add(-ret.Hourly)):
			res = cmdb.MetricHourly
		default:
			res = cmdb.MetricDaily
		}
	}
	var from, to any // NULL: unbounded
	if !q.From.IsZero() {
		from = q.From
	}
	if !q.To.IsZero() {
		to = q.To
	}
	out := &cmdb.MetricSeries{Resolution: res, Items: []*cmdb.Metric{}}
	var err error
	if res == cmdb.MetricRaw {
		err = db.db.SelectContext(ctx, &out.Items, `SELECT name, at, value FROM ci_metrics
			WHERE ci_id = $1 AND ($2 = '' OR name = $2) AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
			ORDER BY at DESC, name LIMIT $5`, ciID, q.Name, from, to, limit)
	} else {
		table := "ci_metrics_hourly"
		if res == cmdb.MetricDaily {
			table = "ci_metrics_daily"
		}
		// A bucket overlapping the range counts: it starts before To and ends after From.
		width := "1 hour"
		if res == cmdb.MetricDaily {
			width = "1 day"
		}
		err = db.db.SelectContext(ctx, &out.Items, `SELECT name, bucket AS at, avg AS value, min, max, last, count FROM `+table+`
			WHERE ci_id = $1 AND ($2 = '' OR name = $2) AND ($3::timestamptz IS NULL OR bucket > $3::timestamptz - interval '`+width+`')
				AND ($4::timestamptz IS NULL OR bucket < $4)
			ORDER BY bucket DESC, name LIMIT $5`, ciID, q.Name, from, to, limit)
	}
	if err != nil {
		return nil, mapErr("postgres.FindMetricSeries", err)
	}
	for _, m := range out.Items {
		m.At = m.At.UTC()
	}
	return out, nil
}
