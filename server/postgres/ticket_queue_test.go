package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// TestTicketQueue: the staff queue's counts, its filters by assignee (a
// person or nobody) and channel and its order by due time, over what each caller sees.
func TestTicketQueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "TQU")
	a := x.open(t, x.teacher, "Drucker A", x.printer)
	b := x.open(t, x.authIT, "Drucker B", x.printer)
	c := x.open(t, x.authIT, "Laptop C", x.ci2)
	_, err := x.db.UpdateTicket(ctx, x.authIT, a.ID, cmdb.TicketUpdate{AssigneeUserID: ptr(x.authIT.UserID), Status: ptr(cmdb.StatusAssigned)})
	must(t, err)
	_, err = x.db.UpdateTicket(ctx, x.authIT, b.ID, cmdb.TicketUpdate{Level: ptr(2), ProviderID: ptr(x.provider)})
	must(t, err)
	_, err = x.db.UpdateTicket(ctx, x.authIT, c.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusResolved)})
	must(t, err)
	phone := &cmdb.Ticket{Type: cmdb.TicketIncident, Title: "Anruf", CategoryID: x.cat["general/Kein Netzwerk im Raum"], Impact: 3, Urgency: 3,
		CIIDs: []int64{x.projector}, Channel: cmdb.ChannelPhone, OnBehalfOf: "Frau Berg"}
	ok(t)(x.db.CreateTicket(ctx, x.authIT, phone, ""))
	_, _ = x.otherAuthority(t, "TQX") // another authority's tickets count nowhere

	got, err := x.db.CountTicketQueues(ctx, x.authIT)
	must(t, err)
	want := cmdb.TicketQueueCounts{Open: 3, New: 2, Mine: 1, Level1: 2, Level2: 1, Authority: 2, Providers: map[int64]int{x.provider: 1}}
	if fmt.Sprint(*got) != fmt.Sprint(want) {
		t.Errorf("counts for authority IT: %+v, want %+v", *got, want)
	}
	got, err = x.db.CountTicketQueues(ctx, x.providerIT)
	must(t, err)
	if got.Open != 1 || got.Providers[x.provider] != 1 || got.Authority != 0 {
		t.Errorf("counts for the provider: %+v", *got)
	}

	list := func(s cmdb.Scope, f cmdb.TicketFilter) string {
		t.Helper()
		ts, n, err := x.db.FindTickets(ctx, s, f)
		must(t, err)
		var titles []string
		for _, tk := range ts {
			titles = append(titles, tk.Title)
		}
		return fmt.Sprintf("%d:%s", n, strings.Join(titles, ","))
	}
	if g := list(x.authIT, cmdb.TicketFilter{AssigneeUserID: x.authIT.UserID}); g != "1:Drucker A" {
		t.Errorf("assigned to me: %s", g)
	}
	if g := list(x.authIT, cmdb.TicketFilter{Unassigned: true, Statuses: []string{"open"}}); g != "2:Drucker B,Anruf" && g != "2:Anruf,Drucker B" {
		t.Errorf("open, assigned to nobody: %s", g)
	}
	if g := list(x.providerIT, cmdb.TicketFilter{Unassigned: true}); g != "1:Drucker B" {
		t.Errorf("the provider's, assigned to nobody: %s", g)
	}
	if _, _, err := x.db.FindTickets(ctx, x.authIT, cmdb.TicketFilter{AssigneeUserID: x.authIT.UserID, Unassigned: true}); cmdb.ErrorField(err) != "assignee" {
		t.Errorf("assigned to me and to nobody: %v, want invalid naming assignee", err)
	}
	if g := list(x.authIT, cmdb.TicketFilter{Channel: cmdb.ChannelPhone}); g != "1:Anruf" {
		t.Errorf("by phone: %s", g)
	}
	if g := list(x.authIT, cmdb.TicketFilter{Statuses: []string{"open"}, Sort: cmdb.SortDue}); !strings.HasPrefix(g, "3:") {
		t.Errorf("open by due time: %s", g)
	}
	if g := list(x.authIT, cmdb.TicketFilter{Sort: cmdb.SortDue}); !strings.HasSuffix(g, ",Laptop C") {
		t.Errorf("all by due time, resolved last: %s", g)
	}
	if g := list(x.providerIT, cmdb.TicketFilter{}); g != "1:Drucker B" {
		t.Errorf("the provider's list: %s", g)
	}
	if g := list(x.teacher, cmdb.TicketFilter{ReporterUserID: x.teacher.UserID}); g != "1:Drucker A" {
		t.Errorf("the teacher's own: %s", g)
	}
	for _, f := range []cmdb.TicketFilter{{Channel: "fax"}, {Sort: "title"}, {AssigneeUserID: -1}} {
		if _, _, err := x.db.FindTickets(ctx, x.authIT, f); cmdb.ErrorCode(err) != cmdb.EINVALID {
			t.Errorf("filter %+v: %v, want EINVALID", f, err)
		}
	}
}

// TestProviderSeesOnlyItsTickets: a provider's staff see the tickets
// assigned to their provider and those tickets' devices, and nothing of
// another provider's or the authority's own tickets; they may comment
// and set waiting and resolved.
func TestProviderSeesOnlyItsTickets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "TQP")
	mine := x.open(t, x.authIT, "Drucker", x.printer)
	theirs := x.open(t, x.authIT, "Laptop", x.ci2)
	_, err := x.db.UpdateTicket(ctx, x.authIT, mine.ID, cmdb.TicketUpdate{ProviderID: ptr(x.provider), Level: ptr(2)})
	must(t, err)
	_, err = x.db.UpdateTicket(ctx, x.authIT, theirs.ID, cmdb.TicketUpdate{ProviderID: ptr(x.provider2), Level: ptr(2)})
	must(t, err)
	if _, err := x.db.FindTicketByNumber(ctx, x.providerIT, theirs.Number); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("another provider's ticket: %v, want ENOTFOUND", err)
	}
	if _, err := x.db.FindCIByID(ctx, x.providerIT, x.ci2); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("another provider's ticket's device: %v, want ENOTFOUND", err)
	}
	if _, err := x.db.FindCIByID(ctx, x.providerIT, x.printer); err != nil {
		t.Errorf("the provider's ticket's device: %v", err)
	}
	must(t, x.db.AddTicketComment(ctx, x.providerIT, &cmdb.TicketComment{TicketID: mine.ID, Body: "Ersatzteil bestellt", Internal: true}))
	for _, st := range []string{cmdb.StatusWaiting, cmdb.StatusResolved} {
		if _, err := x.db.UpdateTicket(ctx, x.providerIT, mine.ID, cmdb.TicketUpdate{Status: ptr(st)}); err != nil {
			t.Errorf("provider sets %s: %v", st, err)
		}
	}
	if _, err := x.db.UpdateTicket(ctx, x.providerIT, theirs.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusWaiting)}); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("provider changes another's ticket: %v, want ENOTFOUND", err)
	}
}

// TestStaleTicketEditIsRefused: an edit made on a view of the ticket
// from before someone else's change is refused with what changed, and
// changes nothing; a comment in between does not make it stale.
func TestStaleTicketEditIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "TQS")
	tk := x.open(t, x.authIT, "Drucker", x.printer)
	seen := tk.UpdatedAt
	x.clock.set(x.clock.now().Add(time.Minute))
	must(t, x.db.AddTicketComment(ctx, x.teacher, &cmdb.TicketComment{TicketID: tk.ID, Body: "Immer noch kaputt"}))
	x.clock.set(x.clock.now().Add(time.Minute))
	after, err := x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Level: ptr(2), Seen: &seen})
	if err != nil {
		t.Fatalf("an edit after a comment only: %v", err)
	}
	x.clock.set(x.clock.now().Add(time.Minute))
	// A colleague, on the page as it was after the level change, hands it
	// to a provider; the first person's page still shows level 2 unassigned.
	_, err = x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{ProviderID: ptr(x.provider), Seen: &after.UpdatedAt})
	must(t, err)
	_, err = x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Level: ptr(3), Status: ptr(cmdb.StatusInProgress), Seen: &after.UpdatedAt})
	if cmdb.ErrorCode(err) != cmdb.ECONFLICT || cmdb.ErrorField(err) != "updated_at" || !strings.Contains(err.Error(), "provider_id") {
		t.Fatalf("stale edit: %v, want ECONFLICT naming updated_at and what changed", err)
	}
	now, err := x.db.FindTicketByID(ctx, admin, tk.ID)
	must(t, err)
	if now.Level != 2 || now.Status != cmdb.StatusNew || now.ProviderID != x.provider {
		t.Errorf("the refused edit wrote: %+v", now)
	}
}

// TestResolveWithSolution: the status and the solution are one step: a
// stale page writes neither, a fresh one both.
func TestResolveWithSolution(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "TQR")
	tk := x.open(t, x.authIT, "Drucker", x.printer)
	stale := tk.UpdatedAt
	x.clock.set(x.clock.now().Add(time.Minute))
	after, err := x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Level: ptr(2)})
	must(t, err)
	x.clock.set(x.clock.now().Add(time.Minute))
	text := "Einzugsrolle getauscht."
	comments := func() int {
		cs, err := x.db.FindTicketComments(ctx, admin, tk.ID)
		must(t, err)
		return len(cs)
	}
	_, err = x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusResolved), Solution: &text, Seen: &stale})
	if cmdb.ErrorCode(err) != cmdb.ECONFLICT {
		t.Fatalf("resolve on a stale page: %v, want ECONFLICT", err)
	}
	if n := comments(); n != 0 {
		t.Errorf("the refused resolve wrote %d comments", n)
	}
	blank := "  "
	if _, err := x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusResolved), Solution: &blank}); cmdb.ErrorField(err) != "solution" {
		t.Fatalf("an empty solution: %v, want EINVALID naming solution", err)
	}
	got, err := x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusResolved), Solution: &text, Seen: &after.UpdatedAt})
	must(t, err)
	cs, err := x.db.FindTicketComments(ctx, x.authIT, tk.ID)
	must(t, err)
	if got.Status != cmdb.StatusResolved || len(cs) != 1 || cs[0].Body != text || cs[0].Internal {
		t.Errorf("resolved with a solution: status %s, comments %+v", got.Status, cs)
	}
	if !got.UpdatedAt.Equal(x.clock.now()) {
		t.Errorf("the ticket returned is from before its solution: %v", got.UpdatedAt)
	}
}

// TestSavedFiltersArePersonal: each person sees and deletes only their
// own saved filters; a name is replaced, bad input named.
func TestSavedFiltersArePersonal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "TQF")
	f := &cmdb.SavedFilter{Name: " 2nd Level offen ", Query: "level=2&status=open"}
	must(t, x.db.SaveFilter(ctx, x.authIT, f))
	again := &cmdb.SavedFilter{Name: "2nd Level offen", Query: "level=2"}
	must(t, x.db.SaveFilter(ctx, x.authIT, again))
	if again.ID != f.ID {
		t.Errorf("same name saved as a second filter")
	}
	must(t, x.db.SaveFilter(ctx, x.providerIT, &cmdb.SavedFilter{Name: "Meine", Query: "status=open"}))
	fs, err := x.db.FindSavedFilters(ctx, x.authIT)
	must(t, err)
	if len(fs) != 1 || fs[0].Name != "2nd Level offen" || fs[0].Query != "level=2" {
		t.Errorf("authority IT's filters: %+v", fs)
	}
	if err := x.db.DeleteSavedFilter(ctx, x.providerIT, f.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("deleting another person's filter: %v, want ENOTFOUND", err)
	}
	for _, bad := range []cmdb.SavedFilter{{Name: " ", Query: "a=1"}, {Name: strings.Repeat("x", 81)}, {Name: "x", Query: "%zz"}} {
		if err := x.db.SaveFilter(ctx, x.authIT, &bad); cmdb.ErrorCode(err) != cmdb.EINVALID {
			t.Errorf("bad filter %+v: %v", bad, err)
		}
	}
	if _, err := x.db.FindSavedFilters(ctx, cmdb.Scope{Subject: "token:1", Authorities: x.authIT.Authorities}); cmdb.ErrorCode(err) != cmdb.EINVALID {
		t.Errorf("a token's filters: %v", err)
	}
	must(t, x.db.DeleteSavedFilter(ctx, x.authIT, f.ID))
}
