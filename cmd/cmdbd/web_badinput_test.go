package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

type postResp struct {
	code     int
	location string
	body     string
	cookies  []*http.Cookie
}

// postForm sends a form as a browser of this site would (same origin).
func postForm(t *testing.T, u, cookie string, form url.Values, hdr ...string) postResp {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", cookie)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return postResp{resp.StatusCode, resp.Header.Get("Location"), string(b), resp.Cookies()}
}

func hasDraftCookie(cs []*http.Cookie) bool {
	for _, c := range cs {
		if c.Name == "cmdb_draft" && c.Value != "" {
			return true
		}
	}
	return false
}

// TestPortalBadInput: the bad input at the HTTP level. A report
// without a device or room it may report on, or without a category,
// opens nothing and says why next to the field, keeping what was typed; a
// request sent twice is one request; and a form sent without a session
// keeps a draft only when it is her own form from this site and the
// draft fits (else the sign-in page says so).
func TestPortalBadInput(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	f := newPortalFixture(t, c)
	cookie := c.signInCookie(f.email, webPassword)
	page := getWithCookie(t, fmt.Sprintf("%s/melden/geraet/%d", c.base, f.projector), cookie)
	field := func(body, name string) string {
		m := regexp.MustCompile(`name="` + name + `" value="([^"]+)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("the form has no %s field", name)
		}
		return m[1]
	}
	key, owner := field(page.body, "key"), field(page.body, "owner")
	cat := regexp.MustCompile(`name="category" value="(\d+)"`).FindStringSubmatch(page.body)[1]
	total := c.must(200, "GET", "/api/v1/tickets", nil)["total"]
	good := url.Values{"key": {key}, "category": {cat}, "description": {"Kein Bild."}, "urgency": {"2"}}

	// No device or room she may report on: not found, nothing opened.
	for _, path := range []string{"/melden/geraet/0", "/melden/geraet/abc", fmt.Sprintf("/melden/geraet/%d", f.foreignCI),
		"/melden/raum/0/melden", "/melden/raum/999999/melden"} {
		if r := postForm(t, c.base+path, cookie, good); r.code != 404 {
			t.Errorf("POST %s: %d, want 404", path, r.code)
		}
	}
	// No category: said next to the field; the description stays.
	noCat := url.Values{"key": {key}, "description": {"Kein <Bild> seit heute."}, "urgency": {"2"}}
	r := postForm(t, fmt.Sprintf("%s/melden/geraet/%d", c.base, f.projector), cookie, noCat)
	if r.code != 422 || !strings.Contains(r.body, `id="category-error"`) || !strings.Contains(r.body, "Kein &lt;Bild&gt; seit heute.") ||
		!strings.Contains(r.body, `name="key" value="`+key+`"`) {
		t.Errorf("a report without category: %d\n%s", r.code, r.body)
	}
	// A category of another class (the printer's) is no choice here.
	printerPage := getWithCookie(t, fmt.Sprintf("%s/melden/geraet/%d", c.base, f.printer), cookie)
	printerCat := regexp.MustCompile(`name="category" value="(\d+)"`).FindStringSubmatch(printerPage.body)[1]
	wrong := url.Values{"key": {key}, "category": {printerCat}, "description": {"Kein Bild."}, "urgency": {"2"}}
	if r := postForm(t, fmt.Sprintf("%s/melden/geraet/%d", c.base, f.projector), cookie, wrong); r.code != 422 || !strings.Contains(r.body, `id="category-error"`) {
		t.Errorf("a report with another class's category: %d", r.code)
	}
	if got := c.must(200, "GET", "/api/v1/tickets", nil)["total"]; got != total {
		t.Errorf("refused reports opened tickets: %v → %v", total, got)
	}

	// A service request sent twice (the same form's key): one request.
	svc := id(c.must(201, "POST", "/api/v1/services", map[string]any{"authority_id": f.auth, "name": "Beamer ausleihen",
		"form": []map[string]any{{"key": "raum", "label": "Raum", "type": "room", "required": true}}}))
	sp := getWithCookie(t, fmt.Sprintf("%s/beantragen/%d", c.base, svc), cookie)
	req := url.Values{"key": {field(sp.body, "key")}}
	// Without the room it must name: said next to the room's field.
	if r := postForm(t, fmt.Sprintf("%s/beantragen/%d", c.base, svc), cookie, req); r.code != 422 || !strings.Contains(r.body, `id="f_raum-error"`) {
		t.Errorf("a request without its room: %d\n%s", r.code, r.body)
	}
	req.Set("f_raum", fmt.Sprint(f.room))
	first := postForm(t, fmt.Sprintf("%s/beantragen/%d", c.base, svc), cookie, req)
	second := postForm(t, fmt.Sprintf("%s/beantragen/%d", c.base, svc), cookie, req)
	if first.code != 303 || first.location != second.location || !strings.HasPrefix(first.location, "/gemeldet/") {
		t.Errorf("a request sent twice: %d %q and %d %q, want the same ticket", first.code, first.location, second.code, second.location)
	}

	// Without a session. A form of this site with its owner: kept.
	old := cookie
	c.must(204, "POST", fmt.Sprintf("/api/v1/users/%d/sign-out-everywhere", userIDByEmail(c, f.email)), nil)
	withOwner := url.Values{"key": {key}, "owner": {owner}, "category": {cat}, "description": {"Kein Bild."}, "urgency": {"2"}}
	device := fmt.Sprintf("%s/melden/geraet/%d", c.base, f.projector)
	if r := postForm(t, device, old, withOwner); r.code != 303 || !strings.HasSuffix(r.location, "&entwurf=kept") || !hasDraftCookie(r.cookies) {
		t.Errorf("a report without session: %d to %q, draft cookie %v", r.code, r.location, hasDraftCookie(r.cookies))
	} else {
		for _, ck := range r.cookies {
			if ck.Name == "cmdb_draft" && (!ck.HttpOnly || !ck.Secure || strings.Contains(ck.Value, "Kein")) {
				t.Errorf("the draft cookie is readable: %+v", ck)
			}
		}
	}
	// A forged or missing owner: nothing kept, still sent to sign in.
	for _, o := range []string{"", "AAAA" + owner[4:], owner[:len(owner)-2]} {
		forged := url.Values{"owner": {o}, "description": {"Fremder Text"}}
		if r := postForm(t, device, old, forged); r.code != 303 || strings.Contains(r.location, "entwurf") || hasDraftCookie(r.cookies) {
			t.Errorf("a form with owner %q: %d to %q, draft cookie %v", o, r.code, r.location, hasDraftCookie(r.cookies))
		}
	}
	// Another site's form: refused before anything is kept.
	if r := postForm(t, device, old, withOwner, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"); r.code != 403 || hasDraftCookie(r.cookies) {
		t.Errorf("a cross-site form: %d, draft cookie %v", r.code, hasDraftCookie(r.cookies))
	}
	// Too long for a cookie: not kept, and the sign-in page says so.
	long := withOwner
	noise := make([]byte, 6000) // text that does not compress
	rand.Read(noise)
	long.Set("description", hex.EncodeToString(noise))
	if r := postForm(t, device, old, long); !strings.HasSuffix(r.location, "&entwurf=toolong") || hasDraftCookie(r.cookies) {
		t.Errorf("a long report without session: %q, draft cookie %v", r.location, hasDraftCookie(r.cookies))
	} else if p := getWithCookie(t, c.base+r.location, ""); !strings.Contains(p.body, "zu lang") {
		t.Errorf("the sign-in page does not say the text was too long:\n%s", p.body)
	}
	// "Me too" has no page of its own: sign-in comes back to the page.
	if r := postForm(t, c.base+"/melden/betroffen", old, url.Values{"ticket": {f.colleagues}}, "Referer", device); r.location != "/anmelden?next="+url.QueryEscape(strings.TrimPrefix(device, c.base)) {
		t.Errorf("me too without session goes to %q", r.location)
	}
}

// TestPortalHugePhoto: a photo far over the limit (a phone's 25 MB
// picture) gets the page with the message next to the field, not a reset
// connection.
func TestPortalHugePhoto(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	f := newPortalFixture(t, c)
	cookie := c.signInCookie(f.email, webPassword)
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("description", "Der Beamer zeigt kein Bild.")
		part, _ := mw.CreateFormFile("photo", "IMG_0001.jpg")
		part.Write([]byte("\xff\xd8\xff\xe0"))
		chunk := make([]byte, 1<<20)
		for range 25 {
			if _, err := part.Write(chunk); err != nil {
				break // the server stopped reading: the test reads its answer
			}
		}
		mw.Close()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/melden/geraet/%d", c.base, f.projector), pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("a 25 MB photo: %v, want the form with a message", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(b), "zu groß") {
		t.Errorf("a 25 MB photo: %d, want 422 and the photo's message; body %.300s", resp.StatusCode, b)
	}
	pr.Close()
}
