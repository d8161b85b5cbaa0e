package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func userIDByEmail(c *client, email string) int64 {
	c.t.Helper()
	for _, u := range asSlice(c.must(200, "GET", "/api/v1/users", nil)["items"]) {
		if m := u.(map[string]any); m["email"] == email {
			return id(m)
		}
	}
	c.t.Fatalf("no user %s", email)
	return 0
}

// TestPortalSessionEnds: a teacher's session ends while she fills a form
// (IT signs her out everywhere). Sending it asks her to sign in, then
// shows the form again with what she typed — the report's category,
// description and urgency (the photo chosen must be chosen again, and
// the form says so), a comment, a service request's answers — and one
// more submit makes one ticket. A colleague who signs in next on the same
// browser never sees it.
func TestPortalSessionEnds(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	f := newPortalFixture(t, c)
	anna := userIDByEmail(c, f.email)
	colleague := "bernd.weber@gymnasium-am-see.de"
	c.must(201, "POST", "/api/v1/users", map[string]any{"email": colleague, "name": "Bernd Weber", "password": webPassword,
		"memberships": []map[string]any{{"role": "teacher", "org_id": f.school}}})
	svc := id(c.must(201, "POST", "/api/v1/services", map[string]any{"authority_id": f.auth, "name": "Beamer ausleihen",
		"form": []map[string]any{{"key": "wann", "label": "Wann?", "type": "text", "required": true},
			{"key": "hinweise", "label": "Hinweise", "type": "textarea"}}}))
	expire := func() {
		t.Helper()
		c.must(204, "POST", fmt.Sprintf("/api/v1/users/%d/sign-out-everywhere", anna), nil)
	}
	b := newBrowser(t, c.base)
	b.viewport(390, 844)
	signIn := func(email string) {
		t.Helper()
		b.do(chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), webPassword))
		b.submit(`form[action="/anmelden"] button[type=submit]`)
	}
	device := fmt.Sprintf("/melden/geraet/%d", f.projector)
	b.open(device)
	signIn(f.email)
	key := b.eval(`document.querySelector("input[name=key]").value`)
	description := "Der Beamer geht nach zehn Minuten aus, der Lüfter ist sehr laut. Raum 1.12, 3. Stunde."
	b.do(chromedp.Click(chromedp.Search(`//label[contains(., "Lampe")]`)), chromedp.SendKeys(chromedp.ID("description"), description),
		chromedp.Click(chromedp.Search(`//label[contains(., "eingeschränkt")]`)))
	photo := filepath.Join(t.TempDir(), "beamer.png")
	os.WriteFile(photo, pngBytes(t), 0o644)
	b.do(chromedp.SetUploadFiles(chromedp.CSS(`#photo`), []string{photo}))
	total := c.must(200, "GET", "/api/v1/tickets", nil)["total"]

	expire()
	b.submit(`form.form button[type=submit]`)
	if p := b.path(); p != "/anmelden?next="+url.QueryEscape(device)+"&entwurf=kept" {
		t.Fatalf("a report sent after the session ended shows %s", p)
	}
	b.expect(".notice", "Ihre Eingaben sind aufbewahrt")
	b.checkPage("sign-in with a kept form")
	b.shot("24-sitzung-abgelaufen")
	if got := c.must(200, "GET", "/api/v1/tickets", nil)["total"]; got != total {
		t.Errorf("a report sent without a session opened a ticket: %v → %v", total, got)
	}
	signIn(f.email)
	if p := b.path(); p != device {
		t.Fatalf("after sign-in: %s, want the form at %s", p, device)
	}
	b.expect(".notice.info", "Hier ist, was Sie eingegeben hatten")
	b.expect(".notice.info", "Ein Foto kann nicht aufbewahrt werden")
	b.expect("#photo-lost", "Bitte wählen Sie es noch einmal aus")
	if got := b.eval(`document.getElementById("description").value`); got != description {
		t.Errorf("the form shows the description %q, want %q", got, description)
	}
	if got := b.eval(`[...document.querySelectorAll("input:checked")].map(i => i.closest("label").textContent.trim()).join("|")`); got != "Lampe|Der Unterricht ist eingeschränkt" {
		t.Errorf("the form shows the choices %q", got)
	}
	if got := b.eval(`document.querySelector("input[name=key]").value`); got != key {
		t.Errorf("the form's key changed over the sign-in: %q → %q", key, got)
	}
	b.checkPage("report form kept over a sign-in")
	b.shot("25-formular-wiederhergestellt")
	b.submit(`form.form button[type=submit]`)
	if p := b.path(); !strings.HasPrefix(p, "/gemeldet/") {
		t.Fatalf("the kept form sent: %s\n%s", p, b.text("main"))
	}
	number := strings.TrimSpace(b.text(".big-number"))
	found := asSlice(c.must(200, "GET", "/api/v1/tickets?q="+url.QueryEscape("zehn Minuten aus"), nil)["items"])
	if len(found) != 1 || found[0].(map[string]any)["number"] != number || found[0].(map[string]any)["urgency"] != 2.0 {
		t.Errorf("the kept report made %v, want one ticket %s", found, number)
	}
	// The draft is gone once shown: the form comes back empty.
	b.open(device)
	if got := b.eval(`document.getElementById("description").value`); got != "" {
		t.Errorf("the draft is shown a second time: %q", got)
	}

	// A comment, the same way.
	b.open("/tickets/" + f.open)
	b.do(chromedp.SendKeys(chromedp.ID("body"), "Heute bin ich bis 14 Uhr im Raum."))
	expire()
	b.submit(`button[value=comment]`)
	signIn(f.email)
	if got := b.eval(`document.getElementById("body").value`); got != "Heute bin ich bis 14 Uhr im Raum." {
		t.Errorf("after sign-in the comment holds %q", got)
	}
	b.submit(`button[value=comment]`)
	b.expect(".comments", "Heute bin ich bis 14 Uhr im Raum.")
	if n := strings.Count(b.text(".comments"), "Heute bin ich bis 14 Uhr"); n != 1 {
		t.Errorf("the kept comment is there %d times", n)
	}

	// A service request, and a colleague on the same browser: the form
	// kept for Anna is not his to see, and it is dropped.
	form := fmt.Sprintf("/beantragen/%d", svc)
	b.open(form)
	b.do(chromedp.SendKeys(chromedp.ID("f_wann"), "Dienstag, 4. Stunde"), chromedp.SendKeys(chromedp.ID("f_hinweise"), "Mit HDMI-Kabel bitte."))
	expire()
	b.submit(`form.form button[type=submit]`)
	b.expect(".notice", "Ihre Eingaben sind aufbewahrt")
	signIn(colleague)
	if p := b.path(); p != form {
		t.Fatalf("the colleague's sign-in shows %s", p)
	}
	if got := b.eval(`document.getElementById("f_wann").value + document.getElementById("f_hinweise").value`); got != "" {
		t.Errorf("the colleague sees Anna's answers %q", got)
	}
	if strings.Contains(b.text("main"), "Hier ist, was Sie eingegeben hatten") {
		t.Error("the colleague is told of a kept form")
	}
	b.submit(`form[action="/abmelden"] button`)
	b.open(form)
	signIn(f.email)
	if got := b.eval(`document.getElementById("f_wann").value`); got != "" {
		t.Errorf("Anna's draft outlived the colleague's visit: %q", got)
	}

	// The same once more for Anna herself: her answers come back and one
	// submit sends the request.
	b.do(chromedp.SendKeys(chromedp.ID("f_wann"), "Mittwoch, 2. Stunde"))
	expire()
	b.submit(`form.form button[type=submit]`)
	signIn(f.email)
	if got := b.eval(`document.getElementById("f_wann").value`); got != "Mittwoch, 2. Stunde" {
		t.Errorf("after sign-in the request holds %q", got)
	}
	b.submit(`form.form button[type=submit]`)
	b.expect("h1", "Danke für Ihren Antrag")
	if tk := ticketByNumber(c, strings.TrimSpace(b.text(".big-number"))); tk["form_answers"].(map[string]any)["wann"] != "Mittwoch, 2. Stunde" {
		t.Errorf("the kept request is %v", tk)
	}
}

// TestPortalLiveStatus: My tickets shows a status IT changes while the
// page is open, without a reload, and says it to screen readers; the
// status endpoint answers only what the caller may see.
func TestPortalLiveStatus(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	f := newPortalFixture(t, c)
	cookie := c.signInCookie(f.email, webPassword)
	if r := getWithCookie(t, c.base+"/live/tickets?n="+f.foreign, cookie); r.code != 404 {
		t.Errorf("the status of another authority's ticket: %d", r.code)
	}
	if r := getWithCookie(t, c.base+"/live/tickets?n="+f.open, cookie); r.code != 200 || !strings.Contains(r.body, `"status":"new"`) || !strings.Contains(r.body, `"label":"Neu"`) {
		t.Errorf("the status of her ticket: %d %s", r.code, r.body)
	}
	if r := getWithCookie(t, c.base+"/live/tickets", cookie); strings.Contains(r.body, f.foreign) || !strings.Contains(r.body, f.colleagues) {
		t.Errorf("the statuses of My tickets: %s", r.body)
	}

	b := newBrowser(t, c.base)
	b.viewport(390, 844)
	b.open("/tickets")
	b.do(chromedp.SendKeys(chromedp.ID("email"), f.email), chromedp.SendKeys(chromedp.ID("password"), webPassword))
	b.submit(`button[type=submit].primary`)
	chip := fmt.Sprintf(`[data-live=%q]`, f.open)
	b.expect(chip, "Neu")
	b.eval(`window.stayed = "yes"`) // gone if the page were loaded again
	tk := ticketByNumber(c, f.open)
	c.must(200, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", id(tk)), map[string]any{"status": "in_progress"})
	deadline := time.Now().Add(45 * time.Second) // the page asks every 20 s
	for !strings.Contains(b.text(chip), "In Bearbeitung") {
		if time.Now().After(deadline) {
			t.Fatalf("the changed status never appeared: %q", b.text(chip))
		}
		time.Sleep(500 * time.Millisecond)
	}
	if b.eval(`String(window.stayed)`) != "yes" {
		t.Error("the page was loaded again")
	}
	if got := b.eval(`document.getElementById("live-say").textContent`); !strings.Contains(got, f.open) || !strings.Contains(got, "In Bearbeitung") {
		t.Errorf("the live region says %q", got)
	}
	if cls := b.eval(`document.querySelector('` + chip + `').className`); !strings.Contains(cls, "status-in_progress") || strings.Contains(cls, "status-new") {
		t.Errorf("the chip's class is %q", cls)
	}
	b.checkPage("my tickets after a live change")
}
