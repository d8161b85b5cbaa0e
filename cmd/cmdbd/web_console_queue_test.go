package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"
)

// TestConsoleQueue drives the staff queue in a browser at a desk's width:
// authority IT signs in, sees the queue with its counts, saves a filter,
// opens a ticket, assigns it, escalates it to level 2 and hands it to a
// provider; an edit made on a page someone else changed meanwhile is
// refused with what changed. The provider's staff sign in, see the ticket
// (and nothing else of the authority), comment and set it waiting, and
// cannot open another provider's ticket by its URL (also at 320 pixels
// wide). IT resolves it with a solution and drafts a knowledge-base
// article from it, and takes a phone call for a teacher. axe-core checks
// every page.
func TestConsoleQueue(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, school, room, _ := c.tenant("QUE")
	provider := func(code, name string) int64 {
		return id(c.must(201, "POST", "/api/v1/providers", map[string]any{"code": code, "name": name, "authority_ids": []int64{auth}}))
	}
	nord, sued := provider("NORD", "Systemhaus Nord"), provider("SUED", "Druckerdienst Süd")
	user := func(email, name, role string, org int64) int64 {
		return id(c.must(201, "POST", "/api/v1/users", map[string]any{"email": email, "name": name, "password": webPassword,
			"memberships": []map[string]any{{"role": role, "org_id": org}}}))
	}
	itID := user("jonas.weber@stadt-que.de", "Jonas Weber", "authority_it", auth)
	user("mia.krause@systemhaus-nord.de", "Mia Krause", "provider", nord)
	user("anna.schmidt@gymnasium-am-see.de", "Anna Schmidt", "teacher", school)
	printer := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "room_id": room, "class": "printer",
		"name": "Drucker Raum 1.12", "vendor": "HP", "model": "LaserJet M404dn", "serial": "QUE-PR-1"}))
	projector := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "room_id": room, "class": "projector",
		"name": "Beamer Raum 1.12", "vendor": "Epson", "model": "EB-W49", "serial": "QUE-BM-1"}))
	category := func(class, name string) int64 {
		for _, it := range asSlice(c.must(200, "GET", "/api/v1/ticket-categories?class="+class, nil)["items"]) {
			if m := it.(map[string]any); m["class"] == class && m["name"] == name {
				return id(m)
			}
		}
		t.Fatalf("no category %s/%s", class, name)
		return 0
	}
	ticket := func(ci, cat int64, title string) map[string]any {
		return c.must(201, "POST", "/api/v1/tickets", map[string]any{"type": "incident", "title": title, "description": "Seit der 3. Stunde.",
			"category_id": cat, "impact": 3, "urgency": 2, "ci_ids": []int64{ci}, "channel": "portal"})
	}
	jam := ticket(printer, category("printer", "Papierstau"), "Drucker zieht kein Papier ein")
	lamp := ticket(projector, category("projector", "Lampe"), "Beamer flackert")
	c.must(200, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", id(lamp)), map[string]any{"provider_id": sued, "level": 2})
	jamNo, lampNo := jam["number"].(string), lamp["number"].(string)

	// A browser per person: each has its own deadline, and the provider
	// starts with no trace of IT's session.
	var b *browser
	signIn := func(email string) {
		t.Helper()
		b = newBrowser(t, c.base)
		b.viewport(1280, 900)
		b.open("/anmelden?next=%2Ftickets")
		b.do(chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), webPassword))
		b.submit(`button[type=submit].primary`)
		if p := b.path(); p != "/tickets" {
			t.Fatalf("after sign-in of %s: %s", email, p)
		}
	}
	signOut := func() {
		t.Helper()
		b.submit(`form[action="/abmelden"] button`)
		if p := b.path(); p == "/tickets" {
			t.Errorf("still on %s after signing out", p)
		}
	}
	set := func(sel, value string) { t.Helper(); b.do(chromedp.SetValue(chromedp.CSS(sel), value)) }

	// The queue.
	signIn("jonas.weber@stadt-que.de")
	b.expect("h1", "Tickets")
	b.expect("table.queue", jamNo)
	b.expect("table.queue", lampNo)
	queues := b.eval(`document.querySelector(".queues").textContent.replace(/\s+/g, " ")`)
	for _, want := range []string{"Alle offenen 2", "Neu 2", "Mir zugewiesen 0", "1st Level 1", "2nd Level 1", "SLA verletzt 0", "IT des Schulträgers 1", "Systemhaus Nord 0", "Druckerdienst Süd 1"} {
		if !strings.Contains(queues, want) {
			t.Errorf("the queues read %q, want %q", queues, want)
		}
	}
	b.expect("nav.console", "Geräte")
	b.checkPage("queue")
	b.shot("console-queue-01-liste")

	// A filter, saved under a name, and the list behind it.
	b.open("/tickets?status=open&group=authority&sort=due")
	b.expect("table.queue", jamNo)
	if got := b.text("table.queue"); strings.Contains(got, lampNo) {
		t.Errorf("the authority's own queue lists the provider's ticket %s", lampNo)
	}
	b.do(chromedp.SendKeys(chromedp.ID("filter-name"), "Unsere offenen"))
	b.submit(`form.save-form button[type=submit]`)
	b.expect(".notice", "Der Filter ist gespeichert")
	b.expect(".saved-list", "Unsere offenen")
	b.open("/tickets")
	b.submit(`.saved-list a`) // a link: the list it keeps
	if p := b.path(); !strings.Contains(p, "group=authority") || !strings.Contains(p, "sort=due") {
		t.Errorf("the saved filter opens %s", p)
	}
	b.checkPage("queue, saved filter")
	b.shot("console-queue-02-filter")

	// The ticket: assign, escalate and hand to a provider.
	b.open("/tickets/" + jamNo)
	b.expect("h1", "Drucker zieht kein Papier ein")
	b.expect(".ci-panel", "Drucker Raum 1.12")
	if href := b.eval(`document.querySelector(".ci-panel h2 a").getAttribute("href")`); href != fmt.Sprintf("/cis/%d", printer) {
		t.Errorf("the device panel links %s", href)
	}
	b.checkPage("ticket")
	set("#assignee", fmt.Sprint(itID))
	b.submit(`button[value=assign]`)
	b.expect(".notice", "Die Zuweisung ist gespeichert")
	b.expect(".facts", "Jonas Weber")
	b.expect(".facts", "Zugewiesen")
	// The queue by assignee: the person chosen from the list, or nobody.
	b.open("/tickets")
	b.do(chromedp.Click("details.filters summary"))
	if opts := b.text("#f-assignee"); !strings.Contains(opts, "Jonas Weber") || !strings.Contains(opts, "Niemandem zugewiesen") || strings.Contains(opts, "Anna Schmidt") {
		t.Errorf("the assignee filter offers %q, want IT and nobody, no teacher", opts)
	}
	for _, c := range []struct{ value, shows, hides string }{{fmt.Sprint(itID), jamNo, lampNo}, {"none", lampNo, jamNo}} {
		set("#f-assignee", c.value)
		b.submit(`form.filter-form button[type=submit]`)
		if p := b.path(); !strings.Contains(p, "assignee="+c.value) {
			t.Errorf("the assignee filter %s opens %s", c.value, p)
		}
		b.expect("table.queue", c.shows)
		if got := b.text("table.queue"); strings.Contains(got, c.hides) {
			t.Errorf("assignee %s: the queue lists %s", c.value, c.hides)
		}
	}
	b.checkPage("queue, by assignee")
	b.open("/tickets/" + jamNo)
	set("#level", "2")
	set("#group", fmt.Sprint(nord))
	b.submit(`button[value=escalate]`)
	b.expect(".notice", "Level und Gruppe sind gespeichert")
	b.expect(".facts", "Systemhaus Nord")
	b.expect(".facts", "Level 2")
	b.shot("console-queue-03-ticket")

	// A stale edit: a colleague raises the level while the page is open.
	c.must(200, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", id(jam)), map[string]any{"level": 3})
	set("#status", "in_progress")
	b.submit(`button[value=status]`)
	b.expect(".form-error", "Jemand hat das Ticket geändert")
	b.expect(".form-error .stale", "Level: 2 → 3")
	if st := c.must(200, "GET", fmt.Sprintf("/api/v1/tickets/%d", id(jam)), nil)["status"]; st != "assigned" {
		t.Errorf("the refused edit changed the status to %v", st)
	}
	b.checkPage("ticket, stale edit")
	b.shot("console-queue-04-veraltet")
	signOut()

	// The provider: their ticket only, and where to go for it.
	c.must(200, "PATCH", fmt.Sprintf("/api/v1/cis/%d", printer), map[string]any{"asset_tag": "QUE-INV-7"}) // a lock
	signIn("mia.krause@systemhaus-nord.de")
	b.expect("table.queue", jamNo)
	if got := b.text("main"); strings.Contains(got, lampNo) {
		t.Errorf("the provider sees another provider's ticket %s", lampNo)
	}
	if got := b.eval(`[...document.querySelectorAll("table.queue tbody tr")].map(r => r.textContent.replace(/\s+/g, " ")).join("|")`); !strings.Contains(got, "Gymnasium am See") {
		t.Errorf("the provider's queue reads %q, want the ticket's school", got)
	}
	if nav := b.text("nav.console"); strings.Contains(nav, "Geräte") {
		t.Errorf("the provider's navigation offers %q", nav)
	}
	b.checkPage("queue, provider")
	b.shot("console-queue-05-dienstleister")
	b.open("/tickets/" + jamNo)
	b.expect(".facts", "Systemhaus Nord")
	b.expect(".facts", "Gymnasium am See")
	b.expect(".ci-panel", "Raum 1.12")
	if n := b.eval(`String(document.querySelectorAll("button[value=assign], button[value=escalate], button[value=merge]").length)`); n != "0" {
		t.Errorf("the provider is offered %s forms of IT (assign, escalate, merge)", n)
	}
	b.do(chromedp.SendKeys(chromedp.ID("body"), "Ersatzteil ist bestellt, Einbau am Donnerstag."))
	b.submit(`button[value=comment]`)
	b.expect(".comments", "Ersatzteil ist bestellt")
	set("#status", "waiting")
	b.submit(`button[value=status]`)
	b.expect(".facts", "Wartet")
	b.checkPage("ticket, provider")
	// The device of the ticket: where it stands, to read, not to change.
	b.open(fmt.Sprintf("/cis/%d", printer))
	b.expect(".device-head", "Raum 1.12")
	b.expect(".device-head", "Gymnasium am See")
	b.expect(".locks", "QUE-INV-7")
	if n := b.eval(`String(document.querySelectorAll("main form[method=post]").length)`); n != "0" {
		t.Errorf("the provider is offered %s forms to change the device (edit, unlock)", n)
	}
	b.checkPage("device, provider")
	// Knowing where to go is no licence to report there.
	b.open(fmt.Sprintf("/melden/raum/%d", room))
	b.expect("h1", "Seite nicht gefunden")
	b.open("/melden")
	if got := b.text("main"); strings.Contains(got, "Gymnasium am See") {
		t.Errorf("the provider is offered the school to report in: %q", got)
	}
	b.open("/tickets/" + lampNo)
	b.expect("h1", "Seite nicht gefunden")
	b.viewport(320, 800)
	b.open("/tickets")
	b.checkPage("queue, provider, 320 wide")
	b.shot("console-queue-06-dienstleister-320")
	b.viewport(1280, 900)
	signOut()

	// IT merges a duplicate into it, resolves it with a solution, and
	// turns it into an article draft.
	dup := ticket(printer, category("printer", "Papierstau"), "Papierstau im Raum 1.12")["number"].(string)
	signIn("jonas.weber@stadt-que.de")
	// IT sees who of the provider wrote, though the provider's staff are
	// no users of the authority.
	b.open("/tickets/" + jamNo)
	b.expect(".comments", "Mia Krause")
	b.open("/tickets/" + dup)
	b.do(chromedp.SendKeys(chromedp.ID("into"), "QUE-0000"))
	b.submit(`button[value=merge]`)
	b.expect("#into-error", "Dieses Ticket gibt es nicht")
	b.do(chromedp.SetValue(chromedp.CSS("#into"), jamNo))
	b.submit(`button[value=merge]`)
	if p := b.path(); !strings.HasPrefix(p, "/tickets/"+jamNo) {
		t.Errorf("after the merge: %s, want the ticket that stays", p)
	}
	b.expect(".notice", "Das Duplikat ist in dieses Ticket übernommen")
	b.submit(`button[value=resolve]`)
	b.expect("#solution-error", "Bitte beschreiben Sie die Lösung")
	b.do(chromedp.SendKeys(chromedp.ID("solution"), "Einzugsrolle getauscht; der Drucker zieht wieder ein."))
	b.submit(`button[value=resolve]`)
	b.expect(".notice", "Das Ticket ist gelöst")
	b.expect(".facts", "Gelöst")
	b.submit(`button[value=kbdraft]`)
	b.expect(".notice", "ist angelegt")
	b.checkPage("ticket, resolved")
	b.shot("console-queue-07-geloest")

	// Phone intake for a teacher.
	b.open("/tickets/neu?q=Anna")
	b.checkPage("intake, person")
	b.submit(`.choices a`)
	b.expect(".steps", "Gymnasium am See")
	b.submit(fmt.Sprintf(`.choices a[href*="raum=%d"]`, room))
	b.submit(fmt.Sprintf(`a.device[href*="geraet=%d&"]`, projector))
	set("#category", fmt.Sprint(category("projector", "Lampe")))
	b.do(chromedp.SendKeys(chromedp.ID("description"), "Frau Schmidt ruft an: das Bild flackert wieder."))
	b.checkPage("intake, form")
	b.shot("console-queue-08-telefon")
	b.submit(`form[action="/tickets/neu"] button[type=submit]`)
	b.expect(".notice", "Das Ticket ist angelegt")
	b.expect(".facts", "Telefon")
	b.expect(".facts", "Anna Schmidt")

	// The list as a file: the rows the queue shows, all of them.
	cookie := c.signInCookie("jonas.weber@stadt-que.de", webPassword)
	req, _ := http.NewRequest("GET", c.base+"/tickets?status=all&format=xlsx", nil)
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	x, err := excelize.OpenReader(resp.Body)
	if err != nil {
		t.Fatalf("the XLSX export (%d, %s) does not open: %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	rows, err := x.GetRows("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	var numbers []string
	for _, r := range rows[1:] {
		numbers = append(numbers, r[0])
	}
	if rows[0][0] != "Nummer" || len(rows) != 5 || !slices.Contains(numbers, jamNo) || !slices.Contains(numbers, dup) {
		t.Errorf("the export holds %v, want the header and the 4 tickets", rows)
	}
}
