package web

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/schulit/cmdb/server/cmdb"
)

// The device list (/cis) and a device's whole life on one page
// (/cis/{id}): header, one timeline of everything, identifiers, locks,
// software and plots of its metrics; hand edits of room, status and
// asset tag go through reconcile with the caller's source, so they lock
// what they change, as the API's PATCH does.

// devicePageSize is the length of a page of the list and the timeline.
const devicePageSize = 50

func (s *server) deviceRoutes(mux *http.ServeMux) {
	mux.Handle("GET /cis", s.staff(s.deviceList))
	mux.Handle("GET /cis/{id}", s.staff(s.devicePage))
	mux.Handle("POST /cis/{id}", s.staff(s.deviceEdit))
	mux.Handle("POST /cis/{id}/entsperren", s.staff(s.deviceUnlock))
	mux.Handle("GET /cis/{id}/etikett", s.staff(s.deviceLabel))
}

// deviceListView is the device search.
type deviceListView struct {
	Query, Class, Status string
	Vendor, Model        string
	SchoolID             int64
	AuthorityID          int64 // kept in the form when a link names one
	Schools              []*cmdb.School
	Classes, Statuses    []string
	Rows                 []deviceRow
	Total, Page, Pages   int
	Prev, Next           string
	CSV, XLSX            string
}

type deviceRow struct {
	ID                                    int64
	Name, Class, Status, AssetTag, Serial string
	ShortCode, Room, School               string
	Flagged                               bool
}

// deviceFilter reads the list's filter from its query parameters: q,
// klasse, schule, status, hersteller, modell (vendor and model match
// whole, ignoring case, as a model pattern of the dashboard names them)
// and traeger (an authority, for callers who see several).
func (s *server) deviceFilter(r *http.Request) (cmdb.CIFilter, int) {
	q := r.URL.Query()
	f := cmdb.CIFilter{Query: strings.TrimSpace(q.Get("q")), Class: q.Get("klasse"), Status: q.Get("status"),
		Vendor: strings.TrimSpace(q.Get("hersteller")), Model: strings.TrimSpace(q.Get("modell"))}
	f.SchoolID, _ = strconv.ParseInt(q.Get("schule"), 10, 64)
	f.AuthorityID, _ = strconv.ParseInt(q.Get("traeger"), 10, 64)
	page, _ := strconv.Atoi(q.Get("seite"))
	if page < 1 {
		page = 1
	}
	return f, page
}

// names caches room and school names of a page.
type names struct {
	s     *server
	r     *http.Request
	rq    *request
	rooms map[int64]string
	schls map[int64]string
}

func (n *names) room(id int64) string {
	if id == 0 {
		return ""
	}
	if v, ok := n.rooms[id]; ok {
		return v
	}
	v := ""
	if rm, err := n.s.opts.Tenants.FindRoomByID(n.r.Context(), n.rq.Scope, id); err == nil {
		v = rm.Name
	}
	n.rooms[id] = v
	return v
}

func (n *names) school(id int64) string {
	if id == 0 {
		return ""
	}
	if v, ok := n.schls[id]; ok {
		return v
	}
	v := ""
	if sc, err := n.s.opts.Tenants.FindSchoolByID(n.r.Context(), n.rq.Scope, id); err == nil {
		v = sc.Name
	}
	n.schls[id] = v
	return v
}

func (s *server) newNames(r *http.Request, rq *request) *names {
	return &names{s: s, r: r, rq: rq, rooms: map[int64]string{}, schls: map[int64]string{}}
}

func (s *server) deviceList(w http.ResponseWriter, r *http.Request, rq *request) error {
	f, page := s.deviceFilter(r)
	v := deviceListView{Query: f.Query, Class: f.Class, Status: f.Status, Vendor: f.Vendor, Model: f.Model,
		SchoolID: f.SchoolID, AuthorityID: f.AuthorityID, Page: page, Classes: cmdb.Classes, Statuses: cmdb.Statuses}
	if err := f.Validate(); err != nil {
		return err
	}
	nm := s.newNames(r, rq)
	row := func(ci *cmdb.CI) deviceRow {
		return deviceRow{ID: ci.ID, Name: ci.Name, Class: ci.Class, Status: ci.Status, AssetTag: ci.AssetTag, Serial: ci.Serial,
			ShortCode: ci.ShortCode, Room: nm.room(ci.RoomID), School: nm.school(ci.SchoolID), Flagged: ci.RepeatFailure != nil}
	}
	if format := exportFormat(r); format != "" {
		var rows [][]string
		for f.Offset, f.Limit = 0, 1000; ; f.Offset += f.Limit {
			cis, total, err := s.opts.CIs.FindCIs(r.Context(), rq.Scope, f)
			if err != nil {
				return err
			}
			for _, ci := range cis {
				d := row(ci)
				rows = append(rows, []string{d.Name, rq.tr.T("class." + d.Class), rq.tr.T("device.ci.status." + d.Status),
					d.AssetTag, d.Serial, d.ShortCode, d.School, d.Room})
			}
			if f.Offset+f.Limit >= total || len(cis) == 0 {
				break
			}
		}
		header := []string{rq.tr.T("device.ci.col.name"), rq.tr.T("device.ci.col.class"), rq.tr.T("device.ci.col.status"),
			rq.tr.T("device.ci.col.asset"), rq.tr.T("device.ci.col.serial"), rq.tr.T("device.ci.col.code"),
			rq.tr.T("device.ci.col.school"), rq.tr.T("device.ci.col.room")}
		return export(w, format, "geraete", header, rows)
	}
	f.Offset, f.Limit = (page-1)*devicePageSize, devicePageSize
	cis, total, err := s.opts.CIs.FindCIs(r.Context(), rq.Scope, f)
	if err != nil {
		return err
	}
	for _, ci := range cis {
		v.Rows = append(v.Rows, row(ci))
	}
	v.Total, v.Pages = total, (total+devicePageSize-1)/devicePageSize
	if v.Schools, err = s.opts.Tenants.FindSchools(r.Context(), rq.Scope, cmdb.TenantFilter{}); err != nil {
		return err
	}
	link := func(extra url.Values) string {
		q := url.Values{}
		for k, vs := range r.URL.Query() {
			if k != "seite" && k != "format" {
				q[k] = vs
			}
		}
		for k, vs := range extra {
			q[k] = vs
		}
		return "/cis?" + q.Encode()
	}
	if page > 1 {
		v.Prev = link(url.Values{"seite": {strconv.Itoa(page - 1)}})
	}
	if page < v.Pages {
		v.Next = link(url.Values{"seite": {strconv.Itoa(page + 1)}})
	}
	v.CSV, v.XLSX = link(url.Values{"format": {"csv"}}), link(url.Values{"format": {"xlsx"}})
	s.render(w, r, rq, http.StatusOK, "console_device_list", "device.ci.list.title", v)
	return nil
}

// deviceView is a device's page.
type deviceView struct {
	CI            *cmdb.CI
	Room, School  string
	Seen          []seenLine
	Repeat        string
	Timeline      []timelineLine
	Page          int
	Prev, Next    string
	Identifiers   []*cmdb.Identifier
	Locks         []*cmdb.Lock
	Software      []*cmdb.SoftwareItem
	SoftwareQuery string
	SoftwareTotal int
	Plots         []*plot
	Rooms         []*cmdb.Room
	Statuses      []string
	Form          deviceForm
	Errors        fieldErrors
	Stale         []timelineLine
	Saved         bool
	Label         bool
	// CanEdit: the caller may change the CI (hand edit, unlock); a
	// provider's staff only read the CIs of their tickets.
	CanEdit bool
}

type seenLine struct {
	Source string
	At     time.Time
}

// deviceForm is what the hand-edit form sends (and shows again when
// refused).
type deviceForm struct {
	RoomID   int64
	Status   string
	AssetTag string
	Version  string
}

// timelineLine is one entry of the timeline: an attribute change, a
// ticket, a health event, a merge or a lock change.
type timelineLine struct {
	At       time.Time
	Kind     string // change, ticket, health, merge, lock
	Attr     string
	Old, New string
	Source   string
	Number   string
	Title    string
	Status   string
	Open     bool
}

func ciVersion(ci *cmdb.CI) string { return strconv.FormatInt(ci.UpdatedAt.UnixNano(), 10) }

func (s *server) devicePage(w http.ResponseWriter, r *http.Request, rq *request) error {
	ci, err := s.pathCI(r, rq)
	if err != nil {
		return err
	}
	v, err := s.deviceView(r, rq, ci)
	if err != nil {
		return err
	}
	v.Saved = r.URL.Query().Get("gespeichert") != ""
	s.render(w, r, rq, http.StatusOK, "console_device", "device.ci.title", v)
	return nil
}

func (s *server) pathCI(r *http.Request, rq *request) (*cmdb.CI, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "no CI %q", r.PathValue("id"))
	}
	return s.opts.CIs.FindCIByID(r.Context(), rq.Scope, id)
}

func (s *server) deviceView(r *http.Request, rq *request, ci *cmdb.CI) (*deviceView, error) {
	ctx := r.Context()
	nm := s.newNames(r, rq)
	v := &deviceView{CI: ci, Room: nm.room(ci.RoomID), School: nm.school(ci.SchoolID), Statuses: cmdb.Statuses,
		Form:    deviceForm{RoomID: ci.RoomID, Status: ci.Status, AssetTag: ci.AssetTag, Version: ciVersion(ci)},
		Label:   ci.MergedInto == 0 && s.opts.Labels != nil,
		CanEdit: rq.Scope.CanWrite(ci.AuthorityID, ci.SchoolID)}
	if f := ci.RepeatFailure; f != nil {
		v.Repeat = rq.tr.T("device.ci.repeat.reason", "Count", f.Count, "Days", f.WindowDays, "Tickets", strings.Join(f.Tickets, ", "))
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("seite"))
	if page < 1 {
		page = 1
	}
	v.Page = page
	// The parts of the page are independent reads: ask the store for
	// them at once, so the page takes as long as its slowest part.
	var g errgroup.Group
	base := "/cis/" + strconv.FormatInt(ci.ID, 10)
	g.Go(func() error {
		lines, more, err := s.timeline(r, rq, ci.ID, page)
		if err != nil {
			return err
		}
		v.Timeline = lines
		if page > 1 {
			v.Prev = base + "?seite=" + strconv.Itoa(page-1) + "#verlauf"
		}
		if more {
			v.Next = base + "?seite=" + strconv.Itoa(page+1) + "#verlauf"
		}
		return nil
	})
	g.Go(func() (err error) {
		v.Identifiers, err = s.opts.CIs.FindIdentifiers(ctx, rq.Scope, ci.ID)
		return err
	})
	if s.opts.Dashboard != nil {
		g.Go(func() error {
			srcs, err := s.opts.Dashboard.FindCISources(ctx, rq.Scope, ci.ID)
			v.Seen = seenLines(rq, srcs)
			return err
		})
	}
	g.Go(func() (err error) {
		v.Locks, err = s.opts.CIs.FindLocks(ctx, rq.Scope, ci.ID)
		return err
	})
	if s.opts.Agents != nil {
		g.Go(func() error {
			sw, err := s.opts.Agents.FindSoftware(ctx, rq.Scope, ci.ID)
			if err != nil {
				return err
			}
			v.SoftwareTotal = len(sw)
			v.SoftwareQuery = strings.TrimSpace(r.URL.Query().Get("software"))
			q := strings.ToLower(v.SoftwareQuery)
			for _, it := range sw {
				if q == "" || strings.Contains(strings.ToLower(it.Name+" "+it.Version+" "+it.Publisher), q) {
					v.Software = append(v.Software, it)
				}
			}
			return nil
		})
	}
	if s.opts.SNMP != nil {
		g.Go(func() (err error) {
			v.Plots, err = s.devicePlots(r, rq, ci)
			return err
		})
	}
	if ci.SchoolID != 0 && v.CanEdit {
		g.Go(func() (err error) {
			v.Rooms, err = s.opts.Tenants.FindRooms(ctx, rq.Scope, cmdb.TenantFilter{SchoolID: ci.SchoolID})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return v, nil
}

// seenLines says when each source last saw the CI, newest first: the
// time of its last observation (ci_sources), also one that changed
// nothing — not of the last value it changed. Hand edits of all people
// are one line.
func seenLines(rq *request, srcs []cmdb.SourceSeen) []seenLine {
	last := map[string]time.Time{}
	for _, x := range srcs {
		name := sourceName(rq, x.Source)
		if cmdb.SourceKind(x.Source) == cmdb.SourceUser {
			name = rq.tr.T("device.ci.seen.user")
		}
		if x.LastSeen.After(last[name]) {
			last[name] = x.LastSeen
		}
	}
	out := make([]seenLine, 0, len(last))
	for name, at := range last {
		out = append(out, seenLine{name, at})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.After(out[j].At)
		}
		return out[i].Source < out[j].Source
	})
	return out
}

// timeline merges the CI's history, tickets and health events, newest
// first, and returns one page of it and whether there is more. Each
// source is read only as far as the page reaches.
func (s *server) timeline(r *http.Request, rq *request, ciID int64, page int) ([]timelineLine, bool, error) {
	ctx := r.Context()
	want := page*devicePageSize + 1
	var (
		g    errgroup.Group
		hist []*cmdb.HistoryEntry
		tks  []*cmdb.Ticket
		evs  []*cmdb.HealthEvent
	)
	g.Go(func() (err error) {
		hist, err = s.opts.CIs.FindHistory(ctx, rq.Scope, ciID, want)
		return err
	})
	g.Go(func() (err error) {
		tks, _, err = s.opts.Tickets.FindTickets(ctx, rq.Scope, cmdb.TicketFilter{CIID: ciID, Limit: min(want, 1000)})
		return err
	})
	if s.opts.SNMP != nil {
		g.Go(func() (err error) {
			evs, err = s.opts.SNMP.FindHealthEvents(ctx, rq.Scope, ciID)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, false, err
	}
	nm := s.newNames(r, rq)
	var out []timelineLine
	for _, h := range hist {
		l := timelineLine{At: h.At, Kind: "change", Attr: h.Attr, Source: h.Source, Old: deref(h.Old), New: deref(h.New)}
		switch {
		case strings.HasPrefix(h.Attr, "merge"):
			l.Kind = "merge"
		case strings.HasPrefix(h.Attr, "lock."):
			l.Kind, l.Attr = "lock", strings.TrimPrefix(h.Attr, "lock.")
			word := func(v string) string {
				if v == "locked" || v == "unlocked" {
					return rq.tr.T("device.ci.tl." + v)
				}
				return v
			}
			l.Old, l.New = word(l.Old), word(l.New)
		case h.Attr == cmdb.AttrRoom:
			l.Old, l.New = orText(nm.room(parseIDText(l.Old)), l.Old), orText(nm.room(parseIDText(l.New)), l.New)
		case h.Attr == cmdb.AttrSchool:
			l.Old, l.New = orText(nm.school(parseIDText(l.Old)), l.Old), orText(nm.school(parseIDText(l.New)), l.New)
		case h.Attr == cmdb.AttrStatus || h.Attr == cmdb.AttrClass:
			// In words, as the header says them, not the stored code.
			prefix := "device.ci.status."
			if h.Attr == cmdb.AttrClass {
				prefix = "class."
			}
			word := func(v string) string {
				if w, ok := rq.tr.lookup(prefix + v); ok && v != "" {
					return w
				}
				return v
			}
			l.Old, l.New = word(l.Old), word(l.New)
		}
		out = append(out, l)
	}
	for _, t := range tks {
		out = append(out, timelineLine{At: t.CreatedAt, Kind: "ticket", Number: t.Number, Title: t.Title, Status: t.Status})
	}
	for _, e := range evs {
		out = append(out, timelineLine{At: e.At, Kind: "health", Attr: string(e.Kind), Title: e.Subject, Open: e.Open})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	from := (page - 1) * devicePageSize
	if from >= len(out) {
		return nil, false, nil
	}
	to := min(from+devicePageSize, len(out))
	return out[from:to], len(out) > to, nil
}

func orText(v, alt string) string {
	if v == "" {
		return alt
	}
	return v
}

// parseIDText reads a room or school id as history records it.
func parseIDText(v string) int64 {
	id, _ := strconv.ParseInt(v, 10, 64)
	return id
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// deviceEdit takes the hand-edit form: room, status, asset tag. A form
// sent for an older state of the CI is refused with what changed since.
func (s *server) deviceEdit(w http.ResponseWriter, r *http.Request, rq *request) error {
	ci, err := s.pathCI(r, rq)
	if err != nil {
		return err
	}
	form := deviceForm{Status: r.PostFormValue("status"), AssetTag: strings.TrimSpace(r.PostFormValue("asset_tag")),
		Version: r.PostFormValue("version")}
	form.RoomID, _ = strconv.ParseInt(r.PostFormValue("room"), 10, 64)
	refuse := func(errs fieldErrors, stale []timelineLine) error {
		v, err := s.deviceView(r, rq, ci)
		if err != nil {
			return err
		}
		v.Form, v.Errors, v.Stale = form, errs, stale
		v.Form.Version = ciVersion(ci)
		s.render(w, r, rq, http.StatusUnprocessableEntity, "console_device", "device.ci.title", v)
		return nil
	}
	if form.Version != ciVersion(ci) {
		since, _ := strconv.ParseInt(form.Version, 10, 64)
		hist, err := s.opts.CIs.FindHistory(r.Context(), rq.Scope, ci.ID, 20)
		if err != nil {
			return err
		}
		var changed []timelineLine
		for _, h := range hist {
			if h.At.UnixNano() > since {
				changed = append(changed, timelineLine{At: h.At, Kind: "change", Attr: h.Attr, Source: h.Source, Old: deref(h.Old), New: deref(h.New)})
			}
		}
		return refuse(fieldErrors{"form": rq.tr.T("device.ci.edit.stale")}, changed)
	}
	o := cmdb.Observation{Source: rq.Scope.Source(), CIID: ci.ID, AuthorityID: ci.AuthorityID, Attributes: map[string]string{}}
	changed := false
	switch {
	case form.RoomID == ci.RoomID:
	case form.RoomID == 0:
		// "–": the device stands in no room (of its school) now.
		o.Clear, changed = append(o.Clear, cmdb.AttrRoom), true
	default:
		o.RoomID, changed = form.RoomID, true
	}
	if form.Status != ci.Status {
		o.Status, changed = form.Status, true
	}
	if form.AssetTag != ci.AssetTag {
		if form.AssetTag == "" {
			o.Clear = append(o.Clear, cmdb.AttrAssetTag)
		} else {
			o.AssetTag = form.AssetTag
		}
		changed = true
	}
	if changed {
		if _, err := s.opts.CIs.Reconcile(r.Context(), rq.Scope, []cmdb.Observation{o}); err != nil {
			errs, err := rq.storeError(trimObsField(err), "room", "status", "asset_tag")
			if err != nil {
				return err
			}
			return refuse(errs, nil)
		}
	}
	http.Redirect(w, r, "/cis/"+strconv.FormatInt(ci.ID, 10)+"?gespeichert=1", http.StatusSeeOther)
	return nil
}

// trimObsField names the form's field for an error of the one
// observation a hand edit sends.
func trimObsField(err error) error {
	e, ok := err.(*cmdb.Error)
	if !ok {
		return err
	}
	c := *e
	c.Field = strings.TrimPrefix(c.Field, "observations[0].")
	if c.Field == "room_id" {
		c.Field = "room"
	}
	return &c
}

// deviceUnlock releases a hand edit's lock, so sources may change the
// attribute again.
func (s *server) deviceUnlock(w http.ResponseWriter, r *http.Request, rq *request) error {
	ci, err := s.pathCI(r, rq)
	if err != nil {
		return err
	}
	if err := s.opts.CIs.ReleaseLock(r.Context(), rq.Scope, ci.ID, r.PostFormValue("attr")); err != nil && cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		return err
	}
	http.Redirect(w, r, "/cis/"+strconv.FormatInt(ci.ID, 10)+"#sperren", http.StatusSeeOther)
	return nil
}

// LabelPrinter writes the QR label sheet (PDF) of one CI; cmd/cmdbd
// wires server/labels, which the web package does not import.
type LabelPrinter interface {
	CILabel(w http.ResponseWriter, r *http.Request, sc cmdb.Scope, ci *cmdb.CI) error
}

func (s *server) deviceLabel(w http.ResponseWriter, r *http.Request, rq *request) error {
	ci, err := s.pathCI(r, rq)
	if err != nil {
		return err
	}
	if s.opts.Labels == nil || ci.MergedInto != 0 {
		return cmdb.Errorf(cmdb.ENOTFOUND, "no label for CI %d", ci.ID)
	}
	return s.opts.Labels.CILabel(w, r, rq.Scope, ci)
}
