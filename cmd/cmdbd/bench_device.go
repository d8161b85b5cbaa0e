package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/pgembed"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/ticketbench"
)

// deviceBenchOptions size `cmdbd bench device`.
type deviceBenchOptions struct {
	Days    int // of 15-minute samples
	Series  int // metric series of the printer (page counter + supplies)
	History int // history rows
	Tickets int
	Queries int
	Out     io.Writer
}

// deviceBenchCommand is `cmdbd bench device [flags]`: a printer with two
// years of 15-minute samples in several series (rolled up as the
// nightly job does) and 10,000 history rows; times its console page as
// the web handler renders it (signed in by a real session, no network).
// Goal: p95 ≤ 50 ms. Without --db it runs in a throwaway private
// PostgreSQL, so it never touches real data.
func deviceBenchCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cmdbd bench device", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := deviceBenchOptions{Out: stdout}
	var dbURL string
	fs.IntVar(&o.Days, "days", 730, "days of 15-minute samples")
	fs.IntVar(&o.Series, "series", 6, "metric series (page counter and supplies)")
	fs.IntVar(&o.History, "history", 10_000, "history rows of the printer")
	fs.IntVar(&o.Tickets, "tickets", 40, "tickets of the printer")
	fs.IntVar(&o.Queries, "queries", 200, "timed runs of each page")
	fs.StringVar(&dbURL, "db", "", "an empty PostgreSQL database to use; default: a throwaway private PostgreSQL")
	if err := fs.Parse(args); err != nil {
		return err
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if dbURL == "" {
		url, done, err := pgembed.Throwaway(ctx, "cmdb-bench-device-")
		if err != nil {
			return err
		}
		defer done()
		dbURL = url
	}
	_, err := benchDevice(ctx, dbURL, o)
	return err
}

// benchDevice seeds the printer and times its pages.
func benchDevice(ctx context.Context, url string, o deviceBenchOptions) ([]ticketbench.Timing, error) {
	if o.Series < 2 || o.Days < 1 || o.Queries < 1 {
		return nil, cmdb.Invalid("series", "needs at least 2 series, 1 day and 1 query")
	}
	db, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	sc := cmdb.AdminScope("bench")
	au := &cmdb.Authority{Code: "DB", Name: "Geräte-Benchmark"}
	if err := db.CreateAuthority(ctx, sc, au); err != nil {
		return nil, err
	}
	school := &cmdb.School{AuthorityID: au.ID, Code: "S01", Name: "Gymnasium am See"}
	if err := db.CreateSchool(ctx, sc, school); err != nil {
		return nil, err
	}
	b := &cmdb.Building{SchoolID: school.ID, Code: "A", Name: "Haus A"}
	if err := db.CreateBuilding(ctx, sc, b); err != nil {
		return nil, err
	}
	room := &cmdb.Room{BuildingID: b.ID, Code: "1.12", Name: "Raum 1.12"}
	if err := db.CreateRoom(ctx, sc, room); err != nil {
		return nil, err
	}
	res, err := db.Reconcile(ctx, sc, []cmdb.Observation{{Source: "snmp", AuthorityID: au.ID, SchoolID: school.ID, RoomID: room.ID,
		Class: cmdb.ClassPrinter, Serial: "CNB1234567", Vendor: "HP", Status: cmdb.StatusInUse,
		Attributes: map[string]string{cmdb.AttrName: "Drucker Lehrerzimmer", cmdb.AttrModel: "LaserJet M404",
			"supply.1.name": "Schwarzer Toner"}}})
	if err != nil {
		return nil, err
	}
	ci := res.Items[0].CIID
	t0 := time.Now()
	fmt.Fprintf(o.Out, "seeding one printer: %d series × %d days of 15-minute samples, %d history rows, %d tickets ...\n",
		o.Series, o.Days, o.History, o.Tickets)
	if err := seedDevice(ctx, db, sc, ci, school.ID, o); err != nil {
		return nil, err
	}
	var raw int
	if err := db.SQL().GetContext(ctx, &raw, `SELECT count(*) FROM ci_metrics WHERE ci_id = $1 AND name = 'counter.pages'`, ci); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "seeded in %s (%d samples per series kept raw after retention)\n\n", time.Since(t0).Round(time.Millisecond), raw)

	bw, err := newBenchWeb(ctx, db, "geraete@bench.example", au.ID)
	if err != nil {
		return nil, err
	}
	get := func(path string, check func(body string) error) func(context.Context, *rand.Rand) (int, error) {
		return func(ctx context.Context, _ *rand.Rand) (int, error) {
			rec, err := bw.get(ctx, path)
			if err != nil {
				return 0, err
			}
			if check != nil {
				if err := check(rec.Body.String()); err != nil {
					return 0, err
				}
			}
			return 1, nil
		}
	}
	page := fmt.Sprintf("/cis/%d", ci)
	plots := func(body string) error {
		for _, p := range []string{`data-plot="seiten"`, `data-plot="verbrauch"`, `class="tl-change"`} {
			if !strings.Contains(body, p) {
				return fmt.Errorf("GET %s: no %s", page, p)
			}
		}
		return nil
	}
	qs := []ticketbench.Query{
		{Name: "device page (plots, timeline page 1)", Run: get(page, plots)},
		{Name: "device page, timeline page 20", Run: get(page+"?seite=20", nil)},
		{Name: "device list, searched", Run: get("/cis?q=CNB123", nil)},
	}
	// The store calls behind the page, to see where its time goes.
	staff := cmdb.Scope{Subject: "user:bench", UserID: bw.user.ID, Authorities: []int64{au.ID}}
	call := func(f func(ctx context.Context) (int, error)) func(context.Context, *rand.Rand) (int, error) {
		return func(ctx context.Context, _ *rand.Rand) (int, error) { return f(ctx) }
	}
	qs = append(qs,
		ticketbench.Query{Name: "store: FindCIByID", Run: call(func(ctx context.Context) (int, error) {
			_, err := db.FindCIByID(ctx, staff, ci)
			return 1, err
		})},
		ticketbench.Query{Name: "store: FindMetricPlot (2 years)", Run: call(func(ctx context.Context) (int, error) {
			ms, err := db.FindMetricPlot(ctx, staff, ci, time.Now().AddDate(-2, 0, 0), 300)
			return len(ms), err
		})},
		ticketbench.Query{Name: "store: FindHistory (51)", Run: call(func(ctx context.Context) (int, error) {
			h, err := db.FindHistory(ctx, staff, ci, 51)
			return len(h), err
		})},
		ticketbench.Query{Name: "store: FindTickets of the CI", Run: call(func(ctx context.Context) (int, error) {
			t, _, err := db.FindTickets(ctx, staff, cmdb.TicketFilter{CIID: ci, Limit: 51})
			return len(t), err
		})},
		ticketbench.Query{Name: "store: FindHealthEvents", Run: call(func(ctx context.Context) (int, error) {
			e, err := db.FindHealthEvents(ctx, staff, ci)
			return len(e), err
		})},
	)
	fmt.Fprintf(o.Out, "%-40s %6s %9s %9s %9s\n", "page (web handler, server side)", "runs", "p50", "p95", "max")
	var out []ticketbench.Timing
	for i, q := range qs {
		if _, err := q.Run(ctx, nil); err != nil { // warm plans and buffers once
			return nil, err
		}
		t, err := ticketbench.Time(ctx, q, o.Queries, uint64(i+1))
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		fmt.Fprintf(o.Out, "%-40s %6d %9s %9s %9s\n", t.Name, t.Runs, benchMS(t.P50), benchMS(t.P95), benchMS(t.Max))
	}
	return out, nil
}

func benchMS(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// seedDevice writes the printer's samples (ending now), rolls them up as
// the nightly job does, and adds history rows and tickets.
func seedDevice(ctx context.Context, db *postgres.DB, sc cmdb.Scope, ci, school int64, o deviceBenchOptions) error {
	q := db.SQL()
	// The page counter climbs ~300 pages a school day; supply n falls
	// from 100 % to 0 % over 40+10n days and is refilled.
	if _, err := q.ExecContext(ctx, `INSERT INTO ci_metrics (ci_id, name, at, value)
		SELECT $1, 'counter.pages', t, floor(extract(epoch FROM t - $3::timestamptz) / 288)
		FROM generate_series($3::timestamptz, $2::timestamptz, interval '15 minutes') t`,
		ci, time.Now().UTC(), time.Now().UTC().AddDate(0, 0, -o.Days)); err != nil {
		return err
	}
	for n := 1; n < o.Series; n++ {
		period := float64(40+10*n) * 86400
		if _, err := q.ExecContext(ctx, `INSERT INTO ci_metrics (ci_id, name, at, value)
			SELECT $1, $4, t, round((100 - mod(extract(epoch FROM t - $3::timestamptz)::numeric, $5::numeric) / $5::numeric * 100)::numeric, 1)
			FROM generate_series($3::timestamptz, $2::timestamptz, interval '15 minutes') t`,
			ci, time.Now().UTC(), time.Now().UTC().AddDate(0, 0, -o.Days), fmt.Sprintf("supply.%d.percent", n), period); err != nil {
			return err
		}
	}
	if _, err := db.RollupMetrics(ctx); err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO ci_history (ci_id, attr, old, new, source, at)
		SELECT $1, 'supply.1.level', (i+1)::text, i::text, 'snmp', now() - (($2 - i) * interval '1 hour')
		FROM generate_series(1, $2) i`, ci, o.History); err != nil {
		return err
	}
	cats, err := db.FindTicketCategories(ctx, sc, cmdb.ClassPrinter)
	if err != nil || len(cats) == 0 {
		return fmt.Errorf("printer categories: %v", err)
	}
	for i := range o.Tickets {
		t := &cmdb.Ticket{CategoryID: cats[0].ID, Type: cmdb.TicketIncident, Title: fmt.Sprintf("Papierstau %d", i+1), Description: "Zieht kein Papier ein.",
			SchoolID: school, Impact: 3, Urgency: 3, CIIDs: []int64{ci}}
		if _, err := db.CreateTicket(ctx, sc, t, ""); err != nil {
			return err
		}
	}
	_, err = q.ExecContext(ctx, `VACUUM ANALYZE ci_metrics, ci_metrics_hourly, ci_metrics_daily, ci_history`)
	return err
}
