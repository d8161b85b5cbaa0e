package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/schulit/cmdb/internal/buildinfo"
	"github.com/schulit/cmdb/internal/syncbuf"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

var (
	dataDirOnce sync.Once
	dataDir     string
)

// sharedDataDir is one data directory for all commands of the test binary,
// so that they share the secret key as one server's commands would.
func sharedDataDir(t *testing.T) string {
	dataDirOnce.Do(func() {
		dataDir, _ = os.MkdirTemp("", "cmdbd-test-")
		os.Chmod(dataDir, 0o755)
	})
	return dataDir
}

// runMain runs cmdbd with args like the binary would, and returns its
// stdout. A serving Main is closed when the test ends.
func runMain(t *testing.T, args ...string) (*Main, string, *syncbuf.Buffer) {
	t.Helper()
	m := NewMain()
	var out bytes.Buffer
	logs := &syncbuf.Buffer{}
	m.Stdout, m.Stderr = &out, logs
	if !slices.Contains(args, "--data-dir") && args[0] != "version" {
		// Keep the secret key (and any private cluster) out of the source tree.
		args = append(args, "--data-dir", sharedDataDir(t))
	}
	if err := m.ParseFlags(args); err != nil {
		t.Fatalf("cmdbd %v: %v", args, err)
	}
	err := m.Run(context.Background())
	if !m.Serving() {
		if cerr := m.Close(); err == nil {
			err = cerr
		}
	} else {
		t.Cleanup(func() { m.Close() })
	}
	if err != nil {
		t.Fatalf("cmdbd %v: %v\nlogs:\n%s", args, err, logs.String())
	}
	return m, out.String(), logs
}

// client talks to a running server with a bearer token.
type client struct {
	t     *testing.T
	base  string
	token string
}

func (c *client) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Content-Type", "application/json")
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{"_raw": string(raw), "_location": resp.Header.Get("Location")}
	}
	return resp.StatusCode, out
}

// must performs a request and fails the test unless the status is want.
func (c *client) must(want int, method, path string, body any) map[string]any {
	c.t.Helper()
	code, out := c.do(method, path, body)
	if code != want {
		c.t.Fatalf("%s %s: status %d, want %d: %v", method, path, code, want, out)
	}
	return out
}

func id(m map[string]any) int64 { return int64(m["id"].(float64)) }

// startServer runs "cmdbd serve" on a fresh database and returns a client
// with an admin token made by "cmdbd token create --admin".
func startServer(t *testing.T) (*client, *syncbuf.Buffer) {
	t.Helper()
	url := postgrestest.NewDatabase(t)
	_, out, _ := runMain(t, "token", "create", "--admin", "--name", "test", "--db", url)
	token := strings.TrimSpace(out)
	m, _, logs := runMain(t, "serve", "--listen", "127.0.0.1:0", "--db", url, "--log-level", "debug", "--log-format", "json")
	return &client{t: t, base: "http://" + m.Addr(), token: token}, logs
}

// tenant creates an authority with a school, a building and two rooms.
func (c *client) tenant(code string) (auth, school, room1, room2 int64) {
	a := c.must(201, "POST", "/api/v1/authorities", map[string]any{"code": code, "name": "Stadt " + code})
	s := c.must(201, "POST", "/api/v1/schools", map[string]any{"authority_id": id(a), "code": "40123", "name": "Gymnasium am See"})
	b := c.must(201, "POST", "/api/v1/buildings", map[string]any{"school_id": id(s), "code": "A", "name": "Haus A"})
	r1 := c.must(201, "POST", "/api/v1/rooms", map[string]any{"building_id": id(b), "code": "1.12", "name": "Raum 1.12"})
	r2 := c.must(201, "POST", "/api/v1/rooms", map[string]any{"building_id": id(b), "code": "LZ", "name": "Lehrerzimmer"})
	return id(a), id(s), id(r1), id(r2)
}

func TestEmbeddedPostgresIsCreatedAndReused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// As root PostgreSQL runs as the postgres user, which must reach the directory.
	os.Chmod(filepath.Dir(dir), 0o755)
	os.Chmod(dir, 0o755)
	runMain(t, "migrate", "--data-dir", dir)
	if _, err := os.Stat(filepath.Join(dir, "pg")); err != nil {
		t.Fatalf("no private cluster in the data dir: %v", err)
	}
	_, out, _ := runMain(t, "token", "create", "--admin", "--data-dir", dir)
	if !strings.HasPrefix(strings.TrimSpace(out), "cmdb_") {
		t.Fatalf("token create printed %q", out)
	}
	m, _, _ := runMain(t, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir)
	c := &client{t: t, base: "http://" + m.Addr(), token: strings.TrimSpace(out)}
	c.must(200, "GET", "/readyz", nil)
	// The token made by the earlier process works: the cluster was reused.
	c.must(200, "GET", "/api/v1/authorities", nil)
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	build := buildinfo.Get()
	h := c.must(200, "GET", "/healthz", nil)
	if h["version"] != build.Version || h["commit"] != build.Commit {
		t.Errorf("/healthz = %v, want version %q and commit %q", h, build.Version, build.Commit)
	}
	c.must(200, "GET", "/readyz", nil)
	c.must(200, "GET", "/api/v1/authorities", nil)
	_, out := c.do("GET", "/metrics", nil)
	if !strings.Contains(out["_raw"].(string), `cmdb_http_requests_total{code="200",route="/api/v1/authorities"} 1`) {
		t.Fatalf("metrics lack the request counter:\n%.2000s", out["_raw"])
	}
	gauge := fmt.Sprintf(`cmdb_build_info{commit=%q,goversion=%q,version=%q} 1`, build.Commit, build.GoVersion, build.Version)
	if !strings.Contains(out["_raw"].(string), gauge) {
		t.Errorf("metrics lack %s:\n%.2000s", gauge, out["_raw"])
	}
}

func TestVersionCommand(t *testing.T) {
	t.Parallel()
	_, out, _ := runMain(t, "version")
	if want := "cmdbd " + buildinfo.Get().String() + "\n"; out != want {
		t.Errorf("cmdbd version printed %q, want %q", out, want)
	}
}

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	anon := &client{t: t, base: c.base}
	anon.must(401, "GET", "/api/v1/cis", nil)
	bad := &client{t: t, base: c.base, token: "cmdb_not-a-real-token"}
	bad.must(401, "GET", "/api/v1/cis", nil)
	lower := &client{t: t, base: c.base, token: c.token}
	req, _ := http.NewRequest("GET", c.base+"/api/v1/cis", nil)
	req.Header.Set("Authorization", "bearer "+lower.token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("lower-case bearer scheme: %v %v", resp, err)
	}
	c.must(404, "GET", "/api/v1/nothing", nil)
	code, _ := c.do("PUT", "/api/v1/cis/1", "{}")
	if code != 405 {
		t.Fatalf("PUT /cis/1: %d, want 405", code)
	}
}

func TestCILifecycle(t *testing.T) {
	t.Parallel()
	c, logs := startServer(t)
	auth, school, room1, room2 := c.tenant("SWS")

	ci := c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "room_id": room1, "class": "printer",
		"vendor": "Hewlett-Packard", "model": "LaserJet M404dn", "serial": "CNB1R12345", "macs": []string{"3C-D9-2B-01-02-03"},
		"purchase_date": "2022-07-03", "attributes": map[string]string{"inventory.cost_centre": "4711"}})
	ciID := id(ci)
	if ci["vendor"] != "HP" || ci["school_id"].(float64) != float64(school) || ci["status"] != "in_stock" {
		t.Fatalf("created CI = %v", ci)
	}
	// A second create of the same device is refused, naming the rule.
	code, out := c.do("POST", "/api/v1/cis", map[string]any{"authority_id": auth, "class": "printer", "vendor": "HP", "serial": "cnb1r12345"})
	if code != 409 || out["error"].(map[string]any)["field"] != "serial" {
		t.Fatalf("duplicate create: %d %v", code, out)
	}

	// SNMP sees it: same CI, new attribute.
	res := c.must(200, "POST", "/api/v1/observations", map[string]any{"observations": []map[string]any{{
		"source": "snmp", "authority_id": auth, "serial": "CNB1R12345", "vendor": "HP",
		"nics": []map[string]any{{"mac": "3cd92b010203"}}, "attributes": map[string]string{"counter.pages": "1200"}}}})
	item := res["items"].([]any)[0].(map[string]any)
	if int64(item["ci_id"].(float64)) != ciID || item["outcome"] != "updated" {
		t.Fatalf("observation landed on %v", item)
	}

	// Hand edit: move it; the room is locked against the connector.
	c.must(200, "PATCH", fmt.Sprintf("/api/v1/cis/%d", ciID), map[string]any{"room_id": room2})
	c.must(200, "POST", "/api/v1/observations", map[string]any{"observations": []map[string]any{{
		"source": "connector:schulamt", "source_key": "INV-1", "authority_id": auth, "room_id": room1,
		"serial": "CNB1R12345", "vendor": "HP", "asset_tag": "SWS-000001"}}})
	got := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d", ciID), nil)
	if got["room_id"].(float64) != float64(room2) || got["asset_tag"] != "SWS-000001" {
		t.Fatalf("after connector: %v", got)
	}
	locks := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/locks", ciID), nil)
	if locks["total"].(float64) != 1 {
		t.Fatalf("locks = %v", locks)
	}
	all := c.must(200, "GET", "/api/v1/locks", nil)
	if all["total"].(float64) != 1 {
		t.Fatalf("all locks = %v", all)
	}
	prov := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/provenance", ciID), nil)["attributes"].(map[string]any)
	if p := prov["room"].(map[string]any); !p["locked"].(bool) || !strings.HasPrefix(p["source"].(string), "user:") {
		t.Fatalf("room provenance = %v", p)
	}
	if p := prov["counter.pages"].(map[string]any); p["source"] != "snmp" || p["value"] != "1200" {
		t.Fatalf("counter provenance = %v", p)
	}
	// Released, the connector may set the room again.
	c.must(204, "DELETE", fmt.Sprintf("/api/v1/cis/%d/locks/room", ciID), nil)
	c.must(404, "DELETE", fmt.Sprintf("/api/v1/cis/%d/locks/room", ciID), nil)
	c.must(200, "POST", "/api/v1/observations", map[string]any{"observations": []map[string]any{{
		"source": "connector:schulamt", "source_key": "INV-1", "authority_id": auth, "room_id": room1}}})
	if got := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d", ciID), nil); got["room_id"].(float64) != float64(room1) {
		t.Fatalf("after unlock: room %v", got["room_id"])
	}

	idents := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/identifiers", ciID), nil)
	var kinds []string
	for _, x := range idents["items"].([]any) {
		kinds = append(kinds, x.(map[string]any)["kind"].(string))
	}
	if strings.Join(kinds, ",") != "asset_tag,mac,serial,source_key" {
		t.Fatalf("identifier kinds = %v", kinds)
	}
	hist := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/history", ciID), nil)
	if hist["total"].(float64) < 10 {
		t.Fatalf("history = %v", hist)
	}

	// List filters: by school, class, room and free text over MAC and serial.
	for _, q := range []string{"school=%d", "class=printer&school=%d", "q=3c:d9:2b&school=%d", "q=cnb1r&school=%d", "q=SWS-0000&school=%d"} {
		l := c.must(200, "GET", "/api/v1/cis?"+fmt.Sprintf(q, school), nil)
		if l["total"].(float64) != 1 {
			t.Errorf("GET /cis?%s: total %v", fmt.Sprintf(q, school), l["total"])
		}
	}
	if l := c.must(200, "GET", "/api/v1/cis?class=laptop", nil); l["total"].(float64) != 0 {
		t.Errorf("class=laptop: %v", l["total"])
	}

	// Relations: the printer is connected to a switch; both CIs list it.
	sw := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "room_id": room1, "class": "switch", "vendor": "LANCOM", "serial": "LC-4711"}))
	rel := c.must(201, "POST", "/api/v1/relations", map[string]any{"from_ci_id": ciID, "to_ci_id": sw, "kind": "connected_to"})
	c.must(400, "POST", "/api/v1/relations", map[string]any{"from_ci_id": ciID, "to_ci_id": sw, "kind": "married_to"})
	if l := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/relations", sw), nil); l["total"].(float64) != 1 {
		t.Fatalf("relations of the switch: %v", l)
	}
	c.must(204, "DELETE", fmt.Sprintf("/api/v1/relations/%d", id(rel)), nil)
	if l := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/relations", ciID), nil); l["total"].(float64) != 0 {
		t.Fatalf("relations after delete: %v", l)
	}

	if strings.Contains(logs.String(), c.token) {
		t.Fatal("the API token appears in the server log")
	}
}

func TestDuplicatesAndMerge(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, school, _, _ := c.tenant("DUP")
	obs := func(o ...map[string]any) map[string]any {
		return c.must(200, "POST", "/api/v1/observations", map[string]any{"observations": o})
	}
	r := obs(
		map[string]any{"source": "connector:x", "source_key": "1", "authority_id": auth, "school_id": school, "class": "desktop",
			"serial": "CZC1234567", "vendor": "HP", "hostname": "SEK-PC"},
		map[string]any{"source": "connector:x", "source_key": "2", "authority_id": auth, "school_id": school, "class": "desktop",
			"serial": "CZC123456O", "vendor": "HP", "hostname": "SEK-PC", "nics": []map[string]any{{"mac": "00:11:22:33:44:55"}}},
		map[string]any{"source": "agent", "authority_id": auth, "school_id": school, "hostname": "sek-pc"},
	)
	items := r["items"].([]any)
	a, b := int64(items[0].(map[string]any)["ci_id"].(float64)), int64(items[1].(map[string]any)["ci_id"].(float64))
	dups := c.must(200, "GET", "/api/v1/duplicates", nil)
	if dups["total"].(float64) != 1 {
		t.Fatalf("duplicates = %v", dups)
	}
	d := dups["items"].([]any)[0].(map[string]any)
	c.must(400, "POST", fmt.Sprintf("/api/v1/duplicates/%d/merge", id(d)), map[string]any{"keep": 999999})
	c.must(200, "POST", fmt.Sprintf("/api/v1/duplicates/%d/merge", id(d)), map[string]any{"keep": a})
	c.must(409, "POST", fmt.Sprintf("/api/v1/duplicates/%d/dismiss", id(d)), nil)

	// The removed CI redirects to the kept one; its identifiers and history moved over.
	if code, out := c.do("GET", fmt.Sprintf("/api/v1/cis/%d", b), nil); code != 301 || out["location"] != fmt.Sprintf("/api/v1/cis/%d", a) {
		t.Fatalf("merged CI: %v", out)
	}
	idents := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/identifiers", a), nil)
	if !strings.Contains(fmt.Sprint(idents), "00:11:22:33:44:55") || !strings.Contains(fmt.Sprint(idents), "connector:x|2") {
		t.Fatalf("identifiers after merge: %v", idents)
	}
	hist := fmt.Sprint(c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/history", a), nil))
	if !strings.Contains(hist, fmt.Sprintf("CI %d", b)) || !strings.Contains(hist, "CZC123456O") {
		t.Fatalf("history after merge lacks the merge or the removed CI's history: %s", hist)
	}
	if l := c.must(200, "GET", fmt.Sprintf("/api/v1/cis?school=%d", school), nil); l["total"].(float64) != 1 {
		t.Fatalf("CIs after merge: %v", l["total"])
	}
	// The merged-away key now lands on the kept CI.
	r = obs(map[string]any{"source": "connector:x", "source_key": "2", "authority_id": auth, "school_id": school, "serial": "CZC123456O", "vendor": "HP"})
	if got := int64(r["items"].([]any)[0].(map[string]any)["ci_id"].(float64)); got != a {
		t.Fatalf("source key 2 landed on %d, want %d", got, a)
	}
}

// TestBadInput: every bad request answers 400 naming the field, and
// nothing is written.
func TestBadInput(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, school, room, _ := c.tenant("BAD")
	other, _, otherRoom, _ := c.tenant("OTH")
	ci := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "class": "laptop", "serial": "PF2XYZ12", "vendor": "Lenovo"}))
	long := strings.Repeat("x", 201)
	tests := []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"malformed JSON", "POST", "/api/v1/cis", `{"class": "laptop",`, "body"},
		{"unknown field", "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "class": "laptop", "colour": "red"}, "colour"},
		{"wrong type", "POST", "/api/v1/cis", `{"authority_id": "one", "class": "laptop"}`, "authority_id"},
		{"unknown class", "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "class": "toaster"}, "class"},
		{"unknown status", "PATCH", fmt.Sprintf("/api/v1/cis/%d", ci), map[string]any{"status": "broken"}, "status"},
		{"invalid MAC", "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "class": "laptop", "macs": []string{"00:11:22:33:44"}}, "macs[0]"},
		{"invalid UUID", "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "class": "laptop", "hardware_uuid": "1234"}, "hardware_uuid"},
		{"overlong serial", "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "class": "laptop", "serial": long}, "serial"},
		{"overlong name", "PATCH", fmt.Sprintf("/api/v1/cis/%d", ci), map[string]any{"name": long}, "name"},
		{"bad date", "PATCH", fmt.Sprintf("/api/v1/cis/%d", ci), map[string]any{"purchase_date": "03.07.2022"}, "purchase_date"},
		{"unknown school", "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "class": "laptop", "school_id": 987654}, "school_id"},
		{"unknown room", "PATCH", fmt.Sprintf("/api/v1/cis/%d", ci), map[string]any{"room_id": 987654}, "room_id"},
		{"CI moved to another authority", "PATCH", fmt.Sprintf("/api/v1/cis/%d", ci), map[string]any{"room_id": otherRoom}, "room_id"},
		{"CI moved to another authority by id", "PATCH", fmt.Sprintf("/api/v1/cis/%d", ci), map[string]any{"authority_id": other}, "authority_id"},
		{"school of another authority", "POST", "/api/v1/cis", map[string]any{"authority_id": other, "class": "laptop", "school_id": school}, "school_id"},
		{"bad attribute name", "PATCH", fmt.Sprintf("/api/v1/cis/%d", ci), map[string]any{"attributes": map[string]string{"Bad Name": "x"}}, "attributes.Bad Name"},
		{"batch with one bad observation", "POST", "/api/v1/observations", map[string]any{"observations": []map[string]any{
			{"source": "agent", "authority_id": auth, "class": "laptop", "serial": "GOOD0001", "vendor": "Dell"},
			{"source": "agent", "authority_id": auth, "class": "laptop", "room_id": room, "nics": []map[string]any{{"mac": "zz"}}}}}, "observations[1].nics[0].mac"},
		{"unknown source", "POST", "/api/v1/observations", map[string]any{"observations": []map[string]any{{"source": "fax", "authority_id": auth}}}, "observations[0].source"},
		{"bad query parameter", "GET", "/api/v1/cis?school=abc", nil, "school"},
		{"bad class filter", "GET", "/api/v1/cis?class=toaster", nil, "class"},
		{"bad code", "POST", "/api/v1/schools", map[string]any{"authority_id": auth, "code": "a b", "name": "X"}, "code"},
	}
	for _, tt := range tests {
		code, out := c.do(tt.method, tt.path, tt.body)
		e, _ := out["error"].(map[string]any)
		if code != 400 || e == nil || e["field"] != tt.field || e["message"] == "" {
			t.Errorf("%s: status %d, body %v; want 400 naming %q", tt.name, code, out, tt.field)
		}
	}
	// Nothing was written: one CI, with only its creation in history.
	if l := c.must(200, "GET", fmt.Sprintf("/api/v1/cis?authority=%d", auth), nil); l["total"].(float64) != 1 {
		t.Fatalf("CIs = %v, want 1", l["total"])
	}
	got := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d", ci), nil)
	if got["room_id"] != nil || got["status"] != "in_stock" {
		t.Fatalf("CI changed by bad input: %v", got)
	}
	// An existing school code is a conflict, not a 400.
	code, _ := c.do("POST", "/api/v1/schools", map[string]any{"authority_id": auth, "code": "40123", "name": "X"})
	if code != 409 {
		t.Fatalf("duplicate school code: %d", code)
	}
}

func TestDemoLoadsTwiceWithoutDuplicating(t *testing.T) {
	t.Parallel()
	url := postgrestest.NewDatabase(t)
	_, out, _ := runMain(t, "token", "create", "--admin", "--db", url)
	token := strings.TrimSpace(out)
	m1, _, logs1 := runMain(t, "demo", "--listen", "127.0.0.1:0", "--db", url)
	c := &client{t: t, base: "http://" + m1.Addr(), token: token}
	first := c.must(200, "GET", "/api/v1/cis?limit=1", nil)["total"].(float64)
	pw1 := demoPasswordIn(t, logs1.String())
	anon := &client{t: t, base: c.base}
	anon.must(200, "POST", "/auth/login", map[string]any{"email": "anna.schmidt@lk-demo.example", "password": pw1})
	dups := c.must(200, "GET", "/api/v1/duplicates", nil)["total"].(float64)
	if first < 300 || dups < 3 {
		t.Fatalf("demo: %v CIs, %v duplicates", first, dups)
	}
	m2, _, logs2 := runMain(t, "demo", "--listen", "127.0.0.1:0", "--db", url)
	c.base = "http://" + m2.Addr()
	// Each start has its own password (no CMDB_DEMO_PASSWORD here): the
	// printed one works, the last start's no longer does.
	pw2 := demoPasswordIn(t, logs2.String())
	anon.base = c.base
	if pw2 == pw1 {
		t.Fatal("two starts printed the same random demo password")
	}
	anon.must(401, "POST", "/auth/login", map[string]any{"email": "katrin.vogel@lk-demo.example", "password": pw1})
	anon.must(200, "POST", "/auth/login", map[string]any{"email": "katrin.vogel@lk-demo.example", "password": pw2})
	if again := c.must(200, "GET", "/api/v1/cis?limit=1", nil)["total"].(float64); again != first {
		t.Fatalf("second demo load: %v CIs, first %v", again, first)
	}
	if again := c.must(200, "GET", "/api/v1/duplicates", nil)["total"].(float64); again != dups {
		t.Fatalf("second demo load: %v duplicates, first %v", again, dups)
	}
	auths := c.must(200, "GET", "/api/v1/authorities", nil)
	if auths["total"].(float64) != 1 {
		t.Fatalf("authorities = %v", auths)
	}
	tree := c.must(200, "GET", fmt.Sprintf("/api/v1/authorities/%d/tree", id(auths["items"].([]any)[0].(map[string]any))), nil)
	if len(tree["schools"].([]any)) < 4 {
		t.Fatalf("tree = %v", tree)
	}
}

// demoPasswordIn finds the password cmdbd demo printed.
func demoPasswordIn(t *testing.T, out string) string {
	t.Helper()
	m := regexp.MustCompile(`signs in with the password (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("cmdbd demo printed no password:\n%.2000s", out)
	}
	return m[1]
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
