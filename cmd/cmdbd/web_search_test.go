package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

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
}
