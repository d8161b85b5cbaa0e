package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestConsoleDevice drives a device's page as authority IT at a desk:
// sign-in, the device list searched, the printer's page with its
// history, its tickets and plots whose points are the printer's own
// samples (written through the poller's store call and rolled up as the
// nightly job does), a hand edit of the asset tag that locks it, the
// unlock, and a stale edit refused with what changed; axe-core on every
// page at 1280 and once at 320 pixels.
func TestConsoleDevice(t *testing.T) {
	t.Parallel()
	url := postgrestest.NewDatabase(t)
	_, out, _ := runMain(t, "token", "create", "--admin", "--name", "test", "--db", url)
	m, _, _ := runMain(t, "serve", "--listen", "127.0.0.1:0", "--db", url)
	c := &client{t: t, base: "http://" + m.Addr(), token: strings.TrimSpace(out)}
	f := newPortalFixture(t, c)
	staff := "it@landkreis.example"
	c.must(201, "POST", "/api/v1/users", map[string]any{"email": staff, "name": "Jonas Becker", "password": webPassword,
		"memberships": []map[string]any{{"role": "authority_it", "org_id": f.auth}}})

	// Fourteen daily polls of the printer, the last one yesterday.
	ctx := context.Background()
	var clock time.Time
	db, err := postgres.Open(ctx, url, postgres.Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	target := &cmdb.SNMPTarget{SchoolID: f.school, Address: "10.1.12.50", Kind: "snmp"}
	if err := db.CreateSNMPTarget(ctx, cmdb.AdminScope("test"), target); err != nil {
		t.Fatal(err)
	}
	target.CIID = f.printer
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -14).Add(12 * time.Hour)
	var pages, toner []string
	for d := range 14 {
		clock = day.AddDate(0, 0, d)
		p, tn := float64(12000+d*250), float64(90-d*3)
		pages, toner = append(pages, strconv.FormatFloat(p, 'f', -1, 64)), append(toner, strconv.FormatFloat(tn, 'f', -1, 64))
		if err := db.RecordPolls(ctx, []*cmdb.PollRecord{{Target: target, Metrics: map[string]float64{"counter.pages": p, "supply.1.percent": tn}}}, 3); err != nil {
			t.Fatal(err)
		}
	}
	clock = time.Now()
	if _, err := db.RollupMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	// The inventory connector reports the printer ten days ago and again
	// yesterday, unchanged: it last saw it yesterday, though the values it
	// set date from ten days ago.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tenDays, yesterday := time.Now().AddDate(0, 0, -10), time.Now().AddDate(0, 0, -1)
	for _, at := range []time.Time{tenDays, yesterday} {
		clock = at
		if _, err := db.Reconcile(ctx, cmdb.AdminScope("test"), []cmdb.Observation{{Source: "connector:inventar", SourceKey: "inv-4711",
			AuthorityID: f.auth, Class: cmdb.ClassPrinter, Serial: "WEB-PR-1", Vendor: "HP",
			Attributes: map[string]string{cmdb.AttrPurchaseDate: "2023-08-01"}}}); err != nil {
			t.Fatal(err)
		}
	}
	clock = time.Now()

	b := newBrowser(t, c.base)
	b.do(chromedp.EmulateViewport(1280, 900))
	b.open("/cis")
	b.do(chromedp.SendKeys(chromedp.ID("email"), staff), chromedp.SendKeys(chromedp.ID("password"), webPassword))
	b.submit(`form[action="/anmelden"] button[type=submit]`)
	if p := b.path(); p != "/cis" {
		t.Fatalf("after sign-in: %s", p)
	}
	b.checkPage("device list")
	b.do(chromedp.SendKeys(chromedp.ID("q"), "WEB-PR-1"))
	b.submit(`form[role=search] button[type=submit]`)
	b.expect("table.list tbody", "Drucker Raum 1.12")
	if b.eval(`String(document.querySelectorAll("table.list tbody tr").length)`) != "1" {
		t.Errorf("search for the serial lists %s rows", b.eval(`String(document.querySelectorAll("table.list tbody tr").length)`))
	}
	b.shot("console-device-list")
	b.submit(`table.list tbody a`)
	page := fmt.Sprintf("/cis/%d", f.printer)
	if p := b.path(); p != page {
		t.Fatalf("the list's link opened %s", p)
	}
	b.expect("h1", "Drucker Raum 1.12")
	seen := strings.ReplaceAll(b.text(".device-head"), "\u00a0", " ")
	if want := "Anbindung inventar: " + yesterday.In(berlin).Format("02.01.2006, 15:04 Uhr"); !strings.Contains(seen, want) {
		t.Errorf("the device's head reads %q, want %q (the connector's last observation)", seen, want)
	}
	b.expect("#verlauf", f.open)
	b.expect("#verlauf", f.colleagues)
	b.expect("#verlauf", "asset_tag")
	// The plots hold exactly the printer's samples.
	if got := b.eval(`document.querySelector('[data-plot="seiten"] [data-series="counter.pages"] polyline').dataset.values`); got != strings.Join(pages, " ") {
		t.Errorf("page counter plot: %q, want %q", got, strings.Join(pages, " "))
	}
	if got := b.eval(`document.querySelector('[data-plot="verbrauch"] [data-series="supply.1.percent"] polyline').dataset.values`); got != strings.Join(toner, " ") {
		t.Errorf("supply plot: %q, want %q", got, strings.Join(toner, " "))
	}
	b.expect("#plot-verbrauch-h + figure figcaption", "Tage")
	b.checkPage("device page")
	b.shot("console-device-page")

	// A hand edit of the asset tag locks it.
	b.do(chromedp.SetValue(chromedp.ID("asset_tag"), "WEB-00077"))
	b.submit(`form[action="` + page + `"] button[type=submit]`)
	b.expect("[role=status]", "Gespeichert")
	b.expect("#sperren", "asset_tag gesperrt auf „WEB-00077“")
	if ci := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d", f.printer), nil); ci["asset_tag"] != "WEB-00077" {
		t.Errorf("asset tag after the edit: %v", ci["asset_tag"])
	}
	b.checkPage("device page, locked")
	b.shot("console-device-locked")
	b.submit(`#sperren form button`)
	b.expect("#sperren", "Keine Felder gesperrt")
	// The timeline has the lock coming and going.
	if tl := b.eval(`Array.from(document.querySelectorAll("tr.tl-lock")).map(r => r.textContent.replace(/\s+/g, " ").trim()).join(" | ")`); !strings.Contains(tl, "asset_tag: gesperrt → frei") || !strings.Contains(tl, "asset_tag: frei → gesperrt") {
		t.Errorf("the timeline's lock rows read %q", tl)
	}

	// "–" as the room takes the device out of its room (and locks that).
	b.do(chromedp.SetValue(chromedp.ID("room"), "0"))
	b.submit(`form[action="` + page + `"] button[type=submit]`)
	b.expect("[role=status]", "Gespeichert")
	if ci := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d", f.printer), nil); fmt.Sprint(ci["room_id"]) != "0" && ci["room_id"] != nil {
		t.Errorf("room after choosing none: %v", ci["room_id"])
	}
	if got := b.eval(`document.getElementById("room").value`); got != "0" {
		t.Errorf("the form shows room %q after choosing none", got)
	}
	b.expect("#sperren", "room gesperrt")
	b.submit(`#sperren form button`)

	// A stale edit: someone changes the name while the form is open.
	b.do(chromedp.SetValue(chromedp.ID("asset_tag"), "WEB-00099"))
	c.must(200, "PATCH", fmt.Sprintf("/api/v1/cis/%d", f.printer), map[string]any{"name": "Drucker Lehrerzimmer"})
	b.submit(`form[action="` + page + `"] button[type=submit]`)
	b.expect(".form-error", "inzwischen geändert")
	b.expect(".stale", "Drucker Lehrerzimmer")
	if v := b.eval(`document.getElementById("asset_tag").value`); v != "WEB-00099" {
		t.Errorf("the refused form lost what was typed: %q", v)
	}
	if ci := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d", f.printer), nil); ci["asset_tag"] != "WEB-00077" {
		t.Errorf("a stale edit was written: %v", ci["asset_tag"])
	}
	b.checkPage("device page, stale edit")
	b.shot("console-device-stale")

	// The list's export holds the rows shown; the label is a PDF; another
	// authority's device is not found, by page or label.
	cookie := c.signInCookie(staff, webPassword)
	get := func(path string) (int, string, string) {
		req, _ := http.NewRequest("GET", c.base+path, nil)
		req.Header.Set("Cookie", cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
	}
	if code, _, body := get("/cis?q=WEB-PR-1&format=csv"); code != 200 || !strings.HasPrefix(body, "\ufeffName;Geräteart;") ||
		!strings.Contains(body, "Drucker Lehrerzimmer;Drucker;Im Lager;WEB-00077;WEB-PR-1;") || strings.Count(body, "\r\n") != 2 {
		t.Errorf("CSV export: %d %q", code, body)
	}
	if code, ctype, body := get(page + "/etikett"); code != 200 || ctype != "application/pdf" || !strings.HasPrefix(body, "%PDF") {
		t.Errorf("label: %d %s", code, ctype)
	}
	if code, _, _ := get(fmt.Sprintf("/cis/%d/etikett", f.foreignCI)); code != 404 {
		t.Errorf("label of another authority's device: %d", code)
	}
	if code, _, _ := get(fmt.Sprintf("/cis/%d", f.foreignCI)); code != 404 {
		t.Errorf("page of another authority's device: %d", code)
	}
	cookie = c.signInCookie(f.email, webPassword) // a teacher: the console is not hers
	if code, _, _ := get(page); code != 403 {
		t.Errorf("a teacher opens a device's console page: %d", code)
	}
	// Another authority's device is not found.
	b.open(fmt.Sprintf("/cis/%d", f.foreignCI))
	if st := b.text("h1"); strings.Contains(st, "Drucker") {
		t.Errorf("another authority's device shows: %q", st)
	}
	// A laptop's battery capacity over time, from its history.
	laptop := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": f.auth, "room_id": f.room, "class": "laptop",
		"name": "Lehrer-Laptop 7", "serial": "WEB-NB-7", "attributes": map[string]string{"battery.health_percent": "92"}}))
	c.must(200, "PATCH", fmt.Sprintf("/api/v1/cis/%d", laptop), map[string]any{"attributes": map[string]string{"battery.health_percent": "85"}})
	b.open(fmt.Sprintf("/cis/%d", laptop))
	if got := b.eval(`(document.querySelector('[data-plot="akku"] polyline') || {dataset: {}}).dataset.values || ""`); got != "92 85" {
		t.Errorf("battery plot: %q, want \"92 85\"", got)
	}
	// Reflow at 320 pixels.
	b.do(chromedp.EmulateViewport(320, 800))
	b.open(page)
	b.checkPage("device page at 320")
	b.shot("console-device-narrow")
}
