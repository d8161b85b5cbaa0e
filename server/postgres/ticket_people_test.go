package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// TestFindPersonName: staff and a provider name each other on the tickets
// they share, and nobody else.
func TestFindPersonName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "NAME")
	tk := x.open(t, x.teacher, "Drucker zieht kein Papier", x.printer)
	name := func(s cmdb.Scope, id int64) string {
		t.Helper()
		n, err := x.db.FindPersonName(ctx, s, id)
		if cmdb.ErrorCode(err) == cmdb.ENOTFOUND {
			return "-"
		}
		must(t, err)
		return n
	}
	// Before the provider has the ticket, neither side meets the other.
	if got := name(x.authIT, x.providerIT.UserID); got != "-" {
		t.Errorf("authority IT names a provider's technician who never touched its tickets: %q", got)
	}
	if got := name(x.providerIT, x.authIT.UserID); got != "-" {
		t.Errorf("provider names the authority's IT before any shared ticket: %q", got)
	}
	p := x.provider
	ok(t)(x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{ProviderID: &p, Status: ptr(cmdb.StatusAssigned)}))
	must(t, x.db.AddTicketComment(ctx, x.authIT, &cmdb.TicketComment{TicketID: tk.ID, Body: "Bitte Einzug prüfen", Internal: true}))
	must(t, x.db.AddTicketComment(ctx, x.providerIT, &cmdb.TicketComment{TicketID: tk.ID, Body: "Techniker kommt Donnerstag"}))
	// Users have no names in this env: the e-mail address stands in.
	if got := name(x.authIT, x.providerIT.UserID); got != "dienst@name.de" {
		t.Errorf("authority IT names the technician who commented: %q", got)
	}
	if got := name(x.providerIT, x.authIT.UserID); got != "it@name.de" {
		t.Errorf("the assigned provider names the author of an internal note it may read: %q", got)
	}
	if got := name(x.providerIT, x.teacher.UserID); got != "lehrer@name.de" {
		t.Errorf("the assigned provider names the reporter: %q", got)
	}
	// The teacher reads the public comment, so meets its author; the
	// colleague who sees the school's tickets too. Nobody else.
	if got := name(x.teacher2, x.providerIT.UserID); got != "dienst@name.de" {
		t.Errorf("a colleague names the author of a public comment on the school's ticket: %q", got)
	}
	if got := name(x.schoolIT2, x.providerIT.UserID); got != "-" {
		t.Errorf("another school's IT names the technician: %q", got)
	}
	// The teacher does not meet the author of an internal note.
	if got := name(x.teacher, x.authIT.UserID); got != "-" {
		t.Errorf("the teacher names the author of an internal note: %q", got)
	}
	// Once the ticket goes back, the provider sees none of it.
	zero := int64(0)
	ok(t)(x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{ProviderID: &zero}))
	if got := name(x.providerIT, x.teacher.UserID); got != "-" {
		t.Errorf("the provider names the reporter of a ticket it no longer has: %q", got)
	}
}

// TestCommentDoubleSubmit: the same person sending the same text twice
// in a row adds one comment; the same text later in the conversation is
// a new one.
func TestCommentDoubleSubmit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "DBLC")
	tk := x.open(t, x.teacher, "Drucker zieht schief ein", x.printer)
	say := func(s cmdb.Scope, body string) *cmdb.TicketComment {
		t.Helper()
		c := &cmdb.TicketComment{TicketID: tk.ID, Body: body}
		must(t, x.db.AddTicketComment(ctx, s, c))
		return c
	}
	count := func() int {
		cs, err := x.db.FindTicketComments(ctx, x.authIT, tk.ID)
		must(t, err)
		return len(cs)
	}
	first := say(x.teacher, "Er zieht immer noch schief ein.")
	again := say(x.teacher, "Er zieht immer noch schief ein.")
	if n := count(); n != 1 || again.ID != first.ID {
		t.Fatalf("a double submit: %d comments, ids %d and %d; want one", n, first.ID, again.ID)
	}
	say(x.authIT, "Wir tauschen die Rolle.")
	say(x.teacher, "Er zieht immer noch schief ein.")
	if n := count(); n != 3 {
		t.Errorf("the same text after an answer: %d comments, want 3", n)
	}
	x.clock.set(x.clock.now().Add(cmdb.DoubleSubmitWindow + time.Minute))
	say(x.teacher, "Er zieht immer noch schief ein.")
	if n := count(); n != 4 {
		t.Errorf("the same text again much later: %d comments, want 4", n)
	}
}
