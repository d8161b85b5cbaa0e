package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// openAt opens a ticket of type typ on cis at the given time.
func (x *ticketEnv) openAt(t *testing.T, at time.Time, typ, category string, cis ...int64) *cmdb.Ticket {
	t.Helper()
	x.clock.set(at)
	tk := &cmdb.Ticket{Type: typ, Title: "Defekt", CategoryID: x.cat[category], Impact: 3, Urgency: 2, CIIDs: cis}
	if _, err := x.db.CreateTicket(context.Background(), x.authIT, tk, ""); err != nil {
		t.Fatal(err)
	}
	return tk
}

func (x *ticketEnv) flag(t *testing.T, ci int64) *cmdb.RepeatFailureFlag {
	t.Helper()
	c, err := x.db.FindCIByID(context.Background(), admin, ci)
	must(t, err)
	return c.RepeatFailure
}

// repeatHistory lists the CI's history rows written by the rule, oldest first.
func (x *ticketEnv) repeatHistory(t *testing.T, ci int64) []*cmdb.HistoryEntry {
	t.Helper()
	h, err := x.db.FindHistory(context.Background(), admin, ci, 0)
	must(t, err)
	var out []*cmdb.HistoryEntry
	for _, e := range h {
		if e.Attr == "repeat_failure" {
			if e.Source != cmdb.RepeatFailureSource {
				t.Errorf("repeat_failure history by %q", e.Source)
			}
			out = append(out, e)
		}
	}
	slices.Reverse(out)
	return out
}

// otherAuthority creates a second authority in x's database with a
// printer and an incident on it, and returns its authority IT's scope and
// the ticket.
func (x *ticketEnv) otherAuthority(t *testing.T, code string) (cmdb.Scope, *cmdb.Ticket) {
	t.Helper()
	tn := MustCreateTenant(t, x.db, code)
	res := reconcile(t, x.db, cmdb.Observation{Source: "agent", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID, Class: "printer", Serial: code + "P1", Vendor: "HP"})
	tk := &cmdb.Ticket{Type: cmdb.TicketIncident, Title: "Fremd", CategoryID: x.cat["printer/Papierstau"], Impact: 3, Urgency: 2, CIIDs: []int64{res.Items[0].CIID}}
	_, err := x.db.CreateTicket(context.Background(), admin, tk, "")
	must(t, err)
	return cmdb.Scope{Subject: "user:other", Authorities: []int64{tn.Authority.ID}}, tk
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 0, 0, 0, time.UTC) }

// TestRepeatFailureFlagsAndClears: the third incident within a year flags
// the printer (a request never counts), the flag names its incidents and
// is in the history, and it clears by itself when the oldest incident
// leaves the window.
func TestRepeatFailureFlagsAndClears(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "REP")
	a := x.openAt(t, day(2025, 6, 1), cmdb.TicketIncident, "printer/Papierstau", x.printer)
	b := x.openAt(t, day(2025, 9, 1), cmdb.TicketIncident, "printer/Kein Toner", x.printer)
	x.openAt(t, day(2025, 10, 1), cmdb.TicketRequest, "printer/Sonstiges", x.printer)
	if f := x.flag(t, x.printer); f != nil {
		t.Fatalf("two incidents and a request flagged the printer: %+v", f)
	}
	c := x.openAt(t, day(2026, 1, 10), cmdb.TicketIncident, "printer/Druckt nicht", x.printer)
	f := x.flag(t, x.printer)
	if f == nil || f.Count != 3 || f.WindowDays != 365 || f.MinIncidents != 3 ||
		!slices.Equal(f.Tickets, []string{a.Number, b.Number, c.Number}) || !f.Since.Equal(day(2026, 1, 10)) ||
		!f.ClearsAt.Equal(day(2026, 6, 1)) {
		t.Fatalf("flag after the third incident: %+v", f)
	}
	h := x.repeatHistory(t, x.printer)
	if len(h) != 1 || str(h[0].Old) != "" || !strings.Contains(str(h[0].New), a.Number) || !strings.Contains(str(h[0].New), c.Number) {
		t.Fatalf("history after flagging: %+v", h)
	}
	// Listed for staff, not for the other school's IT, a teacher or a provider.
	list, n, err := x.db.FindRepeatFailures(ctx, x.authIT, cmdb.RepeatFailureFilter{})
	must(t, err)
	if n != 1 || list[0].ID != x.printer || list[0].RepeatFailure == nil {
		t.Fatalf("authority IT lists %d flagged CIs", n)
	}
	for name, s := range map[string]cmdb.Scope{"school IT of the other school": x.schoolIT2, "teacher": x.teacher, "provider": x.providerIT} {
		if _, n, err := x.db.FindRepeatFailures(ctx, s, cmdb.RepeatFailureFilter{}); err != nil || n != 0 {
			t.Errorf("%s lists %d flagged CIs (%v)", name, n, err)
		}
	}
	if _, n, _ := x.db.FindRepeatFailures(ctx, x.authIT, cmdb.RepeatFailureFilter{Class: "laptop"}); n != 0 {
		t.Errorf("class filter laptop lists %d", n)
	}
	if _, _, err := x.db.FindRepeatFailures(ctx, x.authIT, cmdb.RepeatFailureFilter{Class: "toaster"}); cmdb.ErrorField(err) != "class" {
		t.Errorf("bad class: %v", err)
	}

	// Nothing changes while the window holds.
	x.clock.set(day(2026, 5, 31))
	set, cleared, err := x.db.RecomputeRepeatFailures(ctx, x.tn.Authority.ID)
	must(t, err)
	if set != 0 || cleared != 0 || len(x.repeatHistory(t, x.printer)) != 1 {
		t.Fatalf("recompute within the window: set %d, cleared %d", set, cleared)
	}
	// The first incident leaves the window: the flag clears itself.
	x.clock.set(day(2026, 6, 2))
	set, cleared, err = x.db.RecomputeRepeatFailures(ctx, x.tn.Authority.ID)
	must(t, err)
	if set != 0 || cleared != 1 {
		t.Fatalf("recompute after the window: set %d, cleared %d, want 0, 1", set, cleared)
	}
	if f := x.flag(t, x.printer); f != nil {
		t.Fatalf("flag still set: %+v", f)
	}
	h = x.repeatHistory(t, x.printer)
	if len(h) != 2 || str(h[1].New) != "" || str(h[1].Old) != str(h[0].New) || !h[1].At.Equal(day(2026, 6, 2)) {
		t.Fatalf("history after clearing: %+v", h)
	}
	if _, n, _ := x.db.FindRepeatFailures(ctx, x.authIT, cmdb.RepeatFailureFilter{}); n != 0 {
		t.Fatalf("cleared flag still listed")
	}
}

// TestRepeatFailureCountsMergedDuplicatesOnce: a duplicate merged into
// an incident is one incident, so three tickets make no flag, four do.
func TestRepeatFailureCountsMergedDuplicatesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "DUP")
	a := x.openAt(t, day(2026, 1, 5), cmdb.TicketIncident, "projector/Kein Bild", x.projector)
	b := x.openAt(t, day(2026, 1, 6), cmdb.TicketIncident, "projector/Kein Bild", x.projector)
	if _, err := x.db.MergeTicket(ctx, x.authIT, b.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	c := x.openAt(t, day(2026, 2, 1), cmdb.TicketIncident, "projector/Lampe", x.projector)
	if f := x.flag(t, x.projector); f != nil {
		t.Fatalf("an incident, its duplicate and one more flagged the projector: %+v", f)
	}
	d := x.openAt(t, day(2026, 3, 1), cmdb.TicketIncident, "projector/Lampe", x.projector)
	f := x.flag(t, x.projector)
	if f == nil || f.Count != 3 || !slices.Equal(f.Tickets, []string{a.Number, c.Number, d.Number}) {
		t.Fatalf("flag: %+v, want 3 incidents %s %s %s", f, a.Number, c.Number, d.Number)
	}
}

// TestRepeatFailureRule: an authority's rule and its class overrides are
// validated naming the field, apply at once and stay within the authority.
func TestRepeatFailureRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "RUL")
	otherIT, _ := x.otherAuthority(t, "RUX")
	for _, at := range []time.Time{day(2026, 1, 1), day(2026, 2, 1), day(2026, 3, 1)} {
		x.openAt(t, at, cmdb.TicketIncident, "printer/Papierstau", x.printer)
	}
	if x.flag(t, x.printer) == nil {
		t.Fatal("not flagged under the default rule")
	}
	r, err := x.db.FindRepeatFailureRule(ctx, x.authIT, x.tn.Authority.ID)
	must(t, err)
	if r.Default != cmdb.DefaultRepeatRule() || len(r.ByClass) != 0 {
		t.Fatalf("default rule: %+v", r)
	}
	bad := cmdb.RepeatRules{ByClass: map[string]cmdb.RepeatRule{"printer": {Threshold: 1, WindowDays: 30}}}
	if err := x.db.SetRepeatFailureRule(ctx, x.authIT, x.tn.Authority.ID, bad); cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != "by_class.printer.threshold" {
		t.Fatalf("threshold 1: %v", err)
	}
	// Printers get 4 incidents: the printer's flag clears at once.
	rule := cmdb.RepeatRules{Default: cmdb.RepeatRule{Threshold: 3, WindowDays: 365}, ByClass: map[string]cmdb.RepeatRule{"printer": {Threshold: 4, WindowDays: 180}}}
	must(t, x.db.SetRepeatFailureRule(ctx, x.authIT, x.tn.Authority.ID, rule))
	if f := x.flag(t, x.printer); f != nil {
		t.Fatalf("flag under 4 in 180 days: %+v", f)
	}
	if got, _ := x.db.FindRepeatFailureRule(ctx, x.authIT, x.tn.Authority.ID); got.ByClass["printer"] != rule.ByClass["printer"] {
		t.Fatalf("stored rule: %+v", got)
	}
	x.openAt(t, day(2026, 3, 5), cmdb.TicketIncident, "printer/Papierstau", x.printer)
	if f := x.flag(t, x.printer); f == nil || f.Count != 4 || f.WindowDays != 180 || f.MinIncidents != 4 {
		t.Fatalf("flag under the override: %+v", f)
	}
	// The other authority's people neither see nor change the rule or the flags.
	for name, err := range map[string]error{
		"find":      second(x.db.FindRepeatFailureRule(ctx, otherIT, x.tn.Authority.ID)),
		"set":       x.db.SetRepeatFailureRule(ctx, otherIT, x.tn.Authority.ID, rule),
		"patterns":  second(x.db.FindFailurePatterns(ctx, otherIT, x.tn.Authority.ID)),
		"school IT": x.db.SetRepeatFailureRule(ctx, x.schoolIT2, x.tn.Authority.ID, rule),
	} {
		if cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			t.Errorf("%s across authorities: %v, want not found", name, err)
		}
	}
	otherScope := otherIT
	if _, n, _ := x.db.FindRepeatFailures(ctx, otherScope, cmdb.RepeatFailureFilter{}); n != 0 {
		t.Errorf("another authority lists %d flags", n)
	}
	if _, n, _ := x.db.FindRepeatFailures(ctx, otherScope, cmdb.RepeatFailureFilter{AuthorityID: x.tn.Authority.ID}); n != 0 {
		t.Errorf("another authority lists %d flags by naming the authority", n)
	}
}

// TestPatternRule: an authority's model-pattern rule is the default
// until set, is stored as set, is validated naming the field (nothing
// stored then), is audited and stays within the authority.
func TestPatternRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "PRL")
	a := x.tn.Authority.ID
	otherIT, _ := x.otherAuthority(t, "PRX")
	r, err := x.db.FindPatternRule(ctx, x.authIT, a)
	must(t, err)
	if r != cmdb.DefaultPatternRule() {
		t.Fatalf("without a rule: %+v, want the default", r)
	}
	rule := cmdb.PatternRule{Alpha: 0.05, MinIncidents: 4, MinDevices: 2}
	must(t, x.db.SetPatternRule(ctx, x.authIT, a, rule))
	if got, err := x.db.FindPatternRule(ctx, x.authIT, a); err != nil || got != rule {
		t.Fatalf("stored rule: %+v %v", got, err)
	}
	for field, bad := range map[string]cmdb.PatternRule{
		"alpha":         {Alpha: 0.7, MinIncidents: 4, MinDevices: 2},
		"min_incidents": {Alpha: 0.05, MinIncidents: 0, MinDevices: 2},
		"min_devices":   {Alpha: 0.05, MinIncidents: 4, MinDevices: cmdb.MaxPatternCount + 1},
	} {
		if err := x.db.SetPatternRule(ctx, x.authIT, a, bad); cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != field {
			t.Errorf("%+v: %v, want EINVALID on %s", bad, err, field)
		}
	}
	if got, _ := x.db.FindPatternRule(ctx, admin, a); got != rule {
		t.Errorf("a refused rule changed the stored one: %+v", got)
	}
	evs, _, err := x.db.FindAudit(ctx, x.authIT, cmdb.AuditFilter{AuthorityID: a, Action: cmdb.AuditPatternRuleSet, Limit: 10})
	must(t, err)
	if len(evs) != 1 || evs[0].Actor != x.authIT.Subject {
		t.Errorf("audit: %+v", evs)
	}
	for name, err := range map[string]error{
		"find":              second(x.db.FindPatternRule(ctx, otherIT, a)),
		"set":               x.db.SetPatternRule(ctx, otherIT, a, rule),
		"school IT find":    second(x.db.FindPatternRule(ctx, x.schoolIT2, a)),
		"school IT set":     x.db.SetPatternRule(ctx, x.schoolIT2, a, rule),
		"teacher set":       x.db.SetPatternRule(ctx, x.teacher, a, rule),
		"no such authority": x.db.SetPatternRule(ctx, admin, a+1000, rule),
	} {
		if cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			t.Errorf("%s: %v, want not found", name, err)
		}
	}
}

// TestFailurePatterns: a projector model with clearly more incidents per
// device-year than the rest of its class is a pattern, listing its
// devices; a model with a handful of incidents among many devices, at the
// class's rate, is not.
func TestFailurePatterns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "PAT")
	a := x.tn.Authority.ID
	x.clock.set(day(2025, 1, 1)) // in service a year before the window opens
	var obs []cmdb.Observation
	add := func(n int, vendor, model string) {
		for i := range n {
			obs = append(obs, cmdb.Observation{Source: "agent", AuthorityID: a, SchoolID: x.tn.School.ID, Class: "projector",
				Serial: fmt.Sprintf("%s-%s-%d", vendor, model, i), Vendor: vendor,
				Attributes: map[string]string{"model": model, "name": fmt.Sprintf("Beamer %s %d", model, i)}})
		}
	}
	add(4, "Epson", "EB-X1")
	add(20, "BenQ", "MX1")
	add(25, "Acer", "P1")
	res := reconcile(t, x.db, obs...)
	ids := func(from, n int) []int64 {
		var out []int64
		for _, it := range res.Items[from : from+n] {
			out = append(out, it.CIID)
		}
		return out
	}
	epson, benq, acer := ids(0, 4), ids(4, 20), ids(24, 25)
	// One Epson is retired half-way through the window: its time in
	// service ends there.
	x.clock.set(day(2025, 9, 8))
	reconcile(t, x.db, cmdb.Observation{Source: "user:test", CIID: epson[3], Status: "retired"})
	at := day(2026, 1, 1)
	incident := func(ci int64) {
		at = at.Add(time.Hour)
		x.openAt(t, at, cmdb.TicketIncident, "projector/Kein Bild", ci)
	}
	for _, ci := range epson { // 12 incidents on 4 devices
		incident(ci)
		incident(ci)
		incident(ci)
	}
	for _, ci := range benq[:4] { // 4 on 20
		incident(ci)
	}
	for _, ci := range []int64{acer[0], acer[1], acer[1], acer[2], acer[2]} { // 5 on 3 of 25
		incident(ci)
	}
	x.openAt(t, at.Add(time.Hour), cmdb.TicketRequest, "projector/Lampe", acer[3]) // requests never count
	x.clock.set(day(2026, 3, 10))
	got, err := x.db.FindFailurePatterns(ctx, x.authIT, 0)
	must(t, err)
	if len(got) != 1 {
		t.Fatalf("%d patterns, want only Epson EB-X1: %+v", len(got), got)
	}
	p := got[0]
	if p.Vendor != "Epson" || p.Model != "EB-X1" || p.Incidents != 12 || p.Devices != 4 || p.DevicesAffected != 4 ||
		len(p.DeviceList) != 4 || p.DeviceList[0].Incidents != 3 || !(p.Rate > 10*p.ClassRate) || !(p.PValue < 0.01) {
		t.Fatalf("pattern: %+v", p)
	}
	if d := p.DeviceYears; d < 3.45 || d > 3.55 {
		t.Errorf("device-years %.2f, want about 3.5 (a year each, half a year for the retired one)", d)
	}
	for _, d := range p.DeviceList {
		if !slices.Contains(epson, d.CIID) || !strings.HasPrefix(d.Name, "Beamer EB-X1") {
			t.Errorf("device %+v is not one of the model's", d)
		}
	}
	// The authority's own rule decides: asking for 13 incidents the Epson
	// is no pattern, nor asking for 5 devices; asking for 12 on 4 devices
	// at p < 0.001 it is again.
	for _, tc := range []struct {
		rule cmdb.PatternRule
		want []string
	}{
		{cmdb.PatternRule{Alpha: 0.01, MinIncidents: 13, MinDevices: 3}, nil},
		{cmdb.PatternRule{Alpha: 0.001, MinIncidents: 12, MinDevices: 4}, []string{"EB-X1"}},
		{cmdb.PatternRule{Alpha: 0.01, MinIncidents: 5, MinDevices: 5}, nil},
	} {
		must(t, x.db.SetPatternRule(ctx, x.authIT, a, tc.rule))
		got, err := x.db.FindFailurePatterns(ctx, x.authIT, a)
		must(t, err)
		var models []string
		for _, p := range got {
			models = append(models, p.Model)
		}
		if !slices.Equal(models, tc.want) {
			t.Errorf("rule %+v: patterns %v, want %v", tc.rule, models, tc.want)
		}
	}
	// Teachers and school IT see no patterns; admins must name the authority.
	if got, err := x.db.FindFailurePatterns(ctx, x.teacher, 0); err != nil || len(got) != 0 {
		t.Errorf("teacher: %d patterns, %v", len(got), err)
	}
	if _, err := x.db.FindFailurePatterns(ctx, admin, 0); cmdb.ErrorField(err) != "authority_id" {
		t.Errorf("admin without authority: %v", err)
	}
}

// TestTicketMerge: the duplicate is closed pointing at the ticket it went
// into, which gains its reporter as a watcher and its CIs; both say so in
// history and comments; a merged ticket never changes again, and bad
// merges are refused naming the field.
func TestTicketMerge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "MRG")
	otherIT, o := x.otherAuthority(t, "MRX")
	a := x.open(t, x.teacher, "Drucker druckt nicht", x.printer)
	b := x.open(t, x.teacher2, "Drucker im Raum 1.12 kaputt", x.printer, x.projector)
	_, err := x.db.AddTicketWatcher(ctx, x.authIT, b.ID)
	must(t, err)

	if _, err := x.db.MergeTicket(ctx, x.teacher, b.ID, a.ID); cmdb.ErrorCode(err) != cmdb.EFORBIDDEN {
		t.Fatalf("a teacher merges: %v", err)
	}
	if _, err := x.db.MergeTicket(ctx, x.authIT, a.ID, a.ID); cmdb.ErrorField(err) != "into" {
		t.Fatalf("merge into itself: %v", err)
	}
	if _, err := x.db.MergeTicket(ctx, x.authIT, b.ID, o.ID); cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != "into" {
		t.Fatalf("merge into another authority's ticket: %v", err)
	}
	if _, err := x.db.MergeTicket(ctx, admin, b.ID, o.ID); cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != "into" {
		t.Fatalf("admin merges across authorities: %v", err)
	}
	if _, err := x.db.MergeTicket(ctx, otherIT, b.ID, o.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Fatalf("another authority merges our ticket: %v", err)
	}

	into, err := x.db.MergeTicket(ctx, x.authIT, b.ID, a.ID)
	must(t, err)
	if into.ID != a.ID || !slices.Equal(into.CIIDs, sortedInts(x.printer, x.projector)) || into.Watchers != 2 {
		t.Fatalf("target after merge: %+v", into)
	}
	dup, err := x.db.FindTicketByID(ctx, x.authIT, b.ID)
	must(t, err)
	if dup.Status != cmdb.StatusClosed || dup.MergedInto != a.ID || dup.ClosedAt == nil {
		t.Fatalf("duplicate after merge: %+v", dup)
	}
	// Its reporter follows the target now.
	if got, err := x.db.AddTicketWatcher(ctx, x.teacher2, a.ID); err != nil || got.Watchers != 2 {
		t.Fatalf("reporter of the duplicate is not a watcher of the target: %v %+v", err, got)
	}
	for id, want := range map[int64]string{a.ID: "merged", b.ID: "merged_into"} {
		h, err := x.db.FindTicketHistory(ctx, x.authIT, id)
		must(t, err)
		if !slices.ContainsFunc(h, func(e *cmdb.TicketHistoryEntry) bool { return e.Field == want }) {
			t.Errorf("history of %d has no %s", id, want)
		}
		cs, err := x.db.FindTicketComments(ctx, x.teacher, id)
		must(t, err)
		if len(cs) == 0 || !strings.Contains(cs[len(cs)-1].Body, "Duplikat") {
			t.Errorf("ticket %d has no comment on the merge", id)
		}
	}

	// A merged ticket never changes again.
	title := "Neu"
	if _, err := x.db.UpdateTicket(ctx, x.authIT, b.ID, cmdb.TicketUpdate{Title: &title}); cmdb.ErrorCode(err) != cmdb.ECONFLICT {
		t.Errorf("update of a merged ticket: %v", err)
	}
	if err := x.db.AddTicketComment(ctx, x.authIT, &cmdb.TicketComment{TicketID: b.ID, Body: "noch was"}); cmdb.ErrorCode(err) != cmdb.ECONFLICT {
		t.Errorf("comment on a merged ticket: %v", err)
	}
	c := x.open(t, x.teacher, "Noch ein Stau", x.printer)
	if _, err := x.db.MergeTicket(ctx, x.authIT, b.ID, c.ID); cmdb.ErrorCode(err) != cmdb.ECONFLICT || cmdb.ErrorField(err) != "status" {
		t.Errorf("merge of an already merged ticket: %v", err)
	}
	if _, err := x.db.MergeTicket(ctx, x.authIT, c.ID, b.ID); cmdb.ErrorCode(err) != cmdb.ECONFLICT || cmdb.ErrorField(err) != "into" {
		t.Errorf("merge into a merged ticket: %v", err)
	}
	req := &cmdb.Ticket{Type: cmdb.TicketRequest, Title: "Toner bestellen", CategoryID: x.cat["printer/Kein Toner"], Impact: 3, Urgency: 3, CIIDs: []int64{x.printer}}
	_, err = x.db.CreateTicket(ctx, x.authIT, req, "")
	must(t, err)
	if _, err := x.db.MergeTicket(ctx, x.authIT, req.ID, c.ID); cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != "into" {
		t.Errorf("merge of a request into an incident: %v", err)
	}
}

// TestRepeatFailureFollowsRelinking: moving an incident to another
// device takes it off the first one's count at once.
func TestRepeatFailureFollowsRelinking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "REL")
	var last *cmdb.Ticket
	for _, at := range []time.Time{day(2026, 1, 1), day(2026, 2, 1), day(2026, 3, 1)} {
		last = x.openAt(t, at, cmdb.TicketIncident, "general/Sonstiges", x.printer)
	}
	if x.flag(t, x.printer) == nil {
		t.Fatal("three incidents did not flag the printer")
	}
	cis := []int64{x.projector}
	if _, err := x.db.UpdateTicket(ctx, x.authIT, last.ID, cmdb.TicketUpdate{CIIDs: &cis}); err != nil {
		t.Fatal(err)
	}
	if f := x.flag(t, x.printer); f != nil {
		t.Fatalf("the printer keeps its flag after an incident moved away: %+v", f)
	}
	if h := x.repeatHistory(t, x.printer); len(h) != 2 || str(h[1].New) != "" {
		t.Fatalf("history: %+v", h)
	}
}
