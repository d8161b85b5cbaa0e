package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// tapper counts the taps (clicks) a person makes on the way to a ticket.
type tapper struct {
	b    *browser
	taps int
}

// tap clicks the element the XPath or CSS selector names.
func (p *tapper) tap(sel string) {
	p.b.t.Helper()
	p.taps++
	if strings.HasPrefix(sel, "/") {
		p.b.do(chromedp.Click(chromedp.Search(sel)))
		return
	}
	p.b.do(chromedp.Click(chromedp.CSS(sel)))
}

// send clicks a form's button and waits for the next page.
func (p *tapper) send(sel string) { p.b.t.Helper(); p.taps++; p.b.submit(sel) }

func shortCodeOf(c *client, ci int64) string {
	c.t.Helper()
	code, _ := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d", ci), nil)["short_code"].(string)
	if code == "" {
		c.t.Fatalf("CI %d has no short_code", ci)
	}
	return code
}

func ticketByNumber(c *client, number string) map[string]any {
	c.t.Helper()
	for _, it := range asSlice(c.must(200, "GET", "/api/v1/tickets?q="+url.QueryEscape(number), nil)["items"]) {
		if m := it.(map[string]any); m["number"] == number {
			return m
		}
	}
	c.t.Fatalf("no ticket %s", number)
	return nil
}

// TestPortalReport drives the report flow on a phone: a scanned label
// while signed out (sign-in, then straight to the device: at most four
// taps and the description to a ticket number), self-help, "me too" on a
// colleague's ticket, the form's errors, a photo, a room without its
// device, and codes she cannot report on; axe-core on every page at 390
// and 320 pixels.
func TestPortalReport(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	f := newPortalFixture(t, c)
	c.must(201, "POST", "/api/v1/kb-articles", map[string]any{"authority_id": f.auth, "title": "Kein Bild am Beamer?", "public": true,
		"body_md": "Drücken Sie **Source** auf der Fernbedienung und wählen Sie *HDMI 1*.\n\n<script>alert(1)</script>", "classes": []string{"projector"}})
	c.must(201, "POST", "/api/v1/kb-articles", map[string]any{"authority_id": f.auth, "title": "Interner Hinweis: Lampenstunden",
		"public": false, "body_md": "Nur für die IT.", "classes": []string{"projector"}})
	// Articles for one problem each: shown by the category once it is chosen.
	projectorCat := map[string]int64{}
	for _, it := range asSlice(c.must(200, "GET", "/api/v1/ticket-categories?class=projector", nil)["items"]) {
		projectorCat[it.(map[string]any)["name"].(string)] = id(it.(map[string]any))
	}
	c.must(201, "POST", "/api/v1/kb-articles", map[string]any{"authority_id": f.auth, "title": "Steckt das HDMI-Kabel fest?", "public": true,
		"body_md": "Ziehen Sie das Kabel ab und stecken Sie es wieder ein.", "classes": []string{"projector"},
		"category_ids": []int64{projectorCat["Kein Bild"]}})
	c.must(201, "POST", "/api/v1/kb-articles", map[string]any{"authority_id": f.auth, "title": "Die Lampe blinkt?", "public": true,
		"body_md": "Lassen Sie den Beamer zehn Minuten abkühlen.", "classes": []string{"projector"},
		"category_ids": []int64{projectorCat["Lampe"]}})
	// A duplicate of the projector, merged into it: its old label still works.
	dup := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": f.auth, "room_id": f.room, "class": "projector",
		"name": "Beamer Raum 1.12", "vendor": "Epson", "model": "EB-W49", "serial": "WEB-BM-OLD"}))
	dupCode := shortCodeOf(c, dup)
	c.must(200, "POST", fmt.Sprintf("/api/v1/cis/%d/merge", f.projector), map[string]any{"other": dup})

	b := newBrowser(t, c.base)
	b.viewport(390, 844)
	p := &tapper{b: b}

	// The scan: signed out, the label's address asks her to sign in and
	// then opens the device.
	code := shortCodeOf(c, f.projector)
	b.open("/r/" + code)
	if got := b.path(); got != "/anmelden?next="+url.QueryEscape("/r/"+code) {
		t.Fatalf("a scan while signed out shows %s", got)
	}
	b.do(chromedp.SendKeys(chromedp.ID("email"), f.email), chromedp.SendKeys(chromedp.ID("password"), webPassword))
	p.send(`button[type=submit].primary`)
	device := fmt.Sprintf("/melden/geraet/%d", f.projector)
	if got := b.path(); got != device {
		t.Fatalf("after sign-in the scan shows %s, want %s", got, device)
	}
	b.expect("h1", "Beamer Raum 1.12")
	// Self-help: the public article for projectors, sanitised, closed
	// until tapped; the internal one never.
	b.expect(".help summary", "Kein Bild am Beamer?")
	if html := b.eval(`document.querySelector(".help .article").innerHTML`); !strings.Contains(html, "<strong>Source</strong>") || strings.Contains(html, "<script") {
		t.Errorf("the article's body is %q", html)
	}
	if strings.Contains(b.text("main"), "Interner Hinweis") {
		t.Error("the report page shows an internal article")
	}
	if n := b.eval(`String(document.querySelectorAll(".already").length)`); n != "0" {
		t.Error("the projector has no open ticket, yet the page shows some")
	}
	if cats := b.text(".radios"); !strings.Contains(cats, "Kein Bild") || strings.Contains(cats, "Benutzerkonto") || strings.Contains(cats, "Papierstau") {
		t.Errorf("the projector's categories read %q", cats)
	}
	b.checkPage("device report")
	b.shot("10-geraet-melden")
	b.do(chromedp.Click(chromedp.CSS(`.help summary`)))
	b.shot("11-geraet-selbsthilfe")

	shownTips := func() string {
		return b.eval(`Array.from(document.querySelectorAll("#cat-help details")).filter(d => !d.hidden && !d.closest("[hidden]")).map(d => d.querySelector("summary").textContent.trim()).join(" | ")`)
	}
	if got := shownTips(); got != "" {
		t.Errorf("before a problem is chosen, the tips for problems show: %q", got)
	}
	p.tap(`//label[contains(., "Kein Bild")]`)
	if got := shownTips(); got != "Steckt das HDMI-Kabel fest?" {
		t.Errorf("with \"Kein Bild\" chosen, the tips read %q, want that problem's article only", got)
	}
	b.checkPage("device report, a problem chosen")
	b.shot("11b-tipp-zur-stoerung")
	b.do(chromedp.SendKeys(chromedp.ID("description"), "Der Beamer zeigt kein Bild, die Lampe blinkt rot."))
	p.tap(`//label[contains(., "Der Unterricht kann nicht stattfinden")]`)
	p.send(`form.form button[type=submit]`)
	if got := b.path(); !strings.HasPrefix(got, "/gemeldet/") {
		t.Fatalf("after the report: %s", got)
	}
	if p.taps > 4 {
		t.Errorf("from the scan to the ticket number took %d taps, want at most 4", p.taps)
	}
	t.Logf("scan → ticket number: %d taps and the description", p.taps)
	number := strings.TrimSpace(b.text(".big-number"))
	b.expect("main", "Wir kümmern uns darum")
	b.checkPage("reported")
	b.shot("12-gemeldet")
	tk := ticketByNumber(c, number)
	if tk["urgency"] != 1.0 || tk["impact"] != 3.0 || tk["channel"] != "portal" || tk["category"] != "Kein Bild" ||
		fmt.Sprint(tk["ci_ids"]) != fmt.Sprintf("[%d]", f.projector) || tk["description"] != "Der Beamer zeigt kein Bild, die Lampe blinkt rot." {
		t.Errorf("the reported ticket is %v", tk)
	}
	b.submit(`a.button.primary`)
	if got := b.path(); got != "/tickets/"+number {
		t.Errorf("following the ticket opens %s", got)
	}

	// The merged duplicate's old label opens the projector too.
	b.open("/r/" + dupCode)
	if got := b.path(); got != device {
		t.Errorf("the merged CI's code opens %s, want %s", got, device)
	}

	// The printer has her open ticket and a colleague's: "me too" on the
	// colleague's; hers says she reported it.
	b.open(fmt.Sprintf("/melden/geraet/%d", f.printer))
	b.expect(".already", "Bereits gemeldet")
	b.expect(".already", "Gemeldet heute: Papierstau")
	b.expect(".already", "Sie haben das gemeldet")
	if n := b.eval(`String(document.querySelectorAll(".already button").length)`); n != "1" {
		t.Errorf("%s me-too buttons, want one (the colleague's ticket; hers is resolved or her own)", n)
	}
	b.checkPage("device with open tickets")
	b.shot("13-bereits-gemeldet")
	before := ticketByNumber(c, f.colleagues)["watchers"].(float64)
	b.submit(`.already button`)
	b.expect("h1", "Danke, Sie sind eingetragen")
	b.checkPage("me too")
	b.shot("14-auch-betroffen")
	if after := ticketByNumber(c, f.colleagues)["watchers"].(float64); after != before+1 {
		t.Errorf("watchers %v → %v, want +1", before, after)
	}
	b.open(fmt.Sprintf("/melden/geraet/%d", f.printer))
	b.expect(".already", "1 Kolleg:in betroffen")
	// Joined once, the ticket says so and offers no second "me too".
	b.expect(".already", "Sie haben sich als betroffen gemeldet")
	if n := b.eval(`String(document.querySelectorAll(".already button").length)`); n != "0" {
		t.Errorf("%s me-too buttons after joining, want none", n)
	}

	// Errors: nothing chosen, nothing typed, a file that is no picture;
	// each said next to its field, nothing created.
	total := c.must(200, "GET", "/api/v1/tickets", nil)["total"]
	notPhoto := filepath.Join(t.TempDir(), "notiz.txt")
	os.WriteFile(notPhoto, []byte("Das ist kein Bild, sondern ein Text."), 0o644)
	b.do(chromedp.SetUploadFiles(chromedp.CSS(`#photo`), []string{notPhoto}))
	b.submit(`form.form button[type=submit]`)
	b.expect("#category-error", "Bitte wählen Sie aus, was nicht funktioniert")
	b.expect("#description-error", "Bitte beschreiben Sie kurz")
	b.expect("#urgency-error", "wie dringend")
	b.expect("#photo-error", "kein Foto")
	b.checkPage("report with errors")
	b.shot("15-melden-fehler")
	// Typed text stays when only the choice is missing.
	b.do(chromedp.SendKeys(chromedp.ID("description"), "Toner leer, Anzeige blinkt."))
	b.do(chromedp.Click(chromedp.Search(`//label[contains(., "Es kann warten")]`)))
	b.submit(`form.form button[type=submit]`)
	if v := b.eval(`document.getElementById("description").value`); v != "Toner leer, Anzeige blinkt." {
		t.Errorf("after an error the description holds %q", v)
	}
	if v := b.eval(`document.querySelector("input[name=urgency]:checked")?.value ?? ""`); v != "3" {
		t.Errorf("after an error the urgency chosen is %q", v)
	}
	// A photo over the limit (10 MB): refused before anything is written.
	big := filepath.Join(t.TempDir(), "riesig.png")
	os.WriteFile(big, append(pngBytes(t), make([]byte, 10<<20)...), 0o644)
	b.do(chromedp.Click(chromedp.Search(`//label[contains(., "Toner")]`)))
	b.do(chromedp.SetUploadFiles(chromedp.CSS(`#photo`), []string{big}))
	b.submit(`form.form button[type=submit]`)
	b.expect("#photo-error", "Das Foto ist zu groß")
	if v := b.eval(`document.getElementById("description").value`); v != "Toner leer, Anzeige blinkt." {
		t.Errorf("after a photo too large the description holds %q", v)
	}
	if got := c.must(200, "GET", "/api/v1/tickets", nil)["total"]; got != total {
		t.Errorf("refused reports opened tickets: %v → %v", total, got)
	}

	// A good photo goes with the report.
	photo := filepath.Join(t.TempDir(), "toner.png")
	os.WriteFile(photo, pngBytes(t), 0o644)
	b.do(chromedp.SetUploadFiles(chromedp.CSS(`#photo`), []string{photo}))
	b.submit(`form.form button[type=submit]`)
	b.expect("main", "Ihr Foto ist angehängt")
	withPhoto := ticketByNumber(c, strings.TrimSpace(b.text(".big-number")))
	atts := asSlice(c.must(200, "GET", fmt.Sprintf("/api/v1/tickets/%d/attachments", id(withPhoto)), nil)["items"])
	if len(atts) != 1 || atts[0].(map[string]any)["media_type"] != "image/png" {
		t.Errorf("the report's attachments: %v", atts)
	}

	// The device is not listed: a report on the room.
	b.open(fmt.Sprintf("/melden/raum/%d", f.room))
	b.checkPage("room with device links")
	b.shot("16-raum-geraete")
	b.expect("main", "Mein Gerät ist nicht aufgeführt")
	if n := b.eval(`String(document.querySelectorAll(".devices a.device").length)`); n != "2" {
		t.Errorf("%s device cards are links, want both", n)
	}
	b.open(b.eval(`[...document.querySelectorAll("main a")].find(a => a.textContent.includes("Mein Gerät ist nicht aufgeführt")).getAttribute("href")`))
	b.expect("h1", "Problem im Raum Raum 1.12")
	b.checkPage("room report")
	b.do(chromedp.Click(chromedp.Search(`//label[contains(., "Kein Netzwerk im Raum")]`)),
		chromedp.SendKeys(chromedp.ID("description"), "Das WLAN ist seit heute weg."),
		chromedp.Click(chromedp.Search(`//label[contains(., "eingeschränkt")]`)))
	b.submit(`form.form button[type=submit]`)
	room := ticketByNumber(c, strings.TrimSpace(b.text(".big-number")))
	if room["room_id"] != float64(f.room) || len(asSlice(room["ci_ids"])) != 0 || room["urgency"] != 2.0 {
		t.Errorf("the room report is %v", room)
	}

	// Codes she cannot report on: malformed, unknown, another authority's.
	cookie := c.signInCookie(f.email, webPassword)
	for _, bad := range []string{"0OI1", "ZZZZZZ", shortCodeOf(c, f.foreignCI)} {
		resp := getWithCookie(t, c.base+"/r/"+bad, cookie)
		if resp.code != 404 || !strings.Contains(resp.body, "Dieser Code gehört zu keinem Gerät, das Sie melden können.") {
			t.Errorf("/r/%s: %d\n%s", bad, resp.code, resp.body)
		}
		if strings.Contains(resp.body, "FRM") || strings.Contains(resp.body, "HP") {
			t.Errorf("/r/%s tells about the other authority's device", bad)
		}
	}
	b.open("/r/" + shortCodeOf(c, f.foreignCI))
	b.expect("h1", "Code unbekannt")
	b.checkPage("unknown code")
	b.shot("17-code-unbekannt")

	// At 320 pixels the report page and the success page still fit.
	b.viewport(320, 640)
	b.open(fmt.Sprintf("/melden/geraet/%d", f.printer))
	b.checkPage("device report at 320 px")
	b.shot("18-geraet-320px")
	b.open("/gemeldet/" + number)
	b.checkPage("reported at 320 px")
}

// TestPortalReportOnce: a form sent twice (a double tap, a reload after
// the answer was lost) opens one ticket: its key is the idempotency key.
func TestPortalReportOnce(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	f := newPortalFixture(t, c)
	cookie := c.signInCookie(f.email, webPassword)
	page := getWithCookie(t, fmt.Sprintf("%s/melden/geraet/%d", c.base, f.projector), cookie)
	key := regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(page.body)
	cat := regexp.MustCompile(`name="category" value="(\d+)"`).FindStringSubmatch(page.body)
	if key == nil || cat == nil {
		t.Fatalf("the report form lacks its key or categories:\n%s", page.body)
	}
	form := url.Values{"key": {key[1]}, "category": {cat[1]}, "description": {"Bild flackert."}, "urgency": {"2"}}
	var seen []string
	for range 2 {
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/melden/geraet/%d", c.base, f.projector), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", cookie)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST report: %d", resp.StatusCode)
		}
		seen = append(seen, resp.Header.Get("Location"))
	}
	if seen[0] != seen[1] || !strings.HasPrefix(seen[0], "/gemeldet/") {
		t.Errorf("two sends of one form went to %v, want the same ticket", seen)
	}
	if again := getWithCookie(t, fmt.Sprintf("%s/melden/geraet/%d", c.base, f.projector), cookie); strings.Contains(again.body, key[1]) {
		t.Error("a new form render reuses the key")
	}
}

// TestPortalServiceRequest: a catalogue service's form, drawn from its
// data; the store's refusals land next to their fields; a request with
// its answers.
func TestPortalServiceRequest(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	f := newPortalFixture(t, c)
	svc := id(c.must(201, "POST", "/api/v1/services", map[string]any{"authority_id": f.auth, "name": "Software im Computerraum installieren",
		"description": "Für den Unterricht im Computerraum.", "form": []map[string]any{
			{"key": "raum", "label": "Raum", "label_en": "Room", "type": "room", "required": true},
			{"key": "software", "label": "Name der Software", "type": "text", "required": true, "max_length": 200},
			{"key": "anzahl", "label": "Anzahl Plätze", "type": "number"},
			{"key": "lizenz", "label": "Lizenz vorhanden", "type": "checkbox", "required": true},
			{"key": "bis", "label": "Gewünscht bis", "type": "date"},
			{"key": "art", "label": "Art", "type": "select", "options": []string{"Freeware", "Schullizenz"}},
			{"key": "hinweise", "label": "Hinweise", "type": "textarea"},
		}}))
	b := newBrowser(t, c.base)
	b.viewport(390, 844)
	b.open("/beantragen")
	b.do(chromedp.SendKeys(chromedp.ID("email"), f.email), chromedp.SendKeys(chromedp.ID("password"), webPassword))
	b.submit(`button[type=submit].primary`)
	b.expect(".services", "Software im Computerraum installieren")
	b.checkPage("services")
	b.submit(`.services a`)
	if got := b.path(); got != fmt.Sprintf("/beantragen/%d", svc) {
		t.Fatalf("the service opens %s", got)
	}
	b.expect("h1", "Software im Computerraum installieren")
	b.expect(`label[for=f_software]`, "Name der Software")
	b.expect(`#f_raum`, "Raum 1.12")
	b.checkPage("service form")
	b.shot("19-antrag")
	// The room chosen, the rest empty: the store names the first missing answer.
	b.do(chromedp.SetValue(chromedp.CSS(`#f_raum`), fmt.Sprint(f.room)), chromedp.SendKeys(chromedp.ID("f_anzahl"), "zwölf"))
	b.submit(`form.form button[type=submit]`)
	b.expect("#f_software-error", "Bitte füllen Sie dieses Feld aus.")
	if v := b.eval(`document.getElementById("f_anzahl").value + "|" + document.getElementById("f_raum").value`); v != "zwölf|"+fmt.Sprint(f.room) {
		t.Errorf("after an error the form holds %q", v)
	}
	b.checkPage("service form with error")
	b.shot("20-antrag-fehler")
	b.do(chromedp.SendKeys(chromedp.ID("f_software"), "GeoGebra"))
	b.submit(`form.form button[type=submit]`)
	b.expect("#f_anzahl-error", "Bitte geben Sie eine Zahl ein")
	b.do(chromedp.SetValue(chromedp.CSS(`#f_anzahl`), "24"))
	b.submit(`form.form button[type=submit]`)
	b.expect("#f_lizenz-error", "Häkchen")
	b.do(chromedp.Click(chromedp.CSS(`#f_lizenz`)), chromedp.SetValue(chromedp.CSS(`#f_art`), "Freeware"))
	b.submit(`form.form button[type=submit]`)
	b.expect("h1", "Danke für Ihren Antrag")
	number := strings.TrimSpace(b.text(".big-number"))
	b.checkPage("request sent")
	b.shot("21-antrag-gesendet")
	tk := ticketByNumber(c, number)
	answers, _ := tk["form_answers"].(map[string]any)
	if tk["type"] != "request" || tk["service_id"] != float64(svc) || answers["software"] != "GeoGebra" || answers["anzahl"] != 24.0 ||
		answers["lizenz"] != true || answers["art"] != "Freeware" || answers["raum"] != float64(f.room) || tk["channel"] != "portal" {
		t.Errorf("the request is %v", tk)
	}
	b.viewport(320, 640)
	b.open(fmt.Sprintf("/beantragen/%d", svc))
	b.checkPage("service form at 320 px")
}

type pageResp struct {
	code int
	body string
}

func getWithCookie(t *testing.T, u, cookie string) pageResp {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return pageResp{resp.StatusCode, string(b)}
}

// pngBytes is a small photo: 32 × 24 pixels of a blue gradient.
func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for x := range 32 {
		for y := range 24 {
			img.Set(x, y, color.RGBA{R: 30, G: uint8(80 + 4*y), B: uint8(140 + 3*x), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
