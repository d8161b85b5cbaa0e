package postgres_test

import (
	"context"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

var admin = cmdb.AdminScope("test")

// Tenant is a small tenant tree for tests: one authority, two schools,
// a building each and two rooms in the first school.
type Tenant struct {
	Authority          *cmdb.Authority
	School, School2    *cmdb.School
	Room, Room2, Room3 *cmdb.Room
}

// MustCreateTenant creates a tenant tree whose codes start with code.
func MustCreateTenant(tb testing.TB, db *postgres.DB, code string) *Tenant {
	tb.Helper()
	ctx := context.Background()
	t := &Tenant{Authority: &cmdb.Authority{Code: code, Name: "Landkreis " + code}}
	must(tb, db.CreateAuthority(ctx, admin, t.Authority))
	t.School = &cmdb.School{AuthorityID: t.Authority.ID, Code: code + "-GYN", Name: "Gymnasium Nord"}
	must(tb, db.CreateSchool(ctx, admin, t.School))
	t.School2 = &cmdb.School{AuthorityID: t.Authority.ID, Code: code + "-GSP", Name: "Grundschule am Park"}
	must(tb, db.CreateSchool(ctx, admin, t.School2))
	b := &cmdb.Building{SchoolID: t.School.ID, Code: "A", Name: "Haus A"}
	must(tb, db.CreateBuilding(ctx, admin, b))
	b2 := &cmdb.Building{SchoolID: t.School2.ID, Code: "H", Name: "Hauptgebäude"}
	must(tb, db.CreateBuilding(ctx, admin, b2))
	t.Room = &cmdb.Room{BuildingID: b.ID, Code: "1.12", Name: "Raum 1.12"}
	must(tb, db.CreateRoom(ctx, admin, t.Room))
	t.Room2 = &cmdb.Room{BuildingID: b.ID, Code: "2.01", Name: "Lehrerzimmer"}
	must(tb, db.CreateRoom(ctx, admin, t.Room2))
	t.Room3 = &cmdb.Room{BuildingID: b2.ID, Code: "E.04", Name: "Sekretariat"}
	must(tb, db.CreateRoom(ctx, admin, t.Room3))
	return t
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// countCIs returns the number of unmerged CIs of an authority.
func countCIs(tb testing.TB, db *postgres.DB, authority int64) int {
	tb.Helper()
	_, n, err := db.FindCIs(context.Background(), admin, cmdb.CIFilter{AuthorityID: authority, Limit: 1})
	must(tb, err)
	return n
}

func reconcile(tb testing.TB, db *postgres.DB, obs ...cmdb.Observation) *cmdb.ReconcileResult {
	tb.Helper()
	res, err := db.Reconcile(context.Background(), admin, obs)
	must(tb, err)
	return res
}
