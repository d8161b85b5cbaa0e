package main

import (
	"context"
	"fmt"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/internal/mailtest"
	"github.com/schulit/cmdb/internal/syncbuf"
	"github.com/schulit/cmdb/server/cmdb"
	cmdbmail "github.com/schulit/cmdb/server/mail"
	"github.com/schulit/cmdb/server/mailin"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

const (
	relayPass = "Relay-Geheim-4711"
	imapUser  = "support@kreis.example"
	imapPass  = "Imap-Geheim-0815"
)

// waitFor polls cond every 50 ms for at most 60 s (a bound, not a
// timing assertion) and fails the test with what when it never holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 1200; i++ {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

// mailTo returns the first relayed mail to addr whose subject holds sub.
func mailTo(r *mailtest.Relay, addr, sub string) *mail.Message {
	for _, rc := range r.Messages() {
		for _, to := range rc.To {
			if to != addr {
				continue
			}
			m, err := mail.ReadMessage(strings.NewReader(rc.Data))
			if err != nil {
				continue
			}
			s, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
			if strings.Contains(s, sub) {
				return m
			}
		}
	}
	return nil
}

// TestMailInAndOut runs serve with a real SMTP relay and a real IMAP
// mailbox on loopback: a stranger's mail opens a ticket and gets its
// number back by mail; her reply, matched by In-Reply-To alone, becomes a
// comment that IT hears of; an auto-reply is dropped and never answered.
func TestMailInAndOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	relay := mailtest.StartRelay(t, "cmdb", relayPass, false)
	box := mailtest.StartIMAP(t, imapUser, imapPass, mailtest.IMAPOptions{})

	url := postgrestest.NewDatabase(t)
	_, out, _ := runMain(t, "token", "create", "--admin", "--name", "test", "--db", url)
	db, err := postgres.Open(ctx, url, postgres.Options{})
	must(t, err)
	a := &cmdb.Authority{Code: "KRS", Name: "Kreis"}
	must(t, db.CreateAuthority(ctx, cmdb.AdminScope("test"), a))
	must(t, db.CreateUser(ctx, cmdb.AdminScope("test"), &cmdb.User{Email: "it@kreis.example", Name: "Kreis-IT",
		Memberships: []cmdb.Membership{{Role: cmdb.RoleAuthorityIT, OrgID: a.ID}}}, ""))
	db.Close()

	m := NewMain()
	logs := &syncbuf.Buffer{}
	m.Stdout, m.Stderr = logs, logs
	must(t, m.ParseFlags([]string{"serve", "--listen", "127.0.0.1:0", "--db", url, "--data-dir", sharedDataDir(t), "--log-format", "json"}))
	m.Config.Mail = MailConfig{
		SMTP: &cmdbmail.Config{Host: relay.Addr, Port: relay.Port, TLS: cmdbmail.TLSStartTLS, User: "cmdb", Password: relayPass,
			From: "Schul-IT Kreis <it@kreis.example>", TLSConfig: relay.TLS()},
		IMAP: &mailin.Config{Addr: box.Addr, Security: mailin.SecurityStartTLS, TLSConfig: box.TLS(), Username: imapUser,
			Password: imapPass},
		IMAPAuthority: "krs", IMAPEvery: time.Second, SendEvery: 100 * time.Millisecond,
	}
	must(t, m.Run(ctx))
	t.Cleanup(func() { m.Close() })
	c := &client{t: t, base: "http://" + m.Addr(), token: strings.TrimSpace(out)}

	box.Append(t, []byte("From: Erika Muster <erika@eltern.example>\r\nTo: "+imapUser+"\r\nSubject: Beamer in Raum 1.12 zeigt kein Bild\r\n"+
		"Message-ID: <m1@eltern.example>\r\nDate: Tue, 10 Mar 2026 08:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
		"Seit heute früh bleibt die Wand schwarz.\r\n"))
	var confirm *mail.Message
	waitFor(t, "the confirmation mail with the ticket number", func() bool {
		confirm = mailTo(relay, "erika@eltern.example", "Neues Ticket")
		return confirm != nil
	})
	subject, _ := new(mime.WordDecoder).DecodeHeader(confirm.Header.Get("Subject"))
	number := regexp.MustCompile(`KRS-\d{4}-\d{5}`).FindString(subject)
	if number == "" || confirm.Header.Get("Auto-Submitted") != "auto-generated" || confirm.Header.Get("Reply-To") != "<"+imapUser+">" {
		t.Fatalf("confirmation subject %q, headers %v", subject, confirm.Header)
	}
	list := c.must(200, "GET", "/api/v1/tickets?q="+number, nil)
	items := list["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("tickets %v", list)
	}
	tk := items[0].(map[string]any)
	if tk["channel"] != "email" || tk["on_behalf_of"] != "Erika Muster <erika@eltern.example>" || tk["category"] != "Sonstiges" {
		t.Fatalf("ticket from mail %v", tk)
	}
	if mailTo(relay, "it@kreis.example", "Neues Ticket") == nil {
		t.Fatal("the authority's IT was not told of the new ticket")
	}

	// Her reply names no number: In-Reply-To leads back to the ticket.
	box.Append(t, []byte("From: erika@eltern.example\r\nTo: "+imapUser+"\r\nSubject: Re: Ihre Meldung\r\nMessage-ID: <m2@eltern.example>\r\n"+
		"In-Reply-To: "+confirm.Header.Get("Message-ID")+"\r\n\r\nEs ist Raum 1.12, nicht 1.21.\r\n"))
	// An out-of-office answer to the same thread is dropped.
	box.Append(t, []byte("From: erika@eltern.example\r\nTo: "+imapUser+"\r\nSubject: Abwesend: ["+number+"]\r\nMessage-ID: <m3@eltern.example>\r\n"+
		"Auto-Submitted: auto-replied\r\n\r\nIch bin bis Montag nicht im Haus.\r\n"))
	path := fmt.Sprintf("/api/v1/tickets/%d/comments", int64(tk["id"].(float64)))
	waitFor(t, "her reply as a comment and IT told of it", func() bool {
		return mailTo(relay, "it@kreis.example", "Neuer Kommentar") != nil
	})
	waitFor(t, "the auto-reply filed as dropped", func() bool {
		n, _ := box.Count(t, "cmdb/dropped")
		return n == 1
	})
	cs := c.must(200, "GET", path, nil)["items"].([]any)
	if len(cs) != 1 || !strings.Contains(cs[0].(map[string]any)["body"].(string), "nicht 1.21") || cs[0].(map[string]any)["internal"] != false {
		t.Fatalf("comments %v, want her reply only, public", cs)
	}
	if n, _ := box.Count(t, "cmdb/processed"); n != 2 {
		t.Fatalf("%d mails filed as processed, want 2", n)
	}
	for _, rc := range relay.Messages() {
		if strings.Contains(rc.Data, "Abwesend") || strings.Contains(rc.Data, "nicht im Haus") {
			t.Fatalf("the auto-reply was answered or passed on: %s", rc.Data)
		}
	}
	for _, secret := range []string{relayPass, imapPass} {
		if strings.Contains(logs.String(), secret) {
			t.Fatal("a mail password reached the log")
		}
	}
}
