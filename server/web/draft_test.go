package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// TestDrafts: an owner token opens only as an owner, for a day, under
// the key it was made with; a draft goes to its owner on its own page
// only, and is dropped for anyone else or once it is old.
func TestDrafts(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	key := make([]byte, 32)
	s := &server{opts: Options{Now: clock}, drafts: newDrafter(key)}
	tok := s.drafts.owner(7, now)
	if got := s.drafts.ownerOf(tok, now.Add(time.Hour)); got != 7 {
		t.Errorf("owner of a fresh token: %d", got)
	}
	if got := s.drafts.ownerOf(tok, now.Add(25*time.Hour)); got != 0 {
		t.Errorf("a day-old form still names its owner: %d", got)
	}
	if got := newDrafter([]byte("another key of thirty-two bytes!")).ownerOf(tok, now); got != 0 {
		t.Errorf("another server key opens the token: %d", got)
	}
	if _, ok := s.drafts.open("draft", tok); ok {
		t.Error("an owner token opens as a draft")
	}

	post := func(path string, form url.Values) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		s.signInFirst(w, r)
		return w
	}
	w := post("/melden/geraet/5", url.Values{"owner": {tok}, "description": {"Lampe blinkt"}, "key": {"k1"}})
	if loc := w.Header().Get("Location"); loc != "/anmelden?next=%2Fmelden%2Fgeraet%2F5&entwurf=kept" {
		t.Fatalf("kept draft goes to %q", loc)
	}
	var c *http.Cookie
	for _, ck := range w.Result().Cookies() {
		if ck.Name == draftCookie {
			c = ck
		}
	}
	if c == nil || strings.Contains(c.Value, "Lampe") || !c.HttpOnly || !c.Secure || c.MaxAge != int(draftLife.Seconds()) {
		t.Fatalf("draft cookie %+v", c)
	}
	take := func(path string, user int64) (*draft, string) {
		r := httptest.NewRequest("GET", path, nil)
		r.AddCookie(c)
		w := httptest.NewRecorder()
		d := s.takeDraft(w, r, &request{User: &cmdb.User{ID: user}})
		return d, w.Header().Get("Set-Cookie")
	}
	if d, set := take("/tickets", 7); d != nil || set != "" {
		t.Errorf("another page of hers takes the draft (%v) or drops it (%q)", d, set)
	}
	if d, _ := take("/melden/geraet/5", 7); d == nil || d.Fields.Get("description") != "Lampe blinkt" || d.Fields.Get("key") != "k1" || d.Fields.Has("owner") {
		t.Errorf("her draft on its page: %+v", d)
	}
	if d, set := take("/melden/geraet/5", 8); d != nil || !strings.Contains(set, "Max-Age=0") {
		t.Errorf("a colleague gets the draft (%v) or it stays (%q)", d, set)
	}
	now = now.Add(draftLife + time.Minute)
	if d, _ := take("/melden/geraet/5", 7); d != nil {
		t.Errorf("an old draft is shown: %+v", d)
	}
}
