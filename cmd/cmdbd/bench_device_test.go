package main

import (
	"context"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestBenchDevice runs `cmdbd bench device` small: the printer is seeded
// through the store, its page renders with plots and a timeline (a page
// that failed would end the run), and every page is reported.
func TestBenchDevice(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	ts, err := benchDevice(context.Background(), postgrestest.NewDatabase(t),
		deviceBenchOptions{Days: 20, Series: 3, History: 200, Tickets: 3, Queries: 2, Out: &out})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(ts) != 8 {
		t.Fatalf("timings: %+v\n%s", ts, out.String())
	}
	for _, tm := range ts {
		if tm.Runs != 2 || (tm.Rows < 1 && !strings.Contains(tm.Name, "Health")) || !strings.Contains(out.String(), tm.Name) {
			t.Errorf("%+v\n%s", tm, out.String())
		}
	}
}
