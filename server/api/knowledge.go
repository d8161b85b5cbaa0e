package api

import (
	"net/http"
	"strconv"

	"github.com/schulit/cmdb/server/cmdb"
)

// KBArticleInput is the body of POST /kb-articles. The rendered HTML,
// the version and who wrote it are the server's, not the caller's.
type KBArticleInput struct {
	AuthorityID    int64    `json:"authority_id"`
	Title          string   `json:"title"`
	BodyMD         string   `json:"body_md"`
	Public         bool     `json:"public"`
	Classes        []string `json:"classes"`
	Models         []string `json:"models"`
	CategoryIDs    []int64  `json:"category_ids"`
	SourceTicketID int64    `json:"source_ticket_id"`
}

// KBArticleJSON is an article as the API shows it: the stored fields,
// with the Markdown rendered and sanitised as html (safe to put into a
// page as it is).
type KBArticleJSON struct {
	*cmdb.KBArticle
	// BodyHTML hides the domain's body_html (always empty here, so left
	// out): the API names the rendered body html, once.
	BodyHTML string `json:"body_html,omitempty"`
	HTML     string `json:"html"`
}

func kbJSON(a *cmdb.KBArticle) KBArticleJSON { return KBArticleJSON{KBArticle: a, HTML: a.BodyHTML} }

func (s *Server) kb() (cmdb.KBStore, error) {
	if s.opts.KB == nil {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "The knowledge base is not offered by this server.")
	}
	return s.opts.KB, nil
}

// queryBool parses an optional boolean query parameter.
func queryBool(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, cmdb.Invalid(name, "must be true or false, not %q", v)
	}
	return b, nil
}

// querySmall parses an optional small non-negative integer parameter
// (a limit or an offset).
func querySmall(r *http.Request, name string) (int, error) {
	v, err := queryInt(r, name)
	if err != nil {
		return 0, err
	}
	if v > 1<<30 {
		return 0, cmdb.Invalid(name, "is too large")
	}
	return int(v), nil
}

func (s *Server) listKBArticles(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	kb, err := s.kb()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := cmdb.KBFilter{Query: q.Get("q"), Class: q.Get("class"), Model: q.Get("model")}
	if f.AuthorityID, err = queryInt(r, "authority_id"); err != nil {
		return err
	}
	if f.CategoryID, err = queryInt(r, "category_id"); err != nil {
		return err
	}
	if f.PublicOnly, err = queryBool(r, "public_only"); err != nil {
		return err
	}
	if f.Limit, err = querySmall(r, "limit"); err != nil {
		return err
	}
	if f.Offset, err = querySmall(r, "offset"); err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = 20
	}
	items, total, err := kb.FindKBArticles(r.Context(), sc, f)
	if err != nil {
		return err
	}
	out := make([]KBArticleJSON, len(items))
	for i, a := range items {
		out[i] = kbJSON(a)
	}
	writeJSON(w, 200, list[KBArticleJSON]{Items: out, Total: total, Limit: f.Limit, Offset: f.Offset})
	return nil
}

func (s *Server) createKBArticle(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	kb, err := s.kb()
	if err != nil {
		return err
	}
	var in KBArticleInput
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	a := &cmdb.KBArticle{AuthorityID: in.AuthorityID, Title: in.Title, BodyMD: in.BodyMD, Public: in.Public, Classes: in.Classes,
		Models: in.Models, CategoryIDs: in.CategoryIDs, SourceTicketID: in.SourceTicketID}
	if err := kb.CreateKBArticle(r.Context(), sc, a); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/kb-articles/"+strconv.FormatInt(a.ID, 10))
	writeJSON(w, http.StatusCreated, kbJSON(a))
	return nil
}

func (s *Server) getKBArticle(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	kb, err := s.kb()
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := kb.FindKBArticleByID(r.Context(), sc, id)
	if err != nil {
		return err
	}
	writeJSON(w, 200, kbJSON(a))
	return nil
}

func (s *Server) updateKBArticle(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	kb, err := s.kb()
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var u cmdb.KBArticleUpdate
	if err := decode(w, r, maxBody, &u); err != nil {
		return err
	}
	a, err := kb.UpdateKBArticle(r.Context(), sc, id, u)
	if err != nil {
		return err
	}
	writeJSON(w, 200, kbJSON(a))
	return nil
}

func (s *Server) deleteKBArticle(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	kb, err := s.kb()
	if err != nil {
		return err
	}
	return noContent(func(r *http.Request, sc cmdb.Scope, id int64) error {
		return kb.DeleteKBArticle(r.Context(), sc, id)
	})(w, r, sc)
}

// draftKBArticle makes an internal article from a resolved ticket's
// solution (POST /tickets/{id}/kb-draft), for IT to edit and publish.
func (s *Server) draftKBArticle(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	kb, err := s.kb()
	if err != nil {
		return err
	}
	id, err := s.ticketID(r, sc)
	if err != nil {
		return err
	}
	a, err := kb.DraftKBArticleFromTicket(r.Context(), sc, id)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/kb-articles/"+strconv.FormatInt(a.ID, 10))
	writeJSON(w, http.StatusCreated, kbJSON(a))
	return nil
}
