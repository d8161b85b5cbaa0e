package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// ticketClock is a settable clock for ticket tests.
type ticketClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *ticketClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *ticketClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// ticketEnv is a tenant with CIs, categories and people in every role.
type ticketEnv struct {
	db                      *postgres.DB
	clock                   *ticketClock
	tn                      *Tenant
	printer, projector, ci2 int64 // printer and projector in School, ci2 (a laptop) in School2
	cat                     map[string]int64
	provider, provider2     int64
	teacher, teacher2       cmdb.Scope // teacher2 is a colleague at the same school
	schoolIT2, authIT       cmdb.Scope
	providerIT              cmdb.Scope
}

func mustUser(tb testing.TB, db *postgres.DB, email string, m cmdb.Membership) int64 {
	tb.Helper()
	u := &cmdb.User{Email: email, Memberships: []cmdb.Membership{m}}
	must(tb, db.CreateUser(context.Background(), admin, u, ""))
	return u.ID
}

func newTicketEnv(t *testing.T, code string) *ticketEnv {
	t.Helper()
	return newTicketEnvWith(t, code, postgres.Options{})
}

// newTicketEnvWith is newTicketEnv with store options (its clock is the
// env's).
func newTicketEnvWith(t *testing.T, code string, opts postgres.Options) *ticketEnv {
	t.Helper()
	ctx := context.Background()
	clock := &ticketClock{t: time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)}
	opts.Now = clock.now
	db := postgrestest.MustOpenDB(t, opts)
	x := &ticketEnv{db: db, clock: clock, tn: MustCreateTenant(t, db, code), cat: map[string]int64{}}
	res := reconcile(t, db,
		cmdb.Observation{Source: "agent", AuthorityID: x.tn.Authority.ID, SchoolID: x.tn.School.ID, RoomID: x.tn.Room.ID, Class: "printer", Serial: code + "P1", Vendor: "HP"},
		cmdb.Observation{Source: "agent", AuthorityID: x.tn.Authority.ID, SchoolID: x.tn.School.ID, RoomID: x.tn.Room.ID, Class: "projector", Serial: code + "B1", Vendor: "Epson"},
		cmdb.Observation{Source: "agent", AuthorityID: x.tn.Authority.ID, SchoolID: x.tn.School2.ID, Class: "laptop", Serial: code + "L1", Vendor: "Dell"})
	x.printer, x.projector, x.ci2 = res.Items[0].CIID, res.Items[1].CIID, res.Items[2].CIID
	cats, err := db.FindTicketCategories(ctx, admin, "")
	must(t, err)
	for _, c := range cats {
		x.cat[c.Class+"/"+c.Name] = c.ID
	}
	for i, dst := range []*int64{&x.provider, &x.provider2} {
		p := &cmdb.Provider{Code: fmt.Sprintf("%s-P%d", code, i), Name: "Systemhaus", Authorities: []int64{x.tn.Authority.ID}}
		must(t, db.CreateProvider(ctx, admin, p))
		*dst = p.ID
	}
	a := x.tn.Authority.ID
	id := mustUser(t, db, "lehrer@"+code+".de", cmdb.Membership{Role: cmdb.RoleTeacher, OrgID: x.tn.School.ID})
	x.teacher = cmdb.Scope{Subject: "user:" + fmt.Sprint(id), UserID: id, ReadSchools: []int64{x.tn.School.ID}}
	id = mustUser(t, db, "kollegin@"+code+".de", cmdb.Membership{Role: cmdb.RoleTeacher, OrgID: x.tn.School.ID})
	x.teacher2 = cmdb.Scope{Subject: "user:" + fmt.Sprint(id), UserID: id, ReadSchools: []int64{x.tn.School.ID}}
	id = mustUser(t, db, "schulit2@"+code+".de", cmdb.Membership{Role: cmdb.RoleSchoolIT, OrgID: x.tn.School2.ID})
	x.schoolIT2 = cmdb.Scope{Subject: "user:" + fmt.Sprint(id), UserID: id, Schools: []int64{x.tn.School2.ID}}
	id = mustUser(t, db, "it@"+code+".de", cmdb.Membership{Role: cmdb.RoleAuthorityIT, OrgID: a})
	x.authIT = cmdb.Scope{Subject: "user:" + fmt.Sprint(id), UserID: id, Authorities: []int64{a}}
	id = mustUser(t, db, "dienst@"+code+".de", cmdb.Membership{Role: cmdb.RoleProvider, OrgID: x.provider})
	x.providerIT = cmdb.Scope{Subject: "user:" + fmt.Sprint(id), UserID: id, Providers: []int64{x.provider}}
	return x
}

func (x *ticketEnv) open(t *testing.T, s cmdb.Scope, title string, cis ...int64) *cmdb.Ticket {
	t.Helper()
	tk := &cmdb.Ticket{Type: cmdb.TicketIncident, Title: title, CategoryID: x.cat["printer/Papierstau"], Impact: 3, Urgency: 2, CIIDs: cis}
	if len(cis) == 1 && cis[0] == x.ci2 {
		tk.CategoryID = x.cat["laptop/Startet nicht"]
	}
	created, err := x.db.CreateTicket(context.Background(), s, tk, "")
	must(t, err)
	if !created {
		t.Fatal("not created")
	}
	return tk
}

func TestTicketCreateIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "IDEM")
	mk := func() *cmdb.Ticket {
		return &cmdb.Ticket{Type: cmdb.TicketIncident, Title: "Papierstau im Lehrerzimmer", CategoryID: x.cat["printer/Papierstau"],
			Impact: 2, Urgency: 1, CIIDs: []int64{x.printer}, Channel: cmdb.ChannelPortal}
	}
	first := mk()
	created, err := x.db.CreateTicket(ctx, x.teacher, first, "klick-1")
	must(t, err)
	if !created || first.Number != "IDEM-2026-00001" || first.Priority != 2 || first.Status != cmdb.StatusNew ||
		first.SchoolID != x.tn.School.ID || first.ReporterUserID != x.teacher.UserID || first.Category != "Papierstau" {
		t.Fatalf("first ticket: created %v, %+v", created, first)
	}
	again := mk()
	created, err = x.db.CreateTicket(ctx, x.teacher, again, "klick-1")
	must(t, err)
	if created || again.ID != first.ID || again.Number != first.Number {
		t.Fatalf("the retried request made ticket %s (created %v), want %s again", again.Number, created, first.Number)
	}
	// The same key with another request is refused, not answered with the first ticket.
	changed := mk()
	changed.Title = "Etwas ganz anderes"
	if _, err := x.db.CreateTicket(ctx, x.teacher, changed, "klick-1"); cmdb.ErrorCode(err) != cmdb.ECONFLICT || cmdb.ErrorField(err) != "Idempotency-Key" {
		t.Fatalf("same key, other request: %v", err)
	}
	// Another key, or another person with the same key: new tickets.
	other := mk()
	ok(t)(x.db.CreateTicket(ctx, x.teacher, other, "klick-2"))
	colleague := mk()
	ok(t)(x.db.CreateTicket(ctx, x.teacher2, colleague, "klick-1"))
	if other.ID == first.ID || colleague.ID == first.ID || colleague.Number != "IDEM-2026-00003" {
		t.Fatalf("other key %s, colleague %s", other.Number, colleague.Number)
	}
	_, n, err := x.db.FindTickets(ctx, admin, cmdb.TicketFilter{})
	must(t, err)
	if n != 3 {
		t.Fatalf("%d tickets, want 3", n)
	}
	// Concurrent double clicks make one ticket.
	var wg sync.WaitGroup
	ids := make([]int64, 4)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk := mk()
			if _, err := x.db.CreateTicket(ctx, x.teacher, tk, "doppelklick"); err != nil {
				t.Error(err)
			}
			ids[i] = tk.ID
		}()
	}
	wg.Wait()
	if ids[0] == 0 || ids[0] != ids[1] || ids[1] != ids[2] || ids[2] != ids[3] {
		t.Fatalf("concurrent retries made tickets %v", ids)
	}
}

// ok returns a check that the error of a call is nil: ok(t)(db.Create(…)).
func ok(tb testing.TB) func(any, error) {
	return func(_ any, err error) { tb.Helper(); must(tb, err) }
}

func TestTicketNumbersPerAuthorityAndYear(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "LKA")
	other := MustCreateTenant(t, x.db, "LKB")
	res := reconcile(t, x.db, cmdb.Observation{Source: "agent", AuthorityID: other.Authority.ID, SchoolID: other.School.ID, Class: "printer", Serial: "B-P1", Vendor: "HP"})
	otherPrinter := res.Items[0].CIID
	num := func(ci int64) string {
		t.Helper()
		tk := &cmdb.Ticket{Type: cmdb.TicketIncident, Title: "Kein Toner", CategoryID: x.cat["printer/Kein Toner"], Impact: 3, Urgency: 3, CIIDs: []int64{ci}}
		ok(t)(x.db.CreateTicket(ctx, admin, tk, ""))
		return tk.Number
	}
	got := []string{num(x.printer), num(x.printer), num(otherPrinter), num(x.printer)}
	// 23:30 UTC on 31 December is already New Year in Germany.
	x.clock.set(time.Date(2026, 12, 31, 22, 30, 0, 0, time.UTC))
	got = append(got, num(x.printer))
	x.clock.set(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC))
	got = append(got, num(x.printer), num(otherPrinter), num(x.printer))
	want := []string{"LKA-2026-00001", "LKA-2026-00002", "LKB-2026-00001", "LKA-2026-00003", "LKA-2026-00004",
		"LKA-2027-00001", "LKB-2027-00001", "LKA-2027-00002"}
	if !slices.Equal(got, want) {
		t.Fatalf("numbers\n got %v\nwant %v", got, want)
	}
	// A failed create uses up no number, and found by number the ticket is the same.
	bad := &cmdb.Ticket{Type: cmdb.TicketIncident, Title: "x", CategoryID: x.cat["projector/Lampe"], Impact: 1, Urgency: 1, CIIDs: []int64{x.printer}}
	if _, err := x.db.CreateTicket(ctx, admin, bad, ""); cmdb.ErrorField(err) != "category_id" {
		t.Fatalf("projector category on a printer: %v", err)
	}
	if n := num(x.printer); n != "LKA-2027-00003" {
		t.Fatalf("after a failed create: %s", n)
	}
	tk, err := x.db.FindTicketByNumber(ctx, x.authIT, "lka-2027-00003")
	must(t, err)
	if tk.Number != "LKA-2027-00003" {
		t.Fatal(tk.Number)
	}
	if _, err := x.db.FindTicketByNumber(ctx, x.authIT, "LKB-2027-00001"); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Fatalf("the other authority's ticket by number: %v", err)
	}
}

func TestTicketScopePerRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "SCO")
	mine := x.open(t, x.teacher, "Drucker druckt nicht", x.printer)
	colleagues := x.open(t, x.teacher2, "Papierstau", x.printer)
	school2 := x.open(t, x.schoolIT2, "Laptop startet nicht", x.ci2)

	// A teacher opens tickets only for devices of their school.
	bad := &cmdb.Ticket{Type: cmdb.TicketIncident, Title: "Laptop", CategoryID: x.cat["laptop/Startet nicht"], Impact: 3, Urgency: 3, CIIDs: []int64{x.ci2}}
	if _, err := x.db.CreateTicket(ctx, x.teacher, bad, ""); cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != "ci_ids[0]" {
		t.Fatalf("teacher naming another school's CI: %v, want invalid naming ci_ids[0]", err)
	}
	noPlace := &cmdb.Ticket{Type: cmdb.TicketRequest, Title: "Neues Konto", CategoryID: x.cat["general/Benutzerkonto"], Impact: 3, Urgency: 3,
		AuthorityID: x.tn.Authority.ID}
	if _, err := x.db.CreateTicket(ctx, x.teacher, noPlace, ""); cmdb.ErrorCode(err) != cmdb.EINVALID {
		t.Fatalf("teacher opening an authority-wide ticket: %v", err)
	}
	room := &cmdb.Ticket{Type: cmdb.TicketIncident, Title: "Kein Netz im Raum", CategoryID: x.cat["general/Kein Netzwerk im Raum"], Impact: 2, Urgency: 1,
		RoomID: x.tn.Room.ID}
	ok(t)(x.db.CreateTicket(ctx, x.teacher, room, ""))
	if room.SchoolID != x.tn.School.ID {
		t.Fatalf("room ticket school %d", room.SchoolID)
	}
	if _, err := x.db.CreateTicket(ctx, x.providerIT, &cmdb.Ticket{Type: "incident", Title: "x", CategoryID: x.cat["printer/Papierstau"],
		Impact: 1, Urgency: 1, CIIDs: []int64{x.printer}}, ""); cmdb.ErrorField(err) != "ci_ids[0]" {
		t.Fatalf("provider opening a ticket on a CI it does not see: %v", err)
	}

	ids := func(s cmdb.Scope) []int64 {
		t.Helper()
		tks, n, err := x.db.FindTickets(ctx, s, cmdb.TicketFilter{})
		must(t, err)
		if n != len(tks) {
			t.Fatalf("total %d, items %d", n, len(tks))
		}
		var out []int64
		for _, tk := range tks {
			out = append(out, tk.ID)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(v ...int64) []int64 { slices.Sort(v); return v }
	for name, c := range map[string]struct {
		s    cmdb.Scope
		want []int64
	}{
		"teacher":      {x.teacher, sorted(mine.ID, colleagues.ID, room.ID)},
		"school IT 2":  {x.schoolIT2, sorted(school2.ID)},
		"authority IT": {x.authIT, sorted(mine.ID, colleagues.ID, school2.ID, room.ID)},
		"provider":     {x.providerIT, nil},
		"other tenant": {cmdb.Scope{Subject: "user:99", Authorities: []int64{x.tn.Authority.ID + 1000}}, nil},
	} {
		if got := ids(c.s); !slices.Equal(got, c.want) {
			t.Errorf("%s sees %v, want %v", name, got, c.want)
		}
	}
	if _, err := x.db.FindTicketByID(ctx, x.teacher, school2.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("teacher reads another school's ticket: %v", err)
	}
	// A teacher reported a ticket at another school: they still see their own.
	if _, err := x.db.FindTicketByID(ctx, cmdb.Scope{Subject: x.teacher.Subject, UserID: x.teacher.UserID}, mine.ID); err != nil {
		t.Errorf("reporter without the school membership: %v", err)
	}

	// places checks that the provider reads exactly school and room (0:
	// none), by id and in lists.
	places := func(school, room int64) {
		t.Helper()
		scs, err := x.db.FindSchools(ctx, x.providerIT, cmdb.TenantFilter{})
		must(t, err)
		var got []int64
		for _, sc := range scs {
			got = append(got, sc.ID)
		}
		if want := []int64{school}; (school == 0 && len(got) != 0) || (school != 0 && !slices.Equal(got, want)) {
			t.Errorf("provider's schools %v, want %d", got, school)
		}
		rms, err := x.db.FindRooms(ctx, x.providerIT, cmdb.TenantFilter{SchoolID: x.tn.School.ID})
		must(t, err)
		got = nil
		for _, rm := range rms {
			got = append(got, rm.ID)
		}
		if want := []int64{room}; (room == 0 && len(got) != 0) || (room != 0 && !slices.Equal(got, want)) {
			t.Errorf("provider's rooms %v, want %d", got, room)
		}
		for _, sc := range []*cmdb.School{x.tn.School, x.tn.School2} {
			if _, err := x.db.FindSchoolByID(ctx, x.providerIT, sc.ID); (err == nil) != (sc.ID == school) {
				t.Errorf("provider reads school %s: %v", sc.Name, err)
			}
		}
		for _, rm := range []*cmdb.Room{x.tn.Room, x.tn.Room2, x.tn.Room3} {
			if got, err := x.db.FindRoomByID(ctx, x.providerIT, rm.ID); (err == nil) != (rm.ID == room) {
				t.Errorf("provider reads room %s: %v", rm.Name, err)
			} else if err == nil && got.Name != rm.Name {
				t.Errorf("provider reads room %d as %q", rm.ID, got.Name)
			}
		}
	}
	places(0, 0)

	// The provider sees a ticket only while it is assigned to them.
	if _, err := x.db.FindTicketByID(ctx, x.providerIT, mine.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Fatalf("provider before assignment: %v", err)
	}
	p := x.provider
	ok(t)(x.db.UpdateTicket(ctx, x.authIT, mine.ID, cmdb.TicketUpdate{ProviderID: &p, Status: ptr(cmdb.StatusAssigned)}))
	if got := ids(x.providerIT); !slices.Equal(got, []int64{mine.ID}) {
		t.Fatalf("provider while assigned sees %v", got)
	}
	must(t, x.db.AddTicketComment(ctx, x.providerIT, &cmdb.TicketComment{TicketID: mine.ID, Body: "Techniker kommt Donnerstag", Internal: true}))
	ok(t)(x.db.UpdateTicket(ctx, x.providerIT, mine.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusInProgress)}))
	// While assigned, the provider sees the CIs the ticket links (read
	// only) and, of their tickets, only its own; no other CI.
	if _, err := x.db.FindCIByID(ctx, x.providerIT, x.printer); err != nil {
		t.Errorf("provider reads the CI of its ticket: %v", err)
	}
	if tks, err := x.db.FindCITickets(ctx, x.providerIT, x.printer); err != nil || len(tks) != 1 || tks[0].ID != mine.ID {
		t.Errorf("provider lists the CI's tickets: %v, %v", tks, err)
	}
	if cis, n, err := x.db.FindCIs(ctx, x.providerIT, cmdb.CIFilter{}); err != nil || n != 1 || cis[0].ID != x.printer {
		t.Errorf("provider's CI list: %d, %v", n, err)
	}
	for _, id := range []int64{x.projector, x.ci2} {
		if _, err := x.db.FindCIByID(ctx, x.providerIT, id); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			t.Errorf("provider reads CI %d no ticket of theirs links: %v", id, err)
		}
	}
	if _, err := x.db.MergeCIs(ctx, x.providerIT, x.printer, x.projector); err == nil {
		t.Error("provider merged CIs")
	}
	// Nor change it, by hand edit or by releasing a lock: reading is all.
	if _, err := x.db.Reconcile(ctx, x.providerIT, []cmdb.Observation{{Source: x.providerIT.Source(), CIID: x.printer,
		AuthorityID: x.tn.Authority.ID, RoomID: x.tn.Room2.ID}}); err == nil {
		t.Error("provider's hand edit of the CI of its ticket went through")
	}
	if err := x.db.ReleaseLock(ctx, x.providerIT, x.printer, cmdb.AttrRoom); cmdb.ErrorCode(err) != cmdb.EFORBIDDEN {
		t.Errorf("provider releasing a lock of the CI of its ticket: %v, want forbidden", err)
	}
	// The technician learns where to go: the school and room of the
	// ticket's CI, and no other place of the authority.
	places(x.tn.School.ID, x.tn.Room.ID)
	// The provider hands it to the second provider and loses sight of it.
	p2 := x.provider2
	ok(t)(x.db.UpdateTicket(ctx, x.providerIT, mine.ID, cmdb.TicketUpdate{ProviderID: &p2}))
	if _, err := x.db.FindTicketByID(ctx, x.providerIT, mine.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Fatalf("provider after handing over: %v", err)
	}
	if got := ids(x.providerIT); len(got) != 0 {
		t.Fatalf("provider after handing over sees %v", got)
	}
	if _, err := x.db.FindCIByID(ctx, x.providerIT, x.printer); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("provider reads the CI after handing over: %v", err)
	}
	places(0, 0)
	if _, err := x.db.UpdateTicket(ctx, x.providerIT, mine.ID, cmdb.TicketUpdate{Title: ptr("x")}); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Fatalf("provider changes a ticket no longer theirs: %v", err)
	}
	// A provider without a contract is refused, naming the field.
	stranger := &cmdb.Provider{Code: "SCO-FREMD", Name: "Fremd"}
	must(t, x.db.CreateProvider(ctx, admin, stranger))
	if _, err := x.db.UpdateTicket(ctx, x.authIT, mine.ID, cmdb.TicketUpdate{ProviderID: &stranger.ID}); cmdb.ErrorField(err) != "provider_id" {
		t.Fatalf("provider without contract: %v", err)
	}
	// The assignee must belong to the assignee group; handing the ticket
	// to another group clears the person.
	teacherID := x.teacher.UserID
	if _, err := x.db.UpdateTicket(ctx, x.authIT, mine.ID, cmdb.TicketUpdate{AssigneeUserID: &teacherID}); cmdb.ErrorField(err) != "assignee_user_id" {
		t.Fatalf("a teacher as assignee: %v", err)
	}
	if _, err := x.db.UpdateTicket(ctx, x.authIT, mine.ID, cmdb.TicketUpdate{AssigneeUserID: &x.providerIT.UserID}); cmdb.ErrorField(err) != "assignee_user_id" {
		t.Fatalf("provider 1's person on a ticket of provider 2: %v", err)
	}
	back := int64(0)
	got, err := x.db.UpdateTicket(ctx, x.authIT, mine.ID, cmdb.TicketUpdate{ProviderID: &back, AssigneeUserID: &x.authIT.UserID})
	must(t, err)
	if got.ProviderID != 0 || got.AssigneeUserID != x.authIT.UserID {
		t.Fatalf("back to authority IT: %+v", got)
	}
	got, err = x.db.UpdateTicket(ctx, x.authIT, mine.ID, cmdb.TicketUpdate{ProviderID: &p2, Level: ptr(2)})
	must(t, err)
	if got.ProviderID != p2 || got.AssigneeUserID != 0 || got.Level != 2 {
		t.Fatalf("escalated to provider 2: %+v", got)
	}
	// Relinking CIs: recorded; another school's CI or one that does not
	// fit the category is refused, naming the field.
	if _, err := x.db.UpdateTicket(ctx, x.authIT, mine.ID, cmdb.TicketUpdate{CIIDs: &[]int64{x.printer, x.ci2}}); cmdb.ErrorField(err) != "ci_ids[1]" {
		t.Fatalf("linking another school's CI: %v", err)
	}
	if _, err := x.db.UpdateTicket(ctx, x.authIT, mine.ID, cmdb.TicketUpdate{CIIDs: &[]int64{x.projector}}); cmdb.ErrorField(err) != "category_id" {
		t.Fatalf("a projector under a printer category: %v", err)
	}
	got, err = x.db.UpdateTicket(ctx, x.authIT, mine.ID, cmdb.TicketUpdate{CIIDs: &[]int64{x.projector, x.printer}})
	must(t, err)
	if !slices.Equal(got.CIIDs, sortedInts(x.printer, x.projector)) {
		t.Fatalf("linked CIs %v", got.CIIDs)
	}
	if _, err := x.db.UpdateTicket(ctx, x.teacher, mine.ID, cmdb.TicketUpdate{CIIDs: &[]int64{x.printer}}); cmdb.ErrorCode(err) != cmdb.EFORBIDDEN {
		t.Fatalf("teacher relinks: %v", err)
	}
	// Teachers see tickets but do not work them.
	if _, err := x.db.UpdateTicket(ctx, x.teacher, colleagues.ID, cmdb.TicketUpdate{Title: ptr("anders")}); cmdb.ErrorCode(err) != cmdb.EFORBIDDEN {
		t.Fatalf("teacher edits a ticket: %v", err)
	}
	// A CI's tickets: open ones first, only what the caller sees.
	ok(t)(x.db.UpdateTicket(ctx, x.authIT, colleagues.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusResolved)}))
	newer := x.open(t, x.teacher, "Druckt streifig", x.printer)
	list, err := x.db.FindCITickets(ctx, x.teacher, x.printer)
	must(t, err)
	if len(list) != 3 || list[2].ID != colleagues.ID || !list[0].Open() || !list[1].Open() || list[0].ID != mine.ID || list[1].ID != newer.ID {
		t.Fatalf("CI tickets not open first: %v", ticketNumbers(list))
	}
	if _, err := x.db.FindCITickets(ctx, x.teacher, x.ci2); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("teacher lists another school's CI's tickets: %v", err)
	}
}

func ticketNumbers(ts []*cmdb.Ticket) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Number+"/"+t.Status)
	}
	return out
}

func sortedInts(v ...int64) []int64 { slices.Sort(v); return v }

func ptr[T any](v T) *T { return &v }

func TestTicketCommentsWatchersAndHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "HIS")
	tk := &cmdb.Ticket{Type: cmdb.TicketIncident, Title: "Beamer zeigt kein Bild", CategoryID: x.cat["projector/Kein Bild"], Impact: 3, Urgency: 1,
		CIIDs: []int64{x.projector}, Channel: cmdb.ChannelPortal}
	ok(t)(x.db.CreateTicket(ctx, x.teacher, tk, ""))

	must(t, x.db.AddTicketComment(ctx, x.teacher, &cmdb.TicketComment{TicketID: tk.ID, Body: "Eingang HDMI 1 ist gewählt.", Channel: cmdb.ChannelPortal}))
	must(t, x.db.AddTicketComment(ctx, x.authIT, &cmdb.TicketComment{TicketID: tk.ID, Body: "Lampe ist am Ende, Garantie prüfen.", Internal: true}))
	if err := x.db.AddTicketComment(ctx, x.teacher, &cmdb.TicketComment{TicketID: tk.ID, Body: "intern?", Internal: true}); cmdb.ErrorCode(err) != cmdb.EFORBIDDEN ||
		cmdb.ErrorField(err) != "internal" {
		t.Fatalf("teacher writes an internal comment: %v", err)
	}
	if err := x.db.AddTicketComment(ctx, x.teacher, &cmdb.TicketComment{TicketID: tk.ID, Body: "  "}); cmdb.ErrorField(err) != "body" {
		t.Fatalf("empty comment: %v", err)
	}
	count := func(s cmdb.Scope) (public, internal int) {
		cs, err := x.db.FindTicketComments(ctx, s, tk.ID)
		must(t, err)
		for _, c := range cs {
			if c.Internal {
				internal++
			} else {
				public++
			}
		}
		return
	}
	if p, i := count(x.teacher); p != 1 || i != 0 {
		t.Errorf("teacher sees %d public and %d internal comments, want 1 and 0", p, i)
	}
	if p, i := count(x.teacher2); p != 1 || i != 0 {
		t.Errorf("colleague sees %d public and %d internal comments", p, i)
	}
	if p, i := count(x.authIT); p != 1 || i != 1 {
		t.Errorf("authority IT sees %d public and %d internal comments, want 1 and 1", p, i)
	}

	// Me too: idempotent, counted.
	for range 2 {
		got, err := x.db.AddTicketWatcher(ctx, x.teacher2, tk.ID)
		must(t, err)
		if got.Watchers != 1 {
			t.Fatalf("watchers = %d, want 1", got.Watchers)
		}
	}
	if _, err := x.db.AddTicketWatcher(ctx, cmdb.Scope{Subject: "token:3", ReadSchools: []int64{x.tn.School.ID}}, tk.ID); cmdb.ErrorCode(err) != cmdb.EINVALID {
		t.Fatalf("a token joins: %v", err)
	}

	// Work the ticket: every change is in the history; a disallowed
	// transition changes nothing at all.
	ok(t)(x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Impact: ptr(1), Level: ptr(2), Status: ptr(cmdb.StatusInProgress)}))
	before, err := x.db.FindTicketByID(ctx, x.authIT, tk.ID)
	must(t, err)
	if before.Priority != 1 {
		t.Fatalf("priority after impact 1, urgency 1: %d", before.Priority)
	}
	if _, err := x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Title: ptr("Neuer Titel"), Status: ptr(cmdb.StatusNew)}); cmdb.ErrorCode(err) != cmdb.ECONFLICT ||
		cmdb.ErrorField(err) != "status" {
		t.Fatalf("in_progress → new: %v, want conflict naming status", err)
	}
	after, err := x.db.FindTicketByID(ctx, x.authIT, tk.ID)
	must(t, err)
	if after.Title != before.Title || after.Status != before.Status {
		t.Fatalf("a refused update was half-written: %q %s", after.Title, after.Status)
	}
	ok(t)(x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusResolved)}))
	// The reporter reopens within the window; later, after the window, cannot.
	x.clock.set(x.clock.now().Add(24 * time.Hour))
	if _, err := x.db.UpdateTicket(ctx, x.teacher2, tk.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusInProgress)}); cmdb.ErrorCode(err) != cmdb.EFORBIDDEN {
		t.Fatalf("a colleague reopens: %v", err)
	}
	ok(t)(x.db.UpdateTicket(ctx, x.teacher, tk.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusInProgress)}))
	ok(t)(x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusResolved)}))
	x.clock.set(x.clock.now().Add(8 * 24 * time.Hour))
	if _, err := x.db.UpdateTicket(ctx, x.teacher, tk.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusInProgress)}); cmdb.ErrorCode(err) != cmdb.ECONFLICT {
		t.Fatalf("reopen after the window: %v", err)
	}
	if _, err := x.db.AddTicketWatcher(ctx, x.teacher2, tk.ID); cmdb.ErrorCode(err) != cmdb.ECONFLICT {
		t.Fatalf("joining a resolved ticket: %v", err)
	}
	ok(t)(x.db.UpdateTicket(ctx, x.teacher, tk.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusClosed)}))
	if err := x.db.AddTicketComment(ctx, x.teacher, &cmdb.TicketComment{TicketID: tk.ID, Body: "Geht wieder nicht"}); cmdb.ErrorCode(err) != cmdb.ECONFLICT ||
		cmdb.ErrorField(err) != "status" {
		t.Fatalf("comment on a closed ticket: %v", err)
	}
	if _, err := x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Title: ptr("x")}); cmdb.ErrorCode(err) != cmdb.ECONFLICT {
		t.Fatalf("change of a closed ticket: %v", err)
	}

	hist := func(s cmdb.Scope) []string {
		hs, err := x.db.FindTicketHistory(ctx, s, tk.ID)
		must(t, err)
		var out []string
		for _, h := range hs {
			out = append(out, h.Field+":"+h.Old+">"+h.New)
		}
		return out
	}
	staff := hist(x.authIT)
	want := []string{"created:>HIS-2026-00001", "comment:>", "internal_comment:>", "watcher:>", "impact:3>1", "priority:3>1", "level:1>2",
		"status:new>in_progress", "status:in_progress>resolved", "status:resolved>in_progress", "status:in_progress>resolved", "status:resolved>closed"}
	if len(staff) != len(want) {
		t.Fatalf("history\n got %v\nwant %v", staff, want)
	}
	for i := range want {
		if w := want[i]; w[len(w)-1] == '>' {
			if len(staff[i]) < len(w) || staff[i][:len(w)] != w {
				t.Errorf("history[%d] = %s, want %s…", i, staff[i], w)
			}
		} else if staff[i] != w {
			t.Errorf("history[%d] = %s, want %s", i, staff[i], w)
		}
	}
	hs, err := x.db.FindTicketHistory(ctx, x.authIT, tk.ID)
	must(t, err)
	if hs[0].Channel != cmdb.ChannelPortal || hs[0].Subject != x.teacher.Source() || hs[4].Subject != x.authIT.Source() {
		t.Errorf("history who/channel: %+v %+v", hs[0], hs[4])
	}
	for _, h := range hist(x.teacher) {
		if strings.HasPrefix(h, "internal_comment") {
			t.Errorf("teacher sees that an internal comment was written: %s", h)
		}
	}
	if len(hist(x.teacher)) != len(want)-1 {
		t.Errorf("teacher's history: %v", hist(x.teacher))
	}
}

// TestResolvedTicketsCloseThemselves: a resolved ticket closes after the
// reopen window, recorded in its history; a reopened one does not.
func TestResolvedTicketsCloseThemselves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "AUTO")
	done := x.open(t, x.teacher, "Papierstau", x.printer)
	reopened := x.open(t, x.teacher, "Papierstau wieder", x.printer)
	working := x.open(t, x.teacher, "Druckt nicht", x.printer)
	for _, tk := range []*cmdb.Ticket{done, reopened} {
		ok(t)(x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusResolved)}))
	}
	ok(t)(x.db.UpdateTicket(ctx, x.authIT, working.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusInProgress)}))
	x.clock.set(x.clock.now().Add(6 * 24 * time.Hour))
	ok(t)(x.db.UpdateTicket(ctx, x.teacher, reopened.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusInProgress)}))
	if n, err := x.db.CloseResolvedTickets(ctx, cmdb.DefaultReopenWindow); err != nil || n != 0 {
		t.Fatalf("within the window: closed %d, %v", n, err)
	}
	x.clock.set(x.clock.now().Add(2 * 24 * time.Hour))
	if n, err := x.db.CloseResolvedTickets(ctx, cmdb.DefaultReopenWindow); err != nil || n != 1 {
		t.Fatalf("after the window: closed %d, %v; want 1", n, err)
	}
	for _, c := range []struct {
		tk   *cmdb.Ticket
		want string
	}{{done, cmdb.StatusClosed}, {reopened, cmdb.StatusInProgress}, {working, cmdb.StatusInProgress}} {
		got, err := x.db.FindTicketByID(ctx, x.authIT, c.tk.ID)
		must(t, err)
		if got.Status != c.want {
			t.Errorf("%s: %s, want %s", got.Title, got.Status, c.want)
		}
	}
	hs, err := x.db.FindTicketHistory(ctx, x.teacher, done.ID)
	must(t, err)
	if last := hs[len(hs)-1]; last.Subject != "system:auto-close" || last.New != cmdb.StatusClosed {
		t.Errorf("last history entry: %+v", last)
	}
}

// TestPriorityMatrixPerAuthority: an authority's own matrix rates its new
// and re-rated tickets; other authorities keep the default; only authority
// IT of the authority may read or set it.
func TestPriorityMatrixPerAuthority(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "PMX")
	other := MustCreateTenant(t, x.db, "PMY")
	before := x.open(t, x.teacher, "Papierstau", x.printer) // impact 3, urgency 2: 4 by the default
	strict := cmdb.PriorityMatrix{{1, 1, 2}, {1, 2, 3}, {2, 3, 3}}
	if err := x.db.SetPriorityMatrix(ctx, x.schoolIT2, x.tn.Authority.ID, strict); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Fatalf("school IT sets the matrix: %v", err)
	}
	bad := strict
	bad[0][0] = 3
	if err := x.db.SetPriorityMatrix(ctx, x.authIT, x.tn.Authority.ID, bad); cmdb.ErrorCode(err) != cmdb.EINVALID {
		t.Fatalf("inverted matrix: %v", err)
	}
	must(t, x.db.SetPriorityMatrix(ctx, x.authIT, x.tn.Authority.ID, strict))
	if _, err := x.db.FindPriorityMatrix(ctx, x.authIT, other.Authority.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Fatalf("another authority's matrix: %v", err)
	}
	if m, err := x.db.FindPriorityMatrix(ctx, admin, other.Authority.ID); err != nil || m != cmdb.DefaultPriorityMatrix {
		t.Fatalf("other authority: %v %v, want the default", m, err)
	}
	if m, err := x.db.FindPriorityMatrix(ctx, x.authIT, x.tn.Authority.ID); err != nil || m != strict {
		t.Fatalf("own matrix: %v %v", m, err)
	}
	after := x.open(t, x.teacher, "Papierstau", x.printer)
	if after.Priority != 3 {
		t.Fatalf("new ticket by the own matrix: priority %d, want 3", after.Priority)
	}
	// An edit that does not re-rate keeps the priority; a re-rating uses the new matrix.
	got, err := x.db.UpdateTicket(ctx, x.authIT, before.ID, cmdb.TicketUpdate{Title: ptr("Papierstau Fach 2")})
	must(t, err)
	if got.Priority != 4 {
		t.Fatalf("title edit changed the priority to %d", got.Priority)
	}
	got, err = x.db.UpdateTicket(ctx, x.authIT, before.ID, cmdb.TicketUpdate{Urgency: ptr(1)})
	must(t, err)
	if got.Priority != 2 {
		t.Fatalf("re-rated to urgency 1: priority %d, want 2", got.Priority)
	}
}
