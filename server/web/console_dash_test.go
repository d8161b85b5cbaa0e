package web

import (
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
	moreViews["console_dash_dups"] = dupsView{Total: 1, Done: "merged", Kept: link{Text: "Laptop 7", Href: "/cis/7"},
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
