package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// dashFixture is an authority with troubles of every kind the dashboard
// shows, seeded through the API, and where the API has no door (old
// sightings, supply series, unreachable targets, due times) directly in
// its database.
type dashFixture struct {
	auth, school, school2     int64
	email                     string
	laptop, bare, p1, p2      int64
	dupA, dupB, dup, dup2     int64
	dup2Keep                  int64
	bareName, p1Name          string
	breachedTicket, dueTicket int64
	kyocera                   []int64
}

func newDashFixture(t *testing.T, c *client, raw *sql.DB) dashFixture {
	t.Helper()
	var f dashFixture
	var room int64
	f.auth, f.school, room, _ = c.tenant("DSH")
	f.school2 = id(c.must(201, "POST", "/api/v1/schools", map[string]any{"authority_id": f.auth, "code": "40456", "name": "Grundschule am Park"}))
	f.email = "it@seestadt.de"
	c.must(201, "POST", "/api/v1/users", map[string]any{"email": f.email, "name": "Jana Berger", "password": webPassword,
		"memberships": []map[string]any{{"role": "authority_it", "org_id": f.auth}}})
	obs := func(items ...map[string]any) []int64 {
		for _, it := range items {
			it["authority_id"] = f.auth
		}
		r := c.must(200, "POST", "/api/v1/observations", map[string]any{"observations": items})
		var ids []int64
		for _, it := range asSlice(r["items"]) {
			ids = append(ids, int64(it.(map[string]any)["ci_id"].(float64)))
		}
		return ids
	}
	var buy string
	f.bareName, f.p1Name = "Laptop Lehrerzimmer 3", "Drucker Raum 1.12"
	ids := obs(
		map[string]any{"source": "agent", "school_id": f.school, "room_id": room, "class": "laptop", "serial": "DSH-L1", "vendor": "Dell",
			"attributes": map[string]string{"name": "Laptop Lehrerzimmer 1"}},
		map[string]any{"source": "connector:schulamt", "school_id": f.school, "room_id": room, "class": "laptop", "serial": "DSH-L3", "vendor": "Dell",
			"attributes": map[string]string{"name": f.bareName, "model": "Latitude 5440"}},
		map[string]any{"source": "snmp", "school_id": f.school, "room_id": room, "class": "printer", "serial": "DSH-P1", "vendor": "HP",
			"attributes": map[string]string{"name": f.p1Name, "model": "LaserJet M404dn", "supply.1.level": "12", "supply.1.name": "Schwarzer Toner"}},
		map[string]any{"source": "snmp", "school_id": f.school2, "class": "printer", "serial": "DSH-P2", "vendor": "HP",
			"attributes": map[string]string{"name": "Drucker Sekretariat", "supply.1.level": "80"}})
	f.laptop, f.bare, f.p1, f.p2 = ids[0], ids[1], ids[2], ids[3]
	// A model pattern: three Kyocera printers with two incidents each,
	// against twelve HP printers of the same years with five in all.
	buy = time.Now().AddDate(-2, 0, 0).Format("2006-01-02")
	for i := range 10 {
		obs(map[string]any{"source": "connector:schulamt", "school_id": f.school2, "class": "printer", "serial": fmt.Sprintf("DSH-HP-%d", i),
			"vendor": "HP", "attributes": map[string]string{"name": fmt.Sprintf("Drucker Flur %d", i), "purchase_date": buy}})
	}
	for i := range 3 {
		f.kyocera = append(f.kyocera, obs(map[string]any{"source": "connector:schulamt", "school_id": f.school, "class": "printer",
			"serial": fmt.Sprintf("DSH-KY-%d", i), "vendor": "Kyocera",
			"attributes": map[string]string{"name": fmt.Sprintf("Kopierer Verwaltung %d", i+1), "model": "ECOSYS M2540dn", "purchase_date": buy}})[0])
	}
	// Two duplicate pairs: two connector records, one host name, and an
	// agent that reports only the host name.
	for i, dst := range []*int64{&f.dup, &f.dup2} {
		host := fmt.Sprintf("PC-VERW-%d", i+1)
		d := obs(
			map[string]any{"source": "connector:schulamt", "source_key": fmt.Sprintf("v%d-a", i), "school_id": f.school, "class": "desktop",
				"serial": fmt.Sprintf("CZC0000%dA", i), "vendor": "HP", "hostname": host, "attributes": map[string]string{"name": host + " (Inventar)"}},
			map[string]any{"source": "connector:schulamt", "source_key": fmt.Sprintf("v%d-b", i), "school_id": f.school, "class": "desktop",
				"serial": fmt.Sprintf("CZC0000%dB", i), "vendor": "HP", "hostname": host, "attributes": map[string]string{"name": host + " (Matrix)"}},
			map[string]any{"source": "agent", "school_id": f.school, "hostname": strings.ToLower(host)})
		l := asSlice(c.must(200, "GET", fmt.Sprintf("/api/v1/duplicates?ci=%d", d[0]), nil)["items"])
		if len(l) != 1 {
			t.Fatalf("duplicate of %v: %v", d, l)
		}
		*dst = id(l[0].(map[string]any))
		if i == 0 {
			f.dupA, f.dupB = d[0], d[1]
		} else {
			f.dup2Keep = d[0]
		}
	}
	var jam int64
	for _, it := range asSlice(c.must(200, "GET", "/api/v1/ticket-categories?class=printer", nil)["items"]) {
		if m := it.(map[string]any); m["name"] == "Papierstau" {
			jam = id(m)
		}
	}
	ticket := func(ci int64, impact, urgency int) int64 {
		return id(c.must(201, "POST", "/api/v1/tickets", map[string]any{"type": "incident", "title": "Papierstau", "category_id": jam,
			"impact": impact, "urgency": urgency, "ci_ids": []int64{ci}, "channel": "phone"}))
	}
	// Three incidents on P1 flag it as a repeat failure.
	f.breachedTicket = ticket(f.p1, 1, 1)
	f.dueTicket = ticket(f.p1, 3, 2)
	ticket(f.p1, 3, 3)
	ticket(f.p2, 2, 2)
	for _, k := range f.kyocera {
		for range 2 {
			done := ticket(k, 3, 3)
			c.must(200, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", done), map[string]any{"status": "resolved"})
		}
	}
	done := ticket(f.p2, 3, 3)
	c.must(200, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", done), map[string]any{"status": "resolved"})

	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	now := time.Now()
	// The due times: one past, one later today (Berlin), the rest not today.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	l := now.In(berlin)
	midnight := time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, berlin)
	exec(`UPDATE tickets SET first_response_due = $2::timestamptz, resolve_due = $2::timestamptz + interval '8 hours' WHERE id = $1`, f.breachedTicket, now.Add(-time.Hour))
	exec(`UPDATE tickets SET first_response_due = $2::timestamptz, resolve_due = $2::timestamptz + interval '8 hours' WHERE id = $1`, f.dueTicket, now.Add(midnight.Sub(now)/2))
	exec(`UPDATE tickets SET first_response_due = $2::timestamptz, resolve_due = $2::timestamptz WHERE authority_id = $1 AND id NOT IN ($3, $4)`,
		f.auth, midnight.Add(48*time.Hour), f.breachedTicket, f.dueTicket)
	exec(`UPDATE cis SET purchase_date = $2 WHERE id IN ($3, $4) OR (authority_id = $1 AND class = 'printer')`, f.auth, buy, f.p1, f.p2)
	// The connector last saw the bare laptop 40 days ago.
	exec(`UPDATE ci_sources SET last_seen = $2 WHERE ci_id = $1`, f.bare, now.AddDate(0, 0, -40))
	// P1's toner: refilled 20 days ago, 2 points a day since, 12 % now.
	exec(`INSERT INTO ci_metrics (ci_id, name, at, value) VALUES ($1, 'supply.1.percent', $2, 8)`, f.p1, now.AddDate(0, 0, -21))
	for h := 20 * 24; h >= 0; h -= 12 {
		exec(`INSERT INTO ci_metrics (ci_id, name, at, value) VALUES ($1, 'supply.1.percent', $2, $3)`, f.p1,
			now.Add(-time.Duration(h)*time.Hour), 12+2*float64(h)/24)
	}
	exec(`INSERT INTO ci_metrics (ci_id, name, at, value) VALUES ($1, 'supply.1.percent', $2, 80)`, f.p2, now)
	exec(`INSERT INTO snmp_targets (authority_id, school_id, address, kind, ci_id, unreachable, misses) VALUES
		($1, $2, '10.2.0.20', 'snmp', $3, true, 4), ($1, $4, '10.1.0.20', 'snmp', $5, false, 0)`, f.auth, f.school2, f.p2, f.school, f.p1)
	return f
}

// TestConsoleDash drives the dashboard and the duplicates review as
// authority IT at a desk: the figures match the lists they link to (the
// queue's and the device list's through the API's own filters, the
// dashboard's own lists on their pages), an export opens as XLSX with
// the rows shown, a merge from the review page, a candidate someone else
// merged meanwhile; axe-core on every page, and the dashboard at 320 px.
func TestConsoleDash(t *testing.T) {
	t.Parallel()
	dbURL := postgrestest.NewDatabase(t)
	_, out, _ := runMain(t, "token", "create", "--admin", "--name", "test", "--db", dbURL)
	m, _, _ := runMain(t, "serve", "--listen", "127.0.0.1:0", "--db", dbURL)
	c := &client{t: t, base: "http://" + m.Addr(), token: strings.TrimSpace(out)}
	raw, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	f := newDashFixture(t, c, raw)

	b := newBrowser(t, c.base)
	b.viewport(1280, 900)
	b.open("/anmelden?next=%2Fuebersicht")
	b.do(chromedp.SendKeys(chromedp.ID("email"), f.email), chromedp.SendKeys(chromedp.ID("password"), webPassword))
	b.submit(`button[type=submit].primary`)
	if p := b.path(); p != "/uebersicht" {
		t.Fatalf("after sign-in: %s", p)
	}
	b.expect("h1", "Übersicht")
	b.expect("h1", "Stadt DSH")
	want := map[string]string{"#fig-breached": "1", "#fig-due": "1", "#fig-noagent": "3", "#fig-low": "1", "#fig-unreachable": "1", "#fig-repeat": "1"}
	for sel, n := range want {
		if got := b.text(sel); got != n {
			t.Errorf("%s reads %q, want %s", sel, got, n)
		}
	}
	b.expect("#fig-notseen", "1 Gerät – Quelle: Anbindung schulamt")
	b.expect("#open-tickets", "Gymnasium am See")
	b.expect("#open-tickets", "Grundschule am Park")
	b.expect("#patterns", "Kyocera ECOSYS M2540dn")
	b.expect("#patterns", "Kopierer Verwaltung 1")
	b.checkPage("dashboard")
	b.shot("console-dash-uebersicht")
	// The pattern's model leads to the device list of that model: the
	// three Kyocera, no other device; and each device it names links to
	// its page.
	if n := b.eval(`String(document.querySelectorAll('#patterns .devices a[href^="/cis/"]').length)`); n != "3" {
		t.Errorf("the pattern lists %s devices, want 3", n)
	}
	b.submit(`#patterns li a`)
	if p := b.path(); !strings.HasPrefix(p, "/cis?") {
		t.Errorf("the pattern leads to %s, want the device list", p)
	}
	var listed []string
	if err := json.Unmarshal([]byte(b.eval(`JSON.stringify([...document.querySelectorAll('table.list tbody th')].map(c => c.textContent.trim()))`)), &listed); err != nil {
		t.Fatal(err)
	}
	if strings.Join(listed, ",") != "Kopierer Verwaltung 1,Kopierer Verwaltung 2,Kopierer Verwaltung 3" {
		t.Errorf("the pattern's device list shows %v, want the 3 Kyocera", listed)
	}
	if got := b.eval(`document.querySelector('#hersteller').value + "/" + document.querySelector('#modell').value`); got != "Kyocera/ECOSYS M2540dn" {
		t.Errorf("the device list's filter reads %q, want the pattern's vendor and model", got)
	}
	b.checkPage("device list of a pattern")
	b.open("/uebersicht")

	// Every figure of the ticket table and the SLA tile leads to the
	// queue, which lists that many tickets (the API agrees).
	var links []struct{ Href, Text string }
	if err := json.Unmarshal([]byte(b.eval(`JSON.stringify([...document.querySelectorAll('#open-tickets a, #fig-breached')].map(a => ({Href: a.getAttribute('href'), Text: a.textContent.trim()})))`)), &links); err != nil {
		t.Fatal(err)
	}
	if len(links) < 6 {
		t.Fatalf("ticket links: %v", links)
	}
	for _, l := range links {
		u, err := url.Parse(l.Href)
		if err != nil || u.Path != "/tickets" {
			t.Errorf("ticket figure %q links to %q", l.Text, l.Href)
			continue
		}
		got := c.must(200, "GET", "/api/v1/tickets?"+u.RawQuery, nil)["total"]
		if fmt.Sprint(got) != l.Text {
			t.Errorf("%s: the dashboard says %s, the API's filter finds %v", l.Href, l.Text, got)
		}
		b.open(l.Href)
		if rows := b.eval(`String(document.querySelectorAll('table.queue tbody tr').length)`); rows != l.Text {
			t.Errorf("%s: the dashboard says %s, the queue shows %s rows", l.Href, l.Text, rows)
		}
	}

	// The dashboard's own lists show the rows behind their figures.
	lists := []struct {
		fig, path, row string
	}{
		{"#fig-due", "/uebersicht/heute-faellig", "Papierstau"},
		{"#fig-noagent", "/uebersicht/ohne-agent", f.bareName},
		{"#fig-low", "/uebersicht/verbrauchsmaterial", "etwa 6 Tage"},
		{"#fig-unreachable", "/uebersicht/nicht-erreichbar", "10.2.0.20"},
		{"#fig-repeat", "/uebersicht/wiederholt", f.p1Name},
		{"#fig-notseen a", "/uebersicht/nicht-gesehen", f.bareName},
	}
	for i, l := range lists {
		b.open("/uebersicht")
		n := b.text(l.fig)
		b.submit(l.fig)
		if p := b.path(); !strings.HasPrefix(p, l.path+"?") {
			t.Errorf("%s leads to %s, want %s", l.fig, p, l.path)
			continue
		}
		if rows := b.eval(`String(document.querySelectorAll('#list tbody tr').length)`); rows != n {
			t.Errorf("%s: the dashboard says %s, the list shows %s rows", l.path, n, rows)
		}
		b.expect("#list", l.row)
		b.checkPage(l.path)
		if i == 2 {
			b.shot("console-dash-verbrauchsmaterial")
		}
	}

	// The supplies list as XLSX: the rows shown, cell for cell.
	b.open(fmt.Sprintf("/uebersicht/verbrauchsmaterial?authority=%d", f.auth))
	var shown [][]string
	if err := json.Unmarshal([]byte(b.eval(`JSON.stringify([...document.querySelectorAll('#list tr')].map(r => [...r.cells].map(c => c.textContent.trim())))`)), &shown); err != nil {
		t.Fatal(err)
	}
	xlsx := b.eval(`document.querySelector('a[href*="format=xlsx"]').getAttribute('href')`)
	cookie := c.signInCookie(f.email, webPassword)
	req, _ := http.NewRequest("GET", c.base+xlsx, nil)
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "verbrauchsmaterial") {
		t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
	}
	book, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the export is no XLSX: %v", err)
	}
	rows, err := book.GetRows(book.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rows) != fmt.Sprint(shown) {
		t.Errorf("the XLSX holds\n%v\nthe page shows\n%v", rows, shown)
	}

	// The duplicates review: both pairs listed; one side by side.
	b.open("/duplikate")
	b.expect("#dups", "PC-VERW-1 (Inventar)")
	b.expect("#dups", "PC-VERW-2 (Inventar)")
	b.checkPage("duplicates")
	b.shot("console-dash-duplikate")
	// The list as a file: both pairs.
	csvHref := b.eval(`document.querySelector('a[href*="format=csv"]').getAttribute('href')`)
	req, _ = http.NewRequest("GET", c.base+csvHref, nil)
	req.Header.Set("Cookie", cookie)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if s := string(body); resp.StatusCode != 200 || !strings.HasPrefix(s, "\ufeffGerät A;Gerät B;") || strings.Count(s, "\r\n") != 3 ||
			!strings.Contains(s, "PC-VERW-1 (Inventar)") || !strings.Contains(s, "PC-VERW-2 (Inventar)") {
			t.Errorf("the duplicates as CSV (%s): %d %q", csvHref, resp.StatusCode, s)
		}
	}
	b.open(fmt.Sprintf("/duplikate/%d", f.dup))
	b.expect(".dup-sides", "CZC00000A")
	b.expect(".dup-sides", "CZC00000B")
	b.expect(".dup-sides", "Anbindung schulamt")
	b.checkPage("duplicate review")
	b.shot("console-dash-duplikat-pruefen")
	// Merge without choosing: the message next to the choice.
	b.submit(`button[value=merge]`)
	b.expect("#keep-error", "Bitte wählen Sie")
	b.checkPage("duplicate review with error")
	b.do(chromedp.Click(chromedp.ID("keep-a")))
	b.submit(`button[value=merge]`)
	if p := b.path(); p != fmt.Sprintf("/duplikate?ok=merged&ci=%d", f.dupA) {
		t.Fatalf("after the merge: %s", p)
	}
	b.expect(".notice", "Zusammengeführt")
	if strings.Contains(b.text("main"), "PC-VERW-1 (Inventar)") && b.eval(`String(!!document.querySelector('a[href="/duplikate/`+fmt.Sprint(f.dup)+`"]'))`) == "true" {
		t.Errorf("the merged candidate is still listed")
	}
	var serials []string
	for _, it := range asSlice(c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/identifiers", f.dupA), nil)["items"]) {
		if m := it.(map[string]any); m["kind"] == "serial" {
			serials = append(serials, m["value"].(string))
		}
	}
	if s := strings.Join(serials, ","); !strings.Contains(s, "CZC00000A") || !strings.Contains(s, "CZC00000B") {
		t.Errorf("the kept CI has serials %v, want both", serials)
	}
	if len(asSlice(c.must(200, "GET", fmt.Sprintf("/api/v1/duplicates?ci=%d", f.dupA), nil)["items"])) != 0 {
		t.Errorf("the candidate is still open")
	}

	// Someone else merges the second pair while the page is open.
	b.open(fmt.Sprintf("/duplikate/%d", f.dup2))
	c.must(200, "POST", fmt.Sprintf("/api/v1/duplicates/%d/merge", f.dup2), map[string]any{"keep": f.dup2Keep})
	b.do(chromedp.Click(chromedp.ID("keep-b")))
	b.submit(`button[value=merge]`)
	b.expect("#decided", "Inzwischen hat jemand anderes entschieden")
	b.expect("#decided", "bereits zusammengeführt")
	b.checkPage("duplicate decided meanwhile")
	b.shot("console-dash-duplikat-inzwischen")

	// The store decides who sees what: a school IT contact sees their
	// school, another authority's dashboard and candidates are not found.
	c.must(201, "POST", "/api/v1/users", map[string]any{"email": "it@grundschule-am-park.de", "name": "Tom Kaya", "password": webPassword,
		"memberships": []map[string]any{{"role": "school_it", "org_id": f.school2}}})
	page := func(cookie, path string) (int, string) {
		req, _ := http.NewRequest("GET", c.base+path, nil)
		req.Header.Set("Cookie", cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	schoolIT := c.signInCookie("it@grundschule-am-park.de", webPassword)
	if code, body := page(schoolIT, "/uebersicht"); code != 200 || !strings.Contains(body, "Grundschule am Park") || strings.Contains(body, "Gymnasium am See") {
		t.Errorf("school IT's dashboard: %d, shows the other school or not their own", code)
	}
	if code, body := page(schoolIT, "/uebersicht/nicht-erreichbar"); code != 200 || !strings.Contains(body, "10.2.0.20") {
		t.Errorf("school IT's unreachable list: %d", code)
	}
	if code, _ := page(schoolIT, fmt.Sprintf("/uebersicht?school=%d", f.school)); code != 404 {
		t.Errorf("school IT asking for another school: %d, want 404", code)
	}
	other, _, _, _ := c.tenant("DSX")
	for _, p := range []string{fmt.Sprintf("/uebersicht?authority=%d", other), fmt.Sprintf("/uebersicht/ohne-agent?authority=%d", other)} {
		if code, _ := page(cookie, p); code != 404 {
			t.Errorf("%s of another authority: %d, want 404", p, code)
		}
	}

	// A phone: the dashboard reflows.
	b.viewport(320, 720)
	b.open("/uebersicht")
	b.checkPage("dashboard at 320 px")
	b.shot("console-dash-uebersicht-320")
}
