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
