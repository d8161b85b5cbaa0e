package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

// TestPlan checks the generated data without a database: it is
// deterministic, large enough, covers every class and every observation
// is valid and points at a tenant object of the plan.
func TestPlan(t *testing.T) {
	p := buildPlan()
	if !reflect.DeepEqual(p, buildPlan()) {
		t.Fatal("two plans differ: the demo data is not deterministic")
	}

	rooms := map[loc]bool{}
	var nBuildings int
	for _, s := range p.Schools {
		check(t, "school "+s.Code, cmdb.ValidateCode("code", s.Code), cmdb.ValidateName("name", s.Name))
		if len(s.Buildings) < 1 || len(s.Buildings) > 3 {
			t.Errorf("school %s has %d buildings", s.Code, len(s.Buildings))
		}
		for _, b := range s.Buildings {
			nBuildings++
			check(t, "building "+b.Code, cmdb.ValidateCode("code", b.Code), cmdb.ValidateName("name", b.Name))
			for _, r := range b.Rooms {
				check(t, "room "+r.Code, cmdb.ValidateCode("code", r.Code), cmdb.ValidateName("name", r.Name))
				l := loc{s.Code, b.Code, r.Code}
				if rooms[l] {
					t.Errorf("room %v twice", l)
				}
				rooms[l] = true
			}
		}
	}
	if len(p.Schools) < 4 || len(rooms) < 40 || len(p.Devices) < 300 {
		t.Errorf("schools %d, rooms %d, devices %d; want ≥ 4, ≥ 40, ≥ 300", len(p.Schools), len(rooms), len(p.Devices))
	}

	classes := map[string]int{}
	serials, macs, hosts := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var twins int
	for _, d := range p.Devices {
		classes[d.Class]++
		if d.Twin != nil {
			twins++
		}
		sk := cmdb.VendorKey(d.Model.Vendor) + "|" + cmdb.NormalizeSerial(d.Serial)
		if serials[sk] {
			t.Errorf("serial %s twice", sk)
		}
		serials[sk] = true
		for _, m := range d.MACs {
			if macs[m] {
				t.Errorf("MAC %s twice", m)
			}
			macs[m] = true
		}
		if d.Hostname != "" {
			if hosts[d.School.Code+"|"+d.Hostname] {
				t.Errorf("hostname %s twice in school %s", d.Hostname, d.School.Code)
			}
			hosts[d.School.Code+"|"+d.Hostname] = true
		}
	}
	for _, c := range cmdb.Classes {
		if classes[c] == 0 {
			t.Errorf("no device of class %s", c)
		}
	}
	if twins < 3 || twins > 5 {
		t.Errorf("%d duplicate twins, want 3–5", twins)
	}

	sources := map[string]int{}
	junk := &cmdb.Junk{}
	for i, po := range p.Obs {
		o := po.Obs
		o.AuthorityID, o.SchoolID = 1, 2
		if po.Room != "" {
			o.RoomID = 3
			if !rooms[po.loc] {
				t.Errorf("obs %d: unknown room %v", i, po.loc)
			}
		}
		if err := o.Validate(); err != nil {
			t.Errorf("obs %d (%s %s): %v", i, o.Source, o.SourceKey, err)
		}
		if o.SourceKey == "" {
			t.Errorf("obs %d (%s) has no source key", i, o.Source)
		}
		for _, n := range o.NICs {
			if m, _ := cmdb.NormalizeMAC(n.MAC); cmdb.JunkMAC(m) {
				t.Errorf("obs %d: junk MAC %s", i, n.MAC)
			}
		}
		if s := cmdb.NormalizeSerial(o.Serial); o.Serial != "" && junk.JunkSerial(s) {
			t.Errorf("obs %d: junk serial %s", i, o.Serial)
		}
		sources[o.Source]++
	}
	if sources[ConnectorSource] != len(p.Devices)+twins || sources[cmdb.SourceAgent] < 100 || len(sources) != 2 {
		t.Errorf("observations by source = %v, want the export and the agent (SNMP answers come from polling)", sources)
	}
	t.Logf("%d schools, %d buildings, %d rooms, %d devices (%d twins), %d observations %v, classes %v",
		len(p.Schools), nBuildings, len(rooms), len(p.Devices), twins, len(p.Obs), sources, classes)
}

// TestSimDevices checks the simulated devices without a simulator: the
// printers, copiers and projectors in use, each at its own address in its
// school's network, answering the school's community with the serial and
// MAC the inventory export has for it, so that polling finds its CI.
func TestSimDevices(t *testing.T) {
	devs := SimDevices()
	if !reflect.DeepEqual(devs, SimDevices()) {
		t.Fatal("two calls differ: the simulated devices are not deterministic")
	}
	p := buildPlan()
	exported := map[string]*device{}
	for _, d := range p.Devices {
		if len(d.MACs) > 0 {
			exported[cmdb.VendorKey(d.Model.Vendor)+"|"+d.MACs[0]] = d
		}
	}
	classes := map[string]int{}
	addrs := map[string]bool{}
	var noSerial int
	for _, sd := range devs {
		classes[sd.Class]++
		if addrs[sd.Address] {
			t.Errorf("address %s twice", sd.Address)
		}
		addrs[sd.Address] = true
		if sd.Community == "" || sd.Community != Community(sd.School) {
			t.Errorf("%s: community %q", sd.Address, sd.Community)
		}
		d := exported[cmdb.VendorKey(sd.Vendor)+"|"+sd.MAC]
		if d == nil || d.School.Code != sd.School || d.Status != cmdb.StatusInUse || d.IP != sd.Address {
			t.Errorf("%s: no device of the export in use with vendor %s and MAC %s in school %s", sd.Address, sd.Vendor, sd.MAC, sd.School)
			continue
		}
		rec := string(sd.Recording)
		if sd.Serial == "" {
			noSerial++
			if d.Twin == nil {
				t.Errorf("%s: no serial although the export has one", sd.Address)
			}
		} else if sd.Serial != d.Serial || !strings.Contains(rec, "|4|"+sd.Serial+"\n") {
			t.Errorf("%s: serial %q, export %q, not in the recording", sd.Address, sd.Serial, d.Serial)
		}
		if mac := "|4x|" + strings.ReplaceAll(sd.MAC, ":", "") + "\n"; !strings.Contains(rec, mac) {
			t.Errorf("%s: MAC %s not in the recording", sd.Address, sd.MAC)
		}
	}
	if len(devs) < 20 || classes[cmdb.ClassPrinter] == 0 || classes[cmdb.ClassMFP] == 0 || classes[cmdb.ClassProjector] == 0 {
		t.Errorf("simulated devices by class = %v, want ≥ 20 with printers, MFPs and projectors", classes)
	}
	if noSerial != 2 {
		t.Errorf("%d devices without a serial, want the 2 SNMP twins", noSerial)
	}
}

// TestRecordingsAreTheSamples: the embedded recordings are copies of the
// repository's sample devices (testdata/snmp), which the SNMP tests check
// the poller against.
func TestRecordingsAreTheSamples(t *testing.T) {
	files, err := filepath.Glob("../../testdata/snmp/*.snmprec")
	if err != nil || len(files) == 0 {
		t.Fatalf("samples: %v %v", files, err)
	}
	for _, f := range files {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Recording(filepath.Base(f))
		if err != nil {
			t.Errorf("%s is not embedded: %v", filepath.Base(f), err)
		} else if !bytes.Equal(got, want) {
			t.Errorf("server/demo/snmprec/%s differs from testdata/snmp: copy it again", filepath.Base(f))
		}
	}
}

func check(t *testing.T, what string, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
}

// TestLoadTwice loads the demo into PostgreSQL twice: the second load
// finds everything and changes nothing.
func TestLoadTwice(t *testing.T) {
	clock := &Clock{}
	db := postgrestest.MustOpenDB(t, postgres.Options{Now: clock.Now})
	ctx := context.Background()
	scope := cmdb.AdminScope("demo")
	opts := Options{SetNow: clock.Set}

	count := func(id int64) (cis, dups, rooms int) {
		t.Helper()
		_, cis, err := db.FindCIs(ctx, scope, cmdb.CIFilter{AuthorityID: id, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, dups, err = db.FindDuplicates(ctx, scope, cmdb.DuplicateFilter{})
		if err != nil {
			t.Fatal(err)
		}
		rs, err := db.FindRooms(ctx, scope, cmdb.TenantFilter{AuthorityID: id})
		if err != nil {
			t.Fatal(err)
		}
		return cis, dups, len(rs)
	}

	start := time.Now()
	s1, err := Load(ctx, db, scope, opts)
	t.Logf("first load took %v", time.Since(start))
	if err != nil {
		t.Fatal(err)
	}
	cis1, dups1, rooms1 := count(s1.Authority)
	t.Logf("first load: %+v; %d CIs, %d open duplicates, %d rooms", *s1, cis1, dups1, rooms1)

	p := buildPlan()
	var twins int
	for _, d := range p.Devices {
		if d.Twin != nil {
			twins++
		}
	}
	if want := len(p.Devices) + twins; cis1 != want || s1.Created != want {
		t.Errorf("CIs = %d, created = %d, want %d (devices plus twin records): agent or SNMP observations missed their CI",
			cis1, s1.Created, want)
	}
	if dups1 < 2 || s1.Duplicates != dups1 {
		t.Errorf("open duplicates = %d, reported %d, want ≥ 2 and equal", dups1, s1.Duplicates)
	}
	if s1.Observations != len(p.Obs) || s1.Created+s1.Updated+s1.Unchanged != s1.Observations {
		t.Errorf("summary %+v does not add up to %d observations", *s1, len(p.Obs))
	}
	if rooms1 != s1.Rooms {
		t.Errorf("rooms in store = %d, summary %d", rooms1, s1.Rooms)
	}

	// Every school has its credential profile, every simulated device its target.
	snmpCount := func(id int64) (targets, creds int) {
		t.Helper()
		ts, err := db.FindSNMPTargets(ctx, scope, 0)
		if err != nil {
			t.Fatal(err)
		}
		schools, err := db.FindSchools(ctx, scope, cmdb.TenantFilter{AuthorityID: id})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range schools {
			cs, err := db.FindSNMPCredentials(ctx, scope, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != 1 || cs[0].Name != SNMPCredentialName || cs[0].Version != "2c" {
				t.Errorf("school %s: credentials %+v", s.Code, cs)
			}
			creds += len(cs)
		}
		return len(ts), creds
	}
	targets1, creds1 := snmpCount(s1.Authority)
	if devs := SimDevices(); targets1 != len(devs) || s1.Targets != len(devs) || creds1 != len(p.Schools) {
		t.Errorf("targets %d (summary %d), credentials %d; want %d targets and %d credentials", targets1, s1.Targets, creds1, len(devs), len(p.Schools))
	}

	lived1 := checkLivedIn(t, db, s1)

	s2, err := Load(ctx, db, scope, opts)
	if err != nil {
		t.Fatal(err)
	}
	cis2, dups2, rooms2 := count(s2.Authority)
	t.Logf("second load: %+v; %d CIs, %d open duplicates", *s2, cis2, dups2)
	if s2.Authority != s1.Authority || s2.Created != 0 || s2.Duplicates != 0 {
		t.Errorf("second load %+v, want the same authority and nothing created", *s2)
	}
	if s2.PeopleCreated != 0 || s2.ArticlesCreated != 0 || s2.TicketsCreated != 0 || s2.TicketsSkipped != 0 || s2.Tickets != s1.Tickets || s2.People != s1.People {
		t.Errorf("second load created people %d, articles %d, tickets %d; want none", s2.PeopleCreated, s2.ArticlesCreated, s2.TicketsCreated)
	}
	if lived2 := countLivedIn(t, db, s2.Authority); lived2 != lived1 {
		t.Errorf("after second load: %+v, before %+v", lived2, lived1)
	}
	if s2.Updated != 0 {
		t.Errorf("second load updated %d CIs, want 0", s2.Updated)
	}
	if cis2 != cis1 || dups2 != dups1 || rooms2 != rooms1 {
		t.Errorf("after second load: CIs %d→%d, duplicates %d→%d, rooms %d→%d", cis1, cis2, dups1, dups2, rooms1, rooms2)
	}
	if targets2, creds2 := snmpCount(s2.Authority); targets2 != targets1 || creds2 != creds1 {
		t.Errorf("after second load: targets %d→%d, credentials %d→%d", targets1, targets2, creds1, creds2)
	}

	// A computer seen by the export and the agent is one CI with both.
	cis, _, err := db.FindCIs(ctx, scope, cmdb.CIFilter{AuthorityID: s1.Authority, Query: "FSG-R210-PC", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var both int
	for _, c := range cis {
		if c.AssetTag != "" && c.OSName != "" && c.Attributes["cpu.model"] != "" && c.RoomID != 0 {
			both++
		}
	}
	if len(cis) == 0 || both == 0 {
		t.Errorf("PC-Kabinett 1: %d CIs, %d with export and agent data", len(cis), both)
	}
	// The simulated devices' serials are those of their CIs, so that
	// polling them updates these CIs.
	for _, sd := range SimDevices() {
		if sd.Serial == "" {
			continue
		}
		cis, _, err := db.FindCIs(ctx, scope, cmdb.CIFilter{AuthorityID: s1.Authority, Query: sd.Serial, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(cis) != 1 || cis[0].Serial != sd.Serial || cmdb.VendorKey(cis[0].Vendor) != cmdb.VendorKey(sd.Vendor) {
			t.Errorf("simulated %s %s: CIs %+v", sd.Vendor, sd.Serial, cis)
		}
	}
}

// TestLoadNeedsAdmin: without an admin scope the authority cannot be
// created and Load says so.
func TestLoadNeedsAdmin(t *testing.T) {
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	_, err := Load(context.Background(), db, cmdb.Scope{Subject: "user:1", Authorities: []int64{1}}, Options{})
	if cmdb.ErrorCode(err) != cmdb.EFORBIDDEN {
		t.Fatalf("err = %v, want forbidden", err)
	}
}
