package main

import (
	"context"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/postgres/postgrestest"
	"github.com/schulit/cmdb/server/postgres/ticketbench"
)

// TestBenchTicketsPortalPages runs the ticket bench small with the
// extras of `cmdbd bench tickets`: every portal and console queue page answers (a page that
// failed would end the run with its status), and is reported.
func TestBenchTicketsPortalPages(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	res, err := ticketbench.Run(context.Background(), postgrestest.NewDatabase(t),
		ticketbench.Options{CIs: 400, Tickets: 300, Queries: 2, Out: &out}, ticketBenchExtras...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, name := range []string{"portal: rooms and devices, searched", "portal: a device by its label's code", "portal: a room's device cards",
		"portal: a device's report page", "portal: a device with open tickets", "portal: a scanned label (/r/code)",
		"console: the queue's first page", "console: the queue filtered, by due time", "console: the queue, text search",
		"console: the queue's page 10", "console: a ticket page"} {
		if tm := res.Timing(name); tm.Runs != 2 || tm.Rows != 1 {
			t.Errorf("%s: %+v\n%s", name, tm, out.String())
		}
	}
}
