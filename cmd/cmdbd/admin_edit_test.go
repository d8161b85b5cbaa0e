package main

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestUpdateUserAPI: PATCH /api/v1/users/{id} renames a user and gives
// them a new address for whoever may create them; bad values answer 400
// naming the field, a taken address 409 on email, and nothing is
// changed then; school IT and another authority's IT do not find the
// user; the change is in the audit log.
func TestUpdateUserAPI(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, school, _, _ := c.tenant("UPD")
	otherAuth, _, _, _ := c.tenant("UPX")
	it := c.as("authority_it", auth)
	teacher := id(c.must(201, "POST", "/api/v1/users", map[string]any{"email": "lehrer@upd.example", "name": "Lea",
		"memberships": []map[string]any{{"role": "teacher", "org_id": school}}}))
	c.must(201, "POST", "/api/v1/users", map[string]any{"email": "kollegin@upd.example", "name": "Karla",
		"memberships": []map[string]any{{"role": "teacher", "org_id": school}}})
	path := fmt.Sprintf("/api/v1/users/%d", teacher)

	u := it.must(200, "PATCH", path, map[string]any{"name": " Lea Lehrerin ", "email": "L.Lehrerin@UPD.example"})
	if u["name"] != "Lea Lehrerin" || u["email"] != "l.lehrerin@upd.example" {
		t.Fatalf("after PATCH: %v", u)
	}
	if u := it.must(200, "PATCH", path, map[string]any{"name": "Lea Lehrerin-Berg", "email": nil}); u["email"] != "l.lehrerin@upd.example" {
		t.Errorf("a null email changed the address: %v", u)
	}
	for name, tc := range map[string]struct {
		body  map[string]any
		code  int
		field string
	}{
		"empty name":    {map[string]any{"name": ""}, 400, "name"},
		"bad address":   {map[string]any{"email": "lea"}, 400, "email"},
		"taken address": {map[string]any{"name": "Nicht gespeichert", "email": "Kollegin@upd.example"}, 409, "email"},
		"wrong type":    {map[string]any{"name": 42}, 400, "name"},
		"unknown field": {map[string]any{"phone": "0800"}, 400, "phone"},
	} {
		if code, out := it.do("PATCH", path, tc.body); code != tc.code || errOf(out)["field"] != tc.field {
			t.Errorf("%s: %d %v, want %d on %s", name, code, out, tc.code, tc.field)
		}
	}
	if u := c.must(200, "GET", path, nil); u["name"] != "Lea Lehrerin-Berg" || u["email"] != "l.lehrerin@upd.example" {
		t.Errorf("a refused PATCH changed the user: %v", u)
	}
	for name, cl := range map[string]*client{"school IT": c.as("school_it", school), "other authority IT": c.as("authority_it", otherAuth)} {
		if code, out := cl.do("PATCH", path, map[string]any{"name": "Umbenannt"}); code != 404 {
			t.Errorf("%s: %d %v, want 404", name, code, out)
		}
	}
	ev := c.must(200, "GET", fmt.Sprintf("/api/v1/audit?authority=%d&action=user_updated", auth), nil)
	if n := ev["total"].(float64); n != 2 {
		t.Errorf("%v user_updated events, want 2: %v", n, ev)
	}
}

// TestPatternRuleAPI: an authority's model-pattern rule is the default
// until set; PUT validates naming the field (nothing stored then) and
// answers what is stored; another authority's IT neither reads nor sets
// it.
func TestPatternRuleAPI(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, _, _, _ := c.tenant("PAT")
	otherAuth, _, _, _ := c.tenant("PAX")
	it := c.as("authority_it", auth)
	path := fmt.Sprintf("/api/v1/authorities/%d/pattern-rule", auth)
	if r := it.must(200, "GET", path, nil); r["alpha"] != 0.01 || r["min_incidents"] != 5.0 || r["min_devices"] != 3.0 {
		t.Fatalf("default rule: %v", r)
	}
	for name, tc := range map[string]struct {
		body  map[string]any
		field string
	}{
		"alpha too big":     {map[string]any{"alpha": 0.7, "min_incidents": 4, "min_devices": 2}, "alpha"},
		"alpha missing":     {map[string]any{"min_incidents": 4, "min_devices": 2}, "alpha"},
		"no incidents":      {map[string]any{"alpha": 0.05, "min_incidents": 0, "min_devices": 2}, "min_incidents"},
		"devices missing":   {map[string]any{"alpha": 0.05, "min_incidents": 4}, "min_devices"},
		"too many devices":  {map[string]any{"alpha": 0.05, "min_incidents": 4, "min_devices": 10001}, "min_devices"},
		"alpha as text":     {map[string]any{"alpha": "0,05", "min_incidents": 4, "min_devices": 2}, "alpha"},
		"devices fractions": {map[string]any{"alpha": 0.05, "min_incidents": 4, "min_devices": 2.5}, "min_devices"},
		"unknown field":     {map[string]any{"alpha": 0.05, "min_incidents": 4, "min_devices": 2, "window_days": 30}, "window_days"},
	} {
		if code, out := it.do("PUT", path, tc.body); code != 400 || errOf(out)["field"] != tc.field {
			t.Errorf("%s: %d %v, want 400 on %s", name, code, out, tc.field)
		}
	}
	if r := it.must(200, "GET", path, nil); r["alpha"] != 0.01 {
		t.Errorf("a refused rule was stored: %v", r)
	}
	r := it.must(200, "PUT", path, map[string]any{"alpha": 0.05, "min_incidents": 4, "min_devices": 2})
	if r["alpha"] != 0.05 || r["min_incidents"] != 4.0 || r["min_devices"] != 2.0 {
		t.Fatalf("PUT answered %v", r)
	}
	if r := c.must(200, "GET", path, nil); r["alpha"] != 0.05 || r["min_devices"] != 2.0 {
		t.Errorf("stored rule: %v", r)
	}
	other := c.as("authority_it", otherAuth)
	if code, _ := other.do("GET", path, nil); code != 404 {
		t.Errorf("another authority's IT reads the rule: %d", code)
	}
	if code, _ := other.do("PUT", path, map[string]any{"alpha": 0.5, "min_incidents": 1, "min_devices": 1}); code != 404 {
		t.Errorf("another authority's IT sets the rule: %d", code)
	}
	if r := c.must(200, "GET", fmt.Sprintf("/api/v1/failure-patterns?authority_id=%d", auth), nil); r["total"] != 0.0 {
		t.Errorf("patterns of an authority without incidents: %v", r)
	}
}

// TestConsoleAdminEdits: the two forms without a browser (and without
// JavaScript). A user's name and address: a taken address is refused
// next to the field with what was typed kept and nothing changed, then
// a new one is saved. The model-pattern rule on the repeat-failure page:
// a bad value is refused next to its field, a good one saved and shown,
// and the repeat-failure rule on the same page is left alone.
func TestConsoleAdminEdits(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, school, _, _ := c.tenant("EDT")
	const itEmail = "it@stadt-edt.de"
	c.must(201, "POST", "/api/v1/users", map[string]any{"email": itEmail, "name": "Jonas Weber", "password": webPassword,
		"memberships": []map[string]any{{"role": "authority_it", "org_id": auth}}})
	teacher := id(c.must(201, "POST", "/api/v1/users", map[string]any{"email": "lehrer@edt.example", "name": "Lea",
		"memberships": []map[string]any{{"role": "teacher", "org_id": school}}}))
	cookie := c.signInCookie(itEmail, webPassword)
	page := fmt.Sprintf("/verwaltung/benutzer/%d", teacher)
	fieldError := func(body, id string) string {
		m := regexp.MustCompile(`<p class="field-error" id="` + id + `-error"><span class="visually-hidden">Fehler: </span>([^<]*)</p>`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return m[1]
	}
	value := func(body, id string) string {
		m := regexp.MustCompile(`id="` + id + `" name="[^"]*" value="([^"]*)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no field %s on the page", id)
		}
		return m[1]
	}

	r := postForm(t, c.base+page+"/bearbeiten", cookie, url.Values{"name": {"Lea Lehrerin"}, "email": {itEmail}})
	if r.code != 422 || fieldError(r.body, "edit-email") != "Es gibt schon ein Konto mit dieser E-Mail-Adresse." {
		t.Fatalf("taken address: %d, error %q", r.code, fieldError(r.body, "edit-email"))
	}
	if value(r.body, "edit-name") != "Lea Lehrerin" || value(r.body, "edit-email") != itEmail {
		t.Errorf("the refused form holds %q %q", value(r.body, "edit-name"), value(r.body, "edit-email"))
	}
	r = postForm(t, c.base+page+"/bearbeiten", cookie, url.Values{"name": {" "}, "email": {"lea"}})
	if r.code != 422 || fieldError(r.body, "edit-name") == "" {
		t.Errorf("empty name: %d, error %q", r.code, fieldError(r.body, "edit-name"))
	}
	if u := c.must(200, "GET", fmt.Sprintf("/api/v1/users/%d", teacher), nil); u["name"] != "Lea" || u["email"] != "lehrer@edt.example" {
		t.Fatalf("a refused edit changed the user: %v", u)
	}
	r = postForm(t, c.base+page+"/bearbeiten", cookie, url.Values{"name": {"Lea Lehrerin"}, "email": {"L.Lehrerin@edt.example"}})
	if r.code != 303 || r.location != page+"?ok=saved" {
		t.Fatalf("saving: %d to %q", r.code, r.location)
	}
	if p := getWithCookie(t, c.base+page+"?ok=saved", cookie); !strings.Contains(p.body, "<h1>Lea Lehrerin</h1>") ||
		value(p.body, "edit-email") != "l.lehrerin@edt.example" || !strings.Contains(p.body, "Gespeichert.") {
		t.Errorf("the user's page after saving:\n%s", p.body)
	}

	// The pattern rule.
	form := func(alpha, inc, dev string) url.Values {
		return url.Values{"behoerde": {fmt.Sprint(auth)}, "teil": {"muster"}, "alpha": {alpha}, "min_incidents": {inc}, "min_devices": {dev}}
	}
	for _, tc := range []struct {
		form      url.Values
		field     string
		wantError string
	}{
		{form("0,7", "4", "2"), "pat-alpha", "Erlaubt ist eine Zahl größer als 0 und höchstens 0,5, z. B. 0,01."},
		{form("ein Prozent", "4", "2"), "pat-alpha", "Bitte eine Zahl angeben, z. B. 0,01."},
		{form("0,05", "4", "0"), "pat-min-devices", "Erlaubt ist eine Zahl von 1 bis 10000."},
		{form("0,05", "", "2"), "pat-min-incidents", "Bitte ausfüllen: Dieses Feld ist Pflicht."},
	} {
		r := postForm(t, c.base+"/verwaltung/wiederholfehler", cookie, tc.form)
		if r.code != 422 || fieldError(r.body, tc.field) != tc.wantError {
			t.Errorf("%v: %d, error %q, want %q", tc.form, r.code, fieldError(r.body, tc.field), tc.wantError)
		} else if got := value(r.body, "pat-alpha"); got != tc.form.Get("alpha") {
			t.Errorf("%v: the refused form holds alpha %q", tc.form, got)
		}
	}
	rulePath := fmt.Sprintf("/api/v1/authorities/%d/pattern-rule", auth)
	if rule := c.must(200, "GET", rulePath, nil); rule["alpha"] != 0.01 {
		t.Fatalf("a refused form stored %v", rule)
	}
	r = postForm(t, c.base+"/verwaltung/wiederholfehler", cookie, form("0,05", "4", "2"))
	if r.code != 303 {
		t.Fatalf("saving the pattern rule: %d\n%s", r.code, r.body)
	}
	if rule := c.must(200, "GET", rulePath, nil); rule["alpha"] != 0.05 || rule["min_incidents"] != 4.0 || rule["min_devices"] != 2.0 {
		t.Errorf("stored rule: %v", rule)
	}
	p := getWithCookie(t, c.base+"/verwaltung/wiederholfehler", cookie)
	if value(p.body, "pat-alpha") != "0,05" || value(p.body, "pat-min-incidents") != "4" || value(p.body, "pat-min-devices") != "2" {
		t.Errorf("the page shows alpha %q, incidents %q, devices %q", value(p.body, "pat-alpha"), value(p.body, "pat-min-incidents"), value(p.body, "pat-min-devices"))
	}
	rep := c.must(200, "GET", fmt.Sprintf("/api/v1/authorities/%d/repeat-failure-rule", auth), nil)
	if byClass, _ := rep["by_class"].(map[string]any); len(byClass) != 0 || rep["default"].(map[string]any)["threshold"] != 3.0 {
		t.Errorf("saving the pattern rule changed the repeat-failure rule: %v", rep)
	}
	if p := getWithCookie(t, c.base+"/verwaltung/protokoll?aktion=pattern_rule_set", cookie); p.code != 200 || !strings.Contains(p.body, "Regel für Modellmuster geändert") {
		t.Errorf("the audit log lacks the pattern rule: %d", p.code)
	}
}
