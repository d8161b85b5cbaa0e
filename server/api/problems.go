package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

func (s *Server) problems() (cmdb.ProblemStore, error) {
	if s.opts.Problems == nil {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "Problem management is not offered by this server.")
	}
	return s.opts.Problems, nil
}

// problemID resolves the {id} path parameter: a numeric id or the
// readable number PRB-<id>.
func problemID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	if n, ok := strings.CutPrefix(strings.ToUpper(v), "PRB-"); ok {
		v = n
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, cmdb.Invalid("id", "must be a problem id or number such as PRB-12")
	}
	return id, nil
}

func (s *Server) listProblems(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	ps, err := s.problems()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := cmdb.ProblemFilter{Status: q.Get("status"), Origin: q.Get("origin")}
	if f.AuthorityID, err = queryInt(r, "authority_id"); err != nil {
		return err
	}
	if f.Limit, err = querySmall(r, "limit"); err != nil {
		return err
	}
	if f.Offset, err = querySmall(r, "offset"); err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	items, total, err := ps.FindProblems(r.Context(), sc, f)
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.Problem]{Items: items, Total: total, Limit: f.Limit, Offset: f.Offset})
	return nil
}

func (s *Server) createProblem(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	ps, err := s.problems()
	if err != nil {
		return err
	}
	var in cmdb.NewProblem
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	p, err := ps.CreateProblem(r.Context(), sc, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/problems/"+strconv.FormatInt(p.ID, 10))
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (s *Server) getProblem(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	ps, err := s.problems()
	if err != nil {
		return err
	}
	id, err := problemID(r)
	if err != nil {
		return err
	}
	p, err := ps.FindProblemByID(r.Context(), sc, id)
	if err != nil {
		return err
	}
	writeJSON(w, 200, p)
	return nil
}

func (s *Server) updateProblem(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	ps, err := s.problems()
	if err != nil {
		return err
	}
	id, err := problemID(r)
	if err != nil {
		return err
	}
	var u cmdb.ProblemUpdate
	if err := decode(w, r, maxBody, &u); err != nil {
		return err
	}
	p, err := ps.UpdateProblem(r.Context(), sc, id, u)
	if err != nil {
		return err
	}
	writeJSON(w, 200, p)
	return nil
}

func (s *Server) listProblemHistory(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	ps, err := s.problems()
	if err != nil {
		return err
	}
	id, err := problemID(r)
	if err != nil {
		return err
	}
	out, err := ps.FindProblemHistory(r.Context(), sc, id)
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.ProblemHistoryEntry]{Items: out, Total: len(out)})
	return nil
}

// problemTicket serves PUT and DELETE /problems/{id}/tickets/{ticket_id}:
// put the ticket (by id or number) into the problem or take it out, and
// answer with the problem.
func (s *Server) problemTicket(link bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
		ps, err := s.problems()
		if err != nil {
			return err
		}
		id, err := problemID(r)
		if err != nil {
			return err
		}
		tid, err := s.ticketRef(r, sc, "ticket_id")
		if err != nil {
			return err
		}
		do := ps.UnlinkProblemTicket
		if link {
			do = ps.LinkProblemTicket
		}
		p, err := do(r.Context(), sc, id, tid)
		if err != nil {
			return err
		}
		writeJSON(w, 200, p)
		return nil
	}
}

// ticketRef resolves a path parameter naming a ticket by id or number.
func (s *Server) ticketRef(r *http.Request, sc cmdb.Scope, name string) (int64, error) {
	v := r.PathValue(name)
	if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
		return id, nil
	}
	if strings.Count(v, "-") >= 2 && len(v) <= 64 {
		t, err := s.opts.Tickets.FindTicketByNumber(r.Context(), sc, v)
		if err != nil {
			return 0, err
		}
		return t.ID, nil
	}
	return 0, cmdb.Invalid(name, "must be a ticket id or a ticket number such as ABC-2026-00042")
}
