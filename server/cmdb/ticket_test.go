package cmdb_test

import (
	"slices"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

func TestDefaultPriorityMatrix(t *testing.T) {
	m := cmdb.DefaultPriorityMatrix
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ impact, urgency, want int }{
		{1, 1, 1}, // the whole school, the lesson cannot take place
		{1, 3, 3}, {3, 1, 3}, {2, 2, 3},
		{2, 1, 2}, {1, 2, 2},
		{3, 2, 4}, {2, 3, 4},
		{3, 3, 5}, // one person, can wait
	} {
		got, err := m.Priority(c.impact, c.urgency)
		if err != nil || got != c.want {
			t.Errorf("Priority(%d, %d) = %d, %v; want %d", c.impact, c.urgency, got, err, c.want)
		}
	}
	for _, c := range []struct {
		impact, urgency int
		field           string
	}{{0, 1, "impact"}, {4, 1, "impact"}, {1, 0, "urgency"}, {2, 9, "urgency"}} {
		if _, err := m.Priority(c.impact, c.urgency); cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != c.field {
			t.Errorf("Priority(%d, %d): %v, want invalid naming %s", c.impact, c.urgency, err, c.field)
		}
	}
}

func TestPriorityMatrixValidate(t *testing.T) {
	bad := cmdb.DefaultPriorityMatrix
	bad[2][2] = 6
	if err := bad.Validate(); cmdb.ErrorField(err) != "matrix[2][2]" {
		t.Errorf("priority 6: %v", err)
	}
	inverted := cmdb.DefaultPriorityMatrix
	inverted[2][2] = 1 // lowest impact and urgency, yet critical
	if err := inverted.Validate(); cmdb.ErrorCode(err) != cmdb.EINVALID {
		t.Errorf("inverted matrix accepted: %v", err)
	}
	own := cmdb.PriorityMatrix{{1, 1, 2}, {2, 3, 4}, {3, 4, 5}}
	if err := own.Validate(); err != nil {
		t.Errorf("a stricter authority matrix: %v", err)
	}
	if p, _ := own.Priority(1, 2); p != 1 {
		t.Errorf("own matrix (1,2) = %d, want 1", p)
	}
}

func TestTicketTransitions(t *testing.T) {
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	resolved := now.Add(-2 * 24 * time.Hour)
	long := now.Add(-8 * 24 * time.Hour)
	for _, c := range []struct {
		from, to   string
		resolvedAt *time.Time
		code       string
	}{
		{"new", "assigned", nil, ""},
		{"new", "in_progress", nil, ""},
		{"assigned", "in_progress", nil, ""},
		{"in_progress", "waiting", nil, ""},
		{"waiting", "in_progress", nil, ""},
		{"in_progress", "resolved", nil, ""},
		{"resolved", "closed", &resolved, ""},
		{"resolved", "in_progress", &resolved, ""}, // reopen within the window
		{"resolved", "in_progress", &long, cmdb.ECONFLICT},
		{"resolved", "assigned", &resolved, cmdb.ECONFLICT},
		{"new", "closed", nil, cmdb.ECONFLICT},
		{"waiting", "new", nil, cmdb.ECONFLICT},
		{"closed", "in_progress", &resolved, cmdb.ECONFLICT},
		{"closed", "new", nil, cmdb.ECONFLICT},
		{"new", "done", nil, cmdb.EINVALID},
		{"waiting", "waiting", nil, ""},
	} {
		err := cmdb.CheckTransition(c.from, c.to, c.resolvedAt, now, cmdb.DefaultReopenWindow)
		if cmdb.ErrorCode(err) != c.code {
			t.Errorf("%s → %s: %v, want code %q", c.from, c.to, err, c.code)
		}
		if err != nil && cmdb.ErrorField(err) != "status" {
			t.Errorf("%s → %s: error names %q, want status", c.from, c.to, cmdb.ErrorField(err))
		}
	}
	if len(cmdb.AllowedTransitions(cmdb.StatusClosed)) != 0 {
		t.Error("closed must be final")
	}
	// Every status but closed leads somewhere, and resolved can be reached from every open status.
	for _, st := range cmdb.TicketStatuses {
		next := cmdb.AllowedTransitions(st)
		if st != cmdb.StatusClosed && st != cmdb.StatusResolved && !slices.Contains(next, cmdb.StatusResolved) {
			t.Errorf("%s cannot be resolved", st)
		}
	}
}

func TestTicketValidate(t *testing.T) {
	good := func() *cmdb.Ticket {
		return &cmdb.Ticket{Type: "incident", Title: "Drucker druckt nicht", CategoryID: 3, Impact: 3, Urgency: 2, CIIDs: []int64{7}}
	}
	if tk := good(); tk.Validate() != nil || tk.Level != 1 || tk.Channel != cmdb.ChannelAPI {
		t.Fatalf("good ticket: %v (level %d, channel %q)", tk.Validate(), tk.Level, tk.Channel)
	}
	for field, mutate := range map[string]func(*cmdb.Ticket){
		"type":         func(t *cmdb.Ticket) { t.Type = "problem" },
		"title":        func(t *cmdb.Ticket) { t.Title = "   " },
		"category_id":  func(t *cmdb.Ticket) { t.CategoryID = 0 },
		"impact":       func(t *cmdb.Ticket) { t.Impact = 0 },
		"urgency":      func(t *cmdb.Ticket) { t.Urgency = 4 },
		"level":        func(t *cmdb.Ticket) { t.Level = 5 },
		"channel":      func(t *cmdb.Ticket) { t.Channel = "fax" },
		"ci_ids[1]":    func(t *cmdb.Ticket) { t.CIIDs = []int64{7, 7} },
		"description":  func(t *cmdb.Ticket) { t.Description = "a\x00b" },
		"on_behalf_of": func(t *cmdb.Ticket) { t.OnBehalfOf = string(make([]byte, 201)) },
	} {
		tk := good()
		mutate(tk)
		if err := tk.Validate(); cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != field {
			t.Errorf("%s: %v, want invalid naming %s", field, err, field)
		}
	}
	bad := "nope"
	u := cmdb.TicketUpdate{Status: &bad}
	if err := u.Validate(); cmdb.ErrorField(err) != "status" {
		t.Errorf("update with unknown status: %v", err)
	}
	f := cmdb.TicketFilter{Group: "12x"}
	if err := f.Validate(); cmdb.ErrorField(err) != "group" {
		t.Errorf("filter group 12x: %v", err)
	}
}
