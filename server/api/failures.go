package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

func (s *Server) listRepeatFailures(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	f := cmdb.RepeatFailureFilter{Class: r.URL.Query().Get("class")}
	var err error
	if f.AuthorityID, err = queryInt(r, "authority_id"); err != nil {
		return err
	}
	if f.SchoolID, err = queryInt(r, "school_id"); err != nil {
		return err
	}
	for name, dst := range map[string]*int{"limit": &f.Limit, "offset": &f.Offset} {
		v, err := queryInt(r, name)
		if err != nil {
			return err
		} else if v > 1<<30 {
			return cmdb.Invalid(name, "is too large")
		}
		*dst = int(v)
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	items, total, err := s.opts.Failures.FindRepeatFailures(r.Context(), sc, f)
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.CI]{Items: items, Total: total, Limit: f.Limit, Offset: f.Offset})
	return nil
}

func (s *Server) listFailurePatterns(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	authority, err := queryInt(r, "authority_id")
	if err != nil {
		return err
	}
	out, err := s.opts.Failures.FindFailurePatterns(r.Context(), sc, authority)
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.FailurePattern]{Items: out, Total: len(out)})
	return nil
}

// MergeTicketBody is the body of POST /tickets/{id}/merge: the ticket to
// merge into, by id (a number) or readable number (a string).
type MergeTicketBody struct {
	Into json.RawMessage `json:"into"`
}

func (s *Server) mergeTicket(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := s.ticketID(r, sc)
	if err != nil {
		return err
	}
	var in MergeTicketBody
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	into, err := s.mergeTarget(r, sc, in.Into)
	if err != nil {
		return err
	}
	t, err := s.opts.Tickets.MergeTicket(r.Context(), sc, id, into)
	if err != nil {
		return err
	}
	writeJSON(w, 200, t)
	return nil
}

// mergeTarget resolves "into": an id, or a number such as LKP-2026-00042
// (an invisible one is an unknown reference of the field).
func (s *Server) mergeTarget(r *http.Request, sc cmdb.Scope, raw json.RawMessage) (int64, error) {
	var n int64
	if err := json.Unmarshal(raw, &n); err == nil {
		if n <= 0 {
			return 0, cmdb.Invalid("into", "must be a positive ticket id or a ticket number")
		}
		return n, nil
	}
	var number string
	if err := json.Unmarshal(raw, &number); err != nil || strings.TrimSpace(number) == "" {
		return 0, cmdb.Invalid("into", "is required: a ticket id or a ticket number such as ABC-2026-00042")
	}
	if v, err := strconv.ParseInt(number, 10, 64); err == nil && v > 0 {
		return v, nil
	}
	t, err := s.opts.Tickets.FindTicketByNumber(r.Context(), sc, strings.TrimSpace(number))
	if cmdb.ErrorCode(err) == cmdb.ENOTFOUND {
		return 0, &cmdb.Error{Code: cmdb.EINVALID, Field: "into", Message: "No such ticket: " + number + "."}
	} else if err != nil {
		return 0, err
	}
	return t.ID, nil
}
