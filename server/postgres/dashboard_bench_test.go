package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// BenchmarkDashboard reads the dashboard of a large authority, written
// straight in SQL: 60,000 CIs (laptops, desktops, printers) each seen by
// a source, 200,000 tickets of which 5 % are open, 1,000 printers with
// two supplies sampled hourly for 30 days (1.4 million values) and 1,000
// poll targets. It reports the dashboard's time (dash-ms) and the low
// supplies list's with its forecast (supplies-ms) of the last run.
// Run: go test -run X -bench Dashboard ./server/postgres
func BenchmarkDashboard(b *testing.B) {
	const cis, tickets, printers = 60_000, 200_000, 1_000
	ctx := context.Background()
	url := postgrestest.NewDatabase(b)
	clock := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	db, err := postgres.Open(ctx, url, postgres.Options{Now: func() time.Time { return clock }})
	must(b, err)
	b.Cleanup(func() { db.Close() })
	tn := MustCreateTenant(b, db, "BDA")
	raw, err := sqlx.Open("postgres", url)
	must(b, err)
	defer raw.Close()
	a := tn.Authority.ID
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO cis (authority_id, school_id, class, status, name, vendor, model, serial, attributes, created_at, updated_at)
		SELECT $1, CASE WHEN i % 2 = 0 THEN $2::bigint ELSE $5::bigint END,
			CASE WHEN i <= $6::int THEN 'printer' WHEN i % 5 = 0 THEN 'desktop' ELSE 'laptop' END, 'in_use', 'Gerät ' || i, 'HP',
			'Modell ' || (i % 40), 'S' || i,
			CASE WHEN i <= $6::int THEN '{"supply.1.level": "50", "supply.2.level": "50"}'::jsonb ELSE '{}'::jsonb END,
			$3::timestamptz - interval '2 years', $3::timestamptz
		FROM generate_series(1, $4::int) AS i`, []any{a, tn.School.ID, clock, cis, tn.School2.ID, printers}},
		{`INSERT INTO ci_sources (ci_id, source, last_seen)
		SELECT id, CASE WHEN class = 'printer' THEN 'snmp' WHEN id % 3 = 0 THEN 'connector:schulamt' ELSE 'agent' END,
			$2::timestamptz - (id % 60) * interval '1 day' FROM cis WHERE authority_id = $1`, []any{a, clock}},
		{`INSERT INTO tickets (authority_id, school_id, number, type, title, category_id, impact, urgency, priority, status, channel,
			created_by, created_at, updated_at, closed_at, first_response_due, resolve_due)
		SELECT $1, CASE WHEN i % 2 = 0 THEN $2::bigint ELSE $5::bigint END, 'BDA-' || i, 'incident', 'Defekt', 1, 3, 3, 1 + i % 5,
			CASE WHEN i % 20 = 0 THEN 'new' ELSE 'closed' END, 'api', 'bench', $3::timestamptz - (i % 700) * interval '1 day', $3::timestamptz,
			CASE WHEN i % 20 = 0 THEN NULL ELSE $3::timestamptz END,
			$3::timestamptz + (i % 48 - 24) * interval '1 hour', $3::timestamptz + (i % 96) * interval '1 hour'
		FROM generate_series(1, $4::int) AS i`, []any{a, tn.School.ID, clock, tickets, tn.School2.ID}},
		{`INSERT INTO ci_metrics (ci_id, name, at, value)
		SELECT c.id, 'supply.' || s || '.percent', $2::timestamptz - h * interval '1 hour', CASE WHEN c.id % 4 = 0 THEN 5 + h / 24.0 ELSE 60 END
		FROM cis c, generate_series(1, 2) AS s, generate_series(0, 719) AS h WHERE c.authority_id = $1 AND c.class = 'printer'`, []any{a, clock}},
		{`INSERT INTO snmp_targets (authority_id, school_id, address, kind, ci_id, unreachable)
		SELECT $1, c.school_id, '10.0.' || (c.id % 250) || '.' || (c.id / 250 % 250), 'snmp', c.id, c.id % 10 = 0
		FROM cis c WHERE c.authority_id = $1 AND c.class = 'printer'`, []any{a}},
		{`VACUUM ANALYZE`, nil},
	} {
		if _, err := raw.ExecContext(ctx, q.sql, q.args...); err != nil {
			b.Fatal(err)
		}
	}
	it := cmdb.Scope{Subject: "bench", Authorities: []int64{a}}
	var dash, low time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		d, err := db.Dashboard(ctx, it, cmdb.DashboardFilter{})
		if err != nil {
			b.Fatal(err)
		}
		dash = time.Since(start)
		start = time.Now()
		if _, n, err := db.FindLowSupplies(ctx, it, cmdb.DashboardFilter{}); err != nil || n != d.LowSupplies || n == 0 {
			b.Fatalf("low supplies %d (dashboard %d): %v", n, d.LowSupplies, err)
		}
		low = time.Since(start)
	}
	b.ReportMetric(float64(dash.Microseconds())/1000, "dash-ms")
	b.ReportMetric(float64(low.Microseconds())/1000, "supplies-ms")
}
