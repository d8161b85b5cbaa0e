package api

import (
	"net/http"
	"strconv"

	"github.com/schulit/cmdb/server/cmdb"
)

// ServiceInput is the body of POST /services.
type ServiceInput struct {
	AuthorityID     int64            `json:"authority_id"`
	Name            string           `json:"name"`
	Description     string           `json:"description"`
	Active          *bool            `json:"active"`
	Position        int              `json:"position"`
	ProviderID      int64            `json:"provider_id"`
	Level           int              `json:"level"`
	ResponseMinutes *int             `json:"response_minutes"`
	ResolveMinutes  *int             `json:"resolve_minutes"`
	Form            []cmdb.FormField `json:"form"`
}

func (s *Server) listServices(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	a, err := queryInt(r, "authority")
	if err != nil {
		return err
	}
	f := cmdb.ServiceFilter{AuthorityID: a}
	switch v := r.URL.Query().Get("inactive"); v {
	case "", "false":
	case "true":
		f.Inactive = true
	default:
		return cmdb.Invalid("inactive", "must be true or false")
	}
	out, err := s.opts.Catalogue.FindServices(r.Context(), sc, f)
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.Service]{Items: out, Total: len(out)})
	return nil
}

func (s *Server) createService(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in ServiceInput
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	v := &cmdb.Service{AuthorityID: in.AuthorityID, Name: in.Name, Description: in.Description, Active: in.Active == nil || *in.Active,
		Position: in.Position, ProviderID: in.ProviderID, Level: in.Level, ResponseMinutes: in.ResponseMinutes,
		ResolveMinutes: in.ResolveMinutes, Form: in.Form}
	if err := s.opts.Catalogue.CreateService(r.Context(), sc, v); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/services/"+strconv.FormatInt(v.ID, 10))
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) getService(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := s.opts.Catalogue.FindServiceByID(r.Context(), sc, id)
	if err != nil {
		return err
	}
	writeJSON(w, 200, v)
	return nil
}

func (s *Server) updateService(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var u cmdb.ServiceUpdate
	if err := decode(w, r, maxBody, &u); err != nil {
		return err
	}
	v, err := s.opts.Catalogue.UpdateService(r.Context(), sc, id, u)
	if err != nil {
		return err
	}
	writeJSON(w, 200, v)
	return nil
}

// deactivateService answers DELETE /services/{id}: the service is no
// longer offered; its tickets keep it.
func (s *Server) deactivateService(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	off := false
	if _, err := s.opts.Catalogue.UpdateService(r.Context(), sc, id, cmdb.ServiceUpdate{Active: &off}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) createTicketCategory(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in cmdb.TicketCategoryInput
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	c, err := s.opts.Catalogue.CreateTicketCategory(r.Context(), sc, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) updateTicketCategory(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := queryInt(r, "authority")
	if err != nil {
		return err
	}
	var in cmdb.TicketCategoryInput
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	if in.AuthorityID != 0 {
		return cmdb.Invalid("authority_id", "cannot change; name the authority of a default with ?authority=")
	}
	c, err := s.opts.Catalogue.UpdateTicketCategory(r.Context(), sc, id, a, in)
	if err != nil {
		return err
	}
	writeJSON(w, 200, c)
	return nil
}

// deactivateTicketCategory answers DELETE /ticket-categories/{id}: the
// authority's own category is deactivated, a platform default hidden for
// the authority (?authority=, needed when the caller has several).
func (s *Server) deactivateTicketCategory(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := queryInt(r, "authority")
	if err != nil {
		return err
	}
	off := false
	if _, err := s.opts.Catalogue.UpdateTicketCategory(r.Context(), sc, id, a, cmdb.TicketCategoryInput{Active: &off}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
