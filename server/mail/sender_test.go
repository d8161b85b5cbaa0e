package mail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"strings"
	"testing"

	"github.com/schulit/cmdb/internal/mailtest"
	"github.com/schulit/cmdb/server/cmdb"
	cmdbmail "github.com/schulit/cmdb/server/mail"
)

const relayPassword = "s3cr3t-Relay-Pa55"

func config(r *mailtest.Relay, mode string) cmdbmail.Config {
	return cmdbmail.Config{
		Host: r.Addr, Port: r.Port, TLS: mode, User: "cmdb", Password: cmdb.Secret(relayPassword),
		From: "Schul-IT <it@landkreis.example>", TLSConfig: r.TLS(),
	}
}

func newSender(t *testing.T, cfg cmdbmail.Config) *cmdbmail.Sender {
	t.Helper()
	s, err := cmdbmail.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func outMail(key string) *cmdb.OutboundMail {
	return &cmdb.OutboundMail{
		ID: 1, DedupeKey: key, To: []string{"Frau Müller <mueller@schule.example>", "it@schule.example"},
		Subject: "[#42] Neues Ticket: Beamer Raum 1.12 ohne Bild", Text: "Guten Tag,\n\nÄnderung.\n",
		Language: "de", Headers: map[string]string{"In-Reply-To": "<t42.cmdb@landkreis.example>",
			"References": "<t42.cmdb@landkreis.example>"},
	}
}

// parse reads a recorded message as RFC 5322.
func parse(t *testing.T, data string) *mail.Message {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("relay got an unreadable message: %v\n%s", err, data)
	}
	return m
}

func TestSendSTARTTLSAuthDeliversWithHeaders(t *testing.T) {
	for _, mode := range []string{cmdbmail.TLSStartTLS, cmdbmail.TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			r := mailtest.StartRelay(t, "cmdb", relayPassword, mode == cmdbmail.TLSImplicit)
			s := newSender(t, config(r, mode))
			if err := s.Send(context.Background(), outMail("ticket:42:created")); err != nil {
				t.Fatalf("send: %v", err)
			}
			got := r.Messages()
			if len(got) != 1 {
				t.Fatalf("relay got %d messages, want 1", len(got))
			}
			if got[0].From != "it@landkreis.example" || len(got[0].To) != 2 {
				t.Errorf("envelope from %q to %v", got[0].From, got[0].To)
			}
			m := parse(t, got[0].Data)
			dec := new(mime.WordDecoder)
			subj, _ := dec.DecodeHeader(m.Header.Get("Subject"))
			for h, want := range map[string]string{
				"Message-ID":       cmdbmail.MessageID("ticket:42:created", "landkreis.example"),
				"In-Reply-To":      "<t42.cmdb@landkreis.example>",
				"References":       "<t42.cmdb@landkreis.example>",
				"Auto-Submitted":   "auto-generated",
				"Content-Language": "de",
			} {
				if v := m.Header.Get(h); v != want {
					t.Errorf("%s = %q, want %q", h, v, want)
				}
			}
			if subj != "[#42] Neues Ticket: Beamer Raum 1.12 ohne Bild" {
				t.Errorf("subject %q", subj)
			}
			if m.Header.Get("Date") == "" {
				t.Error("no Date header")
			}
		})
	}
}

func TestSendRefusesHeaderInjection(t *testing.T) {
	r := mailtest.StartRelay(t, "cmdb", relayPassword, false)
	s := newSender(t, config(r, cmdbmail.TLSStartTLS))
	m := outMail("ticket:42:inject")
	m.Headers["References"] = "<a@b>\r\nBcc: victim@elsewhere.example"
	err := s.Send(context.Background(), m)
	var se *cmdbmail.SendError
	if !errors.As(err, &se) || !se.Permanent {
		t.Fatalf("got %v, want a permanent SendError", err)
	}
	m = outMail("ticket:42:inject2")
	m.Subject = "Hallo\nBcc: victim@elsewhere.example"
	if err := s.Send(context.Background(), m); err == nil {
		t.Fatal("subject with a line break was sent")
	}
	if n := len(r.Messages()); n != 0 {
		t.Fatalf("relay got %d messages, want none", n)
	}
}

func TestSendTemporaryAndPermanentRelayErrors(t *testing.T) {
	r := mailtest.StartRelay(t, "cmdb", relayPassword, false)
	s := newSender(t, config(r, cmdbmail.TLSStartTLS))
	r.SetFail(1)
	err := s.Send(context.Background(), outMail("k1"))
	var se *cmdbmail.SendError
	if !errors.As(err, &se) || se.Permanent || !strings.Contains(err.Error(), "451") {
		t.Fatalf("451: got %v, want a temporary SendError naming 451", err)
	}
	r.SetReject(true)
	err = s.Send(context.Background(), outMail("k2"))
	if !errors.As(err, &se) || !se.Permanent {
		t.Fatalf("550: got %v, want a permanent SendError", err)
	}
}

func TestSendRelayDownIsTemporary(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nobody listens: the relay is down
	cfg := cmdbmail.Config{Host: "127.0.0.1", Port: port, TLS: cmdbmail.TLSStartTLS, User: "cmdb",
		Password: cmdb.Secret(relayPassword), From: "it@landkreis.example"}
	err = newSender(t, cfg).Send(context.Background(), outMail("down"))
	var se *cmdbmail.SendError
	if !errors.As(err, &se) || se.Permanent {
		t.Fatalf("relay down: got %v, want a temporary SendError", err)
	}
}

func TestPasswordNeverInErrorsOrLogs(t *testing.T) {
	r := mailtest.StartRelay(t, "cmdb", "the-right-one", false)
	cfg := config(r, cmdbmail.TLSStartTLS) // carries relayPassword, which is wrong
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "smtp", cfg, "password", cfg.Password)
	err := newSender(t, cfg).Send(context.Background(), outMail("auth"))
	if err == nil {
		t.Fatal("wrong password accepted")
	}
	fails := r.AuthFails()
	if fails == 0 {
		t.Fatal("relay saw no failed AUTH; the test proves nothing")
	}
	for where, text := range map[string]string{"error": err.Error(), "log": logs.String()} {
		if strings.Contains(text, relayPassword) {
			t.Errorf("password in %s: %s", where, text)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := cmdbmail.Config{Host: "mail.example", TLS: "starttls", User: "u", Password: "p", From: "it@x.example"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	cases := map[string]func(c *cmdbmail.Config){
		"smtp.host": func(c *cmdbmail.Config) { c.Host = "" },
		"smtp.port": func(c *cmdbmail.Config) { c.Port = 70000 },
		"smtp.tls":  func(c *cmdbmail.Config) { c.TLS = "ssl3" },
		"smtp.user": func(c *cmdbmail.Config) { c.Password = "" },
		"smtp.from": func(c *cmdbmail.Config) { c.From = "it@x.example\r\nBcc: y@z" },
	}
	for field, edit := range cases {
		c := ok
		edit(&c)
		var ce *cmdb.Error
		if err := c.Validate(); !errors.As(err, &ce) || ce.Field != field {
			t.Errorf("%s: got %v", field, err)
		}
	}
	c := ok
	c.TLS = cmdbmail.TLSNone
	var ce *cmdb.Error
	if err := c.Validate(); !errors.As(err, &ce) || ce.Field != "smtp.tls" {
		t.Errorf("password without TLS: got %v, want refused on smtp.tls", err)
	}
}
