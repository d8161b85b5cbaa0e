package main

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/ticketbench"
)

// consoleQueuePages times, in `cmdbd bench tickets`, the staff queue as
// the server renders it for authority IT (the web handler over the seeded
// store, signed in by a real session; no network): the queue's first
// page with its counts per queue and saved filters, a filtered page
// sorted by due time, a deep page, and a ticket page with its device
// panel (goal: p95 ≤ 50 ms at 200,000 tickets).
func consoleQueuePages(db *postgres.DB, tn *ticketbench.Tenant) []ticketbench.Query {
	ctx := context.Background()
	fail := func(err error) []ticketbench.Query {
		return []ticketbench.Query{{Name: "console queue", Runs: 1, Run: func(context.Context, *rand.Rand) (int, error) { return 0, err }}}
	}
	bw, err := newBenchWeb(ctx, db, "queue@bench.example", tn.Authority.ID)
	if err != nil {
		return fail(err)
	}
	sc, err := db.Session(ctx, bw.tok)
	if err != nil {
		return fail(err)
	}
	// A saved filter, as a person who works the queue has.
	if err := db.SaveFilter(ctx, sc, &cmdb.SavedFilter{Name: "2nd Level nach Fälligkeit", Query: "level=2&sort=due&status=open"}); err != nil {
		return fail(err)
	}
	var numbers []string
	if err := db.SQL().SelectContext(ctx, &numbers, `SELECT number FROM tickets WHERE authority_id = $1 ORDER BY id DESC LIMIT 500`,
		tn.Authority.ID); err != nil || len(numbers) == 0 {
		return fail(fmt.Errorf("tickets of the seeded authority: %v", err))
	}
	get := func(path func(r *rand.Rand) string) func(context.Context, *rand.Rand) (int, error) {
		return func(ctx context.Context, r *rand.Rand) (int, error) {
			if _, err := bw.get(ctx, path(r)); err != nil {
				return 0, err
			}
			return 1, nil
		}
	}
	return []ticketbench.Query{
		{Name: "console: the queue's first page", Run: get(func(*rand.Rand) string { return "/tickets" })},
		{Name: "console: the queue filtered, by due time", Run: get(func(r *rand.Rand) string {
			return fmt.Sprintf("/tickets?status=open&level=%d&school=%d&sort=due", 1+r.IntN(2), tn.TicketSchools[r.IntN(len(tn.TicketSchools))])
		})},
		{Name: "console: the queue, text search", Run: get(func(r *rand.Rand) string {
			return fmt.Sprintf("/tickets?status=open&priority=%d&q=drucker", 1+r.IntN(5))
		})},
		{Name: "console: the queue's page 10", Run: get(func(*rand.Rand) string { return "/tickets?status=open&seite=10" })},
		{Name: "console: a ticket page", Run: get(func(r *rand.Rand) string { return "/tickets/" + numbers[r.IntN(len(numbers))] })},
	}
}
