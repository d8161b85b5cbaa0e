package web

import (
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
)

func init() {
	f := &adminForm{ID: "obj", Action: "/verwaltung/raeume/3", Submit: "Speichern", ErrWord: "Fehler", Summary: "Bitte korrigieren"}
	f.text("code", "Kürzel", "1 12").Error = "ungültig"
	f.choice("school_id", "Schule", "2", []adminOption{{Value: "1", Label: "Gymnasium"}, {Value: "2", Label: "Realschule"}})
	f.check("public", "Öffentlich", true)
	f.add(&adminField{ID: "obj-classes", Name: "classes", Type: "checkboxes", Label: "Klassen", Options: []adminOption{{Value: "printer", Label: "Drucker", Selected: true}}})
	f.add(&adminField{ID: "obj-body", Name: "body_md", Type: "textarea", Label: "Text", Value: "**fett**", Hint: "Markdown"})
	g := f.add(&adminField{Type: "group", Label: "Priorität 1"})
	g.Sub = []*adminField{{ID: "obj-p1", Name: "priority[1].resolve", Type: "number", Label: "Lösung", Value: "240", Error: "zu klein"}}
	moreViews["console_admin"] = &adminView{Heading: "Räume", Intro: "Alle Räume", Notice: "Gespeichert.",
		Crumbs: []adminLink{{"/verwaltung/raeume", "Räume"}},
		Secret: &adminSecret{Label: "Token", Value: "cmdb_enrol_x", Hint: "nur einmal"},
		Start:  []adminSection{{Heading: "Schulen", Links: []adminLink{{"/verwaltung/schulen", "Schulen"}}}},
		Blocks: []*adminBlock{
			{ID: "list", List: &adminList{Caption: "Räume", Columns: []string{"Name", "Kürzel"}, New: &adminLink{"/verwaltung/raeume/neu", "Neuer Raum"},
				Exports: []adminLink{{"?format=csv", "CSV"}}, Filter: &adminForm{ID: "filter", Get: true, Submit: "Anzeigen"},
				Rows:  []adminRow{{Cells: []adminCell{{Text: "Raum 1.12", Href: "/verwaltung/raeume/1"}, {Text: "1.12"}}, Actions: []adminAction{{Action: "/x", Label: "Löschen", Hidden: "Raum 1.12", Danger: true}}}},
				Pager: &adminPager{Info: "Seite 1 von 2", Next: "?seite=2"}}},
			{ID: "empty", Heading: "Leer", List: &adminList{Caption: "Leer", Empty: "Noch keine Einträge."}},
			{ID: "edit", Heading: "Bearbeiten", Form: f},
			{ID: "preview", Heading: "Vorschau", HTML: "<p><strong>fett</strong></p>"},
			{ID: "confirm", Form: &adminForm{ID: "confirm", Submit: "Ja, löschen", Danger: true}, Back: &adminLink{"/verwaltung", "Abbrechen"}},
		}}
}

// TestAdminParsers: opening hours and closed days as typed on the
// calendar page.
func TestAdminParsers(t *testing.T) {
	spans, err := parseSpans("week[1]", "07:30–12:00, 13:00-16:00")
	if err != nil || len(spans) != 2 || spans[0].Open != cmdb.Clock(7, 30) || spans[1].Close != cmdb.Clock(16, 0) {
		t.Errorf("spans: %v %v", spans, err)
	}
	if spans, err := parseSpans("week[0]", " "); err != nil || len(spans) != 0 {
		t.Errorf("an empty day is closed: %v %v", spans, err)
	}
	if _, err := parseSpans("week[2]", "7 bis 16 Uhr"); cmdb.ErrorField(err) != "week[2]" {
		t.Errorf("bad span: %v", err)
	}
	days, bad := parseClosed("23.12.2026 – 06.01.2027 Weihnachtsferien\n\n2026-10-02 Brückentag")
	if bad != 0 || len(days) != 2 || days[0].To != cmdb.MakeDate(2027, 1, 6) || days[0].Name != "Weihnachtsferien" || days[1].From != days[1].To {
		t.Errorf("closed: %v %d", days, bad)
	}
	if _, bad := parseClosed("23.12.2026\nWeihnachten"); bad != 2 {
		t.Errorf("bad line: %d, want 2", bad)
	}
	if got := closedText(days); got != "23.12.2026 – 06.01.2027 Weihnachtsferien\n02.10.2026 Brückentag" {
		t.Errorf("closed text: %q", got)
	}
	if got := calendarAlias("week[3][0].close"); got != "week[3]" {
		t.Errorf("alias: %s", got)
	}
}

// TestAdminRuleText: the stores' common rules in German, a building
// that is not empty named with its contents.
func TestAdminRuleText(t *testing.T) {
	rq := &request{tr: mustCatalogue().translator("de")}
	field, msg, ok := ruleText(rq, cmdb.Errorf(cmdb.ECONFLICT, "Building 4 still holds 2 rooms, 1 CI; move or delete them first."))
	if !ok || field != "" || msg != "Noch nicht leer: Darin sind noch 2 Räume, 1 Gerät. Verschieben oder löschen Sie das zuerst." {
		t.Errorf("holds: %q %q %v", field, msg, ok)
	}
	field, msg, ok = ruleText(rq, cmdb.Invalid("window_days", "must be 1 to 3660 days (got 0)"))
	if !ok || field != "window_days" || msg != "Erlaubt ist eine Zahl von 1 bis 3660." {
		t.Errorf("range: %q %q %v", field, msg, ok)
	}
	field, msg, ok = ruleText(rq, cmdb.PatternRule{Alpha: 0.7, MinIncidents: 5, MinDevices: 3}.Validate())
	if !ok || field != "alpha" || msg != "Erlaubt ist eine Zahl größer als 0 und höchstens 0,5, z. B. 0,01." {
		t.Errorf("alpha: %q %q %v", field, msg, ok)
	}
	field, msg, ok = ruleText(rq, cmdb.PatternRule{Alpha: 0.01, MinIncidents: 5, MinDevices: 0}.Validate())
	if !ok || field != "min_devices" || msg != "Erlaubt ist eine Zahl von 1 bis 10000." {
		t.Errorf("min_devices: %q %q %v", field, msg, ok)
	}
	if _, _, ok := ruleText(rq, cmdb.Invalid("x", "something new")); ok {
		t.Error("an unknown rule is translated")
	}
}
