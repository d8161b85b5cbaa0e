package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"
)

// getAs fetches a page as a signed-in browser session would.
func getAs(t *testing.T, base, cookie, path string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestConsoleAdmin drives the administration as the authority's IT at a
// desk: a room (refused first: the message next to the field, the typed
// text kept), a user with memberships and a new name (a taken address
// refused first), a knowledge-base article, an SNMP
// credential profile whose secret never reaches the page, an enrolment
// token shown once, the calendar, the repeat-failure and model-pattern
// rules, the audit log with the changes, an
// export as XLSX with the rows shown; axe-core on every page (and one at
// 320 pixels); teachers and providers are refused, another authority's
// room is not found.
func TestConsoleAdmin(t *testing.T) {
	t.Parallel()
	c, logs := startServer(t)
	auth, school, room, _ := c.tenant("ADM")
	const itEmail = "it@stadt-adm.de"
	c.must(201, "POST", "/api/v1/users", map[string]any{"email": itEmail, "name": "Jonas Weber", "password": webPassword,
		"memberships": []map[string]any{{"role": "authority_it", "org_id": auth}}})
	_, _, foreignRoom, _ := c.tenant("FRM")

	// Each browser has 90 seconds; the walk takes three.
	signedIn := func() *browser {
		b := newBrowser(t, c.base)
		b.do(chromedp.EmulateViewport(1280, 900))
		b.open("/verwaltung")
		b.do(chromedp.SendKeys(chromedp.ID("email"), itEmail), chromedp.SendKeys(chromedp.ID("password"), webPassword))
		b.submit(`button[type=submit].primary`)
		if p := b.path(); p != "/verwaltung" {
			t.Fatalf("after sign-in: %s, want /verwaltung", p)
		}
		return b
	}
	b := signedIn()
	b.expect("h1", "Verwaltung")
	for _, want := range []string{"Räume", "Benutzer", "Ticket-Kategorien", "SLA-Ziele", "Wissensdatenbank", "Protokoll", "SNMP-Zugangsprofile", "Anmeldetokens"} {
		b.expect(".admin-start", want)
	}
	b.expect(`nav.console a[aria-current="page"]`, "Verwaltung")
	b.checkPage("admin start")
	b.shot("console-admin-01-start")

	// A room: a bad code is refused next to the field, what was typed stays.
	b.open("/verwaltung/raeume/neu")
	b.do(chromedp.SendKeys(chromedp.ID("obj-code"), "1 12 neu"), chromedp.SendKeys(chromedp.ID("obj-name"), "Physikraum"))
	b.submit(`form.admin-form button[type=submit]`)
	b.expect("#obj-code-error", "Nur Buchstaben, Ziffern")
	if v := b.eval(`document.getElementById("obj-code").value + "|" + document.getElementById("obj-name").value`); v != "1 12 neu|Physikraum" {
		t.Errorf("the refused form holds %q", v)
	}
	if d := b.eval(`document.getElementById("obj-code").getAttribute("aria-describedby")`); !strings.Contains(d, "obj-code-error") {
		t.Errorf("the code field is described by %q, want its error", d)
	}
	b.checkPage("new room refused")
	b.shot("console-admin-02-raum-fehler")
	b.do(chromedp.SetValue(chromedp.ID("obj-code"), "PH1"))
	b.submit(`form.admin-form button[type=submit]`)
	if p := b.path(); !strings.HasPrefix(p, "/verwaltung/raeume/") || !strings.HasSuffix(p, "?ok=created") {
		t.Fatalf("after creating the room: %s", p)
	}
	b.expect(".notice", "Angelegt.")
	b.do(chromedp.SetValue(chromedp.ID("obj-name"), "Physikraum 1"))
	b.submit(`#edit-h ~ form button[type=submit]`)
	b.expect(".notice", "Gespeichert.")
	b.expect("h1", "Physikraum 1")
	b.checkPage("room")
	// The old room is still in use by nothing; the new one has nothing in
	// it either, but the rooms list shows both.
	b.open("/verwaltung/raeume")
	b.expect("table", "Physikraum 1")
	b.expect("table", "Raum 1.12")
	rows := b.eval(`String(document.querySelectorAll("table tbody tr").length)`)
	b.checkPage("rooms")
	b.shot("console-admin-03-raeume")

	// The export holds the rows shown.
	cookie := (&client{t: t, base: c.base}).signInCookie(itEmail, webPassword)
	code, body := getAs(t, c.base, cookie, "/verwaltung/raeume?format=xlsx")
	if code != 200 {
		t.Fatalf("xlsx export: %d", code)
	}
	x, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the export is no XLSX: %v", err)
	}
	sheet, _ := x.GetRows(x.GetSheetList()[0])
	if fmt.Sprint(len(sheet)-1) != rows || sheet[0][0] != "Name" {
		t.Errorf("the export has %d rows with header %v, the page shows %s", len(sheet)-1, sheet[0], rows)
	}
	found := false
	for _, r := range sheet {
		found = found || (len(r) > 1 && r[0] == "Physikraum 1" && r[1] == "PH1")
	}
	if !found {
		t.Errorf("the export lacks the new room: %v", sheet)
	}
	if code, body := getAs(t, c.base, cookie, "/verwaltung/raeume?format=csv"); code != 200 || !bytes.HasPrefix(body, []byte("\ufeffName;")) {
		t.Errorf("csv export: %d %q", code, body[:min(len(body), 40)])
	}

	// Another authority's room by its address: not found.
	b.open(fmt.Sprintf("/verwaltung/raeume/%d", foreignRoom))
	b.expect("h1", "Seite nicht gefunden")

	// A user with a membership, then a second membership.
	b.open("/verwaltung/benutzer/neu")
	b.do(chromedp.SendKeys(chromedp.ID("user-name"), "Petra Keller"), chromedp.SendKeys(chromedp.ID("user-email"), "p.keller@gymnasium-am-see.de"),
		chromedp.SendKeys(chromedp.ID("user-password"), "kurz"),
		chromedp.SetValue(chromedp.ID("user-role"), "school_it"), chromedp.SetValue(chromedp.ID("user-org"), fmt.Sprintf("school:%d", school)))
	b.submit(`form.admin-form button[type=submit]`)
	b.expect("#user-password-error", "Mindestens 12 Zeichen")
	if v := b.eval(`document.getElementById("user-name").value + "|" + document.getElementById("user-password").value + "|" + document.getElementById("user-role").value`); v != "Petra Keller||school_it" {
		t.Errorf("the refused user form holds %q (the password must not come back)", v)
	}
	b.checkPage("new user refused")
	b.do(chromedp.SendKeys(chromedp.ID("user-password"), "Kreide-Tafel-2027!"))
	b.submit(`form.admin-form button[type=submit]`)
	b.expect(".notice", "Angelegt.")
	b.expect("h1", "Petra Keller")
	b.expect("#members-h ~ .table-wrap", "Schul-IT")
	b.do(chromedp.SetValue(chromedp.ID("member-role"), "teacher"), chromedp.SetValue(chromedp.ID("member-org"), fmt.Sprintf("school:%d", school)))
	b.submit(`#addmember-h ~ form button[type=submit]`)
	b.expect("#members-h ~ .table-wrap", "Lehrkraft")
	if strings.Contains(b.eval(`document.documentElement.outerHTML`), "Kreide-Tafel-2027!") {
		t.Error("the user page shows the password")
	}
	// Her name and address: another account's address is refused next to
	// the field with what was typed kept, and nothing is saved; then a
	// new name is.
	b.do(chromedp.SetValue(chromedp.ID("edit-name"), "Petra Keller-Roth"), chromedp.SetValue(chromedp.ID("edit-email"), itEmail))
	b.submit(`#edit-h ~ form button[type=submit]`)
	b.expect("#edit-email-error", "Es gibt schon ein Konto mit dieser E-Mail-Adresse.")
	if v := b.eval(`document.getElementById("edit-name").value + "|" + document.getElementById("edit-email").value`); v != "Petra Keller-Roth|"+itEmail {
		t.Errorf("the refused edit holds %q", v)
	}
	b.expect("h1", "Petra Keller")
	b.checkPage("user edit refused")
	b.shot("console-admin-04a-benutzer-fehler")
	b.do(chromedp.SetValue(chromedp.ID("edit-email"), "P.Keller@Gymnasium-am-See.de"))
	b.submit(`#edit-h ~ form button[type=submit]`)
	b.expect(".notice", "Gespeichert.")
	b.expect("h1", "Petra Keller-Roth")
	if v := b.eval(`document.getElementById("edit-email").value`); v != "p.keller@gymnasium-am-see.de" {
		t.Errorf("the address after saving reads %q", v)
	}
	b.checkPage("user")
	b.shot("console-admin-04-benutzer")
	b.open("/verwaltung/benutzer")
	b.expect("table", "p.keller@gymnasium-am-see.de")
	b.checkPage("users")

	// A knowledge-base article, public, with its preview.
	b = signedIn()
	b.open("/verwaltung/wissen/neu")
	b.do(chromedp.SendKeys(chromedp.ID("kb-title"), "Beamer zeigt kein Bild"),
		chromedp.SendKeys(chromedp.ID("kb-body"), "Drücken Sie **Source** auf der Fernbedienung."),
		chromedp.Click(chromedp.ID("kb-public")), chromedp.Click(chromedp.CSS(`input[name=classes][value=projector]`)))
	cat := b.eval(`[...document.querySelectorAll("input[name=category_ids]")].find(i => i.parentElement.textContent.includes("Beamer: Lampe")).value`)
	b.do(chromedp.Click(chromedp.CSS(`input[name=category_ids][value="` + cat + `"]`)))
	b.submit(`form.admin-form button[type=submit]`)
	b.expect(".notice", "Angelegt.")
	if v := b.eval(`String(document.querySelector('input[name=category_ids][value="` + cat + `"]').checked)`); v != "true" {
		t.Error("the article's category is not kept")
	}
	b.expect(".article strong", "Source")
	b.checkPage("kb article")
	b.shot("console-admin-05-wissen")
	b.open("/verwaltung/wissen?q=Beamer")
	b.expect("table", "Beamer zeigt kein Bild")
	b.expect("table", "öffentlich")
	b.checkPage("kb list")

	// An SNMP credential profile: the secret never reaches the page, not
	// even when the form is refused.
	const community, community2 = "geheim-Community-42", "neu-Community-43"
	b.open(fmt.Sprintf("/verwaltung/snmp-zugaenge?schule=%d", school))
	b.do(chromedp.SendKeys(chromedp.ID("new-name"), "Drucker v3"), chromedp.SetValue(chromedp.ID("new-version"), "3"),
		chromedp.SendKeys(chromedp.ID("new-auth-pass"), community))
	b.submit(`#new-h ~ form button[type=submit]`)
	b.expect("#new-user-error", "Pflicht")
	if strings.Contains(b.eval(`document.documentElement.outerHTML`), community) {
		t.Error("a refused credential form shows the secret typed")
	}
	b.do(chromedp.SetValue(chromedp.ID("new-name"), "Standard"), chromedp.SetValue(chromedp.ID("new-version"), "2c"),
		chromedp.SendKeys(chromedp.ID("new-community"), community))
	b.submit(`#new-h ~ form button[type=submit]`)
	b.expect(".notice", "Angelegt.")
	b.expect("table", "Standard")
	b.expect("table", "gesetzt")
	if src := b.eval(`document.documentElement.outerHTML`); strings.Contains(src, community) {
		t.Error("the credential page shows the secret after saving")
	}
	if _, body := getAs(t, c.base, cookie, fmt.Sprintf("/verwaltung/snmp-zugaenge?schule=%d&format=csv", school)); bytes.Contains(body, []byte(community)) {
		t.Error("the credential export holds the secret")
	}
	b.checkPage("snmp credentials")
	b.shot("console-admin-06-snmp-zugaenge")
	// Its page: the secret "gesetzt", a field to replace it; a rename
	// keeps it, a new one replaces it, neither is ever shown.
	b.open(b.eval(`document.querySelector('table a[href^="/verwaltung/snmp-zugaenge/"]').getAttribute("href")`))
	b.expect("#cred-community-hint", "Gespeichert: gesetzt")
	b.do(chromedp.SetValue(chromedp.ID("cred-name"), "Standard Haus A"))
	b.submit(`#edit-h ~ form button[type=submit]`)
	b.expect(".notice", "Gespeichert.")
	b.do(chromedp.SendKeys(chromedp.ID("cred-community"), community2))
	b.submit(`#edit-h ~ form button[type=submit]`)
	b.expect(".notice", "Gespeichert.")
	b.expect("h1", "Standard Haus A")
	if src := b.eval(`document.documentElement.outerHTML`); strings.Contains(src, community) || strings.Contains(src, community2) {
		t.Error("the credential's page shows a secret")
	}
	b.checkPage("snmp credential")
	b.shot("console-admin-06b-snmp-zugang")

	// An enrolment token: shown once, on the answer to its creation.
	b.open("/verwaltung/anmeldetokens")
	b.do(chromedp.SendKeys(chromedp.ID("new-name"), "Laptopwagen 2026"))
	b.submit(`#new-h ~ form button[type=submit]`)
	token := b.text(".secret-value")
	if len(token) < 20 {
		t.Fatalf("enrolment token shown as %q", token)
	}
	b.checkPage("enrolment token created")
	b.shot("console-admin-07-anmeldetoken")
	b.open("/verwaltung/anmeldetokens")
	b.expect("table", "Laptopwagen 2026")
	if strings.Contains(b.eval(`document.documentElement.outerHTML`), token) {
		t.Error("the enrolment token is shown again")
	}
	// Revoked from its row, after a question.
	b.submit(`table .row-actions button`)
	b.expect("h1", "Token wirklich widerrufen?")
	b.expect("main", "Laptopwagen 2026")
	b.submit(`form.danger-zone button[type=submit]`)
	b.expect(".notice", "widerrufen")
	b.expect("table", "widerrufen")

	// The calendar: a bad span is refused next to its day and kept.
	b.open("/verwaltung/kalender")
	b.do(chromedp.SetValue(chromedp.ID("cal-week-1"), "7 bis 16 Uhr"), chromedp.SetValue(chromedp.ID("cal-state"), "NW"))
	b.submit(`#cal-h ~ form button[type=submit]`)
	b.expect("#cal-week-1-error", "07:30–16:00")
	if v := b.eval(`document.getElementById("cal-week-1").value`); v != "7 bis 16 Uhr" {
		t.Errorf("the refused calendar holds %q", v)
	}
	b.checkPage("calendar refused")
	b.do(chromedp.SetValue(chromedp.ID("cal-week-1"), "07:30–12:00, 13:00–16:00"),
		chromedp.SetValue(chromedp.ID("cal-closed"), "23.12.2026 – 06.01.2027 Weihnachtsferien"))
	b.submit(`#cal-h ~ form button[type=submit]`)
	b.expect(".notice", "Gespeichert.")
	b.expect("#days-h ~ .table-wrap", "Weihnachtsferien")
	b.checkPage("calendar")
	b.shot("console-admin-08-kalender")

	// The other settings pages, each checked.
	b = signedIn()
	for _, p := range []struct{ path, h1 string }{{"/verwaltung/schulen", "Schulen"}, {"/verwaltung/gebaeude", "Gebäude"},
		{"/verwaltung/schulen/neu", "Neue Schule"}, {fmt.Sprintf("/verwaltung/raeume/%d", room), "Raum 1.12"},
		{"/verwaltung/kategorien", "Ticket-Kategorien"}, {"/verwaltung/kategorien/neu", "Neue Kategorie"},
		{"/verwaltung/prioritaeten", "Prioritätsmatrix"}, {"/verwaltung/sla-ziele", "SLA-Ziele"},
		{"/verwaltung/snmp-ziele", "SNMP-Ziele"}, {"/verwaltung/snmp-bereiche", "Suchbereiche"}} {
		b.open(p.path)
		b.expect("h1", p.h1)
		b.checkPage(p.path)
	}
	b.shot("console-admin-09-sla-ziele")

	// A building with rooms is not deleted; the page says what is in it.
	b.open("/verwaltung/gebaeude")
	b.open(b.eval(`document.querySelector('table a[href^="/verwaltung/gebaeude/"]').getAttribute("href")`))
	b.submit(`#delete-h ~ form button[type=submit]`)
	b.expect("h1", "Wirklich löschen?")
	b.expect("main", "Gymnasium am See – Haus A")
	b.checkPage("confirm delete")
	b.shot("console-admin-09c-loeschen-bestaetigen")
	b.submit(`form.danger-zone button[type=submit]`)
	b.expect(".danger-zone .form-error", "Noch nicht leer: Darin sind noch 3 Räume")
	b.checkPage("building not deleted")
	b.shot("console-admin-09b-gebaeude-nicht-leer")
	// An empty room is.
	b.open("/verwaltung/raeume")
	b.open(b.eval(`[...document.querySelectorAll('table a')].find(a => a.textContent == "Physikraum 1").getAttribute("href")`))
	b.submit(`#delete-h ~ form button[type=submit]`)
	b.submit(`form.danger-zone button[type=submit]`)
	b.expect(".notice", "Gelöscht.")
	if strings.Contains(b.text("table"), "Physikraum 1") {
		t.Error("the deleted room is still listed")
	}
	b.open("/verwaltung/prioritaeten")
	b.shot("console-admin-10-prioritaeten")

	// The rules: a printer fails repeatedly at 2 incidents in 90 days; a
	// low supply opens a ticket.
	b.open("/verwaltung/wiederholfehler")
	b.do(chromedp.SetValue(chromedp.ID("rep-by-class-printer-threshold"), "2"), chromedp.SetValue(chromedp.ID("rep-by-class-printer-window-days"), "0"))
	b.submit(`#rep-h ~ form button[type=submit]`)
	b.expect("#rep-by-class-printer-window-days-error", "von 1 bis 3660")
	if v := b.eval(`document.getElementById("rep-by-class-printer-threshold").value`); v != "2" {
		t.Errorf("the refused rule form holds %q", v)
	}
	b.do(chromedp.SetValue(chromedp.ID("rep-by-class-printer-window-days"), "90"))
	b.submit(`#rep-h ~ form button[type=submit]`)
	b.expect(".notice", "Gespeichert.")
	if v := b.eval(`document.getElementById("rep-by-class-printer-threshold").value`); v != "2" {
		t.Errorf("the printer's repeat threshold reads %q after saving", v)
	}
	// The model-pattern rule of the authority: a level above 0,5 is
	// refused next to its field, 0,05 is saved.
	b.do(chromedp.SetValue(chromedp.ID("pat-alpha"), "0,7"), chromedp.SetValue(chromedp.ID("pat-min-incidents"), "4"))
	b.submit(`#pattern-h ~ form button[type=submit]`)
	b.expect("#pat-alpha-error", "höchstens 0,5")
	if v := b.eval(`document.getElementById("pat-alpha").value + "|" + document.getElementById("pat-min-incidents").value`); v != "0,7|4" {
		t.Errorf("the refused pattern form holds %q", v)
	}
	b.checkPage("pattern rule refused")
	b.do(chromedp.SetValue(chromedp.ID("pat-alpha"), "0,05"))
	b.submit(`#pattern-h ~ form button[type=submit]`)
	b.expect(".notice", "Gespeichert.")
	if v := b.eval(`document.getElementById("pat-alpha").value + "|" + document.getElementById("pat-min-incidents").value + "|" +
		document.getElementById("rep-by-class-printer-threshold").value`); v != "0,05|4|2" {
		t.Errorf("after saving the pattern rule the page holds %q", v)
	}
	b.checkPage("repeat rules")
	b.shot("console-admin-13-wiederholfehler")
	b.open("/verwaltung/ueberwachung")
	b.do(chromedp.Click(chromedp.ID("mon-rules-1-opens-ticket")))
	b.submit(`#mon-h ~ form button[type=submit]`)
	b.expect(".notice", "Gespeichert.")
	if v := b.eval(`String(document.getElementById("mon-rules-1-opens-ticket").checked)`); v != "true" {
		t.Errorf("supply low opens a ticket: %s after saving", v)
	}
	b.checkPage("monitoring rules")

	// The audit log lists the changes.
	b.open("/verwaltung/protokoll")
	for _, want := range []string{"Benutzer angelegt", "Mitgliedschaft hinzugefügt", "Schule, Gebäude oder Raum geändert",
		"SNMP-Zugangsprofil angelegt", "Anmeldetoken angelegt", "Geschäftszeiten geändert", "Regel für Wiederholungsfehler geändert", "Regel für Modellmuster geändert", "Benutzer geändert", "Schule, Gebäude oder Raum gelöscht", "Jonas Weber"} {
		b.expect("table", want)
	}
	b.checkPage("audit log")
	b.shot("console-admin-11-protokoll")
	// The API pages the same log.
	first, second := c.must(200, "GET", "/api/v1/audit?limit=1", nil), c.must(200, "GET", "/api/v1/audit?limit=1&offset=1", nil)
	if len(asSlice(second["items"])) != 1 || first["total"] != second["total"] || id(asSlice(first["items"])[0].(map[string]any)) <= id(asSlice(second["items"])[0].(map[string]any)) {
		t.Errorf("audit pages by offset: %v then %v", first, second)
	}
	b.open("/verwaltung/protokoll?aktion=user_created")
	b.expect("table", "Petra Keller")
	if strings.Contains(b.text("table"), "Mitgliedschaft hinzugefügt") {
		t.Error("the audit filter keeps other actions")
	}

	// At 320 pixels a list page still fits (its table scrolls in itself).
	b.viewport(320, 640)
	b.open("/verwaltung/raeume")
	b.checkPage("rooms at 320 px")
	b.shot("console-admin-12-raeume-320px")

	// Teachers and providers are not let in.
	c.must(201, "POST", "/api/v1/users", map[string]any{"email": "lehrerin@gymnasium-am-see.de", "name": "Lea Lehrerin", "password": webPassword,
		"memberships": []map[string]any{{"role": "teacher", "org_id": school}}})
	prov := id(c.must(201, "POST", "/api/v1/providers", map[string]any{"code": "SYS", "name": "Systemhaus Nord"}))
	c.must(201, "POST", "/api/v1/users", map[string]any{"email": "technik@systemhaus.de", "name": "Tom Technik", "password": webPassword,
		"memberships": []map[string]any{{"role": "provider", "org_id": prov}}})
	for _, email := range []string{"lehrerin@gymnasium-am-see.de", "technik@systemhaus.de"} {
		ck := (&client{t: t, base: c.base}).signInCookie(email, webPassword)
		for _, p := range []string{"/verwaltung", "/verwaltung/benutzer", fmt.Sprintf("/verwaltung/raeume/%d", room)} {
			if code, _ := getAs(t, c.base, ck, p); code != http.StatusForbidden && code != http.StatusNotFound {
				t.Errorf("%s opens %s: %d", email, p, code)
			}
		}
	}
	// School IT gets what the stores let them have: their school's rooms,
	// not the audit log nor the authority's settings.
	sit := (&client{t: t, base: c.base}).signInCookie("p.keller@gymnasium-am-see.de", "Kreide-Tafel-2027!")
	if code, body := getAs(t, c.base, sit, "/verwaltung/raeume"); code != 200 || !bytes.Contains(body, []byte("Lehrerzimmer")) {
		t.Errorf("school IT's rooms: %d", code)
	} else if bytes.Contains(body, []byte(fmt.Sprintf("/verwaltung/raeume/%d\"", foreignRoom))) {
		t.Error("school IT sees another authority's room")
	}
	if code, _ := getAs(t, c.base, sit, "/verwaltung/protokoll"); code != http.StatusForbidden {
		t.Errorf("school IT opens the audit log: %d", code)
	}
	if code, body := getAs(t, c.base, sit, "/verwaltung/kalender"); code != 200 || !bytes.Contains(body, []byte("verwaltet keinen Schulträger")) {
		t.Errorf("school IT's calendar page: %d", code)
	}
	if strings.Contains(logs.String(), community) || strings.Contains(logs.String(), community2) || strings.Contains(logs.String(), token) {
		t.Error("a secret appears in the server log")
	}
}
