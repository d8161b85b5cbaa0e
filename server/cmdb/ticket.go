package cmdb

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Ticket types.
const (
	TicketIncident = "incident"
	TicketRequest  = "request"
)

// Ticket statuses, in their usual order.
const (
	StatusNew        = "new"
	StatusAssigned   = "assigned"
	StatusInProgress = "in_progress"
	StatusWaiting    = "waiting"
	StatusResolved   = "resolved"
	StatusClosed     = "closed"
)

// Ticket channels: how a ticket or a change of it came in.
const (
	ChannelPortal     = "portal"
	ChannelEmail      = "email"
	ChannelPhone      = "phone"
	ChannelAPI        = "api"
	ChannelMonitoring = "monitoring"
)

// TicketStatuses lists every status.
var TicketStatuses = []string{StatusNew, StatusAssigned, StatusInProgress, StatusWaiting, StatusResolved, StatusClosed}

// TicketChannels lists every channel.
var TicketChannels = []string{ChannelPortal, ChannelEmail, ChannelPhone, ChannelAPI, ChannelMonitoring}

// DefaultReopenWindow is how long after resolving a reporter may reopen
// a ticket (and, later, after which it closes itself).
const DefaultReopenWindow = 7 * 24 * time.Hour

// Ticket is an incident or a service request of one authority, on one or
// more CIs and/or a room. AuthorityID and SchoolID follow from the CIs,
// the room or the school named when it is opened.
type Ticket struct {
	ID          int64   `json:"id"`
	Number      string  `json:"number"` // <AUTHCODE>-<YEAR>-<NNNNN>, read-only
	AuthorityID int64   `json:"authority_id"`
	SchoolID    int64   `json:"school_id,omitempty"`
	RoomID      int64   `json:"room_id,omitempty"`
	CIIDs       []int64 `json:"ci_ids"`
	Type        string  `json:"type"`
	Title       string  `json:"title"`
	Description string  `json:"description"`
	CategoryID  int64   `json:"category_id"`
	Category    string  `json:"category"` // the category's name, read-only
	Impact      int     `json:"impact"`   // 1 (many affected) … 3 (one person)
	Urgency     int     `json:"urgency"`  // 1 (lesson cannot take place) … 3 (can wait)
	Priority    int     `json:"priority"` // 1 (critical) … 5 (planning), read-only: from the matrix
	Status      string  `json:"status"`
	Level       int     `json:"level"` // support level 1–3
	// ProviderID is the assignee group: 0 for the authority's own IT,
	// else a provider with a contract for the authority.
	ProviderID     int64  `json:"provider_id,omitempty"`
	AssigneeUserID int64  `json:"assignee_user_id,omitempty"`
	Channel        string `json:"channel"`
	ReporterUserID int64  `json:"reporter_user_id,omitempty"`
	// OnBehalfOf names the person staff opened the ticket for (phone).
	OnBehalfOf string     `json:"on_behalf_of,omitempty"`
	CreatedBy  string     `json:"created_by"`
	Watchers   int        `json:"watchers"` // number of people who joined ("me too")
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
	ClosedAt   *time.Time `json:"closed_at"`
	// MergedInto is the ticket this one was merged into as a duplicate
	// (it is closed then and never changes again); 0 when not merged.
	MergedInto int64 `json:"merged_into,omitempty"`
	// ServiceID is the catalogue service a request was opened against (0:
	// none), Service its name (read-only), FormAnswers the answers to its
	// form as ValidateAnswers stored them.
	ServiceID   int64          `json:"service_id,omitempty"`
	Service     string         `json:"service,omitempty"`
	FormAnswers map[string]any `json:"form_answers,omitempty"`
	ProblemID   int64          `json:"problem_id,omitempty"` // the problem grouping it, read-only (ProblemStore)
	// SLA holds the due times and the SLA state (read-only).
	SLA *TicketSLA `json:"sla"`
}

// Open reports whether the ticket still needs work (not resolved or closed).
func (t *Ticket) Open() bool { return t.Status != StatusResolved && t.Status != StatusClosed }

// Validate checks the fields a caller sets when opening a ticket and
// fills the defaults (level 1, channel api); the store checks the
// references (CIs, room, category, provider).
func (t *Ticket) Validate() error {
	switch t.Type {
	case TicketIncident, TicketRequest:
	case "":
		return Invalid("type", "is required: incident or request")
	default:
		return Invalid("type", "must be incident or request, not %q", t.Type)
	}
	if err := checkText("title", t.Title, 200, true); err != nil {
		return err
	}
	if err := checkText("description", t.Description, 20000, false); err != nil {
		return err
	}
	if err := t.validateService(); err != nil { // before the defaults: a service brings its own
		return err
	}
	if t.CategoryID <= 0 && t.ServiceID == 0 {
		return Invalid("category_id", "is required: one of GET /api/v1/ticket-categories")
	}
	if err := checkLevel("impact", t.Impact); err != nil {
		return err
	}
	if err := checkLevel("urgency", t.Urgency); err != nil {
		return err
	}
	if t.Level == 0 && t.ServiceID == 0 {
		t.Level = 1
	}
	if t.Level != 0 || t.ServiceID == 0 {
		if err := checkLevel("level", t.Level); err != nil {
			return err
		}
	}
	if t.Channel == "" {
		t.Channel = ChannelAPI
	}
	if !contains(TicketChannels, t.Channel) {
		return Invalid("channel", "must be one of %s, not %q", strings.Join(TicketChannels, ", "), t.Channel)
	}
	if err := checkText("on_behalf_of", t.OnBehalfOf, 200, false); err != nil {
		return err
	}
	if err := t.validateCIs(); err != nil {
		return err
	}
	if t.RoomID < 0 || t.SchoolID < 0 || t.AuthorityID < 0 || t.ProviderID < 0 || t.AssigneeUserID < 0 {
		return Invalid("body", "ids must be positive")
	}
	return nil
}

func (t *Ticket) validateCIs() error {
	seen := map[int64]bool{}
	for i, id := range t.CIIDs {
		if id <= 0 {
			return Invalid(fmt.Sprintf("ci_ids[%d]", i), "must be a positive CI id")
		}
		if seen[id] {
			return Invalid(fmt.Sprintf("ci_ids[%d]", i), "names CI %d twice", id)
		}
		seen[id] = true
	}
	if len(t.CIIDs) > 50 {
		return Invalid("ci_ids", "must name at most 50 CIs")
	}
	return nil
}

func checkText(field, v string, max int, required bool) error {
	switch {
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		return Invalid(field, "must be valid UTF-8 text without NUL")
	case required && strings.TrimSpace(v) == "":
		return Invalid(field, "is required")
	case utf8.RuneCountInString(v) > max:
		return Invalid(field, "must be at most %d characters", max)
	}
	return nil
}

func checkLevel(field string, v int) error {
	if v < 1 || v > 3 {
		return Invalid(field, "must be 1, 2 or 3, not %d", v)
	}
	return nil
}

// PriorityMatrix maps impact (rows) × urgency (columns), both 1–3 with 1
// the highest, to a priority 1 (critical) … 5 (planning). The default
// serves every authority; one of its own can be stored later.
type PriorityMatrix [3][3]int

// DefaultPriorityMatrix is the usual ITIL matrix: priority = impact +
// urgency − 1.
var DefaultPriorityMatrix = PriorityMatrix{
	{1, 2, 3},
	{2, 3, 4},
	{3, 4, 5},
}

// Priority returns the priority of impact × urgency; EINVALID naming the
// input when either is outside 1–3.
func (m PriorityMatrix) Priority(impact, urgency int) (int, error) {
	if err := checkLevel("impact", impact); err != nil {
		return 0, err
	}
	if err := checkLevel("urgency", urgency); err != nil {
		return 0, err
	}
	return m[impact-1][urgency-1], nil
}

// Validate checks that every cell is a priority 1–5 and that priority
// never gets better when impact or urgency gets worse.
func (m PriorityMatrix) Validate() error {
	for i := range 3 {
		for j := range 3 {
			p := m[i][j]
			if p < 1 || p > 5 {
				return Invalid(fmt.Sprintf("matrix[%d][%d]", i, j), "must be a priority 1–5, not %d", p)
			}
			if (i > 0 && p < m[i-1][j]) || (j > 0 && p < m[i][j-1]) {
				return Invalid(fmt.Sprintf("matrix[%d][%d]", i, j), "must not be more urgent than a cell of higher impact or urgency")
			}
		}
	}
	return nil
}

// ticketTransitions is the table of allowed status changes. Closed is
// final; resolved → in_progress is the reopen, allowed within the window.
var ticketTransitions = map[string][]string{
	StatusNew:        {StatusAssigned, StatusInProgress, StatusWaiting, StatusResolved},
	StatusAssigned:   {StatusNew, StatusInProgress, StatusWaiting, StatusResolved},
	StatusInProgress: {StatusAssigned, StatusWaiting, StatusResolved},
	StatusWaiting:    {StatusAssigned, StatusInProgress, StatusResolved},
	StatusResolved:   {StatusInProgress, StatusClosed},
	StatusClosed:     {},
}

// AllowedTransitions lists the statuses a ticket in status from may move to.
func AllowedTransitions(from string) []string {
	return append([]string(nil), ticketTransitions[from]...)
}

// CheckTransition reports whether a ticket may move from one status to
// another at now: EINVALID naming "status" for an unknown status,
// ECONFLICT naming "status" for a change the table does not allow or a
// reopen after the window (resolvedAt + window).
func CheckTransition(from, to string, resolvedAt *time.Time, now time.Time, window time.Duration) error {
	if !contains(TicketStatuses, to) {
		return Invalid("status", "must be one of %s, not %q", strings.Join(TicketStatuses, ", "), to)
	}
	if from == to {
		return nil
	}
	if !contains(ticketTransitions[from], to) {
		if from == StatusClosed {
			return &Error{Code: ECONFLICT, Field: "status", Message: "The ticket is closed; a closed ticket cannot change. Open a new one."}
		}
		return &Error{Code: ECONFLICT, Field: "status", Message: fmt.Sprintf("A ticket cannot go from %s to %s; allowed: %s.",
			from, to, strings.Join(ticketTransitions[from], ", "))}
	}
	if from == StatusResolved && to == StatusInProgress && resolvedAt != nil && now.After(resolvedAt.Add(window)) {
		return &Error{Code: ECONFLICT, Field: "status", Message: fmt.Sprintf("The ticket was resolved more than %d days ago and cannot be reopened; open a new one.",
			int(window/(24*time.Hour)))}
	}
	return nil
}

// DoubleSubmitWindow is how long the same comment by the same person
// counts as sent twice by mistake (a form submitted twice, a reload).
const DoubleSubmitWindow = 10 * time.Minute

// TicketUpdate is a change of a ticket; nil fields stay as they are.
// ProviderID 0 hands the ticket to the authority's own IT; AssigneeUserID
// 0 clears the assignee.
type TicketUpdate struct {
	Title          *string `json:"title"`
	Description    *string `json:"description"`
	CategoryID     *int64  `json:"category_id"`
	Impact         *int    `json:"impact"`
	Urgency        *int    `json:"urgency"`
	Status         *string `json:"status"`
	Level          *int    `json:"level"`
	ProviderID     *int64  `json:"provider_id"`
	AssigneeUserID *int64  `json:"assignee_user_id"`
	// CIIDs replaces the linked CIs (staff only); they must lie in the
	// ticket's authority and school.
	CIIDs *[]int64 `json:"ci_ids"`
	// Solution is a public comment written in the same transaction, after
	// the change: resolving with a solution is one step, which a refused
	// change (a stale page, a wrong transition) leaves unwritten.
	Solution *string `json:"solution"`
	// Channel through which the change came in, for the history; "" is api.
	Channel string `json:"-"`
	// Seen is the ticket's updated_at as the caller last saw it (a form's
	// hidden field); nil: not checked. When someone else changed the
	// ticket since, the update is refused (ECONFLICT naming "updated_at",
	// with what changed) rather than overwriting their change.
	Seen *time.Time `json:"-"`
}

// Validate checks the fields of the update on their own.
func (u *TicketUpdate) Validate() error {
	if u.Title != nil {
		if err := checkText("title", *u.Title, 200, true); err != nil {
			return err
		}
	}
	if u.Description != nil {
		if err := checkText("description", *u.Description, 20000, false); err != nil {
			return err
		}
	}
	if u.Solution != nil {
		if err := checkText("solution", *u.Solution, 20000, true); err != nil {
			return err
		}
	}
	if u.CategoryID != nil && *u.CategoryID <= 0 {
		return Invalid("category_id", "must be a category id")
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"impact", u.Impact}, {"urgency", u.Urgency}, {"level", u.Level}} {
		if f.v != nil {
			if err := checkLevel(f.name, *f.v); err != nil {
				return err
			}
		}
	}
	if u.Status != nil && !contains(TicketStatuses, *u.Status) {
		return Invalid("status", "must be one of %s, not %q", strings.Join(TicketStatuses, ", "), *u.Status)
	}
	if u.ProviderID != nil && *u.ProviderID < 0 {
		return Invalid("provider_id", "must be a provider id, or 0 for the authority's IT")
	}
	if u.AssigneeUserID != nil && *u.AssigneeUserID < 0 {
		return Invalid("assignee_user_id", "must be a user id, or 0 for none")
	}
	if u.CIIDs != nil {
		t := Ticket{CIIDs: *u.CIIDs}
		if err := t.validateCIs(); err != nil {
			return err
		}
	}
	if u.Channel == "" {
		u.Channel = ChannelAPI
	}
	if !contains(TicketChannels, u.Channel) {
		return Invalid("channel", "must be one of %s", strings.Join(TicketChannels, ", "))
	}
	return nil
}

// TicketFilter selects tickets; zero fields do not filter.
type TicketFilter struct {
	AuthorityID int64
	SchoolID    int64
	CIID        int64
	// Statuses: any of these; the pseudo status "open" means every status
	// but resolved and closed.
	Statuses []string
	Type     string
	Level    int
	Priority int
	// Group: "authority" (the authority's own IT) or a provider id.
	Group string
	// ServiceID: requests opened against this catalogue service.
	ServiceID int64
	// SLA: open tickets whose SLA is breached or due soon (SLAFilter*).
	SLA string
	// Query matches number, title and description (case-insensitive).
	Query string
	// AssigneeUserID: tickets assigned to this person.
	AssigneeUserID int64
	// Unassigned: tickets assigned to nobody (not with AssigneeUserID).
	Unassigned bool
	// Channel: tickets that came in through this channel.
	Channel string
	// ReporterUserID: tickets this person reported (a teacher's own).
	ReporterUserID int64
	// Sort: SortDefault or SortDue.
	Sort          string
	Limit, Offset int
}

// Validate checks the filter values.
func (f *TicketFilter) Validate() error {
	for _, s := range f.Statuses {
		if s != "open" && !contains(TicketStatuses, s) {
			return Invalid("status", "must be open or one of %s, not %q", strings.Join(TicketStatuses, ", "), s)
		}
	}
	if f.Type != "" && f.Type != TicketIncident && f.Type != TicketRequest {
		return Invalid("type", "must be incident or request")
	}
	if f.Level != 0 {
		if err := checkLevel("level", f.Level); err != nil {
			return err
		}
	}
	if f.Priority < 0 || f.Priority > 5 {
		return Invalid("priority", "must be 1–5")
	}
	if f.Group != "" && f.Group != "authority" {
		var n int64
		if _, err := fmt.Sscan(f.Group, &n); err != nil || n <= 0 || fmt.Sprint(n) != f.Group {
			return Invalid("group", "must be authority or a provider id")
		}
	}
	if err := validateSLAFilter(f.SLA); err != nil {
		return err
	}
	if err := f.validateQueue(); err != nil {
		return err
	}
	if f.Limit < 0 || f.Limit > 1000 {
		return Invalid("limit", "must be 1–1000")
	}
	if f.Offset < 0 {
		return Invalid("offset", "must not be negative")
	}
	return nil
}

// TicketComment is a comment on a ticket. Internal comments are for staff
// and providers; teachers never see them.
type TicketComment struct {
	ID           int64     `json:"id"`
	TicketID     int64     `json:"ticket_id"`
	Author       string    `json:"author"`
	AuthorUserID int64     `json:"author_user_id,omitempty"`
	Body         string    `json:"body"`
	Internal     bool      `json:"internal"`
	Channel      string    `json:"channel"`
	CreatedAt    time.Time `json:"created_at"`
}

// Validate checks the body and channel of a new comment.
func (c *TicketComment) Validate() error {
	if err := checkText("body", c.Body, 20000, true); err != nil {
		return err
	}
	if c.Channel == "" {
		c.Channel = ChannelAPI
	}
	if !contains(TicketChannels, c.Channel) {
		return Invalid("channel", "must be one of %s", strings.Join(TicketChannels, ", "))
	}
	return nil
}

// TicketHistoryEntry is one change of a ticket: a field from Old to New,
// by Subject through Channel at At. Field "created" marks the creation,
// "comment" and "watcher" the additions.
type TicketHistoryEntry struct {
	ID       int64     `json:"id"`
	TicketID int64     `json:"ticket_id"`
	At       time.Time `json:"at"`
	Subject  string    `json:"subject"`
	Channel  string    `json:"channel"`
	Field    string    `json:"field"`
	Old      string    `json:"old"`
	New      string    `json:"new"`
}

// TicketCategory is one category of a CI class ("printer": "Papierstau").
// Class "general" fits every ticket. AuthorityID 0: a platform default.
type TicketCategory struct {
	ID          int64  `json:"id"`
	AuthorityID int64  `json:"authority_id,omitempty"`
	Class       string `json:"class"`
	Name        string `json:"name"`
	Position    int    `json:"position"`
	Active      bool   `json:"active"`
}

// TicketStore keeps tickets. Every method filters by the scope: a ticket
// the caller may not see answers ENOTFOUND as if it did not exist.
//
// Who sees what: teachers (ReadSchools) the tickets of their schools and
// the ones they reported, never internal comments; school IT the tickets
// of their schools; authority IT all of the authority; providers only the
// tickets assigned to their provider, while assigned.
type TicketStore interface {
	// CreateTicket opens a ticket and fills its read-only fields. With an
	// idempotency key, a second call by the same caller in the same
	// authority with the same key returns the first ticket and created
	// false. EINVALID naming the field for bad input, an unknown or
	// invisible CI (ci_ids[i]), room (room_id), school (school_id),
	// category (category_id), provider (provider_id) or user.
	CreateTicket(ctx context.Context, s Scope, t *Ticket, idempotencyKey string) (created bool, err error)
	// FindTicketByID returns a ticket; ENOTFOUND outside the scope.
	FindTicketByID(ctx context.Context, s Scope, id int64) (*Ticket, error)
	// FindTicketByNumber returns a ticket by its readable number; ENOTFOUND
	// outside the scope.
	FindTicketByNumber(ctx context.Context, s Scope, number string) (*Ticket, error)
	// FindTickets returns a page of tickets, open ones first, then by
	// priority and age, and the total number matching. EINVALID for a bad
	// filter.
	FindTickets(ctx context.Context, s Scope, f TicketFilter) ([]*Ticket, int, error)
	// FindCITickets lists the tickets of a CI the caller sees, open ones
	// first; ENOTFOUND when the CI is not visible.
	FindCITickets(ctx context.Context, s Scope, ciID int64) ([]*Ticket, error)
	// UpdateTicket changes a ticket and records every changed field in its
	// history. ECONFLICT naming "status" for a transition the table does
	// not allow; EFORBIDDEN when the caller may see but not change it
	// (teachers may only reopen or close what they reported); EINVALID
	// naming the field for bad values and unknown references.
	UpdateTicket(ctx context.Context, s Scope, id int64, u TicketUpdate) (*Ticket, error)
	// AddTicketComment adds a comment by the caller. The same person
	// sending the same text again while it is still the ticket's newest
	// comment (within DoubleSubmitWindow) is a double submit: c is filled
	// from the first, nothing is added. ECONFLICT naming "status" on a
	// closed ticket; EFORBIDDEN naming "internal" when a teacher writes an
	// internal one.
	AddTicketComment(ctx context.Context, s Scope, c *TicketComment) error
	// FindTicketComments lists a ticket's comments, oldest first, without
	// internal ones for callers who may not see them.
	FindTicketComments(ctx context.Context, s Scope, ticketID int64) ([]*TicketComment, error)
	// AddTicketWatcher adds the signed-in caller to the people affected
	// ("me too"); adding twice changes nothing. EINVALID when the caller
	// is no person (an integration token), ECONFLICT naming "status" when
	// the ticket is no longer open.
	AddTicketWatcher(ctx context.Context, s Scope, ticketID int64) (*Ticket, error)
	// FindRecentRooms lists the rooms of the caller's own reports in a
	// school (a ticket's room, or its device's), the latest first, at most
	// limit: the portal offers them before all the others.
	FindRecentRooms(ctx context.Context, s Scope, schoolID int64, limit int) ([]int64, error)
	// FindJoinedTickets says which of the tickets the signed-in caller
	// joined ("me too"), so that a page offers to join only the others.
	FindJoinedTickets(ctx context.Context, s Scope, ticketIDs []int64) (map[int64]bool, error)
	// FindTicketHistory lists a ticket's changes, oldest first.
	FindTicketHistory(ctx context.Context, s Scope, ticketID int64) ([]*TicketHistoryEntry, error)
	// FindPersonName names a user the caller meets on its work: one it
	// may see as a user, or the reporter, the assignee or the author of a
	// comment it may read on a ticket it sees (the provider's technician
	// on an authority's ticket, the authority's IT on a provider's). The
	// name, else the e-mail address; ENOTFOUND for anyone else.
	FindPersonName(ctx context.Context, s Scope, userID int64) (string, error)
	// FindPriorityMatrix returns the authority's priority matrix (the
	// default when it has none); ENOTFOUND unless the scope sees the
	// whole authority.
	FindPriorityMatrix(ctx context.Context, s Scope, authorityID int64) (PriorityMatrix, error)
	// SetPriorityMatrix stores the authority's own matrix for tickets
	// opened or re-rated from now on; EINVALID naming the cell for a bad
	// matrix, ENOTFOUND unless the scope sees the whole authority.
	SetPriorityMatrix(ctx context.Context, s Scope, authorityID int64, m PriorityMatrix) error
	// FindTicketCategories lists the categories of a CI class ("" for
	// every class), the general ones included.
	FindTicketCategories(ctx context.Context, s Scope, class string) ([]*TicketCategory, error)
	// MergeTicket merges ticket id into ticket into as a duplicate: id is
	// closed with MergedInto, its reporter and watchers join into as
	// watchers, its CIs are linked to into, and both record it in their
	// history and comments. It returns into. EFORBIDDEN unless the caller
	// works on both; EINVALID naming "into" for itself, an unknown or
	// invisible ticket, one of another authority or type; ECONFLICT
	// naming "status" when id is already merged or closed, "into" when
	// into is.
	MergeTicket(ctx context.Context, s Scope, id, into int64) (*Ticket, error)
}
