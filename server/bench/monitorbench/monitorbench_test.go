package monitorbench_test

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/bench/monitorbench"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

// printers makes an authority with n printers and returns their ids.
func printers(tb testing.TB, db *postgres.DB, n int) []int64 {
	tb.Helper()
	ids, err := monitorbench.SeedPrinters(context.Background(), db, "LAST", n)
	must(tb, err)
	return ids
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func ticketCounter(db *postgres.DB) func(context.Context) (int, error) {
	return monitorbench.TicketCounter(db)
}

// TestRunOpensOneTicketPerCondition: however many events, and however
// often a condition clears and comes back, one ticket per condition.
func TestRunOpensOneTicketPerCondition(t *testing.T) {
	t.Parallel()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	cis := printers(t, db, 20)
	// 501 events over 40 conditions (20 printers × toner, jam): each
	// condition gets 12 or 13; with a clear after 10 opening events,
	// each opens a ticket, resolves it and reopens it.
	rep, err := monitorbench.Run(context.Background(), monitorbench.Options{
		Sink: db.MonitoringSink(), CIs: cis, Rate: 500, Duration: time.Second, Workers: 8, ClearEvery: 10,
		Tickets: ticketCounter(db),
	})
	must(t, err)
	rep.Print(io.Discard)
	if rep.FirstError != nil || rep.Failed != 0 || rep.Offered != 501 || rep.Taken != 501 {
		t.Fatalf("report %+v", rep)
	}
	if rep.TicketsOpened != rep.Conditions {
		t.Fatalf("%d tickets opened for %d conditions with one clear each, want %d", rep.TicketsOpened, rep.Conditions, rep.Conditions)
	}
}

// BenchmarkSinkRepeats measures the common case: events repeating
// conditions that have an open ticket, from concurrent callers.
func BenchmarkSinkRepeats(b *testing.B) {
	db := postgrestest.MustOpenDB(b, postgres.Options{})
	cis := printers(b, db, 200)
	sink := db.MonitoringSink()
	ctx := context.Background()
	for _, ci := range cis {
		must(b, sink.HealthEvent(ctx, cmdb.HealthEvent{CIID: ci, Kind: cmdb.HealthJam, Open: true, At: time.Now()}))
	}
	b.ResetTimer()
	b.SetParallelism(4)
	var i atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := int(i.Add(1))
			if err := sink.HealthEvent(ctx, cmdb.HealthEvent{CIID: cis[n%len(cis)], Kind: cmdb.HealthJam, Open: true, At: time.Now()}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRun is the rate benchmark: 1,000 events/s for 10 s over 250
// printers with an empty toner and a jam each (500 conditions, 20
// events each, clearing after 10: 1,000 tickets opened and 500
// resolved); it reports the events/s taken, the tickets opened and the
// p99 latency. Other figures: call monitorbench.Run from a command.
func BenchmarkRun(b *testing.B) {
	db := postgrestest.MustOpenDB(b, postgres.Options{})
	cis := printers(b, db, 250)
	for range b.N {
		rep, err := monitorbench.Run(context.Background(), monitorbench.Options{
			Sink: db.MonitoringSink(), CIs: cis, Rate: 1000, Duration: 10 * time.Second, ClearEvery: 10, Tickets: ticketCounter(db)})
		must(b, err)
		b.ReportMetric(rep.PerSecond, "events/s")
		b.ReportMetric(float64(rep.TicketsOpened), "tickets")
		b.ReportMetric(float64(rep.P99.Microseconds()), "p99-µs")
		if rep.Failed > 0 {
			b.Fatalf("%d events failed: %v", rep.Failed, rep.FirstError)
		}
	}
}

// BenchmarkSinkNewTickets measures the rare, expensive case: every event
// opens a ticket.
func BenchmarkSinkNewTickets(b *testing.B) {
	db := postgrestest.MustOpenDB(b, postgres.Options{})
	cis := printers(b, db, 1000)
	sink := db.MonitoringSink()
	ctx := context.Background()
	kinds := []cmdb.HealthKind{cmdb.HealthJam, cmdb.HealthOffline, cmdb.HealthLamp, cmdb.HealthFan, cmdb.HealthTemperature, cmdb.HealthOtherError, cmdb.HealthServiceRequested}
	if b.N > len(cis)*len(kinds) {
		b.Skip("more events than conditions; use -benchtime 1000x")
	}
	b.ResetTimer()
	var i atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := int(i.Add(1) - 1)
			if err := sink.HealthEvent(ctx, cmdb.HealthEvent{CIID: cis[n%len(cis)], Kind: kinds[n/len(cis)], Open: true, At: time.Now()}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
