package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// BenchmarkRepeatFailures recomputes the repeat-failure flags and the
// model patterns of one authority of the size of the speed goal: 300,000
// CIs and 200,000 tickets (a fifth of them requests, a tenth of the
// incidents on 500 CIs), written straight in SQL. It reports each part's
// time of the last run (repeat-ms, pattern-ms); the goal is both within
// 2 s. Run: go test -run X -bench RepeatFailures ./server/postgres
func BenchmarkRepeatFailures(b *testing.B) {
	const cis, tickets = 300_000, 200_000
	ctx := context.Background()
	url := postgrestest.NewDatabase(b)
	clock := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	db, err := postgres.Open(ctx, url, postgres.Options{Now: func() time.Time { return clock }})
	must(b, err)
	b.Cleanup(func() { db.Close() })
	tn := MustCreateTenant(b, db, "BEN")
	raw, err := sqlx.Open("postgres", url)
	must(b, err)
	defer raw.Close()
	a := tn.Authority.ID
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO cis (authority_id, school_id, class, status, name, vendor, model, serial, created_at, updated_at)
		SELECT $1, $2, (ARRAY['laptop','printer','projector','tablet'])[1 + i % 4], 'in_use', 'Gerät ' || i, 'Vendor' || (i % 7),
			'Modell ' || (i % 40), 'S' || i, $3::timestamptz - interval '2 years', $3::timestamptz - interval '2 years'
		FROM generate_series(1, $4::int) AS i`, []any{a, tn.School.ID, clock, cis}},
		{`INSERT INTO tickets (authority_id, school_id, number, type, title, category_id, impact, urgency, priority, status, channel,
			created_by, created_at, updated_at)
		SELECT $1, $2, 'BEN-B-' || i, CASE WHEN i % 5 = 0 THEN 'request' ELSE 'incident' END, 'Defekt', 1, 3, 3, 5, 'new', 'api',
			'bench', $3::timestamptz - (i % 700) * interval '1 day', $3::timestamptz
		FROM generate_series(1, $4::int) AS i`, []any{a, tn.School.ID, clock, tickets}},
		// Most tickets on random CIs; every tenth on a CI of model 0 of the printers.
		{`INSERT INTO ticket_cis (ticket_id, ci_id)
		SELECT t.id, CASE WHEN t.id % 10 = 1 THEN c0.min + ((t.id / 10) % 500) * 280 ELSE c0.min + floor(random() * $2::int)::int END
		FROM tickets t, (SELECT min(id) FROM cis WHERE authority_id = $1) c0 WHERE t.authority_id = $1`, []any{a, cis}},
		{`VACUUM ANALYZE`, nil},
	} {
		if _, err := raw.ExecContext(ctx, q.sql, q.args...); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		set, cleared, err := db.RecomputeRepeatFailures(ctx, a)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "repeat-ms")
		b.ReportMetric(float64(set+cleared), "changed")
		start = time.Now()
		ps, err := db.FindFailurePatterns(ctx, admin, a)
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "pattern-ms")
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(ps)), "patterns")
	}
}
