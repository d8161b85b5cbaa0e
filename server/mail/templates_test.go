package mail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	cmdbmail "github.com/schulit/cmdb/server/mail"
)

func TestRenderEveryKindInBothLanguages(t *testing.T) {
	d := cmdbmail.Data{
		TicketNumber: "2026-0042", Title: "Beamer Raum 1.12\r\nohne Bild", Status: "in_progress",
		OldStatus: "assigned", Author: "Herr Schmidt", Comment: "Lampe wird getauscht.",
		URL: "https://cmdb.example/tickets/42", Due: time.Date(2026, 12, 3, 14, 30, 0, 0, time.UTC),
		Target: "Lösung",
	}
	want := map[string]map[string][]string{
		cmdb.LangDE: {
			cmdbmail.KindTicketCreated: {"Neues Ticket", "In Bearbeitung", "Zum Ticket"},
			cmdbmail.KindStatusChanged: {"Zugewiesen → In Bearbeitung", "Status des Tickets"},
			cmdbmail.KindPublicComment: {"Herr Schmidt hat", "Lampe wird getauscht."},
			cmdbmail.KindSLAWarning:    {"SLA-Warnung", "03.12.2026 15:30 Uhr", "Lösung"},
		},
		cmdb.LangEN: {
			cmdbmail.KindTicketCreated: {"New ticket", "In progress", "Open the ticket"},
			cmdbmail.KindStatusChanged: {"Assigned → In progress", "status of ticket"},
			cmdbmail.KindPublicComment: {"Herr Schmidt commented", "Lampe wird getauscht."},
			cmdbmail.KindSLAWarning:    {"SLA warning", "3 Dec 2026 15:30 CET"},
		},
	}
	for lang, kinds := range want {
		for _, kind := range cmdbmail.Kinds {
			subj, text, used, err := cmdbmail.Render(kind, lang, d)
			if err != nil {
				t.Fatalf("%s/%s: %v", lang, kind, err)
			}
			if used != lang {
				t.Errorf("%s/%s rendered in %s", lang, kind, used)
			}
			if !strings.HasPrefix(subj, "[#2026-0042] ") || strings.ContainsAny(subj, "\r\n") {
				t.Errorf("%s/%s subject %q: want the ticket number first, one line", lang, kind, subj)
			}
			all := subj + "\n" + text
			for _, w := range append(kinds[kind], "https://cmdb.example/tickets/42") {
				if !strings.Contains(all, w) {
					t.Errorf("%s/%s lacks %q:\n%s", lang, kind, w, all)
				}
			}
		}
	}
}

func TestRenderFallsBackToGerman(t *testing.T) {
	subj, _, used, err := cmdbmail.Render(cmdbmail.KindTicketCreated, "fr", cmdbmail.Data{TicketNumber: "7", Title: "Drucker"})
	if err != nil || used != cmdb.LangDE || !strings.Contains(subj, "Neues Ticket") {
		t.Fatalf("got %q in %q (%v), want German", subj, used, err)
	}
	if _, _, _, err := cmdbmail.Render("no_such_kind", "de", cmdbmail.Data{}); err == nil {
		t.Fatal("unknown kind rendered")
	}
}

func TestComposeGivesValidMail(t *testing.T) {
	m, err := cmdbmail.Compose(cmdbmail.KindPublicComment, "en", cmdbmail.Data{TicketNumber: "9", Title: "WLAN", Comment: "Fixed"},
		[]string{"teacher@schule.example"}, "ticket:9:comment:3:en")
	if err != nil {
		t.Fatal(err)
	}
	if m.Language != cmdb.LangEN || m.Headers["Auto-Submitted"] != "auto-generated" || !strings.Contains(m.Text, "Fixed") {
		t.Fatalf("composed %+v", m)
	}
	if _, err := cmdbmail.Compose(cmdbmail.KindPublicComment, "en", cmdbmail.Data{TicketNumber: "9", Title: "WLAN"},
		[]string{"not-an-address"}, "k"); err == nil {
		t.Fatal("bad recipient composed")
	}
}
