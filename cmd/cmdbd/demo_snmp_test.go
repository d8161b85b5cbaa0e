package main

import (
	"context"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/demo"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestDemoPollsItsDevices runs cmdbd demo: its printers, copiers and
// projectors answer from simulators, and the first round at start lands
// every answer on the CI the inventory export made — none is created —
// with page counters, supplies and metrics; the next round opens health
// events. A second start duplicates nothing.
func TestDemoPollsItsDevices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := cmdb.AdminScope("test")
	url := postgrestest.NewDatabase(t)
	m1, _, logs := runMain(t, "demo", "--listen", "127.0.0.1:0", "--db", url)
	if !strings.Contains(logs.String(), "demo printers, copiers and projectors simulated and polled") {
		t.Fatalf("no first polling round in the logs:\n%s", logs)
	}
	devs := demo.SimDevices()
	count := func(m *Main) (cis, dups, targets int) {
		t.Helper()
		_, cis, err := m.db.FindCIs(ctx, admin, cmdb.CIFilter{Limit: 1})
		must(t, err)
		_, dups, err = m.db.FindDuplicates(ctx, admin, cmdb.DuplicateFilter{})
		must(t, err)
		ts, err := m.db.FindSNMPTargets(ctx, admin, 0)
		must(t, err)
		return cis, dups, len(ts)
	}
	cis1, dups1, targets1 := count(m1)
	if targets1 != len(devs) {
		t.Fatalf("targets = %d, want %d", targets1, len(devs))
	}
	// The agent's two twins and the two devices SNMP knows by MAC only.
	if dups1 != 4 {
		t.Errorf("duplicate candidates = %d, want 4", dups1)
	}

	targets, err := m1.db.FindSNMPTargets(ctx, admin, 0)
	must(t, err)
	byAddr := map[string]*cmdb.SNMPTarget{}
	for _, tg := range targets {
		byAddr[tg.Address] = tg
	}
	var printers, projectors int
	for _, d := range devs {
		tg := byAddr[d.Address]
		if tg == nil || tg.CIID == 0 || tg.Unreachable || tg.LastOKAt == nil {
			t.Errorf("%s %s: target %+v not polled", d.Vendor, d.Address, tg)
			continue
		}
		ci, err := m1.db.FindCIByID(ctx, admin, tg.CIID)
		must(t, err)
		// The export's CI: it has the asset tag, and its serial and class.
		if ci.AssetTag == "" || d.Serial != "" && ci.Serial != d.Serial || ci.Class != d.Class ||
			cmdb.VendorKey(ci.Vendor) != cmdb.VendorKey(d.Vendor) {
			t.Errorf("%s %s %s: polled into CI %+v", d.Vendor, d.Serial, d.Address, ci)
		}
		if ci.Attributes["snmp.sys_descr"] == "" || ci.Provenance["snmp.sys_descr"].Source != cmdb.SourceSNMP {
			t.Errorf("%s %s: no sysDescr from SNMP: %v", d.Vendor, d.Address, ci.Attributes)
		}
		if d.Class == cmdb.ClassProjector {
			projectors++
			continue
		}
		printers++
		if ci.Attributes["counter.pages"] == "" || ci.Attributes["supply.1.level"] == "" || ci.Attributes["printer.errors"] == "" {
			t.Errorf("%s %s: printer CI without counters and supplies: %v", d.Vendor, d.Address, ci.Attributes)
		}
		ms, err := m1.db.FindMetrics(ctx, admin, ci.ID, "counter.pages", 0)
		must(t, err)
		if len(ms) != 1 {
			t.Errorf("%s %s: page counter series %+v, want one poll", d.Vendor, d.Address, ms)
		}
	}
	if printers < 10 || projectors < 5 {
		t.Errorf("%d printers and %d projectors polled", printers, projectors)
	}

	// The second poll opens the conditions the devices report.
	p, err := m1.newPoller(nil)
	must(t, err)
	must(t, p.Round(ctx))
	kinds := map[cmdb.HealthKind]int{}
	for _, tg := range targets {
		evs, err := m1.db.FindHealthEvents(ctx, admin, tg.CIID)
		must(t, err)
		for _, e := range evs {
			if e.Open {
				kinds[e.Kind]++
			}
		}
	}
	t.Logf("%d CIs, %d duplicates, %d printers and %d projectors polled; open health events %v", cis1, dups1, printers, projectors, kinds)
	if kinds["supply_low"] == 0 || kinds["supply_empty"] == 0 || kinds["jam"]+kinds["door_open"]+kinds["no_paper"] == 0 {
		t.Errorf("open health events by kind = %v, want low and empty supplies and a jam, door or paper problem", kinds)
	}
	if cis, dups, targets := count(m1); cis != cis1 || dups != dups1 || targets != targets1 {
		t.Errorf("after the second round: CIs %d→%d, duplicates %d→%d, targets %d→%d", cis1, cis, dups1, dups, targets1, targets)
	}

	m2, _, _ := runMain(t, "demo", "--listen", "127.0.0.1:0", "--db", url)
	if cis, dups, targets := count(m2); cis != cis1 || dups != dups1 || targets != targets1 {
		t.Errorf("after a second demo start: CIs %d→%d, duplicates %d→%d, targets %d→%d", cis1, cis, dups1, dups, targets1, targets)
	}
}
