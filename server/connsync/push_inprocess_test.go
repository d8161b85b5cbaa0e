package connsync_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/connsync"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// source is an in-process connector over a list of records that takes
// every change pushed to it (status and room), as a real source does,
// and remembers each Push call.
type source struct {
	mu    sync.Mutex
	recs  []connector.Record
	calls [][]connector.Change
	// refuse, when set, is the key under which the next Push refuses
	// everything (without taking anything).
	refuse *string
}

func (*source) Describe(context.Context) (connector.Description, error) {
	return connector.Description{Name: "source", Version: "1", ConfigSchema: []byte(`{}`),
		Capabilities: []connector.Capability{connector.CapPull, connector.CapPush}}, nil
}

func (*source) Check(context.Context, connector.Config) (connector.CheckResult, error) {
	return connector.CheckResult{OK: true}, nil
}

func (s *source) Pull(_ context.Context, _ connector.Config, emit func([]connector.Record) error) error {
	s.mu.Lock()
	recs := append([]connector.Record(nil), s.recs...)
	s.mu.Unlock()
	return emit(recs)
}

func (s *source) Push(_ context.Context, _ connector.Config, changes []connector.Change) (connector.PushResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, changes)
	if s.refuse != nil {
		key := *s.refuse
		s.refuse = nil
		return connector.PushResult{Failures: []connector.PushFailure{{SourceKey: key, Message: "Quelle nimmt gerade nichts an"}}}, nil
	}
	for _, ch := range changes {
		for i := range s.recs {
			if s.recs[i].SourceKey != ch.SourceKey {
				continue
			}
			if ch.Status != "" {
				s.recs[i].Status = ch.Status
			}
			if ch.Location.Room != "" {
				s.recs[i].Location = connector.Location{SchoolCode: ch.Location.SchoolCode, Room: ch.Location.Room}
			}
		}
	}
	return connector.PushResult{Applied: len(changes)}, nil
}

func (s *source) pushCalls() [][]connector.Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]connector.Change(nil), s.calls...)
}

// TestSyncPushInProcess: changes go out in calls of at most 50, status
// in the source's own word; a MAC the CMDB knows besides the source's is
// no difference; records whose view is unknown (rows from before push)
// are written once more and push nothing; with status not allowed for the
// source, a status change is not pushed but a room change is, alone.
func TestSyncPushInProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	ten := mustTenant(t, db, "PIP")
	room201 := &cmdb.Room{BuildingID: ten.buildingA.ID, Code: "2.01", Name: "Raum 2.01"}
	must(t, db.CreateRoom(ctx, admin, room201))
	const n = 501
	src := &source{}
	for i := range n {
		src.recs = append(src.recs, connector.Record{SourceKey: fmt.Sprintf("K-%03d", i), ClassHint: "Laptop", Status: "aktiv",
			Identifiers: connector.Identifiers{Serial: fmt.Sprintf("SER%03d", i), MACs: []string{fmt.Sprintf("02:00:00:00:%02x:%02x", i>>8, i&0xff)}},
			Location:    connector.Location{SchoolCode: "GYN", Room: "1.12"}})
	}
	inst := &cmdb.ConnectorInstance{AuthorityID: ten.auth.ID, Name: "quelle", Plugin: "source", BinaryPath: "/nowhere",
		BinarySHA256: fmt.Sprintf("%064d", 0), Push: true,
		Mapping: cmdb.ConnectorMapping{Statuses: map[string]string{"aktiv": cmdb.StatusInUse, "kaputt": cmdb.StatusInRepair}}}
	must(t, db.CreateConnector(ctx, admin, inst, nil))
	e := connsync.New(connsync.Options{Store: db,
		Launch: func(context.Context, *cmdb.ConnectorInstance) (connector.Connector, func(), error) {
			return connector.InProcess(t, src), func() {}, nil
		}})
	defer e.Close()
	run := func() *cmdb.ConnectorRun {
		t.Helper()
		r, err := e.Run(ctx, admin, inst, connsync.RunOptions{})
		must(t, err)
		if r.Status != cmdb.RunSucceeded {
			t.Fatalf("run = %s %+v (%s) %+v", r.Status, r.RunCounters, r.Failure, r.ErrorList)
		}
		return r
	}
	if first := run(); first.Created != n || len(src.pushCalls()) != 0 {
		t.Fatalf("first run = %+v, %d push calls", first.RunCounters, len(src.pushCalls()))
	}
	rep, err := db.ConnectorReplica(ctx, admin, inst.ID)
	must(t, err)

	// The agent knows a second NIC of K-000; every laptop goes to repair.
	staff := cmdb.AdminScope("sachbearbeiterin")
	_, err = db.Reconcile(ctx, staff, []cmdb.Observation{{Source: "agent", AuthorityID: ten.auth.ID, SourceKey: "dev-0",
		Serial: "SER000", NICs: []cmdb.NIC{{MAC: "02:00:00:00:00:00"}, {MAC: "3c:22:fb:00:00:01"}}}})
	must(t, err)
	var edits []cmdb.Observation
	for _, r := range rep {
		edits = append(edits, cmdb.Observation{Source: staff.Source(), AuthorityID: ten.auth.ID, CIID: r.CIID, Status: cmdb.StatusInRepair})
	}
	_, err = db.Reconcile(ctx, staff, edits)
	must(t, err)

	var macs []string
	must(t, db.SQL().SelectContext(ctx, &macs, `SELECT value FROM ci_identifiers WHERE ci_id = $1 AND kind = 'mac' ORDER BY value`, rep["K-000"].CIID))
	if len(macs) != 2 {
		t.Fatalf("MACs of K-000's CI = %v, want the source's and the agent's", macs)
	}
	second := run()
	calls := src.pushCalls()
	if second.Pushed != n || len(calls) != 11 || len(calls[0]) != connsync.MaxPushBatch || len(calls[10]) != 1 {
		t.Fatalf("second run = %+v, push calls of %v changes", second.RunCounters, lens(calls))
	}
	for _, ch := range calls[0] {
		if ch.Status != "kaputt" || len(ch.Identifiers.MACs) != 0 || ch.Location.Room != "" || ch.CIID == "" {
			t.Fatalf("change %+v: want status in the source's word only", ch)
		}
	}
	if third := run(); third.Pushed != 0 || len(src.pushCalls()) != 11 {
		t.Fatalf("third run = %+v: the source took everything, nothing is left to push", third.RunCounters)
	}

	// Rows from before push existed have no view: a run writes it.
	_, err = db.SQL().ExecContext(ctx, `UPDATE connector_records SET view_at = NULL, view_status = '' WHERE instance_id = $1`, inst.ID)
	must(t, err)
	if r := run(); r.Pushed != 0 || r.Unchanged != n || len(src.pushCalls()) != 11 {
		t.Fatalf("run over rows without a view = %+v", r.RunCounters)
	}
	rep, err = db.ConnectorReplica(ctx, admin, inst.ID)
	must(t, err)
	for k, r := range rep {
		if !r.ViewKnown {
			t.Fatalf("record %s has no view after a run", k)
		}
	}

	// The source may not set the status: a status edit is not its
	// business, a move is.
	allowed := cmdb.ConnectorMapping{Statuses: inst.Mapping.Statuses, Allowed: []string{cmdb.AttrClass, cmdb.AttrSchool, cmdb.AttrRoom}}
	inst, err = db.UpdateConnector(ctx, admin, inst.ID, cmdb.ConnectorUpdate{Mapping: &allowed})
	must(t, err)
	k1 := rep["K-001"].CIID
	_, err = db.Reconcile(ctx, staff, []cmdb.Observation{{Source: staff.Source(), AuthorityID: ten.auth.ID, CIID: k1, Status: cmdb.StatusRetired}})
	must(t, err)
	if r := run(); r.Pushed != 0 {
		t.Fatalf("run after a status edit the source may not set = %+v, calls %v", r.RunCounters, lens(src.pushCalls()))
	}
	_, err = db.Reconcile(ctx, staff, []cmdb.Observation{{Source: staff.Source(), AuthorityID: ten.auth.ID, CIID: k1,
		SchoolID: ten.gyn.ID, RoomID: room201.ID}})
	must(t, err)
	r := run()
	calls = src.pushCalls()
	if r.Pushed != 1 || len(calls) != 12 || len(calls[11]) != 1 {
		t.Fatalf("run after a move = %+v, calls %v", r.RunCounters, lens(calls))
	}
	want := connector.Location{SchoolCode: "GYN", SchoolName: "Gymnasium Nord", Building: "Haus A", Room: "Raum 2.01"}
	if ch := calls[11][0]; ch.SourceKey != "K-001" || ch.Status != "" || ch.Location != want || ch.Identifiers.Serial != "SER001" {
		t.Fatalf("change of the move = %+v, want location %+v only", ch, want)
	}
}

func lens(calls [][]connector.Change) []int {
	out := make([]int, len(calls))
	for i, c := range calls {
		out[i] = len(c)
	}
	return out
}

// TestSyncPushFailureOfUnknownKey: a refusal under a key the batch did not
// send (or none) could concern any change of it: nothing of the batch
// counts as written, and the next run sends it again.
func TestSyncPushFailureOfUnknownKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	ten := mustTenant(t, db, "PUK")
	src := &source{recs: []connector.Record{
		{SourceKey: "A", ClassHint: "Laptop", Status: "in Betrieb", Identifiers: connector.Identifiers{Serial: "SERA"}},
		{SourceKey: "B", ClassHint: "Laptop", Status: "in Betrieb", Identifiers: connector.Identifiers{Serial: "SERB"}}}}
	inst := &cmdb.ConnectorInstance{AuthorityID: ten.auth.ID, Name: "quelle", Plugin: "source", BinaryPath: "/nowhere",
		BinarySHA256: fmt.Sprintf("%064d", 0), Push: true}
	must(t, db.CreateConnector(ctx, admin, inst, nil))
	e := connsync.New(connsync.Options{Store: db,
		Launch: func(context.Context, *cmdb.ConnectorInstance) (connector.Connector, func(), error) {
			return connector.InProcess(t, src), func() {}, nil
		}})
	defer e.Close()
	run := func() *cmdb.ConnectorRun {
		t.Helper()
		r, err := e.Run(ctx, admin, inst, connsync.RunOptions{})
		must(t, err)
		if r.Status != cmdb.RunSucceeded {
			t.Fatalf("run = %s %+v (%s)", r.Status, r.RunCounters, r.Failure)
		}
		return r
	}
	run()
	rep, err := db.ConnectorReplica(ctx, admin, inst.ID)
	must(t, err)
	staff := cmdb.AdminScope("sachbearbeiterin")
	for _, k := range []string{"A", "B"} {
		_, err = db.Reconcile(ctx, staff, []cmdb.Observation{{Source: staff.Source(), AuthorityID: ten.auth.ID, CIID: rep[k].CIID, Status: cmdb.StatusInRepair}})
		must(t, err)
	}
	unknown := ""
	src.refuse = &unknown
	if r := run(); r.Pushed != 0 || r.PushFailures != 1 || len(r.ErrorList) != 1 || r.ErrorList[0].Origin != "Zurückschreiben" {
		t.Fatalf("run with a refusal without key = %+v %+v", r.RunCounters, r.ErrorList)
	}
	if r := run(); r.Pushed != 2 || r.PushFailures != 0 {
		t.Fatalf("next run = %+v, want both changes sent again", r.RunCounters)
	}
	if calls := src.pushCalls(); len(calls) != 2 || len(calls[1]) != 2 {
		t.Fatalf("push calls %v", lens(calls))
	}
}
