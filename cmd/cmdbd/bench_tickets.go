package main

import (
	"context"
	"math/rand/v2"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/ticketbench"
)

// ticketBenchExtras are the timed steps of `cmdbd bench tickets` beyond
// the queue and CI queries.
var ticketBenchExtras = []func(*postgres.DB, *ticketbench.Tenant) []ticketbench.Query{ruleRecomputes, portalPages, consoleQueuePages}

// ruleRecomputes times what the daily job does for the authority: the
// repeat-failure flags and the model patterns (goal: each ≤ 2 s).
func ruleRecomputes(db *postgres.DB, tn *ticketbench.Tenant) []ticketbench.Query {
	return []ticketbench.Query{
		{Name: "recompute repeat-failure flags", Runs: 5, Run: func(ctx context.Context, _ *rand.Rand) (int, error) {
			set, cleared, err := db.RecomputeRepeatFailures(ctx, tn.Authority.ID)
			return set + cleared, err
		}},
		{Name: "find model patterns", Runs: 5, Run: func(ctx context.Context, _ *rand.Rand) (int, error) {
			ps, err := db.FindFailurePatterns(ctx, cmdb.AdminScope("bench"), tn.Authority.ID)
			return len(ps), err
		}},
	}
}
