package demo

import (
	"context"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
)

// livedIn counts what the demo's people and tickets left in the store.
type livedIn struct {
	Users, Tickets, Comments, Articles, Services, RepeatFailures int
}

func countLivedIn(t *testing.T, db *postgres.DB, authority int64) livedIn {
	t.Helper()
	ctx := context.Background()
	scope := cmdb.AdminScope("test")
	var l livedIn
	users, err := db.FindUsers(ctx, scope)
	if err != nil {
		t.Fatal(err)
	}
	l.Users = len(users)
	if _, l.Tickets, err = db.FindTickets(ctx, scope, cmdb.TicketFilter{AuthorityID: authority, Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if err := db.SQL().Get(&l.Comments, `SELECT count(*) FROM ticket_comments`); err != nil {
		t.Fatal(err)
	}
	if _, l.Articles, err = db.FindKBArticles(ctx, scope, cmdb.KBFilter{AuthorityID: authority, Limit: 1}); err != nil {
		t.Fatal(err)
	}
	svcs, err := db.FindServices(ctx, scope, cmdb.ServiceFilter{AuthorityID: authority, Inactive: true})
	if err != nil {
		t.Fatal(err)
	}
	l.Services = len(svcs)
	if _, l.RepeatFailures, err = db.FindRepeatFailures(ctx, scope, cmdb.RepeatFailureFilter{AuthorityID: authority, Limit: 1}); err != nil {
		t.Fatal(err)
	}
	return l
}

// checkLivedIn checks what a newcomer should find in the demo after its
// first load: its people, who sign in with the demo password; tickets of
// the past year in every status on every school, some with providers,
// escalated, watched and commented; the repeat-failure printer; the
// pattern projector model; SLA breaches; articles a teacher sees.
func checkLivedIn(t *testing.T, db *postgres.DB, sum *Summary) livedIn {
	t.Helper()
	ctx := context.Background()
	scope := cmdb.AdminScope("test")
	l := countLivedIn(t, db, sum.Authority)
	t.Logf("lived in: %+v", l)
	if l.Users != len(people) || sum.People != len(people) || sum.PeopleCreated != len(people) {
		t.Errorf("users %d, summary %d/%d created; want %d", l.Users, sum.People, sum.PeopleCreated, len(people))
	}
	if l.Tickets < 150 || l.Tickets > 300 || l.Tickets != sum.Tickets || sum.TicketsCreated != sum.Tickets {
		t.Errorf("tickets %d, summary %d (%d created); want 150–300, all created", l.Tickets, sum.Tickets, sum.TicketsCreated)
	}
	if l.Articles != len(articles) || l.Services != len(services) {
		t.Errorf("articles %d, services %d; want %d and %d", l.Articles, l.Services, len(articles), len(services))
	}

	// Everyone signs in with the demo password.
	for _, pd := range []personDef{people[0], people[2], people[7], people[len(people)-1]} {
		if _, _, err := db.SignIn(ctx, pd.Email(), Password, cmdb.RequestMeta{IP: "127.0.0.1"}); err != nil {
			t.Errorf("sign-in of %s: %v", pd.Email(), err)
		}
	}

	ts, _, err := db.FindTickets(ctx, scope, cmdb.TicketFilter{AuthorityID: sum.Authority, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	statuses, bySchool := map[string]int{}, map[int64]bool{}
	var provided, escalated, watched, requests, year int
	for _, tk := range ts {
		statuses[tk.Status]++
		bySchool[tk.SchoolID] = true
		if tk.ProviderID != 0 {
			provided++
		}
		if tk.Level == 3 {
			escalated++
		}
		if tk.Watchers > 0 {
			watched++
		}
		if tk.ServiceID != 0 {
			requests++
		}
		if tk.CreatedAt.After(now) || tk.UpdatedAt.After(now) {
			t.Errorf("%s lies in the future: opened %v, changed %v", tk.Number, tk.CreatedAt, tk.UpdatedAt)
		}
		if tk.CreatedAt.Before(now.AddDate(0, 0, -200)) {
			year++
		}
		if tk.Status == cmdb.StatusResolved && (tk.ResolvedAt == nil || now.Sub(*tk.ResolvedAt) > cmdb.DefaultReopenWindow) {
			t.Errorf("%s resolved at %v: past the window in which it closes itself", tk.Number, tk.ResolvedAt)
		}
	}
	for _, st := range cmdb.TicketStatuses {
		if statuses[st] == 0 {
			t.Errorf("no ticket in status %s: %v", st, statuses)
		}
	}
	if len(bySchool) != len(schools) || provided < 20 || escalated < 2 || watched < 3 || requests < 5 || year < 20 {
		t.Errorf("schools %d, with a provider %d, level 3 %d, watched %d, requests %d, older than 200 days %d",
			len(bySchool), provided, escalated, watched, requests, year)
	}
	t.Logf("statuses %v, with a provider %d, level 3 %d, watched %d, requests %d", statuses, provided, escalated, watched, requests)

	// The numbers run in the order the tickets were opened.
	var disorder int
	if err := db.SQL().Get(&disorder, `SELECT count(*) FROM tickets a JOIN tickets b ON a.authority_id = b.authority_id
		AND split_part(a.number, '-', 3) = split_part(b.number, '-', 3) AND a.number < b.number AND a.created_at > b.created_at
		WHERE a.channel <> 'monitoring'`); err != nil {
		t.Fatal(err)
	}
	if disorder != 0 {
		t.Errorf("%d pairs of tickets numbered against the order they were opened in", disorder)
	}

	// The whole history lies in the past.
	var future int
	if err := db.SQL().Get(&future, `SELECT (SELECT count(*) FROM ticket_comments WHERE created_at > now())
		+ (SELECT count(*) FROM ticket_history WHERE at > now())`); err != nil || future != 0 {
		t.Errorf("%d comments and changes in the future (%v)", future, err)
	}

	// A provider's staff see the tickets assigned to their provider only.
	for _, pd := range providers {
		var staff cmdb.Scope
		var pid int64
		for _, v := range must(db.FindProviders(ctx, scope)) {
			if v.Code == pd.Code {
				pid = v.ID
			}
		}
		staff = cmdb.Scope{Subject: "user:staff", Providers: []int64{pid}}
		mine, n, err := db.FindTickets(ctx, staff, cmdb.TicketFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range mine {
			if tk.ProviderID != pid {
				t.Errorf("%s sees %s of provider %d", pd.Name, tk.Number, tk.ProviderID)
			}
		}
		if n == 0 {
			t.Errorf("%s has no tickets", pd.Name)
		}
	}

	// A teacher sees no internal comment, and the public articles only.
	var teacher cmdb.Scope
	var internal int
	if err := db.SQL().Get(&internal, `SELECT count(*) FROM ticket_comments WHERE internal`); err != nil || internal == 0 {
		t.Errorf("internal comments: %d, %v", internal, err)
	}
	users, _ := db.FindUsers(ctx, scope)
	for _, u := range users {
		if u.Email == people[7].Email() {
			teacher = cmdb.Scope{Subject: "user:teacher", UserID: u.ID, ReadSchools: []int64{u.Memberships[0].OrgID}}
		}
		if (u.Email == "sarah.miller@"+EmailDomain) != (u.Language == "en") && u.Email != "olivia.bennett@"+EmailDomain {
			t.Errorf("%s: language %q", u.Email, u.Language)
		}
	}
	var withNotes []int64
	if err := db.SQL().Select(&withNotes, `SELECT DISTINCT t.id FROM tickets t JOIN ticket_comments c ON c.ticket_id = t.id
		WHERE c.internal AND t.school_id = $1`, teacher.ReadSchools[0]); err != nil || len(withNotes) == 0 {
		t.Errorf("tickets with internal notes in the teacher's school: %v, %v", withNotes, err)
	}
	for _, id := range withNotes {
		cs, err := db.FindTicketComments(ctx, teacher, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.Internal {
				t.Errorf("a teacher sees internal comment %d of ticket %d", c.ID, id)
			}
		}
	}
	as, n, err := db.FindKBArticles(ctx, teacher, cmdb.KBFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var public int
	for _, a := range articles {
		if a.Public {
			public++
		}
	}
	if n != public || len(as) != public {
		t.Errorf("a teacher sees %d articles (%d listed), want the %d public ones", n, len(as), public)
	}
	for _, a := range as {
		if !a.Public {
			t.Errorf("a teacher sees internal article %q", a.Title)
		}
	}
	if as, _, err := db.FindKBArticles(ctx, teacher, cmdb.KBFilter{Query: "Beamer kein Bild", Limit: 10}); err != nil || len(as) == 0 {
		t.Errorf("search Beamer kein Bild: %v, %v", as, err)
	}

	// The repeat-failure printer.
	flagged, _, err := db.FindRepeatFailures(ctx, scope, cmdb.RepeatFailureFilter{AuthorityID: sum.Authority, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var repeat bool
	for _, ci := range flagged {
		t.Logf("repeat failure: %d %s (%s %s): %+v", ci.ID, ci.Name, ci.Vendor, ci.Model, ci.RepeatFailure)
		if ci.RepeatFailure != nil && ci.RepeatFailure.Count >= 4 {
			repeat = true
		}
	}
	if !repeat {
		t.Errorf("no printer flagged with ≥ 4 incidents: %d flagged", len(flagged))
	}

	// The pattern model.
	pats, err := db.FindFailurePatterns(ctx, scope, sum.Authority)
	if err != nil {
		t.Fatal(err)
	}
	var pattern bool
	for _, pt := range pats {
		t.Logf("pattern: %s %s %s: %d incidents on %d of %d devices, p = %.2g", pt.Class, pt.Vendor, pt.Model, pt.Incidents,
			pt.DevicesAffected, pt.Devices, pt.PValue)
		if pt.Class == cmdb.ClassProjector && pt.DevicesAffected >= 3 {
			pattern = true
		}
	}
	if !pattern {
		t.Errorf("no projector model is a pattern: %d patterns", len(pats))
	}

	// SLA breaches.
	breached, nb, err := db.FindTickets(ctx, scope, cmdb.TicketFilter{AuthorityID: sum.Authority, SLA: cmdb.SLAFilterBreached, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if nb < BreachedTickets {
		t.Errorf("%d breached open tickets, want ≥ %d", nb, BreachedTickets)
	}
	for _, tk := range breached {
		if !tk.Open() {
			t.Errorf("%s is %s but listed as breached", tk.Number, tk.Status)
		}
	}
	_, soon, err := db.FindTickets(ctx, scope, cmdb.TicketFilter{AuthorityID: sum.Authority, SLA: cmdb.SLAFilterDueSoon, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d tickets breached, %d due within the hour", nb, soon)
	return l
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
