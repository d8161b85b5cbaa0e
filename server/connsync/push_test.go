package connsync_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/plugins/snipeit"
	"github.com/schulit/cmdb/plugins/snipeit/snipeittest"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/connsync"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// snipeDistrict fills the fake with the tenant's school as Snipe-IT
// keeps it (Gymnasium Nord / Haus A / Raum 1.12 and Raum 2.01), German
// status labels and three laptops in Raum 1.12.
func snipeDistrict(f *snipeittest.Server) {
	f.Locations = []snipeittest.Location{
		{ID: 1, Name: "Gymnasium Nord"}, {ID: 2, Name: "Haus A", ParentID: 1},
		{ID: 3, Name: "Raum 1.12", ParentID: 2}, {ID: 4, Name: "Raum 2.01", ParentID: 2},
	}
	f.StatusLabels = []snipeittest.StatusLabel{
		{ID: 1, Name: "Einsatzbereit", Type: "deployable"}, {ID: 2, Name: "In Reparatur", Type: "pending"},
		{ID: 3, Name: "Ausgesondert", Type: "archived"},
	}
	for i := 1; i <= 3; i++ {
		n := string(rune('0' + i))
		f.Assets = append(f.Assets, snipeittest.Asset{ID: i, Name: "GYN-NB-000" + n, AssetTag: "INV-0000" + n,
			Serial: "5CG000000" + n, Model: "HP ProBook 440 G9", Category: "Laptop", Manufacturer: "HP",
			StatusID: 1, LocationID: 3, RTDLocationID: 3,
			Fields: []snipeittest.CustomField{{Name: "MAC Address", Column: "_snipeit_mac_address_1", Format: "MAC",
				Value: "A4:C3:F0:00:00:0" + n}}})
	}
}

// handEdit changes a CI as staff do (PATCH /api/v1/cis/{id}): one
// observation of the user, which locks what it sets.
func handEdit(tb testing.TB, db *postgres.DB, ten *tenant, ciID int64, o cmdb.Observation) {
	tb.Helper()
	staff := cmdb.AdminScope("sachbearbeiterin")
	o.Source, o.AuthorityID, o.CIID = staff.Source(), ten.auth.ID, ciID
	_, err := db.Reconcile(context.Background(), staff, []cmdb.Observation{o})
	must(tb, err)
}

func ciOf(tb testing.TB, db *postgres.DB, inst *cmdb.ConnectorInstance, key string) int64 {
	tb.Helper()
	rep, err := db.ConnectorReplica(context.Background(), admin, inst.ID)
	must(tb, err)
	if rep[key] == nil || rep[key].CIID == 0 {
		tb.Fatalf("no CI for record %s: %+v", key, rep[key])
	}
	return rep[key].CIID
}

// TestSyncPushSnipeIT runs the real snipeit connector as a subprocess
// against the fake Snipe-IT with push on: the first run only pulls; a
// hand edit of a CI's room and status is written back to exactly that
// asset by the next run (a dry run before lists it and writes nothing);
// a run after that has nothing to push; a change Snipe-IT refuses is a
// push failure in the run log and is tried again by the next run; and no
// asset is ever created.
func TestSyncPushSnipeIT(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	ten := mustTenant(t, db, "PSH")
	room201 := &cmdb.Room{BuildingID: ten.buildingA.ID, Code: "2.01", Name: "Raum 2.01"}
	must(t, db.CreateRoom(ctx, admin, room201))
	f := snipeittest.New(t)
	snipeDistrict(f)
	bin := build(t, "snipeit")
	inst := &cmdb.ConnectorInstance{AuthorityID: ten.auth.ID, Name: "snipe", Plugin: "snipeit", BinaryPath: bin,
		BinarySHA256: sha(t, bin), Settings: f.Settings(map[string]any{"requests_per_second": 50}), Push: true,
		Mapping: cmdb.ConnectorMapping{Statuses: map[string]string{"Einsatzbereit": cmdb.StatusInUse,
			"In Reparatur": cmdb.StatusInRepair, "Ausgesondert": cmdb.StatusRetired}}}
	must(t, db.CreateConnector(ctx, admin, inst, map[string]string{snipeit.SecretName: f.Token}))
	e := connsync.New(connsync.Options{Store: db})
	defer e.Close()
	run := func(o connsync.RunOptions) *cmdb.ConnectorRun {
		t.Helper()
		r, err := e.Run(ctx, admin, inst, o)
		must(t, err)
		if r.Status != cmdb.RunSucceeded {
			t.Fatalf("run = %s %+v (%s) %+v", r.Status, r.RunCounters, r.Failure, r.ErrorList)
		}
		if s := string(connsync.Summary(r)); strings.Contains(s, f.Token) {
			t.Fatalf("the run log holds the API token: %s", s)
		}
		return r
	}

	first := run(connsync.RunOptions{})
	if first.Created != 3 || first.Pushed != 0 || first.PushFailures != 0 || len(f.Patches()) != 0 {
		t.Fatalf("first run = %+v, patches %+v: it should only pull", first.RunCounters, f.Patches())
	}

	// Staff move laptop 2 to Raum 2.01 and send it for repair.
	ci2 := ciOf(t, db, inst, "2")
	handEdit(t, db, ten, ci2, cmdb.Observation{SchoolID: ten.gyn.ID, RoomID: room201.ID, Status: cmdb.StatusInRepair})

	dry := run(connsync.RunOptions{DryRun: true})
	if dry.Pushed != 1 || len(dry.Plan.Pushes) != 1 || len(f.Patches()) != 0 {
		t.Fatalf("dry run = %+v plan %+v, patches %+v", dry.RunCounters, dry.Plan.Pushes, f.Patches())
	}
	if p := dry.Plan.Pushes[0]; p.SourceKey != "2" || p.CIID != ci2 ||
		!hasChange(p.Changes, "status", cmdb.StatusInUse, cmdb.StatusInRepair) || !hasChange(p.Changes, "room", "Raum 1.12", "Raum 2.01") {
		t.Fatalf("dry run's push plan = %+v", p)
	}

	second := run(connsync.RunOptions{})
	if second.Pushed != 1 || second.PushFailures != 0 {
		t.Fatalf("second run = %+v", second.RunCounters)
	}
	p := f.Patches()
	if len(p) != 1 || p[0].ID != 2 || p[0].Body["status_id"] != 2.0 || p[0].Body["rtd_location_id"] != 4.0 {
		t.Fatalf("patches = %+v, want asset 2 to In Reparatur in Raum 2.01", p)
	}
	if a, _ := f.Find(2); a.StatusID != 2 || a.LocationID != 4 {
		t.Fatalf("asset 2 in Snipe-IT = %+v", a)
	}

	third := run(connsync.RunOptions{})
	if third.Pushed != 0 || third.PushFailures != 0 || len(f.Patches()) != 1 {
		t.Fatalf("third run = %+v, patches %+v: nothing left to push", third.RunCounters, f.Patches())
	}

	// Laptop 3 is retired in the CMDB; Snipe-IT refuses the first PATCH.
	ci3 := ciOf(t, db, inst, "3")
	handEdit(t, db, ten, ci3, cmdb.Observation{Status: cmdb.StatusRetired})
	f.Fail(snipeittest.Patch, 0, snipeittest.Fault{Status: 200, Error: "Dieser Benutzer darf keine Assets ändern."})
	refused := run(connsync.RunOptions{})
	if refused.Pushed != 0 || refused.PushFailures != 1 {
		t.Fatalf("run with a refused change = %+v", refused.RunCounters)
	}
	if e := errorOf(refused, "3"); e == nil || e.Origin != "Zurückschreiben" || !strings.Contains(e.Message, "darf keine Assets") {
		t.Fatalf("run log of the refused change = %+v", refused.ErrorList)
	}
	retried := run(connsync.RunOptions{})
	if retried.Pushed != 1 || retried.PushFailures != 0 {
		t.Fatalf("run after the refusal = %+v, want the change tried again", retried.RunCounters)
	}
	if a, _ := f.Find(3); a.StatusID != 3 {
		t.Fatalf("asset 3 in Snipe-IT = %+v, want Ausgesondert", a)
	}
	for _, r := range f.Requests() {
		if strings.HasPrefix(r, "POST") || strings.HasPrefix(r, "PUT") || strings.HasPrefix(r, "DELETE") {
			t.Errorf("the sync created or deleted something in Snipe-IT: %s", r)
		}
	}
	if len(f.Assets) != 3 {
		t.Errorf("Snipe-IT has %d assets, want 3", len(f.Assets))
	}
	stored, err := db.FindConnectorRun(ctx, admin, retried.ID)
	must(t, err)
	if stored.Pushed != 1 || stored.PushFailures != 0 {
		t.Fatalf("stored run = %+v", stored.RunCounters)
	}
	if stored, _ := db.FindConnectorRun(ctx, admin, refused.ID); stored.PushFailures != 1 {
		t.Fatalf("stored refused run = %+v", stored.RunCounters)
	}
}

// failingPush pulls one laptop and fails its Push as a transport does,
// naming its secret.
type failingPush struct{ pushes int }

func (*failingPush) Describe(context.Context) (connector.Description, error) {
	return connector.Description{Name: "failing", Version: "1", ConfigSchema: []byte(`{}`),
		Capabilities: []connector.Capability{connector.CapPull, connector.CapPush}}, nil
}

func (*failingPush) Check(context.Context, connector.Config) (connector.CheckResult, error) {
	return connector.CheckResult{OK: true}, nil
}

func (*failingPush) Pull(_ context.Context, _ connector.Config, emit func([]connector.Record) error) error {
	return emit([]connector.Record{{SourceKey: "L1", ClassHint: "Laptop", Status: "in Betrieb",
		Identifiers: connector.Identifiers{Serial: "LAP1"}, Location: connector.Location{SchoolCode: "GYN", Room: "1.12"}}})
}

func (c *failingPush) Push(_ context.Context, cfg connector.Config, _ []connector.Change) (connector.PushResult, error) {
	c.pushes++
	return connector.PushResult{}, errors.New("connection reset by peer (token " + cfg.Secrets["token"].Reveal() + ")")
}

// TestSyncPushFails: a Push that fails as a whole fails the run with the
// reason (without the secret), what the pull applied stays, and the
// change is tried again by the next run.
func TestSyncPushFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	ten := mustTenant(t, db, "PSF")
	impl := &failingPush{}
	inst := &cmdb.ConnectorInstance{AuthorityID: ten.auth.ID, Name: "failing", Plugin: "failing", BinaryPath: "/nowhere",
		BinarySHA256: strings.Repeat("00", 32), Push: true}
	must(t, db.CreateConnector(ctx, admin, inst, map[string]string{"token": "streng-geheim"}))
	e := connsync.New(connsync.Options{Store: db,
		Launch: func(context.Context, *cmdb.ConnectorInstance) (connector.Connector, func(), error) {
			return connector.InProcess(t, impl), func() {}, nil
		}})
	defer e.Close()
	first, err := e.Run(ctx, admin, inst, connsync.RunOptions{})
	must(t, err)
	if first.Status != cmdb.RunSucceeded || first.Created != 1 || impl.pushes != 0 {
		t.Fatalf("first run = %s %+v, %d pushes (%s)", first.Status, first.RunCounters, impl.pushes, first.Failure)
	}
	handEdit(t, db, ten, ciOf(t, db, inst, "L1"), cmdb.Observation{Status: cmdb.StatusInRepair})
	for i := 1; i <= 2; i++ {
		run, err := e.Run(ctx, admin, inst, connsync.RunOptions{})
		must(t, err)
		if run.Status != cmdb.RunFailed || !strings.Contains(run.Failure, "connection reset") || run.Pushed != 0 || impl.pushes != i {
			t.Fatalf("run %d with a failing push = %s %+v, %d pushes (%s)", i, run.Status, run.RunCounters, impl.pushes, run.Failure)
		}
		if strings.Contains(string(connsync.Summary(run)), "streng-geheim") {
			t.Fatalf("the run log holds the secret: %s", run.Failure)
		}
	}
	if n := countCIs(t, db, ten.auth.ID); n != 1 {
		t.Fatalf("%d CIs after failed pushes, want the pulled one", n)
	}
}
