package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// The staff's ticket page: the ticket, its devices (health, repeat-failure
// flag, their last tickets), the conversation with internal notes, the
// attachments, the history, and a form per thing staff do — assign,
// escalate or hand to a provider, set the status, resolve with a
// solution, comment, attach, merge a duplicate, link to a problem, draft a
// knowledge-base article. Every changing form carries the ticket's
// updated_at as the page showed it ("seen"): the store refuses an edit
// made on a stale page and the page shows what changed meanwhile.

// seenLayout is how a form carries the ticket's updated_at: exact to the
// nanosecond, so that the store's compare is exact.
const seenLayout = time.RFC3339Nano

type staffTicketView struct {
	T        *cmdb.Ticket
	Seen     string
	School   string
	Room     string
	Group    string
	Assignee string
	Reporter string
	Creator  string // who opened it, in words (when no person reported it)
	Devices  []ciPanel
	Comments []staffComment
	Files    []*cmdb.Attachment
	History  []historyLine
	// Choices of the forms.
	Providers   []*cmdb.Provider
	People      []personChoice
	Transitions []string
	Problems    []*cmdb.Problem
	Problem     *cmdb.Problem
	// Provider: the caller is a provider's staff (comment, waiting,
	// resolved only).
	Provider bool
	Form     staffTicketForm
	Errors   fieldErrors
	// Stale lists what someone else changed since the refused form's page.
	Stale []historyLine
	Saved string
	// DueResolve and DueResponse are the SLA's due times in words, SLA
	// its state; Answered: the first response was given.
	DueResolve, DueResponse, SLA string
	Answered                     bool
	Draft                        *cmdb.KBArticle
	KB                           bool // drafting a KB article is offered
	Photo                        string
}

// staffTicketForm is what was typed, kept when a form is refused.
type staffTicketForm struct {
	Action, Body, Solution, Into string
	Internal                     bool
}

// ciPanel is one linked device on the ticket page.
type ciPanel struct {
	CI      *cmdb.CI
	Name    string
	Room    string
	Health  []*cmdb.HealthEvent // the conditions open now
	Tickets []*cmdb.Ticket      // its last other tickets
}

type staffComment struct {
	C      *cmdb.TicketComment
	Author string
}

type historyLine struct {
	At                   time.Time
	Who, Field, Old, New string
}

type personChoice struct {
	ID    int64
	Label string
}

// Levels lists the support levels.
func (staffTicketView) Levels() []int { return []int{1, 2, 3} }

func (s *server) queueTicket(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := s.staffTicketView(r, rq)
	if err != nil {
		return err
	}
	v.Saved = r.URL.Query().Get("ok")
	v.Photo = r.URL.Query().Get("foto")
	if id, _ := strconv.ParseInt(r.URL.Query().Get("entwurf"), 10, 64); id > 0 && s.opts.KB != nil {
		if a, err := s.opts.KB.FindKBArticleByID(r.Context(), rq.Scope, id); err == nil {
			v.Draft = a
		}
	}
	s.render(w, r, rq, http.StatusOK, "console_queue_ticket", "queue.ticket.title", v)
	return nil
}

// staffTicketView gathers the page.
func (s *server) staffTicketView(r *http.Request, rq *request) (*staffTicketView, error) {
	ctx := r.Context()
	t, err := s.opts.Tickets.FindTicketByNumber(ctx, rq.Scope, r.PathValue("number"))
	if err != nil {
		return nil, err
	}
	v := &staffTicketView{T: t, Seen: t.UpdatedAt.Format(seenLayout), Errors: fieldErrors{}, Provider: providerOnly(rq.Scope),
		Transitions: cmdb.AllowedTransitions(t.Status)}
	if v.Provider {
		// A provider's staff comment and set waiting or resolved.
		v.Transitions = slices.DeleteFunc(v.Transitions, func(st string) bool {
			return st != cmdb.StatusWaiting && st != cmdb.StatusResolved && st != cmdb.StatusInProgress
		})
	}
	if v.Providers, err = s.opts.Tenants.FindProviders(ctx, rq.Scope); err != nil {
		return nil, err
	}
	if sla := t.SLA; sla != nil {
		v.SLA, v.Answered = sla.State, sla.FirstResponseAt != nil
		if sla.State == cmdb.SLANone {
			v.SLA = ""
		}
		if sla.ResolveDue != nil {
			v.DueResolve = rq.tr.DateTime(*sla.ResolveDue)
		}
		if sla.FirstResponseDue != nil {
			v.DueResponse = rq.tr.DateTime(*sla.FirstResponseDue)
		}
	}
	v.Group = s.groupName(rq, t.ProviderID, v.Providers)
	if t.AssigneeUserID != 0 {
		v.Assignee = s.personName(r, rq, t.AssigneeUserID)
	}
	if t.ReporterUserID != 0 {
		v.Reporter = s.personName(r, rq, t.ReporterUserID)
	}
	v.Creator = s.whoName(r, rq, t.CreatedBy)
	if t.SchoolID != 0 {
		if sc, err := s.opts.Tenants.FindSchoolByID(ctx, rq.Scope, t.SchoolID); err == nil {
			v.School = sc.Name
		}
	}
	if t.RoomID != 0 {
		if room, err := s.opts.Tenants.FindRoomByID(ctx, rq.Scope, t.RoomID); err == nil {
			v.Room = room.Name
		}
	}
	for _, id := range t.CIIDs {
		p, err := s.ciPanel(r, rq, t, id)
		if cmdb.ErrorCode(err) == cmdb.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		v.Devices = append(v.Devices, *p)
	}
	cs, err := s.opts.Tickets.FindTicketComments(ctx, rq.Scope, t.ID)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		author := s.whoName(r, rq, c.Author)
		if c.AuthorUserID != 0 {
			author = s.personName(r, rq, c.AuthorUserID)
		}
		v.Comments = append(v.Comments, staffComment{C: c, Author: author})
	}
	if s.opts.Attachments != nil {
		if v.Files, err = s.opts.Attachments.FindTicketAttachments(ctx, rq.Scope, t.ID); err != nil {
			return nil, err
		}
	}
	hs, err := s.opts.Tickets.FindTicketHistory(ctx, rq.Scope, t.ID)
	if err != nil {
		return nil, err
	}
	for i := len(hs) - 1; i >= 0 && len(v.History) < 20; i-- { // the newest first
		v.History = append(v.History, s.historyLine(r, rq, hs[i], v.Providers))
	}
	if !v.Provider {
		if v.People, err = s.assignable(r, rq, t); err != nil {
			return nil, err
		}
		if s.opts.Problems != nil {
			if t.ProblemID != 0 {
				if p, err := s.opts.Problems.FindProblemByID(ctx, rq.Scope, t.ProblemID); err == nil {
					v.Problem = p
				}
			}
			ps, _, err := s.opts.Problems.FindProblems(ctx, rq.Scope, cmdb.ProblemFilter{AuthorityID: t.AuthorityID, Limit: 100})
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				if p.Status != cmdb.ProblemClosed {
					v.Problems = append(v.Problems, p)
				}
			}
		}
		v.KB = s.opts.KB != nil && !t.Open() && t.MergedInto == 0
	}
	return v, nil
}

// ciPanel gathers one linked device: health now, the flag, its last tickets.
func (s *server) ciPanel(r *http.Request, rq *request, t *cmdb.Ticket, id int64) (*ciPanel, error) {
	ctx := r.Context()
	ci, err := s.opts.CIs.FindCIByID(ctx, rq.Scope, id)
	if err != nil {
		return nil, err
	}
	p := &ciPanel{CI: ci, Name: ciName(ci)}
	if ci.RoomID != 0 {
		if room, err := s.opts.Tenants.FindRoomByID(ctx, rq.Scope, ci.RoomID); err == nil {
			p.Room = room.Name
		}
	}
	if s.opts.SNMP != nil {
		evs, err := s.opts.SNMP.FindHealthEvents(ctx, rq.Scope, ci.ID)
		if err != nil && cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			return nil, err
		}
		p.Health = openHealth(evs)
	}
	ts, err := s.opts.Tickets.FindCITickets(ctx, rq.Scope, ci.ID)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ts, func(a, b *cmdb.Ticket) int { return b.CreatedAt.Compare(a.CreatedAt) })
	for _, o := range ts {
		if o.ID != t.ID && len(p.Tickets) < 5 {
			p.Tickets = append(p.Tickets, o)
		}
	}
	return p, nil
}

// openHealth keeps the conditions whose last event opened them.
func openHealth(evs []*cmdb.HealthEvent) []*cmdb.HealthEvent {
	slices.SortStableFunc(evs, func(a, b *cmdb.HealthEvent) int { return a.At.Compare(b.At) })
	last := map[string]*cmdb.HealthEvent{}
	var order []string
	for _, e := range evs {
		k := string(e.Kind) + "|" + e.Subject
		if _, ok := last[k]; !ok {
			order = append(order, k)
		}
		last[k] = e
	}
	var out []*cmdb.HealthEvent
	for _, k := range order {
		if last[k].Open {
			out = append(out, last[k])
		}
	}
	return out
}

// assignable lists the people a ticket can be assigned to: the
// authority's and the school's IT, and the providers' staff.
func (s *server) assignable(r *http.Request, rq *request, t *cmdb.Ticket) ([]personChoice, error) {
	return s.people(r, rq, func(m cmdb.Membership) bool {
		return (m.Role == cmdb.RoleAuthorityIT && m.OrgID == t.AuthorityID) || (m.Role == cmdb.RoleSchoolIT && m.OrgID == t.SchoolID) ||
			(m.Role == cmdb.RoleProvider && m.AuthorityID == 0 && m.OrgID != 0)
	})
}

// historyLine turns a history entry into words.
func (s *server) historyLine(r *http.Request, rq *request, h *cmdb.TicketHistoryEntry, providers []*cmdb.Provider) historyLine {
	l := historyLine{At: h.At, Who: s.whoName(r, rq, h.Subject), Field: h.Field, Old: h.Old, New: h.New}
	name := func(v string) string {
		if v == "" {
			return "–"
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		switch h.Field {
		case "status":
			return rq.tr.T("status." + v)
		case "provider_id":
			return s.groupName(rq, n, providers)
		case "assignee_user_id":
			return s.personName(r, rq, n)
		}
		return v
	}
	if h.Field == "provider_id" && h.Old == "" {
		l.Old = rq.tr.T("queue.group.authority")
	} else {
		l.Old = name(h.Old)
	}
	if h.Field == "provider_id" && h.New == "" {
		l.New = rq.tr.T("queue.group.authority")
	} else {
		l.New = name(h.New)
	}
	switch h.Field { // their values are ids, which say nothing here
	case "comment", "internal_comment", "watcher", "attachment", "internal_attachment":
		l.Old, l.New = "", ""
	}
	if msg, ok := rq.tr.lookup("queue.field." + h.Field); ok {
		l.Field = msg
	}
	return l
}

// queueTicketAction takes the forms of the staff's ticket page.
func (s *server) queueTicketAction(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := s.staffTicketView(r, rq)
	if err != nil {
		return err
	}
	ctx := r.Context()
	t := v.T
	f := staffTicketForm{Action: r.PostFormValue("action"), Body: r.PostFormValue("body"), Solution: r.PostFormValue("solution"),
		Into: strings.TrimSpace(r.PostFormValue("into")), Internal: r.PostFormValue("internal") == "1"}
	v.Form = f
	var seen *time.Time
	if at, err := time.Parse(seenLayout, r.PostFormValue("seen")); err == nil {
		seen = &at
	}
	update := func(u cmdb.TicketUpdate) error {
		u.Seen, u.Channel = seen, cmdb.ChannelAPI
		_, err := s.opts.Tickets.UpdateTicket(ctx, rq.Scope, t.ID, u)
		return err
	}
	target := "/tickets/" + url.PathEscape(t.Number)
	ok := f.Action
	var fields []string
	switch f.Action {
	case "assign":
		fields = []string{"assignee_user_id", "provider_id"}
		a, _ := strconv.ParseInt(r.PostFormValue("assignee"), 10, 64)
		u := cmdb.TicketUpdate{AssigneeUserID: &a}
		if a != 0 && t.Status == cmdb.StatusNew {
			st := cmdb.StatusAssigned
			u.Status = &st
		}
		err = update(u)
	case "escalate":
		fields = []string{"level", "provider_id", "assignee_user_id"}
		level, _ := strconv.Atoi(r.PostFormValue("level"))
		group := r.PostFormValue("group")
		var p int64
		if group != "authority" {
			p, _ = strconv.ParseInt(group, 10, 64)
			if p <= 0 {
				v.Errors["provider_id"] = rq.tr.T("queue.group.required")
				break
			}
		}
		u := cmdb.TicketUpdate{Level: &level, ProviderID: &p}
		if p != t.ProviderID && t.Status == cmdb.StatusNew && p != 0 {
			st := cmdb.StatusAssigned
			u.Status = &st
		}
		err = update(u)
	case "status":
		fields = []string{"status"}
		st := r.PostFormValue("status")
		if st == cmdb.StatusResolved {
			v.Errors["status"] = rq.tr.T("queue.status.use_resolve")
			break
		}
		err = update(cmdb.TicketUpdate{Status: &st})
	case "resolve":
		fields = []string{"solution", "status"}
		if strings.TrimSpace(f.Solution) == "" {
			v.Errors["solution"] = rq.tr.T("queue.solution.required")
			break
		}
		// One step: the status and the solution (a public comment), or
		// neither when the page was stale.
		st := cmdb.StatusResolved
		err = update(cmdb.TicketUpdate{Status: &st, Solution: &f.Solution})
	case "comment":
		fields = []string{"body", "internal"}
		if strings.TrimSpace(f.Body) == "" {
			v.Errors["body"] = rq.tr.T("ticket.comment.required")
			break
		}
		err = s.opts.Tickets.AddTicketComment(ctx, rq.Scope, &cmdb.TicketComment{TicketID: t.ID, Body: f.Body, Internal: f.Internal, Channel: cmdb.ChannelAPI})
		target += "#kommentare"
	case "merge":
		fields = []string{"into"}
		into, ferr := s.opts.Tickets.FindTicketByNumber(ctx, rq.Scope, f.Into)
		if f.Into == "" || ferr != nil {
			if ferr != nil && cmdb.ErrorCode(ferr) != cmdb.ENOTFOUND {
				return ferr
			}
			v.Errors["into"] = rq.tr.T("queue.merge.unknown")
			break
		}
		if _, err = s.opts.Tickets.MergeTicket(ctx, rq.Scope, t.ID, into.ID); err == nil {
			target = "/tickets/" + url.PathEscape(into.Number)
		}
	case "problem":
		fields = []string{"problem"}
		id, _ := strconv.ParseInt(r.PostFormValue("problem"), 10, 64)
		if s.opts.Problems == nil || id <= 0 {
			v.Errors["problem"] = rq.tr.T("queue.problem.required")
			break
		}
		_, err = s.opts.Problems.LinkProblemTicket(ctx, rq.Scope, id, t.ID)
	case "kbdraft":
		if s.opts.KB == nil {
			return cmdb.Errorf(cmdb.ENOTFOUND, "no knowledge base")
		}
		var a *cmdb.KBArticle
		if a, err = s.opts.KB.DraftKBArticleFromTicket(ctx, rq.Scope, t.ID); err == nil {
			target += "?entwurf=" + strconv.FormatInt(a.ID, 10)
			ok = ""
		}
	default:
		return cmdb.Invalid("action", "must be one of assign, escalate, status, resolve, comment, merge, problem, kbdraft")
	}
	if err != nil {
		var e *cmdb.Error
		if errors.As(err, &e) && e.Code == cmdb.ECONFLICT && e.Field == "updated_at" {
			v.Stale = s.changedSince(r, rq, t, seen, v.Providers)
			v.Errors["form"] = rq.tr.T("queue.stale")
		} else {
			fe, err := rq.queueStoreError(err, fields...)
			if err != nil {
				return err
			}
			for k, msg := range fe {
				v.Errors[k] = msg
			}
		}
	}
	if len(v.Errors) > 0 {
		status := http.StatusUnprocessableEntity
		if v.Stale != nil {
			status = http.StatusConflict
		}
		s.render(w, r, rq, status, "console_queue_ticket", "queue.ticket.title", v)
		return nil
	}
	if ok != "" {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		if i := strings.Index(target, "#"); i >= 0 {
			target = target[:i] + sep + "ok=" + ok + target[i:]
		} else {
			target += sep + "ok=" + ok
		}
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// changedSince lists the changes of t after the refused form's page
// (comments and the like left out: they never make a page stale).
func (s *server) changedSince(r *http.Request, rq *request, t *cmdb.Ticket, seen *time.Time, providers []*cmdb.Provider) []historyLine {
	hs, err := s.opts.Tickets.FindTicketHistory(r.Context(), rq.Scope, t.ID)
	if err != nil || seen == nil {
		return []historyLine{}
	}
	out := []historyLine{}
	for _, h := range hs {
		switch h.Field {
		case "comment", "internal_comment", "watcher", "attachment", "internal_attachment":
			continue
		}
		if h.At.After(*seen) {
			out = append(out, s.historyLine(r, rq, h, providers))
		}
	}
	return out
}

// queueAttach takes the attachment form of the ticket page.
func (s *server) queueAttach(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := s.staffTicketView(r, rq)
	if err != nil {
		return err
	}
	if s.opts.Attachments == nil {
		return cmdb.Errorf(cmdb.ENOTFOUND, "no attachments")
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		v.Errors["file"] = rq.tr.T("queue.file.required")
	} else {
		defer file.Close()
		limit := s.attachmentLimits().MaxFileSize
		data := make([]byte, 0, 64<<10)
		buf := make([]byte, 32<<10)
		for {
			n, rerr := file.Read(buf)
			data = append(data, buf[:n]...)
			if int64(len(data)) > limit {
				v.Errors["file"] = rq.tr.T("report.photo.too_large", "Max", cmdb.FormatBytes(limit))
				break
			}
			if rerr != nil {
				break
			}
		}
		if len(v.Errors) == 0 {
			a := &cmdb.Attachment{TicketID: v.T.ID, FileName: hdr.Filename, Internal: r.FormValue("internal") == "1", Channel: cmdb.ChannelAPI}
			if err := s.opts.Attachments.AddTicketAttachment(r.Context(), rq.Scope, a, data); err != nil {
				fe, err := rq.queueStoreError(err, "file")
				if err != nil {
					return err
				}
				for k, msg := range fe {
					if k == "form" {
						k = "file"
					}
					v.Errors[k] = msg
				}
			}
		}
	}
	if len(v.Errors) > 0 {
		s.render(w, r, rq, http.StatusUnprocessableEntity, "console_queue_ticket", "queue.ticket.title", v)
		return nil
	}
	http.Redirect(w, r, "/tickets/"+url.PathEscape(v.T.Number)+"?ok=file#anhaenge", http.StatusSeeOther)
	return nil
}

// whoName names the author of a change: a person by name, an
// integration token or the system in words. Changes are recorded with
// the caller's Source ("user:user-7", "user:token-3", "system:…").
func (s *server) whoName(r *http.Request, rq *request, subject string) string {
	id, _ := strings.CutPrefix(subject, "user:")
	if n, err := strconv.ParseInt(id, 10, 64); err == nil && id != subject {
		return s.personName(r, rq, n)
	}
	for _, kind := range []string{"user-", "user:", "token-", "token:"} {
		rest, ok := strings.CutPrefix(id, kind)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			break
		}
		if strings.HasPrefix(kind, "user") {
			return s.personName(r, rq, n)
		}
		return rq.tr.T("queue.who.token", "ID", n)
	}
	if strings.HasPrefix(subject, "system:") {
		return rq.tr.T("queue.who.system")
	}
	return subject
}
