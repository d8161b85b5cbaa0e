package demo

import "github.com/schulit/cmdb/server/cmdb"

// problem is a kind of trouble a demo ticket reports: its category (of
// the CI class, or general), what the reporter writes and what the
// solver answers when done.
type problem struct {
	Category    string
	Title       string
	Description string
	Solution    string
}

// classGeneral marks tickets on a room rather than a device.
const classGeneral = "general"

// problems by CI class, as teachers put them.
var problems = map[string][]problem{
	cmdb.ClassPrinter: {
		{"Papierstau", "Drucker meldet ständig Papierstau", "Nach jedem zweiten Blatt Papierstau in Fach 2, obwohl nichts zu sehen ist.", "Einzugsrolle in Fach 2 war verschlissen und wurde getauscht."},
		{"Druckt nicht", "Drucker druckt nicht mehr", "Aufträge kommen nicht an, das Display zeigt „Bereit“.", "Druckwarteschlange auf dem Server hing; neu gestartet, Aufträge laufen wieder."},
		{"Schlechte Druckqualität", "Streifen auf allen Ausdrucken", "Senkrechte graue Streifen auf jeder Seite.", "Trommeleinheit getauscht."},
		{"Kein Toner", "Kein Toner mehr vorrätig", "Der Drucker meldet Toner leer und im Sekretariat ist keine Kartusche mehr.", "Zwei Kartuschen geliefert, eine eingesetzt."},
	},
	cmdb.ClassMFP: {
		{"Papierstau", "Kopierer: Papierstau im Einzug", "Der Vorlageneinzug zieht schief ein und staut.", "Einzugsrollen gereinigt und Trennpad getauscht."},
		{"Scannt nicht", "Scan an E-Mail funktioniert nicht", "Beim Scannen an meine Adresse kommt „Senden fehlgeschlagen“.", "SMTP-Zugang am Gerät erneuert; Scan an E-Mail geht wieder."},
		{"Druckt nicht", "Kopierer druckt keine Aufträge vom PC", "Kopieren geht, aber Druckaufträge aus dem Lehrerzimmer kommen nicht an.", "Treiber auf den Lehrer-PCs neu verteilt."},
		{"Schlechte Druckqualität", "Kopien sind blass", "Alle Kopien sehr hell, auch mit dunkler Einstellung.", "Toner war fast leer und falsch gemeldet; Kartusche und Sensor getauscht."},
	},
	cmdb.ClassProjector: {
		{"Kein Bild", "Beamer zeigt kein Bild", "Beamer läuft, aber das Bild bleibt blau – mit zwei verschiedenen Laptops.", "HDMI-Wandanschluss hatte Wackelkontakt; Dose getauscht."},
		{"Lampe", "Beamer geht nach wenigen Minuten aus", "Nach etwa zehn Minuten schaltet der Beamer ab, die Lampenanzeige blinkt rot.", "Lampe und Luftfilter getauscht."},
		{"Bild unscharf", "Beamerbild unscharf und gelbstichig", "Das Bild ist an den Rändern unscharf und hat einen Gelbstich.", "Lampe am Lebensende getauscht, Fokus neu eingestellt."},
		{"Fernbedienung", "Fernbedienung des Beamers fehlt", "Die Fernbedienung ist seit den Ferien weg.", "Neue Fernbedienung gebracht und beschriftet."},
	},
	cmdb.ClassDisplay: {
		{"Touch reagiert nicht", "Tafel reagiert nicht auf Berührung", "Das Display zeigt das Bild, aber Stift und Finger werden nicht erkannt.", "Touch-Firmware aktualisiert und USB-Kabel ersetzt."},
		{"Kein Ton", "Kein Ton am Display", "Videos laufen, aber ohne Ton.", "Audioausgang war auf HDMI-ARC gestellt; zurückgesetzt."},
		{"Kein Bild", "Display bleibt schwarz", "Display startet nicht, nur die Standby-LED leuchtet.", "Netzteil des Displays getauscht."},
	},
	cmdb.ClassDocumentCamera: {
		{"Kein Bild", "Dokumentenkamera wird nicht erkannt", "Am Laptop erscheint die Kamera nicht mehr.", "USB-Kabel defekt, ersetzt."},
		{"Bild unscharf", "Dokumentenkamera stellt nicht scharf", "Der Autofokus pumpt ständig.", "Firmware aktualisiert."},
	},
	cmdb.ClassLaptop: {
		{"Startet nicht", "Laptop startet nicht", "Nach dem Einschalten bleibt der Bildschirm schwarz, die Lüfter laufen.", "Mainboard getauscht (Garantie)."},
		{"Akku", "Akku hält nur noch eine Stunde", "Der Akku ist nach einer Schulstunde leer.", "Akku getauscht."},
		{"Software", "Office fragt nach Aktivierung", "Word startet nur noch im eingeschränkten Modus.", "Lizenz neu zugewiesen, Office aktiviert."},
		{"Tastatur", "Tasten im Laptopwagen defekt", "Bei einem Laptop fehlen die Tasten E und R.", "Tastatur getauscht."},
	},
	cmdb.ClassDesktop: {
		{"Startet nicht", "PC fährt nicht hoch", "Der PC piept dreimal und startet nicht.", "RAM-Riegel neu gesteckt, läuft wieder."},
		{"Netzwerk", "Keine Netzwerkverbindung am PC", "Der PC findet kein Netzwerk, das Kabel ist eingesteckt.", "Patchkabel und Port am Switch getauscht."},
		{"Software", "Programm für den Unterricht fehlt", "GeoGebra ist nach dem Update verschwunden.", "Softwarepaket neu zugewiesen."},
		{"Bildschirm", "Monitor flackert", "Der Bildschirm flackert beim Einschalten stark.", "Monitor getauscht."},
	},
	cmdb.ClassTablet: {
		{"Display", "iPad-Display gesprungen", "Das Display hat einen Sprung über die ganze Breite.", "Gerät über die Versicherung getauscht."},
		{"App/Software", "App lässt sich nicht installieren", "Die Lern-App erscheint nicht im Self Service.", "App im MDM der Gruppe zugewiesen."},
		{"Akku", "Tablet lädt nicht", "Das Tablet lädt im Koffer nicht mehr.", "Ladekabel im Koffer getauscht."},
	},
	cmdb.ClassAccessPoint: {
		{"Kein WLAN", "Kein WLAN im Raum", "Im Raum gibt es seit heute kein WLAN mehr.", "Access Point hing; per PoE neu gestartet und Firmware aktualisiert."},
		{"WLAN langsam", "WLAN sehr langsam", "Wenn die Klasse mit den Tablets arbeitet, lädt nichts mehr.", "Kanal umgestellt und zweiten Access Point eingeplant."},
	},
	cmdb.ClassSwitch: {
		{"Kein Netzwerk", "Netzwerk im Flur ausgefallen", "Alle Räume im Flur ohne Netzwerk.", "Netzteil des Switches getauscht."},
	},
	classGeneral: {
		{"Benutzerkonto", "Passwort vergessen", "Ich komme nicht mehr in mein Schulkonto.", "Passwort zurückgesetzt, Zugang per Brief übergeben."},
		{"Kein Netzwerk im Raum", "Netzwerkdose ohne Funktion", "Die Netzwerkdose neben der Tafel funktioniert nicht.", "Dose im Verteiler neu aufgelegt."},
		{"Sonstiges", "Steckdosenleiste am Lehrerpult defekt", "Die Steckdosenleiste am Pult hat keinen Strom.", "Leiste getauscht."},
	},
}

// Replies of staff and teachers, picked at random.
var (
	firstReplies = []string{
		"Danke für die Meldung, wir kümmern uns darum.",
		"Vielen Dank, wir schauen uns das an und melden uns.",
		"Ist angekommen – wir kommen im Laufe der Woche vorbei.",
	}
	providerReplies = []string{
		"Wir haben den Auftrag übernommen und kommen zum nächsten Termin vorbei.",
		"Techniker ist eingeplant, voraussichtlich morgen in der 3. Stunde.",
	}
	waitingReplies = []string{
		"Das Ersatzteil ist bestellt, die Lieferung dauert etwa eine Woche.",
		"Wann ist der Raum frei? Wir brauchen etwa eine Stunde ohne Unterricht.",
		"Wir warten auf die Rückmeldung des Herstellers.",
	}
	internalNotes = []string{
		"Garantie geprüft: Gerät ist noch in der Gewährleistung.",
		"Seriennummer an den Hersteller gemeldet, RMA beantragt.",
		"Ersatzteil über den Rahmenvertrag bestellt.",
		"Vor Ort: Fehler nachvollzogen, Foto im Ordner des Auftrags.",
	}
	teacherReplies = []string{
		"Tritt heute in der 3. Stunde wieder auf.",
		"Der Raum ist dienstags ab der 5. Stunde frei.",
		"Danke, funktioniert wieder!",
	}
	escalations = []string{
		"An den Herstellersupport (Level 3) weitergegeben.",
		"Fehler nicht vor Ort lösbar, geht an den Hersteller.",
	}
)
