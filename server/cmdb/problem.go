package cmdb

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Problem statuses (ITIL problem management).
const (
	ProblemOpen       = "open"
	ProblemKnownError = "known_error"
	ProblemResolved   = "resolved"
	ProblemClosed     = "closed"
)

// Problem origins: how the incidents of a problem were found to belong
// together.
const (
	OriginManual        = "manual"
	OriginRepeatFailure = "repeat_failure" // one CI failing again and again
	OriginPattern       = "pattern"        // one vendor and model failing across the authority
)

// ProblemStatuses lists every problem status in its usual order.
var ProblemStatuses = []string{ProblemOpen, ProblemKnownError, ProblemResolved, ProblemClosed}

// ProblemOrigins lists every origin.
var ProblemOrigins = []string{OriginManual, OriginRepeatFailure, OriginPattern}

// Problem is the cause behind one or more incidents of an authority,
// with what is known about it (the known error) and how to live with it
// until it is fixed (the workaround). A ticket belongs to at most one
// problem (Ticket.ProblemID).
type Problem struct {
	ID          int64  `json:"id"`
	Number      string `json:"number"` // PRB-<id>, read-only
	AuthorityID int64  `json:"authority_id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Status      string `json:"status"`
	KnownError  string `json:"known_error"`
	Workaround  string `json:"workaround"`
	Origin      string `json:"origin"`
	// OriginCIID is the CI of a repeat failure; OriginVendor and
	// OriginModel the model of a pattern.
	OriginCIID   int64  `json:"origin_ci_id,omitempty"`
	OriginVendor string `json:"origin_vendor,omitempty"`
	OriginModel  string `json:"origin_model,omitempty"`
	// TicketIDs are the grouped tickets the caller may see, read-only
	// (change them with Link/UnlinkProblemTicket).
	TicketIDs []int64   `json:"ticket_ids"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ProblemNumber is the readable number of problem id: PRB-<id>.
func ProblemNumber(id int64) string { return fmt.Sprintf("PRB-%d", id) }

// NewProblem is what opening a problem takes. Origin decides which
// incidents are grouped besides TicketIDs: repeat_failure takes the
// incidents of CIID, pattern those on CIs of Vendor and Model (both in
// the last WindowDays days, and only those not in a problem yet).
type NewProblem struct {
	AuthorityID int64   `json:"authority_id"`
	Title       string  `json:"title"`
	Description string  `json:"description"`
	KnownError  string  `json:"known_error"`
	Workaround  string  `json:"workaround"`
	Origin      string  `json:"origin"`
	CIID        int64   `json:"ci_id"`
	Vendor      string  `json:"vendor"`
	Model       string  `json:"model"`
	TicketIDs   []int64 `json:"ticket_ids"`
	// WindowDays bounds the incidents grouped by repeat_failure and
	// pattern; 0 is DefaultRepeatWindowDays.
	WindowDays int `json:"window_days"`
}

// Validate checks the fields on their own and fills the defaults (origin
// manual, the default window); the store checks the references.
func (p *NewProblem) Validate() error {
	if err := checkText("title", p.Title, 200, true); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"description", p.Description}, {"known_error", p.KnownError}, {"workaround", p.Workaround}} {
		if err := checkText(f.name, f.v, 20000, false); err != nil {
			return err
		}
	}
	if p.Origin == "" {
		p.Origin = OriginManual
	}
	switch p.Origin {
	case OriginManual:
		if p.CIID != 0 || p.Vendor != "" || p.Model != "" {
			return Invalid("origin", "manual problems name their tickets in ticket_ids; ci_id is for repeat_failure, vendor and model for pattern")
		}
	case OriginRepeatFailure:
		if p.CIID <= 0 {
			return Invalid("ci_id", "is required for origin repeat_failure: the CI that fails again and again")
		}
		if p.Vendor != "" || p.Model != "" {
			return Invalid("vendor", "is for origin pattern, not repeat_failure")
		}
	case OriginPattern:
		if p.CIID != 0 {
			return Invalid("ci_id", "is for origin repeat_failure, not pattern")
		}
		if strings.TrimSpace(p.Vendor) == "" {
			return Invalid("vendor", "is required for origin pattern")
		}
		if strings.TrimSpace(p.Model) == "" {
			return Invalid("model", "is required for origin pattern")
		}
		if err := checkText("vendor", p.Vendor, 200, true); err != nil {
			return err
		}
		if err := checkText("model", p.Model, 200, true); err != nil {
			return err
		}
	default:
		return Invalid("origin", "must be one of %s, not %q", strings.Join(ProblemOrigins, ", "), p.Origin)
	}
	seen := map[int64]bool{}
	for i, id := range p.TicketIDs {
		if id <= 0 {
			return Invalid(fmt.Sprintf("ticket_ids[%d]", i), "must be a positive ticket id")
		}
		if seen[id] {
			return Invalid(fmt.Sprintf("ticket_ids[%d]", i), "names ticket %d twice", id)
		}
		seen[id] = true
	}
	if len(p.TicketIDs) > 500 {
		return Invalid("ticket_ids", "must name at most 500 tickets")
	}
	if p.WindowDays == 0 {
		p.WindowDays = DefaultRepeatWindowDays
	}
	if p.WindowDays < 1 || p.WindowDays > 3660 {
		return Invalid("window_days", "must be 1 to 3660 days (got %d)", p.WindowDays)
	}
	if p.AuthorityID < 0 {
		return Invalid("authority_id", "must be an authority id")
	}
	return nil
}

// problemTransitions is the table of allowed status changes. Closed is
// final; resolved → open is the reopen (the fix did not hold).
var problemTransitions = map[string][]string{
	ProblemOpen:       {ProblemKnownError, ProblemResolved, ProblemClosed},
	ProblemKnownError: {ProblemOpen, ProblemResolved, ProblemClosed},
	ProblemResolved:   {ProblemOpen, ProblemClosed},
	ProblemClosed:     {},
}

// CheckProblemTransition reports whether a problem may go from one
// status to another: EINVALID naming "status" for an unknown status,
// ECONFLICT naming "status" for a change the table does not allow.
func CheckProblemTransition(from, to string) error {
	if !contains(ProblemStatuses, to) {
		return Invalid("status", "must be one of %s, not %q", strings.Join(ProblemStatuses, ", "), to)
	}
	if from == to || contains(problemTransitions[from], to) {
		return nil
	}
	if from == ProblemClosed {
		return &Error{Code: ECONFLICT, Field: "status", Message: "The problem is closed; a closed problem cannot change. Open a new one."}
	}
	return &Error{Code: ECONFLICT, Field: "status", Message: fmt.Sprintf("A problem cannot go from %s to %s; allowed: %s.",
		from, to, strings.Join(problemTransitions[from], ", "))}
}

// ProblemUpdate is a change of a problem; nil fields stay as they are.
type ProblemUpdate struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Status      *string `json:"status"`
	KnownError  *string `json:"known_error"`
	Workaround  *string `json:"workaround"`
}

// Validate checks the fields of the update on their own.
func (u *ProblemUpdate) Validate() error {
	if u.Title != nil {
		if err := checkText("title", *u.Title, 200, true); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"description", u.Description}, {"known_error", u.KnownError}, {"workaround", u.Workaround}} {
		if f.v != nil {
			if err := checkText(f.name, *f.v, 20000, false); err != nil {
				return err
			}
		}
	}
	if u.Status != nil && !contains(ProblemStatuses, *u.Status) {
		return Invalid("status", "must be one of %s, not %q", strings.Join(ProblemStatuses, ", "), *u.Status)
	}
	return nil
}

// ProblemFilter selects problems; zero fields do not filter.
type ProblemFilter struct {
	AuthorityID   int64
	Status        string
	Origin        string
	Limit, Offset int
}

// Validate checks the filter values.
func (f *ProblemFilter) Validate() error {
	if f.Status != "" && !contains(ProblemStatuses, f.Status) {
		return Invalid("status", "must be one of %s, not %q", strings.Join(ProblemStatuses, ", "), f.Status)
	}
	if f.Origin != "" && !contains(ProblemOrigins, f.Origin) {
		return Invalid("origin", "must be one of %s, not %q", strings.Join(ProblemOrigins, ", "), f.Origin)
	}
	if f.Limit < 0 || f.Limit > 1000 {
		return Invalid("limit", "must be 1–1000")
	}
	if f.Offset < 0 {
		return Invalid("offset", "must not be negative")
	}
	return nil
}

// ProblemStore keeps problems. Every method filters by the scope: a
// problem the caller may not see answers ENOTFOUND as if it did not
// exist.
//
// Who sees what: authority IT (and admins) every problem of the
// authority, and only they open, change and (un)link; school IT, read
// only, the problems that group a ticket of their school; teachers and
// providers none (they see a ticket's problem_id, not the problem).
type ProblemStore interface {
	// CreateProblem opens a problem and groups its incidents: TicketIDs,
	// plus by origin the CI's or the model's incidents not in a problem
	// yet. EINVALID naming the field for bad input, an unknown or
	// invisible authority, CI or ticket (ticket_ids[i]); ECONFLICT naming
	// ticket_ids[i] for a ticket already in another problem; EFORBIDDEN
	// for a caller who sees but may not open problems.
	CreateProblem(ctx context.Context, s Scope, p NewProblem) (*Problem, error)
	// FindProblemByID returns a problem; ENOTFOUND outside the scope.
	FindProblemByID(ctx context.Context, s Scope, id int64) (*Problem, error)
	// FindProblems returns a page of problems, open ones first and the
	// newest first, and the total number matching. EINVALID for a bad
	// filter.
	FindProblems(ctx context.Context, s Scope, f ProblemFilter) ([]*Problem, int, error)
	// UpdateProblem changes a problem. ECONFLICT naming "status" for a
	// transition the table does not allow; EINVALID naming "known_error"
	// for status known_error without its text; EFORBIDDEN for a caller
	// who may see but not change it.
	UpdateProblem(ctx context.Context, s Scope, id int64, u ProblemUpdate) (*Problem, error)
	// LinkProblemTicket puts a ticket into the problem and records it in
	// the ticket's history (field "problem"); linking it again changes
	// nothing. ENOTFOUND for an invisible problem or ticket (or one of
	// another authority), ECONFLICT naming "ticket" when it is in another
	// problem.
	LinkProblemTicket(ctx context.Context, s Scope, problemID, ticketID int64) (*Problem, error)
	// UnlinkProblemTicket takes a ticket out of the problem and records
	// it in the ticket's history; ENOTFOUND when it is not in it.
	UnlinkProblemTicket(ctx context.Context, s Scope, problemID, ticketID int64) (*Problem, error)
	// FindProblemHistory lists a problem's changes, oldest first: the
	// fields and the tickets put in or taken out (only those tickets the
	// caller sees). ENOTFOUND outside the scope.
	FindProblemHistory(ctx context.Context, s Scope, id int64) ([]*ProblemHistoryEntry, error)
}

// ProblemHistoryEntry is one change of a problem. Field is a problem
// field ("status", "known_error", …), "created", or "ticket" (Old or New
// is the ticket's number; TicketID names it).
type ProblemHistoryEntry struct {
	ID        int64     `json:"id"`
	ProblemID int64     `json:"problem_id"`
	At        time.Time `json:"at"`
	Subject   string    `json:"subject"`
	Field     string    `json:"field"`
	Old       string    `json:"old"`
	New       string    `json:"new"`
	TicketID  int64     `json:"ticket_id,omitempty"`
}
