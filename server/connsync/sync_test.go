package connsync_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/connsync"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

const header = "Inventarnummer;Seriennummer;Gerätetyp;Hersteller;Modell;Schulnummer;Raum;Status;Anschaffungsdatum;MAC-Adresse\r\n"

// inventory is a German Excel CSV: two good rows, an unknown school, an
// impossible date and a MAC that is none.
var inventory = header +
	"INV-1;SN001;Beamer;Epson;EB-695Wi;GYN;1.12;in Betrieb;03.07.2022;00-1A-2B-3C-4D-01\r\n" +
	"INV-2;SN002;Laptop;Dell;Latitude 5440;GSP;;Lager;;\r\n" +
	"INV-3;SN003;Drucker;HP;LaserJet;XYZ;;in Betrieb;;\r\n" +
	"INV-4;SN004;Laptop;Dell;Latitude 5440;GYN;;in Betrieb;31.02.2022;\r\n" +
	"INV-5;SN005;Laptop;Dell;Latitude 5440;GYN;;in Betrieb;;zz:zz\r\n"

func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	must(tb, os.WriteFile(path, []byte(content), 0o644))
}

func csvInstance(tb testing.TB, db *postgres.DB, t *tenant, bin, file string) *cmdb.ConnectorInstance {
	tb.Helper()
	inst := &cmdb.ConnectorInstance{AuthorityID: t.auth.ID, Name: "inventar", Plugin: "csv", BinaryPath: bin,
		BinarySHA256: sha(tb, bin), Settings: []byte(`{"path": "` + file + `", "key_column": "Inventarnummer"}`), DeletePolicy: cmdb.DeleteRetire,
		Mapping: cmdb.ConnectorMapping{Fields: map[string]string{"model": "model"}}}
	must(tb, db.CreateConnector(context.Background(), admin, inst, nil))
	return inst
}

func errorOf(run *cmdb.ConnectorRun, key string) *cmdb.RunError {
	for i := range run.ErrorList {
		if run.ErrorList[i].SourceKey == key {
			return &run.ErrorList[i]
		}
	}
	return nil
}

// TestSyncCSV runs the real csv connector as a subprocess: a dry run
// writes nothing and lists what would happen, the run applies the good
// rows and names the bad ones with field and rule, an unchanged re-run
// costs no reconcile, and a record that disappears is retired only past
// the guard when confirmed.
func TestSyncCSV(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	ten := mustTenant(t, db, "CSV")
	dir := t.TempDir()
	file := filepath.Join(dir, "inventar.csv")
	writeFile(t, file, inventory)
	inst := csvInstance(t, db, ten, build(t, "csv"), file)
	e := connsync.New(connsync.Options{Store: db})
	defer e.Close()

	dry, err := e.Run(ctx, admin, inst, connsync.RunOptions{DryRun: true})
	must(t, err)
	if dry.Status != cmdb.RunSucceeded || dry.Created != 2 || dry.Errors != 3 || len(dry.Plan.Creates) != 2 {
		t.Fatalf("dry run = %s %+v plan %+v (%s)", dry.Status, dry.RunCounters, dry.Plan, dry.Failure)
	}
	if n := countCIs(t, db, ten.auth.ID); n != 0 {
		t.Fatalf("dry run wrote %d CIs", n)
	}
	if rep, _ := db.ConnectorReplica(ctx, admin, inst.ID); len(rep) != 0 {
		t.Fatalf("dry run wrote %d replica rows", len(rep))
	}
	var beamer *cmdb.PlanCI
	for i := range dry.Plan.Creates {
		if dry.Plan.Creates[i].SourceKey == "INV-1" {
			beamer = &dry.Plan.Creates[i]
		}
	}
	if beamer == nil || !hasChange(beamer.Changes, "class", "", cmdb.ClassProjector) || !hasChange(beamer.Changes, "model", "", "EB-695Wi") {
		t.Fatalf("dry run plan of INV-1 = %+v", beamer)
	}

	run, err := e.Run(ctx, admin, inst, connsync.RunOptions{})
	must(t, err)
	if run.Status != cmdb.RunSucceeded || run.Seen != 5 || run.Created != 2 || run.Errors != 3 {
		t.Fatalf("first run = %s %+v (%s)", run.Status, run.RunCounters, run.Failure)
	}
	for key, want := range map[string][2]string{"INV-3": {"school_code", "unknown_school"}, "INV-4": {"Anschaffungsdatum", "date"}, "INV-5": {"MAC-Adresse", "mac"}} {
		e := errorOf(run, key)
		if e == nil || e.Field != want[0] || e.Rule != want[1] || !strings.Contains(e.Origin, "Zeile") {
			t.Errorf("error of %s = %+v, want field %s rule %s with the row", key, e, want[0], want[1])
		}
	}
	cis, _, err := db.FindCIs(ctx, admin, cmdb.CIFilter{AuthorityID: ten.auth.ID})
	must(t, err)
	for _, ci := range cis {
		switch ci.Serial {
		case "SN001":
			if ci.Class != cmdb.ClassProjector || ci.Status != cmdb.StatusInUse || ci.RoomID != ten.room.ID || ci.Get("purchase_date") != "2022-07-03" {
				t.Errorf("beamer = %+v", ci)
			}
		case "SN002":
			if ci.Class != cmdb.ClassLaptop || ci.Status != cmdb.StatusInStock || ci.SchoolID != ten.gsp.ID {
				t.Errorf("laptop = %+v", ci)
			}
		default:
			t.Errorf("unexpected CI %+v", ci)
		}
	}

	before, err := db.ConnectorReplica(ctx, admin, inst.ID)
	must(t, err)
	if r := before["INV-3"]; r == nil || r.State != cmdb.ReplicaError || r.Hash != 0 || !strings.Contains(r.LastError, "XYZ") {
		t.Fatalf("replica of the bad row = %+v", r)
	}
	again, err := e.Run(ctx, admin, inst, connsync.RunOptions{})
	must(t, err)
	if again.Unchanged != 2 || again.Created+again.Updated != 0 || again.Errors != 3 {
		t.Fatalf("unchanged re-run = %+v", again.RunCounters)
	}
	after, err := db.ConnectorReplica(ctx, admin, inst.ID)
	must(t, err)
	if r := after["INV-1"]; r.State != cmdb.ReplicaActive || r.CIID == 0 || !r.LastSeen.After(before["INV-1"].LastSeen) {
		t.Fatalf("unchanged record's replica = %+v, before %+v: last seen not updated", r, before["INV-1"])
	}

	// SN001 is now "ausgesondert"; the bad rows are fixed; SN002 is gone.
	writeFile(t, file, header+
		"INV-1;SN001;Beamer;Epson;EB-695Wi;GYN;1.12;ausgesondert;03.07.2022;00-1A-2B-3C-4D-01\r\n"+
		"INV-3;SN003;Drucker;HP;LaserJet;GYN;;in Betrieb;;\r\n"+
		"INV-4;SN004;Laptop;Dell;Latitude 5440;GYN;;in Betrieb;28.02.2022;\r\n"+
		"INV-5;SN005;Laptop;Dell;Latitude 5440;GYN;;in Betrieb;;00:1a:2b:3c:4d:05\r\n")
	refused, err := e.Run(ctx, admin, inst, connsync.RunOptions{})
	must(t, err)
	if refused.Status != cmdb.RunRefused || refused.Retired != 0 || !strings.Contains(refused.Failure, "--confirm") ||
		refused.Updated != 1 || refused.Created != 3 {
		t.Fatalf("run with a disappeared record = %s %+v (%s)", refused.Status, refused.RunCounters, refused.Failure)
	}
	confirmed, err := e.Run(ctx, admin, inst, connsync.RunOptions{Confirm: true})
	must(t, err)
	if confirmed.Status != cmdb.RunSucceeded || confirmed.Retired != 1 || confirmed.Unchanged != 4 {
		t.Fatalf("confirmed run = %s %+v (%s)", confirmed.Status, confirmed.RunCounters, confirmed.Failure)
	}
	cis, _, _ = db.FindCIs(ctx, admin, cmdb.CIFilter{AuthorityID: ten.auth.ID, Status: cmdb.StatusRetired})
	if len(cis) != 2 {
		t.Fatalf("retired CIs = %d, want SN001 (by its status) and SN002 (gone)", len(cis))
	}
	runs, err := db.FindConnectorRuns(ctx, admin, inst.ID, 0)
	must(t, err)
	if len(runs) != 5 || runs[0].ID != confirmed.ID || runs[0].FinishedAt == nil || runs[0].PeakMemoryBytes == 0 || runs[0].PluginMemoryBytes == 0 {
		t.Fatalf("run log = %d runs, newest %+v", len(runs), runs[0])
	}
}

func hasChange(cs []cmdb.PlanChange, attr, old, new string) bool {
	for _, c := range cs {
		if c.Attr == attr && c.Old == old && c.New == new {
			return true
		}
	}
	return false
}

// TestSyncRefusesReplacedBinary: a binary whose SHA-256 is not the
// registered one never runs; the run fails saying so.
func TestSyncRefusesReplacedBinary(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	ten := mustTenant(t, db, "SHA")
	file := filepath.Join(t.TempDir(), "inventar.csv")
	writeFile(t, file, inventory)
	inst := csvInstance(t, db, ten, build(t, "csv"), file)
	bad := build(t, "bad")
	data, err := os.ReadFile(bad)
	must(t, err)
	must(t, os.WriteFile(inst.BinaryPath, data, 0o755))
	e := connsync.New(connsync.Options{Store: db})
	defer e.Close()
	run, err := e.Run(ctx, admin, inst, connsync.RunOptions{})
	must(t, err)
	if run.Status != cmdb.RunFailed || !strings.Contains(run.Failure, "ersetzt") || countCIs(t, db, ten.auth.ID) != 0 {
		t.Fatalf("run with a replaced binary = %s %q", run.Status, run.Failure)
	}
}
