package main

import (
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/ticketbench"
)

// ticketBenchExtras are the timed steps of `cmdbd bench tickets` beyond
// the queue and CI queries: recomputing the rules and monitoring load.
var ticketBenchExtras []func(*postgres.DB, *ticketbench.Tenant) []ticketbench.Query
