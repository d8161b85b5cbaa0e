package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
)

var berlin = func() *time.Location {
	l, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return l
}()

// at is a wall-clock time in Berlin.
func at(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, berlin)
}

// openPrio opens a ticket on the printer for a teacher with impact ×
// urgency (1 × 1 is priority 1: 30 min first response, 4 h resolve).
func (x *ticketEnv) openPrio(t *testing.T, title string, impact, urgency int) *cmdb.Ticket {
	t.Helper()
	tk := &cmdb.Ticket{Type: cmdb.TicketIncident, Title: title, CategoryID: x.cat["printer/Papierstau"], Impact: impact, Urgency: urgency,
		CIIDs: []int64{x.printer}}
	must(t, ok2(x.db.CreateTicket(context.Background(), x.teacher, tk, "")))
	return tk
}

func ok2(_ bool, err error) error { return err }

func wantTime(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil || !got.Equal(want) {
		t.Errorf("%s = %v, want %s", what, got, want.Format("Mon 2006-01-02 15:04 MST"))
	}
}

func (x *ticketEnv) reload(t *testing.T, id int64) *cmdb.Ticket {
	t.Helper()
	tk, err := x.db.FindTicketByID(context.Background(), x.authIT, id)
	must(t, err)
	return tk
}

// TestSLADueTimesAcrossHolidays: a ticket opened on the Thursday before
// Easter is due after Good Friday, the weekend and Easter Monday (NW, the
// default calendar: weekdays 07:30–16:00); a new priority moves the due
// times.
func TestSLADueTimesAcrossHolidays(t *testing.T) {
	t.Parallel()
	x := newTicketEnv(t, "SLAH")
	x.clock.set(at(2026, 4, 2, 15, 0))
	tk := x.openPrio(t, "Beamer aus", 1, 1)
	if tk.SLA == nil || tk.SLA.State != cmdb.SLADueSoon { // the first response in 30 minutes
		t.Fatalf("sla %+v", tk.SLA)
	}
	wantTime(t, "first response due", tk.SLA.FirstResponseDue, at(2026, 4, 2, 15, 30))
	// 1 h on Thursday; Friday 3 and Monday 6 April are holidays: 3 h on Tuesday.
	wantTime(t, "resolve due", tk.SLA.ResolveDue, at(2026, 4, 7, 10, 30))
	// Priority 5 (16 h, 80 h): 1 h Thursday, 8.5 h Tuesday, 6.5 h Wednesday.
	up, err := x.db.UpdateTicket(context.Background(), x.authIT, tk.ID, cmdb.TicketUpdate{Impact: ptr(3), Urgency: ptr(3)})
	must(t, err)
	if up.Priority != 5 {
		t.Fatalf("priority %d", up.Priority)
	}
	wantTime(t, "first response due at priority 5", up.SLA.FirstResponseDue, at(2026, 4, 8, 14, 0))
	if !up.SLA.ResolveDue.After(*tk.SLA.ResolveDue) {
		t.Errorf("resolve due %v did not move later", up.SLA.ResolveDue)
	}
}

// TestSLAWaitingPausesTheClock: each wait shifts the resolve due time by
// the business time it lasted; while waiting there is no due time; a
// ticket resolved in time is met.
func TestSLAWaitingPausesTheClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "SLAW")
	x.clock.set(at(2026, 3, 10, 9, 0)) // a Tuesday
	tk := x.openPrio(t, "Drucker druckt nicht", 1, 1)
	wantTime(t, "resolve due", tk.SLA.ResolveDue, at(2026, 3, 10, 13, 0))
	status := func(hh, mm int, st string) *cmdb.Ticket {
		t.Helper()
		x.clock.set(at(2026, 3, 10, hh, mm))
		got, err := x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Status: ptr(st)})
		must(t, err)
		return got
	}
	w := status(9, 10, cmdb.StatusWaiting)
	if w.SLA.State != cmdb.SLAPaused || w.SLA.ResolveDue != nil {
		t.Fatalf("waiting: %+v", w.SLA)
	}
	// Leaving new by staff was the first response, in time.
	wantTime(t, "first response at", w.SLA.FirstResponseAt, at(2026, 3, 10, 9, 10))
	r := status(11, 10, cmdb.StatusInProgress)
	wantTime(t, "resolve due after 2 h waiting", r.SLA.ResolveDue, at(2026, 3, 10, 15, 0))
	status(12, 0, cmdb.StatusWaiting)
	r = status(13, 0, cmdb.StatusInProgress)
	wantTime(t, "resolve due after a second hour waiting", r.SLA.ResolveDue, at(2026, 3, 10, 16, 0))
	done := status(15, 30, cmdb.StatusResolved)
	x.clock.set(at(2026, 3, 11, 12, 0)) // long after the due time
	if got := x.reload(t, tk.ID); got.SLA.State != cmdb.SLAMet {
		t.Errorf("resolved in time, next day: %s (%+v)", got.SLA.State, done.SLA)
	}
	// Reopened the next morning: the resolved span does not count, so 30
	// minutes are left from the reopen.
	x.clock.set(at(2026, 3, 11, 8, 0))
	re, err := x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusInProgress)})
	must(t, err)
	wantTime(t, "resolve due after a reopen", re.SLA.ResolveDue, at(2026, 3, 11, 8, 30))
}

// TestSLAFiltersAndMetrics: with a fixed clock, sla=breached and
// sla=due_soon find the right open tickets, the ticket JSON says the same,
// bad values name the field, and the gauges count them.
func TestSLAFiltersAndMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "SLAF")
	reg := prometheus.NewRegistry()
	postgres.RegisterSLAMetrics(x.db, reg)
	x.clock.set(at(2026, 3, 10, 9, 0))
	late := x.openPrio(t, "Kein Bild", 1, 1) // first response due 09:30
	x.clock.set(at(2026, 3, 10, 9, 40))
	soon := x.openPrio(t, "Papierstau", 1, 1)      // due 10:10
	calm := x.openPrio(t, "Toner fast leer", 3, 3) // priority 5: days
	answered := x.openPrio(t, "Druckt schief", 1, 1)
	must(t, x.db.AddTicketComment(ctx, x.authIT, &cmdb.TicketComment{TicketID: answered.ID, Body: "Wir schauen es uns an."}))
	x.clock.set(at(2026, 3, 10, 9, 45))
	find := func(v string) []string {
		t.Helper()
		ts, n, err := x.db.FindTickets(ctx, x.authIT, cmdb.TicketFilter{SLA: v})
		must(t, err)
		if n != len(ts) {
			t.Errorf("sla=%s: total %d, %d items", v, n, len(ts))
		}
		return ticketNumbers(ts)
	}
	if got := find("breached"); fmt.Sprint(got) != fmt.Sprint([]string{late.Number + "/new"}) {
		t.Errorf("breached: %v, want %s", got, late.Number)
	}
	// answered: first response given at 09:40, resolve due 13:40 — not soon.
	if got := find("due_soon"); fmt.Sprint(got) != fmt.Sprint([]string{soon.Number + "/new"}) {
		t.Errorf("due soon: %v, want %s", got, soon.Number)
	}
	for tk, want := range map[*cmdb.Ticket]string{late: cmdb.SLABreached, soon: cmdb.SLADueSoon, calm: cmdb.SLAOK, answered: cmdb.SLAOK} {
		if got := x.reload(t, tk.ID).SLA.State; got != want {
			t.Errorf("%s: state %s, want %s", tk.Title, got, want)
		}
	}
	wantTime(t, "first response at", x.reload(t, answered.ID).SLA.FirstResponseAt, at(2026, 3, 10, 9, 40))
	if _, _, err := x.db.FindTickets(ctx, x.authIT, cmdb.TicketFilter{SLA: "overdue"}); cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != "sla" {
		t.Errorf("sla=overdue: %v", err)
	}
	// A teacher's comment is no first response; the ticket stays breached.
	must(t, x.db.AddTicketComment(ctx, x.teacher, &cmdb.TicketComment{TicketID: late.ID, Body: "Ist schon jemand dran?"}))
	if got := x.reload(t, late.ID).SLA; got.State != cmdb.SLABreached || got.FirstResponseAt != nil {
		t.Errorf("after a teacher's comment: %+v", got)
	}
	fams, err := reg.Gather()
	must(t, err)
	got := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			lbl := map[string]string{}
			for _, l := range m.GetLabel() {
				lbl[l.GetName()] = l.GetValue()
			}
			if lbl["authority"] == "SLAF" && m.GetGauge().GetValue() != 0 {
				got[f.GetName()+"/"+lbl["priority"]] = m.GetGauge().GetValue()
			}
		}
	}
	want := map[string]float64{"cmdb_tickets_sla_breached/1": 1, "cmdb_tickets_sla_due_soon/1": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("gauges %v, want %v", got, want)
	}
}

// TestSLAWarningsOncePerDueTime: the job warns when 80 % of a target has
// passed, once; a new priority makes a new due time and so a new warning.
func TestSLAWarningsOncePerDueTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "SLAJ")
	x.clock.set(at(2026, 3, 10, 9, 0))
	tk := x.openPrio(t, "Beamer flackert", 1, 1) // warn at 09:24 and 12:12
	warn := func(hh, mm, want int) {
		t.Helper()
		x.clock.set(at(2026, 3, 10, hh, mm))
		n, err := x.db.WarnSLA(ctx)
		must(t, err)
		if n != want {
			t.Errorf("%02d:%02d: %d warnings, want %d", hh, mm, n, want)
		}
	}
	warn(9, 20, 0)
	warn(9, 25, 1)
	warn(9, 26, 0)
	warn(12, 15, 1) // the resolve warning; the first response one was given
	warn(12, 16, 0)
	// Priority 2 (1 h / 8 h): its first response warning (09:48) is due now.
	_, err := x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Urgency: ptr(2)})
	must(t, err)
	warn(12, 17, 1)
	hist, err := x.db.FindTicketHistory(ctx, x.authIT, tk.ID)
	must(t, err)
	var got []string
	for _, h := range hist {
		if h.Field == "sla_warning" {
			got = append(got, h.Subject+" "+h.New)
		}
	}
	if want := "[system:sla first_response system:sla resolve system:sla first_response]"; fmt.Sprint(got) != want {
		t.Errorf("history %v, want %s", got, want)
	}
}

// TestSLASettingsScopeAndValidation: authority IT reads the default
// calendar (NW) and targets and changes them, which moves the due times
// of open tickets; bad values name the field; other roles and other
// authorities get not found.
func TestSLASettingsScopeAndValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "SLAS")
	other := MustCreateTenant(t, x.db, "SLAO")
	a := x.tn.Authority.ID
	c, err := x.db.FindCalendar(ctx, x.authIT, a)
	must(t, err)
	if c.State != cmdb.StateNW || len(c.Week[1]) != 1 || c.TimeZone != "Europe/Berlin" {
		t.Fatalf("default calendar %+v", c)
	}
	for name, s := range map[string]cmdb.Scope{"teacher": x.teacher, "provider": x.providerIT, "school IT": x.schoolIT2} {
		if _, err := x.db.FindCalendar(ctx, s, a); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			t.Errorf("%s reads the calendar: %v", name, err)
		}
		if err := x.db.SetSLATargets(ctx, s, a, cmdb.DefaultSLATargets()); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			t.Errorf("%s sets targets: %v", name, err)
		}
	}
	if _, err := x.db.FindCalendar(ctx, x.authIT, other.Authority.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("another authority's calendar: %v", err)
	}
	if err := x.db.SetCalendar(ctx, x.authIT, other.Authority.ID, cmdb.DefaultCalendar(cmdb.StateBY)); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("setting another authority's calendar: %v", err)
	}
	if _, err := x.db.FindCalendarDays(ctx, x.authIT, other.Authority.ID, 2026); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("another authority's holidays: %v", err)
	}
	bad := cmdb.DefaultCalendar("XX")
	if err := x.db.SetCalendar(ctx, x.authIT, a, bad); cmdb.ErrorField(err) != "state" {
		t.Errorf("state XX: %v", err)
	}
	tg := cmdb.DefaultSLATargets()
	tg.Priority[1].Resolve = time.Minute
	if err := x.db.SetSLATargets(ctx, x.authIT, a, tg); cmdb.ErrorField(err) != "priority[2].resolve" {
		t.Errorf("resolve before first response: %v", err)
	}

	// An open ticket on a Tuesday, then the authority closes that Tuesday
	// afternoon's Wednesday and halves priority 1's resolve target.
	x.clock.set(at(2026, 3, 10, 14, 0))
	tk := x.openPrio(t, "Netzwerk weg", 1, 1)
	wantTime(t, "resolve due", tk.SLA.ResolveDue, at(2026, 3, 11, 9, 30)) // 2 h Tuesday, 1.5 h + 30 min Wednesday
	cal := cmdb.DefaultCalendar(cmdb.StateBY)
	cal.Closed = []cmdb.ClosedDays{{From: cmdb.MakeDate(2026, 3, 11), To: cmdb.MakeDate(2026, 3, 11), Name: "Betriebsausflug"},
		{From: cmdb.MakeDate(2026, 12, 28), To: cmdb.MakeDate(2027, 1, 5), Name: "Weihnachtsferien"}}
	must(t, x.db.SetCalendar(ctx, x.authIT, a, cal))
	wantTime(t, "resolve due, Wednesday closed", x.reload(t, tk.ID).SLA.ResolveDue, at(2026, 3, 12, 9, 30))
	tg = cmdb.DefaultSLATargets()
	tg.Priority[0].Resolve = 3 * time.Hour
	must(t, x.db.SetSLATargets(ctx, x.authIT, a, tg))
	wantTime(t, "resolve due, 3 h target", x.reload(t, tk.ID).SLA.ResolveDue, at(2026, 3, 12, 8, 30))
	gotT, err := x.db.FindSLATargets(ctx, x.authIT, a)
	must(t, err)
	if gotT.Priority[0].Resolve != 3*time.Hour || gotT.WarnFraction != 0.8 {
		t.Errorf("targets %+v", gotT)
	}

	days, err := x.db.FindCalendarDays(ctx, x.authIT, a, 2026)
	must(t, err)
	have := map[string]string{}
	for _, d := range days {
		have[d.Date.String()] = d.Kind + " " + d.Name
	}
	for date, want := range map[string]string{"2026-01-06": "holiday Heilige Drei Könige", "2026-04-03": "holiday Karfreitag",
		"2026-06-04": "holiday Fronleichnam", "2026-03-11": "closed Betriebsausflug", "2026-12-31": "closed Weihnachtsferien",
		"2026-12-25": "holiday 1. Weihnachtstag"} {
		if have[date] != want {
			t.Errorf("%s: %q, want %q", date, have[date], want)
		}
	}
	if _, ok := have["2027-01-01"]; ok || len(days) != len(have) {
		t.Errorf("days outside 2026 or twice: %v", days)
	}
	if _, err := x.db.FindCalendarDays(ctx, x.authIT, a, 1200); cmdb.ErrorField(err) != "year" {
		t.Errorf("year 1200: %v", err)
	}
}
