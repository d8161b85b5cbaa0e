package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

func (x *ticketEnv) problemOf(t *testing.T, id int64) int64 {
	t.Helper()
	tk, err := x.db.FindTicketByID(context.Background(), admin, id)
	must(t, err)
	return tk.ProblemID
}

func (x *ticketEnv) countProblems(t *testing.T) int {
	t.Helper()
	_, n, err := x.db.FindProblems(context.Background(), admin, cmdb.ProblemFilter{})
	must(t, err)
	return n
}

// TestProblemByHand: IT staff group incidents by hand, put tickets in and
// take them out, write down the known error and workaround and move the
// status along the table; every step is in the problem's and the
// tickets' history, and bad input is refused naming the field with
// nothing half-written.
func TestProblemByHand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "PRH")
	t1 := x.open(t, x.teacher, "Drucker druckt nicht", x.printer)
	t2 := x.open(t, x.authIT, "Papierstau schon wieder", x.printer)
	t3 := x.open(t, x.authIT, "Laptop startet nicht", x.ci2)
	otherIT, foreign := x.otherAuthority(t, "PRX")

	p, err := x.db.CreateProblem(ctx, x.authIT, cmdb.NewProblem{Title: " Fixiereinheit HP-Drucker ", TicketIDs: []int64{t1.ID, t2.ID}})
	must(t, err)
	if p.Number != cmdb.ProblemNumber(p.ID) || p.Title != "Fixiereinheit HP-Drucker" || p.Status != cmdb.ProblemOpen ||
		p.Origin != cmdb.OriginManual || p.AuthorityID != x.tn.Authority.ID || !slices.Equal(p.TicketIDs, []int64{t1.ID, t2.ID}) {
		t.Fatalf("created %+v", p)
	}
	if x.problemOf(t, t1.ID) != p.ID || x.problemOf(t, t3.ID) != 0 {
		t.Fatal("the tickets do not name their problem")
	}
	th, err := x.db.FindTicketHistory(ctx, admin, t1.ID)
	must(t, err)
	if last := th[len(th)-1]; last.Field != "problem" || last.New != p.Number || last.Old != "" {
		t.Fatalf("ticket history: %+v", last)
	}

	// Bad input: the field and the rule, and no problem and no link left behind.
	for name, c := range map[string]struct {
		in    cmdb.NewProblem
		code  string
		field string
	}{
		"no title":          {cmdb.NewProblem{Title: " "}, cmdb.EINVALID, "title"},
		"twice":             {cmdb.NewProblem{Title: "x", TicketIDs: []int64{t3.ID, t3.ID}}, cmdb.EINVALID, "ticket_ids[1]"},
		"in another":        {cmdb.NewProblem{Title: "x", TicketIDs: []int64{t3.ID, t1.ID}}, cmdb.ECONFLICT, "ticket_ids[1]"},
		"foreign ticket":    {cmdb.NewProblem{Title: "x", TicketIDs: []int64{t3.ID, foreign.ID}}, cmdb.EINVALID, "ticket_ids[1]"},
		"bad origin":        {cmdb.NewProblem{Title: "x", Origin: "gefühl"}, cmdb.EINVALID, "origin"},
		"ci for manual":     {cmdb.NewProblem{Title: "x", CIID: x.printer}, cmdb.EINVALID, "origin"},
		"repeat, no ci":     {cmdb.NewProblem{Title: "x", Origin: cmdb.OriginRepeatFailure}, cmdb.EINVALID, "ci_id"},
		"pattern, no model": {cmdb.NewProblem{Title: "x", Origin: cmdb.OriginPattern, Vendor: "HP"}, cmdb.EINVALID, "model"},
		"unknown model":     {cmdb.NewProblem{Title: "x", Origin: cmdb.OriginPattern, Vendor: "HP", Model: "Gibt es nicht"}, cmdb.EINVALID, "model"},
		"foreign ci":        {cmdb.NewProblem{Title: "x", Origin: cmdb.OriginRepeatFailure, CIID: foreign.CIIDs[0]}, cmdb.EINVALID, "ci_id"},
		"long window":       {cmdb.NewProblem{Title: "x", WindowDays: 5000}, cmdb.EINVALID, "window_days"},
	} {
		_, err := x.db.CreateProblem(ctx, x.authIT, c.in)
		if cmdb.ErrorCode(err) != c.code || cmdb.ErrorField(err) != c.field {
			t.Errorf("%s: %v, want %s on %s", name, err, c.code, c.field)
		}
	}
	if n := x.countProblems(t); n != 1 || x.problemOf(t, t3.ID) != 0 {
		t.Fatalf("after refused creates: %d problems, t3 in %d", n, x.problemOf(t, t3.ID))
	}

	// Link and unlink.
	p, err = x.db.LinkProblemTicket(ctx, x.authIT, p.ID, t3.ID)
	must(t, err)
	if !slices.Equal(p.TicketIDs, []int64{t1.ID, t2.ID, t3.ID}) {
		t.Fatalf("after link: %v", p.TicketIDs)
	}
	again, err := x.db.LinkProblemTicket(ctx, x.authIT, p.ID, t3.ID)
	must(t, err)
	if len(again.TicketIDs) != 3 {
		t.Fatalf("linking again: %v", again.TicketIDs)
	}
	second, err := x.db.CreateProblem(ctx, x.authIT, cmdb.NewProblem{Title: "Anderes Problem"})
	must(t, err)
	if _, err := x.db.LinkProblemTicket(ctx, x.authIT, second.ID, t3.ID); cmdb.ErrorCode(err) != cmdb.ECONFLICT || cmdb.ErrorField(err) != "ticket" {
		t.Errorf("a ticket into a second problem: %v", err)
	}
	if _, err := x.db.LinkProblemTicket(ctx, x.authIT, p.ID, foreign.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("the other authority's ticket: %v", err)
	}
	p, err = x.db.UnlinkProblemTicket(ctx, x.authIT, p.ID, t2.ID)
	must(t, err)
	if !slices.Equal(p.TicketIDs, []int64{t1.ID, t3.ID}) || x.problemOf(t, t2.ID) != 0 {
		t.Fatalf("after unlink: %v", p.TicketIDs)
	}
	if _, err := x.db.UnlinkProblemTicket(ctx, x.authIT, p.ID, t2.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("unlink a ticket not in it: %v", err)
	}

	// Known error, workaround and status.
	if _, err := x.db.UpdateProblem(ctx, x.authIT, p.ID, cmdb.ProblemUpdate{Status: ptr(cmdb.ProblemKnownError)}); cmdb.ErrorField(err) != "known_error" {
		t.Errorf("known_error without its text: %v", err)
	}
	p, err = x.db.UpdateProblem(ctx, x.authIT, p.ID, cmdb.ProblemUpdate{Status: ptr(cmdb.ProblemKnownError),
		KnownError: ptr("Die Fixiereinheit der Serie überhitzt nach 50.000 Seiten."), Workaround: ptr("Drucker 10 Minuten ausschalten, dann erneut drucken.")})
	must(t, err)
	if p.Status != cmdb.ProblemKnownError || p.Workaround == "" {
		t.Fatalf("after known error: %+v", p)
	}
	if _, err := x.db.UpdateProblem(ctx, x.authIT, p.ID, cmdb.ProblemUpdate{Status: ptr("erledigt")}); cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != "status" {
		t.Errorf("unknown status: %v", err)
	}
	must(t, second2(x.db.UpdateProblem(ctx, x.authIT, p.ID, cmdb.ProblemUpdate{Status: ptr(cmdb.ProblemResolved)})))
	if _, err := x.db.UpdateProblem(ctx, x.authIT, p.ID, cmdb.ProblemUpdate{Status: ptr(cmdb.ProblemKnownError)}); cmdb.ErrorCode(err) != cmdb.ECONFLICT || cmdb.ErrorField(err) != "status" {
		t.Errorf("resolved → known_error: %v", err)
	}
	must(t, second2(x.db.UpdateProblem(ctx, x.authIT, p.ID, cmdb.ProblemUpdate{Status: ptr(cmdb.ProblemClosed)})))
	if _, err := x.db.UpdateProblem(ctx, x.authIT, p.ID, cmdb.ProblemUpdate{Title: ptr("Neu")}); cmdb.ErrorCode(err) != cmdb.ECONFLICT {
		t.Errorf("change of a closed problem: %v", err)
	}
	if _, err := x.db.LinkProblemTicket(ctx, x.authIT, p.ID, t2.ID); cmdb.ErrorCode(err) != cmdb.ECONFLICT {
		t.Errorf("link into a closed problem: %v", err)
	}

	h, err := x.db.FindProblemHistory(ctx, x.authIT, p.ID)
	must(t, err)
	var got []string
	for _, e := range h {
		got = append(got, e.Field+":"+e.Old+">"+e.New)
	}
	want := []string{"created:>manual", "ticket:>" + t1.Number, "ticket:>" + t2.Number, "ticket:>" + t3.Number, "ticket:" + t2.Number + ">",
		"status:open>known_error", "known_error:>Die Fixiereinheit der Serie überhitzt nach 50.000 Seiten.",
		"workaround:>Drucker 10 Minuten ausschalten, dann erneut drucken.", "status:known_error>resolved", "status:resolved>closed"}
	if !slices.Equal(got, want) {
		t.Fatalf("history\n got %q\nwant %q", got, want)
	}

	// Who sees what. School IT of School2 sees the problem through t3,
	// and of its tickets and history only t3; teachers and providers see
	// no problems; the other authority nothing at all.
	s2, err := x.db.FindProblemByID(ctx, x.schoolIT2, p.ID)
	must(t, err)
	if !slices.Equal(s2.TicketIDs, []int64{t3.ID}) {
		t.Fatalf("school IT sees tickets %v", s2.TicketIDs)
	}
	if _, n, _ := x.db.FindProblems(ctx, x.schoolIT2, cmdb.ProblemFilter{}); n != 1 {
		t.Errorf("school IT lists %d problems, want the one with its ticket", n)
	}
	h2, err := x.db.FindProblemHistory(ctx, x.schoolIT2, p.ID)
	must(t, err)
	for _, e := range h2 {
		if e.Field == "ticket" && e.TicketID != t3.ID {
			t.Errorf("school IT sees another school's ticket in the history: %+v", e)
		}
	}
	if _, err := x.db.UpdateProblem(ctx, x.schoolIT2, second.ID, cmdb.ProblemUpdate{Title: ptr("x")}); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("school IT changes a problem without its tickets: %v", err)
	}
	must(t, second2(x.db.LinkProblemTicket(ctx, x.authIT, second.ID, t2.ID)))
	if _, err := x.db.LinkProblemTicket(ctx, x.schoolIT2, p.ID, t3.ID); cmdb.ErrorCode(err) != cmdb.EFORBIDDEN {
		t.Errorf("school IT links: %v", err)
	}
	if _, err := x.db.CreateProblem(ctx, x.schoolIT2, cmdb.NewProblem{Title: "x", AuthorityID: x.tn.Authority.ID}); cmdb.ErrorCode(err) != cmdb.EFORBIDDEN {
		t.Errorf("school IT creates: %v", err)
	}
	for name, s := range map[string]cmdb.Scope{"teacher": x.teacher, "provider": x.providerIT, "other authority": otherIT} {
		if _, err := x.db.FindProblemByID(ctx, s, p.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			t.Errorf("%s: find %v", name, err)
		}
		if _, err := x.db.FindProblemHistory(ctx, s, p.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			t.Errorf("%s: history %v", name, err)
		}
		if _, err := x.db.UpdateProblem(ctx, s, second.ID, cmdb.ProblemUpdate{Title: ptr("x")}); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			t.Errorf("%s: update %v", name, err)
		}
		if _, err := x.db.UnlinkProblemTicket(ctx, s, second.ID, t2.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			t.Errorf("%s: unlink %v", name, err)
		}
		if list, n, err := x.db.FindProblems(ctx, s, cmdb.ProblemFilter{}); err != nil || n != 0 || len(list) != 0 {
			t.Errorf("%s: lists %d problems (%v)", name, n, err)
		}
	}
	if _, err := x.db.CreateProblem(ctx, otherIT, cmdb.NewProblem{Title: "x", AuthorityID: x.tn.Authority.ID}); cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != "authority_id" {
		t.Errorf("the other authority opens a problem here: %v", err)
	}
	if _, err := x.db.CreateProblem(ctx, x.teacher, cmdb.NewProblem{Title: "x", TicketIDs: []int64{t1.ID}}); cmdb.ErrorCode(err) != cmdb.EFORBIDDEN {
		t.Errorf("a teacher opens a problem from their own ticket: %v", err)
	}
	// The filter.
	open, n, err := x.db.FindProblems(ctx, x.authIT, cmdb.ProblemFilter{Status: cmdb.ProblemOpen})
	must(t, err)
	if n != 1 || open[0].ID != second.ID || !slices.Equal(open[0].TicketIDs, []int64{t2.ID}) {
		t.Errorf("open problems: %d", n)
	}
	if _, _, err := x.db.FindProblems(ctx, x.authIT, cmdb.ProblemFilter{Origin: "zufall"}); cmdb.ErrorField(err) != "origin" {
		t.Errorf("bad origin filter: %v", err)
	}
}

func second2[T any](_ T, err error) error { return err }

// TestProblemFromRepeatFailure: a problem opened on a flagged CI groups
// exactly the incidents the flag counts: not requests, not incidents
// outside the window, a merged duplicate once.
func TestProblemFromRepeatFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "PRR")
	old := x.openAt(t, day(2024, 11, 1), cmdb.TicketIncident, "printer/Papierstau", x.printer)
	a := x.openAt(t, day(2025, 6, 1), cmdb.TicketIncident, "printer/Papierstau", x.printer)
	b := x.openAt(t, day(2025, 9, 1), cmdb.TicketIncident, "printer/Kein Toner", x.printer)
	dup := x.openAt(t, day(2025, 9, 2), cmdb.TicketIncident, "printer/Kein Toner", x.printer)
	must(t, second2(x.db.MergeTicket(ctx, x.authIT, dup.ID, b.ID)))
	req := x.openAt(t, day(2025, 10, 1), cmdb.TicketRequest, "printer/Sonstiges", x.printer)
	c := x.openAt(t, day(2026, 1, 10), cmdb.TicketIncident, "printer/Druckt nicht", x.printer)
	elsewhere := x.openAt(t, day(2026, 1, 11), cmdb.TicketIncident, "projector/Kein Bild", x.projector)
	f := x.flag(t, x.printer)
	if f == nil {
		t.Fatal("the printer is not flagged")
	}
	p, err := x.db.CreateProblem(ctx, x.authIT, cmdb.NewProblem{Title: "HP-Drucker Raum 1.12 fällt immer wieder aus",
		Origin: cmdb.OriginRepeatFailure, CIID: x.printer, KnownError: "Verschlissene Einzugsrollen"})
	must(t, err)
	if p.Origin != cmdb.OriginRepeatFailure || p.OriginCIID != x.printer || !slices.Equal(p.TicketIDs, []int64{a.ID, b.ID, c.ID}) {
		t.Fatalf("problem %+v; flag %v", p, f.Tickets)
	}
	var numbers []string
	for _, id := range p.TicketIDs {
		tk, err := x.db.FindTicketByID(ctx, admin, id)
		must(t, err)
		numbers = append(numbers, tk.Number)
	}
	if !slices.Equal(numbers, f.Tickets) {
		t.Errorf("the problem groups %v, the flag names %v", numbers, f.Tickets)
	}
	for _, tk := range []*cmdb.Ticket{old, dup, req, elsewhere} {
		if x.problemOf(t, tk.ID) != 0 {
			t.Errorf("ticket %s was grouped", tk.Number)
		}
	}
	// A second problem on the same CI finds nothing left to group.
	p2, err := x.db.CreateProblem(ctx, x.authIT, cmdb.NewProblem{Title: "Noch einmal", Origin: cmdb.OriginRepeatFailure, CIID: x.printer})
	must(t, err)
	if len(p2.TicketIDs) != 0 {
		t.Errorf("second problem took %v", p2.TicketIDs)
	}
	if got, _, err := x.db.FindProblems(ctx, x.authIT, cmdb.ProblemFilter{Origin: cmdb.OriginRepeatFailure}); err != nil || len(got) != 2 {
		t.Errorf("by origin: %d, %v", len(got), err)
	}
}

// TestProblemFromFailurePattern: the vendor and model listed at
// /failure-patterns open a problem that groups that model's incidents in
// the authority, however the model is spelt on the devices.
func TestProblemFromFailurePattern(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "PRP")
	a := x.tn.Authority.ID
	x.clock.set(day(2025, 1, 1))
	var obs []cmdb.Observation
	add := func(n int, vendor, model string) {
		for range n {
			obs = append(obs, cmdb.Observation{Source: "agent", AuthorityID: a, SchoolID: x.tn.School.ID, Class: "projector",
				Serial: fmt.Sprintf("PRP-%d", len(obs)), Vendor: vendor, Attributes: map[string]string{"model": model}})
		}
	}
	add(2, "Epson", "EB-X1")
	add(2, "EPSON", "eb-x1 ") // the same model, spelt otherwise by another source
	add(20, "BenQ", "MX1")
	res := reconcile(t, x.db, obs...)
	at := day(2026, 1, 1)
	var epson []int64
	for i, it := range res.Items {
		n := 3
		if i >= 4 {
			n = 0
			if i < 6 {
				n = 1
			}
		}
		for range n {
			at = at.Add(time.Hour)
			tk := x.openAt(t, at, cmdb.TicketIncident, "projector/Kein Bild", it.CIID)
			if i < 4 {
				epson = append(epson, tk.ID)
			}
		}
	}
	x.clock.set(day(2026, 3, 10))
	patterns, err := x.db.FindFailurePatterns(ctx, x.authIT, 0)
	must(t, err)
	if len(patterns) != 1 {
		t.Fatalf("%d patterns: %+v", len(patterns), patterns)
	}
	pat := patterns[0]
	p, err := x.db.CreateProblem(ctx, x.authIT, cmdb.NewProblem{Title: "Epson EB-X1: Bild fällt aus", Origin: cmdb.OriginPattern,
		Vendor: pat.Vendor, Model: pat.Model, Workaround: "Eingang am Beamer auf HDMI 1 stellen."})
	must(t, err)
	if p.Origin != cmdb.OriginPattern || p.OriginModel != pat.Model || !slices.Equal(p.TicketIDs, epson) {
		t.Fatalf("problem %+v, want the %d Epson incidents %v", p, len(epson), epson)
	}
}
