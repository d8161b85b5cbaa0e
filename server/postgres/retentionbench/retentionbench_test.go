package retentionbench_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
	"github.com/schulit/cmdb/server/postgres/retentionbench"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

// TestRunBoundsTheRawTable: with a 2-day raw retention, 5 simulated days
// leave 2 days of raw values, and the projection counts all 5.
func TestRunBoundsTheRawTable(t *testing.T) {
	var out bytes.Buffer
	res, err := retentionbench.Run(context.Background(), postgrestest.NewDatabase(t), retentionbench.Options{
		Devices: 3, Days: 5, Metrics: 2, Interval: time.Hour, Report: 1, Out: &out,
		Retention: postgres.Retention{Raw: 48 * time.Hour, Hourly: 72 * time.Hour, Daily: 96 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	perDay := int64(3 * 2 * 24)
	if res.Inserted != 5*perDay || res.Max.RawRows != 2*perDay || res.Max.HourlyRows != 3*perDay || res.Max.DayRows != 4*3*2 {
		t.Errorf("result = %+v, want %d inserted, 2 days raw, 3 days hourly, 4 days daily", res, 5*perDay)
	}
	if res.NoRetentionBytes <= res.Max.RawBytes {
		t.Errorf("projected %d bytes without retention, raw table holds %d", res.NoRetentionBytes, res.Max.RawBytes)
	}
	if !strings.Contains(out.String(), "without retention") {
		t.Errorf("report:\n%s", out.String())
	}
}
