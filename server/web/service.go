package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// serviceView is a catalogue service's request form. Its fields are the
// service's data (cmdb.FormField); the answers are checked by the store.
type serviceView struct {
	Service *cmdb.Service
	Fields  []formField
	Key     string
	Errors  fieldErrors
	// Restored: the answers are a draft kept over a sign-in (draft.go).
	Restored *draftNotice
}

// formField is one field as the template draws it.
type formField struct {
	cmdb.FormField
	Label   string // in the page's language
	Value   string // what was typed
	Checked bool
	Choices []choice // select, room and ci
	Error   string
}

type choice struct{ Value, Label string }

func (s *server) serviceForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	var typed url.Values
	d := s.takeDraft(w, r, rq) // what was typed before a sign-in, if anything
	if d != nil {
		typed = d.Fields
	}
	v, err := s.serviceView(r, rq, typed)
	if err != nil {
		return err
	}
	v.Key = newFormKey()
	if d != nil {
		v.Restored = &draftNotice{}
		if k := d.Fields.Get("key"); k != "" {
			v.Key = k
		}
	}
	s.render(w, r, rq, http.StatusOK, "service", "service.title", v)
	return nil
}

// serviceView gathers the service and its fields, filled with the
// answers typed (nil: none).
func (s *server) serviceView(r *http.Request, rq *request, typed url.Values) (*serviceView, error) {
	if s.opts.Catalogue == nil {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "no catalogue")
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "service %q", r.PathValue("id"))
	}
	svc, err := s.opts.Catalogue.FindServiceByID(r.Context(), rq.Scope, id)
	if err != nil {
		return nil, err
	}
	if !svc.Active {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "service %d is inactive", id)
	}
	v := &serviceView{Service: svc, Errors: fieldErrors{}}
	var rooms []choice
	var cis []choice
	for _, f := range svc.Form {
		ff := formField{FormField: f, Label: f.Label, Value: typed.Get("f_" + f.Key), Checked: typed.Get("f_"+f.Key) == "true"}
		if rq.Lang == cmdb.LangEN && f.LabelEn != "" {
			ff.Label = f.LabelEn
		}
		switch f.Type {
		case cmdb.FieldSelect:
			for _, o := range f.Options {
				ff.Choices = append(ff.Choices, choice{Value: o, Label: o})
			}
		case cmdb.FieldRoom:
			if rooms == nil {
				if rooms, err = s.roomChoices(r, rq); err != nil {
					return nil, err
				}
			}
			ff.Choices = rooms
		case cmdb.FieldCI:
			if cis == nil {
				found, _, err := s.opts.CIs.FindCIs(r.Context(), rq.Scope, cmdb.CIFilter{Limit: 200})
				if err != nil {
					return nil, err
				}
				cis = []choice{}
				for _, ci := range found {
					label := ciName(ci)
					if ci.AssetTag != "" {
						label += " (" + ci.AssetTag + ")"
					}
					cis = append(cis, choice{Value: strconv.FormatInt(ci.ID, 10), Label: label})
				}
			}
			ff.Choices = cis
		}
		v.Fields = append(v.Fields, ff)
	}
	return v, nil
}

// roomChoices lists the rooms of the caller's schools, by name.
func (s *server) roomChoices(r *http.Request, rq *request) ([]choice, error) {
	rooms, err := s.opts.Tenants.FindRooms(r.Context(), rq.Scope, cmdb.TenantFilter{})
	if err != nil {
		return nil, err
	}
	out := []choice{}
	for _, room := range rooms {
		out = append(out, choice{Value: strconv.FormatInt(room.ID, 10), Label: room.Name})
	}
	return out, nil
}

// serviceRequest opens a request against the service with the form's
// answers; the store checks them, and its errors (form_answers.<key>)
// are shown next to their fields.
func (s *server) serviceRequest(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := r.ParseForm(); err != nil {
		return cmdb.Invalid("form", "cannot be read: %v", err)
	}
	v, err := s.serviceView(r, rq, r.PostForm)
	if err != nil {
		return err
	}
	v.Key = r.PostFormValue("key")
	if v.Key == "" {
		v.Key = newFormKey()
	}
	answers := map[string]any{}
	t := &cmdb.Ticket{Type: cmdb.TicketRequest, ServiceID: v.Service.ID, Title: v.Service.Name,
		Impact: 3, Urgency: 3, Channel: cmdb.ChannelPortal, FormAnswers: answers}
	for _, f := range v.Fields {
		val := strings.TrimSpace(r.PostFormValue("f_" + f.Key))
		switch f.Type {
		case cmdb.FieldCheckbox:
			answers[f.Key] = val == "true"
		default:
			if val != "" {
				answers[f.Key] = val
			}
		}
		// A room named in the form places the request there.
		if f.Type == cmdb.FieldRoom && t.RoomID == 0 {
			t.RoomID, _ = strconv.ParseInt(val, 10, 64)
		}
	}
	if t.RoomID == 0 {
		// Without a room the request belongs to the caller's school.
		schools, err := s.opts.Tenants.FindSchools(r.Context(), rq.Scope, cmdb.TenantFilter{})
		if err != nil {
			return err
		}
		if len(schools) > 0 {
			t.SchoolID = schools[0].ID
		}
	}
	if _, err := s.opts.Tickets.CreateTicket(r.Context(), rq.Scope, t, v.Key); err != nil {
		var e *cmdb.Error
		key, isAnswer := "", false
		if errors.As(err, &e) && e.Code == cmdb.EINVALID {
			key, isAnswer = strings.CutPrefix(e.Field, "form_answers.")
		}
		placed := false
		for i := range v.Fields {
			if isAnswer && v.Fields[i].Key == key {
				v.Fields[i].Error = answerError(rq, v.Fields[i], e.Message)
				placed = true
			}
		}
		if !placed {
			fe, err := rq.storeError(err)
			if err != nil {
				return err
			}
			v.Errors = fe
		}
		s.render(w, r, rq, http.StatusUnprocessableEntity, "service", "service.title", v)
		return nil
	}
	http.Redirect(w, r, "/gemeldet/"+url.PathEscape(t.Number), http.StatusSeeOther)
	return nil
}

// answerError words a refused answer for a person: the store's rule
// (cmdb.ValidateAnswers) in the catalogue's words and how to fix it.
func answerError(rq *request, f formField, rule string) string {
	id := "service.answer.invalid"
	switch {
	case strings.Contains(rule, "required") && f.Type == cmdb.FieldCheckbox:
		id = "service.answer.tick"
	case strings.Contains(rule, "required") && (f.Type == cmdb.FieldSelect || f.Type == cmdb.FieldRoom || f.Type == cmdb.FieldCI):
		id = "service.answer.choose"
	case strings.Contains(rule, "required"):
		id = "service.answer.required"
	case strings.Contains(rule, "too long"):
		id = "service.answer.too_long"
	case f.Type == cmdb.FieldNumber:
		id = "service.answer.number"
	case f.Type == cmdb.FieldDate:
		id = "service.answer.date"
	case f.Type == cmdb.FieldSelect || f.Type == cmdb.FieldRoom || f.Type == cmdb.FieldCI:
		id = "service.answer.choose"
	}
	return rq.tr.T(id, "Max", f.MaxLength)
}
