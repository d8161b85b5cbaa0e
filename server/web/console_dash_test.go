package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// View fixtures of the dashboard and the duplicates review (TestViews).
func init() {
	at := time.Date(2026, 3, 9, 10, 15, 0, 0, time.UTC)
	n := func(k int, h string) link { return link{N: k, Href: h} }
	cells := []link{n(1, "/tickets?priority=1"), {}, n(2, "/tickets?priority=3"), {}, {}}
	moreViews["console_dash"] = dashboardView{Chosen: true, Authority: "Stadt Seestadt", Priorities: []int{1, 2, 3, 4, 5},
		Choices:  []dashChoice{{ID: 1, Name: "Stadt Seestadt", Selected: true}, {ID: 2, Name: "Landkreis Nord"}},
		Tickets:  []dashTicketRow{{School: "Gymnasium am See", Cells: cells, Total: n(3, "/tickets?school=1")}},
		Totals:   dashTicketRow{Cells: cells, Total: n(3, "/tickets")},
		Breached: n(1, "/tickets?sla=breached"), DueToday: n(2, "/uebersicht/heute-faellig"),
		Repeat: &link{N: 1, Href: "/uebersicht/wiederholt"}, RepeatTop: []link{{Text: "Drucker 1.12 (3 Störungen in 365 Tagen)", Href: "/cis/5"}},
		ShowPatterns: true, Patterns: []dashPattern{{Model: link{Text: "HP LaserJet M404dn", N: 12, Href: "/cis?model=x"}, Class: "Drucker",
			Incidents: 9, Expected: "2,1", Devices: []link{{Text: "Drucker 1.12", N: 3, Href: "/cis/5"}}}},
		NotSeen: []link{{Text: "Agent", N: 4, Href: "/uebersicht/nicht-gesehen?source=agent"}},
		NoAgent: n(3, "/uebersicht/ohne-agent"), AgentDevices: 40, Low: n(2, "/uebersicht/verbrauchsmaterial"),
		Unreachable: n(1, "/uebersicht/nicht-erreichbar")}
	moreViews["console_dash_list"] = dashListView{Heading: "Heute fällig", Intro: "Offene Tickets", Back: "/uebersicht",
		Header: []string{"Nummer", "Titel"}, Rows: [][]link{{{Text: "SWS-2026-00001", Href: "/tickets/SWS-2026-00001"}, {Text: "Papierstau"}}},
		Total: 101, From: 1, To: 100, Next: "/uebersicht/heute-faellig?page=2", CSV: "?format=csv", XLSX: "?format=xlsx"}
	moreViews["console_dash_dups"] = dupsView{Total: 101, From: 101, To: 101, Prev: "/duplikate?page=1", CSV: "/duplikate?format=csv", XLSX: "/duplikate?format=xlsx",
		Done: "merged", Kept: link{Text: "Laptop 7", Href: "/cis/7"},
		Rows: []dupRow{{ID: 3, A: link{Text: "Laptop 7"}, B: link{Text: "Laptop 8"}, Rule: "MAC-Adresse", Created: at}}}
	old, nw := "1.12", "2.01"
	side := func(id int64, label string) *dupSide {
		return &dupSide{Label: label, CI: &cmdb.CI{ID: id, Name: "Laptop", Vendor: "Dell", Model: "Latitude", Serial: "ABC", CreatedAt: at},
			Class: "Laptop", School: "Gymnasium am See", Room: "Raum 1.12",
			Identifiers: []*cmdb.Identifier{{Kind: cmdb.IdentMAC, Value: "aa:bb:cc:dd:ee:ff", Source: "agent"}},
			Sources:     []dupSeen{{Source: "Agent", At: at}},
			History:     []histLine{{Attr: "Raum", Old: old, New: nw, Source: "Agent", At: at}}}
	}
	a, b := side(7, "A"), side(8, "B")
	moreViews["console_dash_dup"] = &dupView{D: &cmdb.DuplicateCandidate{ID: 3, CIA: 7, CIB: 8, Rule: "mac", Status: cmdb.DupOpen},
		Rule: "MAC-Adresse", A: a, B: b, Sides: []*dupSide{a, b}, Keep: 7, Errors: fieldErrors{"keep": "wählen"}}
}

// TestDashViewsSpeak: the dashboard's views show no message id (a
// missing message would show as "dash.…" or "dups.…").
func TestDashViewsSpeak(t *testing.T) {
	s := &server{views: mustEngine(), i18n: mustCatalogue()}
	for _, name := range []string{"console_dash", "console_dash_list", "console_dash_dups", "console_dash_dup"} {
		for _, lang := range []string{"de", "en"} {
			w := httptest.NewRecorder()
			rq := &request{User: &cmdb.User{ID: 7, Name: "Anna"}, Lang: lang, tr: s.i18n.translator(lang)}
			s.render(w, httptest.NewRequest("GET", "/uebersicht", nil), rq, 200, name, "dash.title", moreViews[name])
			if body := w.Body.String(); strings.Contains(body, "dash.") || strings.Contains(body, "dups.") || w.Code != 200 {
				t.Errorf("%s/%s: %d\n%s", name, lang, w.Code, body)
			}
		}
	}
}

// dupStore is a CI store of n open duplicate candidates (CIs 2i+1 and
// 2i+2); only what the duplicates list asks is answered.
type dupStore struct {
	cmdb.CIStore
	n int
}

func (d dupStore) FindDuplicates(_ context.Context, _ cmdb.Scope, f cmdb.DuplicateFilter) ([]*cmdb.DuplicateCandidate, int, error) {
	var out []*cmdb.DuplicateCandidate
	for i := f.Offset; i < min(d.n, f.Offset+f.Limit); i++ {
		out = append(out, &cmdb.DuplicateCandidate{ID: int64(i + 1), CIA: int64(2*i + 1), CIB: int64(2*i + 2), Rule: "mac", Status: cmdb.DupOpen,
			CreatedAt: time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)})
	}
	return out, d.n, nil
}

func (d dupStore) FindCIByID(_ context.Context, _ cmdb.Scope, id int64) (*cmdb.CI, error) {
	return &cmdb.CI{ID: id, Name: fmt.Sprintf("Laptop %d", id)}, nil
}

// TestDuplicatesPagesAndExport: the review lists every open candidate a
// page at a time, and exports all of them, not the first hundred.
func TestDuplicatesPagesAndExport(t *testing.T) {
	s := &server{views: mustEngine(), i18n: mustCatalogue(), opts: Options{CIs: dupStore{n: 250}}}
	rq := &request{User: &cmdb.User{ID: 7, Name: "Anna"}, Lang: "de", tr: s.i18n.translator("de")}
	page := func(path string) string {
		t.Helper()
		w := httptest.NewRecorder()
		if err := s.duplicates(w, httptest.NewRequest("GET", path, nil), rq); err != nil || w.Code != 200 {
			t.Fatalf("%s: %d %v", path, w.Code, err)
		}
		return w.Body.String()
	}
	first := page("/duplikate")
	if n := strings.Count(first, `href="/duplikate/`); n != 100 {
		t.Errorf("page 1 lists %d candidates, want 100", n)
	}
	if !strings.Contains(first, `href="/duplikate?page=2" rel="next"`) || !strings.Contains(first, "250 offene Paare · angezeigt 1–100") {
		t.Errorf("page 1 has no way on, or does not say what it shows")
	}
	last := page("/duplikate?page=3")
	if n := strings.Count(last, `href="/duplikate/`); n != 50 || !strings.Contains(last, "Laptop 500") || !strings.Contains(last, `href="/duplikate?page=2" rel="prev"`) {
		t.Errorf("page 3 lists %d candidates, want the last 50 and a way back", n)
	}
	for _, format := range []string{"csv", "xlsx"} {
		if !strings.Contains(first, `href="/duplikate?format=`+format+`"`) {
			t.Errorf("no %s export link", format)
		}
	}
	w := httptest.NewRecorder()
	if err := s.duplicates(w, httptest.NewRequest("GET", "/duplikate?format=csv", nil), rq); err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(w.Body.String(), "\ufeff")))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil || len(rows) != 251 || rows[0][0] != "Gerät A" || rows[250][1] != "Laptop 500" || rows[1][2] != "MAC-Adresse" {
		t.Errorf("the CSV holds %d rows (%v), want the header and 250 candidates", len(rows), err)
	}
}
