package ticketbench_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/postgres/postgrestest"
	"github.com/schulit/cmdb/server/postgres/ticketbench"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

// TestRunSmall seeds a small authority and times every query: the seed
// satisfies the schema's rules, the figures are printed, and each query
// returns rows.
func TestRunSmall(t *testing.T) {
	var out bytes.Buffer
	res, err := ticketbench.Run(context.Background(), postgrestest.NewDatabase(t),
		ticketbench.Options{CIs: 500, Tickets: 6000, Queries: 3, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	if res.Open != 600 {
		t.Errorf("%d open tickets, want 10 %% of 6000", res.Open)
	}
	for _, tm := range res.Timings {
		if tm.Runs != 3 || tm.Rows == 0 || tm.P95 < tm.P50 {
			t.Errorf("%s: %+v", tm.Name, tm)
		}
	}
	if !strings.Contains(out.String(), "open tickets of one CI") {
		t.Errorf("report:\n%s", out.String())
	}
}
