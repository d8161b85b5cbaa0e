package cmdb

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// The staff queue: what the console's ticket list needs beyond the
// TicketStore — the number of tickets in each queue, the filters each
// person keeps for themself, and the refusal of a stale edit.

// Ticket list orders (TicketFilter.Sort).
const (
	// SortDefault: open first, then by priority and age.
	SortDefault = ""
	// SortDue: by the SLA deadline that decides the ticket's state,
	// soonest first; tickets without one last.
	SortDue = "due"
)

// TicketQueueCounts are the sizes of the console's queues, of the open
// tickets the caller sees.
type TicketQueueCounts struct {
	Open     int `json:"open"`
	New      int `json:"new"`      // status new: nobody has looked yet
	Mine     int `json:"mine"`     // assigned to the caller
	Level1   int `json:"level_1"`  // support level 1
	Level2   int `json:"level_2"`  // support level 2
	Level3   int `json:"level_3"`  // support level 3
	Breached int `json:"breached"` // SLA deadline passed
	DueSoon  int `json:"due_soon"` // SLA deadline within DueSoonWindow
	// Authority counts the open tickets with the authority's own IT;
	// Providers those with each provider (by id).
	Authority int           `json:"authority"`
	Providers map[int64]int `json:"providers"`
}

// SavedFilter is a filter of the ticket list one person keeps under a
// name; Query is the list's URL query as the console writes it
// ("status=open&level=2"). Only its owner sees it.
type SavedFilter struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"user_id"`
	Name      string    `json:"name"`
	Query     string    `json:"query"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate checks the name (1–80 characters) and the query (a URL query
// of at most 2,000 characters) and trims the name.
func (f *SavedFilter) Validate() error {
	f.Name = strings.TrimSpace(f.Name)
	if err := checkText("name", f.Name, 80, true); err != nil {
		return err
	}
	if err := checkText("query", f.Query, 2000, false); err != nil {
		return err
	}
	if _, err := url.ParseQuery(f.Query); err != nil {
		return Invalid("query", "must be a URL query such as status=open&level=2")
	}
	return nil
}

// TicketQueueStore keeps what the staff queue needs besides tickets.
// Saved filters belong to the signed-in person: another person's filter
// answers ENOTFOUND.
type TicketQueueStore interface {
	// CountTicketQueues counts the open tickets the scope sees per queue.
	CountTicketQueues(ctx context.Context, s Scope) (*TicketQueueCounts, error)
	// FindSavedFilters lists the caller's saved filters by name;
	// EINVALID for a caller who is no person (an integration token).
	FindSavedFilters(ctx context.Context, s Scope) ([]*SavedFilter, error)
	// SaveFilter stores a filter for the caller; a filter of the same
	// name is replaced. EINVALID naming the field for bad input.
	SaveFilter(ctx context.Context, s Scope, f *SavedFilter) error
	// DeleteSavedFilter deletes one of the caller's filters; ENOTFOUND
	// for another person's or an unknown one.
	DeleteSavedFilter(ctx context.Context, s Scope, id int64) error
}

// validateQueue checks the filter fields the staff queue added.
func (f *TicketFilter) validateQueue() error {
	if f.AssigneeUserID < 0 {
		return Invalid("assignee", "must be a user id")
	}
	if f.Unassigned && f.AssigneeUserID != 0 {
		return Invalid("assignee", "must be a person or nobody, not both")
	}
	if f.Channel != "" && !contains(TicketChannels, f.Channel) {
		return Invalid("channel", "must be one of %s, not %q", strings.Join(TicketChannels, ", "), f.Channel)
	}
	if f.Sort != SortDefault && f.Sort != SortDue {
		return Invalid("sort", "must be due or empty, not %q", f.Sort)
	}
	if f.ReporterUserID < 0 {
		return Invalid("reporter", "must be a user id")
	}
	return nil
}
