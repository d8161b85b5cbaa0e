package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/scheduler"
)

// retentionEvery is how often the metric rollup runs; the hourly
// aggregates are at most this much behind.
const retentionEvery = time.Hour

// ageFlag is a duration flag that also takes days ("90d").
type ageFlag struct{ d *time.Duration }

func (f ageFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return ""
	}
	if *f.d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(*f.d/(24*time.Hour))) + "d"
	}
	return f.d.String()
}

func (f ageFlag) Set(s string) error {
	d, err := parseAge(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

// parseAge parses "90d" or a Go duration such as "36h".
func parseAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 {
			return 0, fmt.Errorf("%q: want a number of days such as 90d or a duration such as 36h", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want a number of days such as 90d or a duration such as 36h", s)
	}
	return d, nil
}

// registerRetentionFlags adds the metric retention flags, defaulting to
// their CMDB_METRICS_* environment variables and then the store's defaults.
func registerRetentionFlags(fs *flag.FlagSet, r *postgres.Retention) error {
	for _, f := range []struct {
		name, env string
		d         *time.Duration
		def       time.Duration
		what      string
	}{
		{"metrics-raw-retention", "CMDB_METRICS_RAW_RETENTION", &r.Raw, postgres.DefaultRawRetention, "raw metric values as polled"},
		{"metrics-hourly-retention", "CMDB_METRICS_HOURLY_RETENTION", &r.Hourly, postgres.DefaultHourlyRetention, "hourly metric aggregates"},
		{"metrics-daily-retention", "CMDB_METRICS_DAILY_RETENTION", &r.Daily, postgres.DefaultDailyRetention, "daily metric aggregates"},
	} {
		*f.d = f.def
		if v := os.Getenv(f.env); v != "" {
			d, err := parseAge(v)
			if err != nil {
				return fmt.Errorf("%s: %w", f.env, err)
			}
			*f.d = d
		}
		fs.Var(ageFlag{f.d}, f.name, fmt.Sprintf("how long %s are kept, e.g. 90d or 36h (env %s)", f.what, f.env))
	}
	return nil
}

// scheduleRetention runs the metric rollup and retention every hour.
func (m *Main) scheduleRetention(s *scheduler.Scheduler) error {
	return s.Every("metrics-retention", retentionEvery, func(ctx context.Context) {
		st, err := m.db.RollupMetrics(ctx)
		if err != nil {
			m.log.Error("metrics retention", "err", err)
			return
		}
		m.log.Info("metrics retention", "hours", st.Hours, "days", st.Days, "raw_deleted", st.RawDeleted,
			"hourly_deleted", st.HourlyDeleted, "daily_deleted", st.DailyDeleted)
	})
}
