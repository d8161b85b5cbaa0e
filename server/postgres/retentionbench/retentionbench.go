// Package retentionbench measures what metric retention does to the size
// of the database: it simulates SNMP polls of a fleet day by day (one
// generate_series insert per day), runs the retention job as the server
// would (RollupMetrics after every simulated day, then VACUUM as
// autovacuum would) and prints the sizes of the metric tables along the
// way, with the size the raw table would have reached without retention.
// `cmdbd bench retention` calls Command.
package retentionbench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/pgembed"
	"github.com/schulit/cmdb/server/postgres"
)

// metricNames are the series of one simulated device, as a printer has
// them (page counter, four supplies, error and alert counts, a status).
var metricNames = []string{"counter.pages", "supply.1.percent", "supply.2.percent", "supply.3.percent",
	"supply.4.percent", "printer.errors", "printer.alerts", "printer.status"}

// Options for Run.
type Options struct {
	Devices   int                // simulated devices (default 5000)
	Days      int                // simulated days (default 365)
	Metrics   int                // series per device, at most 8 (default 8)
	Interval  time.Duration      // poll interval (default 15m)
	Retention postgres.Retention // zero fields: the server's defaults
	Report    int                // print sizes every this many days (default 30)
	Out       io.Writer          // where the report goes; nil discards it
}

// Sizes are the rows and bytes (pg_total_relation_size, with indexes) of
// the metric tables at one simulated day.
type Sizes struct {
	Day                           int
	RawRows, HourlyRows, DayRows  int64
	RawBytes, HourBytes, DayBytes int64
}

// Total is the bytes of the three tables.
func (s Sizes) Total() int64 { return s.RawBytes + s.HourBytes + s.DayBytes }

// Result is what Run measured.
type Result struct {
	Inserted int64   // raw values written over the whole run
	Max      Sizes   // the sizes at the end
	Samples  []Sizes // every Report days and at the end
	// NoRetentionBytes projects the raw table's size without retention:
	// all inserted values at the bytes per row measured while the raw
	// table was at its largest.
	NoRetentionBytes int64
	Duration         time.Duration
	// InsertTime and RetentionTime split Duration: simulated polls, and
	// retention with VACUUM.
	InsertTime, RetentionTime time.Duration
}

func (o *Options) defaults() error {
	if o.Devices == 0 {
		o.Devices = 5000
	}
	if o.Days == 0 {
		o.Days = 365
	}
	if o.Metrics == 0 {
		o.Metrics = len(metricNames)
	}
	if o.Interval == 0 {
		o.Interval = 15 * time.Minute
	}
	if o.Report == 0 {
		o.Report = 30
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	switch {
	case o.Devices < 1 || o.Devices > 1_000_000:
		return errors.New("--devices: must be between 1 and 1000000")
	case o.Days < 1 || o.Days > 20*366:
		return errors.New("--days: must be between 1 and 7320")
	case o.Metrics < 1 || o.Metrics > len(metricNames):
		return fmt.Errorf("--metrics: must be between 1 and %d", len(metricNames))
	case o.Interval < time.Minute || (24*time.Hour)%o.Interval != 0:
		return errors.New("--interval: must be at least 1m and divide a day")
	case o.Report < 1:
		return errors.New("--report-every: must be at least 1")
	}
	return o.Retention.Check()
}

// Run simulates opts.Days days of polls into the (fresh, migrated) database
// at url, which it opens with a simulated clock, and reports the sizes.
func Run(ctx context.Context, url string, opts Options) (*Result, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	db, err := postgres.Open(ctx, url, postgres.Options{Now: func() time.Time { return now }, MetricRetention: opts.Retention})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	a := &cmdb.Authority{Code: fmt.Sprintf("BENCH%d", time.Now().UnixNano()%1e9), Name: "Retention benchmark"}
	if err := db.CreateAuthority(ctx, cmdb.AdminScope("bench"), a); err != nil {
		return nil, err
	}
	sqldb := db.SQL()
	var ids []int64
	if err := sqldb.SelectContext(ctx, &ids, `INSERT INTO cis (authority_id, class, status, serial)
		SELECT $1, 'printer', 'in_use', 'RB' || g FROM generate_series(1, $2) g RETURNING id`, a.ID, opts.Devices); err != nil {
		return nil, err
	}
	polls := int(24 * time.Hour / opts.Interval)
	perDay := int64(opts.Devices) * int64(opts.Metrics) * int64(polls)
	fmt.Fprintf(opts.Out, "simulating %d devices x %d series x %d polls a day (%d raw values a day) for %d days\n",
		opts.Devices, opts.Metrics, polls, perDay, opts.Days)
	fmt.Fprintf(opts.Out, "%5s %12s %10s %10s %10s %10s %10s %10s\n", "day", "raw rows", "raw", "hour rows", "hourly", "day rows", "daily", "total")
	res := &Result{}
	began := time.Now()
	var maxRawBytes, maxRawRows int64
	for d := 0; d < opts.Days; d++ {
		day := start.Add(time.Duration(d) * 24 * time.Hour)
		t0 := time.Now()
		// One day of polls: page counters grow, supplies drain and refill.
		if _, err := sqldb.ExecContext(ctx, `INSERT INTO ci_metrics (ci_id, name, at, value)
			SELECT c.id, n.name, $2::timestamptz + p * $3::interval,
				CASE WHEN n.k = 1 THEN (($4::int * $5::int + p) * (1 + c.id % 7))::float8
					WHEN n.k BETWEEN 2 AND 5 THEN (100 - (($4::int * $5::int + p + c.id * n.k) % 400) / 4)::float8
					ELSE ((c.id + p) % 3)::float8 END
			FROM unnest($1::bigint[]) AS c(id), unnest($6::text[]) WITH ORDINALITY AS n(name, k), generate_series(0, $5::int - 1) p`,
			pqArray(ids), day, opts.Interval.String(), d, polls, pqStrings(metricNames[:opts.Metrics])); err != nil {
			return nil, fmt.Errorf("day %d: %w", d+1, err)
		}
		res.Inserted += perDay
		t1 := time.Now()
		res.InsertTime += t1.Sub(t0)
		now = day.Add(24 * time.Hour)
		if _, err := db.RollupMetrics(ctx); err != nil {
			return nil, fmt.Errorf("day %d: retention: %w", d+1, err)
		}
		if _, err := sqldb.ExecContext(ctx, `VACUUM ci_metrics, ci_metrics_hourly, ci_metrics_daily`); err != nil {
			return nil, err
		}
		res.RetentionTime += time.Since(t1)
		last := d == opts.Days-1
		raw := int64(opts.Retention.Raw)
		if raw == 0 {
			raw = int64(postgres.DefaultRawRetention)
		}
		// The raw table is at its largest just before retention starts deleting.
		atRawMax := int64(d+1)*int64(24*time.Hour) == raw
		if (d+1)%opts.Report == 0 || last || atRawMax || d == 0 {
			s, err := sizes(ctx, db, d+1)
			if err != nil {
				return nil, err
			}
			if s.RawRows >= maxRawRows && s.RawRows > 0 {
				maxRawRows, maxRawBytes = s.RawRows, s.RawBytes
			}
			res.Samples = append(res.Samples, s)
			res.Max = s
			fmt.Fprintf(opts.Out, "%5d %12d %10s %10d %10s %10d %10s %10s\n", s.Day, s.RawRows, mib(s.RawBytes),
				s.HourlyRows, mib(s.HourBytes), s.DayRows, mib(s.DayBytes), mib(s.Total()))
		}
	}
	res.Duration = time.Since(began)
	if maxRawRows > 0 {
		res.NoRetentionBytes = int64(float64(res.Inserted) * float64(maxRawBytes) / float64(maxRawRows))
	}
	fmt.Fprintf(opts.Out, "after %d days: %d raw values written; with retention the metric tables hold %s; "+
		"without retention the raw table would hold %d rows, about %s (%.0f bytes per row)\n",
		opts.Days, res.Inserted, mib(res.Max.Total()), res.Inserted, mib(res.NoRetentionBytes),
		float64(maxRawBytes)/float64(max(maxRawRows, 1)))
	fmt.Fprintf(opts.Out, "took %s (inserting %s, retention and vacuum %s)\n", res.Duration.Round(time.Second),
		res.InsertTime.Round(time.Second), res.RetentionTime.Round(time.Second))
	return res, nil
}

func sizes(ctx context.Context, db *postgres.DB, day int) (Sizes, error) {
	s := Sizes{Day: day}
	err := db.SQL().QueryRowxContext(ctx, `SELECT
		(SELECT count(*) FROM ci_metrics), pg_total_relation_size('ci_metrics'),
		(SELECT count(*) FROM ci_metrics_hourly), pg_total_relation_size('ci_metrics_hourly'),
		(SELECT count(*) FROM ci_metrics_daily), pg_total_relation_size('ci_metrics_daily')`).
		Scan(&s.RawRows, &s.RawBytes, &s.HourlyRows, &s.HourBytes, &s.DayRows, &s.DayBytes)
	return s, err
}

func mib(b int64) string {
	if b >= 10<<30 {
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// Command is `cmdbd bench retention [flags]`: without --db it runs in a
// throwaway private PostgreSQL, so it never touches real data.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cmdbd bench retention", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	var dbURL string
	fs.IntVar(&o.Devices, "devices", 5000, "simulated devices")
	fs.IntVar(&o.Days, "days", 365, "simulated days")
	fs.IntVar(&o.Metrics, "metrics", len(metricNames), "series per device")
	fs.DurationVar(&o.Interval, "interval", 15*time.Minute, "poll interval")
	fs.DurationVar(&o.Retention.Raw, "raw-retention", postgres.DefaultRawRetention, "how long raw values are kept")
	fs.DurationVar(&o.Retention.Hourly, "hourly-retention", postgres.DefaultHourlyRetention, "how long hourly aggregates are kept")
	fs.DurationVar(&o.Retention.Daily, "daily-retention", postgres.DefaultDailyRetention, "how long daily aggregates are kept")
	fs.IntVar(&o.Report, "report-every", 30, "print the sizes every this many days")
	fs.StringVar(&dbURL, "db", "", "an empty PostgreSQL database to use; default: a throwaway private PostgreSQL")
	if err := fs.Parse(args); err != nil {
		return err
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.Out = stdout
	if dbURL == "" {
		url, done, err := pgembed.Throwaway(ctx, "cmdb-bench-retention-")
		if err != nil {
			return err
		}
		defer done()
		dbURL = url
	}
	_, err := Run(ctx, dbURL, o)
	return err
}

func pqArray(ids []int64) any  { return pq.Array(ids) }
func pqStrings(s []string) any { return pq.Array(s) }
