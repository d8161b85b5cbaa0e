package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// The duplicates review (/duplikate): pairs of CIs an identify rule could
// not tell apart, side by side — identifiers, sources, last seen and
// history — to merge (choosing which one stays) or dismiss. Wrong merges
// are worse than duplicates, so nothing happens without a human's choice.

type dupRow struct {
	ID      int64
	A, B    link
	Rule    string
	Created time.Time
}

type dupsView struct {
	Rows       []dupRow
	Total      int
	From, To   int
	Prev, Next string
	CSV, XLSX  string
	Done       string // "merged" or "dismissed" after a decision
	Kept       link
}

// dupSide is one CI of a candidate.
type dupSide struct {
	Label       string // A or B
	CI          *cmdb.CI
	Class       string
	School      string
	Room        string
	Identifiers []*cmdb.Identifier
	Sources     []dupSeen
	History     []histLine
}

// histLine is a history entry in words: the attribute's label, and
// classes, statuses and schools by name rather than code or id.
type histLine struct {
	At                     time.Time
	Attr, Old, New, Source string
}

type dupSeen struct {
	Source string
	At     time.Time
}

type dupView struct {
	D      *cmdb.DuplicateCandidate
	Rule   string // the identify rule, as people say it
	A, B   *dupSide
	Sides  []*dupSide // A and B, for the page's two columns
	Keep   int64      // what was chosen, kept on a refused submit
	Errors fieldErrors
	// ResolvedBy names who merged or dismissed it when it is no longer
	// open (maybe someone else, meanwhile).
	ResolvedBy string
	Meanwhile  bool // it was decided by someone else while this caller looked
}

// duplicates lists the open candidates a page at a time (?page=), or all
// of them as a file (?format=csv|xlsx).
func (s *server) duplicates(w http.ResponseWriter, r *http.Request, rq *request) error {
	if format := exportFormat(r); format != "" {
		return s.duplicatesExport(w, r, rq, format)
	}
	page := 1
	if p := r.URL.Query().Get("page"); p != "" {
		var err error
		if page, err = strconv.Atoi(p); err != nil || page < 1 || page > 1<<20 {
			return cmdb.Invalid("page", "must be a page number")
		}
	}
	f := cmdb.DuplicateFilter{Limit: dashPageSize, Offset: (page - 1) * dashPageSize}
	ds, total, err := s.opts.CIs.FindDuplicates(r.Context(), rq.Scope, f)
	if err != nil {
		return err
	}
	v := dupsView{Total: total, Done: r.URL.Query().Get("ok"), CSV: "/duplikate?format=csv", XLSX: "/duplikate?format=xlsx"}
	if len(ds) > 0 {
		v.From, v.To = f.Offset+1, f.Offset+len(ds)
	}
	if page > 1 {
		v.Prev = "/duplikate?page=" + strconv.Itoa(page-1)
	}
	if f.Offset+len(ds) < total {
		v.Next = "/duplikate?page=" + strconv.Itoa(page+1)
	}
	if v.Done != "merged" && v.Done != "dismissed" {
		v.Done = ""
	}
	if id, err := strconv.ParseInt(r.URL.Query().Get("ci"), 10, 64); err == nil && v.Done == "merged" {
		if ci, err := s.opts.CIs.FindCIByID(r.Context(), rq.Scope, id); err == nil {
			v.Kept = link{Text: ci.Name, Href: "/cis/" + strconv.FormatInt(ci.ID, 10)}
		}
	}
	v.Rows = s.dupRows(r, rq, ds, map[int64]string{})
	s.render(w, r, rq, http.StatusOK, "console_dash_dups", "dups.title", v)
	return nil
}

// dupRows names the CIs of the candidates; names caches them across
// calls.
func (s *server) dupRows(r *http.Request, rq *request, ds []*cmdb.DuplicateCandidate, names map[int64]string) []dupRow {
	name := func(id int64) link {
		n, ok := names[id]
		if !ok {
			if ci, err := s.opts.CIs.FindCIByID(r.Context(), rq.Scope, id); err == nil {
				n = ci.Name
			}
			names[id] = n
		}
		if n == "" {
			n = "#" + strconv.FormatInt(id, 10)
		}
		return link{Text: n, Href: "/cis/" + strconv.FormatInt(id, 10)}
	}
	rows := make([]dupRow, 0, len(ds))
	for _, d := range ds {
		rows = append(rows, dupRow{ID: d.ID, A: name(d.CIA), B: name(d.CIB), Rule: ruleName(rq, d.Rule), Created: d.CreatedAt})
	}
	return rows
}

// duplicatesExport writes every open candidate, the columns of the list.
func (s *server) duplicatesExport(w http.ResponseWriter, r *http.Request, rq *request, format string) error {
	T := rq.tr.T
	header := []string{T("dups.col.a"), T("dups.col.b"), T("dups.col.rule"), T("dups.col.since")}
	var out [][]string
	names := map[int64]string{}
	f := cmdb.DuplicateFilter{Limit: 1000}
	for {
		ds, total, err := s.opts.CIs.FindDuplicates(r.Context(), rq.Scope, f)
		if err != nil {
			return err
		}
		for _, row := range s.dupRows(r, rq, ds, names) {
			out = append(out, []string{row.A.Text, row.B.Text, row.Rule, rq.tr.Date(row.Created)})
		}
		f.Offset += len(ds)
		if len(ds) == 0 || f.Offset >= total {
			break
		}
	}
	return export(w, format, "duplikate", header, out)
}

// ruleName names an identify rule as people say it.
func ruleName(rq *request, rule string) string {
	if m, ok := rq.tr.lookup("dups.rule." + rule); ok {
		return m
	}
	return rule
}

func (s *server) duplicate(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := s.dupView(r, rq)
	if err != nil {
		return err
	}
	s.render(w, r, rq, http.StatusOK, "console_dash_dup", "dups.review.title", v)
	return nil
}

// dupView loads the candidate of the path and, while it is open, both
// of its CIs.
func (s *server) dupView(r *http.Request, rq *request) (*dupView, error) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "no candidate %q", r.PathValue("id"))
	}
	d, err := s.opts.Dashboard.FindDuplicateCandidate(ctx, rq.Scope, id)
	if err != nil {
		return nil, err
	}
	v := &dupView{D: d, Rule: ruleName(rq, d.Rule), Errors: fieldErrors{}}
	if d.Status != cmdb.DupOpen {
		v.ResolvedBy = s.subjectName(ctx, rq, d.ResolvedBy)
		return v, nil
	}
	if v.A, err = s.dupSide(ctx, rq, d.CIA); err != nil {
		return nil, err
	}
	if v.B, err = s.dupSide(ctx, rq, d.CIB); err != nil {
		return nil, err
	}
	v.A.Label, v.B.Label = "A", "B"
	v.Sides = []*dupSide{v.A, v.B}
	return v, nil
}

// subjectName names the subject ("user:42") that decided, else says it
// as it is.
func (s *server) subjectName(ctx context.Context, rq *request, subject string) string {
	if n, ok := strings.CutPrefix(subject, "user:"); ok {
		if id, err := strconv.ParseInt(n, 10, 64); err == nil {
			if rq.User != nil && id == rq.User.ID {
				return rq.tr.T("dups.you")
			}
			if u, err := s.opts.Accounts.FindUserByID(ctx, rq.Scope, id); err == nil && u.Name != "" {
				return u.Name
			}
		}
	}
	return subject
}

func (s *server) dupSide(ctx context.Context, rq *request, id int64) (*dupSide, error) {
	ci, err := s.opts.CIs.FindCIByID(ctx, rq.Scope, id)
	if err != nil {
		return nil, err
	}
	side := &dupSide{CI: ci, Class: rq.tr.T("class." + ci.Class)}
	if ci.SchoolID != 0 {
		if sc, err := s.opts.Tenants.FindSchoolByID(ctx, rq.Scope, ci.SchoolID); err == nil {
			side.School = sc.Name
		}
	}
	if ci.RoomID != 0 {
		if room, err := s.opts.Tenants.FindRoomByID(ctx, rq.Scope, ci.RoomID); err == nil {
			side.Room = room.Name
		}
	}
	if side.Identifiers, err = s.opts.CIs.FindIdentifiers(ctx, rq.Scope, id); err != nil {
		return nil, err
	}
	seen, err := s.opts.Dashboard.FindCISources(ctx, rq.Scope, id)
	if err != nil {
		return nil, err
	}
	for _, x := range seen {
		side.Sources = append(side.Sources, dupSeen{Source: sourceName(rq, x.Source), At: x.LastSeen})
	}
	hist, err := s.opts.CIs.FindHistory(ctx, rq.Scope, id, 20)
	if err != nil {
		return nil, err
	}
	schools := map[string]string{}
	value := func(attr string, v *string) string {
		if v == nil || *v == "" {
			return "–"
		}
		switch attr {
		case cmdb.AttrClass:
			return rq.tr.T("class." + *v)
		case cmdb.AttrStatus:
			if m, ok := rq.tr.lookup("dups.status." + *v); ok {
				return m
			}
		case cmdb.AttrSchool:
			if n, ok := schools[*v]; ok {
				return n
			}
			n := *v
			if sid, err := strconv.ParseInt(*v, 10, 64); err == nil {
				if sc, err := s.opts.Tenants.FindSchoolByID(ctx, rq.Scope, sid); err == nil {
					n = sc.Name
				}
			}
			schools[*v] = n
			return n
		}
		return *v
	}
	for _, h := range hist {
		label := h.Attr
		if m, ok := rq.tr.lookup("dups.attr." + h.Attr); ok {
			label = m
		}
		side.History = append(side.History, histLine{At: h.At, Attr: label, Old: value(h.Attr, h.Old), New: value(h.Attr, h.New),
			Source: sourceName(rq, h.Source)})
	}
	return side, nil
}

func (s *server) duplicateAction(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := s.dupView(r, rq)
	if err != nil {
		return err
	}
	if v.D.Status != cmdb.DupOpen {
		// Someone else decided while this page was open.
		v.Meanwhile = true
		s.render(w, r, rq, http.StatusConflict, "console_dash_dup", "dups.review.title", v)
		return nil
	}
	ctx := r.Context()
	switch r.PostFormValue("action") {
	case "merge":
		keep, _ := strconv.ParseInt(r.PostFormValue("keep"), 10, 64)
		v.Keep = keep
		if keep != v.D.CIA && keep != v.D.CIB {
			v.Errors["keep"] = rq.tr.T("dups.keep.required")
			s.render(w, r, rq, http.StatusBadRequest, "console_dash_dup", "dups.review.title", v)
			return nil
		}
		if _, err := s.opts.CIs.MergeDuplicate(ctx, rq.Scope, v.D.ID, keep); err != nil {
			return s.dupRefused(w, r, rq, v, err)
		}
		http.Redirect(w, r, "/duplikate?ok=merged&ci="+strconv.FormatInt(keep, 10), http.StatusSeeOther)
	case "dismiss":
		if err := s.opts.CIs.DismissDuplicate(ctx, rq.Scope, v.D.ID); err != nil {
			return s.dupRefused(w, r, rq, v, err)
		}
		http.Redirect(w, r, "/duplikate?ok=dismissed", http.StatusSeeOther)
	default:
		v.Errors["keep"] = rq.tr.T("dups.action.required")
		s.render(w, r, rq, http.StatusBadRequest, "console_dash_dup", "dups.review.title", v)
	}
	return nil
}

// dupRefused shows why a decision was refused next to the choice; a
// candidate someone else decided meanwhile says so instead.
func (s *server) dupRefused(w http.ResponseWriter, r *http.Request, rq *request, v *dupView, err error) error {
	if cmdb.ErrorCode(err) == cmdb.ECONFLICT {
		if again, rerr := s.dupView(r, rq); rerr == nil && again.D.Status != cmdb.DupOpen {
			again.Meanwhile = true
			s.render(w, r, rq, http.StatusConflict, "console_dash_dup", "dups.review.title", again)
			return nil
		}
	}
	errs, err := rq.storeError(err, "keep")
	if err != nil {
		return err
	}
	if msg, ok := errs["form"]; ok {
		errs = fieldErrors{"keep": msg}
	}
	v.Errors = errs
	s.render(w, r, rq, http.StatusConflict, "console_dash_dup", "dups.review.title", v)
	return nil
}
