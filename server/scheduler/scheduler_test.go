package scheduler_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
	"github.com/schulit/cmdb/server/scheduler"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

// TestOneReplicaRunsEachJob: two replicas on one database, each with its
// own connection pool, schedule the same job; every tick runs once, on
// the leader. When the leader stops, the other takes over.
func TestOneReplicaRunsEachJob(t *testing.T) {
	url := postgrestest.NewDatabase(t)
	ctx := context.Background()
	var runs [2]atomic.Int64
	scheds := make([]*scheduler.Scheduler, 2)
	electors := make([]*postgres.Elector, 2)
	for i := range scheds {
		db, err := postgres.Open(ctx, url, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		electors[i] = db.NewElector(42)
		s, err := scheduler.New(scheduler.Options{Elector: electors[i]})
		if err != nil {
			t.Fatal(err)
		}
		i := i
		if err := s.Every("poll", 200*time.Millisecond, func(context.Context) {
			runs[i].Add(1)
		}); err != nil {
			t.Fatal(err)
		}
		scheds[i] = s
		s.Start()
	}
	deadline := time.Now().Add(10 * time.Second)
	for runs[0].Load()+runs[1].Load() < 8 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	a, b := runs[0].Load(), runs[1].Load()
	if a+b < 8 {
		t.Fatalf("only %d runs", a+b)
	}
	if a != 0 && b != 0 {
		t.Fatalf("both replicas ran the job: %d and %d runs", a, b)
	}
	leader := 0
	if b > 0 {
		leader = 1
	}
	// The leader goes away; the other replica takes over.
	scheds[leader].Shutdown()
	electors[leader].Resign()
	other := 1 - leader
	before := runs[other].Load()
	for runs[other].Load() < before+3 && time.Now().Before(deadline.Add(10*time.Second)) {
		time.Sleep(20 * time.Millisecond)
	}
	if runs[other].Load() < before+3 {
		t.Fatalf("the other replica did not take over: %d runs", runs[other].Load())
	}
	scheds[other].Shutdown()
	electors[other].Resign()
}
