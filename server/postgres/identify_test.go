package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestLiveKeys runs the cases in which a source's second key meets a CI
// that already holds one of its keys: two live keys are two records (a
// new CI and a duplicate candidate), a key gone quiet is a reinstall.
func TestLiveKeys(t *testing.T) {
	t.Parallel()
	old := time.Now().UTC().Add(-40 * 24 * time.Hour) // past every stale period
	projector := func(tn *Tenant, key string, school *cmdb.School, at time.Time) cmdb.Observation {
		return cmdb.Observation{Source: "connector:schulamt", SourceKey: key, AuthorityID: tn.Authority.ID, SchoolID: school.ID,
			Class: "projector", Serial: "X7K2M9Q4", Vendor: "Epson", AssetTag: key, ObservedAt: at}
	}
	// A serial-less machine whose only physical MAC is the dock's, as the
	// collectors reported it before they knew docks.
	docked := func(tn *Tenant, key, host string, at time.Time) cmdb.Observation {
		return cmdb.Observation{Source: "agent", SourceKey: key, AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID, Class: "laptop",
			Hostname: host, NICs: []cmdb.NIC{{MAC: "d0:c6:37:aa:bb:cc", Kind: "physical"}}, ObservedAt: at}
	}
	tests := []struct {
		name       string
		first      func(tn *Tenant) cmdb.Observation
		second     func(tn *Tenant) cmdb.Observation
		wantCIs    int
		wantRule   string
		wantDupRul string // rule of the duplicate candidate; "" for none
	}{
		{"connector: two live inventory numbers with one serial are two CIs",
			func(tn *Tenant) cmdb.Observation { return projector(tn, "INV-1", tn.School, time.Time{}) },
			func(tn *Tenant) cmdb.Observation { return projector(tn, "INV-2", tn.School2, time.Time{}) },
			2, cmdb.RuleNew, cmdb.RuleSerial},
		{"connector: a key gone quiet is replaced by the new one on the same CI",
			func(tn *Tenant) cmdb.Observation { return projector(tn, "INV-1", tn.School, old) },
			func(tn *Tenant) cmdb.Observation { return projector(tn, "INV-2", tn.School2, time.Time{}) },
			1, cmdb.RuleSerial, ""},
		{"agent: a dock MAC with a second live agent key is no identity",
			func(tn *Tenant) cmdb.Observation { return docked(tn, "dev-a", "NB-A", time.Time{}) },
			func(tn *Tenant) cmdb.Observation { return docked(tn, "dev-b", "NB-B", time.Time{}) },
			2, cmdb.RuleNew, cmdb.RuleMAC},
		{"agent: a reinstalled serial-less machine whose old key went quiet stays on its CI",
			func(tn *Tenant) cmdb.Observation { return docked(tn, "dev-a", "NB-A", old) },
			func(tn *Tenant) cmdb.Observation { return docked(tn, "dev-b", "NB-A", time.Time{}) },
			1, cmdb.RuleMAC, ""},
		{"agent: a reinstalled machine with its firmware serial stays on its CI while the old key is live",
			func(tn *Tenant) cmdb.Observation {
				return cmdb.Observation{Source: "agent", SourceKey: "dev-a", AuthorityID: tn.Authority.ID, Class: "laptop", Serial: "5CG12345", Vendor: "HP"}
			},
			func(tn *Tenant) cmdb.Observation {
				return cmdb.Observation{Source: "agent", SourceKey: "dev-b", AuthorityID: tn.Authority.ID, Class: "laptop", Serial: "5CG12345", Vendor: "HP"}
			},
			1, cmdb.RuleSerial, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := postgrestest.MustOpenDB(t, postgres.Options{})
			tn := MustCreateTenant(t, db, fmt.Sprintf("LV%d", i))
			first := reconcile(t, db, tt.first(tn)).Items[0]
			before, err := db.FindCIByID(ctx, admin, first.CIID)
			must(t, err)
			second := reconcile(t, db, tt.second(tn)).Items[0]
			if n := countCIs(t, db, tn.Authority.ID); n != tt.wantCIs {
				t.Errorf("CIs = %d, want %d", n, tt.wantCIs)
			}
			if second.Rule != tt.wantRule {
				t.Errorf("rule = %s, want %s", second.Rule, tt.wantRule)
			}
			dups, _, err := db.FindDuplicates(ctx, admin, cmdb.DuplicateFilter{AuthorityID: tn.Authority.ID})
			must(t, err)
			if tt.wantDupRul == "" {
				if len(dups) != 0 || len(second.Duplicates) != 0 {
					t.Errorf("duplicates = %+v, answer %v; want none", dups, second.Duplicates)
				}
				return
			}
			if second.Outcome != cmdb.OutcomeCreated || second.CIID == first.CIID {
				t.Errorf("second = %+v, want a new CI besides %d", second, first.CIID)
			}
			if len(dups) != 1 || dups[0].Rule != tt.wantDupRul || len(second.Duplicates) != 1 || second.Duplicates[0] != first.CIID {
				t.Fatalf("duplicates = %+v, answer %v; want one candidate %d by %s", dups, second.Duplicates, first.CIID, tt.wantDupRul)
			}
			// The first CI is untouched by the second record.
			after, err := db.FindCIByID(ctx, admin, first.CIID)
			must(t, err)
			if after.SchoolID != before.SchoolID || after.AssetTag != before.AssetTag || after.Hostname != before.Hostname {
				t.Errorf("first CI changed: school %d→%d, asset tag %q→%q, hostname %q→%q", before.SchoolID, after.SchoolID,
					before.AssetTag, after.AssetTag, before.Hostname, after.Hostname)
			}
		})
	}
}

// TestLiveKeysInOneBatch: two live keys of one source in the same batch
// are two CIs as well.
func TestLiveKeysInOneBatch(t *testing.T) {
	t.Parallel()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	tn := MustCreateTenant(t, db, "LVB")
	o := cmdb.Observation{Source: "connector:schulamt", SourceKey: "INV-1", AuthorityID: tn.Authority.ID, Class: "projector",
		Serial: "X7K2M9Q4", Vendor: "Epson"}
	o2 := o
	o2.SourceKey = "INV-2"
	res := reconcile(t, db, o, o2)
	if n := countCIs(t, db, tn.Authority.ID); n != 2 {
		t.Fatalf("CIs = %d, want 2", n)
	}
	if d := res.Items[1].Duplicates; len(d) != 1 || d[0] != res.Items[0].CIID {
		t.Fatalf("duplicates = %v, want [%d]", d, res.Items[0].CIID)
	}
}

// TestDroppedIdentifiers: identifiers that identify nothing are said in
// the answer, and a German placeholder serial merges nothing.
func TestDroppedIdentifiers(t *testing.T) {
	t.Parallel()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	tn := MustCreateTenant(t, db, "DRP")
	for i, serial := range []string{"unbekannt", "k. A.", "K.A", "keine", "ohne", "-", "nicht vorhanden", "N/A", "?"} {
		o := cmdb.Observation{Source: "connector:schulamt", SourceKey: fmt.Sprintf("INV-%d", i), AuthorityID: tn.Authority.ID,
			Class: "projector", Serial: serial, Vendor: "Epson", HardwareUUID: "00000000-0000-0000-0000-000000000000",
			NICs: []cmdb.NIC{{MAC: "01:00:5e:00:00:fb"}, {MAC: "a4:bb:6d:00:00:0" + fmt.Sprint(i)}}}
		it := reconcile(t, db, o).Items[0]
		want := []cmdb.Dropped{{Field: "serial", Value: serial, Reason: cmdb.DropJunk},
			{Field: "hardware_uuid", Value: "00000000-0000-0000-0000-000000000000", Reason: cmdb.DropJunk},
			{Field: "nics[0].mac", Value: "01:00:5e:00:00:fb", Reason: cmdb.DropMulticast}}
		if fmt.Sprint(it.Dropped) != fmt.Sprint(want) {
			t.Errorf("serial %q: dropped = %+v, want %+v", serial, it.Dropped, want)
		}
		if it.Outcome != cmdb.OutcomeCreated {
			t.Errorf("serial %q: outcome %s (rule %s), want created", serial, it.Outcome, it.Rule)
		}
	}
}
