package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/ticketbench"
)

// portalPages times, in `cmdbd bench tickets`, the portal pages of the
// report flow as the server renders them (the web handler over the
// seeded store, signed in by a real session; no network): the room list
// of a school with a search, a room's device cards, a device's report
// page (its open tickets, the self-help and the form) and a scanned
// label (goal: p95 ≤ 50 ms at 300,000 CIs).
func portalPages(db *postgres.DB, tn *ticketbench.Tenant) []ticketbench.Query {
	ctx := context.Background()
	fail := func(err error) []ticketbench.Query {
		return []ticketbench.Query{{Name: "portal", Runs: 1, Run: func(context.Context, *rand.Rand) (int, error) { return 0, err }}}
	}
	bw, err := newBenchWeb(ctx, db, "messung@bench.example", tn.Authority.ID)
	if err != nil {
		return fail(err)
	}
	var rooms []int64
	if err := db.SQL().SelectContext(ctx, &rooms, `SELECT r.id FROM rooms r JOIN schools s ON s.id = r.school_id
		WHERE s.authority_id = $1 ORDER BY r.id`, tn.Authority.ID); err != nil || len(rooms) == 0 {
		return fail(fmt.Errorf("rooms of the seeded authority: %v", err))
	}
	get := func(path func(r *rand.Rand) string) func(context.Context, *rand.Rand) (int, error) {
		return func(ctx context.Context, r *rand.Rand) (int, error) {
			if _, err := bw.get(ctx, path(r), http.StatusOK, http.StatusSeeOther); err != nil {
				return 0, err
			}
			return 1, nil
		}
	}
	anyCI := func(r *rand.Rand) int64 { return tn.CIs[r.IntN(len(tn.CIs))] }
	return []ticketbench.Query{
		{Name: "portal: rooms and devices, searched", Run: get(func(r *rand.Rand) string {
			return fmt.Sprintf("/melden?schule=%d&q=%d", tn.Schools[r.IntN(len(tn.Schools))], r.IntN(9)+1)
		})},
		{Name: "portal: a device by its label's code", Run: get(func(r *rand.Rand) string {
			return fmt.Sprintf("/melden?schule=%d&q=%s", tn.Schools[r.IntN(len(tn.Schools))], cmdb.ShortCode(anyCI(r)))
		})},
		{Name: "portal: a room's device cards", Run: get(func(r *rand.Rand) string {
			return fmt.Sprintf("/melden/raum/%d", rooms[r.IntN(len(rooms))])
		})},
		{Name: "portal: a device's report page", Run: get(func(r *rand.Rand) string {
			return fmt.Sprintf("/melden/geraet/%d", anyCI(r))
		})},
		{Name: "portal: a device with open tickets", Run: get(func(r *rand.Rand) string {
			return fmt.Sprintf("/melden/geraet/%d", tn.TicketCIs[r.IntN(len(tn.TicketCIs))])
		})},
		{Name: "portal: a scanned label (/r/code)", Run: get(func(r *rand.Rand) string {
			return "/r/" + cmdb.ShortCode(anyCI(r))
		})},
	}
}
