package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

func (s *server) home(w http.ResponseWriter, r *http.Request, rq *request) error {
	s.render(w, r, rq, http.StatusOK, "home", "home.title", nil)
	return nil
}

// ticketRow is one line of "my tickets".
type ticketRow struct {
	Number, Title, Status string
	Open, Mine            bool
	Created               time.Time
}

type ticketsView struct {
	Tickets []ticketRow
	Total   int
	// OnlyMine: only the tickets she reported ("?nur=meine"), not her
	// school's too.
	OnlyMine   bool
	Page       int    // from 1
	Prev, Next string // the other pages' links; "" when there is none
	Live       string // what the live status follows: this page's list
}

// myTicketsPage is how many tickets a page of My tickets lists.
const myTicketsPage = 50

// myTicketsFilter is the list My tickets shows for the query (and
// live.go follows): her school's and hers, or hers only; page by page.
func myTicketsFilter(rq *request, q url.Values) (cmdb.TicketFilter, bool, int) {
	f := cmdb.TicketFilter{Limit: myTicketsPage}
	mine := q.Get("nur") == "meine"
	if mine {
		f.ReporterUserID = rq.User.ID
	}
	page, _ := strconv.Atoi(q.Get("seite"))
	page = max(1, min(page, 1000))
	f.Offset = (page - 1) * myTicketsPage
	return f, mine, page
}

// myTicketsQuery is the query of a My tickets list.
func myTicketsQuery(mine bool, page int) string {
	q := url.Values{}
	if mine {
		q.Set("nur", "meine")
	}
	if page > 1 {
		q.Set("seite", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// myTickets lists the caller's tickets and their school's: the store
// gives each caller what they may see.
func (s *server) myTickets(w http.ResponseWriter, r *http.Request, rq *request) error {
	if isStaff(rq.Scope) {
		return s.queueList(w, r, rq) // the staff queue (console_queue.go)
	}
	f, mine, page := myTicketsFilter(rq, r.URL.Query())
	ts, total, err := s.opts.Tickets.FindTickets(r.Context(), rq.Scope, f)
	if err != nil {
		return err
	}
	v := ticketsView{Total: total, OnlyMine: mine, Page: page, Live: "/live/tickets" + myTicketsQuery(mine, page)}
	if page > 1 {
		v.Prev = "/tickets" + myTicketsQuery(mine, page-1)
	}
	if f.Offset+len(ts) < total {
		v.Next = "/tickets" + myTicketsQuery(mine, page+1)
	}
	for _, t := range ts {
		v.Tickets = append(v.Tickets, ticketRow{Number: t.Number, Title: t.Title, Status: t.Status, Created: t.CreatedAt,
			Open: t.Status != cmdb.StatusResolved && t.Status != cmdb.StatusClosed, Mine: t.ReporterUserID == rq.User.ID})
	}
	s.render(w, r, rq, http.StatusOK, "tickets", "tickets.title", v)
	return nil
}

// ticketView is the ticket page.
type ticketView struct {
	T        *cmdb.Ticket
	Room     string
	Devices  []deviceLine
	Comments []commentLine
	// MayDecide: the caller reported it and it is resolved, so they may
	// confirm the solution or reopen it (what the store allows them).
	MayDecide bool
	Closed    bool
	Comment   string // what was typed, kept when it was refused
	Errors    fieldErrors
	Saved     string // "comment", "closed" or "reopened" after a change
	// Restored: the comment is a draft kept over a sign-in (draft.go).
	Restored *draftNotice
}

// deviceLine is a device as pages name it; ID is set where it links to
// the device's report page.
type deviceLine struct {
	ID                    int64
	Name, Class, AssetTag string
	Code                  string // the short code of its label, where shown
}

type commentLine struct {
	Mine bool
	Body string
	At   time.Time
}

func (s *server) ticket(w http.ResponseWriter, r *http.Request, rq *request) error {
	if isStaff(rq.Scope) {
		return s.queueTicket(w, r, rq) // the staff's ticket page (console_queue_ticket.go)
	}
	v, err := s.ticketView(r, rq)
	if err != nil {
		return err
	}
	v.Saved = r.URL.Query().Get("ok")
	s.restoreComment(w, r, rq, v)
	s.render(w, r, rq, http.StatusOK, "ticket", "ticket.title", v)
	return nil
}

// ticketView gathers a ticket, its place and its public comments.
func (s *server) ticketView(r *http.Request, rq *request) (*ticketView, error) {
	ctx := r.Context()
	t, err := s.opts.Tickets.FindTicketByNumber(ctx, rq.Scope, r.PathValue("number"))
	if err != nil {
		return nil, err
	}
	v := &ticketView{T: t, Errors: fieldErrors{}, Closed: t.Status == cmdb.StatusClosed,
		MayDecide: t.Status == cmdb.StatusResolved && t.ReporterUserID != 0 && t.ReporterUserID == rq.User.ID}
	if t.RoomID != 0 {
		if room, err := s.opts.Tenants.FindRoomByID(ctx, rq.Scope, t.RoomID); err == nil {
			v.Room = room.Name
		} else if cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			return nil, err
		}
	}
	for _, id := range t.CIIDs {
		ci, err := s.opts.CIs.FindCIByID(ctx, rq.Scope, id)
		if cmdb.ErrorCode(err) == cmdb.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		name := ci.Name
		if name == "" {
			name = strings.TrimSpace(ci.Vendor + " " + ci.Model)
		}
		v.Devices = append(v.Devices, deviceLine{Name: name, Class: ci.Class, AssetTag: ci.AssetTag})
		if v.Room == "" && ci.RoomID != 0 {
			if room, err := s.opts.Tenants.FindRoomByID(ctx, rq.Scope, ci.RoomID); err == nil {
				v.Room = room.Name
			}
		}
	}
	cs, err := s.opts.Tickets.FindTicketComments(ctx, rq.Scope, t.ID)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Internal { // the portal shows the conversation with the reporter only
			continue
		}
		// Who else wrote is not shown by name: a teacher may not see
		// other accounts, and the subject ("user:…", "token:…") means
		// nothing to her.
		mine := c.AuthorUserID != 0 && c.AuthorUserID == rq.User.ID
		v.Comments = append(v.Comments, commentLine{Mine: mine, Body: c.Body, At: c.CreatedAt})
	}
	return v, nil
}

// ticketAction takes the ticket page's forms: a comment, or the
// reporter's "solved" / "reopen".
func (s *server) ticketAction(w http.ResponseWriter, r *http.Request, rq *request) error {
	if isStaff(rq.Scope) {
		return s.queueTicketAction(w, r, rq)
	}
	v, err := s.ticketView(r, rq)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var ok string
	switch r.PostFormValue("action") {
	case "comment":
		v.Comment = r.PostFormValue("body")
		if strings.TrimSpace(v.Comment) == "" {
			v.Errors["body"] = rq.tr.T("ticket.comment.required")
			break
		}
		err = s.opts.Tickets.AddTicketComment(ctx, rq.Scope, &cmdb.TicketComment{TicketID: v.T.ID, Body: v.Comment, Channel: cmdb.ChannelPortal})
		ok = "comment"
	case "confirm", "reopen":
		status, field := cmdb.StatusClosed, "closed"
		if r.PostFormValue("action") == "reopen" {
			status, field = cmdb.StatusInProgress, "reopened"
		}
		_, err = s.opts.Tickets.UpdateTicket(ctx, rq.Scope, v.T.ID, cmdb.TicketUpdate{Status: &status, Channel: cmdb.ChannelPortal})
		ok = field
	default:
		return cmdb.Invalid("action", "must be comment, confirm or reopen")
	}
	if err != nil {
		fe, err := rq.storeError(err, "body", "status")
		if err != nil {
			return err
		}
		v.Errors = fe
	}
	if len(v.Errors) > 0 {
		s.render(w, r, rq, http.StatusUnprocessableEntity, "ticket", "ticket.title", v)
		return nil
	}
	target := "/tickets/" + url.PathEscape(v.T.Number) + "?ok=" + ok
	if ok == "comment" {
		target += "#kommentare"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}
