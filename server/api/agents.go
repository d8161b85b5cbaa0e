package api

import (
	"net/http"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

func (s *Server) listEnrolmentTokens(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	school, err := queryInt(r, "school")
	if err != nil {
		return err
	}
	out, err := s.opts.Agents.FindEnrolmentTokens(r.Context(), sc, school)
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.EnrolmentToken]{Items: out, Total: len(out)})
	return nil
}

func (s *Server) createEnrolmentToken(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in struct {
		SchoolID  int64     `json:"school_id"`
		Name      string    `json:"name"`
		MaxUses   int       `json:"max_uses"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	t := &cmdb.EnrolmentToken{SchoolID: in.SchoolID, Name: in.Name, MaxUses: in.MaxUses, ExpiresAt: in.ExpiresAt}
	tok, err := s.opts.Agents.CreateEnrolmentToken(r.Context(), sc, t)
	if err != nil {
		return err
	}
	// The only time the token is shown.
	writeJSON(w, http.StatusCreated, struct {
		*cmdb.EnrolmentToken
		Token string `json:"token"`
	}{t, tok.Reveal()})
	return nil
}
