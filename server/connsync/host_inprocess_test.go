package connsync_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/connsync"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// feed is an in-process pull-only connector: it announces total (if set)
// and hands over its records in batches of batch (default all at once).
type feed struct {
	connector.NoPush
	mu    sync.Mutex
	recs  []connector.Record
	total int
	batch int
}

func (*feed) Describe(context.Context) (connector.Description, error) {
	return connector.Description{Name: "feed", Version: "1", ConfigSchema: []byte(`{}`), Capabilities: []connector.Capability{connector.CapPull}}, nil
}

func (*feed) Check(context.Context, connector.Config) (connector.CheckResult, error) {
	return connector.CheckResult{OK: true}, nil
}

func (f *feed) Pull(ctx context.Context, _ connector.Config, emit func([]connector.Record) error) error {
	f.mu.Lock()
	recs, total, size := append([]connector.Record(nil), f.recs...), f.total, f.batch
	f.mu.Unlock()
	connector.ExpectTotal(ctx, total)
	if size <= 0 {
		size = max(len(recs), 1)
	}
	for len(recs) > 0 {
		n := min(size, len(recs))
		if err := emit(recs[:n]); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

func (f *feed) set(recs ...connector.Record) {
	f.mu.Lock()
	f.recs = recs
	f.mu.Unlock()
}

// countingStore counts the records that reach reconcile (SyncWriter.Apply).
type countingStore struct {
	*postgres.DB
	applied atomic.Int64
}

func (s *countingStore) BeginSync(ctx context.Context, sc cmdb.Scope, inst *cmdb.ConnectorInstance, dryRun bool) (cmdb.SyncWriter, error) {
	w, err := s.DB.BeginSync(ctx, sc, inst, dryRun)
	if err != nil {
		return nil, err
	}
	return &countingWriter{SyncWriter: w, n: &s.applied}, nil
}

type countingWriter struct {
	cmdb.SyncWriter
	n *atomic.Int64
}

func (w *countingWriter) Apply(ctx context.Context, items []cmdb.SyncItem) ([]cmdb.SyncOutcome, error) {
	w.n.Add(int64(len(items)))
	return w.SyncWriter.Apply(ctx, items)
}

// host is one tenant with an in-process connector instance and an engine
// with a settable clock.
type host struct {
	t     *testing.T
	db    *postgres.DB
	store *countingStore
	ten   *tenant
	src   *feed
	inst  *cmdb.ConnectorInstance
	e     *connsync.Engine
	now   atomic.Pointer[time.Time]
	mu    sync.Mutex
	seen  []float64 // run.Progress at each Progress call, the final one included
}

func newHost(t *testing.T, code string, inst cmdb.ConnectorInstance) *host {
	t.Helper()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	h := &host{t: t, db: db, store: &countingStore{DB: db}, ten: mustTenant(t, db, code), src: &feed{}}
	now := time.Now()
	h.now.Store(&now)
	inst.AuthorityID, inst.Plugin, inst.BinaryPath, inst.BinarySHA256 = h.ten.auth.ID, "feed", "/nowhere", fmt.Sprintf("%064d", 0)
	if inst.Name == "" {
		inst.Name = "quelle"
	}
	must(t, db.CreateConnector(context.Background(), admin, &inst, nil))
	h.inst = &inst
	h.e = connsync.New(connsync.Options{Store: h.store, Now: func() time.Time { return *h.now.Load() },
		Progress: func(r *cmdb.ConnectorRun) {
			h.mu.Lock()
			h.seen = append(h.seen, r.Progress)
			h.mu.Unlock()
		},
		Launch: func(context.Context, *cmdb.ConnectorInstance) (connector.Connector, func(), error) {
			return h.src, func() {}, nil
		}})
	t.Cleanup(h.e.Close)
	return h
}

// run syncs once and wants the run to succeed.
func (h *host) run() *cmdb.ConnectorRun {
	h.t.Helper()
	h.mu.Lock()
	h.seen = nil
	h.mu.Unlock()
	r, err := h.e.Run(context.Background(), admin, h.inst, connsync.RunOptions{})
	must(h.t, err)
	if r.Status != cmdb.RunSucceeded {
		h.t.Fatalf("run = %s %+v (%s) %+v", r.Status, r.RunCounters, r.Failure, r.ErrorList)
	}
	return r
}

func (h *host) ci(key string) *cmdb.CI {
	h.t.Helper()
	rep, err := h.db.ConnectorReplica(context.Background(), admin, h.inst.ID)
	must(h.t, err)
	r := rep[key]
	if r == nil || r.CIID == 0 {
		h.t.Fatalf("record %s has no CI: %+v", key, r)
	}
	ci, err := h.db.FindCIByID(context.Background(), admin, r.CIID)
	must(h.t, err)
	return ci
}

func laptops(n int) []connector.Record {
	recs := make([]connector.Record, n)
	for i := range recs {
		recs[i] = connector.Record{SourceKey: fmt.Sprintf("K-%04d", i), ClassHint: "Laptop",
			Identifiers: connector.Identifiers{Serial: fmt.Sprintf("FEED%04d", i)}}
	}
	return recs
}

// TestSyncFirstRunProgress: a first run has no replica to measure by; the
// total the connector announces gives a percentage between 0 and 100
// while the run lasts, and the end is 100.
func TestSyncFirstRunProgress(t *testing.T) {
	t.Parallel()
	h := newHost(t, "FRP", cmdb.ConnectorInstance{})
	h.src.set(laptops(1000)...)
	h.src.total, h.src.batch = 1000, 500
	r := h.run()
	h.mu.Lock()
	seen := append([]float64(nil), h.seen...)
	h.mu.Unlock()
	if r.Expected != 1000 || r.Progress != 100 || len(seen) < 2 {
		t.Fatalf("run expected %d, progress %v; progress seen %v", r.Expected, r.Progress, seen)
	}
	if mid := seen[0]; mid <= 0 || mid >= 100 {
		t.Errorf("progress during the first run = %v, want between 0 and 100 (seen %v)", mid, seen)
	}
}

// update changes the instance's mapping or policy in the store and
// takes the stored instance.
func (h *host) update(u cmdb.ConnectorUpdate) {
	h.t.Helper()
	inst, err := h.db.UpdateConnector(context.Background(), admin, h.inst.ID, u)
	must(h.t, err)
	h.inst = inst
}

// later moves the engine's clock on.
func (h *host) later(d time.Duration) {
	t := h.now.Load().Add(d)
	h.now.Store(&t)
}

func runErr(r *cmdb.ConnectorRun, key string) *cmdb.RunError {
	for i := range r.ErrorList {
		if r.ErrorList[i].SourceKey == key {
			return &r.ErrorList[i]
		}
	}
	return nil
}

// TestSyncFieldMapping: mapped source fields land on the attribute the
// mapping names — a free attribute under inventory., a core attribute and
// an identifier (the serial then identifies the device).
func TestSyncFieldMapping(t *testing.T) {
	t.Parallel()
	h := newHost(t, "FMP", cmdb.ConnectorInstance{Mapping: cmdb.ConnectorMapping{
		Fields: map[string]string{"Kostenstelle": "inventory.kostenstelle", "Typbezeichnung": cmdb.AttrModel, "Alt-SN": cmdb.AttrSerial, "Fach": ""}}})
	h.src.set(connector.Record{SourceKey: "K1", ClassHint: "Laptop",
		Attributes: map[string]string{"Kostenstelle": "4711", "Typbezeichnung": "Latitude 5440", "Alt-SN": "ALTSN0001", "Fach": "Physik"}})
	if r := h.run(); r.Created != 1 {
		t.Fatalf("run %+v %+v", r.RunCounters, r.ErrorList)
	}
	ci := h.ci("K1")
	if ci.Attributes["inventory.kostenstelle"] != "4711" || ci.Model != "Latitude 5440" || ci.Serial != "ALTSN0001" {
		t.Errorf("CI %+v: want inventory.kostenstelle 4711, model Latitude 5440, serial ALTSN0001", ci)
	}
	if _, ok := ci.Attributes["Fach"]; ok || ci.Attributes["fach"] != "" || ci.Attributes["Kostenstelle"] != "" {
		t.Errorf("attributes %v: a dropped or mapped field stayed", ci.Attributes)
	}
}

// TestSyncClassWords: the instance's own class words come first; built-in
// words still apply; a word neither knows is an error of its record.
func TestSyncClassWords(t *testing.T) {
	t.Parallel()
	h := newHost(t, "CLW", cmdb.ConnectorInstance{Mapping: cmdb.ConnectorMapping{
		Classes: map[string]string{"Smartboard 75": cmdb.ClassDisplay, "Laptop": cmdb.ClassTablet}}})
	h.src.set(connector.Record{SourceKey: "K1", ClassHint: "smartboard  75", Identifiers: connector.Identifiers{Serial: "CLW00001"}},
		connector.Record{SourceKey: "K2", ClassHint: "Laptop", Identifiers: connector.Identifiers{Serial: "CLW00002"}},
		connector.Record{SourceKey: "K3", ClassHint: "Beamer", Identifiers: connector.Identifiers{Serial: "CLW00003"}},
		connector.Record{SourceKey: "K4", ClassHint: "Tafel XL", Identifiers: connector.Identifiers{Serial: "CLW00004"}})
	r := h.run()
	if got := h.ci("K1").Class; got != cmdb.ClassDisplay {
		t.Errorf("Smartboard 75 → %s, want %s", got, cmdb.ClassDisplay)
	}
	if got := h.ci("K2").Class; got != cmdb.ClassTablet {
		t.Errorf("Laptop → %s: the instance's word must win over the built-in one", got)
	}
	if got := h.ci("K3").Class; got != cmdb.ClassProjector {
		t.Errorf("Beamer → %s, want the built-in projector", got)
	}
	if e := runErr(r, "K4"); e == nil || e.Field != "class" || e.Rule != "value_mapping" {
		t.Errorf("unknown class word: %+v", r.ErrorList)
	}
}

// TestSyncSchools: a school is found by the mapping, by code and by name.
func TestSyncSchools(t *testing.T) {
	t.Parallel()
	h := newHost(t, "SCH", cmdb.ConnectorInstance{Mapping: cmdb.ConnectorMapping{
		Schools: map[string]string{"Gymnasium Nord (alt)": "GYN"}}})
	h.src.set(connector.Record{SourceKey: "K1", ClassHint: "Laptop", Identifiers: connector.Identifiers{Serial: "SCH00001"},
		Location: connector.Location{SchoolName: "Gymnasium Nord (alt)"}},
		connector.Record{SourceKey: "K2", ClassHint: "Laptop", Identifiers: connector.Identifiers{Serial: "SCH00002"},
			Location: connector.Location{SchoolName: "grundschule am park"}},
		connector.Record{SourceKey: "K3", ClassHint: "Laptop", Identifiers: connector.Identifiers{Serial: "SCH00003"},
			Location: connector.Location{SchoolCode: "GSP"}},
		connector.Record{SourceKey: "K4", ClassHint: "Laptop", Identifiers: connector.Identifiers{Serial: "SCH00004"},
			Location: connector.Location{SchoolName: "Realschule Süd"}})
	r := h.run()
	for key, want := range map[string]int64{"K1": h.ten.gyn.ID, "K2": h.ten.gsp.ID, "K3": h.ten.gsp.ID} {
		if got := h.ci(key).SchoolID; got != want {
			t.Errorf("%s in school %d, want %d", key, got, want)
		}
	}
	if e := runErr(r, "K4"); e == nil || e.Field != "school_name" || e.Rule != "unknown_school" {
		t.Errorf("unknown school: %+v", r.ErrorList)
	}
}

// TestSyncCreateRooms: a room the school lacks is an error of its record
// until the instance may create rooms; then it is created, once.
func TestSyncCreateRooms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHost(t, "CRM", cmdb.ConnectorInstance{})
	h.src.set(connector.Record{SourceKey: "K1", ClassHint: "Beamer", Identifiers: connector.Identifiers{Serial: "CRM00001"},
		Location: connector.Location{SchoolCode: "GYN", Building: "Haus A", Room: "3.07"}})
	rooms := func() []*cmdb.Room {
		rs, err := h.db.FindRooms(ctx, admin, cmdb.TenantFilter{SchoolID: h.ten.gyn.ID})
		must(t, err)
		return rs
	}
	r := h.run()
	if e := runErr(r, "K1"); e == nil || e.Field != "room" || e.Rule != "unknown_room" || len(rooms()) != 1 {
		t.Fatalf("without create_rooms: errors %+v, rooms %d (want only 1.12)", r.ErrorList, len(rooms()))
	}
	h.update(cmdb.ConnectorUpdate{Mapping: &cmdb.ConnectorMapping{CreateRooms: true}})
	r = h.run()
	rs := rooms()
	if r.Errors != 0 || len(rs) != 2 {
		t.Fatalf("with create_rooms: %+v %+v, %d rooms", r.RunCounters, r.ErrorList, len(rs))
	}
	var made *cmdb.Room
	for _, x := range rs {
		if x.Code == "3.07" {
			made = x
		}
	}
	if made == nil || made.BuildingID != h.ten.buildingA.ID || h.ci("K1").RoomID != made.ID {
		t.Fatalf("room %+v (building A is %d), CI in room %d", made, h.ten.buildingA.ID, h.ci("K1").RoomID)
	}
	h.run()
	if len(rooms()) != 2 {
		t.Fatal("a second run created the room again")
	}
}

// TestSyncAllowed: what the source may not set (allowed) is not written
// on pull, while identifiers still identify.
func TestSyncAllowed(t *testing.T) {
	t.Parallel()
	h := newHost(t, "ALW", cmdb.ConnectorInstance{Mapping: cmdb.ConnectorMapping{Allowed: []string{cmdb.AttrClass, cmdb.AttrVendor}}})
	h.src.set(connector.Record{SourceKey: "K1", ClassHint: "Laptop", Status: "defekt",
		Identifiers: connector.Identifiers{Serial: "ALW00001"},
		Attributes:  map[string]string{connector.AttrModel: "Latitude 5440", connector.AttrVendor: "Dell"},
		Location:    connector.Location{SchoolCode: "GYN", Room: "1.12"}})
	h.run()
	ci := h.ci("K1")
	if ci.Class != cmdb.ClassLaptop || ci.Vendor != "Dell" || ci.Serial != "ALW00001" {
		t.Errorf("allowed values missing: %+v", ci)
	}
	if ci.Status == cmdb.StatusInRepair || ci.Model != "" || ci.SchoolID != 0 || ci.RoomID != 0 {
		t.Errorf("CI %+v: status, model and place are not the source's to set", ci)
	}
}

// TestSyncDeletePolicyIgnore: a record that disappears leaves its CI as it
// is; the replica remembers it is gone.
func TestSyncDeletePolicyIgnore(t *testing.T) {
	t.Parallel()
	h := newHost(t, "DPI", cmdb.ConnectorInstance{DeletePolicy: cmdb.DeleteIgnore, GuardShare: 1})
	recs := laptops(2)
	h.src.set(recs...)
	h.run()
	h.src.set(recs[1])
	if r := h.run(); r.Retired != 0 {
		t.Fatalf("ignore retired %d", r.Retired)
	}
	if ci := h.ci("K-0000"); ci.Status == cmdb.StatusRetired || ci.Status == cmdb.StatusDisposed {
		t.Errorf("ignore changed the CI: %s", ci.Status)
	}
	rep, err := h.db.ConnectorReplica(context.Background(), admin, h.inst.ID)
	must(t, err)
	if rep["K-0000"].State != cmdb.ReplicaGone || rep["K-0001"].State != cmdb.ReplicaActive {
		t.Errorf("replica states %s, %s", rep["K-0000"].State, rep["K-0001"].State)
	}
}

// TestSyncRetireDispose: a record that disappears is retired at once and
// disposed DisposeAfterDays later by the engine's clock, not before.
func TestSyncRetireDispose(t *testing.T) {
	t.Parallel()
	h := newHost(t, "DPD", cmdb.ConnectorInstance{DeletePolicy: cmdb.DeleteRetireDispose, DisposeAfterDays: 3, GuardShare: 1})
	recs := laptops(2)
	h.src.set(recs...)
	h.run()
	h.src.set(recs[1])
	if r := h.run(); r.Retired != 1 || h.ci("K-0000").Status != cmdb.StatusRetired {
		t.Fatalf("run after the record went: %+v, CI %s", r.RunCounters, h.ci("K-0000").Status)
	}
	h.later(2 * 24 * time.Hour)
	h.run()
	if s := h.ci("K-0000").Status; s != cmdb.StatusRetired {
		t.Fatalf("two days later: %s, want still retired", s)
	}
	h.later(24*time.Hour + time.Minute)
	h.run()
	if s := h.ci("K-0000").Status; s != cmdb.StatusDisposed {
		t.Fatalf("three days later: %s, want disposed", s)
	}
	if s := h.ci("K-0001").Status; s == cmdb.StatusRetired || s == cmdb.StatusDisposed {
		t.Fatalf("the record still in the source is %s", s)
	}
}

// TestSyncDeletedFlag: a record the source marks deleted is handled as
// one that disappeared (policy retire).
func TestSyncDeletedFlag(t *testing.T) {
	t.Parallel()
	h := newHost(t, "DEL", cmdb.ConnectorInstance{DeletePolicy: cmdb.DeleteRetire, GuardShare: 1})
	recs := laptops(2)
	h.src.set(recs...)
	h.run()
	gone := recs[0]
	gone.Deleted = true
	h.src.set(gone, recs[1])
	if r := h.run(); r.Retired != 1 || h.ci("K-0000").Status != cmdb.StatusRetired || h.ci("K-0001").Status == cmdb.StatusRetired {
		t.Fatalf("run with a deleted record: %+v, CIs %s and %s", r.RunCounters, h.ci("K-0000").Status, h.ci("K-0001").Status)
	}
}

// TestSyncConflict: a new record whose serial is already on the CI of
// another record of the source is no merge: the run counts one conflict
// and names the record in its log.
func TestSyncConflict(t *testing.T) {
	t.Parallel()
	h := newHost(t, "CFL", cmdb.ConnectorInstance{})
	first := connector.Record{SourceKey: "K1", ClassHint: "Laptop", Identifiers: connector.Identifiers{Serial: "CFL00001"}}
	h.src.set(first)
	h.run()
	h.src.set(first, connector.Record{SourceKey: "K2", ClassHint: "Laptop", Identifiers: connector.Identifiers{Serial: "CFL00001"}})
	r, err := h.e.Run(context.Background(), admin, h.inst, connsync.RunOptions{})
	must(t, err)
	if r.Conflicts != 1 {
		t.Fatalf("conflicts %d, want 1: %+v %+v", r.Conflicts, r.RunCounters, r.ErrorList)
	}
	if e := runErr(r, "K2"); e == nil || e.Rule != "duplicate" || !strings.Contains(e.Message, "CIs") {
		t.Fatalf("the conflict is not named in the log: %+v", r.ErrorList)
	}
}

// TestSyncUnchangedCostsNoReconcile: a record that maps as last time is
// counted unchanged and never reaches reconcile; a changed one does.
func TestSyncUnchangedCostsNoReconcile(t *testing.T) {
	t.Parallel()
	h := newHost(t, "UNC", cmdb.ConnectorInstance{})
	recs := laptops(50)
	h.src.set(recs...)
	h.run()
	before := h.store.applied.Load()
	if r := h.run(); r.Unchanged != 50 || h.store.applied.Load() != before {
		t.Fatalf("unchanged re-run: %+v, %d records reconciled", r.RunCounters, h.store.applied.Load()-before)
	}
	recs[7].Status = "defekt"
	h.src.set(recs...)
	if r := h.run(); r.Updated != 1 || r.Unchanged != 49 || h.store.applied.Load() != before+1 {
		t.Fatalf("one changed record: %+v, %d records reconciled", r.RunCounters, h.store.applied.Load()-before)
	}
}
