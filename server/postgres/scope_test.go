package postgres_test

import (
	"context"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestScopeIsEnforcedInTheStore: a caller scoped to one authority sees
// nothing of another — not by id, not in lists — and cannot write there.
func TestScopeIsEnforcedInTheStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	mine, theirs := MustCreateTenant(t, db, "MINE"), MustCreateTenant(t, db, "THEIRS")
	res := reconcile(t, db,
		cmdb.Observation{Source: "agent", AuthorityID: mine.Authority.ID, SchoolID: mine.School.ID, Class: "laptop", Serial: "A1", Vendor: "Dell"},
		cmdb.Observation{Source: "agent", AuthorityID: theirs.Authority.ID, SchoolID: theirs.School.ID, Class: "laptop", Serial: "B1", Vendor: "Dell"})
	own, other := res.Items[0].CIID, res.Items[1].CIID
	s := cmdb.Scope{Subject: "user:7", Authorities: []int64{mine.Authority.ID}}

	if _, err := db.FindCIByID(ctx, s, own); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindCIByID(ctx, s, other); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Fatalf("other tenant's CI: %v, want not found", err)
	}
	for name, err := range map[string]error{
		"history":     second(db.FindHistory(ctx, s, other, 0)),
		"identifiers": second(db.FindIdentifiers(ctx, s, other)),
		"locks":       second(db.FindLocks(ctx, s, other)),
		"school":      second(db.FindSchoolByID(ctx, s, theirs.School.ID)),
		"room":        second(db.FindRoomByID(ctx, s, theirs.Room.ID)),
		"authority":   second(db.FindAuthorityByID(ctx, s, theirs.Authority.ID)),
	} {
		if cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			t.Errorf("%s of the other tenant: %v, want not found", name, err)
		}
	}
	// Named in the body, the other tenant's CI does not exist either.
	if _, err := db.MergeCIs(ctx, s, own, other); cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != "other" {
		t.Errorf("merge with the other tenant's CI: %v, want invalid on other", err)
	}
	cis, n, err := db.FindCIs(ctx, s, cmdb.CIFilter{})
	must(t, err)
	if n != 1 || cis[0].ID != own {
		t.Fatalf("list = %d CIs", n)
	}
	schools, err := db.FindSchools(ctx, s, cmdb.TenantFilter{})
	must(t, err)
	if len(schools) != 2 {
		t.Fatalf("schools = %d, want own 2", len(schools))
	}
	// Writing into the other tenant, directly or by a hand edit, is refused.
	_, err = db.Reconcile(ctx, s, []cmdb.Observation{{Source: "agent", AuthorityID: theirs.Authority.ID, Serial: "B1", Vendor: "Dell"}})
	if cmdb.ErrorCode(err) != cmdb.EINVALID {
		t.Fatalf("reconcile into the other authority: %v", err)
	}
	_, err = db.Reconcile(ctx, s, []cmdb.Observation{{Source: "user:7", CIID: other, Attributes: map[string]string{"model": "x"}}})
	if cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Fatalf("hand edit of the other tenant's CI: %v", err)
	}
	// A school-scoped caller sees its school only.
	ss := cmdb.Scope{Subject: "user:8", Schools: []int64{mine.School2.ID}}
	if _, n, _ := db.FindCIs(ctx, ss, cmdb.CIFilter{}); n != 0 {
		t.Fatalf("school scope sees %d CIs of another school", n)
	}
}

func second[T any](_ T, err error) error { return err }
