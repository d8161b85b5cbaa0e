package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"os"

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
	pw, err := demoPassword(os.Getenv("CMDB_DEMO_PASSWORD"))
	if err != nil {
		return nil, err
	}
	// Demo data only, never a real installation's: printed once, so that
	// whoever started the demo can sign in as any of its people.
	fmt.Fprintf(m.Stderr, "demo: every demo person (GET /api/v1/users) signs in with the password %s\n", pw.Reveal())
	if len(m.dbKey) == 0 {
		// A key for this process only (no data directory): a second
		// handle would seal with another one. Stamped now, then.
		return demo.Load(ctx, m.db, cmdb.AdminScope("demo"), demo.Options{Password: pw})
	}
	clock := &demo.Clock{}
	db, err := postgres.Open(ctx, m.dbURL, postgres.Options{Logger: m.log, SecretKey: m.dbKey, Now: clock.Now, MaxOpenConns: 4})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return demo.Load(ctx, db, cmdb.AdminScope("demo"), demo.Options{SetNow: clock.Set, Password: pw})
}

// demoPassword is the demo people's password: CMDB_DEMO_PASSWORD when set
// (it must pass the password rules), else a random one for this start.
func demoPassword(env string) (cmdb.Secret, error) {
	if env != "" {
		if err := cmdb.ValidatePassword("CMDB_DEMO_PASSWORD", cmdb.Secret(env), ""); err != nil {
			return "", fmt.Errorf("CMDB_DEMO_PASSWORD: %s", cmdb.ErrorMessage(err))
		}
		return cmdb.Secret(env), nil
	}
	b := make([]byte, 10)
	rand.Read(b)
	return cmdb.Secret("Demo-" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}
