package postgres_test

import (
	"context"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestUnreadableStoredHashesAreAnError: a device whose stored section
// hashes are not the JSON object the server writes is an error, not a
// device with no sections (which would silently ask for, and overwrite,
// everything).
func TestUnreadableStoredHashesAreAnError(t *testing.T) {
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	tn := MustCreateTenant(t, db, "HS")
	tok, err := db.CreateEnrolmentToken(ctx, admin, &cmdb.EnrolmentToken{SchoolID: tn.School.ID, Name: "test"})
	must(t, err)
	enr, err := db.Enroll(ctx, tok, &cmdb.EnrollRequest{System: cmdb.InventorySystem{Hostname: "nb-01", Serial: "PF4HASH01"}}, cmdb.RequestMeta{})
	must(t, err)
	d, err := db.DeviceByCredential(ctx, enr.Credential.Reveal())
	must(t, err)
	if _, err := db.SQL().Exec(`UPDATE devices SET hashes = '["not", "an", "object"]'::jsonb WHERE id = $1`, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeviceByCredential(ctx, enr.Credential.Reveal()); cmdb.ErrorCode(err) != cmdb.EINTERNAL {
		t.Errorf("DeviceByCredential with unreadable hashes: %v, want an internal error", err)
	}
	_, err = db.ApplyReports(ctx, []*cmdb.ReportItem{{Device: d, Report: &cmdb.Report{DeviceID: d.ID, Seq: 1}}})
	if cmdb.ErrorCode(err) != cmdb.EINTERNAL {
		t.Errorf("heartbeat with unreadable hashes: %v, want an internal error", err)
	}
}
