package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// errOf returns the error object of an answer, or nil.
func errOf(out map[string]any) map[string]any { e, _ := out["error"].(map[string]any); return e }

// TestUnknownReferences: an id that names nothing answers the same way
// on every route: 404 when it is in the path, 400 naming the field when
// it is in the body, and always the message "No such <thing>: <id>.".
func TestUnknownReferences(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, school, room, _ := c.tenant("REF")
	ci := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "room_id": room, "class": "printer",
		"vendor": "HP", "serial": "REF-1"}))
	ci2 := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "school_id": school, "class": "laptop",
		"vendor": "Lenovo", "serial": "REF-2"}))
	prov := id(c.must(201, "POST", "/api/v1/providers", map[string]any{"code": "IT-REF", "name": "Systemhaus", "authority_ids": []int64{auth}}))
	const n = 999999
	p := func(format string, a ...any) string { return fmt.Sprintf(format, a...) }
	tests := []struct {
		method, path string
		body         any
		status       int
		field, what  string // what is named in "No such <what>: 999999."
	}{
		// In the path: 404.
		{"GET", p("/api/v1/cis/%d", n), nil, 404, "", "CI"},
		{"PATCH", p("/api/v1/cis/%d", n), map[string]any{"name": "x"}, 404, "", "CI"},
		{"GET", p("/api/v1/cis/%d/identifiers", n), nil, 404, "", "CI"},
		{"GET", p("/api/v1/cis/%d/provenance", n), nil, 404, "", "CI"},
		{"GET", p("/api/v1/cis/%d/locks", n), nil, 404, "", "CI"},
		{"DELETE", p("/api/v1/cis/%d/locks/owner", n), nil, 404, "", "CI"},
		{"GET", p("/api/v1/cis/%d/history", n), nil, 404, "", "CI"},
		{"GET", p("/api/v1/cis/%d/relations", n), nil, 404, "", "CI"},
		{"GET", p("/api/v1/cis/%d/software", n), nil, 404, "", "CI"},
		{"GET", p("/api/v1/cis/%d/metrics?name=counter.pages", n), nil, 404, "", "CI"},
		{"GET", p("/api/v1/cis/%d/health-events", n), nil, 404, "", "CI"},
		{"POST", p("/api/v1/cis/%d/merge", n), map[string]any{"other": ci2}, 404, "", "CI"},
		{"GET", p("/api/v1/authorities/%d", n), nil, 404, "", "authority"},
		{"GET", p("/api/v1/authorities/%d/tree", n), nil, 404, "", "authority"},
		{"GET", p("/api/v1/authorities/%d/oidc", n), nil, 404, "", "authority"},
		{"GET", p("/api/v1/schools/%d", n), nil, 404, "", "school"},
		{"PATCH", p("/api/v1/schools/%d", n), map[string]any{"name": "x"}, 404, "", "school"},
		{"DELETE", p("/api/v1/schools/%d", n), nil, 404, "", "school"},
		{"GET", p("/api/v1/buildings/%d", n), nil, 404, "", "building"},
		{"PATCH", p("/api/v1/buildings/%d", n), map[string]any{"name": "x"}, 404, "", "building"},
		{"DELETE", p("/api/v1/buildings/%d", n), nil, 404, "", "building"},
		{"GET", p("/api/v1/rooms/%d", n), nil, 404, "", "room"},
		{"PATCH", p("/api/v1/rooms/%d", n), map[string]any{"name": "x"}, 404, "", "room"},
		{"DELETE", p("/api/v1/rooms/%d", n), nil, 404, "", "room"},
		{"POST", p("/api/v1/providers/%d/contracts", n), map[string]any{"authority_id": auth}, 404, "", "provider"},
		{"DELETE", p("/api/v1/relations/%d", n), nil, 404, "", "relation"},
		{"POST", p("/api/v1/duplicates/%d/merge", n), map[string]any{"keep": ci}, 404, "", "duplicate candidate"},
		{"POST", p("/api/v1/duplicates/%d/dismiss", n), nil, 404, "", "duplicate candidate"},
		{"GET", p("/api/v1/users/%d", n), nil, 404, "", "user"},
		{"DELETE", p("/api/v1/tokens/%d", n), nil, 404, "", "token"},
		{"DELETE", p("/api/v1/memberships/%d", n), nil, 404, "", "membership"},
		{"DELETE", p("/api/v1/enrolment-tokens/%d", n), nil, 404, "", "enrolment token"},
		// In the body: 400 naming the field.
		{"PATCH", p("/api/v1/cis/%d", ci), map[string]any{"room_id": n}, 400, "room_id", "room"},
		{"PATCH", p("/api/v1/cis/%d", ci), map[string]any{"school_id": n}, 400, "school_id", "school"},
		{"POST", "/api/v1/cis", map[string]any{"authority_id": n, "class": "laptop"}, 400, "authority_id", "authority"},
		{"POST", "/api/v1/cis", map[string]any{"authority_id": auth, "room_id": n, "class": "laptop"}, 400, "room_id", "room"},
		{"POST", "/api/v1/schools", map[string]any{"authority_id": n, "code": "X1", "name": "X"}, 400, "authority_id", "authority"},
		{"POST", "/api/v1/buildings", map[string]any{"school_id": n, "code": "X1", "name": "X"}, 400, "school_id", "school"},
		{"POST", "/api/v1/rooms", map[string]any{"building_id": n, "code": "X1", "name": "X"}, 400, "building_id", "building"},
		{"POST", "/api/v1/relations", map[string]any{"from_ci_id": n, "to_ci_id": ci, "kind": "connected_to"}, 400, "from_ci_id", "CI"},
		{"POST", "/api/v1/relations", map[string]any{"from_ci_id": ci, "to_ci_id": n, "kind": "connected_to"}, 400, "to_ci_id", "CI"},
		{"POST", p("/api/v1/cis/%d/merge", ci), map[string]any{"other": n}, 400, "other", "CI"},
		{"POST", p("/api/v1/providers/%d/contracts", prov), map[string]any{"authority_id": n}, 400, "authority_id", "authority"},
		{"POST", "/api/v1/enrolment-tokens", map[string]any{"school_id": n, "name": "X"}, 400, "school_id", "school"},
		{"POST", "/api/v1/snmp-targets", map[string]any{"school_id": n, "address": "drucker.example:161", "kind": "snmp"}, 400, "school_id", "school"},
		{"POST", "/api/v1/snmp-ranges", map[string]any{"school_id": n, "cidr": "10.9.9.0/24"}, 400, "school_id", "school"},
		{"GET", p("/api/v1/schools/%d/snmp-credentials", n), nil, 404, "", "school"},
		{"POST", p("/api/v1/schools/%d/snmp-credentials", n), map[string]any{"name": "X", "version": "2c", "community": "c"}, 404, "", "school"},
		{"DELETE", p("/api/v1/snmp-credentials/%d", n), nil, 404, "", "SNMP credential profile"},
		{"DELETE", p("/api/v1/snmp-targets/%d", n), nil, 404, "", "SNMP target"},
		{"DELETE", p("/api/v1/snmp-ranges/%d", n), nil, 404, "", "SNMP range"},
		{"PUT", p("/api/v1/authorities/%d/oidc", n), map[string]any{"issuer": "https://login.example", "client_id": "c", "client_secret": "s"}, 404, "", "authority"},
		{"POST", p("/api/v1/users/%d/memberships", n), map[string]any{"role": "teacher", "org_id": school}, 404, "", "user"},
		{"PUT", p("/api/v1/users/%d/password", n), map[string]any{"password": "Ganz-Anderes-Geheimnis-0815"}, 404, "", "user"},
	}
	for _, tt := range tests {
		code, out := c.do(tt.method, tt.path, tt.body)
		e := errOf(out)
		want := fmt.Sprintf("No such %s: %d.", tt.what, n)
		if code != tt.status || e == nil || e["message"] != want || fmt.Sprint(cmpOr(e["field"], "")) != tt.field {
			t.Errorf("%s %s %v: status %d, body %v; want %d, field %q, message %q", tt.method, tt.path, tt.body, code, out, tt.status, tt.field, want)
		}
	}
	// Nothing was changed by the refused edits.
	got := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d", ci), nil)
	if int64(got["room_id"].(float64)) != room {
		t.Fatalf("CI changed by a refused edit: %v", got)
	}
}

// TestCISearch: q finds CIs by a part of a MAC address written in any
// usual notation, and by vendor and model; vendor= and model= filter.
func TestCISearch(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, school, _, _ := c.tenant("SRCH")
	printer := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "school_id": school, "class": "printer",
		"vendor": "HP", "model": "LaserJet M404dn", "serial": "CNB1R12345", "macs": []string{"3c:d9:2b:01:02:03"}}))
	beamer := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "school_id": school, "class": "projector",
		"vendor": "Epson", "model": "EB-685W", "serial": "X7K2M9Q4", "macs": []string{"a4:ee:57:10:20:30"}}))
	laptop := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "school_id": school, "class": "laptop",
		"vendor": "Lenovo", "model": "ThinkPad L14", "serial": "PF2ABCDE", "macs": []string{"00:1b:21:3c:d9:2c"}}))
	// Another authority's printer of the same vendor is never found.
	other, _, _, _ := c.tenant("SRCH2")
	c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": other, "class": "printer", "vendor": "HP", "model": "LaserJet M404dn",
		"serial": "CNB1R99999", "macs": []string{"3c:d9:2b:09:09:09"}})
	tests := []struct {
		query string
		want  []int64
	}{
		{"q=3c-d9-2b", []int64{printer}},
		{"q=3CD92B", []int64{printer}},
		{"q=3c.d9.2b", []int64{printer}},
		{"q=3c:d9:2b", []int64{printer}},
		{"q=3cd9.2b01", []int64{printer}},
		{"q=3c:d9:2", []int64{printer, laptop}}, // 3c:d9:2b… and …:3c:d9:2c
		{"q=3c-D9-2b-01-02-03", []int64{printer}},
		{"q=10:20:30", []int64{beamer}},
		{"q=epson", []int64{beamer}},
		{"q=laserjet", []int64{printer}},
		{"q=thinkpad%20l14", []int64{laptop}},
		{"vendor=hp", []int64{printer}},
		{"vendor=Lenovo", []int64{laptop}},
		{"vendor=Len", nil}, // vendor= is the whole vendor, not a part
		{"model=eb-685w", []int64{beamer}},
		{"vendor=HP&model=EB-685W", nil},
		{"q=zz:zz", nil},
	}
	for _, tt := range tests {
		l := c.must(200, "GET", fmt.Sprintf("/api/v1/cis?authority=%d&%s", auth, tt.query), nil)
		var got []int64
		for _, it := range asSlice(l["items"]) {
			got = append(got, id(it.(map[string]any)))
		}
		if fmt.Sprint(sortedIDs(got)) != fmt.Sprint(sortedIDs(tt.want)) || int(l["total"].(float64)) != len(tt.want) {
			t.Errorf("%s: found %v (total %v), want %v", tt.query, got, l["total"], tt.want)
		}
	}
	// Without the authority filter, the other tenant's HP is found by the admin: the filter is not a no-op.
	if l := c.must(200, "GET", "/api/v1/cis?q=3c-d9-2b", nil); l["total"].(float64) != 2 {
		t.Errorf("q=3c-d9-2b across authorities: total %v, want 2", l["total"])
	}
}

func sortedIDs(v []int64) []int64 {
	out := append([]int64{}, v...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// rawGet performs a request and returns status, content type and body.
func (c *client) raw(method, path, token string) (int, string, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// TestEveryAPIAnswerIsJSON: a merged CI's old id, unknown API paths and
// wrong methods answer JSON, never Go's text or HTML.
func TestEveryAPIAnswerIsJSON(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, school, _, _ := c.tenant("JSON")
	keep := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "school_id": school, "class": "laptop", "vendor": "Dell", "serial": "J-1"}))
	gone := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "school_id": school, "class": "laptop", "vendor": "Dell", "serial": "J-2"}))
	c.must(200, "POST", fmt.Sprintf("/api/v1/cis/%d/merge", keep), map[string]any{"other": gone})

	code, out := c.do("GET", fmt.Sprintf("/api/v1/cis/%d", gone), nil)
	if code != http.StatusMovedPermanently || out["_raw"] != nil || int64(out["merged_into"].(float64)) != keep ||
		out["location"] != fmt.Sprintf("/api/v1/cis/%d", keep) || int64(out["id"].(float64)) != gone {
		t.Errorf("merged CI %d: %d %v; want 301 with id, merged_into %d and location", gone, code, out, keep)
	}

	tests := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/api/v1/nothing-here", 404, "not_found"},
		{"GET", "/api/v1/cis/1/nothing", 404, "not_found"},
		{"GET", "/api/v2/cis", 404, "not_found"},
		{"DELETE", "/api/v1/cis", 405, "method_not_allowed"},
		{"PUT", fmt.Sprintf("/api/v1/cis/%d", keep), 405, "method_not_allowed"},
		{"POST", "/api/v1/audit", 405, "method_not_allowed"},
		{"DELETE", "/api/v1/schools", 405, "method_not_allowed"},
		{"POST", "/healthz", 405, "method_not_allowed"},
		{"GET", "/auth/nothing", 404, "not_found"},
		{"GET", "/auth/login", 405, "method_not_allowed"},
	}
	for _, tt := range tests {
		for _, tok := range []string{c.token, ""} {
			status, ctype, body := c.raw(tt.method, tt.path, tok)
			if status != tt.status || !strings.HasPrefix(ctype, "application/json") || !strings.Contains(body, `"code":"`+tt.code+`"`) {
				t.Errorf("%s %s (token %v): %d %q %q; want %d JSON with code %s", tt.method, tt.path, tok != "", status, ctype, body, tt.status, tt.code)
			}
		}
	}
}

// TestTenantRenameAndDelete: schools, buildings and rooms are renamed and
// deleted; a delete is refused (409, saying why) while devices or child
// buildings and rooms are in it.
func TestTenantRenameAndDelete(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, school, room1, room2 := c.tenant("REN")
	building := int64(c.must(200, "GET", fmt.Sprintf("/api/v1/rooms/%d", room1), nil)["building_id"].(float64))
	ci := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "room_id": room1, "class": "printer", "vendor": "HP", "serial": "REN-1"}))

	// Rename.
	if s := c.must(200, "PATCH", fmt.Sprintf("/api/v1/schools/%d", school), map[string]any{"name": "Gymnasium am Park"}); s["name"] != "Gymnasium am Park" || s["code"] != "40123" {
		t.Errorf("renamed school: %v", s)
	}
	if b := c.must(200, "PATCH", fmt.Sprintf("/api/v1/buildings/%d", building), map[string]any{"name": "Altbau", "code": "ALT"}); b["name"] != "Altbau" || b["code"] != "ALT" {
		t.Errorf("renamed building: %v", b)
	}
	if r := c.must(200, "PATCH", fmt.Sprintf("/api/v1/rooms/%d", room2), map[string]any{"name": "Lehrerzimmer Nord"}); r["name"] != "Lehrerzimmer Nord" || r["code"] != "LZ" {
		t.Errorf("renamed room: %v", r)
	}
	if got := c.must(200, "GET", fmt.Sprintf("/api/v1/schools/%d", school), nil); got["name"] != "Gymnasium am Park" {
		t.Errorf("school after rename: %v", got)
	}
	for _, tt := range []struct {
		path  string
		body  any
		code  int
		field string
	}{
		{fmt.Sprintf("/api/v1/rooms/%d", room2), map[string]any{"code": "1.12"}, 409, "code"}, // room1's code in the same building
		{fmt.Sprintf("/api/v1/rooms/%d", room2), map[string]any{"name": strings.Repeat("x", 201)}, 400, "name"},
		{fmt.Sprintf("/api/v1/schools/%d", school), map[string]any{"code": "a b"}, 400, "code"},
		{fmt.Sprintf("/api/v1/schools/%d", school), map[string]any{}, 400, "body"},
		{fmt.Sprintf("/api/v1/buildings/%d", building), map[string]any{"school_id": 1}, 400, "school_id"},
	} {
		code, out := c.do("PATCH", tt.path, tt.body)
		if e := errOf(out); code != tt.code || e == nil || e["field"] != tt.field {
			t.Errorf("PATCH %s %v: %d %v; want %d on %s", tt.path, tt.body, code, out, tt.code, tt.field)
		}
	}

	// Delete is refused while something is in it.
	refused := []struct{ path, says string }{
		{fmt.Sprintf("/api/v1/rooms/%d", room1), "1 CI"},
		{fmt.Sprintf("/api/v1/buildings/%d", building), "2 rooms"},
		{fmt.Sprintf("/api/v1/schools/%d", school), "1 building"},
	}
	for _, tt := range refused {
		code, out := c.do("DELETE", tt.path, nil)
		if e := errOf(out); code != 409 || e == nil || !strings.Contains(fmt.Sprint(e["message"]), tt.says) {
			t.Errorf("DELETE %s: %d %v; want 409 saying %q", tt.path, code, out, tt.says)
		}
	}
	// An empty room goes; then, with the CI moved out, the rest.
	c.must(204, "DELETE", fmt.Sprintf("/api/v1/rooms/%d", room2), nil)
	c.must(404, "GET", fmt.Sprintf("/api/v1/rooms/%d", room2), nil)
	// A CI directly in the school (no room) keeps the school.
	c.must(200, "PATCH", fmt.Sprintf("/api/v1/cis/%d", ci), map[string]any{"school_id": school, "clear": []string{"room"}})
	c.must(204, "DELETE", fmt.Sprintf("/api/v1/rooms/%d", room1), nil)
	c.must(204, "DELETE", fmt.Sprintf("/api/v1/buildings/%d", building), nil)
	code, out := c.do("DELETE", fmt.Sprintf("/api/v1/schools/%d", school), nil)
	if e := errOf(out); code != 409 || e == nil || !strings.Contains(fmt.Sprint(e["message"]), "1 CI") {
		t.Errorf("DELETE school with a CI: %d %v; want 409", code, out)
	}
	c.must(200, "PATCH", fmt.Sprintf("/api/v1/cis/%d", ci), map[string]any{"clear": []string{"school"}})
	c.must(204, "DELETE", fmt.Sprintf("/api/v1/schools/%d", school), nil)
	c.must(404, "GET", fmt.Sprintf("/api/v1/schools/%d", school), nil)
	// The deletions are in the audit log.
	a := c.must(200, "GET", fmt.Sprintf("/api/v1/audit?authority=%d&action=org_deleted", auth), nil)
	var targets []string
	for _, it := range asSlice(a["items"]) {
		targets = append(targets, fmt.Sprint(it.(map[string]any)["target"]))
	}
	want := fmt.Sprintf("[school:%d building:%d room:%d room:%d]", school, building, room1, room2)
	if fmt.Sprint(targets) != want || a["total"].(float64) != 4 {
		t.Errorf("audit of the deletions: %v, want %s", targets, want)
	}
}

// TestOIDCSettingsReadable: GET …/oidc shows the settings, never the
// client secret, and 404 before any are set.
func TestOIDCSettingsReadable(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, school, _, _ := c.tenant("SSO")
	path := fmt.Sprintf("/api/v1/authorities/%d/oidc", auth)
	code, out := c.do("GET", path, nil)
	if e := errOf(out); code != 404 || e == nil {
		t.Fatalf("GET oidc before any is set: %d %v", code, out)
	}
	c.must(200, "PUT", path, map[string]any{"issuer": "https://login.sso.example", "client_id": "cmdb",
		"client_secret": "sehr-geheimes-oidc-secret", "scopes": []string{"openid", "email"},
		"rules": []map[string]any{{"claim": "groups", "value": "schul-it", "role": "school_it", "org_id": school}}})
	status, ctype, body := c.raw("GET", path, c.token)
	if status != 200 || !strings.HasPrefix(ctype, "application/json") || strings.Contains(body, "sehr-geheimes") {
		t.Fatalf("GET oidc: %d %q %s", status, ctype, body)
	}
	got := c.must(200, "GET", path, nil)
	if got["issuer"] != "https://login.sso.example" || got["client_id"] != "cmdb" || got["client_secret_set"] != true ||
		len(asSlice(got["rules"])) != 1 || int64(got["authority_id"].(float64)) != auth {
		t.Fatalf("GET oidc: %v", got)
	}
	if _, ok := got["client_secret"]; ok {
		t.Errorf("GET oidc carries client_secret: %v", got)
	}
}

// TestAuditTotal: total counts every matching entry, not the page.
func TestAuditTotal(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, school, _, _ := c.tenant("AUD")
	for i := 0; i < 5; i++ {
		c.must(201, "POST", "/api/v1/tokens", map[string]any{"name": fmt.Sprintf("T%d", i), "role": "teacher", "org_id": school, "integration": true})
	}
	l := c.must(200, "GET", fmt.Sprintf("/api/v1/audit?authority=%d&action=token_created&limit=2", auth), nil)
	if len(asSlice(l["items"])) != 2 || l["total"].(float64) != 5 {
		t.Fatalf("audit page: %d items, total %v; want 2 of 5", len(asSlice(l["items"])), l["total"])
	}
	l = c.must(200, "GET", fmt.Sprintf("/api/v1/audit?authority=%d&action=no.such.action", auth), nil)
	if len(asSlice(l["items"])) != 0 || l["total"].(float64) != 0 {
		t.Fatalf("audit of no action: %v", l)
	}
}

// TestOpenAPIIsServed: the description is served without signing in and
// is the embedded file.
func TestOpenAPIIsServed(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	status, ctype, body := c.raw("GET", "/api/v1/openapi.yaml", "")
	if status != 200 || !strings.Contains(ctype, "yaml") || !strings.HasPrefix(body, "openapi: 3.") || !strings.Contains(body, "/api/v1/openapi.yaml:") {
		t.Fatalf("GET /api/v1/openapi.yaml: %d %q %.80q", status, ctype, body)
	}
}
