package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// TicketInput is the body of POST /tickets.
type TicketInput struct {
	Type           string  `json:"type"`
	Title          string  `json:"title"`
	Description    string  `json:"description"`
	CategoryID     int64   `json:"category_id"`
	Impact         int     `json:"impact"`
	Urgency        int     `json:"urgency"`
	Level          int     `json:"level"`
	CIIDs          []int64 `json:"ci_ids"`
	RoomID         int64   `json:"room_id"`
	SchoolID       int64   `json:"school_id"`
	AuthorityID    int64   `json:"authority_id"`
	ProviderID     int64   `json:"provider_id"`
	AssigneeUserID int64   `json:"assignee_user_id"`
	Channel        string  `json:"channel"`
	ReporterUserID int64   `json:"reporter_user_id"`
	OnBehalfOf     string  `json:"on_behalf_of"`
	// ServiceID and FormAnswers open a request against a catalogue service.
	ServiceID   int64          `json:"service_id"`
	FormAnswers map[string]any `json:"form_answers"`
}

// ticketID resolves the {id} path parameter: a numeric id or a readable
// number such as LKP-2026-00042.
func (s *Server) ticketID(r *http.Request, sc cmdb.Scope) (int64, error) {
	return s.ticketRef(r, sc, "id")
}

func (s *Server) createTicket(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in TicketInput
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	t := &cmdb.Ticket{Type: in.Type, Title: in.Title, Description: in.Description, CategoryID: in.CategoryID,
		Impact: in.Impact, Urgency: in.Urgency, Level: in.Level, CIIDs: in.CIIDs, RoomID: in.RoomID, SchoolID: in.SchoolID,
		AuthorityID: in.AuthorityID, ProviderID: in.ProviderID, AssigneeUserID: in.AssigneeUserID, Channel: in.Channel,
		ReporterUserID: in.ReporterUserID, OnBehalfOf: in.OnBehalfOf, ServiceID: in.ServiceID, FormAnswers: in.FormAnswers}
	if t.CIIDs == nil {
		t.CIIDs = []int64{}
	}
	created, err := s.opts.Tickets.CreateTicket(r.Context(), sc, t, strings.TrimSpace(r.Header.Get("Idempotency-Key")))
	if err != nil {
		return err
	}
	status := http.StatusOK // the same key again: the ticket made the first time
	if created {
		status = http.StatusCreated
	}
	w.Header().Set("Location", "/api/v1/tickets/"+strconv.FormatInt(t.ID, 10))
	writeJSON(w, status, t)
	return nil
}

func (s *Server) listTickets(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	q := r.URL.Query()
	f := cmdb.TicketFilter{Type: q.Get("type"), Group: q.Get("group"), Query: q.Get("q"), SLA: q.Get("sla")}
	for _, st := range strings.Split(q.Get("status"), ",") {
		if st = strings.TrimSpace(st); st != "" {
			f.Statuses = append(f.Statuses, st)
		}
	}
	ints := []struct {
		name string
		dst  *int64
	}{{"authority", &f.AuthorityID}, {"school", &f.SchoolID}, {"ci", &f.CIID}, {"service_id", &f.ServiceID}}
	for _, p := range ints {
		v, err := queryInt(r, p.name)
		if err != nil {
			return err
		}
		*p.dst = v
	}
	small := []struct {
		name string
		dst  *int
	}{{"level", &f.Level}, {"priority", &f.Priority}, {"limit", &f.Limit}, {"offset", &f.Offset}}
	for _, p := range small {
		v, err := queryInt(r, p.name)
		if err != nil {
			return err
		}
		if v > 1<<30 {
			return cmdb.Invalid(p.name, "is too large")
		}
		*p.dst = int(v)
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	items, total, err := s.opts.Tickets.FindTickets(r.Context(), sc, f)
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.Ticket]{Items: items, Total: total, Limit: f.Limit, Offset: f.Offset})
	return nil
}

func (s *Server) getTicket(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := s.ticketID(r, sc)
	if err != nil {
		return err
	}
	t, err := s.opts.Tickets.FindTicketByID(r.Context(), sc, id)
	if err != nil {
		return err
	}
	writeJSON(w, 200, t)
	return nil
}

func (s *Server) updateTicket(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := s.ticketID(r, sc)
	if err != nil {
		return err
	}
	var u cmdb.TicketUpdate
	if err := decode(w, r, maxBody, &u); err != nil {
		return err
	}
	u.Channel = cmdb.ChannelAPI
	t, err := s.opts.Tickets.UpdateTicket(r.Context(), sc, id, u)
	if err != nil {
		return err
	}
	writeJSON(w, 200, t)
	return nil
}

func (s *Server) addTicketComment(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := s.ticketID(r, sc)
	if err != nil {
		return err
	}
	var in struct {
		Body     string `json:"body"`
		Internal bool   `json:"internal"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	c := &cmdb.TicketComment{TicketID: id, Body: in.Body, Internal: in.Internal, Channel: cmdb.ChannelAPI}
	if err := s.opts.Tickets.AddTicketComment(r.Context(), sc, c); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) listTicketComments(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := s.ticketID(r, sc)
	if err != nil {
		return err
	}
	out, err := s.opts.Tickets.FindTicketComments(r.Context(), sc, id)
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.TicketComment]{Items: out, Total: len(out)})
	return nil
}

func (s *Server) addTicketWatcher(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := s.ticketID(r, sc)
	if err != nil {
		return err
	}
	t, err := s.opts.Tickets.AddTicketWatcher(r.Context(), sc, id)
	if err != nil {
		return err
	}
	writeJSON(w, 200, t)
	return nil
}

func (s *Server) listTicketHistory(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := s.ticketID(r, sc)
	if err != nil {
		return err
	}
	out, err := s.opts.Tickets.FindTicketHistory(r.Context(), sc, id)
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.TicketHistoryEntry]{Items: out, Total: len(out)})
	return nil
}

func (s *Server) listTicketCategories(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	out, err := s.opts.Tickets.FindTicketCategories(r.Context(), sc, r.URL.Query().Get("class"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.TicketCategory]{Items: out, Total: len(out)})
	return nil
}

// PriorityMatrixBody is the body of GET and PUT
// /authorities/{id}/priority-matrix: rows by impact 1–3, columns by
// urgency 1–3.
type PriorityMatrixBody struct {
	Matrix [][]int `json:"matrix"`
}

// matrix checks the body's shape and returns the matrix; the store checks
// the priorities.
func (b PriorityMatrixBody) matrix() (cmdb.PriorityMatrix, error) {
	var m cmdb.PriorityMatrix
	if len(b.Matrix) != 3 {
		return m, cmdb.Invalid("matrix", "must be 3 rows (impact 1–3) of 3 priorities (urgency 1–3)")
	}
	for i, row := range b.Matrix {
		if len(row) != 3 {
			return m, cmdb.Invalid(fmt.Sprintf("matrix[%d]", i), "must hold 3 priorities (urgency 1–3)")
		}
		copy(m[i][:], row)
	}
	return m, nil
}

func matrixBody(m cmdb.PriorityMatrix) PriorityMatrixBody {
	out := PriorityMatrixBody{}
	for _, row := range m {
		out.Matrix = append(out.Matrix, append([]int(nil), row[:]...))
	}
	return out
}
