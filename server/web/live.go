package web

import (
	"encoding/json"
	"net/http"

	"github.com/schulit/cmdb/server/cmdb"
)

// Live status: My tickets and the ticket page show each ticket's status
// as it was when the page was drawn; static/js/10-live.js asks this
// endpoint every 20 seconds while the page is open and puts a changed
// status in place, telling screen readers politely. Without script the
// page is right on reload. The answer is what the pages themselves show
// the caller (the stores decide), nothing more.

// liveStatus is one ticket's status for the script.
type liveStatus struct {
	Number string `json:"number"`
	Status string `json:"status"`
	Label  string `json:"label"`
	// Say is the sentence announced when the status changed.
	Say string `json:"say"`
}

// liveTickets answers GET /live/tickets: the statuses of the tickets My
// tickets lists, or with ?n=<number> of that one ticket.
func (s *server) liveTickets(w http.ResponseWriter, r *http.Request, rq *request) error {
	var ts []*cmdb.Ticket
	if n := r.URL.Query().Get("n"); n != "" {
		t, err := s.opts.Tickets.FindTicketByNumber(r.Context(), rq.Scope, n)
		if err != nil {
			return err
		}
		ts = []*cmdb.Ticket{t}
	} else {
		f, _, _ := myTicketsFilter(rq, r.URL.Query())
		var err error
		if ts, _, err = s.opts.Tickets.FindTickets(r.Context(), rq.Scope, f); err != nil {
			return err
		}
	}
	out := struct {
		Items []liveStatus `json:"items"`
	}{Items: []liveStatus{}}
	for _, t := range ts {
		label := rq.tr.T("status." + t.Status)
		out.Items = append(out.Items, liveStatus{Number: t.Number, Status: t.Status, Label: label,
			Say: rq.tr.T("live.changed", "Number", t.Number, "Title", t.Title, "Status", label)})
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(out)
}
