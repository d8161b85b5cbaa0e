package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromium is Debian's browser, installed by scripts/test (ensure_chromium).
const chromium = "/usr/bin/chromium"

// screenshotDir is where the portal's screenshots go for a reviewer to
// look at: CMDB_SCREENSHOTS (relative to the repository root, such as
// docs/screenshots, which the README names), else a folder in the
// system's temporary directory, so that a test run leaves the tree as it
// was (the comment times on the pictures change with every run).
var screenshotDir = func() string {
	d := os.Getenv("CMDB_SCREENSHOTS")
	switch {
	case d == "":
		return filepath.Join(os.TempDir(), "cmdb-screenshots")
	case filepath.IsAbs(d):
		return d
	}
	return filepath.Join("..", "..", d)
}()

const webPassword = "Tafel-Kreide-2026!"

// portalFixture makes, through the API, a school with a teacher and three
// tickets: one of hers that IT answered, one of hers that IT resolved and
// one of a colleague; and a ticket of another authority.
type portalFixture struct {
	email                      string
	open, resolved, colleagues string // ticket numbers
	reopen                     string // resolved too, for her to reopen
	foreign                    string
	// For the report flow: the authority, the room and its devices, and
	// a device of the other authority.
	auth, school, room, printer, projector, foreignCI int64
	staffRoom                                         int64 // the Lehrerzimmer, without devices
}

func newPortalFixture(t *testing.T, c *client) portalFixture {
	t.Helper()
	auth, school, room, staffRoom := c.tenant("WEB")
	printer := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "room_id": room, "class": "printer",
		"name": "Drucker Raum 1.12", "vendor": "HP", "model": "LaserJet M404dn", "serial": "WEB-PR-1", "asset_tag": "WEB-00042"}))
	projector := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "room_id": room, "class": "projector",
		"name": "Beamer Raum 1.12", "vendor": "Epson", "model": "EB-W49", "serial": "WEB-BM-1"}))
	category := func(class, name string) int64 {
		for _, it := range asSlice(c.must(200, "GET", "/api/v1/ticket-categories?class="+class, nil)["items"]) {
			if m := it.(map[string]any); m["class"] == class && m["name"] == name {
				return id(m)
			}
		}
		t.Fatalf("no category %s/%s", class, name)
		return 0
	}
	jam, lamp := category("printer", "Papierstau"), category("projector", "Lampe")
	f := portalFixture{email: "anna.schmidt@gymnasium-am-see.de", auth: auth, school: school, room: room, printer: printer, projector: projector,
		staffRoom: staffRoom}
	c.must(201, "POST", "/api/v1/users", map[string]any{"email": f.email, "name": "Anna Schmidt", "password": webPassword,
		"memberships": []map[string]any{{"role": "teacher", "org_id": school}}})
	teacher := &client{t: t, base: c.base}
	cookie := teacher.signInCookie(f.email, webPassword)
	ticket := func(ci, cat int64, title, description string) map[string]any {
		body := map[string]any{"type": "incident", "title": title, "description": description,
			"category_id": cat, "impact": 3, "urgency": 2, "ci_ids": []int64{ci}, "channel": "portal"}
		return teacher.withCookie(cookie, 201, "POST", "/api/v1/tickets", body)
	}
	open := ticket(printer, jam, "Drucker im Raum 1.12 zieht kein Papier ein", "Seit der 3. Stunde zieht der Drucker kein Papier mehr ein.")
	f.open = open["number"].(string)
	c.must(201, "POST", fmt.Sprintf("/api/v1/tickets/%d/comments", id(open)), map[string]any{"body": "Danke, wir kommen morgen in der 2. Pause vorbei."})
	res := ticket(projector, lamp, "Beamer flackert im Raum 1.12", "Das Bild flackert alle paar Sekunden, auch nach einem Neustart.")
	f.resolved = res["number"].(string)
	c.must(201, "POST", fmt.Sprintf("/api/v1/tickets/%d/comments", id(res)), map[string]any{"body": "Kabel getauscht, das Bild ist wieder ruhig."})
	c.must(200, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", id(res)), map[string]any{"status": "resolved"})
	again := ticket(printer, jam, "Drucker druckt nur leere Seiten", "Die Seiten kommen leer heraus.")
	f.reopen = again["number"].(string)
	c.must(200, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", id(again)), map[string]any{"status": "resolved"})
	col := c.must(201, "POST", "/api/v1/tickets", map[string]any{"type": "incident", "title": "Papierstau im Lehrerzimmer", "category_id": jam,
		"impact": 3, "urgency": 3, "ci_ids": []int64{printer}, "channel": "phone", "on_behalf_of": "Herr Yılmaz"})
	f.colleagues = col["number"].(string)

	oauth, _, oroom, _ := c.tenant("FRM")
	other := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": oauth, "room_id": oroom, "class": "printer", "vendor": "HP", "serial": "FRM-PR-1"}))
	f.foreignCI = other
	f.foreign = c.must(201, "POST", "/api/v1/tickets", map[string]any{"type": "incident", "title": "Fremdes Ticket", "category_id": jam,
		"impact": 3, "urgency": 3, "ci_ids": []int64{other}, "channel": "phone"})["number"].(string)
	return f
}

// signInCookie signs in through the JSON API and returns the session cookie.
func (c *client) signInCookie(email, password string) string {
	c.t.Helper()
	data, _ := json.Marshal(map[string]any{"email": email, "password": password})
	resp, err := http.Post(c.base+"/auth/login", "application/json", bytes.NewReader(data))
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "cmdb_session" && ck.Value != "" {
			return ck.Name + "=" + ck.Value
		}
	}
	c.t.Fatalf("sign-in of %s: %d, no session cookie", email, resp.StatusCode)
	return ""
}

// withCookie performs a request as a signed-in browser session.
func (c *client) withCookie(cookie string, want int, method, path string, body any) map[string]any {
	c.t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, c.base+path, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: %d, want %d: %v", method, path, resp.StatusCode, want, out)
	}
	return out
}

// browser drives one headless Chromium tab.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	axe  string
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: scripts/test installs it (Debian package chromium)", chromium)
		}
		t.Skipf("%s is missing: install Debian's chromium (scripts/test does) to run the browser tests", chromium)
	}
	axe, err := os.ReadFile(filepath.Join("..", "..", "server", "web", "testdata", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("lang", "de-DE"), chromedp.Flag("accept-lang", "de-DE,de"),
		chromedp.UserDataDir(t.TempDir()))
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	return &browser{t: t, ctx: ctx, base: base, axe: string(axe)}
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// open loads a page of the portal.
func (b *browser) open(path string) { b.t.Helper(); b.do(chromedp.Navigate(b.base + path)) }

// submit clicks a button that sends a form and waits for the next page.
func (b *browser) submit(sel string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		b.t.Fatalf("submit %s: %v", sel, err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	// A missing element fails in seconds, not at the test's deadline.
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *browser) eval(js string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("eval %s: %v", js, err)
	}
	return s
}

// path is the path and query of the page shown.
func (b *browser) path() string { return b.eval(`location.pathname + location.search`) }

// expect fails unless the element's visible text holds want.
func (b *browser) expect(sel, want string) {
	b.t.Helper()
	if got := b.text(sel); !strings.Contains(got, want) {
		b.t.Errorf("%s on %s reads %q, want %q", sel, b.path(), got, want)
	}
}

// checkPage runs axe-core on the page (WCAG 2.1 A and AA, and best
// practice) and fails on any violation; it also checks that nothing
// overflows sideways (reflow at narrow widths).
func (b *browser) checkPage(name string) {
	b.t.Helper()
	if b.eval(`typeof axe`) != "object" {
		b.do(chromedp.Evaluate[chromedp.Void](b.axe))
	}
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
		.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)}))))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe on %s: %v", name, err)
	}
	if out != "[]" {
		b.t.Errorf("axe-core finds violations on %s (%s):\n%s", name, b.path(), out)
	}
	if over := b.eval(`String(document.documentElement.scrollWidth > window.innerWidth)`); over != "false" {
		b.t.Errorf("%s scrolls sideways at width %s", name, b.eval(`String(window.innerWidth)`))
	}
}

// shot writes a full-page screenshot to screenshotDir.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) viewport(w, h int64) {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(w, h, chromedp.EmulateScale(2), chromedp.EmulateMobile))
}

// TestPortalTeacher drives the portal as a teacher on a phone: sign-in
// (a wrong password first), the start page, her and her school's
// tickets, a ticket with its conversation, a comment, "solved", another
// authority's ticket, and the language switch; axe-core checks every
// page, at 390 and at 320 pixels wide.
func TestPortalTeacher(t *testing.T) {
	t.Parallel()
	c, logs := startServer(t)
	f := newPortalFixture(t, c)
	b := newBrowser(t, c.base)
	b.viewport(390, 844)

	// Asked for a page while signed out: the sign-in form, then back.
	b.open("/tickets")
	if p := b.path(); p != "/anmelden?next=%2Ftickets" {
		t.Fatalf("signed out, /tickets went to %s", p)
	}
	if lang := b.eval(`document.documentElement.lang`); lang != "de" {
		t.Errorf("html lang = %q, want de", lang)
	}
	// The authority signs its people in by single sign-on: the sign-in page
	// offers it beside the password form.
	if code, _ := c.do("PUT", fmt.Sprintf("/api/v1/authorities/%d/oidc", f.auth), map[string]any{
		"issuer": "https://login.schulen.example", "client_id": "cmdb", "client_secret": "oidc-client-secret",
		"rules": []map[string]any{{"claim": "groups", "value": "lehrer", "role": "teacher", "org_id": f.school}}}); code/100 != 2 {
		t.Fatalf("set up single sign-on: %d", code)
	}
	b.open("/tickets")
	// Its link carries the page asked for, so that the sign-in returns there.
	if got := b.eval(`(document.querySelector('a[href="/auth/oidc/WEB/login?next=%2Ftickets"]') || {}).textContent || ""`); !strings.Contains(got, "Anmelden über Stadt WEB") {
		t.Errorf("sign-in page offers single sign-on as %q, want a link \"Anmelden über Stadt WEB\" back to /tickets", got)
	}
	b.checkPage("sign-in")
	b.shot("01-anmelden")
	b.do(chromedp.SendKeys(chromedp.ID("email"), f.email), chromedp.SendKeys(chromedp.ID("password"), "falsch-falsch-falsch"))
	b.submit(`button[type=submit].primary`)
	b.expect("#password-error", "E-Mail-Adresse oder Passwort ist falsch")
	if v := b.eval(`document.getElementById("email").value`); v != f.email {
		t.Errorf("after a wrong password the e-mail field holds %q", v)
	}
	if d := b.eval(`document.getElementById("password").getAttribute("aria-describedby")`); d != "password-error" {
		t.Errorf("password field is described by %q, want the error", d)
	}
	b.checkPage("sign-in with error")
	b.shot("02-anmelden-fehler")
	b.do(chromedp.SendKeys(chromedp.ID("password"), webPassword))
	b.submit(`button[type=submit].primary`)
	if p := b.path(); p != "/tickets" {
		t.Fatalf("after sign-in: %s, want /tickets", p)
	}

	b.open("/")
	b.expect("h1", "Guten Tag, Anna Schmidt")
	b.expect(".actions", "Problem melden")
	b.expect(".actions", "Etwas beantragen")
	b.expect(".actions", "Meine Tickets")
	b.expect(".top", "Anna Schmidt")
	b.checkPage("start")
	b.shot("03-start")
	// Keyboard: skip link, brand, language, sign-out, then the first big
	// button, which shows where the focus is.
	for range 5 {
		b.do(chromedp.KeyEvent(kb.Tab))
	}
	if got := b.eval(`document.activeElement.querySelector(".action-title")?.textContent ?? document.activeElement.outerHTML`); got != "Problem melden" {
		t.Errorf("the fifth Tab focuses %q, want Problem melden", got)
	}
	if o := b.eval(`getComputedStyle(document.activeElement).outlineStyle + " " + getComputedStyle(document.activeElement).outlineWidth`); o != "solid 3px" {
		t.Errorf("the focused button's outline is %q, want a visible 3px ring", o)
	}
	b.shot("03b-start-fokus")

	b.open("/tickets")
	list := b.text(".tickets")
	for _, want := range []string{f.open, f.resolved, f.colleagues, "Drucker im Raum 1.12 zieht kein Papier ein", "Neu", "Gelöst", "von Ihnen"} {
		if !strings.Contains(list, want) {
			t.Errorf("my tickets lack %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, f.foreign) {
		t.Errorf("my tickets show another authority's ticket %s", f.foreign)
	}
	today := time.Now().In(mustZone(t)).Format("02.01.2006")
	if !strings.Contains(list, "gemeldet am "+today) {
		t.Errorf("my tickets lack the German date %s:\n%s", today, list)
	}
	b.checkPage("my tickets")
	b.shot("04-meine-tickets")
	// Only hers: the colleague's (phoned in for Herr Yılmaz) goes.
	b.submit(`.tabs a[href="/tickets?nur=meine"]`)
	if mine := b.text(".tickets"); strings.Contains(mine, f.colleagues) || !strings.Contains(mine, f.open) {
		t.Errorf("only hers lists:\n%s", mine)
	}
	if cur := b.text(`.tabs a[aria-current="page"]`); cur != "Nur meine" {
		t.Errorf("the current tab reads %q", cur)
	}
	b.checkPage("my tickets, only mine")

	// The open ticket: place, device and IT's answer; a comment.
	b.open("/tickets/" + f.open)
	b.expect("h1", "Drucker im Raum 1.12 zieht kein Papier ein")
	b.expect(".facts", "Drucker Raum 1.12")
	b.expect(".facts", "Raum 1.12")
	b.expect(".facts", "Neu")
	b.expect(".comments", "Danke, wir kommen morgen in der 2. Pause vorbei.")
	b.submit(`button[value=comment]`) // empty: refused next to the field
	b.expect("#body-error", "Bitte schreiben Sie einen Kommentar")
	b.checkPage("ticket with error")
	b.do(chromedp.SendKeys(chromedp.ID("body"), "Morgen früh bin ich ab 7:45 Uhr im Raum."))
	b.submit(`button[value=comment]`)
	if p := b.path(); !strings.HasPrefix(p, "/tickets/"+f.open+"?ok=comment") {
		t.Errorf("after the comment: %s", p)
	}
	b.expect(".notice", "Ihr Kommentar wurde gespeichert.")
	b.expect(".comments", "Morgen früh bin ich ab 7:45 Uhr im Raum.")
	b.checkPage("ticket")
	b.shot("05-ticket")

	// The resolved ticket: she confirms the solution, and it is closed.
	b.open("/tickets/" + f.resolved)
	b.expect(".decide", "Ist das Problem gelöst?")
	b.checkPage("resolved ticket")
	b.shot("06-ticket-geloest")
	b.submit(`button[value=confirm]`)
	b.expect(".notice", "Das Ticket ist jetzt geschlossen.")
	b.expect(".facts", "Geschlossen")
	got := c.must(200, "GET", "/api/v1/tickets?q="+f.resolved, nil)
	if st := asSlice(got["items"])[0].(map[string]any)["status"]; st != "closed" {
		t.Errorf("confirmed ticket has status %v", st)
	}
	// The other resolved one is not solved for her: she reopens it.
	b.open("/tickets/" + f.reopen)
	b.submit(`button[value=reopen]`)
	b.expect(".notice", "Das Ticket ist wieder offen.")
	b.expect(".facts", "In Bearbeitung")
	if n := b.eval(`String(document.querySelectorAll(".decide").length)`); n != "0" {
		t.Errorf("a reopened ticket still offers the reporter's buttons")
	}
	// Not hers to decide: no buttons on a colleague's ticket.
	b.open("/tickets/" + f.colleagues)
	if n := b.eval(`String(document.querySelectorAll(".decide").length)`); n != "0" {
		t.Errorf("a colleague's ticket offers the reporter's buttons")
	}

	// Another authority's ticket, by its number in the address: not found.
	b.open("/tickets/" + f.foreign)
	b.expect("h1", "Seite nicht gefunden")
	if strings.Contains(b.text("main"), "Fremdes Ticket") {
		t.Error("another authority's ticket shows its title")
	}
	b.checkPage("not found")

	// The first report step: her school's rooms, searchable without script.
	b.open("/melden")
	b.expect("main", "Raum 1.12")
	b.do(chromedp.SendKeys(chromedp.ID("q"), "lehrer"))
	// With script the list filters as she types; the form asks the server.
	if n := b.eval(`String([...document.querySelectorAll(".choices li")].filter(li => !li.hidden).length)`); n != "1" {
		t.Errorf("typing 'lehrer' leaves %s rooms shown, want 1", n)
	}
	b.submit(`.search button`)
	b.expect("main", "1 Raum passt")
	b.expect(".choices", "Lehrerzimmer")
	if strings.Contains(b.text(".choices"), "Raum 1.12") {
		t.Error("the room search keeps a room that does not match")
	}
	b.checkPage("report: rooms")
	b.open("/melden")
	b.open(b.eval(`[...document.querySelectorAll(".choices a")].find(a => a.textContent.includes("Raum 1.12")).getAttribute("href")`))
	b.expect(".devices", "Drucker Raum 1.12")
	b.expect(".devices", "WEB-00042")
	b.checkPage("report: devices")
	b.shot("07-raum-geraete")

	// At 320 pixels everything still fits.
	b.viewport(320, 640)
	b.open("/tickets/" + f.open)
	b.checkPage("ticket at 320 px")
	b.shot("08-ticket-320px")
	b.open("/")
	b.checkPage("start at 320 px")

	// English: the switch keeps her on the page and becomes her setting.
	b.viewport(390, 844)
	b.open("/tickets")
	b.submit(`form[action="/sprache"] button`)
	if p := b.path(); p != "/tickets" {
		t.Errorf("after the language switch: %s", p)
	}
	b.expect("h1", "My tickets")
	b.expect(".tickets", "New")
	if lang := b.eval(`document.documentElement.lang`); lang != "en" {
		t.Errorf("html lang = %q, want en", lang)
	}
	b.checkPage("my tickets in English")
	b.shot("09-my-tickets-en")
	users := c.must(200, "GET", "/api/v1/users", nil)
	for _, u := range asSlice(users["items"]) {
		if m := u.(map[string]any); m["email"] == f.email && m["language"] != "en" {
			t.Errorf("her language setting is %v after switching to English", m["language"])
		}
	}

	// Signed out, the portal pages send her to sign in again.
	b.submit(`form[action="/abmelden"] button`)
	if p := b.path(); p != "/anmelden" {
		t.Errorf("after sign-out: %s", p)
	}
	b.open("/")
	if p := b.path(); !strings.HasPrefix(p, "/anmelden") {
		t.Errorf("signed out, / shows %s", p)
	}
	if strings.Contains(logs.String(), webPassword) {
		t.Error("the password appears in the server log")
	}
}

// TestPortalPageWeight: the portal's pages stay light (HTML, CSS and
// script well under 100 KB); the sizes are logged for the record.
func TestPortalPageWeight(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	f := newPortalFixture(t, c)
	cookie := (&client{t: t, base: c.base}).signInCookie(f.email, webPassword)
	get := func(path string) (int, string) {
		req, _ := http.NewRequest("GET", c.base+path, nil)
		req.Header.Set("Cookie", cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q", path, csp)
		}
		return buf.Len(), buf.String()
	}
	_, html := get("/")
	assets := 0
	for _, a := range []string{"app.css", "app.js"} {
		i := strings.Index(html, "/static/"+a)
		if i < 0 {
			t.Fatalf("the start page does not load %s", a)
		}
		n, _ := get(html[i : i+strings.IndexByte(html[i:], '"')])
		assets += n
		t.Logf("%s: %d bytes", a, n)
	}
	for _, p := range []string{"/", "/tickets", "/tickets/" + f.open, "/melden", fmt.Sprintf("/melden/geraet/%d", f.printer)} {
		n, _ := get(p)
		t.Logf("page %s: %d bytes HTML, %d with CSS and JS", p, n, n+assets)
		if n+assets > 100_000 {
			t.Errorf("page %s weighs %d bytes with its CSS and JS, over 100 KB", p, n+assets)
		}
	}
}

// TestPortalLanguageFollowsBrowser: a person who never chose a language
// sees the portal in their browser's; one who chose keeps their choice.
func TestPortalLanguageFollowsBrowser(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	f := newPortalFixture(t, c)
	c.must(201, "POST", "/api/v1/users", map[string]any{"email": "tom.berg@gymnasium-am-see.de", "name": "Tom Berg", "password": webPassword,
		"memberships": []map[string]any{{"role": "teacher", "org_id": f.school}}})
	c.must(201, "POST", "/api/v1/users", map[string]any{"email": "eva.roth@gymnasium-am-see.de", "name": "Eva Roth", "password": webPassword,
		"language": "de", "memberships": []map[string]any{{"role": "teacher", "org_id": f.school}}})
	lang := func(email string) string {
		cookie := (&client{t: t, base: c.base}).signInCookie(email, webPassword)
		req, _ := http.NewRequest("GET", c.base+"/", nil)
		req.Header.Set("Cookie", cookie)
		req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET / as %s: %d", email, resp.StatusCode)
		}
		return resp.Header.Get("Content-Language")
	}
	if got := lang("tom.berg@gymnasium-am-see.de"); got != "en" {
		t.Errorf("a teacher who never chose, with an English browser, gets %q, want en", got)
	}
	if got := lang("eva.roth@gymnasium-am-see.de"); got != "de" {
		t.Errorf("a teacher who chose German, with an English browser, gets %q, want de", got)
	}
	u := c.must(200, "GET", "/api/v1/users", nil)
	for _, it := range asSlice(u["items"]) {
		m := it.(map[string]any)
		if m["email"] == "tom.berg@gymnasium-am-see.de" && m["language"] != nil {
			t.Errorf("a user who never chose shows language %v", m["language"])
		}
	}
}

// TestPortalWithoutScript: with JavaScript off, a teacher still signs
// in, finds a room by the search form and adds a comment.
func TestPortalWithoutScript(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	f := newPortalFixture(t, c)
	b := newBrowser(t, c.base)
	b.viewport(390, 844)
	if _, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	b.open("/tickets/" + f.open)
	b.do(chromedp.SendKeys(chromedp.ID("email"), f.email), chromedp.SendKeys(chromedp.ID("password"), webPassword))
	b.submit(`button[type=submit].primary`)
	if p := b.path(); p != "/tickets/"+f.open {
		t.Fatalf("after sign-in: %s, want the ticket asked for", p)
	}
	b.do(chromedp.SendKeys(chromedp.ID("body"), "Ohne Skript geschrieben."))
	b.submit(`button[value=comment]`)
	b.expect(".comments", "Ohne Skript geschrieben.")
	b.open("/melden")
	b.do(chromedp.SendKeys(chromedp.ID("q"), "1.12"))
	if n := b.eval(`String([...document.querySelectorAll("section:not(.recent) .choices li")].filter(li => !li.hidden).length)`); n != "2" {
		t.Fatalf("the room list filtered itself (%s shown): the page's script ran", n)
	}
	b.submit(`.search button`)
	b.expect("main", "1 Raum passt")
	b.expect(".choices", "Raum 1.12")
	// A report on a device, photo field and all, is a plain form too.
	b.open(fmt.Sprintf("/melden/geraet/%d", f.projector))
	b.do(chromedp.Click(chromedp.Search(`//label[contains(., "Lampe")]`)), chromedp.SendKeys(chromedp.ID("description"), "Lampe aus."),
		chromedp.Click(chromedp.Search(`//label[contains(., "Es kann warten")]`)))
	b.submit(`form.form button[type=submit]`)
	b.expect("main", "Wir kümmern uns darum")
}
