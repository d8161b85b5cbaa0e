package postgres_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestApplyReportsPaths: a batch holding a report with sections and a
// heartbeat of the same device takes the general path, a batch of
// heartbeats of distinct devices the one-statement path; both move the
// seq on once, answer replays with the seq kept, and mark the CI as seen
// by the agent.
func TestApplyReportsPaths(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	tn := MustCreateTenant(t, db, "AP")
	tok, err := db.CreateEnrolmentToken(ctx, admin, &cmdb.EnrolmentToken{SchoolID: tn.School.ID, Name: "test"})
	must(t, err)
	sys := cmdb.InventorySystem{Hostname: "nb-01", Vendor: "LENOVO", Model: "ThinkPad E14", Serial: "PF4APPLY1"}
	enr, err := db.Enroll(ctx, tok, &cmdb.EnrollRequest{System: sys}, cmdb.RequestMeta{})
	must(t, err)
	dev, err := db.DeviceByCredential(ctx, enr.Credential.Reveal())
	must(t, err)
	sysB := cmdb.InventorySystem{Hostname: "nb-02", Vendor: "LENOVO", Model: "ThinkPad E14", Serial: "PF4APPLY2"}
	enrB, err := db.Enroll(ctx, tok, &cmdb.EnrollRequest{System: sysB}, cmdb.RequestMeta{})
	must(t, err)
	devB, err := db.DeviceByCredential(ctx, enrB.Credential.Reveal())
	must(t, err)
	// The enrolments' own marks of the CIs go, so that heartbeats have to make them.
	_, err = db.SQL().ExecContext(ctx, `DELETE FROM ci_sources WHERE source = 'agent'`)
	must(t, err)

	data, _ := json.Marshal(sys)
	hashes := map[string]string{cmdb.SectionSystem: cmdb.SectionHash(data)}
	item := func(dev *cmdb.Device, seq uint64, sections bool) *cmdb.ReportItem {
		it := &cmdb.ReportItem{Device: dev, Report: &cmdb.Report{DeviceID: dev.ID, Seq: seq, Hashes: hashes}}
		if sections {
			it.Report.Sections = map[string]json.RawMessage{cmdb.SectionSystem: data}
			it.System = &sys
		}
		return it
	}
	check := func(name string, items []*cmdb.ReportItem, want ...cmdb.ReportResult) {
		t.Helper()
		got, err := db.ApplyReports(ctx, items)
		must(t, err)
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: result %d = %+v, want %+v", name, i, got[i], want[i])
			}
		}
	}
	// B's heartbeats name a system hash the server never got: want_full.
	check("general", []*cmdb.ReportItem{item(dev, 1, true), item(devB, 1, false), item(devB, 2, false)},
		cmdb.ReportResult{Ack: 1, Applied: true}, cmdb.ReportResult{Ack: 1, Applied: true, WantFull: true},
		cmdb.ReportResult{Ack: 2, Applied: true, WantFull: true})
	var seen int
	must(t, db.SQL().GetContext(ctx, &seen, `SELECT count(*) FROM ci_sources WHERE ci_id = $1 AND source = 'agent'`, enrB.CIID))
	if seen != 1 {
		t.Fatalf("agent marks of the heartbeating CI after the general path: %d, want 1", seen)
	}
	_, err = db.SQL().ExecContext(ctx, `DELETE FROM ci_sources WHERE source = 'agent'`)
	must(t, err)
	check("heartbeats", []*cmdb.ReportItem{item(dev, 2, false), item(devB, 3, false)},
		cmdb.ReportResult{Ack: 2, Applied: true}, cmdb.ReportResult{Ack: 3, Applied: true, WantFull: true})
	must(t, db.SQL().GetContext(ctx, &seen, `SELECT count(*) FROM ci_sources WHERE source = 'agent'`))
	if seen != 2 {
		t.Fatalf("agent marks after the heartbeat path: %d, want 2", seen)
	}
	check("replay", []*cmdb.ReportItem{item(dev, 2, false), item(devB, 1, false)}, cmdb.ReportResult{Ack: 2}, cmdb.ReportResult{Ack: 3})
	var last int
	must(t, db.SQL().GetContext(ctx, &last, `SELECT last_seq FROM devices WHERE id = $1`, devB.ID))
	if last != 3 {
		t.Errorf("last_seq of B %d, want 3", last)
	}
}
