package monitorbench_test

import (
	"context"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

func BenchmarkSinkFlaps(b *testing.B) {
	db := postgrestest.MustOpenDB(b, postgres.Options{})
	cis := printers(b, db, 10)
	sink := db.MonitoringSink()
	ctx := context.Background()
	for _, ci := range cis {
		must(b, sink.HealthEvent(ctx, cmdb.HealthEvent{CIID: ci, Kind: cmdb.HealthJam, Open: true, At: time.Now()}))
	}
	b.ResetTimer()
	for i := range b.N {
		must(b, sink.HealthEvent(ctx, cmdb.HealthEvent{CIID: cis[(i/2)%len(cis)], Kind: cmdb.HealthJam, Open: i%2 == 1, At: time.Now()}))
	}
}
