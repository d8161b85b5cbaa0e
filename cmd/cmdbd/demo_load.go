package main

import (
	"context"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/demo"
	"github.com/schulit/cmdb/server/postgres"
)

// loadDemo loads the demo authority through a second store handle whose
// clock the loader sets, so that the demo's year of tickets is stamped
// with its times in the past; m.db keeps the wall clock. The handle has
// m.db's database and secret key (the SNMP communities it seals are read
// through m.db) and no mail: the demo's past sends no notifications.
func (m *Main) loadDemo(ctx context.Context) (*demo.Summary, error) {
	if len(m.dbKey) == 0 {
		// A key for this process only (no data directory): a second
		// handle would seal with another one. Stamped now, then.
		return demo.Load(ctx, m.db, cmdb.AdminScope("demo"), demo.Options{})
	}
	clock := &demo.Clock{}
	db, err := postgres.Open(ctx, m.dbURL, postgres.Options{Logger: m.log, SecretKey: m.dbKey, Now: clock.Now, MaxOpenConns: 4})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return demo.Load(ctx, db, cmdb.AdminScope("demo"), demo.Options{SetNow: clock.Set})
}
