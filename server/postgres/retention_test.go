package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestRollupMetrics runs retention on an injected clock: raw values past
// 90 days become hourly and daily aggregates with the right values, older
// hourly and daily ones go at their retention, a second run changes
// nothing, and the series answers old ranges from the aggregates.
func TestRollupMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 6, 15, 12, 30, 0, 0, time.UTC)
	db := postgrestest.MustOpenDB(t, postgres.Options{Now: func() time.Time { return now },
		MetricRetention: postgres.Retention{BatchRows: 3}}) // small batches: deletion takes several
	tn := MustCreateTenant(t, db, "RT")
	res, err := db.Reconcile(ctx, admin, []cmdb.Observation{{Source: "snmp", AuthorityID: tn.Authority.ID,
		SchoolID: tn.School.ID, Class: "printer", Serial: "RT0001", Vendor: "Canon"}})
	must(t, err)
	ci := res.Items[0].CIID

	old := now.Add(-100 * 24 * time.Hour).Truncate(24 * time.Hour) // a day past raw retention
	ancient := now.Add(-400 * 24 * time.Hour).Truncate(24 * time.Hour)
	put := func(name string, at time.Time, v float64) {
		t.Helper()
		_, err := db.SQL().Exec(`INSERT INTO ci_metrics (ci_id, name, at, value) VALUES ($1, $2, $3, $4)`, ci, name, at, v)
		must(t, err)
	}
	for i, v := range []float64{1, 5, 3, 4} {
		put("counter.pages", old.Add(10*time.Hour+time.Duration(i)*15*time.Minute), v)
	}
	for i, v := range []float64{10, 20, 30, 40} {
		put("counter.pages", old.Add(11*time.Hour+time.Duration(i)*15*time.Minute), v)
	}
	put("supply.1.percent", old.Add(10*time.Hour), 50)
	put("counter.pages", ancient.Add(8*time.Hour), 7)                  // hourly past retention, daily kept
	put("counter.pages", now.Add(-6*365*24*time.Hour), 1)              // past every retention
	put("counter.pages", now.Add(-time.Hour), 100)                     // recent: stays raw
	put("counter.pages", now.Add(-5*time.Minute), 101)                 // current hour: not aggregated yet
	put("counter.pages", now.Add(-89*24*time.Hour), 90)                // within raw retention
	put("counter.pages", now.Add(-89*24*time.Hour+15*time.Minute), 91) // same hour

	st, err := db.RollupMetrics(ctx)
	must(t, err)
	if st.RawDeleted != 11 || st.DailyDeleted != 1 || st.HourlyDeleted != 2 {
		t.Errorf("first run = %+v, want 11 raw, 2 hourly, 1 daily deleted", st)
	}
	var raw []float64
	must(t, db.SQL().Select(&raw, `SELECT value FROM ci_metrics ORDER BY at`))
	if len(raw) != 4 || raw[0] != 90 || raw[3] != 101 {
		t.Fatalf("raw values kept = %v, want the 4 of the last 90 days", raw)
	}

	type agg struct {
		Name                string
		Bucket              time.Time
		Min, Max, Avg, Last float64
		Count               int
	}
	aggs := func(table string) []agg {
		var out []agg
		must(t, db.SQL().Select(&out, `SELECT name, bucket, min, max, avg, last, count FROM `+table+` ORDER BY bucket, name`))
		for i := range out {
			out[i].Bucket = out[i].Bucket.UTC()
		}
		return out
	}
	wantHourly := []agg{
		{"counter.pages", old.Add(10 * time.Hour), 1, 5, 3.25, 4, 4},
		{"supply.1.percent", old.Add(10 * time.Hour), 50, 50, 50, 50, 1},
		{"counter.pages", old.Add(11 * time.Hour), 10, 40, 25, 40, 4},
		{"counter.pages", now.Add(-89 * 24 * time.Hour).Truncate(time.Hour), 90, 91, 90.5, 91, 2},
		{"counter.pages", now.Add(-time.Hour).Truncate(time.Hour), 100, 100, 100, 100, 1},
	}
	wantDaily := []agg{
		{"counter.pages", ancient, 7, 7, 7, 7, 1},
		{"counter.pages", old, 1, 40, 14.125, 40, 8},
		{"supply.1.percent", old, 50, 50, 50, 50, 1},
		{"counter.pages", now.Add(-89 * 24 * time.Hour).Truncate(24 * time.Hour), 90, 91, 90.5, 91, 2},
	}
	check := func(table string, want []agg) {
		t.Helper()
		got := aggs(table)
		if len(got) != len(want) {
			t.Fatalf("%s = %+v\nwant %+v", table, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s[%d] = %+v, want %+v", table, i, got[i], want[i])
			}
		}
	}
	check("ci_metrics_hourly", wantHourly)
	check("ci_metrics_daily", wantDaily)

	// A second run at the same time finds nothing to do.
	st, err = db.RollupMetrics(ctx)
	must(t, err)
	if st.Hours != 0 || st.Days != 0 || st.RawDeleted+st.HourlyDeleted+st.DailyDeleted != 0 {
		t.Errorf("second run = %+v, want no work", st)
	}
	check("ci_metrics_hourly", wantHourly)
	check("ci_metrics_daily", wantDaily)

	// The series: recent ranges raw, 100 days back hourly, 400 days back daily.
	series := func(q cmdb.MetricQuery) *cmdb.MetricSeries {
		t.Helper()
		s, err := db.FindMetricSeries(ctx, admin, ci, q)
		must(t, err)
		return s
	}
	if s := series(cmdb.MetricQuery{Name: "counter.pages"}); s.Resolution != cmdb.MetricRaw || len(s.Items) != 4 || s.Items[0].Value != 101 {
		t.Errorf("latest values: %s %d items", s.Resolution, len(s.Items))
	}
	s := series(cmdb.MetricQuery{Name: "counter.pages", From: old, To: old.Add(24 * time.Hour)})
	if s.Resolution != cmdb.MetricHourly || len(s.Items) != 2 || s.Items[0].Value != 25 || *s.Items[0].Last != 40 ||
		s.Items[0].Count != 4 || !s.Items[0].At.Equal(old.Add(11*time.Hour)) {
		t.Errorf("100 days back: %s %+v", s.Resolution, s.Items)
	}
	s = series(cmdb.MetricQuery{From: ancient, To: old.Add(24 * time.Hour)})
	if s.Resolution != cmdb.MetricDaily || len(s.Items) != 3 || *s.Items[2].Min != 7 {
		t.Errorf("400 days back: %s %+v", s.Resolution, s.Items)
	}
	if s = series(cmdb.MetricQuery{From: old.Add(10*time.Hour + 30*time.Minute), Resolution: cmdb.MetricDaily}); len(s.Items) != 3 {
		t.Errorf("daily from mid-day: %+v, want the day it falls in and later", s.Items)
	}
	if _, err := db.FindMetricSeries(ctx, admin, ci, cmdb.MetricQuery{Resolution: "minute"}); cmdb.ErrorField(err) != "resolution" {
		t.Errorf("resolution minute: %v", err)
	}
	if _, err := db.FindMetricSeries(ctx, admin, ci, cmdb.MetricQuery{From: now, To: old}); cmdb.ErrorField(err) != "to" {
		t.Errorf("to before from: %v", err)
	}

	// A day later, the hours in between are aggregated and the next raw hours expire.
	now = now.Add(25 * time.Hour)
	st, err = db.RollupMetrics(ctx)
	must(t, err)
	if st.RawDeleted != 2 || st.Hours != 1 {
		t.Errorf("a day later = %+v, want the current hour aggregated and the 89-day-old values gone", st)
	}
}

func TestRetentionCheck(t *testing.T) {
	for _, tt := range []struct {
		r     postgres.Retention
		field string
	}{
		{postgres.Retention{}, ""},
		{postgres.Retention{Raw: time.Hour}, "metrics_raw_retention"},
		{postgres.Retention{Raw: 400 * 24 * time.Hour}, "metrics_hourly_retention"},
		{postgres.Retention{Daily: 30 * 24 * time.Hour}, "metrics_daily_retention"},
	} {
		if err := tt.r.Check(); cmdb.ErrorField(err) != tt.field {
			t.Errorf("%+v: %v, want error on %q", tt.r, err, tt.field)
		}
	}
}
