package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// dashEnv is an authority with devices in two schools, tickets, supply
// series and poll targets, a second authority beside it, and people.
type dashEnv struct {
	db                         *postgres.DB
	raw                        *sql.DB
	clock                      *ticketClock
	tn, other                  *Tenant
	laptop, bare, desk, p1, p2 int64
	authIT, schoolIT2, teacher cmdb.Scope
	providerIT                 cmdb.Scope
}

func newDashEnv(t *testing.T, code string) *dashEnv {
	t.Helper()
	ctx := context.Background()
	x := &dashEnv{clock: &ticketClock{t: time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)}}
	u := postgrestest.NewDatabase(t)
	db, err := postgres.Open(ctx, u, postgres.Options{Now: x.clock.now})
	must(t, err)
	t.Cleanup(func() { db.Close() })
	raw, err := sql.Open("postgres", u)
	must(t, err)
	t.Cleanup(func() { raw.Close() })
	x.db, x.raw = db, raw
	x.tn, x.other = MustCreateTenant(t, db, code), MustCreateTenant(t, db, code+"X")
	a, s1, s2 := x.tn.Authority.ID, x.tn.School.ID, x.tn.School2.ID
	res := reconcile(t, db,
		cmdb.Observation{Source: "agent", AuthorityID: a, SchoolID: s1, RoomID: x.tn.Room.ID, Class: "laptop", Serial: code + "L1", Vendor: "Dell"},
		cmdb.Observation{Source: "connector:schulamt", AuthorityID: a, SchoolID: s1, RoomID: x.tn.Room.ID, Class: "laptop", Serial: code + "L2", Vendor: "Dell"},
		cmdb.Observation{Source: "connector:schulamt", AuthorityID: a, SchoolID: s2, Class: "desktop", Serial: code + "D1", Vendor: "Fujitsu"},
		cmdb.Observation{Source: "snmp", AuthorityID: a, SchoolID: s1, RoomID: x.tn.Room.ID, Class: "printer", Serial: code + "P1", Vendor: "HP",
			Attributes: map[string]string{"supply.1.level": "12", "supply.1.name": "Schwarzer Toner", "supply.2.level": "80"}},
		cmdb.Observation{Source: "snmp", AuthorityID: a, SchoolID: s2, Class: "printer", Serial: code + "P2", Vendor: "HP",
			Attributes: map[string]string{"supply.1.level": "5"}},
		// The other authority has the same troubles; none of it may show.
		cmdb.Observation{Source: "connector:schulamt", AuthorityID: x.other.Authority.ID, SchoolID: x.other.School.ID, Class: "laptop", Serial: code + "XL"},
		cmdb.Observation{Source: "snmp", AuthorityID: x.other.Authority.ID, SchoolID: x.other.School.ID, Class: "printer", Serial: code + "XP",
			Attributes: map[string]string{"supply.1.level": "3"}})
	x.laptop, x.bare, x.desk, x.p1, x.p2 = res.Items[0].CIID, res.Items[1].CIID, res.Items[2].CIID, res.Items[3].CIID, res.Items[4].CIID
	xp := res.Items[6].CIID
	now := x.clock.now()
	x.exec(t, `UPDATE ci_sources SET last_seen = $2 WHERE ci_id = ANY($1)`, fmt.Sprintf("{%d,%d,%d}", x.bare, x.p2, res.Items[5].CIID), now.AddDate(0, 0, -40))
	// P1's black toner: 8 % before a refill 20 days ago, then 52 % falling
	// by 2 points a day to 12 % now; its second supply is full. P2 has one
	// fresh low level and no use to forecast from.
	x.exec(t, `INSERT INTO ci_metrics (ci_id, name, at, value) VALUES ($1, 'supply.1.percent', $2, 8)`, x.p1, now.AddDate(0, 0, -21))
	for h := 20 * 24; h >= 0; h -= 6 {
		x.exec(t, `INSERT INTO ci_metrics (ci_id, name, at, value) VALUES ($1, 'supply.1.percent', $2, $3)`, x.p1,
			now.Add(-time.Duration(h)*time.Hour), 12+2*float64(h)/24)
	}
	x.exec(t, `INSERT INTO ci_metrics (ci_id, name, at, value) VALUES ($1, 'supply.2.percent', $2, 80), ($3, 'supply.1.percent', $2, 5),
		($4, 'supply.1.percent', $2, 3)`, x.p1, now.Add(-time.Hour), x.p2, xp)
	x.exec(t, `INSERT INTO snmp_targets (authority_id, school_id, address, kind, unreachable, misses) VALUES
		($1, $2, '10.1.0.20', 'snmp', true, 3), ($1, $3, '10.2.0.20', 'pjlink', true, 5), ($1, $3, '10.2.0.21', 'snmp', false, 0),
		($4, $5, '10.9.0.20', 'snmp', true, 3)`, a, s1, s2, x.other.Authority.ID, x.other.School.ID)

	id := mustUser(t, db, "it@"+code+".de", cmdb.Membership{Role: cmdb.RoleAuthorityIT, OrgID: a})
	x.authIT = cmdb.Scope{Subject: fmt.Sprint("user:", id), UserID: id, Authorities: []int64{a}}
	id = mustUser(t, db, "schulit2@"+code+".de", cmdb.Membership{Role: cmdb.RoleSchoolIT, OrgID: s2})
	x.schoolIT2 = cmdb.Scope{Subject: fmt.Sprint("user:", id), UserID: id, Schools: []int64{s2}}
	id = mustUser(t, db, "lehrer@"+code+".de", cmdb.Membership{Role: cmdb.RoleTeacher, OrgID: s1})
	x.teacher = cmdb.Scope{Subject: fmt.Sprint("user:", id), UserID: id, ReadSchools: []int64{s1}}
	p := &cmdb.Provider{Code: code + "-P", Name: "Systemhaus", Authorities: []int64{a}}
	must(t, db.CreateProvider(ctx, admin, p))
	id = mustUser(t, db, "dienst@"+code+".de", cmdb.Membership{Role: cmdb.RoleProvider, OrgID: p.ID})
	x.providerIT = cmdb.Scope{Subject: fmt.Sprint("user:", id), UserID: id, Providers: []int64{p.ID}}

	cats, err := db.FindTicketCategories(ctx, admin, "printer")
	must(t, err)
	open := func(ci int64, impact, urgency int) *cmdb.Ticket {
		tk := &cmdb.Ticket{Type: cmdb.TicketIncident, Title: "Drucker streikt", CategoryID: cats[0].ID, Impact: impact, Urgency: urgency,
			CIIDs: []int64{ci}, Channel: cmdb.ChannelPhone}
		_, err := db.CreateTicket(ctx, admin, tk, "")
		must(t, err)
		return tk
	}
	open(x.p1, 1, 1)
	open(x.p1, 3, 3)
	open(x.p1, 3, 3)
	open(x.p2, 2, 2)
	done := open(x.p2, 3, 3)
	st := cmdb.StatusResolved
	_, err = db.UpdateTicket(ctx, admin, done.ID, cmdb.TicketUpdate{Status: &st})
	must(t, err)
	open(xp, 1, 1)
	return x
}

func (x *dashEnv) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := x.raw.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestDashboardFiguresMatchTheirLists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newDashEnv(t, "DSH")
	// Later the same morning: the most urgent first responses are late.
	x.clock.set(time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC))
	d, err := x.db.Dashboard(ctx, x.authIT, cmdb.DashboardFilter{})
	must(t, err)
	if d.AuthorityID != x.tn.Authority.ID {
		t.Fatalf("authority %d", d.AuthorityID)
	}
	open := 0
	for _, c := range d.OpenTickets {
		open += c.Count
		_, n, err := x.db.FindTickets(ctx, x.authIT, cmdb.TicketFilter{Statuses: []string{"open"}, SchoolID: c.SchoolID, Priority: c.Priority})
		must(t, err)
		if n != c.Count {
			t.Errorf("school %d priority %d: %d on the dashboard, %d in the queue", c.SchoolID, c.Priority, c.Count, n)
		}
	}
	if open != 4 {
		t.Errorf("open tickets %d, want 4: %+v", open, d.OpenTickets)
	}
	_, breached, err := x.db.FindTickets(ctx, x.authIT, cmdb.TicketFilter{SLA: cmdb.SLAFilterBreached})
	must(t, err)
	due, n, err := x.db.FindDueToday(ctx, x.authIT, cmdb.DashboardFilter{})
	must(t, err)
	if d.SLABreached != breached || d.SLABreached == 0 || d.DueToday != n || n != len(due) || n == 0 {
		t.Errorf("breached %d (queue %d), due today %d (list %d)", d.SLABreached, breached, d.DueToday, n)
	}
	for _, tk := range due {
		if !tk.Due.After(x.clock.now()) || tk.Due.After(time.Date(2026, 3, 10, 23, 0, 0, 0, time.UTC)) {
			t.Errorf("%s due %v is not later today", tk.Number, tk.Due)
		}
	}
	want := []cmdb.SourceCount{{Source: "connector:schulamt", Count: 1}, {Source: "snmp", Count: 1}}
	if fmt.Sprint(d.NotSeen) != fmt.Sprint(want) {
		t.Errorf("not seen %+v, want %+v", d.NotSeen, want)
	}
	stale, n, err := x.db.FindNotSeen(ctx, x.authIT, cmdb.DashboardFilter{Source: "snmp"})
	must(t, err)
	if n != 1 || stale[0].CIID != x.p2 || stale[0].School != "Grundschule am Park" {
		t.Errorf("not seen by snmp: %d %+v", n, stale)
	}
	if d.AgentDevices != 3 || d.NoAgent != 2 {
		t.Errorf("agent coverage %d of %d without", d.NoAgent, d.AgentDevices)
	}
	bare, n, err := x.db.FindNoAgent(ctx, x.authIT, cmdb.DashboardFilter{})
	must(t, err)
	if n != 2 || bare[0].CIID == x.laptop || bare[1].CIID == x.laptop {
		t.Errorf("no agent: %+v", bare)
	}
	if d.LowSupplies != 2 || d.Unreachable != 2 {
		t.Errorf("low supplies %d, unreachable %d", d.LowSupplies, d.Unreachable)
	}
	low, n, err := x.db.FindLowSupplies(ctx, x.authIT, cmdb.DashboardFilter{})
	must(t, err)
	// The lowest first: P2 at 5 % (one value, no use to forecast from),
	// then P1's black toner at 12 %.
	if n != 2 || low[0].CIID != x.p2 || low[0].DaysLeft != nil || low[1].CIID != x.p1 || low[1].Supply != "Schwarzer Toner" || low[1].DaysLeft == nil {
		t.Fatalf("low supplies %d: %+v", n, low)
	}
	// 12 % left at 2 points a day since the refill: 6 days.
	if math.Abs(*low[1].PerDay-2) > 0.01 || math.Abs(*low[1].DaysLeft-6) > 0.05 {
		t.Errorf("forecast %.3f a day, %.2f days left", *low[1].PerDay, *low[1].DaysLeft)
	}
	tg, n, err := x.db.FindUnreachable(ctx, x.authIT, cmdb.DashboardFilter{})
	must(t, err)
	if n != 2 || tg[0].School != "Grundschule am Park" || tg[0].Kind != "pjlink" {
		t.Errorf("unreachable %+v", tg)
	}
	// Paging: the total stays, the page is the limit.
	page, n, err := x.db.FindNoAgent(ctx, x.authIT, cmdb.DashboardFilter{Limit: 1, Offset: 1})
	must(t, err)
	if n != 2 || len(page) != 1 || page[0].CIID != bare[1].CIID {
		t.Errorf("page 2 of no agent: %d %+v", n, page)
	}
}

func TestDashboardScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newDashEnv(t, "DSS")
	x.clock.set(time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC))
	// A school IT contact sees their school only, without naming it.
	d, err := x.db.Dashboard(ctx, x.schoolIT2, cmdb.DashboardFilter{})
	must(t, err)
	for _, c := range d.OpenTickets {
		if c.SchoolID != x.tn.School2.ID {
			t.Errorf("school IT sees tickets of school %d", c.SchoolID)
		}
	}
	if len(d.OpenTickets) != 1 || d.NoAgent != 1 || d.LowSupplies != 1 || d.Unreachable != 1 || len(d.NotSeen) != 1 || d.NotSeen[0].Source != "snmp" {
		t.Errorf("school IT's dashboard %+v", d)
	}
	if low, _, err := x.db.FindLowSupplies(ctx, x.schoolIT2, cmdb.DashboardFilter{}); err != nil || len(low) != 1 || low[0].CIID != x.p2 {
		t.Errorf("school IT's low supplies %+v %v", low, err)
	}
	if _, err := x.db.Dashboard(ctx, x.schoolIT2, cmdb.DashboardFilter{SchoolID: x.tn.School.ID}); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("school IT asking for another school: %v", err)
	}
	// Another authority is not found, for the dashboard and every list.
	f := cmdb.DashboardFilter{AuthorityID: x.other.Authority.ID}
	if _, err := x.db.Dashboard(ctx, x.authIT, f); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("another authority's dashboard: %v", err)
	}
	for name, find := range map[string]func() error{
		"not seen":    func() error { _, _, err := x.db.FindNotSeen(ctx, x.authIT, f); return err },
		"no agent":    func() error { _, _, err := x.db.FindNoAgent(ctx, x.authIT, f); return err },
		"supplies":    func() error { _, _, err := x.db.FindLowSupplies(ctx, x.authIT, f); return err },
		"unreachable": func() error { _, _, err := x.db.FindUnreachable(ctx, x.authIT, f); return err },
		"due today":   func() error { _, _, err := x.db.FindDueToday(ctx, x.schoolIT2, f); return err },
		"sources":     func() error { _, err := x.db.FindCISources(ctx, x.schoolIT2, x.p1); return err },
	} {
		if err := find(); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			t.Errorf("%s of another tenant: %v", name, err)
		}
	}
	// Teachers and providers have no dashboard: nothing, not an error.
	for _, s := range []cmdb.Scope{x.teacher, x.providerIT} {
		d, err := x.db.Dashboard(ctx, s, cmdb.DashboardFilter{})
		must(t, err)
		if len(d.OpenTickets) != 0 || d.NoAgent != 0 || d.LowSupplies != 0 || d.Unreachable != 0 || d.SLABreached != 0 {
			t.Errorf("%s sees %+v", s.Subject, d)
		}
		if l, n, err := x.db.FindNoAgent(ctx, s, cmdb.DashboardFilter{}); err != nil || n != 0 || len(l) != 0 {
			t.Errorf("%s sees devices without agent: %v %v", s.Subject, l, err)
		}
	}
	// An admin sees every authority and must choose.
	if _, err := x.db.Dashboard(ctx, admin, cmdb.DashboardFilter{}); cmdb.ErrorField(err) != "authority" {
		t.Errorf("admin without an authority: %v", err)
	}
	if d, err := x.db.Dashboard(ctx, admin, f); err != nil || d.Unreachable != 1 || d.LowSupplies != 1 {
		t.Errorf("admin's view of the other authority: %+v %v", d, err)
	}
	if _, err := x.db.Dashboard(ctx, x.authIT, cmdb.DashboardFilter{Limit: -1}); cmdb.ErrorField(err) != "limit" {
		t.Errorf("bad limit: %v", err)
	}
	if src, err := x.db.FindCISources(ctx, x.authIT, x.bare); err != nil || len(src) != 1 || src[0].Source != "connector:schulamt" {
		t.Errorf("sources of a CI: %+v %v", src, err)
	}
}
