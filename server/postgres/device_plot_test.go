package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestFindMetricPlot: the device page's series are thinned to whole-day
// buckets (one day while there are few days), counters keep their last
// value, and another tenant's CI is not found.
func TestFindMetricPlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	mine, theirs := MustCreateTenant(t, db, "MINE"), MustCreateTenant(t, db, "THEIRS")
	res := reconcile(t, db,
		cmdb.Observation{Source: "snmp", AuthorityID: mine.Authority.ID, SchoolID: mine.School.ID, Class: "printer", Serial: "P1", Vendor: "HP"},
		cmdb.Observation{Source: "snmp", AuthorityID: theirs.Authority.ID, SchoolID: theirs.School.ID, Class: "printer", Serial: "P2", Vendor: "HP"})
	own, other := res.Items[0].CIID, res.Items[1].CIID
	day0 := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -100)
	for d := range 100 {
		for _, ci := range []int64{own, other} {
			_, err := db.SQL().ExecContext(ctx, `INSERT INTO ci_metrics_daily (ci_id, name, bucket, min, max, avg, last, count)
				VALUES ($1, 'counter.pages', $2, $3, $3, $3, $3, 96), ($1, 'supply.1.percent', $2, 50, 50, 50, 50, 96)`,
				ci, day0.AddDate(0, 0, d), float64(1000+d))
			must(t, err)
		}
	}
	s := cmdb.Scope{Subject: "user:7", Authorities: []int64{mine.Authority.ID}}
	few, err := db.FindMetricPlot(ctx, s, own, day0.AddDate(0, 0, 90), 300)
	must(t, err)
	if len(few) != 20 || few[0].Name != "counter.pages" || few[0].Value != 1090 || !few[0].At.Equal(day0.AddDate(0, 0, 90)) {
		t.Fatalf("10 days, 2 series: %d points, first %+v", len(few), few[0])
	}
	thin, err := db.FindMetricPlot(ctx, s, own, day0, 30)
	must(t, err)
	if len(thin) != 2*25 { // 100 days in buckets of 4
		t.Fatalf("100 days into 30: %d points", len(thin))
	}
	if c := thin[24]; c.Name != "counter.pages" || *c.Last != 1099 || c.Value != 1097.5 || c.Count != 4 {
		t.Errorf("last bucket of the counter: %+v (last %v)", c, *c.Last)
	}
	if _, err := db.FindMetricPlot(ctx, s, other, day0, 30); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("other tenant's CI: %v, want not found", err)
	}
	if _, err := db.FindMetricPlot(ctx, s, own, day0, 1); cmdb.ErrorField(err) != "points" {
		t.Errorf("1 point: %v", err)
	}
}
