package web

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// TestViews renders every view with fixture data in both languages: no
// template fails, none shows a missing message id or value, and each
// page has one h1, a main landmark and the skip link.
func TestViews(t *testing.T) {
	s := &server{views: mustEngine(), i18n: mustCatalogue()}
	at := time.Date(2026, 3, 9, 10, 15, 0, 0, time.UTC)
	user := &cmdb.User{ID: 7, Name: "Anna Schmidt", Language: "de"}
	tk := &cmdb.Ticket{Number: "SWS-2026-00001", Title: "Drucker zieht kein Papier", Status: cmdb.StatusResolved, Category: "Papierstau",
		Description: "Seit heute früh.", CreatedAt: at, ReporterUserID: 7}
	views := map[string]any{
		"signin":  signInView{Email: "a@schule.de", Next: "/tickets", Errors: fieldErrors{"password": "falsch"}},
		"home":    nil,
		"tickets": ticketsView{Total: 1, Tickets: []ticketRow{{Number: tk.Number, Title: tk.Title, Status: tk.Status, Created: at, Mine: true}}},
		"ticket": &ticketView{T: tk, Room: "Raum 1.12", MayDecide: true, Errors: fieldErrors{"body": "leer", "status": "zu spät"},
			Devices:  []deviceLine{{Name: "Drucker 1.12", Class: cmdb.ClassPrinter, AssetTag: "SWS-42"}},
			Comments: []commentLine{{Mine: true, Body: "Danke", At: at}, {Body: "Erledigt", At: at}}, Saved: "comment"},
		"report": reportSchoolView{Schools: []*cmdb.School{{ID: 1, Name: "Gymnasium am See"}}, School: &cmdb.School{ID: 1, Name: "Gymnasium am See"},
			Query: "1.1", Matches: 1, Buildings: []buildingRooms{{Name: "Haus A", Rooms: []*cmdb.Room{{ID: 3, Name: "Raum 1.12", Code: "1.12"}}}}},
		"room":    reportRoomView{Room: &cmdb.Room{ID: 3, Name: "Raum 1.12"}, Devices: []deviceLine{{Name: "Beamer", Class: cmdb.ClassProjector}}},
		"request": []*cmdb.Service{{Name: "Software installieren", Description: "Im Computerraum"}},
		"error":   errorView{Code: cmdb.ENOTFOUND},
	}
	for name := range s.views.views {
		if _, ok := views[name]; !ok {
			t.Errorf("view %s has no fixture here", name)
		}
	}
	for name, data := range views {
		for _, lang := range []string{"de", "en"} {
			w := httptest.NewRecorder()
			rq := &request{User: user, Lang: lang, tr: s.i18n.translator(lang)}
			s.render(w, httptest.NewRequest("GET", "/x", nil), rq, 200, name, "home.title", data)
			body := w.Body.String()
			if w.Code != 200 {
				t.Errorf("%s/%s: status %d", name, lang, w.Code)
			}
			for _, bad := range []string{"<no value>", "ticket.", "status.", "class.", "error.", "signin.", "home.", "layout."} {
				if strings.Contains(body, bad) {
					t.Errorf("%s/%s shows %q:\n%s", name, lang, bad, body)
				}
			}
			if strings.Count(body, "<h1") != 1 || !strings.Contains(body, `<main id="main"`) || !strings.Contains(body, `href="#main"`) ||
				!strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Errorf("%s/%s lacks one h1, main, the skip link or html lang:\n%s", name, lang, body)
			}
		}
	}
}
