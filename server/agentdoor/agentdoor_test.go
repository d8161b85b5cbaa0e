package agentdoor_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schulit/cmdb/agentproto"
	"github.com/schulit/cmdb/server/agentdoor"
	"github.com/schulit/cmdb/server/cmdb"
)

// endless is a body that never ends and counts what is read of it.
type endless struct{ n atomic.Int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.n.Add(int64(len(p)))
	return len(p), nil
}

func newDoor(t *testing.T, f *agentdoor.Fixture, o agentdoor.Options) *agentdoor.Handler {
	t.Helper()
	o.Store = f.DB
	h := agentdoor.New(o)
	t.Cleanup(h.Close)
	return h
}

type answer struct {
	Status int
	Header http.Header
	Error  struct {
		Code, Field, Message string
	}
	Body []byte
}

// call serves one request on handler fn, without the network.
func call(fn http.HandlerFunc, path, bearer string, body io.Reader, gz bool) answer {
	req := httptest.NewRequest(http.MethodPost, path, body)
	req.Header.Set("Content-Type", "application/json")
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	rec := httptest.NewRecorder()
	fn(rec, req)
	a := answer{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	var e struct {
		Error struct{ Code, Field, Message string }
	}
	json.Unmarshal(a.Body, &e)
	a.Error = e.Error
	return a
}

func gzipped(t *testing.T, data []byte) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return &b
}

func jsonOf(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEnrollChecksTokenBeforeBody: a stranger cannot make the server read
// (let alone unpack) a body: without the right token the answer is 401
// and not a byte of the body is read.
func TestEnrollChecksTokenBeforeBody(t *testing.T) {
	f := agentdoor.NewFixture(t)
	h := newDoor(t, f, agentdoor.Options{})
	for _, tc := range []struct{ name, bearer string }{
		{"no token", ""},
		{"wrong token", "cmdbe_not-a-token"},
		{"blank token", " "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &endless{}
			a := call(h.Enroll, agentproto.EnrollPath, tc.bearer, body, true)
			if a.Status != http.StatusUnauthorized || a.Error.Code != cmdb.EUNAUTHORIZED {
				t.Errorf("answer %d %+v, want 401 unauthorized", a.Status, a.Error)
			}
			if n := body.n.Load(); n != 0 {
				t.Errorf("the door read %d bytes of the body of an unauthenticated request", n)
			}
		})
	}
	// A token used up is refused before the body as well.
	if _, err := f.DB.SQL().Exec(`UPDATE enrolment_tokens SET uses = max_uses WHERE id = $1`, f.TokenID); err != nil {
		t.Fatal(err)
	}
	body := &endless{}
	if a := call(h.Enroll, agentproto.EnrollPath, f.Token.Reveal(), body, false); a.Status != http.StatusUnauthorized || body.n.Load() != 0 {
		t.Errorf("used-up token: %d, %d bytes read; want 401 and none", a.Status, body.n.Load())
	}
}

// TestEnroll: the right token in the header and a small body enrol; the
// body is bounded and checked, naming the field.
func TestEnroll(t *testing.T) {
	f := agentdoor.NewFixture(t)
	h := newDoor(t, f, agentdoor.Options{})
	tok := f.Token.Reveal()
	good := jsonOf(t, agentproto.EnrollRequest{System: agentdoor.System(1),
		NICs: []agentproto.InventoryNIC{{Name: "wlp1s0", MAC: "a4:bb:6d:00:10:01", Kind: "physical"}}})
	a := call(h.Enroll, agentproto.EnrollPath, tok, gzipped(t, good), true)
	var resp struct {
		DeviceID   string `json:"device_id"`
		Credential string `json:"credential"`
		CIID       int64  `json:"ci_id"`
	}
	if err := json.Unmarshal(a.Body, &resp); a.Status != 200 || err != nil || resp.DeviceID == "" ||
		!strings.HasPrefix(resp.Credential, "cmdbd_") || resp.CIID == 0 {
		t.Fatalf("enrol: %d %s", a.Status, a.Body)
	}
	if _, err := f.DB.DeviceByCredential(t.Context(), resp.Credential); err != nil {
		t.Errorf("the credential of the answer does not authenticate: %v", err)
	}

	// The largest machine a real agent describes fits the limit: the most
	// NICs (64, without addresses, as the agent sends them) and every
	// text of the system section at its longest.
	long := strings.Repeat("x", cmdb.MaxNameLen)
	big := agentproto.EnrollRequest{System: agentproto.InventorySystem{Hostname: strings.Repeat("h", 63), Vendor: long, Model: long,
		Serial: "PF4BIG" + strings.Repeat("9", 50), Chassis: "laptop", OSName: long, OSVersion: long, OSBuild: long, Kernel: long, Arch: long}}
	for i := range cmdb.MaxNICs {
		big.NICs = append(big.NICs, agentproto.InventoryNIC{Name: fmt.Sprintf("%s %02d", strings.Repeat("Intel(R) Ethernet ", 5), i),
			MAC: fmt.Sprintf("a4:bb:6d:00:11:%02x", i), Kind: "physical"})
	}
	if a := call(h.Enroll, agentproto.EnrollPath, tok, bytes.NewReader(jsonOf(t, big)), false); a.Status != 200 {
		t.Errorf("largest enrolment (%d bytes): %d %s", len(jsonOf(t, big)), a.Status, a.Body)
	}

	bomb := gzipped(t, bytes.Repeat([]byte(" "), 8<<20)) // 8 MiB of blanks, ~8 KiB packed
	for _, tc := range []struct {
		name   string
		body   io.Reader
		gz     bool
		status int
		code   string
		field  string
		msg    string
	}{
		{"gzip bomb", bomb, true, 413, cmdb.ETOOLARGE, "", "32768"},
		{"too large plain", strings.NewReader(`{"system":{"hostname":"` + strings.Repeat("a", 40<<10) + `"}}`), false, 413, cmdb.ETOOLARGE, "", "32768"},
		{"not gzip", strings.NewReader("this is not gzip"), true, 400, cmdb.EINVALID, "body", "gzip"},
		{"token in the body", strings.NewReader(`{"token":"x","system":{"hostname":"a"}}`), false, 400, cmdb.EINVALID, "token", "not a known field"},
		{"wrong type", strings.NewReader(`{"system":{"hostname":42}}`), false, 400, cmdb.EINVALID, "system.hostname", "wrong JSON type"},
		{"malformed", strings.NewReader(`{"system":`), false, 400, cmdb.EINVALID, "body", ""},
		{"two values", strings.NewReader(`{"system":{"hostname":"a"}} {}`), false, 400, cmdb.EINVALID, "body", "exactly one"},
		{"boot time of year 1", strings.NewReader(`{"system":{"hostname":"a","serial":"S1","boot_time":"0001-01-01T00:00:01Z"}}`), false, 400, cmdb.EINVALID, "system.boot_time", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := call(h.Enroll, agentproto.EnrollPath, tok, tc.body, tc.gz)
			if a.Status != tc.status || a.Error.Code != tc.code || a.Error.Field != tc.field || !strings.Contains(a.Error.Message, tc.msg) {
				t.Errorf("answer %d %+v, want %d %s field %q message with %q", a.Status, a.Error, tc.status, tc.code, tc.field, tc.msg)
			}
		})
	}
}

// report builds a report body of device d.
func report(d string, seq uint64, sections map[string]any) map[string]any {
	hashes, data := map[string]string{}, map[string]json.RawMessage{}
	for name, v := range sections {
		b, _ := json.Marshal(v)
		data[name], hashes[name] = b, agentproto.SectionHash(b)
	}
	return map[string]any{"device_id": d, "seq": seq, "sent_at": time.Now().UTC(), "hashes": hashes, "sections": data}
}

// TestReportRefusesBadValues: what a real agent never sends is refused
// with 400 naming the field and the rule, and nothing is applied.
func TestReportRefusesBadValues(t *testing.T) {
	f := agentdoor.NewFixture(t)
	h := newDoor(t, f, agentdoor.Options{ReportRate: 1000, ReportBurst: 1000})
	d, cred := f.Enrol(t, 1)
	other, _ := f.Enrol(t, 2)
	hw := func(s string) map[string]any {
		var v map[string]any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber() // keeps 2^64−1 exact
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return map[string]any{agentproto.SectionHardware: v}
	}
	for _, tc := range []struct {
		name  string
		body  string
		field string
		msg   string
	}{
		{"seq 2^63", `{"device_id":"` + d.ID + `","seq":9223372036854775808,"hashes":{}}`, "seq", "9223372036854775807"},
		{"seq 2^64", `{"device_id":"` + d.ID + `","seq":18446744073709551616,"hashes":{}}`, "seq", "out of range"},
		{"seq 0", `{"device_id":"` + d.ID + `","seq":0,"hashes":{}}`, "seq", "1 to"},
		{"seq a string", `{"device_id":"` + d.ID + `","seq":"1","hashes":{}}`, "seq", "wrong JSON type"},
		{"unknown field", `{"device_id":"` + d.ID + `","seq":1,"hashes":{},"extra":1}`, "extra", "not a known field"},
		{"another device", string(jsonOf(t, report(other.ID, 1, nil))), "device_id", "not the device"},
		{"sent in year 1", `{"device_id":"` + d.ID + `","seq":1,"hashes":{},"sent_at":"0001-01-01T00:00:01Z"}`, "sent_at", "days before"},
		{"sent in year 9999", `{"device_id":"` + d.ID + `","seq":1,"hashes":{},"sent_at":"9999-01-01T00:00:00Z"}`, "sent_at", "after"},
		{"cpu_cores -1", string(jsonOf(t, report(d.ID, 1, hw(`{"cpu_cores":-1}`)))), "sections.hardware.cpu_cores", "0 (unknown) to 4096"},
		{"memory 2^64-1", string(jsonOf(t, report(d.ID, 1, hw(`{"memory_bytes":18446744073709551615}`)))), "sections.hardware.memory_bytes", "at most"},
		{"disk of 2^64-1", string(jsonOf(t, report(d.ID, 1, hw(`{"disks":[{"name":"sda","size_bytes":18446744073709551615}]}`)))), "sections.hardware.disks[0].size_bytes", "at most"},
		{"battery -5 Wh", string(jsonOf(t, report(d.ID, 1, hw(`{"battery":{"design_wh":-5}}`)))), "sections.hardware.battery.design_wh", "0 to"},
		{"unknown section", string(jsonOf(t, report(d.ID, 1, map[string]any{"photos": []int{1}}))), "hashes.photos", "not a known section"},
		{"section field", string(jsonOf(t, report(d.ID, 1, map[string]any{"system": map[string]any{"hostname": "a", "owner": "x"}}))), "sections.system.owner", "not a known field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := call(h.Report, agentproto.ReportPath, cred, gzipped(t, []byte(tc.body)), true)
			if a.Status != 400 || a.Error.Code != cmdb.EINVALID || a.Error.Field != tc.field || !strings.Contains(a.Error.Message, tc.msg) {
				t.Errorf("answer %d %+v, want 400 on %s with %q", a.Status, a.Error, tc.field, tc.msg)
			}
		})
	}
	var seq int64
	if err := f.DB.SQL().Get(&seq, `SELECT last_seq FROM devices WHERE id = $1`, d.ID); err != nil || seq != 0 {
		t.Errorf("after refused reports the device's seq is %d (%v), want 0", seq, err)
	}
}

// TestReportAuthAndLimits: the credential is checked before the body, and
// the body is bounded by what a report needs.
func TestReportAuthAndLimits(t *testing.T) {
	f := agentdoor.NewFixture(t)
	h := newDoor(t, f, agentdoor.Options{})
	d, cred := f.Enrol(t, 1)
	for _, bearer := range []string{"", "cmdbd_wrong"} {
		body := &endless{}
		a := call(h.Report, agentproto.ReportPath, bearer, body, true)
		if a.Status != 401 || a.Error.Code != cmdb.EUNAUTHORIZED || body.n.Load() != 0 {
			t.Errorf("credential %q: %d %+v, %d bytes read; want 401 and none", bearer, a.Status, a.Error, body.n.Load())
		}
	}
	// 2 MiB of software unpacked: over the 1 MiB a report may be.
	var sw []agentproto.SoftwareItem
	for i := 0; i < 30000; i++ {
		sw = append(sw, agentproto.SoftwareItem{Name: fmt.Sprintf("package-%06d-with-a-long-name-for-the-test", i), Version: "1.0.0-1ubuntu1"})
	}
	big := jsonOf(t, report(d.ID, 1, map[string]any{agentproto.SectionSoftware: sw}))
	if len(big) < 2<<20 {
		t.Fatalf("test report is only %d bytes", len(big))
	}
	a := call(h.Report, agentproto.ReportPath, cred, gzipped(t, big), true)
	if a.Status != 413 || a.Error.Code != cmdb.ETOOLARGE || !strings.Contains(a.Error.Message, "1048576") {
		t.Errorf("2 MiB report: %d %+v, want 413 naming 1048576", a.Status, a.Error)
	}
}

// TestReportAck: a report is acknowledged after it is applied; a seq
// already acknowledged is answered with the last ack and not applied
// again; want_full asks for the sections the server lacks.
func TestReportAck(t *testing.T) {
	f := agentdoor.NewFixture(t)
	h := newDoor(t, f, agentdoor.Options{ReportRate: 1000, ReportBurst: 1000})
	d, cred := f.Enrol(t, 1)
	send := func(body map[string]any) agentproto.ReportResponse {
		t.Helper()
		a := call(h.Report, agentproto.ReportPath, cred, gzipped(t, jsonOf(t, body)), true)
		var r agentproto.ReportResponse
		if err := json.Unmarshal(a.Body, &r); a.Status != 200 || err != nil {
			t.Fatalf("report: %d %s", a.Status, a.Body)
		}
		return r
	}
	sys := map[string]any{agentproto.SectionSystem: agentdoor.System(1)}
	steps := []struct {
		name string
		body map[string]any
		ack  uint64
		full bool
	}{
		{"heartbeat before any section", report(d.ID, 1, nil), 1, true},
		{"first full report", report(d.ID, 2, sys), 2, false},
		{"the same seq again", report(d.ID, 2, sys), 2, false},
		{"heartbeat", report(d.ID, 3, nil), 3, false},
		{"an old seq", report(d.ID, 1, nil), 3, false},
	}
	// The heartbeat names the system hash the server lacks.
	steps[0].body["hashes"] = report(d.ID, 1, sys)["hashes"]
	steps[3].body["hashes"] = report(d.ID, 1, sys)["hashes"]
	steps[4].body["hashes"] = report(d.ID, 1, sys)["hashes"]
	for _, s := range steps {
		r := send(s.body)
		if r.Ack != s.ack || r.WantFull != s.full || r.IntervalSeconds <= 0 {
			t.Errorf("%s: ack %d want_full %v interval %d, want ack %d want_full %v", s.name, r.Ack, r.WantFull, r.IntervalSeconds, s.ack, s.full)
		}
	}
	var seq int64
	if err := f.DB.SQL().Get(&seq, `SELECT last_seq FROM devices WHERE id = $1`, d.ID); err != nil || seq != 3 {
		t.Errorf("device's seq %d (%v), want 3", seq, err)
	}
}

// TestInflightCap: the bytes of bodies being read at once are capped;
// beyond the cap the door answers 503 with Retry-After, and once the
// bodies are done it serves again.
func TestInflightCap(t *testing.T) {
	f := agentdoor.NewFixture(t)
	// The smallest cap: one full report (1 MiB) and a chunk.
	h := newDoor(t, f, agentdoor.Options{MaxInflight: 1, ReportRate: 1000, ReportBurst: 1000})
	d, cred := f.Enrol(t, 1)
	prefix := `{"device_id":"` + d.ID + `","seq":1,"hashes":{},"sent_at":"` + time.Now().UTC().Format(time.RFC3339) + `","x":"`
	// slow starts a plain report that sends n bytes, then waits: the
	// door holds what it read.
	type slow struct {
		w    *io.PipeWriter
		done chan answer
	}
	start := func(n int) slow {
		pr, pw := io.Pipe()
		s := slow{w: pw, done: make(chan answer, 1)}
		go func() {
			a := call(h.Report, agentproto.ReportPath, cred, pr, false)
			pr.CloseWithError(io.ErrClosedPipe) // the door stopped reading
			s.done <- a
		}()
		return s
	}
	first := start(600 << 10)
	if _, err := io.WriteString(first.w, prefix+strings.Repeat("a", 600<<10)); err != nil {
		t.Fatal(err)
	}
	// The first body holds 600 KiB; a second of 600 KiB does not fit.
	second := start(600 << 10)
	_, err := io.WriteString(second.w, prefix+strings.Repeat("a", 600<<10))
	if err == nil {
		t.Fatalf("the door read a second 600 KiB body while the first was held (cap 1 MiB)")
	}
	a := <-second.done
	if a.Status != 503 || a.Error.Code != cmdb.EUNAVAILABLE || a.Header.Get("Retry-After") == "" {
		t.Errorf("second body: %d %+v Retry-After %q, want 503 unavailable with Retry-After", a.Status, a.Error, a.Header.Get("Retry-After"))
	}
	// The first ends (a malformed report: "x" is not a field); its bytes
	// are released and a heartbeat is served.
	first.w.Close()
	if a := <-first.done; a.Status != 400 {
		t.Errorf("first body: %d %s, want 400", a.Status, a.Body)
	}
	if a := call(h.Report, agentproto.ReportPath, cred, gzipped(t, jsonOf(t, report(d.ID, 1, nil))), true); a.Status != 200 {
		t.Errorf("heartbeat after the bodies are done: %d %s", a.Status, a.Body)
	}
}
