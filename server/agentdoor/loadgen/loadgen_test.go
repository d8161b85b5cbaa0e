package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schulit/cmdb/agentproto"
	"github.com/schulit/cmdb/server/agentdoor"
	"github.com/schulit/cmdb/server/cmdb"
)

// memStore is an in-memory agent store behind the real ingest handler,
// so that every report the generator sends passes the server's checks.
type memStore struct {
	mu      sync.Mutex
	token   string
	devices map[string]*cmdb.Device // by credential
	byID    map[string]*cmdb.Device
	applied map[string][]uint64 // device → seqs applied, in order
	kinds   map[string]int      // "heartbeat", "system", "software", "full", …
	// fail, if set, may fail a report (before it is applied).
	fail func(it *cmdb.ReportItem) error
	// forget, if set, may make the store forget a device's hashes after
	// a report, so that the next one is answered want_full.
	forget   func(it *cmdb.ReportItem) bool
	wantFull int
}

func newMemStore(token string) *memStore {
	return &memStore{token: token, devices: map[string]*cmdb.Device{}, byID: map[string]*cmdb.Device{},
		applied: map[string][]uint64{}, kinds: map[string]int{}}
}

func (s *memStore) CheckEnrolmentToken(ctx context.Context, token cmdb.Secret) error {
	if token.Reveal() != s.token {
		return cmdb.Errorf(cmdb.EUNAUTHORIZED, "Invalid enrolment token.")
	}
	return nil
}

func (s *memStore) Enroll(ctx context.Context, token cmdb.Secret, req *cmdb.EnrollRequest, meta cmdb.RequestMeta) (*cmdb.EnrollResponse, error) {
	if token.Reveal() != s.token {
		return nil, cmdb.Errorf(cmdb.EUNAUTHORIZED, "Invalid enrolment token.")
	}
	if req.System.Hostname == "" || req.System.Serial == "" || len(req.NICs) == 0 {
		return nil, cmdb.Invalid("system", "lacks identifiers")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.byID {
		if d.Hashes["enrol-serial"] == req.System.Serial {
			return nil, cmdb.Invalid("system.serial", "is not distinct")
		}
	}
	n := len(s.byID) + 1
	d := &cmdb.Device{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), CIID: int64(n), Hashes: map[string]string{"enrol-serial": req.System.Serial}}
	cred := fmt.Sprintf("cmdbd_cred%d", n)
	s.devices[cred], s.byID[d.ID] = d, d
	return &cmdb.EnrollResponse{DeviceID: d.ID, Credential: agentproto.Secret(cred), CIID: d.CIID, IntervalSeconds: 3600}, nil
}

func (s *memStore) DeviceByCredential(ctx context.Context, credential string) (*cmdb.Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[credential]
	if d == nil {
		return nil, cmdb.Errorf(cmdb.EUNAUTHORIZED, "Unknown device credential.")
	}
	return &cmdb.Device{ID: d.ID, AuthorityID: 1, SchoolID: 1, CIID: d.CIID}, nil
}

func (s *memStore) ApplyReports(ctx context.Context, items []*cmdb.ReportItem) ([]cmdb.ReportResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		for _, it := range items {
			if err := s.fail(it); err != nil {
				return nil, err
			}
		}
	}
	out := make([]cmdb.ReportResult, len(items))
	for i, it := range items {
		d := s.byID[it.Device.ID]
		res := d.ApplyReport(it.Report)
		if !res.Applied {
			out[i] = res
			continue
		}
		if res.WantFull {
			s.wantFull++
		}
		s.applied[d.ID] = append(s.applied[d.ID], it.Report.Seq)
		switch len(it.Report.Sections) {
		case 0:
			s.kinds["heartbeat"]++
		case len(cmdb.Sections):
			s.kinds["full"]++
		default:
			for name := range it.Report.Sections {
				s.kinds[name]++
			}
		}
		if s.forget != nil && s.forget(it) {
			for _, name := range cmdb.Sections {
				delete(d.Hashes, name)
			}
		}
		out[i] = res
	}
	return out, nil
}

// serve starts the ingest handler on a loopback port.
func serve(t *testing.T, st *memStore, opts agentdoor.Options) string {
	t.Helper()
	opts.Store = st
	if opts.ReportRate == 0 {
		opts.ReportRate, opts.ReportBurst = 1000, 1000
	}
	h := agentdoor.New(opts)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/agent/enroll", h.Enroll)
	mux.HandleFunc("POST /api/v1/agent/report", h.Report)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); h.Close() })
	return srv.URL
}

// checkSeqs checks that every device's applied seqs rose by one from 1
// and that AckedSeq names the last of them.
func checkSeqs(t *testing.T, st *memStore, res *Result) {
	t.Helper()
	checkSeqsCut(t, st, res, false)
}

// checkSeqsCut is checkSeqs for a run that was cut short: a report in
// flight when the context ended may have been committed without its
// acknowledgement reaching the agent, so applied may run one past acked.
func checkSeqsCut(t *testing.T, st *memStore, res *Result, cut bool) {
	t.Helper()
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(res.AckedSeq) != len(st.byID) {
		t.Errorf("acked seqs for %d devices, %d enrolled", len(res.AckedSeq), len(st.byID))
	}
	for id, seqs := range st.applied {
		for k, seq := range seqs {
			if seq != uint64(k+1) {
				t.Fatalf("device %s: applied seqs %v, want 1, 2, 3, …", id, seqs)
			}
		}
		got := res.AckedSeq[id]
		if cut && got+1 == uint64(len(seqs)) {
			continue
		}
		if got != uint64(len(seqs)) {
			t.Errorf("device %s: acked seq %d, applied up to %d", id, got, len(seqs))
		}
	}
}

func TestRun(t *testing.T) {
	st := newMemStore("cmdbe_test")
	url := serve(t, st, agentdoor.Options{})
	var out bytes.Buffer
	res, err := Run(context.Background(), Options{URL: url, EnrolmentToken: "cmdbe_test", Agents: 40, Duration: 2500 * time.Millisecond,
		Rate: 8, Concurrency: 8, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if res.Enrolled != 40 || res.Errors != 0 || res.RateLimited != 0 {
		t.Errorf("enrolled %d, errors %d, rate-limited %d; want 40, 0, 0", res.Enrolled, res.Errors, res.RateLimited)
	}
	if res.Sent == 0 || res.Acked != res.Sent {
		t.Errorf("sent %d, acked %d", res.Sent, res.Acked)
	}
	if res.P50 <= 0 || res.P50 > res.P99 || res.P99 > res.Max || res.PerSecond <= 0 {
		t.Errorf("p50 %s p99 %s max %s, %.0f/s", res.P50, res.P99, res.Max, res.PerSecond)
	}
	checkSeqs(t, st, res)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.wantFull != 0 {
		t.Errorf("%d reports were answered want_full: hashes of unsent sections differ from the server's", st.wantFull)
	}
	if st.kinds["full"] != 40 {
		t.Errorf("%d full reports, want 40 (one per agent)", st.kinds["full"])
	}
	changes := st.kinds["system"] + st.kinds["hardware"] + st.kinds["software"]
	// The mix is 85 % heartbeats to 15 % changes (5.7 : 1); with only a few
	// hundred reports the sample varies, so ask for "mostly" as 3 : 1.
	if st.kinds["heartbeat"] < 3*changes || changes == 0 || st.kinds["software"] == 0 || st.kinds["network"] != 0 {
		t.Errorf("mix %v: want mostly heartbeats, some hardware/system and software changes", st.kinds)
	}
	for _, want := range []string{"setup: 40 agents enrolled", "ingest: ", " reports/s; p50 ", "errors 0, rate-limited 0; enrolled 40"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestWantFullAndRetry(t *testing.T) {
	st := newMemStore("cmdbe_test")
	// Each device's report 3 fails once; after report 5 the server loses
	// the device's hashes, so report 6 is answered want_full and 7 must be
	// full. (Both hooks run with st.mu held.)
	failed, forgot, full := map[string]bool{}, map[string]bool{}, map[string]uint64{}
	st.fail = func(it *cmdb.ReportItem) error {
		if id := it.Device.ID; it.Report.Seq == 3 && !failed[id] {
			failed[id] = true
			return cmdb.Errorf(cmdb.EINTERNAL, "injected failure")
		}
		return nil
	}
	st.forget = func(it *cmdb.ReportItem) bool {
		id := it.Device.ID
		if len(it.Report.Sections) == len(cmdb.Sections) && it.Report.Seq > 1 && full[id] == 0 {
			full[id] = it.Report.Seq
		}
		if it.Report.Seq == 5 && !forgot[id] {
			forgot[id] = true
			return true
		}
		return false
	}
	url := serve(t, st, agentdoor.Options{MaxBatch: 1})
	var out bytes.Buffer
	res, err := Run(context.Background(), Options{URL: url, EnrolmentToken: "cmdbe_test", Agents: 5, Duration: 2 * time.Second,
		Rate: 6, Concurrency: 4, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if res.Errors != 5 {
		t.Errorf("errors %d, want 5 (one injected failure per agent)", res.Errors)
	}
	checkSeqs(t, st, res) // the failed report 3 was resent as 3, not skipped
	st.mu.Lock()
	defer st.mu.Unlock()
	for id, seqs := range st.applied {
		if len(seqs) >= 7 && full[id] != 7 {
			t.Errorf("device %s: after want_full at 6, full report at %d, want 7", id, full[id])
		}
	}
}

func TestRefusals(t *testing.T) {
	st := newMemStore("cmdbe_test")
	url := serve(t, st, agentdoor.Options{})
	if _, err := Run(context.Background(), Options{URL: url, EnrolmentToken: "cmdbe_wrong", Agents: 3}); err == nil ||
		!strings.Contains(err.Error(), "no agent could enrol") {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := Run(context.Background(), Options{URL: "http://192.0.2.1:8080", EnrolmentToken: "x", Agents: 3}); err == nil ||
		!strings.Contains(err.Error(), "loopback") {
		t.Errorf("remote URL: %v", err)
	}
}

func TestCancel(t *testing.T) {
	st := newMemStore("cmdbe_test")
	url := serve(t, st, agentdoor.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, Options{URL: url, EnrolmentToken: "cmdbe_test", Agents: 10, Duration: time.Hour, Rate: 2})
	if err == nil || time.Since(start) > 20*time.Second {
		t.Fatalf("err %v after %s; want the context's error soon", err, time.Since(start))
	}
	if res == nil || res.Enrolled != 10 || res.Errors != 0 {
		t.Fatalf("result %+v", res)
	}
	checkSeqsCut(t, st, res, true)
}

func TestInventoriesAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 3000; i++ {
		a := newAgent(7, i)
		ids := []string{"host " + a.inv.System.Hostname, "serial " + a.inv.System.Serial, "uuid " + a.inv.System.HardwareUUID}
		for _, n := range a.inv.Network {
			ids = append(ids, "mac "+n.MAC)
		}
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("agent %d repeats %s", i, id)
			}
			seen[id] = true
		}
		if n := len(a.inv.Software); n != basePackages+extraPackages {
			t.Fatalf("agent %d has %d packages", i, n)
		}
		it := &cmdb.ReportItem{Device: &cmdb.Device{ID: "x"}, Report: &cmdb.Report{}, System: &a.inv.System,
			Hardware: &a.inv.Hardware, Network: &a.inv.Network, Software: &a.inv.Software}
		if err := it.Validate(); err != nil {
			t.Fatalf("agent %d: %v", i, err)
		}
	}
}

// TestReportJSON: the hand-written report is what json.Marshal makes of
// the cmdb.Report, for every kind of report.
func TestReportJSON(t *testing.T) {
	a := newAgent(3, 1)
	a.id = "00000000-0000-4000-8000-000000000001"
	now := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	for _, changed := range [][]string{nil, {cmdb.SectionSoftware}, cmdb.Sections} {
		a.seq++
		rep := cmdb.Report{DeviceID: a.id, Seq: a.seq, SentAt: now.UTC(), Hashes: a.hashe}
		if len(changed) > 0 {
			rep.Sections = map[string]json.RawMessage{}
			for _, name := range changed {
				rep.Sections[name] = a.data[name]
			}
		}
		want, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.reportJSON(now, changed); !bytes.Equal(got, want) {
			t.Errorf("sections %v:\n got %.300s\nwant %.300s", changed, got, want)
		}
	}
}

// TestSoftwareJSON: the software section put together from pieces is
// json.Marshal's, as first sent and after installs and upgrades.
func TestSoftwareJSON(t *testing.T) {
	a := newAgent(5, 2)
	for i := 0; i < 50; i++ {
		if i > 0 {
			a.softwareChange()
		}
		want, err := json.Marshal(softwareItems(a.sw))
		if err != nil {
			t.Fatal(err)
		}
		if got := a.data[cmdb.SectionSoftware]; !bytes.Equal(got, want) || a.hashe[cmdb.SectionSoftware] != cmdb.SectionHash(want) {
			t.Fatalf("after %d changes:\n got %.200s\nwant %.200s", i, got, want)
		}
	}
}
