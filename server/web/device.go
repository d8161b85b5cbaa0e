package web

import (
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// The report flow: a scanned label (/r/{code}) or a device card opens the
// device's report page (/melden/geraet/{id}); "my device is not listed"
// reports on the room (/melden/raum/{id}/melden). The page shows what is
// already reported (join it: "me too"), self-help articles, then the
// form; a report becomes a ticket with channel portal.

// maxMerges bounds how far a scanned code follows merged CIs: a merge
// chain longer than this is a data error, not a device to report.
const maxMerges = 5

// scan resolves a scanned label's short code to the device's report
// page. Every code the caller cannot report on (malformed, unknown,
// merged into nothing visible, another school's or tenant's, retired)
// gets the same page, so that a code tells nothing about other tenants.
func (s *server) scan(w http.ResponseWriter, r *http.Request, rq *request) error {
	ci, err := s.scannedCI(r, rq, r.PathValue("code"))
	switch code := cmdb.ErrorCode(err); {
	case err == nil:
		http.Redirect(w, r, "/melden/geraet/"+strconv.FormatInt(ci.ID, 10), http.StatusSeeOther)
		return nil
	case code == cmdb.EINVALID || code == cmdb.ENOTFOUND:
		s.render(w, r, rq, http.StatusNotFound, "code", "code.title", nil)
		return nil
	default:
		return err
	}
}

func (s *server) scannedCI(r *http.Request, rq *request, code string) (*cmdb.CI, error) {
	id, err := cmdb.ParseShortCode("code", code)
	if err != nil {
		return nil, err
	}
	for range maxMerges {
		ci, err := s.opts.CIs.FindCIByID(r.Context(), rq.Scope, id)
		if err != nil {
			return nil, err
		}
		if ci.MergedInto == 0 {
			if !reportable(ci) {
				return nil, cmdb.Errorf(cmdb.ENOTFOUND, "ci %d is %s", ci.ID, ci.Status)
			}
			return ci, nil
		}
		id = ci.MergedInto
	}
	return nil, cmdb.Errorf(cmdb.ENOTFOUND, "code %s: merge chain too long", code)
}

// maxHelp bounds the self-help articles a report page shows.
const maxHelp = 6

// reportable: a device that is gone (retired, disposed) or merged away
// takes no reports; its label is stale.
func reportable(ci *cmdb.CI) bool {
	return ci.MergedInto == 0 && ci.Status != cmdb.StatusRetired && ci.Status != cmdb.StatusDisposed
}

// reportView is the device (or room) report page.
type reportView struct {
	Action string // where the form posts
	Device *deviceLine
	CIID   int64
	Room   *cmdb.Room
	Open   []openTicket
	Help   []helpArticle // for the device, whatever is wrong
	// CatHelp are articles for some of its categories, shown by the
	// category choice (the script shows those of the one chosen).
	CatHelp []helpArticle
	Cats    []*cmdb.TicketCategory
	Form    reportForm
	Errors  fieldErrors
	MaxSize string // the photo limit in words
	Photo   bool   // the form takes a photo
	// Restored: the form shows a draft kept over a sign-in (draft.go).
	Restored *draftNotice
	// PhotoAgain: the form was refused with a good photo, which a file
	// field cannot show again.
	PhotoAgain bool
}

// reportForm is what was typed, kept when the form is refused.
type reportForm struct {
	Key         string
	CategoryID  int64
	Description string
	Urgency     int
}

// openTicket is one line of "already reported".
type openTicket struct {
	Number, What, When, Title string
	Watchers                  int
	Mine                      bool // the caller reported it
	Joined                    bool // the caller said "me too" already
}

// helpArticle is a self-help article; Body is the store's sanitised HTML.
type helpArticle struct {
	Title string
	Body  template.HTML
	// Categories are the ids it is for, space-separated ("" for all).
	Categories string
}

// urgencies are the form's choices in plain words, most urgent first
// (the message ids are report.urgency.<n>).
var urgencies = []int{1, 2, 3}

// Urgencies lists the urgency choices for the template.
func (v reportView) Urgencies() []int { return urgencies }

func (s *server) reportDevice(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := s.deviceReportView(r, rq)
	if err != nil {
		return err
	}
	s.restoreReport(w, r, rq, v)
	s.render(w, r, rq, http.StatusOK, "device", "device.title", v)
	return nil
}

func (s *server) reportRoomForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := s.roomReportView(r, rq)
	if err != nil {
		return err
	}
	s.restoreReport(w, r, rq, v)
	s.render(w, r, rq, http.StatusOK, "device", "device.title", v)
	return nil
}

// deviceReportView gathers the device page: the device, its open
// tickets, self-help and the categories of its class.
func (s *server) deviceReportView(r *http.Request, rq *request) (*reportView, error) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "ci %q", r.PathValue("id"))
	}
	ci, err := s.opts.CIs.FindCIByID(ctx, rq.Scope, id)
	if err != nil {
		return nil, err
	}
	if !reportable(ci) {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "ci %d is not reportable", id)
	}
	v := s.newReportView(rq)
	v.Action = "/melden/geraet/" + strconv.FormatInt(ci.ID, 10)
	v.CIID = ci.ID
	v.Device = &deviceLine{Name: ciName(ci), Class: ci.Class, AssetTag: ci.AssetTag}
	if ci.RoomID != 0 {
		if room, err := s.opts.Tenants.FindRoomByID(ctx, rq.Scope, ci.RoomID); err == nil {
			v.Room = room
		} else if cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			return nil, err
		}
	}
	open, _, err := s.opts.Tickets.FindTickets(ctx, rq.Scope, cmdb.TicketFilter{CIID: ci.ID, Statuses: []string{"open"}, Limit: 20})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(open))
	for i, t := range open {
		ids[i] = t.ID
	}
	joined, err := s.opts.Tickets.FindJoinedTickets(ctx, rq.Scope, ids)
	if err != nil {
		return nil, err
	}
	now := s.opts.Now()
	for _, t := range open {
		what := t.Category
		if what == "" {
			what = t.Title
		}
		v.Open = append(v.Open, openTicket{Number: t.Number, What: what, Title: t.Title, When: rq.tr.Day(t.CreatedAt, now),
			Watchers: t.Watchers, Mine: t.ReporterUserID != 0 && t.ReporterUserID == rq.User.ID, Joined: joined[t.ID]})
	}
	if s.opts.KB != nil {
		arts, _, err := s.opts.KB.FindKBArticles(ctx, rq.Scope, cmdb.KBFilter{Class: ci.Class,
			Model: strings.TrimSpace(ci.Vendor + " " + ci.Model), PublicOnly: true, Limit: maxHelp})
		if err != nil {
			return nil, err
		}
		for _, a := range arts {
			// BodyHTML is rendered from Markdown and sanitised by the
			// KB store when the article is saved (see cmdb.KBArticle);
			// that, and only that, makes it safe to put in as it is.
			h := helpArticle{Title: a.Title, Body: template.HTML(a.BodyHTML)}
			if len(a.CategoryIDs) == 0 {
				v.Help = append(v.Help, h)
				continue
			}
			ids := make([]string, len(a.CategoryIDs))
			for i, id := range a.CategoryIDs {
				ids[i] = strconv.FormatInt(id, 10)
			}
			h.Categories = strings.Join(ids, " ")
			v.CatHelp = append(v.CatHelp, h)
		}
	}
	cats, err := s.opts.Tickets.FindTicketCategories(ctx, rq.Scope, ci.Class)
	if err != nil {
		return nil, err
	}
	v.Cats = classCategories(cats, ci.Class)
	return v, nil
}

// roomReportView is the report page of a room without a device: the
// general categories only.
func (s *server) roomReportView(r *http.Request, rq *request) (*reportView, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "room %q", r.PathValue("id"))
	}
	room, err := s.reportRoomByID(r, rq, id)
	if err != nil {
		return nil, err
	}
	v := s.newReportView(rq)
	v.Action = "/melden/raum/" + strconv.FormatInt(room.ID, 10) + "/melden"
	v.Room = room
	cats, err := s.opts.Tickets.FindTicketCategories(r.Context(), rq.Scope, "general")
	if err != nil {
		return nil, err
	}
	v.Cats = classCategories(cats, "general")
	return v, nil
}

// classCategories keeps the categories of the class: a teacher at a
// projector picks among "Kein Bild", "Lampe", … (each class has its own
// "Sonstiges"), not among the general ones such as "Benutzerkonto". A
// class without categories of its own gets the whole list.
func classCategories(cats []*cmdb.TicketCategory, class string) []*cmdb.TicketCategory {
	var out []*cmdb.TicketCategory
	for _, c := range cats {
		if c.Class == class {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return cats
	}
	return out
}

func (s *server) newReportView(rq *request) *reportView {
	return &reportView{Errors: fieldErrors{}, Form: reportForm{Key: newFormKey()}, Photo: s.opts.Attachments != nil,
		MaxSize: cmdb.FormatBytes(s.attachmentLimits().MaxFileSize)}
}

func (s *server) attachmentLimits() cmdb.AttachmentLimits {
	return s.opts.AttachmentLimits.WithDefaults()
}

// newFormKey is the idempotency key of one rendered form: a second
// submit of the same form (a double tap, a reload) finds the first
// ticket instead of opening another.
func newFormKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "portal-" + hex.EncodeToString(b)
}

// report takes the report form of a device or a room.
func (s *server) report(w http.ResponseWriter, r *http.Request, rq *request) error {
	var v *reportView
	var err error
	if strings.HasPrefix(r.URL.Path, "/melden/geraet/") {
		v, err = s.deviceReportView(r, rq)
	} else {
		v, err = s.roomReportView(r, rq)
	}
	if err != nil {
		return err
	}
	in, err := s.readReport(w, r)
	if err != nil {
		return err
	}
	v.Form = in.form
	if v.Form.Key == "" {
		v.Form.Key = newFormKey()
	}
	for k, msg := range in.errors {
		v.Errors[k] = rq.tr.T(msg, "Max", v.MaxSize)
	}
	var cat *cmdb.TicketCategory
	for _, c := range v.Cats {
		if c.ID == v.Form.CategoryID {
			cat = c
		}
	}
	if cat == nil {
		v.Errors["category"] = rq.tr.T("report.category.required")
	}
	if strings.TrimSpace(v.Form.Description) == "" {
		v.Errors["description"] = rq.tr.T("report.description.required")
	}
	if v.Form.Urgency < 1 || v.Form.Urgency > 3 {
		v.Errors["urgency"] = rq.tr.T("report.urgency.required")
	}
	if len(v.Errors) > 0 {
		v.PhotoAgain = in.photo != nil
		s.render(w, r, rq, http.StatusUnprocessableEntity, "device", "device.title", v)
		return nil
	}
	t := &cmdb.Ticket{Type: cmdb.TicketIncident, CategoryID: cat.ID, Description: strings.TrimSpace(v.Form.Description),
		// One device (or one room) affects the people in the room: the
		// lowest impact; "me too" and staff raise it when more are hit.
		Impact: 3, Urgency: v.Form.Urgency, Channel: cmdb.ChannelPortal}
	place := ""
	if v.Room != nil {
		place = v.Room.Name
		t.RoomID = v.Room.ID
	}
	if v.Device != nil {
		t.CIIDs = []int64{v.CIID}
		place = v.Device.Name
		t.RoomID = 0 // the CI brings its room
	}
	t.Title = cat.Name + ": " + place
	if len([]rune(t.Title)) > 200 {
		t.Title = string([]rune(t.Title)[:200])
	}
	created, err := s.opts.Tickets.CreateTicket(r.Context(), rq.Scope, t, v.Form.Key)
	if err != nil {
		fe, err := rq.storeError(err, "category_id", "description", "urgency")
		if err != nil {
			return err
		}
		for k, msg := range fe {
			if k == "category_id" {
				k = "category"
			}
			v.Errors[k] = msg
		}
		s.render(w, r, rq, http.StatusUnprocessableEntity, "device", "device.title", v)
		return nil
	}
	photo := ""
	if created && in.photo != nil && s.opts.Attachments != nil {
		a := &cmdb.Attachment{TicketID: t.ID, FileName: in.photoName, Channel: cmdb.ChannelPortal}
		// The photo was checked before the ticket was opened; should the
		// store still refuse it, the report stands and the page says so.
		if err := s.opts.Attachments.AddTicketAttachment(r.Context(), rq.Scope, a, in.photo); err != nil {
			s.log.Warn("web: photo not attached", "ticket", t.Number, "err", err)
			photo = "failed"
		} else {
			photo = "ok"
		}
	}
	target := "/gemeldet/" + url.PathEscape(t.Number)
	if photo != "" {
		target += "?foto=" + photo
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// reported is the success page of a report or a request.
func (s *server) reported(w http.ResponseWriter, r *http.Request, rq *request) error {
	t, err := s.opts.Tickets.FindTicketByNumber(r.Context(), rq.Scope, r.PathValue("number"))
	if err != nil {
		return err
	}
	s.render(w, r, rq, http.StatusOK, "reported", "reported.title", reportedView{T: t, Photo: r.URL.Query().Get("foto")})
	return nil
}

type reportedView struct {
	T     *cmdb.Ticket
	Photo string
}

// meToo adds the caller to the people affected by an open ticket of the
// device and shows a confirmation.
func (s *server) meToo(w http.ResponseWriter, r *http.Request, rq *request) error {
	t, err := s.opts.Tickets.FindTicketByNumber(r.Context(), rq.Scope, r.PostFormValue("ticket"))
	if err != nil {
		return err
	}
	v := meTooView{T: t}
	t, err = s.opts.Tickets.AddTicketWatcher(r.Context(), rq.Scope, t.ID)
	switch cmdb.ErrorCode(err) {
	case "":
		v.T = t
	case cmdb.ECONFLICT: // solved in the meantime
		v.Closed = true
	default:
		return err
	}
	s.render(w, r, rq, http.StatusOK, "metoo", "metoo.title", v)
	return nil
}

type meTooView struct {
	T      *cmdb.Ticket
	Closed bool
}

func ciName(ci *cmdb.CI) string {
	if ci.Name != "" {
		return ci.Name
	}
	return strings.TrimSpace(ci.Vendor + " " + ci.Model)
}

// Day says when something happened in words: "heute", "gestern", "am
// Montag" within the last week, else "am 03.11.2026".
func (t *translator) Day(at, now time.Time) string {
	at, now = at.In(berlin), now.In(berlin)
	y1, m1, d1 := at.Date()
	y2, m2, d2 := now.Date()
	days := int(time.Date(y2, m2, d2, 12, 0, 0, 0, berlin).Sub(time.Date(y1, m1, d1, 12, 0, 0, 0, berlin)).Hours()+12) / 24
	switch {
	case days <= 0:
		return t.T("day.today")
	case days == 1:
		return t.T("day.yesterday")
	case days < 7:
		return t.T("day.weekday", "Day", t.T("weekday."+strconv.Itoa(int(at.Weekday()))))
	}
	return t.T("day.date", "Date", t.Date(at))
}
