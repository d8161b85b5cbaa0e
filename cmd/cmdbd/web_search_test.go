package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPortalDeviceSearch: a teacher who knows the device but not its room
// finds it from the school's page by asset tag, serial or the label's
// code; another authority's code finds nothing; a room's cards show the
// short code too.
func TestPortalDeviceSearch(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	f := newPortalFixture(t, c)
	b := newBrowser(t, c.base)
	b.viewport(390, 844)
	b.open("/anmelden?next=/melden")
	b.do(chromedp.SendKeys(chromedp.ID("email"), f.email), chromedp.SendKeys(chromedp.ID("password"), webPassword))
	b.submit(`button[type=submit].primary`)

	printer := fmt.Sprintf(`a[href="/melden/geraet/%d"]`, f.printer)
	projector := fmt.Sprintf(`a[href="/melden/geraet/%d"]`, f.projector)
	found := func(q string) string {
		t.Helper()
		b.open("/melden?q=" + url.QueryEscape(q))
		return b.eval(`Array.from(document.querySelectorAll(".devices a")).map(a => a.getAttribute("href")).join(" ")`)
	}
	has := func(got, sel string) bool {
		return strings.Contains(got, strings.TrimSuffix(strings.TrimPrefix(sel, `a[href="`), `"]`))
	}
	if got := found("WEB-00042"); !has(got, printer) || has(got, projector) {
		t.Errorf("asset tag WEB-00042 finds %q", got)
	}
	b.expect("[role=status]", "1 Gerät passt")
	b.checkPage("device search")
	b.shot("07b-geraet-suchen")
	if got := found("web-bm-1"); !has(got, projector) {
		t.Errorf("serial web-bm-1 finds %q", got)
	}
	code := shortCodeOf(c, f.printer)
	if got := found(strings.ToLower(code)); !has(got, printer) {
		t.Errorf("short code %s finds %q", code, got)
	}
	if got := found(shortCodeOf(c, f.foreignCI)); got != "" {
		t.Errorf("another authority's code finds %q", got)
	}
	b.open(fmt.Sprintf("/melden/raum/%d", f.room))
	b.expect(printer, code)

	// By name too; and with script, the devices come as she types,
	// without pressing "Suchen".
	if got := found("beamer raum"); !has(got, projector) || has(got, printer) {
		t.Errorf("name \"beamer raum\" finds %q", got)
	}
	b.open("/melden")
	b.do(chromedp.SendKeys(chromedp.ID("q"), "WEB-000"))
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitVisible(`#device-results `+printer)); err != nil {
		t.Errorf("typing an asset tag shows no device card without submitting: %v", err)
	}
	if p := b.path(); p != "/melden" {
		t.Errorf("the search as one types left the page for %s", p)
	}
	b.expect("#search-status", "1 Gerät passt")
	b.checkPage("device search as one types")
	b.shot("07c-geraet-tippen")

	// Her own rooms come first, the latest first: she reported in Raum
	// 1.12 (the fixture), then in the Lehrerzimmer.
	teacher := &client{t: t, base: c.base}
	cookie := teacher.signInCookie(f.email, webPassword)
	cats := asSlice(c.must(200, "GET", "/api/v1/ticket-categories?class=general", nil)["items"])
	teacher.withCookie(cookie, 201, "POST", "/api/v1/tickets", map[string]any{"type": "incident", "title": "Fenster klemmt",
		"category_id": id(cats[0].(map[string]any)), "impact": 3, "urgency": 3, "room_id": f.staffRoom, "channel": "portal"})
	b.open("/melden")
	if got := b.eval(`Array.from(document.querySelectorAll("section.recent a")).map(a => a.textContent.trim()).join(" | ")`); got != "Lehrerzimmer LZ | Raum 1.12" {
		t.Errorf("recent rooms = %q, want the Lehrerzimmer, then Raum 1.12", got)
	}
	b.checkPage("report start with recent rooms")
	b.shot("07-raum-waehlen")

	// A retired device is no longer offered.
	c.must(200, "PATCH", fmt.Sprintf("/api/v1/cis/%d", f.projector), map[string]any{"status": "retired"})
	if got := found("web-bm-1"); has(got, projector) {
		t.Errorf("a retired projector is still found: %q", got)
	}
}

// TestPortalOtherSchool: a device of another school of the same
// authority is "not found" to a teacher of the first, by its page, its
// label and the search; a teacher of both schools picks the school first.
func TestPortalOtherSchool(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	f := newPortalFixture(t, c)
	school2 := id(c.must(201, "POST", "/api/v1/schools", map[string]any{"authority_id": f.auth, "code": "40124", "name": "Realschule am Markt"}))
	building := id(c.must(201, "POST", "/api/v1/buildings", map[string]any{"school_id": school2, "code": "M", "name": "Haupthaus"}))
	room := id(c.must(201, "POST", "/api/v1/rooms", map[string]any{"building_id": building, "code": "E04", "name": "Raum E04"}))
	other := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": f.auth, "room_id": room, "class": "printer",
		"name": "Drucker E04", "vendor": "HP", "serial": "WEB-RS-1", "asset_tag": "WEB-00777"}))

	b := newBrowser(t, c.base)
	b.viewport(390, 844)
	b.open("/anmelden?next=/melden")
	b.do(chromedp.SendKeys(chromedp.ID("email"), f.email), chromedp.SendKeys(chromedp.ID("password"), webPassword))
	b.submit(`button[type=submit].primary`)
	for _, p := range []string{fmt.Sprintf("/melden/geraet/%d", other), "/r/" + shortCodeOf(c, other), fmt.Sprintf("/melden/raum/%d", room)} {
		b.open(p)
		if h := b.text("h1"); !strings.Contains(h, "nicht gefunden") && !strings.Contains(h, "Code unbekannt") {
			t.Errorf("%s (another school of her authority) shows %q, want not found", p, h)
		}
	}
	b.open("/melden?q=WEB-00777")
	if n := b.eval(`String(document.querySelectorAll(".devices a").length)`); n != "0" {
		t.Errorf("the search finds %s devices of another school", n)
	}

	// A teacher of both schools chooses the school first.
	c.must(201, "POST", "/api/v1/users", map[string]any{"email": "jan.vogt@gymnasium-am-see.de", "name": "Jan Vogt", "password": webPassword,
		"memberships": []map[string]any{{"role": "teacher", "org_id": f.school}, {"role": "teacher", "org_id": school2}}})
	b2 := newBrowser(t, c.base)
	b2.viewport(390, 844)
	b2.open("/anmelden?next=/melden")
	b2.do(chromedp.SendKeys(chromedp.ID("email"), "jan.vogt@gymnasium-am-see.de"), chromedp.SendKeys(chromedp.ID("password"), webPassword))
	b2.submit(`button[type=submit].primary`)
	got := b2.eval(`Array.from(document.querySelectorAll(".choices a")).map(a => a.textContent.trim()).join(" | ")`)
	if !strings.Contains(got, "Gymnasium am See") || !strings.Contains(got, "Realschule am Markt") {
		t.Errorf("the school choice reads %q", got)
	}
	b2.checkPage("school choice")
	b2.submit(`.choices a[href*="schule=` + fmt.Sprint(school2) + `"]`)
	b2.expect("main", "Raum E04")
	b2.checkPage("rooms of the second school")
}
