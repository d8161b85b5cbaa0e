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

// The queue's views with fixture data, for TestViews.
func init() {
	at := time.Date(2026, 3, 9, 10, 15, 0, 0, time.UTC)
	tk := &cmdb.Ticket{ID: 3, Number: "SWS-2026-00003", Title: "Beamer flackert", Status: cmdb.StatusAssigned, Priority: 2, Level: 2,
		Category: "Lampe", Channel: cmdb.ChannelPhone, OnBehalfOf: "Frau Berg", CreatedAt: at, UpdatedAt: at, CIIDs: []int64{5},
		SLA: &cmdb.TicketSLA{State: cmdb.SLABreached, ResolveDue: &at, Deadline: &at}}
	moreViews["console_queue"] = &queueView{Filter: queueFilter{Status: "open", Level: "2", Page: 2}, Total: 120, Query: "level=2&status=open",
		Rows:  []queueRow{{T: tk, School: "Gymnasium am See", Group: "Systemhaus Nord", Assignee: "Jonas Weber", Due: "09.03.2026, 11:15 Uhr", SLA: cmdb.SLABreached}},
		Pages: []pageLink{{N: 1, Href: "/tickets?status=open"}, {N: 2, Href: "/tickets?seite=2&status=open", Current: true}},
		Prev:  "/tickets?status=open", Next: "/tickets?seite=3&status=open",
		Queues:    []queueLink{{Label: "Neu", Count: 4, Href: "/tickets?status=new"}, {Label: "2nd Level", Count: 9, Href: "/tickets?level=2&status=open", Current: true}},
		Schools:   []*cmdb.School{{ID: 1, Name: "Gymnasium am See"}},
		Providers: []*cmdb.Provider{{ID: 2, Name: "Systemhaus Nord"}},
		Saved:     []*cmdb.SavedFilter{{ID: 1, Name: "2nd Level offen", Query: "level=2&status=open"}},
		Errors:    fieldErrors{"name": "zu lang", "level": "falsch"}, FilterName: "x", Notice: "saved", ExportLimit: 100,
		People: []personChoice{{ID: 7, Label: "Jonas Weber"}}}
	moreViews["console_queue_ticket"] = &staffTicketView{T: tk, Seen: at.Format(seenLayout), School: "Gymnasium am See", Room: "Raum 1.12",
		Group: "Systemhaus Nord", Assignee: "Jonas Weber", Reporter: "Anna Schmidt", DueResolve: "09.03.2026, 11:15 Uhr", SLA: cmdb.SLABreached,
		Devices: []ciPanel{{CI: &cmdb.CI{ID: 5, Class: cmdb.ClassProjector, Serial: "X1", RepeatFailure: &cmdb.RepeatFailureFlag{Count: 3, WindowDays: 365}},
			Name: "Beamer 1.12", Room: "Raum 1.12", Health: []*cmdb.HealthEvent{{Kind: cmdb.HealthLamp, Open: true, Detail: "Lampe 2100 h"}},
			Tickets: []*cmdb.Ticket{{Number: "SWS-2026-00001", Title: "Kein Bild", Status: cmdb.StatusClosed}}}},
		Comments:    []staffComment{{C: &cmdb.TicketComment{Body: "Lampe bestellt", Internal: true, CreatedAt: at}, Author: "Jonas Weber"}},
		Files:       []*cmdb.Attachment{{ID: 1, FileName: "foto.jpg", MediaType: "image/jpeg", CreatedAt: at}},
		History:     []historyLine{{At: at, Who: "Jonas Weber", Field: "Status", Old: "Neu", New: "Zugewiesen"}},
		Providers:   []*cmdb.Provider{{ID: 2, Name: "Systemhaus Nord"}},
		People:      []personChoice{{ID: 7, Label: "Jonas Weber"}},
		Transitions: cmdb.AllowedTransitions(tk.Status),
		Problems:    []*cmdb.Problem{{ID: 1, Number: "PRB-1", Title: "Lampen EB-W49"}},
		Stale:       []historyLine{{At: at, Who: "Jonas Weber", Field: "Gruppe", Old: "IT des Schulträgers", New: "Systemhaus Nord"}},
		Errors:      fieldErrors{"form": "veraltet", "body": "leer", "solution": "leer", "into": "unbekannt", "file": "zu groß"},
		Saved:       "assign", KB: true, Draft: &cmdb.KBArticle{ID: 4, Title: "Beamer flackert"}}
	moreViews["console_queue_intake"] = &intakeView{Person: &cmdb.User{ID: 7, Name: "Anna Schmidt", Email: "anna@schule.de"},
		School: &cmdb.School{ID: 1, Name: "Gymnasium am See"}, Room: &cmdb.Room{ID: 3, Name: "Raum 1.12"}, Base: "person=7&schule=1&raum=3",
		Device: &deviceLine{ID: 5, Name: "Beamer 1.12", Class: cmdb.ClassProjector}, Cats: []*cmdb.TicketCategory{{ID: 1, Name: "Lampe"}},
		Form: intakeForm{Key: "k", CategoryID: 1, Impact: 3, Urgency: 2}, Errors: fieldErrors{"description": "leer", "form": "x"}}
}

// queueStores answer what the queue asks of tickets and tenants: n open
// tickets of one school, nobody assigned.
type queueStores struct {
	cmdb.TicketStore
	cmdb.TenantStore
	n int
}

func (q queueStores) FindTickets(_ context.Context, _ cmdb.Scope, f cmdb.TicketFilter) ([]*cmdb.Ticket, int, error) {
	var out []*cmdb.Ticket
	for i := f.Offset; i < min(q.n, f.Offset+f.Limit); i++ {
		out = append(out, &cmdb.Ticket{ID: int64(i + 1), Number: fmt.Sprintf("SWS-2026-%05d", i+1), Title: "Papierstau", Status: cmdb.StatusNew,
			Priority: 3, Level: 1, Channel: cmdb.ChannelPortal, SchoolID: 1})
	}
	return out, q.n, nil
}

func (q queueStores) FindSchools(context.Context, cmdb.Scope, cmdb.TenantFilter) ([]*cmdb.School, error) {
	return []*cmdb.School{{ID: 1, Name: "Gymnasium am See"}}, nil
}

func (q queueStores) FindProviders(context.Context, cmdb.Scope) ([]*cmdb.Provider, error) {
	return nil, nil
}

// TestQueueExportSaysWhenCut: a list longer than an export holds is cut,
// and the page and the file's last row say so; a shorter one is whole and
// says nothing.
func TestQueueExportSaysWhenCut(t *testing.T) {
	for _, tc := range []struct{ n, rows int }{{75, 30}, {30, 30}} {
		st := queueStores{n: tc.n}
		s := &server{views: mustEngine(), i18n: mustCatalogue(), opts: Options{Tickets: st, Tenants: st}, exportMax: 30}
		rq := &request{User: &cmdb.User{ID: 7, Name: "Jonas"}, Scope: cmdb.Scope{UserID: 7, Authorities: []int64{1}}, Lang: "de", tr: s.i18n.translator("de")}
		w := httptest.NewRecorder()
		if err := s.queueList(w, httptest.NewRequest("GET", "/tickets", nil), rq); err != nil || w.Code != 200 {
			t.Fatalf("%d tickets: the queue: %d %v", tc.n, w.Code, err)
		}
		note := "Die Datei enthält nur die ersten 30 von 75 Tickets"
		if cut := strings.Contains(w.Body.String(), note); cut != (tc.n > 30) {
			t.Errorf("%d tickets: the page says it is cut: %v", tc.n, cut)
		}
		w = httptest.NewRecorder()
		if err := s.queueList(w, httptest.NewRequest("GET", "/tickets?format=csv", nil), rq); err != nil {
			t.Fatal(err)
		}
		cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(w.Body.String(), "\ufeff")))
		cr.Comma = ';'
		rows, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("%d tickets: %v", tc.n, err)
		}
		want := 1 + tc.rows
		if tc.n > 30 {
			want++
		}
		if len(rows) != want || rows[1][0] != "SWS-2026-00001" || rows[tc.rows][0] != fmt.Sprintf("SWS-2026-%05d", tc.rows) {
			t.Fatalf("%d tickets: the file holds %d rows, want %d", tc.n, len(rows), want)
		}
		if last := rows[len(rows)-1][0]; strings.HasPrefix(last, note) != (tc.n > 30) {
			t.Errorf("%d tickets: the file ends with %q", tc.n, last)
		}
	}
}
