package postgres_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/mail"
	"github.com/schulit/cmdb/server/postgres"
)

// outbox returns the queued mail by recipient, in queue order.
func outbox(t *testing.T, db *postgres.DB) map[string][]*cmdb.OutboundMail {
	t.Helper()
	ms, err := db.FindMail(context.Background(), admin, cmdb.MailFilter{Limit: 1000})
	must(t, err)
	out := map[string][]*cmdb.OutboundMail{}
	for _, m := range ms {
		for _, to := range m.To {
			out[to] = append(out[to], m)
		}
	}
	return out
}

// recipientsOf lists who got a mail whose subject holds sub.
func recipientsOf(box map[string][]*cmdb.OutboundMail, sub string) []string {
	var out []string
	for to, ms := range box {
		for _, m := range ms {
			if strings.Contains(m.Subject, sub) {
				out = append(out, to)
			}
		}
	}
	slices.Sort(out)
	return out
}

func newMailEnv(t *testing.T, code string) *ticketEnv {
	return newTicketEnvWith(t, code, postgres.Options{Mail: mail.Composer{BaseURL: "https://cmdb.kreis.example", Domain: "kreis.example"}})
}

func TestTicketNotificationsGoWithTheChange(t *testing.T) {
	ctx := context.Background()
	x := newMailEnv(t, "NM")
	must(t, x.db.SetUserLanguage(ctx, x.teacher2, x.teacher2.UserID, "en"))
	tk := x.open(t, x.teacher, "Drucker zieht kein Papier ein", x.printer)

	box := outbox(t, x.db)
	code := strings.ToLower("NM")
	lehrer, kollegin, it, dienst := "lehrer@"+code+".de", "kollegin@"+code+".de", "it@"+code+".de", "dienst@"+code+".de"
	if got := recipientsOf(box, "Neues Ticket"); !slices.Equal(got, []string{it, lehrer}) {
		t.Fatalf("created: mail to %v, want the reporter's confirmation and the authority's IT", got)
	}
	m := box[lehrer][0]
	if !strings.HasPrefix(m.Subject, "[#"+tk.Number+"]") || !strings.Contains(m.Text, "https://cmdb.kreis.example/tickets/"+tk.Number) {
		t.Fatalf("confirmation %q\n%s", m.Subject, m.Text)
	}
	if n, ok := cmdb.TicketNumberFromMessageID(m.Headers["Message-ID"]); !ok || n != tk.Number {
		t.Fatalf("Message-ID %q does not lead back to %s", m.Headers["Message-ID"], tk.Number)
	}
	if m.Headers["Auto-Submitted"] != "auto-generated" || m.AuthorityID != x.tn.Authority.ID {
		t.Fatalf("headers %v authority %d", m.Headers, m.AuthorityID)
	}

	// A colleague joins ("me too") and hears of what follows, in English.
	_, err := x.db.AddTicketWatcher(ctx, x.teacher2, tk.ID)
	must(t, err)
	must(t, x.db.AddTicketComment(ctx, x.authIT, &cmdb.TicketComment{TicketID: tk.ID, Body: "Wir kommen morgen vorbei.", Channel: cmdb.ChannelAPI}))
	must(t, x.db.AddTicketComment(ctx, x.authIT, &cmdb.TicketComment{TicketID: tk.ID, Body: "Intern: Ersatzteil bestellen", Internal: true, Channel: cmdb.ChannelAPI}))
	box = outbox(t, x.db)
	if got := recipientsOf(box, "Neuer Kommentar"); !slices.Equal(got, []string{lehrer}) {
		t.Fatalf("public comment in German to %v, want the reporter only (not the author)", got)
	}
	if got := recipientsOf(box, "New comment"); !slices.Equal(got, []string{kollegin}) {
		t.Fatalf("public comment in English to %v, want the watcher", got)
	}
	for _, ms := range box {
		for _, m := range ms {
			if strings.Contains(m.Text, "Ersatzteil") {
				t.Fatalf("an internal comment went out by mail to %v", m.To)
			}
		}
	}

	// Handed to the provider: its staff hear of it, the actor does not.
	_, err = x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{ProviderID: ptr(x.provider), Status: ptr(cmdb.StatusAssigned), Channel: cmdb.ChannelAPI})
	must(t, err)
	box = outbox(t, x.db)
	if got := recipientsOf(box, "Status: Zugewiesen"); !slices.Equal(got, []string{dienst, lehrer}) {
		t.Fatalf("status change to %v, want reporter and the provider's staff", got)
	}
	if got := recipientsOf(box, "Status: Assigned"); !slices.Equal(got, []string{kollegin}) {
		t.Fatalf("status change in English to %v", got)
	}

	// A refused change queues nothing.
	before := len(box[lehrer])
	_, err = x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusClosed), Channel: cmdb.ChannelAPI})
	if cmdb.ErrorCode(err) != cmdb.EINVALID && cmdb.ErrorCode(err) != cmdb.ECONFLICT {
		t.Fatalf("assigned → closed: %v, want refused", err)
	}
	if n := len(outbox(t, x.db)[lehrer]); n != before {
		t.Fatalf("a refused change queued mail: %d → %d", before, n)
	}

	// Weeks later the ticket is still open (IT's comment was the first
	// response): the provider's staff are warned of the resolve due time,
	// once; the reporter is not.
	x.clock.set(x.clock.now().Add(30 * 24 * time.Hour))
	n, err := x.db.WarnSLA(ctx)
	must(t, err)
	if n != 1 {
		t.Fatalf("%d SLA warnings, want the resolution's", n)
	}
	if n, err := x.db.WarnSLA(ctx); err != nil || n != 0 {
		t.Fatalf("second run: %d warnings, %v; want none", n, err)
	}
	box = outbox(t, x.db)
	warned := recipientsOf(box, "SLA-Warnung")
	if !slices.Equal(warned, []string{dienst}) {
		t.Fatalf("SLA warnings to %v, want the provider's staff", warned)
	}
	for _, m := range box[dienst] {
		if strings.Contains(m.Subject, "SLA-Warnung") && !strings.Contains(m.Text, "muss bis") {
			t.Fatalf("warning text %q", m.Text)
		}
	}
}

func pngBytes(t *testing.T) []byte {
	var b bytes.Buffer
	must(t, png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 4))))
	return b.Bytes()
}

func TestMailIntakeOpensTicketsAndTakesReplies(t *testing.T) {
	ctx := context.Background()
	x := newMailEnv(t, "MI")
	in := x.db.MailIntake(x.tn.Authority.ID)
	find := func(f cmdb.TicketFilter) []*cmdb.Ticket {
		t.Helper()
		ts, _, err := x.db.FindTickets(ctx, admin, f)
		must(t, err)
		return ts
	}

	// A stranger (a parent, say) writes: an authority ticket in the 1st-level
	// queue, the sender named, the photo kept, the Word file left out.
	first := &cmdb.InboundMail{MessageID: "m1@eltern.example", FromAddress: "erika@eltern.example", FromName: "Erika \"Muster\"",
		Subject: "Beamer in Raum 1.12 zeigt kein Bild", Text: "Seit heute früh bleibt die Wand schwarz.",
		Attachments: []cmdb.MailAttachment{{Name: "foto.png", Data: pngBytes(t)}, {Name: "brief.docx", Data: []byte("PK\x03\x04 not a photo")}},
		Class:       cmdb.MailClass{Kind: cmdb.MailNewTicket}}
	must(t, in.Intake(ctx, first))
	must(t, in.Intake(ctx, first)) // handed in again: nothing more
	ts := find(cmdb.TicketFilter{})
	if len(ts) != 1 {
		t.Fatalf("%d tickets, want one from the mail taken twice", len(ts))
	}
	tk := ts[0]
	if tk.Channel != cmdb.ChannelEmail || tk.OnBehalfOf != "Erika Muster <erika@eltern.example>" || tk.ReporterUserID != 0 ||
		tk.SchoolID != 0 || tk.Level != 1 || tk.Category != "Sonstiges" || tk.Title != first.Subject {
		t.Fatalf("ticket from mail: %+v", tk)
	}
	as, err := x.db.FindTicketAttachments(ctx, admin, tk.ID)
	must(t, err)
	if len(as) != 1 || as[0].MediaType != "image/png" {
		t.Fatalf("attachments %+v, want the photo only", as)
	}
	cs, err := x.db.FindTicketComments(ctx, admin, tk.ID)
	must(t, err)
	if len(cs) != 1 || !cs[0].Internal || !strings.Contains(cs[0].Body, "brief.docx") {
		t.Fatalf("comments %+v, want an internal note naming the left-out file", cs)
	}
	if got := recipientsOf(outbox(t, x.db), "Neues Ticket"); !slices.Contains(got, "erika@eltern.example") {
		t.Fatalf("no confirmation to the stranger: %v", got)
	}

	// Her reply is a public comment under her name, and not sent back to her.
	reply := &cmdb.InboundMail{MessageID: "m2@eltern.example", FromAddress: "erika@eltern.example", FromName: "Erika Muster",
		Subject: "Re: [#" + tk.Number + "] Neues Ticket", Text: "Es ist Raum 1.12, nicht 1.21.",
		Class: cmdb.MailClass{Kind: cmdb.MailReply, TicketNumber: tk.Number}}
	must(t, in.Intake(ctx, reply))
	// Someone else naming the number lands in an internal note only.
	other := &cmdb.InboundMail{MessageID: "m3@spam.example", FromAddress: "werbung@spam.example",
		Subject: "Re: " + tk.Number, Text: "Günstige Toner!", Class: cmdb.MailClass{Kind: cmdb.MailReply, TicketNumber: tk.Number}}
	must(t, in.Intake(ctx, other))
	cs, err = x.db.FindTicketComments(ctx, admin, tk.ID)
	must(t, err)
	if len(cs) != 3 || cs[1].Internal || cs[1].Author != "Erika Muster <erika@eltern.example>" || cs[1].Channel != cmdb.ChannelEmail ||
		!cs[2].Internal || !strings.Contains(cs[2].Body, "Günstige Toner") {
		t.Fatalf("comments %+v", cs)
	}
	box := outbox(t, x.db)
	if got := recipientsOf(box, "Neuer Kommentar"); !slices.Equal(got, []string{"it@mi.de"}) {
		t.Fatalf("her comment went to %v, want the authority's IT only", got)
	}

	// A teacher's mail is their own ticket, of their school.
	must(t, in.Intake(ctx, &cmdb.InboundMail{MessageID: "m4@mi.de", FromAddress: "lehrer@mi.de", Subject: "WLAN im Lehrerzimmer weg",
		Text: "Kein Netz.", Class: cmdb.MailClass{Kind: cmdb.MailNewTicket}}))
	mine := find(cmdb.TicketFilter{Query: "Lehrerzimmer"})
	if len(mine) != 1 || mine[0].ReporterUserID != x.teacher.UserID || mine[0].SchoolID != x.tn.School.ID || mine[0].OnBehalfOf != "" {
		t.Fatalf("teacher's mail: %+v", mine)
	}
	if _, err := x.db.FindTicketByID(ctx, x.teacher, mine[0].ID); err != nil {
		t.Fatalf("the teacher cannot see the ticket their mail opened: %v", err)
	}

	// A reply to a ticket we do not know opens a ticket; one to a closed
	// ticket is refused (filed unanswered) and changes nothing.
	must(t, in.Intake(ctx, &cmdb.InboundMail{MessageID: "m5@x.example", FromAddress: "a@x.example", Subject: "Re: [#MI-1999-00001] alt",
		Text: "?", Class: cmdb.MailClass{Kind: cmdb.MailReply, TicketNumber: "MI-1999-00001"}}))
	if n := len(find(cmdb.TicketFilter{})); n != 3 {
		t.Fatalf("%d tickets, want 3", n)
	}
	for _, st := range []string{cmdb.StatusResolved, cmdb.StatusClosed} {
		_, err := x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Status: ptr(st), Channel: cmdb.ChannelAPI})
		must(t, err)
	}
	err = in.Intake(ctx, &cmdb.InboundMail{MessageID: "m6@eltern.example", FromAddress: "erika@eltern.example", Subject: "Re: " + tk.Number,
		Text: "Danke!", Class: cmdb.MailClass{Kind: cmdb.MailReply, TicketNumber: tk.Number}})
	if cmdb.ErrorCode(err) != cmdb.ECONFLICT {
		t.Fatalf("reply to a closed ticket: %v, want ECONFLICT", err)
	}
	if cs, _ := x.db.FindTicketComments(ctx, admin, tk.ID); len(cs) != 3 {
		t.Fatalf("the closed ticket took a comment: %d", len(cs))
	}
}
