package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestLockHistory: a CI's history shows a lock coming (the hand edit that
// set it) as it shows one going (the unlock); editing a locked value again
// locks nothing new.
func TestLockHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	tn := MustCreateTenant(t, db, "LOCKH")
	res := reconcile(t, db, cmdb.Observation{Source: "agent", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID, Class: "laptop",
		Serial: "LOCKH1", Vendor: "Dell", AssetTag: "A-1"})
	id := res.Items[0].CIID
	staff := cmdb.AdminScope("katrin")
	for _, tag := range []string{"A-2", "A-3"} {
		if _, err := db.Reconcile(ctx, staff, []cmdb.Observation{{Source: staff.Source(), AuthorityID: tn.Authority.ID, CIID: id, AssetTag: tag}}); err != nil {
			t.Fatal(err)
		}
	}
	must(t, db.ReleaseLock(ctx, staff, id, cmdb.AttrAssetTag))
	hist, err := db.FindHistory(ctx, staff, id, 100)
	must(t, err)
	var locks []string
	for _, h := range hist {
		if strings.HasPrefix(h.Attr, "lock.") {
			locks = append(locks, h.Attr+":"+*h.Old+">"+*h.New)
		}
	}
	// Newest first: the unlock, then the one lock of the first edit.
	if got := strings.Join(locks, " "); got != "lock.asset_tag:locked>unlocked lock.asset_tag:unlocked>locked" {
		t.Errorf("lock history = %q", got)
	}
}
