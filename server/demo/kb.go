package demo

import (
	"context"
	"fmt"

	"github.com/schulit/cmdb/server/cmdb"
)

// serviceDef is a service of the demo's catalogue.
type serviceDef struct {
	Name, Description string
	Provider          string // provider code; "" for the authority's IT
	Level             int
	Form              []cmdb.FormField
}

// services of the demo catalogue, the requests teachers open most.
var services = []serviceDef{
	{Name: "Software im Computerraum installieren",
		Description: "Ein Programm für den Unterricht auf den Rechnern eines Computerraums installieren lassen.",
		Level:       1,
		Form: []cmdb.FormField{
			{Key: "software", Label: "Programm (Name und Version)", LabelEn: "Software (name and version)", Type: cmdb.FieldText, Required: true},
			{Key: "lizenz", Label: "Lizenz vorhanden?", LabelEn: "Licence available?", Type: cmdb.FieldSelect, Required: true,
				Options: []string{"Ja, Schullizenz", "Freie Software", "Weiß ich nicht"}},
			{Key: "hinweise", Label: "Hinweise", LabelEn: "Notes", Type: cmdb.FieldTextarea},
		}},
	{Name: "Neues Benutzerkonto",
		Description: "Ein Konto für eine neue Lehrkraft oder eine Kraft der Verwaltung anlegen lassen.",
		Level:       1,
		Form: []cmdb.FormField{
			{Key: "name", Label: "Vor- und Nachname", LabelEn: "Full name", Type: cmdb.FieldText, Required: true},
			{Key: "rolle", Label: "Rolle", LabelEn: "Role", Type: cmdb.FieldSelect, Required: true,
				Options: []string{"Lehrkraft", "Referendariat", "Verwaltung"}},
			{Key: "ab", Label: "Ab wann", LabelEn: "From", Type: cmdb.FieldDate, Required: true},
		}},
	{Name: "Beamer oder Display umsetzen",
		Description: "Einen Beamer oder ein interaktives Display in einen anderen Raum umsetzen oder neu montieren lassen.",
		Provider:    "MEDIENTECHNIK-WEST", Level: 2,
		Form: []cmdb.FormField{
			{Key: "von", Label: "Von Raum", LabelEn: "From room", Type: cmdb.FieldText, Required: true},
			{Key: "nach", Label: "Nach Raum", LabelEn: "To room", Type: cmdb.FieldText, Required: true},
			{Key: "termin", Label: "Wunschtermin", LabelEn: "Preferred date", Type: cmdb.FieldDate},
		}},
}

// ensureServices finds the demo services by name and creates those that
// are missing; it returns their ids by name.
func ensureServices(ctx context.Context, s Store, scope cmdb.Scope, c *cast, sum *Summary) (map[string]int64, error) {
	list, err := s.FindServices(ctx, scope, cmdb.ServiceFilter{AuthorityID: c.authority, Inactive: true})
	if err != nil {
		return nil, fmt.Errorf("demo: find services: %w", err)
	}
	out := map[string]int64{}
	for _, v := range list {
		out[v.Name] = v.ID
	}
	for i, sd := range services {
		if _, ok := out[sd.Name]; !ok {
			v := &cmdb.Service{AuthorityID: c.authority, Name: sd.Name, Description: sd.Description, Active: true,
				Position: (i + 1) * 10, ProviderID: c.providers[sd.Provider], Level: sd.Level, Form: sd.Form}
			if err := s.CreateService(ctx, scope, v); err != nil {
				return nil, fmt.Errorf("demo: service %q: %w", sd.Name, err)
			}
			out[sd.Name] = v.ID
		}
		sum.Services++
	}
	return out, nil
}

// category names a ticket category by class and name.
type category struct{ Class, Name string }

// categories returns the ids of the ticket categories the demo authority
// sees, by class and name.
func categories(ctx context.Context, s Store, scope cmdb.Scope, authority int64) (map[category]int64, error) {
	list, err := s.FindTicketCategories(ctx, scope, "")
	if err != nil {
		return nil, fmt.Errorf("demo: find ticket categories: %w", err)
	}
	out := map[category]int64{}
	for _, v := range list {
		if v.AuthorityID == 0 || v.AuthorityID == authority {
			out[category{v.Class, v.Name}] = v.ID
		}
	}
	return out, nil
}

// articleDef is a knowledge-base article of the demo.
type articleDef struct {
	Title      string
	Public     bool
	Classes    []string
	Categories []category
	Body       string
}

// articles: self-help for teachers on what goes wrong most, and two
// internal notes for IT staff and providers.
var articles = []articleDef{
	{Title: "Beamer zeigt kein Bild? Erst die Quelle prüfen", Public: true, Classes: []string{cmdb.ClassProjector},
		Categories: []category{{cmdb.ClassProjector, "Kein Bild"}},
		Body: `Meist ist der Beamer in Ordnung und nur der falsche Eingang gewählt.

1. **Quelle wählen:** Taste *Source* (oder *Quelle*) auf der Fernbedienung drücken, bis *HDMI 1* erscheint.
2. **Kabel prüfen:** Sitzt das HDMI-Kabel fest im Laptop und im Wandanschluss?
3. **Laptop:** Mit *Windows-Taste + P* „Duplizieren“ wählen.
4. **Warten:** Nach dem Einschalten braucht die Lampe bis zu einer Minute.

Blinkt die Lampen- oder Temperaturanzeige rot, bitte **nicht** erneut einschalten, sondern eine Störung melden.`},
	{Title: "Papierstau am Kopierer beheben", Public: true, Classes: []string{cmdb.ClassMFP, cmdb.ClassPrinter},
		Categories: []category{{cmdb.ClassMFP, "Papierstau"}, {cmdb.ClassPrinter, "Papierstau"}},
		Body: `Das Display zeigt, wo das Papier steckt (Fach, Einzug oder Ausgabe).

1. Die angezeigte Klappe öffnen – **Vorsicht, die Fixiereinheit ist heiß**.
2. Das Blatt langsam in Laufrichtung herausziehen, nicht reißen.
3. Papierfach herausziehen und prüfen, ob das Papier glatt und unter der Markierung liegt.
4. Klappen schließen; der Kopierer setzt den Auftrag fort.

Kommt der Stau immer wieder an derselben Stelle, bitte eine Störung melden und die Meldung auf dem Display angeben.`},
	{Title: "Toner wechseln", Public: true, Classes: []string{cmdb.ClassMFP, cmdb.ClassPrinter},
		Categories: []category{{cmdb.ClassMFP, "Kein Toner"}, {cmdb.ClassPrinter, "Kein Toner"}},
		Body: `Neue Tonerkartuschen liegen im Sekretariat. Die Geräte melden einen leeren Toner selbst an die Kreis-IT;
eine Meldung ist nur nötig, wenn keine Kartusche mehr vorrätig ist.

1. Frontklappe öffnen, alte Kartusche am Griff herausziehen.
2. Neue Kartusche fünfmal schütteln, Schutzstreifen abziehen, einsetzen bis sie einrastet.
3. Alte Kartusche in den Karton der neuen – sie wird mit der nächsten Lieferung abgeholt.`},
	{Title: "WLAN-Zugang für Lehrkräfte", Public: true, Classes: []string{cmdb.ClassAccessPoint},
		Categories: []category{{cmdb.ClassAccessPoint, "Kein WLAN"}},
		Body: `Lehrkräfte nutzen das Netz **LK-Lehrkraft** mit ihrem Schulkonto (gleiche Anmeldung wie am Schul-PC).

- Beim ersten Verbinden das Zertifikat *radius.lk-demo.example* bestätigen.
- Das Netz **LK-Gast** ist für Gäste und nur zwei Stunden gültig.
- Kein Empfang in einem Raum? Bitte den Raum angeben – dann prüfen wir den Access Point dort.`},
	{Title: "Interaktives Display reagiert nicht auf Berührung", Public: true, Classes: []string{cmdb.ClassDisplay},
		Categories: []category{{cmdb.ClassDisplay, "Touch reagiert nicht"}},
		Body: `1. Den Bildschirm mit einem trockenen Tuch abwischen – Kreidestaub stört die Erkennung.
2. Ist ein Laptop angeschlossen, muss auch das **USB-Touch-Kabel** stecken, nicht nur HDMI.
3. Display über die Taste an der Front ausschalten, 30 Sekunden warten, wieder einschalten.`},
	{Title: "Laptop startet nicht oder lädt nicht", Public: true, Classes: []string{cmdb.ClassLaptop, cmdb.ClassTablet},
		Categories: []category{{cmdb.ClassLaptop, "Startet nicht"}, {cmdb.ClassLaptop, "Akku"}},
		Body: `- Netzteil an einer anderen Steckdose probieren; leuchtet die Lade-LED?
- Einschalttaste **15 Sekunden** gedrückt halten, dann normal einschalten.
- Im Laptopwagen: Ist der Wagen selbst eingeschaltet und der Zeitschalter aktiv?

Hilft das nicht, das Gerät mit der Inventarnummer (Aufkleber auf der Unterseite) melden.`},
	{Title: "Intern: Kyocera-Fehler C6000 (Fixiereinheit)", Public: false, Classes: []string{cmdb.ClassMFP, cmdb.ClassPrinter},
		Body: `C6000 heißt: Die Fixiereinheit erreicht ihre Temperatur nicht.

- Gerät 10 Minuten stromlos machen; kommt der Fehler wieder, ist die Fixiereinheit zu tauschen.
- Tausch macht Systemhaus Rhein im Rahmen des Wartungsvertrags (Level 2); Ersatzteil FK-3300.
- Ab dem dritten Tausch in einem Jahr: Gerät zum Ersatz vorschlagen (Wiederholungsfehler).`},
	{Title: "Intern: Beamer-Lampen und Ersatzgeräte", Public: false, Classes: []string{cmdb.ClassProjector},
		Categories: []category{{cmdb.ClassProjector, "Lampe"}},
		Body: `Ersatzlampen und zwei Leihbeamer liegen im Lager der Kreis-IT.

- Lampentausch durch Medientechnik West, Reaktionszeit laut Vertrag ein Schultag.
- Bis dahin einen Leihbeamer bringen, damit der Unterricht stattfinden kann.
- Häufen sich Ausfälle eines Modells, unter *Muster* prüfen und ein Problem anlegen.`},
}

// ensureArticles finds the demo articles by title and creates those that
// are missing.
func ensureArticles(ctx context.Context, s Store, scope cmdb.Scope, authority int64, cats map[category]int64, sum *Summary) error {
	list, _, err := s.FindKBArticles(ctx, scope, cmdb.KBFilter{AuthorityID: authority, Limit: 200})
	if err != nil {
		return fmt.Errorf("demo: find articles: %w", err)
	}
	have := map[string]bool{}
	for _, a := range list {
		have[a.Title] = true
	}
	for _, ad := range articles {
		if !have[ad.Title] {
			a := &cmdb.KBArticle{AuthorityID: authority, Title: ad.Title, BodyMD: ad.Body, Public: ad.Public, Classes: ad.Classes}
			for _, c := range ad.Categories {
				id, ok := cats[c]
				if !ok {
					return fmt.Errorf("demo: article %q: no category %s/%s", ad.Title, c.Class, c.Name)
				}
				a.CategoryIDs = append(a.CategoryIDs, id)
			}
			if err := s.CreateKBArticle(ctx, scope, a); err != nil {
				return fmt.Errorf("demo: article %q: %w", ad.Title, err)
			}
			sum.ArticlesCreated++
		}
		sum.Articles++
	}
	return nil
}
