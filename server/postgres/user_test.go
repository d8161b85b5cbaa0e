package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestUpdateUser: a user's name and e-mail address change for whoever
// may create the user (admins; authority IT over users all of whose
// roles lie in their authority), are validated naming the field, a taken
// address is a conflict on email that changes nothing, and each change
// is in the audit log. School IT changes nobody, not even a user of
// their own school or themselves; another authority's IT does not see
// the user at all.
func TestUpdateUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	tn := MustCreateTenant(t, db, "USR")
	other := MustCreateTenant(t, db, "USX")
	a := tn.Authority.ID
	itID := mustUser(t, db, "it@usr.de", cmdb.Membership{Role: cmdb.RoleAuthorityIT, OrgID: a})
	authIT := cmdb.Scope{Subject: "user:" + fmt.Sprint(itID), UserID: itID, Authorities: []int64{a}}
	sitID := mustUser(t, db, "schulit@usr.de", cmdb.Membership{Role: cmdb.RoleSchoolIT, OrgID: tn.School.ID})
	schoolIT := cmdb.Scope{Subject: "user:" + fmt.Sprint(sitID), UserID: sitID, Schools: []int64{tn.School.ID}}
	oitID := mustUser(t, db, "it@usx.de", cmdb.Membership{Role: cmdb.RoleAuthorityIT, OrgID: other.Authority.ID})
	otherIT := cmdb.Scope{Subject: "user:" + fmt.Sprint(oitID), UserID: oitID, Authorities: []int64{other.Authority.ID}}
	osID := mustUser(t, db, "schulit@usx.de", cmdb.Membership{Role: cmdb.RoleSchoolIT, OrgID: other.School.ID})
	otherSchoolIT := cmdb.Scope{Subject: "user:" + fmt.Sprint(osID), UserID: osID, Schools: []int64{other.School.ID}}
	teacher := mustUser(t, db, "lehrer@usr.de", cmdb.Membership{Role: cmdb.RoleTeacher, OrgID: tn.School.ID})
	colleague := mustUser(t, db, "kollegin@usr.de", cmdb.Membership{Role: cmdb.RoleTeacher, OrgID: tn.School2.ID})

	// Authority IT renames a teacher of their authority and gives her a
	// new address (trimmed, folded to lower case).
	u, err := db.UpdateUser(ctx, authIT, teacher, cmdb.UserUpdate{Name: ptr("  Lea Lehrerin "), Email: ptr("L.Lehrerin@USR.de")})
	must(t, err)
	if u.Name != "Lea Lehrerin" || u.Email != "l.lehrerin@usr.de" {
		t.Fatalf("after the update: %q %q", u.Name, u.Email)
	}
	if got, _ := db.FindUserByID(ctx, admin, teacher); got.Name != "Lea Lehrerin" || got.Email != "l.lehrerin@usr.de" {
		t.Fatalf("stored: %+v", got)
	}
	// A nil field stays.
	u, err = db.UpdateUser(ctx, authIT, teacher, cmdb.UserUpdate{Name: ptr("Lea Lehrerin-Berg")})
	must(t, err)
	if u.Name != "Lea Lehrerin-Berg" || u.Email != "l.lehrerin@usr.de" {
		t.Fatalf("name only: %q %q", u.Name, u.Email)
	}

	// Bad values name the field; a taken address is a conflict on email,
	// and the name sent with it is not written either.
	for name, tc := range map[string]struct {
		upd         cmdb.UserUpdate
		code, field string
	}{
		"empty name":   {cmdb.UserUpdate{Name: ptr("   ")}, cmdb.EINVALID, "name"},
		"long name":    {cmdb.UserUpdate{Name: ptr(strings.Repeat("a", cmdb.MaxNameLen+1))}, cmdb.EINVALID, "name"},
		"bad address":  {cmdb.UserUpdate{Email: ptr("lea at usr.de")}, cmdb.EINVALID, "email"},
		"taken":        {cmdb.UserUpdate{Name: ptr("Nicht Gespeichert"), Email: ptr("Kollegin@usr.de")}, cmdb.ECONFLICT, "email"},
		"address only": {cmdb.UserUpdate{Email: ptr("it@usr.de")}, cmdb.ECONFLICT, "email"},
	} {
		_, err := db.UpdateUser(ctx, authIT, teacher, tc.upd)
		if cmdb.ErrorCode(err) != tc.code || cmdb.ErrorField(err) != tc.field {
			t.Errorf("%s: %v, want %s on %s", name, err, tc.code, tc.field)
		}
	}
	if got, _ := db.FindUserByID(ctx, admin, teacher); got.Name != "Lea Lehrerin-Berg" || got.Email != "l.lehrerin@usr.de" {
		t.Fatalf("a refused update wrote something: %+v", got)
	}

	// Who may not: school IT (who cannot create users) of the same
	// school, of another school of the authority, of another authority's
	// school, and for themselves; another authority's IT.
	for name, tc := range map[string]struct {
		s    cmdb.Scope
		user int64
		code string
	}{
		"school IT, own school":        {schoolIT, teacher, cmdb.ENOTFOUND},
		"school IT, other school":      {schoolIT, colleague, cmdb.ENOTFOUND},
		"school IT, other authority":   {otherSchoolIT, teacher, cmdb.ENOTFOUND},
		"school IT, themselves":        {schoolIT, sitID, cmdb.EFORBIDDEN},
		"authority IT, other's user":   {otherIT, teacher, cmdb.ENOTFOUND},
		"authority IT, other's school": {otherIT, colleague, cmdb.ENOTFOUND},
	} {
		_, err := db.UpdateUser(ctx, tc.s, tc.user, cmdb.UserUpdate{Name: ptr("Umbenannt")})
		if cmdb.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
	// A user who also holds a role in another authority is the platform
	// admins' to change, like creating them.
	must(t, db.AddMembership(ctx, admin, &cmdb.Membership{UserID: colleague, Role: cmdb.RoleTeacher, OrgID: other.School.ID}))
	if _, err := db.UpdateUser(ctx, authIT, colleague, cmdb.UserUpdate{Name: ptr("Umbenannt")}); cmdb.ErrorCode(err) != cmdb.EFORBIDDEN {
		t.Errorf("authority IT renames a user with roles elsewhere: %v", err)
	}
	if _, err := db.UpdateUser(ctx, admin, colleague, cmdb.UserUpdate{Name: ptr("Karla Kollegin")}); err != nil {
		t.Errorf("admin: %v", err)
	}
	// Authority IT may change themselves: they could have made that account.
	if _, err := db.UpdateUser(ctx, authIT, itID, cmdb.UserUpdate{Name: ptr("Jonas Weber")}); err != nil {
		t.Errorf("authority IT renames themselves: %v", err)
	}
	for _, id := range []int64{teacher, colleague, sitID} {
		if got, _ := db.FindUserByID(ctx, admin, id); got.Name == "Umbenannt" {
			t.Errorf("user %d was renamed by someone who may not", id)
		}
	}

	// The audit log has each change with old and new values; nothing for
	// an update that changed nothing.
	_, err = db.UpdateUser(ctx, authIT, teacher, cmdb.UserUpdate{Name: ptr("Lea Lehrerin-Berg")})
	must(t, err)
	evs, _, err := db.FindAudit(ctx, authIT, cmdb.AuditFilter{AuthorityID: a, Action: cmdb.AuditUserUpdated, Limit: 10})
	must(t, err)
	var onTeacher []*cmdb.AuditEvent
	for _, e := range evs {
		if e.Target == "user:"+fmt.Sprint(teacher) {
			onTeacher = append(onTeacher, e)
		}
	}
	if len(onTeacher) != 2 {
		t.Fatalf("%d audit events on the teacher, want 2: %+v", len(onTeacher), onTeacher)
	}
	first := onTeacher[1] // newest first
	if first.Actor != authIT.Subject || fmt.Sprint(first.Detail["email"]) != "map[new:l.lehrerin@usr.de old:lehrer@usr.de]" ||
		fmt.Sprint(first.Detail["name"]) != "map[new:Lea Lehrerin old:]" {
		t.Errorf("audit of the first change: %+v", first)
	}
	if _, ok := onTeacher[0].Detail["email"]; ok {
		t.Errorf("the name-only change records an address: %+v", onTeacher[0].Detail)
	}
	// The new address signs in; the old one no longer does.
	must(t, db.SetPassword(ctx, admin, teacher, "", "Kreide-Tafel-2027!"))
	if _, _, err := db.SignIn(ctx, "l.lehrerin@usr.de", "Kreide-Tafel-2027!", cmdb.RequestMeta{}); err != nil {
		t.Errorf("sign-in with the new address: %v", err)
	}
	if _, _, err := db.SignIn(ctx, "lehrer@usr.de", "Kreide-Tafel-2027!", cmdb.RequestMeta{}); cmdb.ErrorCode(err) != cmdb.EUNAUTHORIZED {
		t.Errorf("sign-in with the old address: %v", err)
	}
}
