package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
	"golang.org/x/sync/errgroup"
)

// The staff queue (issue 13, "Tickets"): /tickets shows staff the queue
// with its filters, counts per queue and saved filters; /tickets/{number}
// the ticket with everything staff do to it (console_queue_ticket.go);
// /tickets/neu the phone intake (console_queue_intake.go). Teachers keep
// the portal's pages at the same URLs (tickets.go). The stores decide
// what each caller sees: a provider's staff get their provider's tickets.

// queuePageSize is the number of tickets on one page of the queue.
const queuePageSize = 50

// queueRoutes adds the queue's own routes; /tickets and /tickets/{number}
// are the portal's, which hand staff to the handlers here.
func (s *server) queueRoutes(mux *http.ServeMux) {
	mux.Handle("POST /tickets/filter", s.staff(s.saveFilter))
	mux.Handle("POST /tickets/filter/{id}/loeschen", s.staff(s.deleteFilter))
	mux.Handle("GET /tickets/neu", s.staff(s.intake))
	mux.Handle("POST /tickets/neu", s.staff(s.intakeCreate))
	mux.Handle("POST /tickets/{number}/anhang", s.staffUpload(s.queueAttach))
}

// staffUpload is staff for a form with a file.
func (s *server) staffUpload(h handler) http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request, rq *request) error {
		if !isStaff(rq.Scope) {
			return cmdb.Errorf(cmdb.EFORBIDDEN, "the console is for IT staff")
		}
		return h(w, r, rq)
	}, true, s.attachmentLimits().MaxFileSize+maxForm)
}

// queueFilter is the queue's filter as the URL carries it.
type queueFilter struct {
	Status, Level, Group, Assignee, School, Priority, SLA, Channel, Query, Sort string
	// Authority narrows to one authority, for callers who see several (the
	// dashboard's links name it); the form keeps it hidden.
	Authority string
	Page      int
}

// queueParams are the URL query parameters of the filter, in form order.
var queueParams = []string{"status", "level", "group", "assignee", "school", "priority", "sla", "channel", "q", "sort", "authority"}

func readQueueFilter(q url.Values) queueFilter {
	f := queueFilter{Status: q.Get("status"), Level: q.Get("level"), Group: q.Get("group"), Assignee: q.Get("assignee"),
		School: q.Get("school"), Priority: q.Get("priority"), SLA: q.Get("sla"), Channel: q.Get("channel"),
		Query: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"), Authority: q.Get("authority")}
	if !q.Has("status") {
		f.Status = "open" // the queue is the work still to do
	}
	f.Page, _ = strconv.Atoi(q.Get("seite"))
	if f.Page < 1 {
		f.Page = 1
	}
	return f
}

// values is the filter as a URL query (without the page).
func (f queueFilter) values() url.Values {
	v := url.Values{}
	for i, s := range []string{f.Status, f.Level, f.Group, f.Assignee, f.School, f.Priority, f.SLA, f.Channel, f.Query, f.Sort, f.Authority} {
		if s != "" || (i == 0 && f.Status == "") {
			v.Set(queueParams[i], s)
		}
	}
	return v
}

// store turns the filter into the store's; bad values become EINVALID
// naming the field, shown next to it.
func (f queueFilter) store(me int64) (cmdb.TicketFilter, error) {
	tf := cmdb.TicketFilter{Group: f.Group, SLA: f.SLA, Channel: f.Channel, Query: f.Query, Sort: f.Sort,
		Limit: queuePageSize, Offset: (f.Page - 1) * queuePageSize}
	if f.Status != "" && f.Status != "all" {
		tf.Statuses = []string{f.Status}
	}
	num := func(field, v string) (int64, error) {
		if v == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return 0, cmdb.Invalid(field, "must be a number")
		}
		return n, nil
	}
	var err error
	var n int64
	if n, err = num("level", f.Level); err != nil {
		return tf, err
	}
	tf.Level = int(n)
	if n, err = num("priority", f.Priority); err != nil {
		return tf, err
	}
	tf.Priority = int(n)
	if tf.SchoolID, err = num("school", f.School); err != nil {
		return tf, err
	}
	if tf.AuthorityID, err = num("authority", f.Authority); err != nil {
		return tf, err
	}
	if f.Assignee == "me" {
		tf.AssigneeUserID = me
	} else if f.Assignee == "none" {
		tf.Unassigned = true
	} else if tf.AssigneeUserID, err = num("assignee", f.Assignee); err != nil {
		return tf, err
	}
	return tf, tf.Validate()
}

// queueRow is one line of the queue.
type queueRow struct {
	T                       *cmdb.Ticket
	School, Group, Assignee string
	Due                     string // the deciding due time, "" when none
	SLA                     string // the SLA state
}

// queueLink is one queue of the counts: a link to the list behind it.
type queueLink struct {
	Label   string
	Count   int
	Href    string
	Current bool
}

type queueView struct {
	Filter     queueFilter
	Rows       []queueRow
	Total      int
	Pages      []pageLink
	Prev       string
	Next       string
	Queues     []queueLink
	Schools    []*cmdb.School
	Providers  []*cmdb.Provider
	People     []personChoice // whom the assignee filter offers
	Saved      []*cmdb.SavedFilter
	Query      string // the filter's URL query, for export links and saving
	Errors     fieldErrors
	Provider   bool // the caller is a provider's staff
	FilterName string
	Notice     string
	// ExportLimit is set when the list is longer than an export holds:
	// the file has its first ExportLimit rows, and the page says so.
	ExportLimit int
}

type pageLink struct {
	N       int
	Href    string
	Current bool
}

// Statuses lists the status choices of the filter.
func (queueView) Statuses() []string { return cmdb.TicketStatuses }

// Channels lists the channel choices of the filter.
func (queueView) Channels() []string { return cmdb.TicketChannels }

// queueList serves /tickets to staff.
func (s *server) queueList(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, tf, err := s.queuePage(r, rq, readQueueFilter(r.URL.Query()))
	if err != nil {
		return err
	}
	v.Notice = r.URL.Query().Get("ok")
	status := http.StatusOK
	if len(v.Errors) > 0 {
		status = http.StatusBadRequest
	} else if format := exportFormat(r); format != "" {
		return s.queueExport(w, r, rq, v, tf, format)
	}
	s.render(w, r, rq, status, "console_queue", "queue.title", v)
	return nil
}

// queuePage gathers the queue for filter f: its counts, saved filters and
// the page of tickets. A bad filter value comes back in v.Errors.
func (s *server) queuePage(r *http.Request, rq *request, f queueFilter) (v *queueView, tf cmdb.TicketFilter, err error) {
	ctx := r.Context()
	// pv is the view the questions asked at once fill in; v is what is
	// returned (nil on an error).
	pv := &queueView{Filter: f, Errors: fieldErrors{}, Provider: providerOnly(rq.Scope)}
	pv.Query = f.values().Encode()
	v = pv
	// What the page shows besides the list is independent of it: asked
	// at once, on their own connections, the page answers in the time of
	// the slowest question rather than of all of them in a row.
	var counts *cmdb.TicketQueueCounts
	var g errgroup.Group
	g.Go(func() (err error) {
		pv.Schools, err = s.opts.Tenants.FindSchools(ctx, rq.Scope, cmdb.TenantFilter{})
		return err
	})
	g.Go(func() (err error) {
		pv.Providers, err = s.opts.Tenants.FindProviders(ctx, rq.Scope)
		return err
	})
	if s.opts.Accounts != nil {
		g.Go(func() (err error) {
			pv.People, err = s.queuePeople(r, rq)
			return err
		})
	}
	if s.opts.Queue != nil {
		g.Go(func() (err error) {
			pv.Saved, err = s.opts.Queue.FindSavedFilters(ctx, rq.Scope)
			return err
		})
		g.Go(func() (err error) {
			counts, err = s.opts.Queue.CountTicketQueues(ctx, rq.Scope)
			return err
		})
	}
	waited := false
	wait := func() error {
		if waited {
			return nil
		}
		waited = true
		if err := g.Wait(); err != nil {
			return err
		}
		if counts != nil {
			pv.Queues = s.queueLinks(rq, counts, pv.Providers, pv.Query)
		}
		return nil
	}
	defer func() {
		if werr := wait(); werr != nil && err == nil {
			v, err = nil, werr
		}
	}()
	tf, err = f.store(rq.User.ID)
	if err != nil {
		fe, err := rq.queueStoreError(err, "status", "level", "group", "assignee", "school", "priority", "sla", "channel", "sort", "authority")
		if err != nil {
			return nil, tf, err
		}
		v.Errors = fe
		return v, tf, nil
	}
	ts, total, err := s.opts.Tickets.FindTickets(ctx, rq.Scope, tf)
	if err != nil {
		return nil, tf, err
	}
	v.Total = total
	if total > s.queueExportMax() {
		v.ExportLimit = s.queueExportMax()
	}
	if err := wait(); err != nil {
		return nil, tf, err
	}
	if v.Rows, err = s.queueRows(r, rq, ts, v.Schools, v.Providers); err != nil {
		return nil, tf, err
	}
	pages := (total + queuePageSize - 1) / queuePageSize
	page := func(n int) string {
		q := f.values()
		if n > 1 {
			q.Set("seite", strconv.Itoa(n))
		}
		return "/tickets?" + q.Encode()
	}
	for n := max(1, f.Page-3); n <= min(pages, f.Page+3); n++ {
		v.Pages = append(v.Pages, pageLink{N: n, Href: page(n), Current: n == f.Page})
	}
	if f.Page > 1 {
		v.Prev = page(f.Page - 1)
	}
	if f.Page < pages {
		v.Next = page(f.Page + 1)
	}
	return v, tf, nil
}

// queuePeople lists whom the assignee filter offers: the people tickets
// the caller sees can be assigned to (as the assign form lists them per
// ticket): the authority's and the schools' IT and the providers' staff
// the caller may see.
func (s *server) queuePeople(r *http.Request, rq *request) ([]personChoice, error) {
	return s.people(r, rq, func(m cmdb.Membership) bool {
		return m.Role == cmdb.RoleAuthorityIT || m.Role == cmdb.RoleSchoolIT || (m.Role == cmdb.RoleProvider && m.OrgID != 0)
	})
}

// people lists the active users the caller sees who have a membership
// keep accepts, by name.
func (s *server) people(r *http.Request, rq *request, keep func(cmdb.Membership) bool) ([]personChoice, error) {
	us, err := s.opts.Accounts.FindUsers(r.Context(), rq.Scope)
	if err != nil {
		return nil, err
	}
	var out []personChoice
	for _, u := range us {
		if u.Disabled || !slices.ContainsFunc(u.Memberships, keep) {
			continue
		}
		name := u.Name
		if name == "" {
			name = u.Email
		}
		out = append(out, personChoice{ID: u.ID, Label: name})
	}
	slices.SortFunc(out, func(a, b personChoice) int { return strings.Compare(a.Label, b.Label) })
	return out, nil
}

// queueLinks are the counts per queue, each a link to its list.
func (s *server) queueLinks(rq *request, c *cmdb.TicketQueueCounts, providers []*cmdb.Provider, current string) []queueLink {
	link := func(label string, n int, kv ...string) queueLink {
		q := url.Values{"status": {"open"}}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return queueLink{Label: label, Count: n, Href: "/tickets?" + q.Encode(), Current: q.Encode() == current}
	}
	T := rq.tr.T
	out := []queueLink{
		link(T("queue.q.open"), c.Open),
		link(T("queue.q.new"), c.New, "status", cmdb.StatusNew),
		link(T("queue.q.mine"), c.Mine, "assignee", "me"),
		link(T("queue.q.level.1"), c.Level1, "level", "1"),
		link(T("queue.q.level.2"), c.Level2, "level", "2"),
		link(T("queue.q.level.3"), c.Level3, "level", "3"),
		link(T("queue.q.breached"), c.Breached, "sla", cmdb.SLAFilterBreached),
		link(T("queue.q.due_soon"), c.DueSoon, "sla", cmdb.SLAFilterDueSoon),
	}
	if !providerOnly(rq.Scope) {
		out = append(out, link(T("queue.group.authority"), c.Authority, "group", "authority"))
	}
	for _, p := range providers {
		out = append(out, link(p.Name, c.Providers[p.ID], "group", strconv.FormatInt(p.ID, 10)))
	}
	return out
}

// queueRows names the schools, groups and assignees of the tickets.
func (s *server) queueRows(r *http.Request, rq *request, ts []*cmdb.Ticket, schools []*cmdb.School, providers []*cmdb.Provider) ([]queueRow, error) {
	schoolName := map[int64]string{}
	for _, sc := range schools {
		schoolName[sc.ID] = sc.Name
	}
	people := map[int64]string{}
	rows := make([]queueRow, 0, len(ts))
	for _, t := range ts {
		row := queueRow{T: t, School: schoolName[t.SchoolID], Group: s.groupName(rq, t.ProviderID, providers)}
		if t.AssigneeUserID != 0 {
			name, ok := people[t.AssigneeUserID]
			if !ok {
				name = s.personName(r, rq, t.AssigneeUserID)
				people[t.AssigneeUserID] = name
			}
			row.Assignee = name
		}
		if t.SLA != nil {
			row.SLA = t.SLA.State
			if t.SLA.Deadline != nil {
				row.Due = rq.tr.DateTime(*t.SLA.Deadline)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// groupName names the assignee group: the authority's IT or a provider.
func (s *server) groupName(rq *request, provider int64, providers []*cmdb.Provider) string {
	if provider == 0 {
		return rq.tr.T("queue.group.authority")
	}
	for _, p := range providers {
		if p.ID == provider {
			return p.Name
		}
	}
	return rq.tr.T("queue.group.provider", "ID", provider)
}

// personName names a user the caller meets on its tickets, else "Person Nr. id".
func (s *server) personName(r *http.Request, rq *request, id int64) string {
	if name, ok := rq.names[id]; ok {
		return name
	}
	name := s.lookupPerson(r, rq, id)
	if rq.names == nil {
		rq.names = map[int64]string{}
	}
	rq.names[id] = name
	return name
}

func (s *server) lookupPerson(r *http.Request, rq *request, id int64) string {
	name, err := s.opts.Tickets.FindPersonName(r.Context(), rq.Scope, id)
	if err != nil {
		return rq.tr.T("queue.who.person", "ID", id) // someone the caller does not meet on its tickets
	}
	return name
}

// queueExportLimit bounds an export: the queue's filters narrow a list
// larger than this. A longer list is cut, and both the page and the
// file's last row say so.
const queueExportLimit = 20000

func (s *server) queueExportMax() int {
	if s.exportMax > 0 {
		return s.exportMax
	}
	return queueExportLimit
}

// queueExport writes every row of the filtered list (all pages), at most
// queueExportMax of them; a cut list ends with a row that says so.
func (s *server) queueExport(w http.ResponseWriter, r *http.Request, rq *request, v *queueView, tf cmdb.TicketFilter, format string) error {
	T := rq.tr.T
	header := []string{T("queue.col.number"), T("queue.col.title"), T("queue.col.school"), T("queue.col.status"), T("queue.col.priority"),
		T("queue.col.level"), T("queue.col.group"), T("queue.col.assignee"), T("queue.col.due"), T("queue.col.sla"), T("queue.col.channel"), T("queue.col.created")}
	var out [][]string
	limit, total := s.queueExportMax(), 0
	tf.Limit, tf.Offset = min(1000, limit), 0
	for {
		ts, n, err := s.opts.Tickets.FindTickets(r.Context(), rq.Scope, tf)
		if err != nil {
			return err
		}
		total = n
		ts = ts[:min(len(ts), limit-tf.Offset)]
		rows, err := s.queueRows(r, rq, ts, v.Schools, v.Providers)
		if err != nil {
			return err
		}
		for _, row := range rows {
			t := row.T
			sla := ""
			if row.SLA != "" {
				sla = T("queue.sla." + row.SLA)
			}
			out = append(out, []string{t.Number, t.Title, row.School, T("status." + t.Status), strconv.Itoa(t.Priority),
				strconv.Itoa(t.Level), row.Group, row.Assignee, row.Due, sla, T("queue.channel." + t.Channel), rq.tr.DateTime(t.CreatedAt)})
		}
		tf.Offset += len(ts)
		if len(ts) == 0 || tf.Offset >= total || tf.Offset >= limit {
			break
		}
	}
	if total > len(out) && tf.Offset >= limit {
		cut := make([]string, len(header))
		cut[0] = T("queue.export.cut", "Limit", limit, "Total", total)
		out = append(out, cut)
	}
	return export(w, format, "tickets", header, out)
}

// saveFilter keeps the shown filter under a name for the caller.
func (s *server) saveFilter(w http.ResponseWriter, r *http.Request, rq *request) error {
	if s.opts.Queue == nil {
		return cmdb.Errorf(cmdb.ENOTFOUND, "no saved filters")
	}
	q, _ := url.ParseQuery(r.PostFormValue("query"))
	f := readQueueFilter(q)
	sf := &cmdb.SavedFilter{Name: r.PostFormValue("name"), Query: f.values().Encode()}
	if err := s.opts.Queue.SaveFilter(r.Context(), rq.Scope, sf); err != nil {
		fe, err := rq.queueStoreError(err, "name")
		if err != nil {
			return err
		}
		// Shown on the queue as it was, with what was typed.
		q, _ := url.ParseQuery(sf.Query)
		v, _, err := s.queuePage(r, rq, readQueueFilter(q))
		if err != nil {
			return err
		}
		for k, msg := range fe {
			v.Errors[k] = msg
		}
		v.FilterName = r.PostFormValue("name")
		s.render(w, r, rq, http.StatusUnprocessableEntity, "console_queue", "queue.title", v)
		return nil
	}
	http.Redirect(w, r, "/tickets?"+sf.Query+"&ok=saved", http.StatusSeeOther)
	return nil
}

// deleteFilter deletes one of the caller's saved filters.
func (s *server) deleteFilter(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || s.opts.Queue == nil {
		return cmdb.Errorf(cmdb.ENOTFOUND, "saved filter %q", r.PathValue("id"))
	}
	if err := s.opts.Queue.DeleteSavedFilter(r.Context(), rq.Scope, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/tickets?ok=deleted", http.StatusSeeOther)
	return nil
}

// LevelChoices lists the support levels of the filter.
func (queueView) LevelChoices() []string { return []string{"1", "2", "3"} }

// PriorityChoices lists the priorities of the filter.
func (queueView) PriorityChoices() []string { return []string{"1", "2", "3", "4", "5"} }

// queueStoreError is storeError with the queue's own words for the
// errors its forms meet (queue.error.<field>.<code>) where it has them.
func (rq *request) queueStoreError(err error, fields ...string) (fieldErrors, error) {
	fe, ierr := rq.storeError(err, fields...)
	if ierr != nil {
		return nil, ierr
	}
	var e *cmdb.Error
	if errors.As(err, &e) {
		if msg, ok := rq.tr.lookup("queue.error." + e.Field + "." + e.Code); ok {
			for k := range fe {
				fe[k] = msg
			}
		}
	}
	return fe, nil
}

// SavedURL is the queue's URL of a saved filter, its query read and
// written again the way the queue writes it.
func (v *queueView) SavedURL(f *cmdb.SavedFilter) template.URL {
	q, _ := url.ParseQuery(f.Query)
	return template.URL("/tickets?" + readQueueFilter(q).values().Encode())
}

// ExportURL is the URL of the list shown as a file in format.
func (v *queueView) ExportURL(format string) template.URL {
	q := v.Filter.values()
	q.Set("format", format)
	return template.URL("/tickets?" + q.Encode())
}
