package cmdb_test

import (
	"errors"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

func validMail() *cmdb.OutboundMail {
	return &cmdb.OutboundMail{
		DedupeKey: "ticket:1:created", To: []string{"Frau Müller <mueller@schule.example>"},
		Subject: "[#1] Neues Ticket", Text: "Hallo", Language: "de",
		Headers: map[string]string{"In-Reply-To": "<a@b>", "Auto-Submitted": "auto-generated"},
	}
}

func TestOutboundMailValidate(t *testing.T) {
	if err := validMail().Validate(); err != nil {
		t.Fatalf("valid mail refused: %v", err)
	}
	cases := []struct {
		name, field string
		edit        func(m *cmdb.OutboundMail)
	}{
		{"no dedupe key", "dedupe_key", func(m *cmdb.OutboundMail) { m.DedupeKey = "" }},
		{"no recipient", "to", func(m *cmdb.OutboundMail) { m.To = nil }},
		{"bad address", "to[1]", func(m *cmdb.OutboundMail) { m.To = append(m.To, "not an address") }},
		{"address with CRLF", "to[0]", func(m *cmdb.OutboundMail) { m.To[0] = "a@b.de\r\nBcc: evil@x.de" }},
		{"subject injection", "subject", func(m *cmdb.OutboundMail) { m.Subject = "Hi\r\nBcc: evil@x.de" }},
		{"subject LF only", "subject", func(m *cmdb.OutboundMail) { m.Subject = "Hi\nX: y" }},
		{"empty subject", "subject", func(m *cmdb.OutboundMail) { m.Subject = "  " }},
		{"no text", "text", func(m *cmdb.OutboundMail) { m.Text = "" }},
		{"language", "language", func(m *cmdb.OutboundMail) { m.Language = "fr" }},
		{"header injection", "headers.References", func(m *cmdb.OutboundMail) {
			m.Headers["References"] = "<a@b>\r\nBcc: evil@x.de"
		}},
		{"header not allowed", "headers.Bcc", func(m *cmdb.OutboundMail) { m.Headers["Bcc"] = "evil@x.de" }},
		{"From not allowed", "headers.From", func(m *cmdb.OutboundMail) { m.Headers["From"] = "boss@x.de" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := validMail()
			c.edit(m)
			err := m.Validate()
			var ce *cmdb.Error
			if !errors.As(err, &ce) || ce.Code != cmdb.EINVALID || ce.Field != c.field {
				t.Fatalf("got %v, want EINVALID on field %s", err, c.field)
			}
		})
	}
}

func TestMailBackoff(t *testing.T) {
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute}
	for i, w := range want {
		if got := cmdb.MailBackoff(i + 1); got != w {
			t.Errorf("MailBackoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := cmdb.MailBackoff(30); got != 6*time.Hour {
		t.Errorf("MailBackoff(30) = %v, want the 6 h cap", got)
	}
}
