package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schulit/cmdb/agent"
	"github.com/schulit/cmdb/agent/agenttest"
	"github.com/schulit/cmdb/agent/spool"
	"github.com/schulit/cmdb/agentproto"
	"github.com/schulit/cmdb/internal/syncbuf"
)

// machine is a fake inventory source whose software can be changed.
type machine struct {
	mu  sync.Mutex
	inv agentproto.Inventory
}

func newMachine() *machine {
	return &machine{inv: agentproto.Inventory{
		System: agentproto.InventorySystem{Hostname: "gs-nord-lt-042", Vendor: "LENOVO", Model: "20XW00A5GE",
			Serial: "PF2ABCDE", Chassis: "laptop", OSName: "Debian GNU/Linux", OSVersion: "12"},
		Hardware: agentproto.InventoryHardware{CPUModel: "i5-1135G7", CPUCores: 4, CPUThreads: 8, MemoryBytes: 16 << 30},
		Network:  []agentproto.InventoryNIC{{Name: "wlp0s20f3", MAC: "a4:c3:f0:11:22:33", Kind: "physical"}},
		Software: []agentproto.SoftwareItem{{Name: "firefox-esr", Version: "128.8.0esr-1"}},
	}}
}

func (m *machine) collect(context.Context) agentproto.Inventory {
	m.mu.Lock()
	defer m.mu.Unlock()
	inv := m.inv
	inv.Software = append([]agentproto.SoftwareItem(nil), m.inv.Software...)
	return inv
}

func (m *machine) install(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inv.Software = append(m.inv.Software, agentproto.SoftwareItem{Name: name, Version: "1.0"})
}

// env is an agent enrolled at a fake server, logging into a buffer.
type env struct {
	srv   *agenttest.Server
	m     *machine
	a     *agent.Agent
	state string
	logs  *syncbuf.Buffer
}

func newEnv(t *testing.T, o agent.Options) *env {
	t.Helper()
	e := &env{srv: agenttest.New(t), m: newMachine(), state: filepath.Join(t.TempDir(), "cmdb-agent", "state.json"), logs: &syncbuf.Buffer{}}
	o.StatePath = e.state
	o.Collect = e.m.collect
	o.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := agent.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.a = a
	if err := a.Enroll(context.Background(), e.srv.URL(), agentproto.Secret(e.srv.Token)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Whatever happened, neither secret reached the log.
		for _, secret := range []string{e.srv.Credential, e.srv.Token} {
			if strings.Contains(e.logs.String(), secret) {
				t.Errorf("log output contains a secret:\n%s", e.logs.String())
			}
		}
	})
	return e
}

func (e *env) once(t *testing.T) {
	t.Helper()
	if err := e.a.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (e *env) spooled(t *testing.T) int {
	t.Helper()
	n, err := e.a.Spool().Len()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEnrollStoresStateSafely(t *testing.T) {
	e := newEnv(t, agent.Options{})
	got := e.srv.Enrolls()
	if len(got) != 1 || got[0].Token != e.srv.Token {
		t.Fatalf("server got enrolment %+v; the real token must be sent", got)
	}
	if got[0].System.Serial != "PF2ABCDE" || len(got[0].NICs) != 1 {
		t.Errorf("enrolment lacks identifiers: %+v", got[0])
	}
	info, err := os.Stat(e.state)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", info.Mode().Perm())
	}
	st, err := agent.LoadState(e.state)
	if err != nil {
		t.Fatal(err)
	}
	if st.Credential.Reveal() != e.srv.Credential || st.DeviceID != e.srv.DeviceID || st.Server != e.srv.URL() {
		t.Errorf("state after re-load: %+v", st)
	}
	for _, printed := range []string{fmt.Sprint(st), fmt.Sprintf("%+v", st), fmt.Sprintf("%#v", st)} {
		if strings.Contains(printed, e.srv.Credential) {
			t.Errorf("printing the state shows the credential: %s", printed)
		}
	}
}

func TestEnrollWrongToken(t *testing.T) {
	srv := agenttest.New(t)
	a, err := agent.New(agent.Options{StatePath: filepath.Join(t.TempDir(), "state.json"), Collect: newMachine().collect})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Enroll(context.Background(), srv.URL(), "wrong")
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("enrol with wrong token: %v, want a 401 error", err)
	}
	if err := a.Once(context.Background()); !errors.Is(err, agent.ErrNotEnrolled) {
		t.Errorf("Once without enrolment: %v, want ErrNotEnrolled", err)
	}
}

func TestReportsSendOnlyChanges(t *testing.T) {
	e := newEnv(t, agent.Options{})
	e.once(t) // first: everything
	e.once(t) // unchanged: heartbeat
	e.m.install("zoom")
	e.once(t) // software only
	e.srv.AskFull()
	e.once(t) // answered with want_full
	e.once(t) // so this one is full

	got := e.srv.Reports()
	if len(got) != 5 {
		t.Fatalf("server got %d reports, want 5", len(got))
	}
	wantSections := []int{4, 0, 1, 0, 4}
	for i, r := range got {
		if r.Report.Seq != uint64(i+1) {
			t.Errorf("report %d has seq %d", i, r.Report.Seq)
		}
		if len(r.Report.Sections) != wantSections[i] {
			t.Errorf("report seq %d carries %d sections, want %d", r.Report.Seq, len(r.Report.Sections), wantSections[i])
		}
	}
	if _, ok := got[2].Report.Sections[agentproto.SectionSoftware]; !ok {
		t.Errorf("changed software not sent: %v", got[2].Report.Sections)
	}
	if got[1].WireBytes > 2048 {
		t.Errorf("heartbeat is %d bytes on the wire, want ≤ 2048", got[1].WireBytes)
	}
	var sw []agentproto.SoftwareItem
	if err := json.Unmarshal(e.srv.Section(agentproto.SectionSoftware), &sw); err != nil || len(sw) != 2 {
		t.Errorf("server's software section %s", e.srv.Section(agentproto.SectionSoftware))
	}
}

func TestSpoolWhileServerDownThenDeliverInOrder(t *testing.T) {
	e := newEnv(t, agent.Options{})
	e.once(t) // seq 1 delivered

	e.srv.Stop() // connection refused
	e.m.install("gimp")
	e.once(t)
	e.once(t)
	e.srv.Start()
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusBadGateway} {
		e.srv.SetStatus(status)
		e.m.install(fmt.Sprintf("pkg-%d", status))
		e.once(t)
	}
	if n := e.spooled(t); n != 5 {
		t.Fatalf("spool holds %d reports, want 5 (seq 2–6)", n)
	}

	// The agent restarts (a reboot) and the server is back.
	e.srv.SetStatus(0)
	a, err := agent.New(agent.Options{StatePath: e.state, Collect: e.m.collect,
		Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := e.srv.Reports()
	var seqs []uint64
	for _, r := range got {
		seqs = append(seqs, r.Report.Seq)
	}
	if fmt.Sprint(seqs) != "[1 2 3 4 5 6 7]" {
		t.Errorf("server got seqs %v, want [1 2 3 4 5 6 7]: spool first, in order, then the new report", seqs)
	}
	if n, _ := a.Spool().Len(); n != 0 {
		t.Errorf("spool holds %d reports after delivery", n)
	}
	var sw []agentproto.SoftwareItem
	if err := json.Unmarshal(e.srv.Section(agentproto.SectionSoftware), &sw); err != nil || len(sw) != 5 {
		t.Errorf("server's software after delivery: %s", e.srv.Section(agentproto.SectionSoftware))
	}
	if st := a.State(); st.Pending != nil || st.Ack != 7 {
		t.Errorf("state after delivery: ack %d pending %v", st.Ack, st.Pending)
	}
}

func TestSpoolFoldsWhenOverBound(t *testing.T) {
	e := newEnv(t, agent.Options{Spool: spoolOpts(3)})
	e.once(t)
	e.srv.SetStatus(http.StatusServiceUnavailable)
	for i := range 7 {
		e.m.install(fmt.Sprintf("pkg-%d", i))
		e.once(t)
	}
	if n := e.spooled(t); n > 3 {
		t.Fatalf("spool holds %d reports, bound is 3", n)
	}
	// The operator reads how much the fold replaced, at INFO.
	var foldLines int
	for _, l := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(l, "folded into one full report") {
			foldLines++
			if !strings.Contains(l, "level=INFO") || !strings.Contains(l, "replaced=3") {
				t.Errorf("fold log line lacks INFO or replaced=3: %s", l)
			}
		}
	}
	if foldLines == 0 {
		t.Errorf("no log line says the spool folded:\n%s", e.logs.String())
	}
	e.srv.SetStatus(0)
	e.once(t)
	if n := e.spooled(t); n != 0 {
		t.Fatalf("spool holds %d after delivery", n)
	}
	var sw []agentproto.SoftwareItem
	if err := json.Unmarshal(e.srv.Section(agentproto.SectionSoftware), &sw); err != nil || len(sw) != 8 {
		t.Errorf("server's software after folded delivery: %s", e.srv.Section(agentproto.SectionSoftware))
	}
	got := e.srv.Reports()
	for i := 1; i < len(got); i++ {
		if got[i].Report.Seq <= got[i-1].Report.Seq {
			t.Errorf("delivery out of order: %d after %d", got[i].Report.Seq, got[i-1].Report.Seq)
		}
	}
}

func TestRefusedReportIsDroppedNotLooped(t *testing.T) {
	e := newEnv(t, agent.Options{})
	e.once(t)
	e.srv.SetStatus(http.StatusBadRequest)
	e.m.install("bad")
	e.once(t)
	if n := e.spooled(t); n != 0 {
		t.Errorf("refused report spooled (%d); it would loop forever", n)
	}
	e.srv.SetStatus(0)
	e.once(t)
	got := e.srv.Reports()
	if len(got) != 2 || len(got[1].Report.Sections) != len(agentproto.Sections) {
		t.Errorf("after a refused report the next one must be full; got %d reports", len(got))
	}
}

func TestServerSetsInterval(t *testing.T) {
	e := newEnv(t, agent.Options{})
	if e.a.Interval() != time.Hour {
		t.Errorf("interval after enrolment %v, want 1h", e.a.Interval())
	}
	e.srv.IntervalSeconds = 600
	e.once(t)
	if e.a.Interval() != 10*time.Minute {
		t.Errorf("interval %v, want the server's 10m", e.a.Interval())
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	e := newEnv(t, agent.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.a.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(e.srv.Reports()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
	if len(e.srv.Reports()) != 1 {
		t.Errorf("Run made %d reports before waiting the interval, want 1", len(e.srv.Reports()))
	}
}

func spoolOpts(maxFiles int) spool.Options { return spool.Options{MaxFiles: maxFiles} }
