// Package ticketbench measures the ticket module at the size of a large
// authority: it seeds one authority with schools, rooms, CIs and a couple
// of years of tickets straight in SQL (generate_series, so seeding takes
// seconds, not hours), then times the store's own queries as the queue,
// the CI page and the portal run them, and prints p50/p95/max per query.
// `cmdbd bench tickets` calls Command.
package ticketbench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/pgembed"
	"github.com/schulit/cmdb/server/postgres"
)

// Options for Run.
type Options struct {
	CIs     int       // CIs in the authority (default 300,000)
	Tickets int       // tickets over the last two years (default 200,000)
	Queries int       // timed runs of each query (default 200)
	Out     io.Writer // where the report goes; nil discards it
}

func (o *Options) defaults() error {
	if o.CIs == 0 {
		o.CIs = 300_000
	}
	if o.Tickets == 0 {
		o.Tickets = 200_000
	}
	if o.Queries == 0 {
		o.Queries = 200
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	switch {
	case o.CIs < 10 || o.CIs > 5_000_000:
		return errors.New("ticketbench: --cis must be 10–5,000,000")
	case o.Tickets < 10 || o.Tickets > 3*99_999:
		return errors.New("ticketbench: --tickets must be 10–299,997 (three years of numbers)")
	case o.Queries < 1 || o.Queries > 100_000:
		return errors.New("ticketbench: --queries must be 1–100,000")
	}
	return nil
}

// Timing is what one query took over its runs.
type Timing struct {
	Name          string
	Runs          int
	P50, P95, Max time.Duration
	Rows          int // rows the last run returned (a sanity figure)
}

// Result is what Run measured.
type Result struct {
	Seed    time.Duration
	Open    int // open tickets among the seeded ones
	Timings []Timing
}

// Timing returns the named timing, or the zero value.
func (r *Result) Timing(name string) Timing {
	for _, t := range r.Timings {
		if t.Name == name {
			return t
		}
	}
	return Timing{}
}

// Tenant is what Seed created.
type Tenant struct {
	Authority *cmdb.Authority
	Schools   []int64
	CIs       []int64 // every CI, in id order
	TicketCIs []int64 // CIs with at least one ticket
	// TicketSchools are the schools with at least one ticket.
	TicketSchools []int64
}

// classes of the seeded CIs, with their share in 100ths and vendor/models.
var classes = []struct {
	class  string
	share  int
	models []string
}{
	{"laptop", 45, []string{"Lenovo|ThinkPad L14", "Dell|Latitude 3440", "HP|ProBook 440"}},
	{"desktop", 15, []string{"Fujitsu|Esprimo D7010", "Dell|OptiPlex 7010"}},
	{"tablet", 15, []string{"Apple|iPad 10", "Samsung|Galaxy Tab A9"}},
	{"printer", 6, []string{"Brother|HL-L5100DN", "HP|LaserJet M404"}},
	{"mfp", 3, []string{"Kyocera|TASKalfa 2553ci", "Ricoh|IM C3000"}},
	{"projector", 8, []string{"Epson|EB-W51", "BenQ|MW560"}},
	{"interactive_display", 4, []string{"Promethean|ActivPanel 9", "Samsung|Flip 3"}},
	{"access_point", 4, []string{"Ubiquiti|U6 Pro"}},
}

// Seed creates the authority, 20 schools with 40 rooms each, o.CIs CIs
// and o.Tickets tickets (10 % open, spread over every open status; the
// rest resolved or closed), each ticket on one CI, with a creation row
// in its history, and vacuums and analyses the tables as autovacuum would.
func Seed(ctx context.Context, db *postgres.DB, o Options) (*Tenant, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	scope := cmdb.AdminScope("bench")
	code := fmt.Sprintf("TB%d", time.Now().UnixNano()%1e6)
	tn := &Tenant{Authority: &cmdb.Authority{Code: code, Name: "Ticket-Benchmark " + code}}
	if err := db.CreateAuthority(ctx, scope, tn.Authority); err != nil {
		return nil, fmt.Errorf("ticketbench: seed: %w", err)
	}
	var rooms []int64
	var roomSchools []int64
	for s := range 20 {
		sc := &cmdb.School{AuthorityID: tn.Authority.ID, Code: fmt.Sprintf("S%02d", s+1), Name: fmt.Sprintf("Schule %d", s+1)}
		if err := db.CreateSchool(ctx, scope, sc); err != nil {
			return nil, fmt.Errorf("ticketbench: seed: %w", err)
		}
		b := &cmdb.Building{SchoolID: sc.ID, Code: "A", Name: "Haus A"}
		if err := db.CreateBuilding(ctx, scope, b); err != nil {
			return nil, fmt.Errorf("ticketbench: seed: %w", err)
		}
		for r := range 40 {
			rm := &cmdb.Room{BuildingID: b.ID, Code: fmt.Sprintf("%d.%02d", r/10, r%10+1), Name: fmt.Sprintf("Raum %d.%02d", r/10, r%10+1)}
			if err := db.CreateRoom(ctx, scope, rm); err != nil {
				return nil, fmt.Errorf("ticketbench: seed: %w", err)
			}
			rooms, roomSchools = append(rooms, rm.ID), append(roomSchools, sc.ID)
		}
		tn.Schools = append(tn.Schools, sc.ID)
	}
	var cls, vendors, models []string
	for _, c := range classes {
		for i := range c.share {
			m := c.models[i%len(c.models)]
			v, mo, _ := strings.Cut(m, "|")
			cls, vendors, models = append(cls, c.class), append(vendors, v), append(models, mo)
		}
	}
	sqldb := db.SQL()
	// CIs: class, vendor and model from the table above, a room each,
	// purchased over the last five years.
	if err := sqldb.SelectContext(ctx, &tn.CIs, `WITH r AS (SELECT * FROM unnest($2::bigint[], $3::bigint[]) WITH ORDINALITY AS r(room, school, k)),
		k AS (SELECT * FROM unnest($4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS k(class, vendor, model, n))
		INSERT INTO cis (authority_id, school_id, room_id, class, status, name, vendor, model, serial, asset_tag, purchase_date)
		SELECT $1, r.school, r.room, k.class, 'in_use', k.class || '-' || g, k.vendor, k.model, 'TB' || g, 'INV-' || g,
			current_date - (g % 1800)
		FROM generate_series(1, $7) g
		JOIN r ON r.k = 1 + g % cardinality($2::bigint[])
		JOIN k ON k.n = 1 + (g * 7) % cardinality($4::text[])
		ORDER BY g RETURNING id`, tn.Authority.ID, pq.Array(rooms), pq.Array(roomSchools),
		pq.Array(cls), pq.Array(vendors), pq.Array(models), o.CIs); err != nil {
		return nil, fmt.Errorf("ticketbench: seed CIs: %w", err)
	}
	slices.Sort(tn.CIs)
	// Tickets: the g-th on the CI at a scattered index among the first
	// third, so that those have a few each and the rest none; numbers over three years. 10 % open.
	if _, err := sqldb.ExecContext(ctx, `WITH src AS (
			SELECT g, c.id AS ci, c.school_id, c.room_id, c.class,
				2024 + g % 3 AS year, g / 3 + 1 AS seq,
				CASE WHEN g % 100 < 3 THEN 'new' WHEN g % 100 < 5 THEN 'assigned' WHEN g % 100 < 8 THEN 'in_progress'
					WHEN g % 100 < 10 THEN 'waiting' WHEN g % 100 < 13 THEN 'resolved' ELSE 'closed' END AS status,
				now() - make_interval(days => g % 730, hours => g % 24) AS at
			FROM generate_series(0, $3 - 1) g
			JOIN cis c ON c.id = ($2::bigint[])[1 + (g::bigint * 7919) % greatest(cardinality($2::bigint[]) / 3, 1)]),
		ins AS (
			INSERT INTO tickets (authority_id, school_id, room_id, number, type, title, description, category_id, impact, urgency,
				priority, status, level, channel, created_by, created_at, updated_at, resolved_at, closed_at)
			SELECT $1, s.school_id, s.room_id, $4 || '-' || s.year || '-' || lpad(s.seq::text, 5, '0'),
				CASE WHEN s.g % 5 = 0 THEN 'request' ELSE 'incident' END,
				'Störung ' || s.class || ' Nr. ' || s.g, 'Beschreibung der Störung ' || s.g, cat.id,
				1 + s.g % 3, 1 + (s.g / 3) % 3, 1 + s.g % 3 + (s.g / 3) % 3, s.status, 1 + s.g % 2, 'portal', 'bench', s.at, s.at,
				CASE WHEN s.status IN ('resolved', 'closed') THEN s.at + interval '1 day' END,
				CASE WHEN s.status = 'closed' THEN s.at + interval '8 days' END
			FROM src s JOIN ticket_categories cat ON cat.authority_id IS NULL AND cat.class = s.class AND cat.name = 'Sonstiges'
			RETURNING id, number, created_at),
		link AS (
			INSERT INTO ticket_cis (ticket_id, ci_id)
			SELECT ins.id, s.ci FROM ins JOIN src s ON ins.number = $4 || '-' || s.year || '-' || lpad(s.seq::text, 5, '0')
			RETURNING ticket_id)
		INSERT INTO ticket_history (ticket_id, at, subject, channel, field, new_value)
		SELECT id, created_at, 'bench', 'portal', 'created', number FROM ins`,
		tn.Authority.ID, pq.Array(tn.CIs), o.Tickets, code); err != nil {
		return nil, fmt.Errorf("ticketbench: seed tickets: %w", err)
	}
	if _, err := sqldb.ExecContext(ctx, `INSERT INTO ticket_numbers (authority_id, year, last)
		SELECT $1, 2024 + y, ($2 - 1 - y) / 3 + 1 FROM generate_series(0, 2) y WHERE $2 > y`, tn.Authority.ID, o.Tickets); err != nil {
		return nil, fmt.Errorf("ticketbench: seed numbers: %w", err)
	}
	if err := sqldb.SelectContext(ctx, &tn.TicketCIs, `SELECT DISTINCT x.ci_id FROM ticket_cis x JOIN tickets t ON t.id = x.ticket_id
		WHERE t.authority_id = $1 ORDER BY 1`, tn.Authority.ID); err != nil {
		return nil, err
	}
	if err := sqldb.SelectContext(ctx, &tn.TicketSchools, `SELECT DISTINCT school_id FROM tickets WHERE authority_id = $1 ORDER BY 1`,
		tn.Authority.ID); err != nil {
		return nil, err
	}
	if _, err := sqldb.ExecContext(ctx, `VACUUM ANALYZE cis, tickets, ticket_cis, ticket_history`); err != nil {
		return nil, err
	}
	return tn, nil
}

// Query is one timed query: Run calls it o.Queries times with a fresh
// random source and reports the rows of the last call.
type Query struct {
	Name string
	Run  func(ctx context.Context, r *rand.Rand) (rows int, err error)
}

// Queries are the store calls the benchmark times, as the queue, the
// CI page and the portal make them.
func Queries(db *postgres.DB, tn *Tenant) []Query {
	authIT := cmdb.Scope{Subject: "user:bench", UserID: 1, Authorities: []int64{tn.Authority.ID}}
	list := func(f func(r *rand.Rand) cmdb.TicketFilter) func(context.Context, *rand.Rand) (int, error) {
		return func(ctx context.Context, r *rand.Rand) (int, error) {
			tks, _, err := db.FindTickets(ctx, authIT, f(r))
			return len(tks), err
		}
	}
	return []Query{
		// The console asks for one authority's queue (?authority=).
		{"queue: open tickets, first page", list(func(*rand.Rand) cmdb.TicketFilter {
			return cmdb.TicketFilter{AuthorityID: tn.Authority.ID, Statuses: []string{"open"}, Limit: 50}
		})},
		{"queue: open, no authority filter", list(func(*rand.Rand) cmdb.TicketFilter {
			return cmdb.TicketFilter{Statuses: []string{"open"}, Limit: 50}
		})},
		{"queue: open tickets of one school", list(func(r *rand.Rand) cmdb.TicketFilter {
			return cmdb.TicketFilter{AuthorityID: tn.Authority.ID, Statuses: []string{"open"}, SchoolID: tn.TicketSchools[r.IntN(len(tn.TicketSchools))], Limit: 50}
		})},
		{"queue: new, level 1, priority 2", list(func(*rand.Rand) cmdb.TicketFilter {
			return cmdb.TicketFilter{AuthorityID: tn.Authority.ID, Statuses: []string{"new"}, Level: 1, Priority: 2, Limit: 50}
		})},
		{"queue: open tickets, page 10", list(func(*rand.Rand) cmdb.TicketFilter {
			return cmdb.TicketFilter{AuthorityID: tn.Authority.ID, Statuses: []string{"open"}, Limit: 50, Offset: 450}
		})},
		{"open tickets of one CI", func(ctx context.Context, r *rand.Rand) (int, error) {
			tks, err := db.FindCITickets(ctx, authIT, tn.TicketCIs[r.IntN(len(tn.TicketCIs))])
			return len(tks), err
		}},
	}
}

// Time runs q n times and returns its timing.
func Time(ctx context.Context, q Query, n int, seed uint64) (Timing, error) {
	r := rand.New(rand.NewPCG(seed, 1))
	d := make([]time.Duration, 0, n)
	rows := 0
	for range n {
		t0 := time.Now()
		k, err := q.Run(ctx, r)
		if err != nil {
			return Timing{}, fmt.Errorf("%s: %w", q.Name, err)
		}
		d, rows = append(d, time.Since(t0)), k
	}
	slices.Sort(d)
	return Timing{Name: q.Name, Runs: n, P50: d[n/2], P95: d[(n*95+99)/100-1], Max: d[n-1], Rows: rows}, nil
}

// Run seeds the (fresh, migrated) database at url and times the queries
// plus extra ones (the lead adds the rule recomputation and monitoring).
func Run(ctx context.Context, url string, o Options, extra ...func(*postgres.DB, *Tenant) []Query) (*Result, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	db, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "seeding one authority: 20 schools, %d CIs, %d tickets over two years ...\n", o.CIs, o.Tickets)
	t0 := time.Now()
	tn, err := Seed(ctx, db, o)
	if err != nil {
		return nil, err
	}
	res := &Result{Seed: time.Since(t0)}
	if err := db.SQL().GetContext(ctx, &res.Open, `SELECT count(*) FROM tickets WHERE authority_id = $1 AND status NOT IN ('resolved', 'closed')`,
		tn.Authority.ID); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "seeded in %s: %d open tickets, %d CIs with tickets\n\n", res.Seed.Round(time.Millisecond), res.Open, len(tn.TicketCIs))
	qs := Queries(db, tn)
	for _, e := range extra {
		qs = append(qs, e(db, tn)...)
	}
	fmt.Fprintf(o.Out, "%-40s %6s %9s %9s %9s %6s\n", "query (store call, server side)", "runs", "p50", "p95", "max", "rows")
	for i, q := range qs {
		// Warm the plan cache and the buffers once, as a running server has them.
		if _, err := q.Run(ctx, rand.New(rand.NewPCG(0, 0))); err != nil {
			return nil, fmt.Errorf("%s: %w", q.Name, err)
		}
		t, err := Time(ctx, q, o.Queries, uint64(i+1))
		if err != nil {
			return nil, err
		}
		res.Timings = append(res.Timings, t)
		fmt.Fprintf(o.Out, "%-40s %6d %9s %9s %9s %6d\n", t.Name, t.Runs, ms(t.P50), ms(t.P95), ms(t.Max), t.Rows)
	}
	return res, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// Command is `cmdbd bench tickets [flags]`: without --db it runs in a
// throwaway private PostgreSQL, so it never touches real data.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer, extra ...func(*postgres.DB, *Tenant) []Query) error {
	fs := flag.NewFlagSet("cmdbd bench tickets", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	var dbURL string
	fs.IntVar(&o.CIs, "cis", 300_000, "CIs in the authority")
	fs.IntVar(&o.Tickets, "tickets", 200_000, "tickets over two years")
	fs.IntVar(&o.Queries, "queries", 200, "timed runs of each query")
	fs.StringVar(&dbURL, "db", "", "an empty PostgreSQL database to use; default: a throwaway private PostgreSQL")
	if err := fs.Parse(args); err != nil {
		return err
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.Out = stdout
	if dbURL == "" {
		url, done, err := pgembed.Throwaway(ctx, "cmdb-bench-tickets-")
		if err != nil {
			return err
		}
		defer done()
		dbURL = url
	}
	_, err := Run(ctx, dbURL, o, extra...)
	return err
}
