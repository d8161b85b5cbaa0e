package monitorbench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/pgembed"
	"github.com/schulit/cmdb/server/postgres"
)

// SeedPrinters makes an authority with a school and n printers (through
// reconcile, as SNMP discovery would) and returns their ids.
func SeedPrinters(ctx context.Context, db *postgres.DB, code string, n int) ([]int64, error) {
	admin := cmdb.AdminScope("bench")
	a := &cmdb.Authority{Code: code, Name: "Landkreis " + code}
	if err := db.CreateAuthority(ctx, admin, a); err != nil {
		return nil, err
	}
	s := &cmdb.School{AuthorityID: a.ID, Code: code + "-GYM", Name: "Gymnasium"}
	if err := db.CreateSchool(ctx, admin, s); err != nil {
		return nil, err
	}
	var ids []int64
	for start := 0; start < n; start += 500 {
		var obs []cmdb.Observation
		for i := start; i < min(n, start+500); i++ {
			obs = append(obs, cmdb.Observation{Source: "snmp", AuthorityID: a.ID, SchoolID: s.ID, Class: "printer",
				Serial: fmt.Sprintf("%sP%05d", code, i), Vendor: "HP"})
		}
		res, err := db.Reconcile(ctx, admin, obs)
		if err != nil {
			return nil, err
		}
		for _, it := range res.Items {
			ids = append(ids, it.CIID)
		}
	}
	return ids, nil
}

// TicketCounter counts all tickets, for Options.Tickets.
func TicketCounter(db *postgres.DB) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		_, n, err := db.FindTickets(ctx, cmdb.AdminScope("bench"), cmdb.TicketFilter{Limit: 1})
		return n, err
	}
}

// Command is `cmdbd bench monitoring [flags]`: it offers health events
// at a rate to the ticket module's sink and prints what it took. Without
// --db it runs in a throwaway private PostgreSQL.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cmdbd bench monitoring", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	var dbURL string
	var printers int
	fs.IntVar(&printers, "printers", 250, "printers the events are about (each has two conditions: toner and jam)")
	fs.IntVar(&o.Rate, "rate", 1000, "events per second offered")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "how long to offer them (at most 10m)")
	fs.IntVar(&o.ClearEvery, "clear-every", 1, "a condition clears after this many opening events (1: every event is an edge, the poller's case; -1: never)")
	fs.BoolVar(&o.Prime, "prime", true, "open every condition once before the timed run (the steady state of a running system)")
	fs.IntVar(&o.Workers, "workers", 16, "concurrent callers, like the poller's concurrent targets")
	fs.StringVar(&dbURL, "db", "", "an empty PostgreSQL database to use; default: a throwaway private PostgreSQL")
	if err := fs.Parse(args); err != nil {
		return err
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if printers < 1 || printers > 100_000 {
		return fmt.Errorf("--printers must be 1–100,000")
	}
	if dbURL == "" {
		url, done, err := pgembed.Throwaway(ctx, "cmdb-bench-monitoring-")
		if err != nil {
			return err
		}
		defer done()
		dbURL = url
	}
	db, err := postgres.Open(ctx, dbURL, postgres.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	if o.CIs, err = SeedPrinters(ctx, db, "MONB", printers); err != nil {
		return err
	}
	o.Sink, o.Tickets = db.MonitoringSink(), TicketCounter(db)
	fmt.Fprintf(stdout, "offering %d health events/s for %s over %d printers (toner and jam each), a clear after every %d opening events ...\n",
		o.Rate, o.Duration, printers, o.ClearEvery)
	rep, err := Run(ctx, o)
	if err != nil {
		return err
	}
	rep.Print(stdout)
	fmt.Fprintf(stdout, "tickets per condition: %.2f (1.00: no flood — a condition that clears and comes back reopens its ticket)\n",
		float64(rep.TicketsOpened)/float64(rep.Conditions))
	return nil
}
