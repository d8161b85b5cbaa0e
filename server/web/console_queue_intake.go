package web

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// Phone intake (/tickets/neu): staff open a ticket on behalf of a
// teacher who called — pick the person (a search of the authority's
// users), then the school, room and device as the portal's report flow
// does, then what is wrong. Each step is a plain GET link or search, so
// it works without script; the ticket comes in with channel phone.

type intakeView struct {
	Query   string // the person search
	People  []personChoice
	Person  *cmdb.User
	Schools []*cmdb.School
	School  *cmdb.School
	// RoomQuery searches the school's rooms (the portal's picker).
	RoomQuery string
	Buildings []buildingRooms
	Matches   int
	Room      *cmdb.Room
	Devices   []deviceLine
	Device    *deviceLine
	NoDevice  bool // the report is on the room itself
	Cats      []*cmdb.TicketCategory
	Form      intakeForm
	Errors    fieldErrors
	Base      string // the step's URL query so far
}

type intakeForm struct {
	Key, Title, Description string
	CategoryID              int64
	Impact, Urgency         int
}

// Urgencies lists the urgency choices (report.urgency.<n>).
func (intakeView) Urgencies() []int { return urgencies }

// Impacts lists the impact choices (queue.impact.<n>).
func (intakeView) Impacts() []int { return []int{1, 2, 3} }

func (s *server) intake(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := s.intakeView(r, rq, r.URL.Query())
	if err != nil {
		return err
	}
	v.Form = intakeForm{Key: newFormKey(), Impact: 3, Urgency: 2}
	s.render(w, r, rq, http.StatusOK, "console_queue_intake", "queue.intake.title", v)
	return nil
}

// intakeView gathers the steps chosen so far from q: person, school,
// room (its search), device.
func (s *server) intakeView(r *http.Request, rq *request, q url.Values) (*intakeView, error) {
	if providerOnly(rq.Scope) {
		return nil, cmdb.Errorf(cmdb.EFORBIDDEN, "providers do not open tickets for the authority")
	}
	ctx := r.Context()
	v := &intakeView{Query: strings.TrimSpace(q.Get("q")), RoomQuery: strings.TrimSpace(q.Get("raumsuche")), Errors: fieldErrors{}}
	base := url.Values{}
	if id, _ := strconv.ParseInt(q.Get("person"), 10, 64); id > 0 {
		u, err := s.opts.Accounts.FindUserByID(ctx, rq.Scope, id)
		if err != nil {
			return nil, err
		}
		v.Person = u
		base.Set("person", strconv.FormatInt(u.ID, 10))
	} else {
		if v.Query != "" {
			us, err := s.opts.Accounts.FindUsers(ctx, rq.Scope)
			if err != nil {
				return nil, err
			}
			needle := strings.ToLower(v.Query)
			for _, u := range us {
				if !u.Disabled && strings.Contains(strings.ToLower(u.Name+" "+u.Email), needle) && len(v.People) < 20 {
					v.People = append(v.People, personChoice{ID: u.ID, Label: u.Name + " <" + u.Email + ">"})
				}
			}
		}
		return v, nil
	}
	schools, err := s.opts.Tenants.FindSchools(ctx, rq.Scope, cmdb.TenantFilter{})
	if err != nil {
		return nil, err
	}
	v.Schools = schools
	sid, _ := strconv.ParseInt(q.Get("schule"), 10, 64)
	if sid == 0 { // the person's own school, when they have one
		for _, m := range v.Person.Memberships {
			if m.OrgKind == "school" && slices.ContainsFunc(schools, func(sc *cmdb.School) bool { return sc.ID == m.OrgID }) {
				sid = m.OrgID
				break
			}
		}
	}
	if sid == 0 && len(schools) == 1 {
		sid = schools[0].ID
	}
	for _, sc := range schools {
		if sc.ID == sid {
			v.School = sc
		}
	}
	if v.School == nil {
		if sid != 0 {
			return nil, cmdb.Errorf(cmdb.ENOTFOUND, "school %d", sid)
		}
		v.Base = base.Encode()
		return v, nil
	}
	base.Set("schule", strconv.FormatInt(v.School.ID, 10))
	rid, _ := strconv.ParseInt(q.Get("raum"), 10, 64)
	if rid == 0 {
		if v.Buildings, v.Matches, err = s.schoolRooms(r, rq, v.School, v.RoomQuery); err != nil {
			return nil, err
		}
		v.Base = base.Encode()
		return v, nil
	}
	room, err := s.opts.Tenants.FindRoomByID(ctx, rq.Scope, rid)
	if err != nil {
		return nil, err
	}
	if room.SchoolID != v.School.ID {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "room %d", rid)
	}
	v.Room = room
	base.Set("raum", strconv.FormatInt(room.ID, 10))
	v.Base = base.Encode()
	cis, _, err := s.opts.CIs.FindCIs(ctx, rq.Scope, cmdb.CIFilter{RoomID: room.ID, Limit: 200})
	if err != nil {
		return nil, err
	}
	class := "general"
	gid := q.Get("geraet")
	for _, ci := range cis {
		if !reportable(ci) {
			continue
		}
		d := deviceLine{ID: ci.ID, Name: ciName(ci), Class: ci.Class, AssetTag: ci.AssetTag}
		v.Devices = append(v.Devices, d)
		if gid == strconv.FormatInt(ci.ID, 10) {
			v.Device, class = &d, ci.Class
		}
	}
	v.NoDevice = gid == "0"
	if v.Device == nil && !v.NoDevice {
		return v, nil
	}
	cats, err := s.opts.Tickets.FindTicketCategories(ctx, rq.Scope, class)
	if err != nil {
		return nil, err
	}
	v.Cats = classCategories(cats, class)
	return v, nil
}

// intakeCreate opens the ticket for the person who called.
func (s *server) intakeCreate(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := r.ParseForm(); err != nil {
		return cmdb.Invalid("form", "cannot be read: %v", err)
	}
	v, err := s.intakeView(r, rq, r.PostForm)
	if err != nil {
		return err
	}
	f := intakeForm{Key: r.PostFormValue("key"), Title: strings.TrimSpace(r.PostFormValue("title")), Description: strings.TrimSpace(r.PostFormValue("description"))}
	f.CategoryID, _ = strconv.ParseInt(r.PostFormValue("category"), 10, 64)
	f.Impact, _ = strconv.Atoi(r.PostFormValue("impact"))
	f.Urgency, _ = strconv.Atoi(r.PostFormValue("urgency"))
	if f.Key == "" {
		f.Key = newFormKey()
	}
	v.Form = f
	if v.Person == nil || v.Room == nil || (v.Device == nil && !v.NoDevice) {
		v.Errors["form"] = rq.tr.T("queue.intake.incomplete")
	}
	var cat *cmdb.TicketCategory
	for _, c := range v.Cats {
		if c.ID == f.CategoryID {
			cat = c
		}
	}
	if cat == nil {
		v.Errors["category"] = rq.tr.T("report.category.required")
	}
	if f.Description == "" {
		v.Errors["description"] = rq.tr.T("report.description.required")
	}
	if len(v.Errors) > 0 {
		s.render(w, r, rq, http.StatusUnprocessableEntity, "console_queue_intake", "queue.intake.title", v)
		return nil
	}
	name := v.Person.Name
	if name == "" {
		name = v.Person.Email
	}
	t := &cmdb.Ticket{Type: cmdb.TicketIncident, CategoryID: cat.ID, Description: f.Description, Impact: f.Impact, Urgency: f.Urgency,
		Channel: cmdb.ChannelPhone, ReporterUserID: v.Person.ID, OnBehalfOf: name, Title: f.Title}
	place := v.Room.Name
	if v.Device != nil {
		t.CIIDs, place = []int64{v.Device.ID}, v.Device.Name
	} else {
		t.RoomID = v.Room.ID
	}
	if t.Title == "" {
		t.Title = cat.Name + ": " + place
	}
	if _, err := s.opts.Tickets.CreateTicket(r.Context(), rq.Scope, t, f.Key); err != nil {
		fe, err := rq.queueStoreError(err, "title", "description", "impact", "urgency", "category_id")
		if err != nil {
			return err
		}
		for k, msg := range fe {
			if k == "category_id" {
				k = "category"
			}
			v.Errors[k] = msg
		}
		s.render(w, r, rq, http.StatusUnprocessableEntity, "console_queue_intake", "queue.intake.title", v)
		return nil
	}
	http.Redirect(w, r, "/tickets/"+url.PathEscape(t.Number)+"?ok=created", http.StatusSeeOther)
	return nil
}

// Step is the URL of the next step: the steps chosen so far and key=id
// (key "": the steps so far alone).
func (v *intakeView) Step(key string, id int64) template.URL {
	q, _ := url.ParseQuery(v.Base)
	if key != "" {
		q.Set(key, strconv.FormatInt(id, 10))
	}
	return template.URL("/tickets/neu?" + q.Encode())
}
