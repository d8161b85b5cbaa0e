package web

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
)

// The flows with a store run in a real browser against a real
// PostgreSQL (cmd/cmdbd/web_test.go); these tests need no store: they
// never send a session cookie.

func get(t *testing.T, h http.Handler, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestSecurityHeaders: every response, page, file or error, carries the
// strict policy, and no page has inline script or style for it to allow.
func TestSecurityHeaders(t *testing.T) {
	h := New(Options{})
	for _, path := range []string{"/anmelden", "/static/app.css", "/no-such-page", "/tickets"} {
		w := get(t, h, path)
		if got := w.Header().Get("Content-Security-Policy"); got != CSP {
			t.Errorf("GET %s: Content-Security-Policy %q, want %q", path, got, CSP)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("Referrer-Policy") != "same-origin" {
			t.Errorf("GET %s: headers %v", path, w.Header())
		}
		body := w.Body.String()
		if regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`).MatchString(body) || strings.Contains(body, " style=") ||
			strings.Contains(body, "<style") || regexp.MustCompile(`\son[a-z]+=`).MatchString(body) {
			t.Errorf("GET %s has inline script or style:\n%s", path, body)
		}
	}
	if !strings.Contains(CSP, "default-src 'self'") || !strings.Contains(CSP, "frame-ancestors 'none'") || strings.Contains(CSP, "unsafe") {
		t.Errorf("CSP = %q", CSP)
	}
	if w := get(t, h, "/favicon.ico"); w.Code != 200 || w.Header().Get("Content-Type") != "image/svg+xml" {
		t.Errorf("favicon: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	if w := get(t, h, "/no-such-page"); w.Code != 404 || !strings.Contains(w.Body.String(), "Seite nicht gefunden") {
		t.Errorf("unknown page: %d\n%s", w.Code, w.Body)
	}
}

// TestSignedOut: pages for signed-in people send others to the sign-in
// form, which comes back to the page asked for.
func TestSignedOut(t *testing.T) {
	h := New(Options{})
	for path, want := range map[string]string{
		"/":                           "/anmelden?next=%2F",
		"/tickets":                    "/anmelden?next=%2Ftickets",
		"/tickets/SWS-2026-00001?x=1": "/anmelden?next=%2Ftickets%2FSWS-2026-00001%3Fx%3D1",
		"/melden":                     "/anmelden?next=%2Fmelden",
	} {
		w := get(t, h, path)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != want {
			t.Errorf("GET %s: %d to %q, want 303 to %q", path, w.Code, w.Header().Get("Location"), want)
		}
	}
	w := get(t, h, "/anmelden?next=%2Ftickets")
	if !strings.Contains(w.Body.String(), `name="next" value="/tickets"`) {
		t.Errorf("the sign-in form does not carry next:\n%s", w.Body)
	}
	w = get(t, h, "/anmelden?next=https%3A%2F%2Fevil.example%2F")
	if !strings.Contains(w.Body.String(), `name="next" value="/"`) {
		t.Errorf("the sign-in form carries a foreign next:\n%s", w.Body)
	}
}

// TestLanguage: the user's setting wins, then the visitor's choice
// (cookie), then the browser; German when nothing fits.
func TestLanguage(t *testing.T) {
	s := &server{i18n: mustCatalogue()}
	req := func(cookie, accept string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: langCookie, Value: cookie})
		}
		r.Header.Set("Accept-Language", accept)
		return r
	}
	for _, tt := range []struct {
		user, cookie, accept, want string
	}{
		{"", "", "", "de"},
		{"", "", "fr-FR, fr;q=0.9", "de"},
		{"", "", "en-GB,en;q=0.9", "en"},
		{"", "", "de-AT, en;q=0.5", "de"},
		{"", "en", "de-DE", "en"},
		{"", "de", "en-US", "de"},
		{"", "xx", "en-US", "en"},
		{"de", "en", "en-US", "de"},
		{"en", "", "de-DE", "en"},
	} {
		var u *cmdb.User
		if tt.user != "" {
			u = &cmdb.User{Language: tt.user}
		}
		if got := s.requestLang(req(tt.cookie, tt.accept), u); got != tt.want {
			t.Errorf("user %q, cookie %q, Accept-Language %q: %s, want %s", tt.user, tt.cookie, tt.accept, got, tt.want)
		}
	}
	w := get(t, New(Options{}), "/anmelden", "Accept-Language", "en-US,en;q=0.9")
	if b := w.Body.String(); !strings.Contains(b, `<html lang="en">`) || !strings.Contains(b, "E-mail address") {
		t.Errorf("English browser gets:\n%s", b)
	}
	if d := s.i18n.translator("de").Date(mustTime(t, "2026-03-09T23:30:00Z")); d != "10.03.2026" {
		t.Errorf("German date = %q, want 10.03.2026 (Berlin time)", d)
	}
}

// TestCrossOrigin: a form sent from another site is refused.
func TestCrossOrigin(t *testing.T) {
	h := New(Options{})
	r := httptest.NewRequest("POST", "/abmelden", strings.NewReader(""))
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "Nicht erlaubt") {
		t.Errorf("cross-site POST: %d\n%s", w.Code, w.Body)
	}
}

var messageRE = regexp.MustCompile(`\.T "([a-z0-9_.]+)"|\.T\("([a-z0-9_.]+)"|lookup\("([a-z0-9_.]+)"`)

// TestCatalogues: every message a template or handler names is in both
// languages, and both languages have the same messages.
func TestCatalogues(t *testing.T) {
	c := mustCatalogue()
	de, en := c.messageIDs("de"), c.messageIDs("en")
	for id := range de {
		if !en[id] {
			t.Errorf("message %s is missing in English", id)
		}
	}
	for id := range en {
		if !de[id] {
			t.Errorf("message %s is missing in German", id)
		}
	}
	used := map[string]bool{}
	fs.WalkDir(files, "templates", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := files.ReadFile(p)
			for _, m := range messageRE.FindAllStringSubmatch(string(b), -1) {
				used[m[1]+m[2]+m[3]] = true
			}
		}
		return nil
	})
	sources, _ := filepath.Glob("*.go")
	for _, src := range sources {
		if strings.HasSuffix(src, "_test.go") {
			continue
		}
		b, err := readSource(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range messageRE.FindAllStringSubmatch(b, -1) {
			used[m[1]+m[2]+m[3]] = true
		}
	}
	// Messages named by a value: statuses, classes, error pages, notices.
	for _, s := range cmdb.TicketStatuses {
		used["status."+s] = true
	}
	for _, cl := range cmdb.Classes {
		used["class."+cl] = true
	}
	for _, code := range []string{cmdb.ENOTFOUND, cmdb.EFORBIDDEN, cmdb.EINVALID, cmdb.EINTERNAL, cmdb.EUNAVAILABLE, cmdb.ERATELIMITED} {
		used["error."+code+".title"], used["error."+code+".text"] = true, true
	}
	for i := range 7 {
		used[fmt.Sprintf("weekday.%d", i)] = true
	}
	for _, u := range urgencies {
		used[fmt.Sprintf("report.urgency.%d", u)] = true
	}
	for _, id := range []string{"report.photo.too_large", "report.photo.not_image", "service.answer.required", "service.answer.tick",
		"service.answer.choose", "service.answer.too_long", "service.answer.number", "service.answer.date", "service.answer.invalid"} {
		used[id] = true
	}
	for _, ok := range []string{"comment", "closed", "reopened"} {
		used["ticket.saved."+ok] = true
	}
	var missing []string
	for id := range used {
		if !de[id] && !strings.HasSuffix(id, ".") {
			missing = append(missing, id)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("messages used but not in the catalogue: %v", missing)
	}
	// Every part of the site has its messages in both languages.
	names, _ := localeFiles()
	parts := map[string]int{}
	for _, n := range names {
		part, lang, _ := strings.Cut(strings.TrimSuffix(path.Base(n), ".json"), ".")
		if !supportedLang(lang) {
			t.Errorf("message file %s is not <part>.de.json or <part>.en.json", n)
		}
		parts[part]++
	}
	for part, n := range parts {
		if n != len(languages) {
			t.Errorf("messages of %s are in %d languages, want %d", part, n, len(languages))
		}
	}
}

// TestStoreError: a store's error lands next to its field, in the
// catalogue's words where it has them; internal errors go up.
func TestStoreError(t *testing.T) {
	rq := &request{tr: mustCatalogue().translator("de")}
	fe, err := rq.storeError(&cmdb.Error{Code: cmdb.ECONFLICT, Field: "status", Message: "too late"}, "body", "status")
	if err != nil || !strings.Contains(fe["status"], "Der Status lässt sich so nicht mehr ändern") {
		t.Errorf("status conflict: %v %v", fe, err)
	}
	fe, err = rq.storeError(cmdb.Errorf(cmdb.EFORBIDDEN, "You may not change this ticket."), "body")
	if err != nil || fe["form"] != "Das dürfen Sie hier nicht: You may not change this ticket." {
		t.Errorf("forbidden: %v %v", fe, err)
	}
	if _, err := rq.storeError(errString("db down"), "body"); err == nil {
		t.Error("an internal error was shown next to a field")
	}
}

type errString string

func (e errString) Error() string { return string(e) }
