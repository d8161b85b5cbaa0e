package mailin

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
)

var testOpts = Options{OwnAddresses: []string{"support@lkp.example"}}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseAndClassify(t *testing.T) {
	type att struct{ name, ctype string }
	tests := []struct {
		file      string
		kind      cmdb.MailKind
		reason    string
		number    string
		from      string
		fromName  string
		subject   string
		text      string // substring of the text body
		notInText string
		atts      []att
	}{
		{file: "plain.eml", kind: cmdb.MailNewTicket, from: "bernd.h@schule-b.example", fromName: "Bernd Hausmeister",
			subject: "Drucker im Lehrerzimmer druckt nicht", text: "error 50.4"},
		{file: "photo_pdf.eml", kind: cmdb.MailNewTicket, from: "anna.lehrer@schule-a.example",
			text: "Foto und Protokoll anbei", atts: []att{{"beamer.jpg", "image/png"}, {"protokoll.pdf", "application/pdf"}}},
		{file: "html_only.eml", kind: cmdb.MailNewTicket, text: "Laptop LT-17 startet nicht.\nBitte prüfen.", notInText: "alert"},
		{file: "umlauts.eml", kind: cmdb.MailNewTicket, fromName: "Jürgen Müller",
			subject: "Grüße aus Raum 102: WLAN gestört", text: "Das WLAN im Gebäude ist gestört, die Schüler können nicht arbeiten. Grüße"},
		{file: "outlook_inline.eml", kind: cmdb.MailNewTicket, fromName: "Gräfin Öztürk", subject: "Tafel in Raum Ü3 fläckert",
			text: "Die Tafel flackert ständig, siehe Bild.", notInText: "<p>", atts: []att{{"image001.jpg", "image/jpeg"}}},
		{file: "reply_msgid.eml", kind: cmdb.MailReply, number: "LKP-2026-00042", text: "Geht wieder"},
		{file: "reply_subject.eml", kind: cmdb.MailReply, number: "LKP-2026-00043"},
		{file: "outlook_autoreply.eml", kind: cmdb.MailDrop, reason: cmdb.DropAutoReply},
		{file: "postfix_bounce.eml", kind: cmdb.MailDrop, reason: cmdb.DropBounce},
		{file: "bulk.eml", kind: cmdb.MailDrop, reason: cmdb.DropAutoReply},
		{file: "loop.eml", kind: cmdb.MailDrop, reason: cmdb.DropLoop},
		{file: "malformed.eml", kind: cmdb.MailDrop, reason: cmdb.DropMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := Parse(readFixture(t, tt.file), testOpts)
			if tt.reason == cmdb.DropMalformed {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("Parse error = %v, want ErrMalformed", err)
				}
			} else if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			c := m.Class
			if c.Kind != tt.kind || c.DropReason != tt.reason || c.TicketNumber != tt.number {
				t.Errorf("class = %+v, want kind %s reason %q number %q", c, tt.kind, tt.reason, tt.number)
			}
			if tt.from != "" && m.FromAddress != tt.from {
				t.Errorf("from = %q, want %q", m.FromAddress, tt.from)
			}
			if tt.fromName != "" && m.FromName != tt.fromName {
				t.Errorf("from name = %q, want %q", m.FromName, tt.fromName)
			}
			if tt.subject != "" && m.Subject != tt.subject {
				t.Errorf("subject = %q, want %q", m.Subject, tt.subject)
			}
			if !strings.Contains(m.Text, tt.text) {
				t.Errorf("text = %q, want it to contain %q", m.Text, tt.text)
			}
			if tt.notInText != "" && strings.Contains(m.Text, tt.notInText) {
				t.Errorf("text = %q, must not contain %q", m.Text, tt.notInText)
			}
			if len(m.Attachments) != len(tt.atts) {
				t.Fatalf("attachments = %d, want %d", len(m.Attachments), len(tt.atts))
			}
			for i, a := range tt.atts {
				got := m.Attachments[i]
				if got.Name != a.name || got.ContentType != a.ctype || got.Size != len(got.Data) || got.Size == 0 {
					t.Errorf("attachment %d = %s %s %d bytes, want %s %s", i, got.Name, got.ContentType, got.Size, a.name, a.ctype)
				}
			}
		})
	}
}

func TestParseHeaders(t *testing.T) {
	m, err := Parse(readFixture(t, "reply_msgid.eml"), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageID != "m5.anna@schule-a.example" {
		t.Errorf("message id = %q", m.MessageID)
	}
	if len(m.References) != 2 || m.InReplyTo[0] != "ticket-LKP-2026-00042.17@cmdb.lkp.example" {
		t.Errorf("in-reply-to %q references %q", m.InReplyTo, m.References)
	}
	if m.Class.RefMessageID != m.InReplyTo[0] {
		t.Errorf("matched reference = %q", m.Class.RefMessageID)
	}
	if m.Date.IsZero() || len(m.To) != 1 || m.To[0] != "support@lkp.example" {
		t.Errorf("date %v to %q", m.Date, m.To)
	}
}

func TestTicketMessageIDRoundTrip(t *testing.T) {
	id := cmdb.TicketMessageID("LKP-2026-00042", "outbox.981", "cmdb.lkp.example")
	if n, ok := cmdb.TicketNumberFromMessageID("<" + id + ">"); !ok || n != "LKP-2026-00042" {
		t.Fatalf("TicketNumberFromMessageID(%q) = %q, %v", id, n, ok)
	}
	for _, other := range []string{"m1@schule.example", "ticket-LKP-2026-00042@host", "ticket-lkp-2026-00042.1@host"} {
		if n, ok := cmdb.TicketNumberFromMessageID(other); ok {
			t.Errorf("TicketNumberFromMessageID(%q) = %q, want no match", other, n)
		}
	}
	for subject, want := range map[string]string{
		"Re: [LKP-2026-00042] Beamer":   "LKP-2026-00042",
		"AW: Ticket LKP-2026-00042 ok?": "LKP-2026-00042",
		"Raum 2026-00042":               "",
		"Drucker XLKP-2026-0004":        "",
	} {
		if n, _ := cmdb.TicketNumberInSubject(subject); n != want {
			t.Errorf("TicketNumberInSubject(%q) = %q, want %q", subject, n, want)
		}
	}
}

func TestParseAlternativeTakesPlainOnce(t *testing.T) {
	m, err := Parse(readFixture(t, "outlook_inline.eml"), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(m.Text, "siehe Bild"); n != 1 {
		t.Errorf("text %q holds the body %d times, want once (plain part only)", m.Text, n)
	}
	if len(m.To) != 2 || m.To[1] != "it@schule-d.example" {
		t.Errorf("recipients = %q, want To and Cc", m.To)
	}
}

func TestParseMakesAStableIDForMailWithoutOne(t *testing.T) {
	raw := []byte("From: a@schule.example\r\nSubject: ohne ID\r\n\r\nText\r\n")
	a, err := Parse(raw, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Parse(raw, testOpts)
	c, _ := Parse(append(raw, 'x'), testOpts)
	if a.MessageID == "" || a.MessageID != b.MessageID || a.MessageID == c.MessageID {
		t.Errorf("ids %q %q %q: want one stable non-empty id per mail", a.MessageID, b.MessageID, c.MessageID)
	}
}
