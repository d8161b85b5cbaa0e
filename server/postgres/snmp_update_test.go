package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestUpdateSNMPCredential: a profile renamed keeps its secret; a secret
// typed replaces it; another version needs its secrets anew; nothing is
// half-written by a refused change; another tenant's profile is not
// found, another school's IT may not change it; no error holds a secret.
func TestUpdateSNMPCredential(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	tn, other := MustCreateTenant(t, db, "SU"), MustCreateTenant(t, db, "SV")
	c := &cmdb.SNMPCredential{Name: "Drucker", Version: "2c", Community: "alt-geheim"}
	must(t, db.CreateSNMPCredential(ctx, admin, tn.School.ID, c))
	poll := func() cmdb.SNMPCredential {
		t.Helper()
		creds, err := db.PollCredentials(ctx, tn.School.ID)
		must(t, err)
		if len(creds) != 1 {
			t.Fatalf("%d profiles", len(creds))
		}
		return creds[0]
	}
	it := cmdb.Scope{Subject: "user:it", Authorities: []int64{tn.Authority.ID}}
	up := &cmdb.SNMPCredential{Name: "Drucker Haus A", Version: "2c"}
	must(t, db.UpdateSNMPCredential(ctx, it, c.ID, up))
	if p := poll(); p.Name != "Drucker Haus A" || p.Community.Reveal() != "alt-geheim" {
		t.Errorf("renamed: %q with community %q, want the old secret kept", p.Name, p.Community.Reveal())
	}
	if up.Community != "" {
		t.Error("the update leaves the secret in the caller's struct")
	}
	must(t, db.UpdateSNMPCredential(ctx, it, c.ID, &cmdb.SNMPCredential{Name: "Drucker Haus A", Version: "2c", Community: "neu-geheim"}))
	if p := poll(); p.Community.Reveal() != "neu-geheim" {
		t.Errorf("replaced community reads %q", p.Community.Reveal())
	}
	// To v3 without its passphrase: refused naming the field, nothing written.
	err := db.UpdateSNMPCredential(ctx, it, c.ID, &cmdb.SNMPCredential{Name: "v3", Version: "3", User: "monitor", AuthProto: "SHA"})
	if cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != "auth_pass" {
		t.Errorf("v3 without a passphrase: %v", err)
	}
	if p := poll(); p.Version != "2c" || p.Name != "Drucker Haus A" || p.Community.Reveal() != "neu-geheim" {
		t.Errorf("a refused update wrote %+v", p)
	}
	must(t, db.UpdateSNMPCredential(ctx, it, c.ID, &cmdb.SNMPCredential{Name: "v3", Version: "3", User: "monitor", AuthProto: "SHA", AuthPass: "auth-geheim-1"}))
	if p := poll(); p.Version != "3" || p.Community != "" || p.AuthPass.Reveal() != "auth-geheim-1" {
		t.Errorf("v3: %+v", p)
	}
	// Outside the scope.
	foreign := cmdb.Scope{Subject: "user:x", Authorities: []int64{other.Authority.ID}}
	if err := db.UpdateSNMPCredential(ctx, foreign, c.ID, &cmdb.SNMPCredential{Name: "x", Version: "2c", Community: "x-geheim"}); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("another tenant: %v, want not found", err)
	}
	school2IT := cmdb.Scope{Subject: "user:s", Schools: []int64{tn.School2.ID}}
	if err := db.UpdateSNMPCredential(ctx, school2IT, c.ID, &cmdb.SNMPCredential{Name: "x", Version: "2c", Community: "x-geheim"}); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("another school's IT: %v, want not found", err)
	}
	reader := cmdb.Scope{Subject: "user:r", ReadSchools: []int64{tn.School.ID}}
	err = db.UpdateSNMPCredential(ctx, reader, c.ID, &cmdb.SNMPCredential{Name: "x", Version: "2c", Community: "x-geheim"})
	if cmdb.ErrorCode(err) != cmdb.EFORBIDDEN || strings.Contains(err.Error(), "geheim") {
		t.Errorf("a teacher of the school: %v, want forbidden without the secret", err)
	}
	if err := db.UpdateSNMPCredential(ctx, it, c.ID, &cmdb.SNMPCredential{Name: "v3", Version: "3", User: "monitor\n", AuthProto: "SHA", AuthPass: "pw-geheim-2"}); err == nil || strings.Contains(err.Error(), "geheim") {
		t.Errorf("a bad user: %v", err)
	}
	evs, _, err := db.FindAudit(ctx, admin, cmdb.AuditFilter{Action: "snmp_credential_updated"})
	must(t, err)
	if len(evs) != 3 {
		t.Errorf("%d audit events of updates, want 3", len(evs))
	}
}
