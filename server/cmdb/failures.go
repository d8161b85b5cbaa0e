package cmdb

import (
	"context"
	"slices"
	"strings"
	"time"
)

// RepeatFailureFlag is a CI's replacement-candidate flag, set and cleared
// by the repeat-failure rule alone: the CI had Count ≥ MinIncidents
// incidents in the last WindowDays days, named by Tickets (oldest first).
type RepeatFailureFlag struct {
	// Since is when the rule first flagged the CI (kept while the flag
	// holds, even as its reason changes).
	Since        time.Time `json:"since"`
	Count        int       `json:"count"`
	MinIncidents int       `json:"min_incidents"`
	WindowDays   int       `json:"window_days"`
	Tickets      []string  `json:"tickets"`
	// ClearsAt is when the flag clears unless another incident comes in.
	ClearsAt time.Time `json:"clears_at"`
}

// RepeatFailureSource is the source of the CI history rows the rule
// writes.
const RepeatFailureSource = "rule:repeat-failure"

// AuditRepeatRuleSet is the audit action of a changed repeat-failure rule.
const AuditRepeatRuleSet = "repeat_failure_rule_set"

// RepeatFailureFilter selects flagged CIs; zero fields do not filter.
type RepeatFailureFilter struct {
	AuthorityID   int64
	SchoolID      int64
	Class         string
	Limit, Offset int
}

// Validate checks the filter values.
func (f *RepeatFailureFilter) Validate() error {
	if f.Class != "" && !slices.Contains(Classes, f.Class) {
		return Invalid("class", "must be one of %s, not %q", strings.Join(Classes, ", "), f.Class)
	}
	if f.Limit < 0 || f.Limit > 1000 {
		return Invalid("limit", "must be 1–1000")
	}
	if f.Offset < 0 {
		return Invalid("offset", "must not be negative")
	}
	if f.AuthorityID < 0 || f.SchoolID < 0 {
		return Invalid("school_id", "must be a positive id")
	}
	return nil
}

// PatternWindowDays is the period the model-pattern test looks at: the
// last year.
const PatternWindowDays = 365

// FailurePattern is a model pattern with its devices that had an
// incident in the period (DeviceList, and their ids in CIIDs; Devices
// counts all of the model's).
type FailurePattern struct {
	ModelPattern
	AuthorityID int64 `json:"authority_id"`
	// From and To are the period examined.
	From       time.Time              `json:"from"`
	To         time.Time              `json:"to"`
	DeviceList []FailurePatternDevice `json:"device_list"`
}

// FailurePatternDevice is one device of a pattern's model.
type FailurePatternDevice struct {
	CIID      int64   `json:"ci_id" db:"ci_id"`
	Name      string  `json:"name" db:"name"`
	SchoolID  int64   `json:"school_id,omitempty" db:"school_id"`
	Incidents int     `json:"incidents" db:"incidents"`
	Years     float64 `json:"device_years" db:"years"`
}

// FailureStore keeps the repeat-failure rules and flags and finds model
// patterns. Every method filters by the scope.
//
// Who sees what: flags are for IT staff — authority IT all of the
// authority, school IT their schools; teachers and providers see none
// (an empty list). Rules and patterns belong to the whole authority:
// authority IT and admins only, others get ENOTFOUND.
type FailureStore interface {
	// FindRepeatFailureRule returns an authority's rule (the default when
	// it has none). ENOTFOUND unless the scope sees the whole authority.
	FindRepeatFailureRule(ctx context.Context, s Scope, authorityID int64) (RepeatRules, error)
	// SetRepeatFailureRule stores an authority's rule and re-applies it
	// to every CI of the authority at once. EINVALID naming the field
	// ("by_class.printer.threshold"); ENOTFOUND unless the scope sees the
	// whole authority.
	SetRepeatFailureRule(ctx context.Context, s Scope, authorityID int64, r RepeatRules) error
	// FindRepeatFailures returns a page of flagged CIs (most incidents
	// first) with their flag, and the total; EINVALID for a bad filter.
	FindRepeatFailures(ctx context.Context, s Scope, f RepeatFailureFilter) ([]*CI, int, error)
	// FindPatternRule returns an authority's model-pattern rule
	// (DefaultPatternRule when it has none). ENOTFOUND unless the scope
	// sees the whole authority.
	FindPatternRule(ctx context.Context, s Scope, authorityID int64) (PatternRule, error)
	// SetPatternRule stores an authority's model-pattern rule; the next
	// FindFailurePatterns uses it. EINVALID naming the field (see
	// PatternRule.Validate); ENOTFOUND unless the scope sees the whole
	// authority.
	SetPatternRule(ctx context.Context, s Scope, authorityID int64, r PatternRule) error
	// FindFailurePatterns runs the model-pattern test, with the
	// authority's rule (see FindPatternRule), over the last
	// PatternWindowDays of an authority (0: the one authority the scope
	// sees; EINVALID naming "authority_id" when it sees several).
	// ENOTFOUND unless the scope sees the whole authority.
	FindFailurePatterns(ctx context.Context, s Scope, authorityID int64) ([]*FailurePattern, error)
}
