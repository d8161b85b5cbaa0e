package connsync_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

// build builds a connector executable for one test: the real csv
// connector ("csv"), the real snipeit connector ("snipeit") or the
// misbehaving one ("bad").
func build(tb testing.TB, name string) string {
	tb.Helper()
	pkg := map[string]string{"csv": "../../cmd/cmdb-connector-csv", "snipeit": "../../cmd/cmdb-connector-snipeit",
		"bad": "./testdata/badconnector"}[name]
	out := filepath.Join(tb.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

var admin = cmdb.AdminScope("test")

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func sha(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	must(tb, err)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// tenant is an authority with schools GYN (rooms 1.12, 2.01) and GSP.
type tenant struct {
	auth      *cmdb.Authority
	gyn, gsp  *cmdb.School
	room      *cmdb.Room
	buildingA *cmdb.Building
}

func mustTenant(tb testing.TB, db *postgres.DB, code string) *tenant {
	tb.Helper()
	ctx := context.Background()
	t := &tenant{auth: &cmdb.Authority{Code: code, Name: "Landkreis " + code}}
	must(tb, db.CreateAuthority(ctx, admin, t.auth))
	t.gyn = &cmdb.School{AuthorityID: t.auth.ID, Code: "GYN", Name: "Gymnasium Nord"}
	must(tb, db.CreateSchool(ctx, admin, t.gyn))
	t.gsp = &cmdb.School{AuthorityID: t.auth.ID, Code: "GSP", Name: "Grundschule am Park"}
	must(tb, db.CreateSchool(ctx, admin, t.gsp))
	t.buildingA = &cmdb.Building{SchoolID: t.gyn.ID, Code: "A", Name: "Haus A"}
	must(tb, db.CreateBuilding(ctx, admin, t.buildingA))
	t.room = &cmdb.Room{BuildingID: t.buildingA.ID, Code: "1.12", Name: "Raum 1.12"}
	must(tb, db.CreateRoom(ctx, admin, t.room))
	return t
}

func countCIs(tb testing.TB, db *postgres.DB, authority int64) int {
	tb.Helper()
	_, n, err := db.FindCIs(context.Background(), admin, cmdb.CIFilter{AuthorityID: authority, Limit: 1})
	must(tb, err)
	return n
}
