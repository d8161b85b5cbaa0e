package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

func mustCreateConnector(tb testing.TB, db *postgres.DB, authority int64, name string, secrets map[string]string) *cmdb.ConnectorInstance {
	tb.Helper()
	c := &cmdb.ConnectorInstance{AuthorityID: authority, Name: name, Plugin: "csv", BinaryPath: "/usr/lib/cmdb/cmdb-connector-csv",
		BinarySHA256: strings.Repeat("ab", 32), Settings: []byte(`{"path": "/tmp/inventar.csv"}`),
		Mapping: cmdb.ConnectorMapping{Classes: map[string]string{"Beamer": cmdb.ClassProjector}}}
	must(tb, db.CreateConnector(context.Background(), admin, c, secrets))
	return c
}

// TestConnectorInstances: an instance is stored with its mapping, its
// secrets sealed and write-only (only their names come back), a name is
// unique per authority, and a bad mapping is refused naming the field.
func TestConnectorInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	ten := MustCreateTenant(t, db, "CON")
	c := mustCreateConnector(t, db, ten.Authority.ID, "inventar", map[string]string{"token": "geheim-123"})
	got, err := db.FindConnectorByName(ctx, admin, ten.Authority.ID, "inventar")
	must(t, err)
	if got.ID != c.ID || got.Mapping.Classes["Beamer"] != cmdb.ClassProjector || got.GuardShare != cmdb.DefaultGuardShare ||
		got.DeletePolicy != cmdb.DeleteIgnore || strings.Join(got.SecretNames, ",") != "token" {
		t.Fatalf("stored instance = %+v", got)
	}
	var raw []byte
	must(t, db.SQL().GetContext(ctx, &raw, `SELECT secrets_sealed FROM connector_instances WHERE id = $1`, c.ID))
	if strings.Contains(string(raw), "geheim") {
		t.Fatal("secret stored in the clear")
	}
	sec, err := db.ConnectorSecrets(ctx, admin, c.ID)
	must(t, err)
	if sec["token"] != "geheim-123" {
		t.Fatalf("secrets = %v", sec)
	}
	dup := &cmdb.ConnectorInstance{AuthorityID: ten.Authority.ID, Name: "inventar", Plugin: "csv", BinaryPath: "/x", BinarySHA256: strings.Repeat("00", 32)}
	if err := db.CreateConnector(ctx, admin, dup, nil); cmdb.ErrorCode(err) != cmdb.ECONFLICT || cmdb.ErrorField(err) != "name" {
		t.Fatalf("second instance of the same name: %v", err)
	}
	bad := &cmdb.ConnectorInstance{AuthorityID: ten.Authority.ID, Name: "zwei", Plugin: "csv", BinaryPath: "/x", BinarySHA256: strings.Repeat("00", 32),
		Mapping: cmdb.ConnectorMapping{Fields: map[string]string{"Raumnummer": "Raum Nummer"}}}
	if err := db.CreateConnector(ctx, admin, bad, nil); cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != "mapping.fields.Raumnummer" {
		t.Fatalf("mapping to an invalid attribute: %v", err)
	}
	bad.Mapping = cmdb.ConnectorMapping{Statuses: map[string]string{"in Betrieb": "läuft"}}
	if err := db.CreateConnector(ctx, admin, bad, nil); cmdb.ErrorField(err) != "mapping.statuses.in Betrieb" {
		t.Fatalf("mapping to an unknown status: %v", err)
	}
	// Changing one secret keeps the other; removing by "".
	_, err = db.UpdateConnector(ctx, admin, c.ID, cmdb.ConnectorUpdate{Secrets: map[string]string{"password": "pw"}})
	must(t, err)
	_, err = db.UpdateConnector(ctx, admin, c.ID, cmdb.ConnectorUpdate{Secrets: map[string]string{"token": ""}})
	must(t, err)
	got, _ = db.FindConnectorByID(ctx, admin, c.ID)
	if strings.Join(got.SecretNames, ",") != "password" {
		t.Fatalf("secret names after update = %v", got.SecretNames)
	}
	must(t, db.DeleteConnector(ctx, admin, c.ID))
	if _, err := db.FindConnectorByID(ctx, admin, c.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Fatalf("deleted instance: %v", err)
	}
}

// TestConnectorScope: another authority's instance, its runs and its
// replica do not exist for authority IT of the first one.
func TestConnectorScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	mine, theirs := MustCreateTenant(t, db, "MINE"), MustCreateTenant(t, db, "THEIRS")
	own := mustCreateConnector(t, db, mine.Authority.ID, "inventar", nil)
	other := mustCreateConnector(t, db, theirs.Authority.ID, "inventar", map[string]string{"token": "t"})
	run := &cmdb.ConnectorRun{InstanceID: other.ID}
	must(t, db.StartConnectorRun(ctx, admin, run))
	s := cmdb.Scope{Subject: "user:7", Authorities: []int64{mine.Authority.ID}}
	list, err := db.FindConnectors(ctx, s, 0)
	must(t, err)
	if len(list) != 1 || list[0].ID != own.ID {
		t.Fatalf("list = %v", list)
	}
	for name, err := range map[string]error{
		"by id":   second(db.FindConnectorByID(ctx, s, other.ID)),
		"by name": second(db.FindConnectorByName(ctx, s, theirs.Authority.ID, "inventar")),
		"secrets": second(db.ConnectorSecrets(ctx, s, other.ID)),
		"runs":    second(db.FindConnectorRuns(ctx, s, other.ID, 0)),
		"run":     second(db.FindConnectorRun(ctx, s, run.ID)),
		"cancel":  db.CancelConnectorRun(ctx, s, run.ID),
		"replica": second(db.ConnectorReplica(ctx, s, other.ID)),
		"update":  second(db.UpdateConnector(ctx, s, other.ID, cmdb.ConnectorUpdate{})),
		"delete":  db.DeleteConnector(ctx, s, other.ID),
		"start":   db.StartConnectorRun(ctx, s, &cmdb.ConnectorRun{InstanceID: other.ID}),
		"sync":    second(db.BeginSync(ctx, s, other, false)),
	} {
		if cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			t.Errorf("%s of the other authority's connector: %v, want not found", name, err)
		}
	}
	if _, err := db.UpdateConnectorRun(ctx, s, run); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("progress of the other authority's run: %v", err)
	}
	c := &cmdb.ConnectorInstance{AuthorityID: theirs.Authority.ID, Name: "x", Plugin: "csv", BinaryPath: "/x", BinarySHA256: strings.Repeat("00", 32)}
	if err := db.CreateConnector(ctx, s, c, nil); cmdb.ErrorCode(err) == "" || cmdb.ErrorField(err) != "authority_id" {
		t.Errorf("create in the other authority: %v", err)
	}
	// A second run of the same instance is refused while one runs.
	if err := db.StartConnectorRun(ctx, admin, &cmdb.ConnectorRun{InstanceID: other.ID}); cmdb.ErrorCode(err) != cmdb.ECONFLICT {
		t.Errorf("second run: %v", err)
	}
}
