package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schulit/cmdb/internal/syncbuf"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// fakeAgent speaks the agent protocol like cmdb-agent does.
type fakeAgent struct {
	t          *testing.T
	base       string
	id         string
	credential string
	ciID       int64
	seq        uint64
	inv        cmdb.Inventory
}

func testInventory(n int) cmdb.Inventory {
	return cmdb.Inventory{
		System: cmdb.InventorySystem{Hostname: fmt.Sprintf("GYN-R112-NB%02d", n), Vendor: "LENOVO", Model: "ThinkPad L14 Gen 4",
			Serial: fmt.Sprintf("PF4TEST%02d", n), HardwareUUID: fmt.Sprintf("4c4c4544-0042-3510-8052-%012d", n+1), Chassis: "laptop",
			OSName: "Ubuntu", OSVersion: "24.04", Kernel: "6.8.0", Arch: "amd64"},
		Hardware: cmdb.InventoryHardware{CPUModel: "AMD Ryzen 5 7530U", CPUCores: 6, MemoryBytes: 16 << 30,
			Disks: []cmdb.InventoryDisk{{Name: "nvme0n1", SizeBytes: 512 << 30}}, Battery: &cmdb.Battery{DesignWh: 57, FullWh: 51.3, HealthPercent: 90}},
		Network:  []cmdb.InventoryNIC{{Name: "wlp1s0", MAC: fmt.Sprintf("a4:bb:6d:00:10:%02x", n), Kind: "physical"}, {Name: "docker0", MAC: "02:42:ac:11:00:01", Kind: "virtual"}},
		Software: []cmdb.SoftwareItem{{Name: "firefox", Publisher: "Mozilla", Version: "133.0"}, {Name: "libreoffice", Publisher: "The Document Foundation", Version: "24.8"}},
	}
}

func post(t *testing.T, url, bearer string, body any) (int, []byte) {
	t.Helper()
	data, _ := json.Marshal(body)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(data)
	zw.Close()
	req, _ := http.NewRequest("POST", url, &zb)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes()
}

func enroll(t *testing.T, base, token string, inv cmdb.Inventory) (*fakeAgent, int, string) {
	t.Helper()
	code, body := post(t, base+"/api/v1/agent/enroll", token, map[string]any{"system": inv.System, "nics": inv.Network})
	if code != 200 {
		return nil, code, string(body)
	}
	var r struct {
		DeviceID   string `json:"device_id"`
		Credential string `json:"credential"`
		CIID       int64  `json:"ci_id"`
	}
	json.Unmarshal(body, &r)
	return &fakeAgent{t: t, base: base, id: r.DeviceID, credential: r.Credential, ciID: r.CIID, inv: inv}, code, string(body)
}

// report sends the sections named (all hashes always) with the next seq.
func (a *fakeAgent) report(sections ...string) (int, cmdb.ReportResponse, string) {
	a.seq++
	return a.send(a.seq, sections...)
}

func (a *fakeAgent) send(seq uint64, sections ...string) (int, cmdb.ReportResponse, string) {
	code, body := post(a.t, a.base+"/api/v1/agent/report", a.credential, a.build(seq, sections...))
	var rr cmdb.ReportResponse
	json.Unmarshal(body, &rr)
	return code, rr, string(body)
}

// build makes a report with every section's hash and the data of the
// sections named.
func (a *fakeAgent) build(seq uint64, sections ...string) cmdb.Report {
	parts := map[string]any{cmdb.SectionSystem: a.inv.System, cmdb.SectionHardware: a.inv.Hardware,
		cmdb.SectionNetwork: a.inv.Network, cmdb.SectionSoftware: a.inv.Software}
	rep := cmdb.Report{DeviceID: a.id, Seq: seq, SentAt: time.Now().UTC(), Hashes: map[string]string{}, Sections: map[string]json.RawMessage{}}
	for name, v := range parts {
		data, _ := json.Marshal(v)
		rep.Hashes[name] = cmdb.SectionHash(data)
		for _, s := range sections {
			if s == name {
				rep.Sections[name] = data
			}
		}
	}
	return rep
}

// TestAgentIngest: enrolment, full and delta reports, retries applied
// once, bad reports refused whole, reinstalled machines on their CI.
func TestAgentIngest(t *testing.T) {
	t.Parallel()
	a := startAuthServer(t)
	auth, school, _, _ := a.tenant("AG")
	a.must(201, "POST", "/api/v1/users", map[string]any{"email": "it@ag.de", "password": goodPassword,
		"memberships": []map[string]any{{"role": "school_it", "org_id": school}}})
	resp, _ := a.login("it@ag.de", goodPassword, nil)
	it := map[string]string{"Cookie": "cmdb_session=" + sessionCookie(t, resp).Value}
	r, body := a.raw("POST", "/api/v1/enrolment-tokens", fmt.Sprintf(`{"school_id": %d, "name": "Laptopwagen 1", "max_uses": 3}`, school), it)
	if r.StatusCode != 201 {
		t.Fatalf("enrolment token: %d %s", r.StatusCode, body)
	}
	var et struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}
	json.Unmarshal([]byte(body), &et)

	if _, code, body := enroll(t, a.base, "cmdbe_wrong", testInventory(1)); code != 401 {
		t.Fatalf("bad enrolment token: %d %s", code, body)
	}
	ag, code, body := enroll(t, a.base, et.Token, testInventory(1))
	if code != 200 || ag.ciID == 0 || !strings.HasPrefix(ag.credential, "cmdbd_") {
		t.Fatalf("enroll: %d %s", code, body)
	}
	ci := a.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d", ag.ciID), nil)
	if ci["class"] != "laptop" || ci["school_id"].(float64) != float64(school) || ci["serial"] != "PF4TEST01" {
		t.Fatalf("enrolled CI = %v", ci)
	}

	// First report: everything.
	code, rr, body := ag.report(cmdb.Sections...)
	if code != 200 || rr.Ack != 1 || rr.WantFull {
		t.Fatalf("full report: %d %s", code, body)
	}
	ci = a.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d", ag.ciID), nil)
	attrs := ci["attributes"].(map[string]any)
	if attrs["cpu.model"] != "AMD Ryzen 5 7530U" || attrs["memory.total_mb"] != "16384" || attrs["software.count"] != "2" || attrs["battery.health_percent"] != "90" {
		t.Fatalf("attributes after full report: %v", attrs)
	}
	if sw := a.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/software", ag.ciID), nil); sw["total"].(float64) != 2 {
		t.Fatalf("software = %v", sw)
	}
	histLen := func() float64 {
		return a.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/history", ag.ciID), nil)["total"].(float64)
	}
	h1 := histLen()

	// A heartbeat changes nothing; a retried report is acknowledged and applied once.
	if code, rr, body := ag.report(); code != 200 || rr.Ack != 2 {
		t.Fatalf("heartbeat: %d %s", code, body)
	}
	ag.inv.Software = append(ag.inv.Software, cmdb.SoftwareItem{Name: "geogebra", Publisher: "GeoGebra", Version: "6.0"})
	ag.inv.System.OSVersion = "24.04.1"
	if code, rr, body := ag.report(cmdb.SectionSoftware, cmdb.SectionSystem); code != 200 || rr.Ack != 3 {
		t.Fatalf("delta: %d %s", code, body)
	}
	h2 := histLen()
	if h2 != h1+3 { // os_version, software.count and the software summary
		t.Fatalf("history grew by %v, want 3", h2-h1)
	}
	if code, rr, _ := ag.send(3, cmdb.SectionSoftware, cmdb.SectionSystem); code != 200 || rr.Ack != 3 || histLen() != h2 {
		t.Fatalf("retry of seq 3: %d ack %d, history %v → %v", code, rr.Ack, h2, histLen())
	}
	if sw := a.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/software", ag.ciID), nil); sw["total"].(float64) != 3 {
		t.Fatalf("software after delta = %v", sw["total"])
	}

	// The server lacks a section the agent thinks it has: it asks for all.
	ag.inv.Hardware.CPUCores = 8
	if code, rr, _ := ag.report(); code != 200 || !rr.WantFull {
		t.Fatalf("unknown hash: %d want_full %v", code, rr.WantFull)
	}

	// Bad reports: 400 naming the field, nothing applied.
	bad := []struct {
		name, field string
		mutate      func(*cmdb.Report)
	}{
		{"hash mismatch", "hashes.software", func(r *cmdb.Report) { r.Sections[cmdb.SectionSoftware] = json.RawMessage(`[]`) }},
		{"unknown section", "hashes.secrets", func(r *cmdb.Report) { r.Hashes["secrets"] = strings.Repeat("a", 64) }},
		{"other device", "device_id", func(r *cmdb.Report) { r.DeviceID = "00000000-0000-4000-8000-000000000000" }},
		{"bad MAC", "sections.network[0].mac", func(r *cmdb.Report) {
			data := json.RawMessage(`[{"name":"eth0","mac":"nope","kind":"physical"}]`)
			r.Sections[cmdb.SectionNetwork], r.Hashes[cmdb.SectionNetwork] = data, cmdb.SectionHash(data)
		}},
		{"unknown field", "sections.system.password", func(r *cmdb.Report) {
			data := json.RawMessage(`{"hostname":"x","password":"y"}`)
			r.Sections[cmdb.SectionSystem], r.Hashes[cmdb.SectionSystem] = data, cmdb.SectionHash(data)
		}},
	}
	for _, tt := range bad {
		data, _ := json.Marshal(ag.inv.Software)
		rep := cmdb.Report{DeviceID: ag.id, Seq: 100, Hashes: map[string]string{cmdb.SectionSoftware: cmdb.SectionHash(data)},
			Sections: map[string]json.RawMessage{cmdb.SectionSoftware: data}}
		tt.mutate(&rep)
		code, body := post(t, a.base+"/api/v1/agent/report", ag.credential, rep)
		if code != 400 || !strings.Contains(string(body), `"field":"`+tt.field+`"`) {
			t.Errorf("%s: %d %s", tt.name, code, body)
		}
	}
	if histLen() != h2 {
		t.Fatal("a bad report changed the CI")
	}
	if code, _ := post(t, a.base+"/api/v1/agent/report", "cmdbd_unknown", cmdb.Report{DeviceID: ag.id, Seq: 9}); code != 401 {
		t.Fatalf("unknown credential: %d", code)
	}

	// A reinstalled machine (new agent, same serial) enrols onto its CI.
	again, code, body := enroll(t, a.base, et.Token, testInventory(1))
	if code != 200 || again.ciID != ag.ciID || again.id == ag.id {
		t.Fatalf("re-enrolment: %d %s (CI %d, first %d)", code, body, again.ciID, ag.ciID)
	}
	// The new agent's first report drops geogebra, the next upgrades
	// firefox: the rows and the CI's software set agree.
	if code, _, body := again.report(cmdb.Sections...); code != 200 {
		t.Fatalf("first report after re-enrolment: %d %s", code, body)
	}
	again.inv.Software[0].Version += ".1"
	if code, _, body := again.report(cmdb.SectionSoftware); code != 200 {
		t.Fatalf("software upgrade: %d %s", code, body)
	}
	var rows, set string
	if err := a.db.QueryRow(`SELECT (SELECT array_agg(software_id ORDER BY software_id) FROM ci_software WHERE ci_id = $1)::text,
		(SELECT software_ids FROM ci_software_sets WHERE ci_id = $1)::text`, ag.ciID).Scan(&rows, &set); err != nil || rows != set {
		t.Fatalf("ci_software %s, set %s (%v)", rows, set, err)
	}
	if sw := a.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/software", ag.ciID), nil); sw["total"].(float64) != 2 {
		t.Fatalf("software after upgrade and removal = %v", sw["total"])
	}
	// A new network card adds an identifier, which an attribute-only
	// batch may not do under the shared lock: it is written all the same.
	again.inv.Network = append(again.inv.Network, cmdb.InventoryNIC{Name: "eth9", MAC: "0c:37:96:11:22:33", Kind: "physical"})
	if code, _, body := again.report(cmdb.SectionNetwork); code != 200 {
		t.Fatalf("new NIC: %d %s", code, body)
	}
	if ids := a.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/identifiers", ag.ciID), nil); !strings.Contains(fmt.Sprint(ids), "0c:37:96:11:22:33") {
		t.Fatalf("identifiers after a new NIC: %v", ids)
	}
	// max_uses 3: one more works, then the token is used up; revoked ones fail too.
	third, code, _ := enroll(t, a.base, et.Token, testInventory(2))
	if code != 200 {
		t.Fatalf("third enrolment: %d", code)
	}
	// Hashes are lower-case hex SHA-256, even in a heartbeat.
	for _, h := range []string{strings.Repeat("A", 64), "abc"} {
		rep := cmdb.Report{DeviceID: third.id, Seq: 1, Hashes: map[string]string{cmdb.SectionSystem: h}}
		if code, body := post(t, a.base+"/api/v1/agent/report", third.credential, rep); code != 400 || !strings.Contains(string(body), `"field":"hashes.system"`) {
			t.Errorf("hash %q: %d %s", h, code, body)
		}
	}
	if _, code, _ := enroll(t, a.base, et.Token, testInventory(3)); code != 401 {
		t.Fatalf("used-up token: %d", code)
	}
	_, body = a.raw("POST", "/api/v1/enrolment-tokens", fmt.Sprintf(`{"school_id": %d, "name": "Wagen 2"}`, school), it)
	json.Unmarshal([]byte(body), &et)
	a.raw("DELETE", fmt.Sprintf("/api/v1/enrolment-tokens/%d", et.ID), "", it)
	if _, code, _ := enroll(t, a.base, et.Token, testInventory(4)); code != 401 {
		t.Fatalf("revoked token: %d", code)
	}
	if l := a.must(200, "GET", fmt.Sprintf("/api/v1/cis?authority=%d", auth), nil); l["total"].(float64) != 2 {
		t.Fatalf("CIs = %v, want 2", l["total"])
	}
	assertNoSecrets(t, a, ag.credential, again.credential, goodPassword)
}

// TestAgentGroupCommit: concurrent reports are committed together and
// each is acknowledged.
func TestAgentGroupCommit(t *testing.T) {
	t.Parallel()
	a := startAuthServer(t)
	_, school, _, _ := a.tenant("GC")
	et := a.must(201, "POST", "/api/v1/enrolment-tokens", map[string]any{"school_id": school, "name": "bulk", "max_uses": 100})
	const n = 40
	agents := make([]*fakeAgent, n)
	for i := range agents {
		agents[i], _, _ = enroll(t, a.base, et["token"].(string), testInventory(i+10))
	}
	var wg sync.WaitGroup
	var failed atomic.Int32
	for _, ag := range agents {
		wg.Add(1)
		go func(ag *fakeAgent) {
			defer wg.Done()
			for range 3 {
				if code, _, _ := ag.report(cmdb.Sections...); code != 200 {
					failed.Add(1)
				}
			}
		}(ag)
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d reports failed", failed.Load())
	}
	_, out := a.do("GET", "/metrics", nil)
	m := out["_raw"].(string)
	// Some batch held more than one report.
	if strings.Contains(m, `cmdb_ingest_batch_size_bucket{kind="sections",le="1"} 120`) ||
		!strings.Contains(m, `cmdb_ingest_batch_size_count{kind="sections"}`) {
		t.Fatalf("no batch with more than one report:\n%s", grepLines(m, "cmdb_ingest_batch_size"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestKillDuringLoad: kill -9 of the server while agents report loses no
// acknowledged report.
func TestKillDuringLoad(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "cmdbd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	url := postgrestest.NewDatabase(t)
	dir := sharedDataDir(t)
	start := func() (*exec.Cmd, string) {
		cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--db", url, "--data-dir", dir, "--log-format", "json")
		var logs syncbuf.Buffer
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if i := strings.Index(logs.String(), `"url":"http://`); i >= 0 {
				rest := logs.String()[i+7:]
				return cmd, rest[:strings.IndexByte(rest, '"')]
			}
			time.Sleep(20 * time.Millisecond)
		}
		cmd.Process.Kill()
		t.Fatalf("server did not start:\n%s", logs.String())
		return nil, ""
	}
	srv, base := start()
	_, tokOut, _ := runMain(t, "token", "create", "--admin", "--db", url)
	c := &client{t: t, base: base, token: strings.TrimSpace(tokOut)}
	_, school, _, _ := c.tenant("KILL")
	et := c.must(201, "POST", "/api/v1/enrolment-tokens", map[string]any{"school_id": school, "name": "kill", "max_uses": 100})
	const n = 30
	agents := make([]*fakeAgent, n)
	for i := range agents {
		agents[i], _, _ = enroll(t, base, et["token"].(string), testInventory(i+50))
	}
	acked := make([]uint64, n)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var sent atomic.Int64
	for i, ag := range agents {
		wg.Add(1)
		go func(i int, ag *fakeAgent) {
			defer wg.Done()
			for ctx.Err() == nil {
				ag.seq++
				code, rr, err := tryReport(ag, ag.seq)
				if err != nil {
					return // the server is gone
				}
				sent.Add(1)
				if code == 200 && rr.Ack > acked[i] {
					acked[i] = rr.Ack
				}
			}
		}(i, ag)
	}
	for sent.Load() < 300 && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	srv.Process.Kill() // SIGKILL: no shutdown, no flush
	srv.Wait()
	wg.Wait()
	srv2, _ := start()
	defer func() { srv2.Process.Kill(); srv2.Wait() }()
	db := mustSQL(t, url)
	lost := 0
	var total uint64
	for i, ag := range agents {
		var last uint64
		db.QueryRow(`SELECT last_seq FROM devices WHERE id = $1`, ag.id).Scan(&last)
		total += acked[i]
		if last < acked[i] {
			lost++
		}
	}
	if total == 0 {
		t.Fatal("no report was acknowledged before the kill")
	}
	if lost > 0 {
		t.Fatalf("%d devices lost acknowledged reports", lost)
	}
	t.Logf("%d reports sent, %d acknowledged before kill -9; none lost", sent.Load(), total)
}

// tryReport sends one heartbeat-or-delta and reports transport errors.
func tryReport(a *fakeAgent, seq uint64) (int, cmdb.ReportResponse, error) {
	sections := []string{}
	if seq%5 == 0 {
		a.inv.Hardware.Disks[0].FreeBytes = seq
		sections = []string{cmdb.SectionHardware}
	}
	data, _ := json.Marshal(a.build(seq, sections...))
	req, _ := http.NewRequest("POST", a.base+"/api/v1/agent/report", bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+a.credential)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, cmdb.ReportResponse{}, err
	}
	defer resp.Body.Close()
	var rr cmdb.ReportResponse
	json.NewDecoder(resp.Body).Decode(&rr)
	return resp.StatusCode, rr, nil
}
