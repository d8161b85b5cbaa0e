package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestFindAuditPages: the audit log pages by offset, newest first, the
// total of all matching events on every page, and another authority's
// events on none of an authority IT's pages.
func TestFindAuditPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	a, b := MustCreateTenant(t, db, "AUP"), MustCreateTenant(t, db, "AUQ")
	for i := range 5 {
		mustUser(t, db, fmt.Sprintf("p%d@aup.de", i), cmdb.Membership{Role: cmdb.RoleTeacher, OrgID: a.School.ID})
	}
	mustUser(t, db, "fremd@auq.de", cmdb.Membership{Role: cmdb.RoleTeacher, OrgID: b.School.ID})
	it := cmdb.Scope{Subject: "user:it", Authorities: []int64{a.Authority.ID}}
	f := cmdb.AuditFilter{Action: cmdb.AuditUserCreated, Limit: 2}
	var seen []int64
	for page := range 4 {
		f.Offset = page * 2
		evs, total, err := db.FindAudit(ctx, it, f)
		must(t, err)
		if total != 5 {
			t.Errorf("page %d: total %d, want 5", page+1, total)
		}
		for _, e := range evs {
			if e.AuthorityID != a.Authority.ID {
				t.Errorf("page %d shows an event of authority %d", page+1, e.AuthorityID)
			}
			if len(seen) > 0 && e.ID >= seen[len(seen)-1] {
				t.Errorf("page %d: event %d after %d, want newest first", page+1, e.ID, seen[len(seen)-1])
			}
			seen = append(seen, e.ID)
		}
	}
	if len(seen) != 5 {
		t.Errorf("the pages hold %d events, want 5", len(seen))
	}
}
