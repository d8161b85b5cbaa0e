package demo

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math/rand"
	"slices"
	"sort"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// ticketSeed makes the demo's ticket year the same on every load; only
// its times move along with the day of the load.
const ticketSeed = 20250815

// Numbers of the demo's ticket year.
const (
	// RandomTickets is the number of everyday tickets across the schools.
	RandomTickets = 190
	// RepeatIncidents is the number of incidents of the repeat-failure
	// printer in the last year.
	RepeatIncidents = 5
	// PatternDevices is the number of devices of the pattern projector
	// model with two incidents each.
	PatternDevices = 7
	// BreachedTickets were opened days ago and never answered.
	BreachedTickets = 4
)

// evKind is what an event of a demo ticket does.
type evKind int

const (
	evCreate evKind = iota
	evWatch
	evUpdate
	evComment
)

// event is one write of a demo ticket's history, by a person at a time.
type event struct {
	at       time.Time
	ticket   int // index into the plan's tickets
	seq      int // order within the ticket
	kind     evKind
	by       *person
	update   cmdb.TicketUpdate
	body     string
	internal bool
}

// demoTicket is a demo ticket before it meets the store.
type demoTicket struct {
	key    string
	t      cmdb.Ticket
	by     *person
	events []event
}

// ticketPlan builds the demo's tickets: the people, CIs and categories
// are those in the store; times count back from now.
type ticketPlan struct {
	r        *rand.Rand
	now      time.Time
	zone     *time.Location
	c        *cast
	ids      *tenantIDs
	cats     map[category]int64
	services map[string]int64
	// cis of the demo in use, by school id and class; rooms of a school.
	cis     map[int64]map[string][]*cmdb.CI
	rooms   map[int64][]int64
	schools []int64
	tickets []*demoTicket
	// Repeat and Pattern name what the tickets show.
	repeat  *cmdb.CI
	pattern [2]string // vendor, model
	// used counts the everyday incidents per CI.
	used map[int64]int
}

func str(s string) *string { return &s }
func num(n int64) *int64   { return &n }
func small(n int) *int     { return &n }

// ensureTickets plays the demo's ticket year into the store in the order
// it happened, setting the store's clock before each write. A ticket
// found by its idempotency key was made by an earlier load: its later
// changes are skipped, so a second load changes nothing.
func ensureTickets(ctx context.Context, s Store, scope cmdb.Scope, ids *tenantIDs, c *cast, svcs map[string]int64, inv *plan,
	opts Options, sum *Summary) error {
	p, err := newTicketPlan(ctx, s, scope, ids, c, inv)
	if err != nil {
		return err
	}
	p.services = svcs
	if err := p.build(ctx, s, scope); err != nil {
		return err
	}
	var evs []event
	for _, t := range p.tickets {
		evs = append(evs, t.events...)
	}
	sort.SliceStable(evs, func(i, j int) bool {
		if !evs[i].at.Equal(evs[j].at) {
			return evs[i].at.Before(evs[j].at)
		}
		if evs[i].ticket != evs[j].ticket {
			return evs[i].ticket < evs[j].ticket
		}
		return evs[i].seq < evs[j].seq
	})
	setNow := func(t time.Time) {
		if opts.SetNow != nil {
			opts.SetNow(t)
		}
	}
	defer setNow(time.Time{})
	created := make([]bool, len(p.tickets))
	// The people were all there: an earlier load made the demo.
	reload := sum.PeopleCreated == 0
	id := make([]int64, len(p.tickets))
	for _, e := range evs {
		dt := p.tickets[e.ticket]
		if e.kind != evCreate && !created[e.ticket] {
			continue
		}
		setNow(e.at)
		var err error
		switch e.kind {
		case evCreate:
			t := dt.t
			t.CIIDs = slices.Clone(dt.t.CIIDs)
			var ok bool
			ok, err = s.CreateTicket(ctx, e.by.scope, &t, dt.key)
			if err != nil && reload && cmdb.ErrorCode(err) != cmdb.EINTERNAL {
				// An earlier load made the demo's tickets, and people have
				// worked with its devices since (merged, retired, moved
				// them): what was made stays as it is.
				sum.TicketsSkipped++
				continue
			}
			created[e.ticket], id[e.ticket] = ok, t.ID
			if ok {
				sum.TicketsCreated++
			}
			sum.Tickets++
		case evWatch:
			_, err = s.AddTicketWatcher(ctx, e.by.scope, id[e.ticket])
		case evUpdate:
			_, err = s.UpdateTicket(ctx, e.by.scope, id[e.ticket], e.update)
		case evComment:
			err = s.AddTicketComment(ctx, e.by.scope, &cmdb.TicketComment{TicketID: id[e.ticket], Body: e.body,
				Internal: e.internal, Channel: cmdb.ChannelPortal})
		}
		if err != nil {
			return fmt.Errorf("demo: ticket %s (%s), event %d by %s: %w", dt.key, dt.t.Title, e.seq, e.by.def.Email(), err)
		}
	}
	setNow(time.Time{})
	// Flags whose window passed since their tickets were opened clear
	// now, as the daily job would clear them.
	if _, _, err := s.RecomputeRepeatFailures(ctx, ids.authority); err != nil {
		return fmt.Errorf("demo: repeat failures: %w", err)
	}
	return nil
}

func newTicketPlan(ctx context.Context, s Store, scope cmdb.Scope, ids *tenantIDs, c *cast, inv *plan) (*ticketPlan, error) {
	zone, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		zone = time.UTC
	}
	p := &ticketPlan{r: rand.New(rand.NewSource(ticketSeed)), now: time.Now().Truncate(time.Second), zone: zone, c: c, ids: ids,
		cis: map[int64]map[string][]*cmdb.CI{}, rooms: map[int64][]int64{}, used: map[int64]int{}}
	if p.cats, err = categories(ctx, s, scope, ids.authority); err != nil {
		return nil, err
	}
	// Devices recorded twice are left alone: they are duplicate
	// candidates, which the tour merges. Known from the inventory rather
	// than from the open candidates, so that the tickets stay the same
	// after merges and after polling found more.
	skip := map[string]bool{}
	for _, d := range inv.Devices {
		if d.Twin != nil {
			skip[cmdb.NormalizeSerial(d.Serial)], skip[cmdb.NormalizeSerial(d.Twin.Serial)] = true, true
		}
	}
	for off := 0; ; off += 1000 {
		list, total, err := s.FindCIs(ctx, scope, cmdb.CIFilter{AuthorityID: ids.authority, Status: cmdb.StatusInUse, Offset: off, Limit: 1000})
		if err != nil {
			return nil, fmt.Errorf("demo: find CIs: %w", err)
		}
		for _, ci := range list {
			if ci.SchoolID == 0 || ci.Serial == "" || skip[cmdb.NormalizeSerial(ci.Serial)] {
				continue
			}
			if p.cis[ci.SchoolID] == nil {
				p.cis[ci.SchoolID] = map[string][]*cmdb.CI{}
			}
			p.cis[ci.SchoolID][ci.Class] = append(p.cis[ci.SchoolID][ci.Class], ci)
		}
		if off+1000 >= total || len(list) == 0 {
			break
		}
	}
	for _, m := range p.cis { // by id, whatever order the store answered in
		for _, l := range m {
			slices.SortFunc(l, func(a, b *cmdb.CI) int { return int(a.ID - b.ID) })
		}
	}
	for _, sd := range schools {
		id := ids.schools[sd.Code]
		p.schools = append(p.schools, id)
	}
	for l, id := range ids.rooms {
		sid := ids.schools[l.School]
		p.rooms[sid] = append(p.rooms[sid], id)
	}
	for _, l := range p.rooms {
		slices.Sort(l)
	}
	// The repeat-failure printer: one with a room in the first school, of
	// the most common printer model, so that its failures do not make
	// its model look bad too.
	models := map[string]int{}
	for _, school := range p.schools {
		for _, ci := range p.cis[school][cmdb.ClassPrinter] {
			models[cmdb.KBModel(ci.Vendor, ci.Model)]++
		}
	}
	for _, ci := range p.cis[p.schools[0]][cmdb.ClassPrinter] {
		if ci.RoomID != 0 && (p.repeat == nil || models[cmdb.KBModel(ci.Vendor, ci.Model)] > models[cmdb.KBModel(p.repeat.Vendor, p.repeat.Model)]) {
			p.repeat = ci
		}
	}
	if p.repeat == nil {
		return nil, fmt.Errorf("demo: no printer in use with a room in school %d", p.schools[0])
	}
	return p, nil
}

func (p *ticketPlan) pick(n int) int { return p.r.Intn(n) }

func pickOf[T any](p *ticketPlan, l []T) T { return l[p.r.Intn(len(l))] }

// dur is a random duration between lo and hi.
func (p *ticketPlan) dur(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(p.r.Int63n(int64(hi-lo)+1))
}

// opened returns a time days (fractional) before now: on a school day
// between 07:30 and 14:30 for tickets a day old or more, else exactly
// that long ago.
func (p *ticketPlan) opened(days float64) time.Time {
	if days < 1 {
		return p.now.Add(-time.Duration(days * float64(24*time.Hour)))
	}
	d := p.now.In(p.zone).AddDate(0, 0, -int(days))
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, -1)
	}
	minute := 7*60 + 30 + p.pick(7*60)
	return time.Date(d.Year(), d.Month(), d.Day(), minute/60, minute%60, p.pick(60), 0, p.zone)
}

// add appends a ticket and returns it.
func (p *ticketPlan) add(t cmdb.Ticket, by *person, at time.Time) *demoTicket {
	t.AuthorityID = p.ids.authority
	dt := &demoTicket{key: fmt.Sprintf("demo-%d", len(p.tickets)+1), t: t, by: by}
	p.tickets = append(p.tickets, dt)
	dt.event(p, event{at: at, kind: evCreate, by: by})
	return dt
}

func (dt *demoTicket) event(p *ticketPlan, e event) {
	e.ticket, e.seq = slices.Index(p.tickets, dt), len(dt.events)
	if e.update.Channel == "" {
		e.update.Channel = cmdb.ChannelPortal
	}
	dt.events = append(dt.events, e)
}

// reporter picks who opens a ticket of a school and how: a teacher in
// the portal mostly, the school's IT contact, or the authority's IT on
// the phone for someone.
func (p *ticketPlan) reporter(school int64, t *cmdb.Ticket) *person {
	teachers := p.c.teachers[school]
	switch x := p.r.Float64(); {
	case x < 0.7 && len(teachers) > 0:
		t.Channel = cmdb.ChannelPortal
		return pickOf(p, teachers)
	case x < 0.9 && p.c.schoolIT[school] != nil:
		t.Channel = pickOf(p, []string{cmdb.ChannelPortal, cmdb.ChannelEmail})
		return p.c.schoolIT[school]
	default:
		t.Channel = cmdb.ChannelPhone
		t.OnBehalfOf = pickOf(p, []string{"Sekretariat", "Hausmeister Herr Krause", "Schulleitung", "Frau Lehmann (Vertretung)"})
		return pickOf(p, p.c.authIT)
	}
}

// life is how a demo ticket goes on after it was opened, up to status.
type life struct {
	status   string
	provider int64 // assignee group; 0: the authority's or school's IT
	viaWait  bool  // went through waiting on its way
	level3   bool
	internal bool
	solution string
	watchers int
}

// live adds the events of a ticket's life after its opening at opened,
// all before now: triage, work, waiting, solution, close.
func (p *ticketPlan) live(dt *demoTicket, opened time.Time, l life) {
	type step struct {
		d time.Duration
		e []event
	}
	school := dt.t.SchoolID
	it := pickOf(p, p.c.authIT)
	var worker *person
	var steps []step
	if l.status == cmdb.StatusNew {
		return
	}
	triage := cmdb.TicketUpdate{Status: str(cmdb.StatusAssigned)}
	if l.provider != 0 {
		worker = pickOf(p, p.c.staff[l.provider])
		triage.ProviderID, triage.AssigneeUserID, triage.Level = num(l.provider), num(worker.id), small(2)
	} else if sit := p.c.schoolIT[school]; sit != nil && p.r.Float64() < 0.5 {
		worker = sit
		triage.AssigneeUserID = num(worker.id)
	} else {
		worker = it
		triage.AssigneeUserID = num(worker.id)
	}
	first := []event{{kind: evUpdate, by: it, update: triage}}
	if p.r.Float64() < 0.6 {
		first = append(first, event{kind: evComment, by: it, body: pickOf(p, firstReplies)})
	}
	steps = append(steps, step{p.dur(10*time.Minute, 4*time.Hour), first})
	for i := 0; i < l.watchers; i++ {
		if w := p.watcher(school, dt.by); w != nil {
			steps[0].e = append([]event{{kind: evWatch, by: w}}, steps[0].e...)
		}
	}
	final := l.status
	if final != cmdb.StatusAssigned {
		work := []event{{kind: evUpdate, by: worker, update: cmdb.TicketUpdate{Status: str(cmdb.StatusInProgress)}}}
		if l.provider != 0 {
			work = append(work, event{kind: evComment, by: worker, body: pickOf(p, providerReplies)})
		}
		if l.internal {
			work = append(work, event{kind: evComment, by: worker, body: pickOf(p, internalNotes), internal: true})
		}
		steps = append(steps, step{p.dur(time.Hour, 40*time.Hour), work})
		if l.level3 {
			steps = append(steps, step{p.dur(2*time.Hour, 24*time.Hour), []event{
				{kind: evUpdate, by: it, update: cmdb.TicketUpdate{Level: small(3)}},
				{kind: evComment, by: it, body: pickOf(p, escalations), internal: true}}})
		}
	}
	if final == cmdb.StatusWaiting || l.viaWait {
		steps = append(steps, step{p.dur(time.Hour, 20*time.Hour), []event{
			{kind: evUpdate, by: worker, update: cmdb.TicketUpdate{Status: str(cmdb.StatusWaiting)}},
			{kind: evComment, by: worker, body: pickOf(p, waitingReplies)}}})
		if final != cmdb.StatusWaiting {
			steps = append(steps, step{p.dur(24*time.Hour, 7*24*time.Hour), []event{
				{kind: evComment, by: dt.by, body: teacherReplies[p.pick(2)]},
				{kind: evUpdate, by: worker, update: cmdb.TicketUpdate{Status: str(cmdb.StatusInProgress)}}}})
		}
	}
	if final == cmdb.StatusResolved || final == cmdb.StatusClosed {
		steps = append(steps, step{p.dur(time.Hour, 3*24*time.Hour), []event{
			{kind: evComment, by: worker, body: l.solution},
			{kind: evUpdate, by: worker, update: cmdb.TicketUpdate{Status: str(cmdb.StatusResolved)}}}})
	}
	if final == cmdb.StatusClosed {
		if dt.by.def.Role == cmdb.RoleTeacher && p.r.Float64() < 0.4 {
			steps = append(steps, step{p.dur(2*time.Hour, 2*24*time.Hour), []event{
				{kind: evComment, by: dt.by, body: teacherReplies[2]},
				{kind: evUpdate, by: dt.by, update: cmdb.TicketUpdate{Status: str(cmdb.StatusClosed)}}}})
		} else {
			steps = append(steps, step{7*24*time.Hour + p.dur(time.Hour, 5*time.Hour), []event{
				{kind: evUpdate, by: it, update: cmdb.TicketUpdate{Status: str(cmdb.StatusClosed)}}}})
		}
	}
	// Squeeze the life into the time since opening, so that it all lies
	// in the past; a resolved ticket stays resolved only for the reopen
	// window, so its solution must be recent.
	var total time.Duration
	for _, s := range steps {
		total += s.d
	}
	room := p.now.Add(-2 * time.Minute).Sub(opened)
	scale := 1.0
	if total > room {
		scale = float64(room) / float64(total)
	}
	at := opened
	for _, s := range steps {
		at = at.Add(time.Duration(float64(s.d) * scale))
		for i, e := range s.e {
			e.at = at.Add(time.Duration(i) * time.Second)
			dt.event(p, e)
		}
	}
}

// watcher picks another teacher of the school to join a ticket.
func (p *ticketPlan) watcher(school int64, not *person) *person {
	var others []*person
	for _, t := range p.c.teachers[school] {
		if t != not {
			others = append(others, t)
		}
	}
	if len(others) == 0 {
		return nil
	}
	return pickOf(p, others)
}

// status picks the status a random ticket has today and its age in
// days: most of the year is closed, the last days are in every state.
func (p *ticketPlan) status() (string, float64) {
	u := p.r.Float64()
	switch x := p.r.Float64(); {
	case x < 0.60:
		return cmdb.StatusClosed, 2 + u*358
	case x < 0.68:
		return cmdb.StatusResolved, 0.2 + u*5.5
	case x < 0.74:
		return cmdb.StatusNew, 0.02 + u*0.3
	case x < 0.81:
		return cmdb.StatusAssigned, 0.05 + u*1
	case x < 0.91:
		return cmdb.StatusInProgress, 0.1 + u*2
	default:
		return cmdb.StatusWaiting, 1 + u*20
	}
}

// classWeights: how many of the everyday tickets are on each class, by
// how many devices of the class are in use and how often they fail
// (copiers most, tablets seldom); projectors are left to the pattern, so
// that its model stands out.
var classWeights = []struct {
	class string
	w     int
}{
	{cmdb.ClassPrinter, 16}, {cmdb.ClassMFP, 9}, {cmdb.ClassDisplay, 14}, {cmdb.ClassDocumentCamera, 5},
	{cmdb.ClassLaptop, 30}, {cmdb.ClassDesktop, 40}, {cmdb.ClassTablet, 25}, {cmdb.ClassAccessPoint, 14},
	{cmdb.ClassSwitch, 3}, {classGeneral, 21},
}

func (p *ticketPlan) class() string {
	total := 0
	for _, c := range classWeights {
		total += c.w
	}
	x := p.pick(total)
	for _, c := range classWeights {
		if x -= c.w; x < 0 {
			return c.class
		}
	}
	return classGeneral
}

// incident makes a ticket on ci (nil: on a room of school) for problem pr.
func (p *ticketPlan) incident(school int64, ci *cmdb.CI, class string, pr problem) (cmdb.Ticket, error) {
	t := cmdb.Ticket{Type: cmdb.TicketIncident, Title: pr.Title, Description: pr.Description, SchoolID: school,
		Impact: 2 + p.pick(2), Urgency: 1 + p.pick(3)}
	if ci != nil {
		t.CIIDs = []int64{ci.ID}
		if ci.Name != "" {
			t.Description += "\n\nGerät: " + ci.Name
		}
	} else {
		t.RoomID = pickOf(p, p.rooms[school])
	}
	id, ok := p.cats[category{class, pr.Category}]
	if !ok {
		return t, fmt.Errorf("demo: no ticket category %s/%s", class, pr.Category)
	}
	t.CategoryID = id
	return t, nil
}

// build makes the whole ticket year.
func (p *ticketPlan) build(ctx context.Context, s Store, scope cmdb.Scope) error {
	if err := p.randomTickets(); err != nil {
		return err
	}
	if err := p.repeatPrinter(); err != nil {
		return err
	}
	if err := p.patternModel(); err != nil {
		return err
	}
	if err := p.requests(); err != nil {
		return err
	}
	return p.slaTickets(ctx, s, scope)
}

// randomTickets are the everyday tickets of all schools.
func (p *ticketPlan) randomTickets() error {
	// Devices of a class fail alike wherever they are: a device is picked
	// among all of its class, so that no school's few devices pile up
	// incidents and look like a pattern.
	byClass := map[string][]*cmdb.CI{}
	for _, school := range p.schools {
		for _, class := range slices.Sorted(maps.Keys(p.cis[school])) {
			for _, ci := range p.cis[school][class] {
				if ci != p.repeat { // its failures are planned below
					byClass[class] = append(byClass[class], ci)
				}
			}
		}
	}
	// Spread evenly over each class's devices sorted by model, so that
	// every model of a class fails at the rate of the rest (no pattern
	// but the planned one) and no device more than twice (the repeat
	// failure is the printer's alone).
	for _, l := range byClass {
		slices.SortFunc(l, func(a, b *cmdb.CI) int {
			return cmp.Or(cmp.Compare(a.Vendor, b.Vendor), cmp.Compare(a.Model, b.Model), cmp.Compare(a.ID, b.ID))
		})
	}
	classes := make([]string, RandomTickets)
	of := map[string]int{}
	for i := range classes {
		classes[i] = p.class()
		of[classes[i]]++
	}
	next := map[string]int{}
	for i := range RandomTickets {
		school := pickOf(p, p.schools)
		class := classes[i]
		var ci *cmdb.CI
		if l := byClass[class]; class != classGeneral && len(l) > 0 && next[class] < 2*len(l) {
			j, n, m := next[class], len(l), of[class]
			next[class]++
			if m <= n {
				ci = l[j*n/m]
			} else {
				ci = l[j%n]
			}
			p.used[ci.ID]++
			school = ci.SchoolID
		} else {
			class = classGeneral
		}
		pr := pickOf(p, problems[class])
		t, err := p.incident(school, ci, class, pr)
		if err != nil {
			return err
		}
		status, age := p.status()
		at := p.opened(age)
		by := p.reporter(school, &t)
		dt := p.add(t, by, at)
		l := life{status: status, solution: pr.Solution, viaWait: p.r.Float64() < 0.2, internal: p.r.Float64() < 0.3}
		if ci != nil {
			l.provider = p.c.providerOf[ci.Class]
		}
		l.level3 = l.provider != 0 && p.r.Float64() < 0.15
		if ci != nil && (ci.Class == cmdb.ClassMFP || ci.Class == cmdb.ClassAccessPoint) && p.r.Float64() < 0.4 {
			l.watchers = 1 + p.pick(2)
		} else if ci == nil && p.r.Float64() < 0.3 {
			l.watchers = 1
		}
		p.live(dt, at, l)
	}
	return nil
}
