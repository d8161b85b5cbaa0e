package postgres_test

import (
	"context"
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestIdentity runs the identity scenarios: each row feeds observations
// in order, one batch each, and states how many CIs must exist after.
func TestIdentity(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	type step func(tn *Tenant) cmdb.Observation
	tests := []struct {
		name  string
		steps []step
		want  int
		check func(t *testing.T, db *postgres.DB, tn *Tenant, res []*cmdb.ReconcileResult)
	}{
		{
			name: "OS reinstall: new agent key, same serial is the same CI",
			steps: []step{
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "agent", SourceKey: "dev-1", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID,
						Class: "laptop", Serial: "5CD1234XYZ", Vendor: "HP", Hostname: "NB-01", Attributes: map[string]string{"os_name": "Windows 10"}}
				},
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "agent", SourceKey: "dev-2", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID,
						Class: "laptop", Serial: "5cd1234xyz", Vendor: "Hewlett-Packard", Hostname: "NB-01", Attributes: map[string]string{"os_name": "Windows 11"}}
				},
			},
			want: 1,
			check: func(t *testing.T, db *postgres.DB, tn *Tenant, res []*cmdb.ReconcileResult) {
				if r := res[1].Items[0].Rule; r != cmdb.RuleSerial {
					t.Errorf("rule = %s, want %s", r, cmdb.RuleSerial)
				}
				ci, _ := db.FindCIByID(context.Background(), admin, res[1].Items[0].CIID)
				if ci.OSName != "Windows 11" {
					t.Errorf("os_name = %q, want Windows 11", ci.OSName)
				}
			},
		},
		{
			name: "hostname rename is the same CI",
			steps: []step{
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "agent", SourceKey: "dev-7", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID,
						Class: "desktop", Serial: "PF2ABCDE", Vendor: "LENOVO", Hostname: "R112-PC01"}
				},
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "agent", SourceKey: "dev-7", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID,
						Class: "desktop", Serial: "PF2ABCDE", Vendor: "Lenovo", Hostname: "R112-LEHRER"}
				},
			},
			want: 1,
			check: func(t *testing.T, db *postgres.DB, tn *Tenant, res []*cmdb.ReconcileResult) {
				ci, _ := db.FindCIByID(context.Background(), admin, res[1].Items[0].CIID)
				if ci.Hostname != "R112-LEHRER" {
					t.Errorf("hostname = %q", ci.Hostname)
				}
			},
		},
		{
			name: "junk serials do not identify: two machines, two CIs",
			steps: []step{
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "agent", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID, Class: "desktop",
						Serial: "To Be Filled By O.E.M.", Vendor: "To Be Filled By O.E.M.", Hostname: "bau-1",
						NICs: []cmdb.NIC{{MAC: "00:1a:2b:00:00:01"}}}
				},
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "agent", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID, Class: "desktop",
						Serial: "To Be Filled By O.E.M.", Vendor: "To Be Filled By O.E.M.", Hostname: "bau-2",
						NICs: []cmdb.NIC{{MAC: "00:1a:2b:00:00:02"}}}
				},
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "agent", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID, Class: "desktop",
						Serial: "0000000000", Vendor: "ASUS", Hostname: "bau-3", NICs: []cmdb.NIC{{MAC: "00:1a:2b:00:00:03"}}}
				},
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "agent", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID, Class: "desktop",
						Serial: "0000000000", Vendor: "ASUS", Hostname: "bau-4", NICs: []cmdb.NIC{{MAC: "00:1a:2b:00:00:04"}}}
				},
			},
			want: 4,
		},
		{
			name: "VMs with one cloned hardware UUID and different serials are two CIs",
			steps: []step{
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "agent", SourceKey: "vm-a", AuthorityID: tn.Authority.ID, Class: "other",
						Serial: "VMware-56 4d 01", Vendor: "VMware, Inc.", HardwareUUID: "564D0123-4567-89AB-CDEF-0123456789AB"}
				},
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "agent", SourceKey: "vm-b", AuthorityID: tn.Authority.ID, Class: "other",
						Serial: "VMware-56 4d 02", Vendor: "VMware, Inc.", HardwareUUID: "564d0123456789abcdef0123456789ab"}
				},
				func(tn *Tenant) cmdb.Observation {
					// A third clone without a serial cannot be told apart by UUID any more.
					return cmdb.Observation{Source: "snmp", AuthorityID: tn.Authority.ID, Class: "other",
						HardwareUUID: "564d0123-4567-89ab-cdef-0123456789ab", NICs: []cmdb.NIC{{MAC: "00:50:56:00:00:09"}}}
				},
			},
			want: 3,
			check: func(t *testing.T, db *postgres.DB, tn *Tenant, res []*cmdb.ReconcileResult) {
				var n int
				must(t, db.SQL().Get(&n, `SELECT count(*) FROM cloned_uuids WHERE uuid = '564d0123-4567-89ab-cdef-0123456789ab'`))
				if n != 1 {
					t.Errorf("cloned_uuids rows = %d, want 1", n)
				}
			},
		},
		{
			name: "two laptops sharing a docking-station MAC are two CIs",
			steps: []step{
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "agent", SourceKey: "nb-1", AuthorityID: tn.Authority.ID, Class: "laptop",
						Serial: "DL1111", Vendor: "Dell Inc.", NICs: []cmdb.NIC{{MAC: "a4:bb:6d:00:00:01", Kind: "physical"}, {MAC: "d0:c6:37:aa:bb:cc", Kind: "dock"}}}
				},
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "agent", SourceKey: "nb-2", AuthorityID: tn.Authority.ID, Class: "laptop",
						Serial: "DL2222", Vendor: "Dell Inc.", NICs: []cmdb.NIC{{MAC: "a4:bb:6d:00:00:02", Kind: "physical"}, {MAC: "d0:c6:37:aa:bb:cc", Kind: "dock"}}}
				},
				func(tn *Tenant) cmdb.Observation {
					// The connector cannot tell a dock MAC; the serial contradicts, so no merge either.
					return cmdb.Observation{Source: "connector:schulamt", SourceKey: "INV-3", AuthorityID: tn.Authority.ID, Class: "laptop",
						Serial: "DL3333", Vendor: "Dell", NICs: []cmdb.NIC{{MAC: "D0-C6-37-AA-BB-CC"}}}
				},
			},
			want: 3,
		},
		{
			name: "printer seen by SNMP and by a connector is one CI with both sources' attributes",
			steps: []step{
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "snmp", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID, Class: "printer",
						Serial: "CNB1R12345", Vendor: "Hewlett-Packard", NICs: []cmdb.NIC{{MAC: "3c:d9:2b:01:02:03"}},
						Attributes: map[string]string{"model": "LaserJet M404dn", "counter.pages": "12034"}}
				},
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "connector:schulamt", SourceKey: "GYN-000123", AuthorityID: tn.Authority.ID,
						RoomID: tn.Room2.ID, Class: "printer", Serial: " cnb1r12345 ", Vendor: "HP", AssetTag: "GYN-000123",
						Attributes: map[string]string{"purchase_date": "2022-07-03", "warranty_end": "2027-07-03", "model": "HP LJ M404"}}
				},
			},
			want: 1,
			check: func(t *testing.T, db *postgres.DB, tn *Tenant, res []*cmdb.ReconcileResult) {
				ci, err := db.FindCIByID(context.Background(), admin, res[1].Items[0].CIID)
				must(t, err)
				if ci.AssetTag != "GYN-000123" || ci.PurchaseDate != "2022-07-03" || ci.RoomID != tn.Room2.ID || ci.Attributes["counter.pages"] != "12034" {
					t.Errorf("merged CI = %+v", ci)
				}
				// connector ranks above snmp for hardware: its model wins.
				if ci.Model != "HP LJ M404" || ci.Provenance["model"].Source != "connector:schulamt" || ci.Provenance["counter.pages"].Source != "snmp" {
					t.Errorf("model %q provenance %+v", ci.Model, ci.Provenance)
				}
			},
		},
		{
			name: "a hand-edited room is not overwritten by a lower source",
			steps: []step{
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "connector:schulamt", SourceKey: "B-1", AuthorityID: tn.Authority.ID, RoomID: tn.Room.ID,
						Class: "projector", Serial: "EPS0001", Vendor: "Epson"}
				},
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "user:alice", CIID: -1, RoomID: tn.Room2.ID}
				},
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "connector:schulamt", SourceKey: "B-1", AuthorityID: tn.Authority.ID, RoomID: tn.Room.ID,
						Class: "projector", Serial: "EPS0001", Vendor: "Epson"}
				},
			},
			want: 1,
			check: func(t *testing.T, db *postgres.DB, tn *Tenant, res []*cmdb.ReconcileResult) {
				ci, _ := db.FindCIByID(context.Background(), admin, res[2].Items[0].CIID)
				if ci.RoomID != tn.Room2.ID {
					t.Errorf("room = %d, want hand-edited %d", ci.RoomID, tn.Room2.ID)
				}
				locks, _ := db.FindLocks(context.Background(), admin, ci.ID)
				if len(locks) != 1 || locks[0].Attr != "room" || locks[0].LockedBy != "user:alice" {
					t.Errorf("locks = %+v", locks)
				}
			},
		},
		{
			name: "a stale higher source lets a lower one write",
			steps: []step{
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "agent", SourceKey: "old", AuthorityID: tn.Authority.ID, Class: "desktop",
						Serial: "STALE01", Vendor: "Fujitsu", Attributes: map[string]string{"model": "Esprimo P556"},
						ObservedAt: now.Add(-40 * 24 * time.Hour)}
				},
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "snmp", AuthorityID: tn.Authority.ID, Serial: "STALE01", Vendor: "Fujitsu",
						Attributes: map[string]string{"model": "ESPRIMO P556/2"}}
				},
				func(tn *Tenant) cmdb.Observation {
					// A fresh higher source is not overwritten.
					return cmdb.Observation{Source: "agent", SourceKey: "fresh", AuthorityID: tn.Authority.ID, Class: "desktop",
						Serial: "FRESH01", Vendor: "Fujitsu", Attributes: map[string]string{"model": "Esprimo P757"}}
				},
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "snmp", AuthorityID: tn.Authority.ID, Serial: "FRESH01", Vendor: "Fujitsu",
						Attributes: map[string]string{"model": "something else"}}
				},
			},
			want: 2,
			check: func(t *testing.T, db *postgres.DB, tn *Tenant, res []*cmdb.ReconcileResult) {
				stale, _ := db.FindCIByID(context.Background(), admin, res[1].Items[0].CIID)
				fresh, _ := db.FindCIByID(context.Background(), admin, res[3].Items[0].CIID)
				if stale.Model != "ESPRIMO P556/2" {
					t.Errorf("stale agent: model = %q, want snmp's", stale.Model)
				}
				if fresh.Model != "Esprimo P757" {
					t.Errorf("fresh agent: model = %q, want agent's", fresh.Model)
				}
			},
		},
		{
			name: "an ambiguous match records a duplicate candidate and merges nothing",
			steps: []step{
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "connector:schulamt", SourceKey: "X-1", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID,
						Class: "desktop", Serial: "CZC1234567", Vendor: "HP", Hostname: "SEK-PC"}
				},
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "connector:schulamt", SourceKey: "X-2", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID,
						Class: "desktop", Serial: "CZC123456O", Vendor: "HP", Hostname: "SEK-PC"}
				},
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "snmp", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID, Hostname: "sek-pc.schule.local",
						NICs: []cmdb.NIC{{MAC: "10:20:30:40:50:60"}}}
				},
			},
			want: 2,
			check: func(t *testing.T, db *postgres.DB, tn *Tenant, res []*cmdb.ReconcileResult) {
				it := res[2].Items[0]
				if it.Rule != cmdb.RuleHostname || it.CIID != res[0].Items[0].CIID || len(it.Duplicates) != 1 {
					t.Errorf("item = %+v", it)
				}
				dups, n, err := db.FindDuplicates(context.Background(), admin, cmdb.DuplicateFilter{})
				must(t, err)
				if n != 1 || dups[0].CIA != res[0].Items[0].CIID || dups[0].CIB != res[1].Items[0].CIID || dups[0].Rule != cmdb.RuleHostname {
					t.Errorf("duplicates = %d %+v", n, dups)
				}
			},
		},
		{
			name: "hostname never matches across schools",
			steps: []step{
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "agent", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID, Class: "desktop", Hostname: "PC-01"}
				},
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "agent", AuthorityID: tn.Authority.ID, SchoolID: tn.School2.ID, Class: "desktop", Hostname: "PC-01"}
				},
				func(tn *Tenant) cmdb.Observation {
					return cmdb.Observation{Source: "agent", AuthorityID: tn.Authority.ID, SchoolID: tn.School2.ID, Class: "desktop", Hostname: "pc-01"}
				},
			},
			want: 2,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := postgrestest.MustOpenDB(t, postgres.Options{})
			tn := MustCreateTenant(t, db, fmt.Sprintf("LK%d", i))
			var res []*cmdb.ReconcileResult
			for _, s := range tt.steps {
				o := s(tn)
				if o.CIID == -1 { // the CI of the first step
					o.CIID = res[0].Items[0].CIID
				}
				res = append(res, reconcile(t, db, o))
			}
			if n := countCIs(t, db, tn.Authority.ID); n != tt.want {
				t.Errorf("CIs = %d, want %d", n, tt.want)
			}
			if tt.check != nil {
				tt.check(t, db, tn, res)
			}
		})
	}
}

// TestReconcileConcurrent sends the same new devices in parallel batches:
// each device must end up as exactly one CI.
func TestReconcileConcurrent(t *testing.T) {
	t.Parallel()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	tn := MustCreateTenant(t, db, "CC")
	const devices, workers = 150, 6
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(w)))
			obs := make([]cmdb.Observation, devices)
			for i, p := range rng.Perm(devices) {
				// Workers see the device by different identifiers of the same machine.
				o := cmdb.Observation{Source: "agent", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID, Class: "laptop",
					Serial: fmt.Sprintf("SN%05d", p), Vendor: "Lenovo", Hostname: fmt.Sprintf("nb-%d", p)}
				if w%2 == 1 {
					o.Source = "snmp"
				}
				obs[i] = o
			}
			for off := 0; off < devices; off += 50 {
				if _, err := db.Reconcile(context.Background(), admin, obs[off:off+50]); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := countCIs(t, db, tn.Authority.ID); n != devices {
		t.Fatalf("CIs = %d, want %d", n, devices)
	}
}

// TestReconcileSameDeviceTwiceInBatch: one batch that holds the same new
// device twice creates it once.
func TestReconcileSameDeviceTwiceInBatch(t *testing.T) {
	t.Parallel()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	tn := MustCreateTenant(t, db, "TW")
	o := cmdb.Observation{Source: "agent", SourceKey: "k", AuthorityID: tn.Authority.ID, Class: "tablet", Serial: "IPAD123", Vendor: "Apple"}
	res := reconcile(t, db, o, o)
	if res.Items[0].CIID != res.Items[1].CIID || res.Items[0].Outcome != cmdb.OutcomeCreated || res.Items[1].Outcome != cmdb.OutcomeUnchanged {
		t.Fatalf("items = %+v", res.Items)
	}
	res = reconcile(t, db, o)
	if res.Items[0].Outcome != cmdb.OutcomeUnchanged {
		t.Fatalf("third sighting outcome = %s, want unchanged", res.Items[0].Outcome)
	}
}

// TestJunkSerialNeverReplacesRealOne: a board that reports "To Be Filled
// By O.E.M." does not wipe the serial an inventory export recorded.
func TestJunkSerialNeverReplacesRealOne(t *testing.T) {
	t.Parallel()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	tn := MustCreateTenant(t, db, "JS")
	res := reconcile(t, db, cmdb.Observation{Source: "connector:x", SourceKey: "1", AuthorityID: tn.Authority.ID, Class: "desktop",
		Serial: "CZC9999999", Vendor: "HP", NICs: []cmdb.NIC{{MAC: "00:aa:bb:cc:dd:ee"}}})
	reconcile(t, db, cmdb.Observation{Source: "agent", AuthorityID: tn.Authority.ID, Serial: "To Be Filled By O.E.M.",
		HardwareUUID: "00000000-0000-0000-0000-000000000000", NICs: []cmdb.NIC{{MAC: "00:aa:bb:cc:dd:ee"}}})
	ci, err := db.FindCIByID(context.Background(), admin, res.Items[0].CIID)
	must(t, err)
	if ci.Serial != "CZC9999999" || ci.HardwareUUID != "" || countCIs(t, db, tn.Authority.ID) != 1 {
		t.Fatalf("serial %q uuid %q", ci.Serial, ci.HardwareUUID)
	}
}
