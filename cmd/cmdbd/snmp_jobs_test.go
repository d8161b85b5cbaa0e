package main

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
	"github.com/schulit/cmdb/server/snmp"
	"github.com/schulit/cmdb/server/snmp/sim"
	"github.com/schulit/cmdb/server/snmp/snmptest"
)

// TestSNMPRound polls a simulated printer and a silent address through
// the real store, trying the school's credential profiles in order: the
// printer becomes a CI with its page counter and supply metrics, and the
// silent address is marked unreachable after three misses without
// holding up the rounds.
func TestSNMPRound(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := sim.Start(ctx, sim.Options{DataDir: snmptest.DataDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	silent, err := net.ListenPacket("udp", "127.0.0.1:0") // answers nothing
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	db := postgrestest.MustOpenDB(t, postgres.Options{})
	admin := cmdb.AdminScope("test")
	a := &cmdb.Authority{Code: "SN", Name: "Stadt SN"}
	must(t, db.CreateAuthority(ctx, admin, a))
	sch := &cmdb.School{AuthorityID: a.ID, Code: "40123", Name: "Gymnasium"}
	must(t, db.CreateSchool(ctx, admin, sch))
	// Communities are tried in order; each simulated device answers to its own.
	for _, c := range []string{"wrong-community", "lexmark-ms521"} {
		must(t, db.CreateSNMPCredential(ctx, admin, sch.ID, &cmdb.SNMPCredential{Name: c, Version: "2c", Community: cmdb.Secret(c)}))
	}
	must(t, db.CreateSNMPTarget(ctx, admin, &cmdb.SNMPTarget{SchoolID: sch.ID, Address: srv.Addr()}))
	must(t, db.CreateSNMPTarget(ctx, admin, &cmdb.SNMPTarget{SchoolID: sch.ID, Address: silent.LocalAddr().String()}))

	opts := snmp.Options{Timeout: 300 * time.Millisecond, Retries: 0}
	for round := 0; round < 3; round++ {
		must(t, snmpRound(ctx, db, opts, 3, 16))
	}
	targets, err := db.FindSNMPTargets(ctx, admin, sch.ID)
	must(t, err)
	var printer *cmdb.SNMPTarget
	for _, tg := range targets {
		if tg.Address == srv.Addr() {
			printer = tg
			if tg.CIID == 0 || tg.Unreachable {
				t.Fatalf("simulated printer target = %+v", tg)
			}
		} else if !tg.Unreachable || tg.Misses != 3 {
			t.Fatalf("silent target = %+v", tg)
		}
	}
	ci, err := db.FindCIByID(ctx, admin, printer.CIID)
	must(t, err)
	if ci.Serial != "4514123456789" || ci.Vendor != "Lexmark" || ci.Class != "printer" {
		t.Fatalf("CI = %+v", ci)
	}
	ms, err := db.FindMetrics(ctx, admin, ci.ID, "", 0)
	must(t, err)
	names := map[string]bool{}
	for _, m := range ms {
		names[m.Name] = true
	}
	if !names["counter.pages"] || len(names) < 3 {
		t.Fatalf("metrics = %v", names)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
