package agentdoor

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

// Fixture is a fresh database with one authority, one school and an
// enrolment token of it; the external tests use it too.
type Fixture struct {
	DB       *postgres.DB
	SchoolID int64
	Token    cmdb.Secret
	TokenID  int64
}

var fixtureSeq struct {
	sync.Mutex
	n int
}

// NewFixture makes a Fixture.
func NewFixture(t *testing.T) *Fixture {
	t.Helper()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	admin := cmdb.AdminScope("test")
	fixtureSeq.Lock()
	fixtureSeq.n++
	code := fmt.Sprintf("AD%d", fixtureSeq.n)
	fixtureSeq.Unlock()
	a := &cmdb.Authority{Code: code, Name: "Landkreis " + code}
	if err := db.CreateAuthority(ctx, admin, a); err != nil {
		t.Fatal(err)
	}
	s := &cmdb.School{AuthorityID: a.ID, Code: code + "-GYN", Name: "Gymnasium Nord"}
	if err := db.CreateSchool(ctx, admin, s); err != nil {
		t.Fatal(err)
	}
	tok, err := db.CreateEnrolmentToken(ctx, admin, &cmdb.EnrolmentToken{SchoolID: s.ID, Name: "door test"})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := db.FindEnrolmentTokens(ctx, admin, s.ID)
	if err != nil || len(ts) != 1 {
		t.Fatalf("enrolment tokens: %v %v", ts, err)
	}
	return &Fixture{DB: db, SchoolID: s.ID, Token: tok, TokenID: ts[0].ID}
}

// Enrol enrols machine n directly in the store and returns its device.
func (f *Fixture) Enrol(t *testing.T, n int) (*cmdb.Device, string) {
	t.Helper()
	ctx := context.Background()
	resp, err := f.DB.Enroll(ctx, f.Token, &cmdb.EnrollRequest{System: System(n)}, cmdb.RequestMeta{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.DB.DeviceByCredential(ctx, resp.Credential.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	return d, resp.Credential.Reveal()
}

// System is the system section of test machine n.
func System(n int) cmdb.InventorySystem {
	return cmdb.InventorySystem{Hostname: fmt.Sprintf("GYN-NB%02d", n), Vendor: "LENOVO", Model: "ThinkPad L14",
		Serial: fmt.Sprintf("PF4DOOR%02d", n), Chassis: "laptop", OSName: "Ubuntu"}
}

// fullReport is a report of d carrying its system section.
func fullReport(t *testing.T, d *cmdb.Device, n int, seq uint64) *cmdb.Report {
	t.Helper()
	data, err := json.Marshal(System(n))
	if err != nil {
		t.Fatal(err)
	}
	return &cmdb.Report{DeviceID: d.ID, Seq: seq, Hashes: map[string]string{cmdb.SectionSystem: cmdb.SectionHash(data)},
		Sections: map[string]json.RawMessage{cmdb.SectionSystem: data}}
}

// TestBadReportFailsAloneInItsBatch: a report the database refuses (a seq
// beyond bigint, had it passed the door) is committed in one batch with
// reports of other devices; only it fails, the others are applied.
func TestBadReportFailsAloneInItsBatch(t *testing.T) {
	f := NewFixture(t)
	const n = 4
	size := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "size"})
	took := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "took"})
	// The batch is committed when it holds all n reports (the wait is far
	// longer than the test), so that they are one batch.
	b := newBatcher(f.DB, n, time.Hour, 1, slog.New(slog.DiscardHandler), size, took)
	defer b.close()
	items := make([]*cmdb.ReportItem, n)
	for i := range items {
		d, _ := f.Enrol(t, i)
		it, err := parseReport(fullReport(t, d, i, 1), d, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		items[i] = it
	}
	const bad = 2
	items[bad].Report.Seq = 1 << 63 // what the door refuses; here it reaches the store
	results := make([]cmdb.ReportResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range items {
		wg.Go(func() { results[i], errs[i] = b.submit(context.Background(), items[i]) })
	}
	wg.Wait()
	for i := range items {
		switch {
		case i == bad && errs[i] == nil:
			t.Errorf("the bad report was applied: %+v", results[i])
		case i != bad && errs[i] != nil:
			t.Errorf("report %d failed with the bad one: %v", i, errs[i])
		case i != bad && (results[i].Ack != 1 || !results[i].Applied):
			t.Errorf("report %d: %+v, want applied with ack 1", i, results[i])
		}
	}
	// Really committed: the devices' seq moved on.
	for i, it := range items {
		var seq int64
		if err := f.DB.SQL().Get(&seq, `SELECT last_seq FROM devices WHERE id = $1`, it.Device.ID); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int64{true: 0, false: 1}[i == bad]; seq != want {
			t.Errorf("device %d: last_seq %d, want %d", i, seq, want)
		}
	}
}
