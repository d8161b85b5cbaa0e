package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
)

// ciTickets lists the tickets of a CI, oldest first.
func ciTickets(t *testing.T, db *postgres.DB, ci int64) []*cmdb.Ticket {
	t.Helper()
	out, _, err := db.FindTickets(context.Background(), admin, cmdb.TicketFilter{CIID: ci, Limit: 1000})
	must(t, err)
	// FindTickets puts open ones first; the tests want creation order.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func comments(t *testing.T, db *postgres.DB, ticket int64) []string {
	t.Helper()
	cs, err := db.FindTicketComments(context.Background(), admin, ticket)
	must(t, err)
	var out []string
	for _, c := range cs {
		out = append(out, c.Body)
	}
	return out
}

func TestMonitoringOpensUpdatesAndResolvesOneTicket(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "MON")
	sink := x.db.MonitoringSink()
	at := x.clock.now()
	toner := cmdb.HealthEvent{CIID: x.printer, Kind: cmdb.HealthSupplyEmpty, Subject: "#1 Black Toner", Open: true, At: at, Detail: "empty"}

	must(t, sink.HealthEvent(ctx, toner))
	got := ciTickets(t, x.db, x.printer)
	if len(got) != 1 {
		t.Fatalf("after the first event: %d tickets, want 1", len(got))
	}
	tk := got[0]
	if tk.Channel != cmdb.ChannelMonitoring || tk.CreatedBy != "monitoring" || tk.Category != "Kein Toner" ||
		!strings.HasPrefix(tk.Title, "Toner leer: ") || tk.Status != cmdb.StatusNew || tk.ProviderID != 0 ||
		len(tk.CIIDs) != 1 || tk.CIIDs[0] != x.printer || tk.SchoolID != x.tn.School.ID {
		t.Fatalf("opened ticket: %+v", tk)
	}

	// The poller offers an event again when it was not taken; repeats,
	// in a row and from 8 goroutines at once, only count.
	for range 100 {
		must(t, sink.HealthEvent(ctx, toner))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*20)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				errs <- sink.HealthEvent(ctx, toner)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	if got := ciTickets(t, x.db, x.printer); len(got) != 1 {
		t.Fatalf("after 261 repeats: %d tickets, want 1", len(got))
	}
	if cs := comments(t, x.db, tk.ID); len(cs) != 0 {
		t.Fatalf("repeats wrote comments: %q", cs)
	}
	if n, err := postgres.MonitoringLinkEvents(x.db, tk.ID); err != nil || n != 261 {
		t.Fatalf("events counted: %d, %v; want 261", n, err)
	}

	// A second empty toner is news: one comment, still one ticket. Its
	// recovery alone does not resolve the ticket.
	cyan := toner
	cyan.Subject = "#2 Cyan Toner"
	must(t, sink.HealthEvent(ctx, cyan))
	must(t, sink.HealthEvent(ctx, cyan))
	cs := comments(t, x.db, tk.ID)
	if len(cs) != 1 || !strings.Contains(cs[0], "#2 Cyan Toner") {
		t.Fatalf("comments after a second toner: %q", cs)
	}
	cyan.Open = false
	must(t, sink.HealthEvent(ctx, cyan))
	if tk2, _ := x.db.FindTicketByID(ctx, admin, tk.ID); tk2.Status != cmdb.StatusNew {
		t.Fatalf("one of two toners refilled: status %s, want new", tk2.Status)
	}

	// Recovery of the last one resolves it, saying when (German time).
	x.clock.set(at.Add(90 * time.Minute))
	cleared := toner
	cleared.Open, cleared.At, cleared.Detail = false, at.Add(75*time.Minute), ""
	must(t, sink.HealthEvent(ctx, cleared))
	tk2, err := x.db.FindTicketByID(ctx, admin, tk.ID)
	must(t, err)
	if tk2.Status != cmdb.StatusResolved || tk2.ResolvedAt == nil {
		t.Fatalf("after recovery: status %s", tk2.Status)
	}
	cs = comments(t, x.db, tk.ID)
	if last := cs[len(cs)-1]; last != "Störung behoben am 10.03.2026 um 10:15 (automatisch erkannt)." {
		t.Fatalf("recovery comment %q", last)
	}
	// Its repeat changes nothing.
	must(t, sink.HealthEvent(ctx, cleared))
	if n := len(comments(t, x.db, tk.ID)); n != len(cs) {
		t.Fatalf("a repeated recovery commented again")
	}

	// The condition coming back opens a new ticket; one a person
	// resolved takes no more events either.
	must(t, sink.HealthEvent(ctx, toner))
	got = ciTickets(t, x.db, x.printer)
	if len(got) != 2 || got[1].Status != cmdb.StatusNew {
		t.Fatalf("after the condition came back: %d tickets", len(got))
	}
	resolved := cmdb.StatusResolved
	if _, err := x.db.UpdateTicket(ctx, x.authIT, got[1].ID, cmdb.TicketUpdate{Status: &resolved}); err != nil {
		t.Fatal(err)
	}
	must(t, sink.HealthEvent(ctx, toner))
	if got = ciTickets(t, x.db, x.printer); len(got) != 3 {
		t.Fatalf("after a person resolved the ticket, the next event made %d tickets, want 3", len(got))
	}
}

func TestMonitoringFirstEventsConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "MONC")
	sink := x.db.MonitoringSink()
	jam := cmdb.HealthEvent{CIID: x.printer, Kind: cmdb.HealthJam, Open: true, At: x.clock.now(), Detail: "paper jam"}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = sink.HealthEvent(ctx, jam) }()
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	got := ciTickets(t, x.db, x.printer)
	if len(got) != 1 || got[0].Category != "Papierstau" || got[0].Title != "Papierstau: MONCP1" || got[0].RoomID != x.tn.Room.ID {
		t.Fatalf("8 concurrent first events: %d tickets, want 1 (first: %+v)", len(got), got[0])
	}
	// A batch: two CIs, in order per CI.
	lamp := cmdb.HealthEvent{CIID: x.projector, Kind: cmdb.HealthLamp, Open: true, At: x.clock.now(), Detail: "lamp error"}
	lampOff := lamp
	lampOff.Open = false
	for i, err := range sink.HealthEvents(ctx, []cmdb.HealthEvent{lamp, jam, lampOff, jam}) {
		if err != nil {
			t.Fatalf("batch event %d: %v", i, err)
		}
	}
	p := ciTickets(t, x.db, x.projector)
	if len(p) != 1 || p[0].Category != "Lampe" || p[0].Status != cmdb.StatusResolved {
		t.Fatalf("projector after lamp on and off in one batch: %+v", p)
	}
}

func TestMonitoringRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "MONR")
	// Another authority in the same database, with its own provider.
	tn2 := MustCreateTenant(t, x.db, "MONX")
	otherIT := cmdb.Scope{Subject: "user:fremd", Authorities: []int64{tn2.Authority.ID}}
	otherProvider := &cmdb.Provider{Code: "MONX-P", Name: "Fremdes Systemhaus", Authorities: []int64{tn2.Authority.ID}}
	must(t, x.db.CreateProvider(ctx, admin, otherProvider))
	sink := x.db.MonitoringSink()
	a := x.tn.Authority.ID

	rules, err := x.db.FindMonitoringRules(ctx, x.authIT, a)
	must(t, err)
	if len(rules) != len(cmdb.HealthKinds) || !rules[0].Default {
		t.Fatalf("default rules: %+v", rules)
	}

	// A kind whose rule opens no ticket (door_open by default) opens none.
	door := cmdb.HealthEvent{CIID: x.printer, Kind: cmdb.HealthDoorOpen, Open: true, At: x.clock.now()}
	must(t, sink.HealthEvent(ctx, door))
	door.Open = false
	must(t, sink.HealthEvent(ctx, door))
	if got := ciTickets(t, x.db, x.printer); len(got) != 0 {
		t.Fatalf("door_open made %d tickets", len(got))
	}

	// Jams to the provider at level 2; offline stays open after recovery;
	// an empty toner opens none.
	set := []cmdb.MonitoringRule{
		{Kind: cmdb.HealthJam, OpensTicket: true, ProviderID: x.provider, Level: 2, Impact: 2, Urgency: 1, AutoResolve: true},
		{Kind: cmdb.HealthOffline, OpensTicket: true, Level: 1, Impact: 3, Urgency: 3, AutoResolve: false},
		{Kind: cmdb.HealthSupplyEmpty, OpensTicket: false, Level: 1, Impact: 3, Urgency: 2},
	}
	rules, err = x.db.SetMonitoringRules(ctx, x.authIT, a, set)
	must(t, err)
	for _, r := range rules {
		if r.Kind == cmdb.HealthJam && (r.Default || r.ProviderID != x.provider || r.Level != 2) {
			t.Fatalf("stored jam rule: %+v", r)
		}
	}
	must(t, sink.HealthEvent(ctx, cmdb.HealthEvent{CIID: x.printer, Kind: cmdb.HealthSupplyEmpty, Subject: "#1 Black Toner", Open: true, At: x.clock.now()}))
	must(t, sink.HealthEvent(ctx, cmdb.HealthEvent{CIID: x.printer, Kind: cmdb.HealthJam, Open: true, At: x.clock.now()}))
	got := ciTickets(t, x.db, x.printer)
	if len(got) != 1 || got[0].ProviderID != x.provider || got[0].Level != 2 || got[0].Priority != 2 {
		t.Fatalf("jam ticket by the rule: %+v", got)
	}
	// The provider sees it: it is their ticket.
	if _, err := x.db.FindTicketByID(ctx, x.providerIT, got[0].ID); err != nil {
		t.Fatalf("the provider does not see the ticket assigned by the rule: %v", err)
	}

	off := cmdb.HealthEvent{CIID: x.projector, Kind: cmdb.HealthOffline, Open: true, At: x.clock.now(), Detail: "the device is offline"}
	must(t, sink.HealthEvent(ctx, off))
	off.Open = false
	must(t, sink.HealthEvent(ctx, off))
	p := ciTickets(t, x.db, x.projector)
	if len(p) != 1 || p[0].Status != cmdb.StatusNew {
		t.Fatalf("offline without auto_resolve after recovery: %+v", p)
	}
	if cs := comments(t, x.db, p[0].ID); len(cs) != 1 || !strings.HasPrefix(cs[0], "Störung behoben am ") {
		t.Fatalf("recovery without auto_resolve: comments %q", cs)
	}
	// It comes back: the same ticket takes it.
	off.Open = true
	must(t, sink.HealthEvent(ctx, off))
	if p = ciTickets(t, x.db, x.projector); len(p) != 1 || len(comments(t, x.db, p[0].ID)) != 2 {
		t.Fatalf("offline again: %d tickets", len(p))
	}

	// Validation names the field; another authority's IT sees nothing.
	_, err = x.db.SetMonitoringRules(ctx, x.authIT, a, []cmdb.MonitoringRule{set[0], {Kind: cmdb.HealthLamp, OpensTicket: true, ProviderID: otherProvider.ID, Level: 1, Impact: 1, Urgency: 1}})
	if cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != "rules[1].provider_id" {
		t.Fatalf("provider without a contract: %v", err)
	}
	_, err = x.db.SetMonitoringRules(ctx, x.authIT, a, []cmdb.MonitoringRule{set[0], {Kind: cmdb.HealthLamp, Level: 0, Impact: 1, Urgency: 1}})
	if cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != "rules[1].level" {
		t.Fatalf("level 0: %v", err)
	}
	if _, err := x.db.FindMonitoringRules(ctx, otherIT, a); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Fatalf("another authority's rules: %v", err)
	}
	if _, err := x.db.SetMonitoringRules(ctx, otherIT, a, nil); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Fatalf("another authority's rules set: %v", err)
	}
	for _, s := range []cmdb.Scope{x.teacher, x.providerIT, x.schoolIT2} {
		if _, err := x.db.FindMonitoringRules(ctx, s, a); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			t.Fatalf("%s reads the rules: %v", s.Subject, err)
		}
	}
	// Failed writes left the rules as they were.
	rules, err = x.db.FindMonitoringRules(ctx, x.authIT, a)
	must(t, err)
	for _, r := range rules {
		if r.Kind == cmdb.HealthLamp && !r.Default {
			t.Fatalf("a refused write stored the lamp rule: %+v", r)
		}
	}
}
