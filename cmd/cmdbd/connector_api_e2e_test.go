package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitRun polls a run until it is no longer running (bounded).
func waitRun(c *client, run int64) map[string]any {
	c.t.Helper()
	for range 600 {
		r := c.must(200, "GET", fmt.Sprintf("/api/v1/connector-runs/%d", run), nil)
		if r["status"] != "running" {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("run %d still running after 600 polls", run)
	return nil
}

// TestConnectorAPI: authority IT registers the installed csv connector
// through the API with a write-only secret, checks it, starts a dry run
// (nothing written, the plan says what would be) and a real run as
// background jobs, polls them, reads the counters and the errors, and
// cancels a large run; the secret is in no response and not in the log;
// another authority's connector is not found; a path is for admins only.
func TestConnectorAPI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	admin, logs := startServerWith(t, "--connector-dir", csvConnectorDir(t), "--import-dir", dir)
	auth, _, _, _ := admin.tenant("API")
	other, _, _, _ := admin.tenant("AND")
	tok := admin.must(201, "POST", "/api/v1/tokens", map[string]any{"name": "Inventar", "role": "authority_it", "org_id": auth, "integration": true})
	c := &client{t: t, base: admin.base, token: tok["token"].(string)}
	const secret, secret2 = "streng-geheim-4711", "noch-geheimer-0815"
	file := filepath.Join(dir, "inventar.csv")
	if err := os.WriteFile(file, []byte("Seriennummer;Gerätetyp;Hersteller;Schulnummer;Status\r\n"+
		"SN1;Beamer;Epson;40123;in Betrieb\r\nSN2;Laptop;Dell;40123;ausgesondert\r\nSN3;Laptop;Dell;NIX;Lager\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noSecret := func(what string, v any) {
		t.Helper()
		b, _ := json.Marshal(v)
		if strings.Contains(string(b), secret) || strings.Contains(string(b), secret2) {
			t.Fatalf("%s carries a secret: %s", what, b)
		}
	}

	// A path is for admins only; a plugin that is not installed is named.
	code, out := c.do("POST", fmt.Sprintf("/api/v1/authorities/%d/connectors", auth), map[string]any{"name": "x", "binary_path": "/bin/sh"})
	if code != 403 {
		t.Fatalf("binary_path by authority IT: %d %v", code, out)
	}
	code, out = c.do("POST", fmt.Sprintf("/api/v1/authorities/%d/connectors", auth), map[string]any{"name": "x", "plugin": "fehlt"})
	if code != 400 || !strings.Contains(fmt.Sprint(out), "plugin") {
		t.Fatalf("missing plugin: %d %v", code, out)
	}
	// The file a connector reads lies in the import directory: authority
	// IT cannot have the server read its own files.
	for _, p := range []string{"/etc/passwd", filepath.Join(dir, "..", "x.csv"), "inventar.csv"} {
		code, out = c.do("POST", fmt.Sprintf("/api/v1/authorities/%d/connectors", auth), map[string]any{"name": "x", "plugin": "csv",
			"settings": map[string]any{"path": p}})
		if code != 400 || !strings.Contains(fmt.Sprint(out), "settings.path") {
			t.Fatalf("path %s outside the import directory: %d %v", p, code, out)
		}
	}
	code, _ = c.do("POST", fmt.Sprintf("/api/v1/authorities/%d/connectors", other), map[string]any{"name": "x", "plugin": "csv"})
	if code != 404 {
		t.Fatalf("connector of another authority: %d", code)
	}

	inst := c.must(201, "POST", fmt.Sprintf("/api/v1/authorities/%d/connectors", auth), map[string]any{"name": "inventar", "plugin": "csv",
		"settings": map[string]any{"path": file}, "secrets": map[string]string{"token": secret},
		"mapping": map[string]any{"classes": map[string]string{"Beamer": "projector"}}, "delete_policy": "retire"})
	noSecret("create", inst)
	if inst["plugin"] != "csv" || fmt.Sprint(inst["secret_names"]) != "[token]" || len(fmt.Sprint(inst["binary_sha256"])) != 64 {
		t.Fatalf("created connector = %v", inst)
	}
	cid := id(inst)
	p := fmt.Sprintf("/api/v1/connectors/%d", cid)
	// The csv connector cannot write back: push is refused, on create and
	// on change, naming the field and the rule.
	if inst["push"] != false {
		t.Fatalf("push of a new connector = %v, want false", inst["push"])
	}
	code, out = c.do("POST", fmt.Sprintf("/api/v1/authorities/%d/connectors", auth), map[string]any{"name": "zurueck", "plugin": "csv",
		"settings": map[string]any{"path": file}, "push": true})
	if code != 400 || !strings.Contains(fmt.Sprint(out), "push") || !strings.Contains(fmt.Sprint(out), "the connector csv cannot write back") {
		t.Fatalf("push for csv on create: %d %v", code, out)
	}
	code, out = c.do("PATCH", p, map[string]any{"push": true})
	if code != 400 || !strings.Contains(fmt.Sprint(out), "push") || !strings.Contains(fmt.Sprint(out), "the connector csv cannot write back") {
		t.Fatalf("push for csv on change: %d %v", code, out)
	}
	upd := c.must(200, "PATCH", p, map[string]any{"secrets": map[string]string{"password": secret2}, "schedule": "0 2 * * *"})
	noSecret("patch", upd)
	if fmt.Sprint(upd["secret_names"]) != "[password token]" || upd["schedule"] != "0 2 * * *" {
		t.Fatalf("patched connector = %v", upd)
	}
	noSecret("get", c.must(200, "GET", p, nil))
	noSecret("list", c.must(200, "GET", fmt.Sprintf("/api/v1/authorities/%d/connectors", auth), nil))
	if code, _ := admin.do("PATCH", p, map[string]any{"binary_sha256": strings.Repeat("0", 64)}); code != 400 {
		t.Fatalf("a pin set by hand: %d, want 400", code)
	}
	// Another authority's IT does not see it.
	tok2 := admin.must(201, "POST", "/api/v1/tokens", map[string]any{"name": "Fremd", "role": "authority_it", "org_id": other, "integration": true})
	stranger := &client{t: t, base: admin.base, token: tok2["token"].(string)}
	for _, rq := range [][2]string{{"GET", p}, {"POST", p + "/check"}, {"POST", p + "/runs"}, {"GET", p + "/runs"}, {"DELETE", p}} {
		if code, _ := stranger.do(rq[0], rq[1], nil); code != 404 {
			t.Errorf("%s %s by another authority: %d, want 404", rq[0], rq[1], code)
		}
	}

	chk := c.must(200, "POST", p+"/check", nil)
	if chk["ok"] != true || chk["message"] == "" {
		t.Fatalf("check = %v", chk)
	}

	// Dry run: started at once, done in the background, nothing written.
	dry := c.must(202, "POST", p+"/runs", map[string]any{"dry_run": true})
	if dry["status"] != "running" || dry["dry_run"] != true {
		t.Fatalf("started dry run = %v", dry)
	}
	dr := waitRun(c, id(dry))
	plan, _ := dr["plan"].(map[string]any)
	if dr["status"] != "succeeded" || dr["progress"] != 100.0 || plan == nil || len(asSlice(plan["creates"])) != 2 {
		t.Fatalf("dry run = %v", dr)
	}
	if n := c.must(200, "GET", fmt.Sprintf("/api/v1/cis?authority=%d", auth), nil)["total"]; n != 0.0 {
		t.Fatalf("the dry run wrote %v CIs", n)
	}

	real := c.must(202, "POST", p+"/runs", map[string]any{})
	rr := waitRun(c, id(real))
	for k, want := range map[string]float64{"seen": 3, "created": 2, "updated": 0, "unchanged": 0, "retired": 0, "conflicts": 0, "errors": 1} {
		if rr[k] != want {
			t.Errorf("run %s = %v, want %v", k, rr[k], want)
		}
	}
	errs := asSlice(rr["error_list"])
	if len(errs) != 1 {
		t.Fatalf("run errors = %v", rr["error_list"])
	}
	e := errs[0].(map[string]any)
	if e["origin"] == "" || e["field"] == "" || e["rule"] == "" {
		t.Errorf("run error names no origin, field or rule: %v", e)
	}
	if rr["status"] != "succeeded" || rr["peak_memory_bytes"].(float64) <= 0 {
		t.Errorf("run = %v", rr)
	}
	runs := asSlice(c.must(200, "GET", p+"/runs", nil)["items"])
	if len(runs) != 2 || id(runs[0].(map[string]any)) != id(real) || id(runs[1].(map[string]any)) != id(dry) {
		t.Fatalf("runs are not newest first: %v", runs)
	}
	if code, _ := c.do("POST", fmt.Sprintf("/api/v1/connector-runs/%d/cancel", id(real)), nil); code != 409 {
		t.Errorf("cancel of a finished run: %d, want 409", code)
	}

	// Cancel: a large file, cancelled as soon as it started.
	big := filepath.Join(dir, "gross.csv")
	var b strings.Builder
	b.WriteString("Seriennummer;Gerätetyp;Hersteller;Schulnummer\r\n")
	for i := range 60000 {
		fmt.Fprintf(&b, "GR%06d;Laptop;Dell;40123\r\n", i)
	}
	if err := os.WriteFile(big, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	bi := c.must(201, "POST", fmt.Sprintf("/api/v1/authorities/%d/connectors", auth), map[string]any{"name": "gross", "plugin": "csv",
		"settings": map[string]any{"path": big}})
	started := c.must(202, "POST", fmt.Sprintf("/api/v1/connectors/%d/runs", id(bi)), nil)
	if code, _ := c.do("POST", fmt.Sprintf("/api/v1/connectors/%d/runs", id(bi)), nil); code != 409 {
		t.Errorf("a second run while one runs: %d, want 409", code)
	}
	cr := c.must(202, "POST", fmt.Sprintf("/api/v1/connector-runs/%d/cancel", id(started)), nil)
	if cr["cancel_requested"] != true {
		t.Fatalf("cancelled run = %v", cr)
	}
	if done := waitRun(c, id(started)); done["status"] != "cancelled" || done["created"].(float64) >= 60000 {
		t.Fatalf("cancelled run ended %v after %v created", done["status"], done["created"])
	}

	// A connector that sends nothing (its file a FIFO nobody writes) is
	// stopped by a cancel too, long before its stall deadline.
	fifo := filepath.Join(dir, "haengt.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	hc := c.must(201, "POST", fmt.Sprintf("/api/v1/authorities/%d/connectors", auth), map[string]any{"name": "haengt", "plugin": "csv",
		"settings": map[string]any{"path": fifo}})
	hr := c.must(202, "POST", fmt.Sprintf("/api/v1/connectors/%d/runs", id(hc)), nil)
	c.must(202, "POST", fmt.Sprintf("/api/v1/connector-runs/%d/cancel", id(hr)), nil)
	if done := waitRun(c, id(hr)); done["status"] != "cancelled" {
		t.Fatalf("cancelled hanging run ended %v: %v", done["status"], done["failure"])
	}

	c.must(204, "DELETE", p, nil)
	c.must(404, "GET", p, nil)
	if l := logs.String(); strings.Contains(l, secret) || strings.Contains(l, secret2) {
		t.Fatal("a connector secret is in the server log")
	}
}

// TestConnectorAPIPush: push is turned on for a connector that can write
// back (the real snipeit connector, registered by an admin by its path):
// on create and by PATCH, which asks the pinned executable; get and list
// show it.
func TestConnectorAPIPush(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "cmdb-connector-snipeit")
	if b, err := exec.Command("go", "build", "-o", bin, "../cmdb-connector-snipeit").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	admin, _ := startServerWith(t)
	auth, _, _, _ := admin.tenant("PSH")
	list := fmt.Sprintf("/api/v1/authorities/%d/connectors", auth)
	on := admin.must(201, "POST", list, map[string]any{"name": "snipe", "binary_path": bin, "push": true,
		"settings": map[string]any{"base_url": "https://inventar.example.org"}})
	if on["plugin"] != "snipeit" || on["push"] != true {
		t.Fatalf("created with push = %v", on)
	}
	off := admin.must(201, "POST", list, map[string]any{"name": "snipe2", "binary_path": bin,
		"settings": map[string]any{"base_url": "https://inventar.example.org"}})
	p := fmt.Sprintf("/api/v1/connectors/%d", id(off))
	if got := admin.must(200, "PATCH", p, map[string]any{"push": true}); got["push"] != true {
		t.Fatalf("patched push = %v", got)
	}
	if got := admin.must(200, "GET", p, nil); got["push"] != true {
		t.Fatalf("get after patch = %v", got)
	}
	if got := admin.must(200, "PATCH", p, map[string]any{"push": false}); got["push"] != false {
		t.Fatalf("push turned off = %v", got)
	}
	items := admin.must(200, "GET", list, nil)["items"].([]any)
	if len(items) != 2 || items[0].(map[string]any)["push"] != true || items[1].(map[string]any)["push"] != false {
		t.Fatalf("list = %v", items)
	}
}
