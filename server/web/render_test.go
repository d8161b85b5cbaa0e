package web

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// moreViews holds the fixtures of views that other test files add (each
// part of the console its own, in an init func).
var moreViews = map[string]any{}

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
		"signin":  signInView{Email: "a@schule.de", Next: "/tickets", Errors: fieldErrors{"password": "falsch"}, SSO: []cmdb.SignInChoice{{Code: "LKP", Name: "Landkreis Pinneberg"}}, Draft: "kept"},
		"home":    nil,
		"tickets": ticketsView{Total: 1, Tickets: []ticketRow{{Number: tk.Number, Title: tk.Title, Status: tk.Status, Created: at, Mine: true}}},
		"ticket": &ticketView{T: tk, Room: "Raum 1.12", MayDecide: true, Errors: fieldErrors{"body": "leer", "status": "zu spät"},
			Devices:  []deviceLine{{Name: "Drucker 1.12", Class: cmdb.ClassPrinter, AssetTag: "SWS-42"}},
			Comments: []commentLine{{Mine: true, Body: "Danke", At: at}, {Body: "Erledigt", At: at}}, Saved: "comment", Restored: &draftNotice{}},
		"report": reportSchoolView{Schools: []*cmdb.School{{ID: 1, Name: "Gymnasium am See"}}, School: &cmdb.School{ID: 1, Name: "Gymnasium am See"},
			Query: "1.1", Matches: 1, Buildings: []buildingRooms{{Name: "Haus A", Rooms: []*cmdb.Room{{ID: 3, Name: "Raum 1.12", Code: "1.12"}}}}},
		"room":    reportRoomView{Room: &cmdb.Room{ID: 3, Name: "Raum 1.12"}, Devices: []deviceLine{{Name: "Beamer", Class: cmdb.ClassProjector}}},
		"request": []*cmdb.Service{{Name: "Software installieren", Description: "Im Computerraum"}},
		"error":   errorView{Code: cmdb.ENOTFOUND},
		"device": &reportView{Action: "/melden/geraet/5", CIID: 5, Device: &deviceLine{Name: "Beamer 1.12", Class: cmdb.ClassProjector, AssetTag: "SWS-7"},
			Room: &cmdb.Room{ID: 3, Name: "Raum 1.12"}, Photo: true, MaxSize: "10 MB", Restored: &draftNotice{Photo: true},
			Open:   []openTicket{{Number: tk.Number, What: "Kein Bild", When: "am Montag", Watchers: 3}, {Number: "SWS-2026-00002", What: "Lampe", When: "heute", Mine: true}},
			Help:   []helpArticle{{Title: "Kein Bild?", Body: "<p>Eingang <strong>HDMI 1</strong> wählen.</p>"}},
			Cats:   []*cmdb.TicketCategory{{ID: 1, Name: "Kein Bild"}, {ID: 2, Name: "Lampe"}},
			Form:   reportForm{Key: "k", CategoryID: 2, Description: "Flackert", Urgency: 1},
			Errors: fieldErrors{"category": "wählen", "description": "leer", "urgency": "wählen", "photo": "zu groß", "form": "x"}},
		"reported": reportedView{T: tk, Photo: "ok"},
		"metoo":    meTooView{T: &cmdb.Ticket{Number: tk.Number, Watchers: 4}},
		"code":     nil,
		"service": &serviceView{Service: &cmdb.Service{ID: 2, Name: "Neues Benutzerkonto", Description: "Für neue Kolleg:innen"}, Key: "k",
			Errors: fieldErrors{"form": "x"}, Restored: &draftNotice{}, Fields: []formField{
				{FormField: cmdb.FormField{Key: "vorname", Type: cmdb.FieldText, Required: true, MaxLength: 100}, Label: "Vorname", Value: "Jo", Error: "leer"},
				{FormField: cmdb.FormField{Key: "hinweise", Type: cmdb.FieldTextarea}, Label: "Hinweise"},
				{FormField: cmdb.FormField{Key: "anzahl", Type: cmdb.FieldNumber}, Label: "Anzahl"},
				{FormField: cmdb.FormField{Key: "ab", Type: cmdb.FieldDate}, Label: "Ab"},
				{FormField: cmdb.FormField{Key: "rolle", Type: cmdb.FieldSelect}, Label: "Rolle", Value: "b", Choices: []choice{{"a", "A"}, {"b", "B"}}},
				{FormField: cmdb.FormField{Key: "raum", Type: cmdb.FieldRoom}, Label: "Raum", Choices: []choice{{"3", "Raum 1.12"}}},
				{FormField: cmdb.FormField{Key: "ok", Type: cmdb.FieldCheckbox, Required: true}, Label: "Geprüft", Checked: true, Error: "ankreuzen"},
			}},
	}
	for name, data := range moreViews {
		views[name] = data
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
			for _, bad := range []string{"<no value>", "ticket.", "status.", "class.", "error.", "signin.", "home.", "layout.",
				"device.open", "device.form", "report.urgency", "report.photo", "reported.", "metoo.", "code.", "service.", "day.", "weekday.", "draft.", "live."} {
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

// TestDeviceView: the report page keeps its order (already reported,
// self-help, the form), puts the article's sanitised HTML in as it is,
// keeps what was typed and offers "me too" only on others' tickets.
func TestDeviceView(t *testing.T) {
	s := &server{views: mustEngine(), i18n: mustCatalogue()}
	v := &reportView{Action: "/melden/geraet/5", Device: &deviceLine{Name: "Beamer", Class: cmdb.ClassProjector}, Photo: true,
		Open: []openTicket{{Number: "A-1", What: "Kein Bild", When: "am Montag", Watchers: 3}, {Number: "A-2", What: "Lampe", When: "heute", Mine: true}},
		Help: []helpArticle{{Title: "Kein Bild?", Body: "<p>Eingang <strong>HDMI 1</strong></p>"}},
		Cats: []*cmdb.TicketCategory{{ID: 1, Name: "Kein Bild"}}, Form: reportForm{Key: "k1", Description: "Es <b>flackert</b>"}, Errors: fieldErrors{}}
	w := httptest.NewRecorder()
	s.render(w, httptest.NewRequest("GET", "/melden/geraet/5", nil), &request{User: &cmdb.User{Name: "A"}, Lang: "de", tr: s.i18n.translator("de")}, 200, "device", "device.title", v)
	body := w.Body.String()
	for _, want := range []string{"Gemeldet am Montag: Kein Bild</a></p>", `<p class="open-watchers">3 Kolleg:innen betroffen</p>`, "Sie haben das gemeldet.",
		"<strong>HDMI 1</strong>", "Es &lt;b&gt;flackert&lt;/b&gt;", `name="key" value="k1"`, `enctype="multipart/form-data"`,
		`accept="image/*" capture="environment"`, "Der Unterricht kann nicht stattfinden", "Es kann warten"} {
		if !strings.Contains(body, want) {
			t.Errorf("device page lacks %q", want)
		}
	}
	if strings.Count(body, "Ich bin auch betroffen</button>") != 1 {
		t.Errorf("want one me-too button (not on her own ticket)")
	}
	a, b, c := strings.Index(body, "Bereits gemeldet"), strings.Index(body, "Vielleicht hilft das"), strings.Index(body, `name="description"`)
	if a < 0 || !(a < b && b < c) {
		t.Errorf("order: already reported %d, self-help %d, form %d", a, b, c)
	}
}

func TestDay(t *testing.T) {
	tr := mustCatalogue().translator("de")
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, berlin) // a Thursday
	for at, want := range map[time.Time]string{
		now.Add(-time.Hour):                          "heute",
		time.Date(2026, 12, 2, 23, 30, 0, 0, berlin): "gestern",
		time.Date(2026, 11, 30, 8, 0, 0, 0, berlin):  "am Montag",
		time.Date(2026, 11, 26, 8, 0, 0, 0, berlin):  "am 26.11.2026",
	} {
		if got := tr.Day(at, now); got != want {
			t.Errorf("Day(%v) = %q, want %q", at, got, want)
		}
	}
}
