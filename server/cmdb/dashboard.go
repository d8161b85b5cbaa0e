package cmdb

import (
	"context"
	"time"
)

// The dashboard: what authority IT (the whole authority) and a school IT
// contact (their schools) watch every morning. Each figure has a list
// behind it; the lists the ticket queue and the device list cannot give
// are DashboardStore's.

// Thresholds of the dashboard.
const (
	// StaleDays: a source that has not seen a device for this many days
	// counts it as not seen.
	StaleDays = 30
	// LowSupplyPercent: a supply at or below this level runs low.
	LowSupplyPercent = 20.0
	// SupplyFreshDays: a supply level older than this is not current
	// (the printer is gone or unreachable) and is not shown as low.
	SupplyFreshDays = 7
	// SupplyUseDays: the use of a supply is estimated over its levels of
	// this many days since it was last refilled.
	SupplyUseDays = 30
)

// DashboardFilter selects the part of the tenant tree a dashboard or one
// of its lists covers. AuthorityID 0 means the one authority the scope
// works in (EINVALID naming "authority" when it sees several); SchoolID
// narrows to one school (0: every school the scope sees).
type DashboardFilter struct {
	AuthorityID int64
	SchoolID    int64
	// Source narrows the not-seen list to one source ("agent", "snmp",
	// "connector:…"); "" lists every source.
	Source        string
	Limit, Offset int
}

// Validate checks the paging bounds and ids.
func (f *DashboardFilter) Validate() error {
	if f.AuthorityID < 0 {
		return Invalid("authority", "must be a positive id")
	}
	if f.SchoolID < 0 {
		return Invalid("school", "must be a positive id")
	}
	if f.Limit < 0 || f.Limit > 1000 {
		return Invalid("limit", "must be 1–1000")
	}
	if f.Offset < 0 {
		return Invalid("offset", "must not be negative")
	}
	return ValidateText("source", f.Source, MaxNameLen)
}

// Dashboard holds the figures of one authority (or the schools of it the
// scope sees), as of At.
type Dashboard struct {
	AuthorityID int64     `json:"authority_id"`
	SchoolID    int64     `json:"school_id,omitempty"`
	At          time.Time `json:"at"`
	// OpenTickets counts open tickets per school (0: none) and priority.
	OpenTickets []TicketCount `json:"open_tickets"`
	// SLABreached counts open tickets past their due time; DueToday
	// those due later today (Europe/Berlin).
	SLABreached int `json:"sla_breached"`
	DueToday    int `json:"due_today"`
	// NotSeen counts, per source, the devices it last saw more than
	// StaleDays ago.
	NotSeen []SourceCount `json:"not_seen"`
	// Agent coverage: laptops and desktops in use or in stock, and those
	// of them without an enrolled agent.
	AgentDevices int `json:"agent_devices"`
	NoAgent      int `json:"no_agent"`
	// LowSupplies counts supplies at or below LowSupplyPercent.
	LowSupplies int `json:"low_supplies"`
	// Unreachable counts SNMP and PJLink targets that stopped answering.
	Unreachable int `json:"unreachable"`
}

// TicketCount is a number of tickets of one school and priority.
type TicketCount struct {
	SchoolID int64 `json:"school_id,omitempty" db:"school_id"`
	Priority int   `json:"priority" db:"priority"`
	Count    int   `json:"count" db:"n"`
}

// SourceCount is a number of devices of one source.
type SourceCount struct {
	Source string `json:"source" db:"source"`
	Count  int    `json:"count" db:"n"`
}

// DeviceLine is a device in a dashboard list.
type DeviceLine struct {
	CIID     int64  `json:"ci_id" db:"ci_id"`
	Name     string `json:"name" db:"name"`
	Class    string `json:"class" db:"class"`
	Vendor   string `json:"vendor,omitempty" db:"vendor"`
	Model    string `json:"model,omitempty" db:"model"`
	Serial   string `json:"serial,omitempty" db:"serial"`
	SchoolID int64  `json:"school_id,omitempty" db:"school_id"`
	School   string `json:"school,omitempty" db:"school"`
	Room     string `json:"room,omitempty" db:"room"`
	// Source and LastSeen: the not-seen list's source and when it last
	// saw the device; for the no-agent list the last sighting by any
	// source (zero: never).
	Source   string    `json:"source,omitempty" db:"source"`
	LastSeen time.Time `json:"last_seen,omitzero" db:"last_seen"`
}

// SupplyLine is a supply running low, with its forecast.
type SupplyLine struct {
	DeviceLine
	// Metric is the series, e.g. "supply.1.percent"; Supply its name as
	// the printer reports it ("Black Toner"), else "".
	Metric  string    `json:"metric" db:"metric"`
	Supply  string    `json:"supply,omitempty" db:"supply"`
	Percent float64   `json:"percent" db:"percent"`
	At      time.Time `json:"at" db:"at"`
	// PerDay is the estimated use in percentage points a day (nil: no
	// use seen); DaysLeft = Percent / PerDay, nil without a use.
	PerDay   *float64 `json:"per_day,omitempty" db:"per_day"`
	DaysLeft *float64 `json:"days_left,omitempty" db:"days_left"`
}

// TargetLine is an unreachable poll target.
type TargetLine struct {
	ID       int64      `json:"id" db:"id"`
	Address  string     `json:"address" db:"address"`
	Kind     string     `json:"kind" db:"kind"`
	SchoolID int64      `json:"school_id" db:"school_id"`
	School   string     `json:"school" db:"school"`
	CIID     int64      `json:"ci_id,omitempty" db:"ci_id"`
	Name     string     `json:"name,omitempty" db:"name"`
	Misses   int        `json:"misses" db:"misses"`
	LastOKAt *time.Time `json:"last_ok_at,omitempty" db:"last_ok_at"`
	Reason   string     `json:"reason,omitempty" db:"reason"`
}

// DueTicket is an open ticket due later today.
type DueTicket struct {
	ID       int64     `json:"id" db:"id"`
	Number   string    `json:"number" db:"number"`
	Title    string    `json:"title" db:"title"`
	Status   string    `json:"status" db:"status"`
	Priority int       `json:"priority" db:"priority"`
	SchoolID int64     `json:"school_id,omitempty" db:"school_id"`
	School   string    `json:"school,omitempty" db:"school"`
	Due      time.Time `json:"due" db:"due"`
}

// SourceSeen says when a source last observed a CI.
type SourceSeen struct {
	Source   string    `json:"source" db:"source"`
	LastSeen time.Time `json:"last_seen" db:"last_seen"`
}

// DashboardStore finds the dashboard's figures and the lists behind them.
// Every method filters by the scope in the store: authority IT sees its
// authority, school IT its schools; teachers and providers see nothing
// (zero figures, empty lists). An authority outside the scope is
// ENOTFOUND; EINVALID names the field of a bad filter. The lists are
// ordered and paged (Limit 0: 100) and return the total.
type DashboardStore interface {
	// Dashboard returns the figures (one query per figure).
	Dashboard(ctx context.Context, s Scope, f DashboardFilter) (*Dashboard, error)
	// FindNotSeen lists devices a source last saw more than StaleDays
	// ago, longest unseen first.
	FindNotSeen(ctx context.Context, s Scope, f DashboardFilter) ([]*DeviceLine, int, error)
	// FindNoAgent lists laptops and desktops in use or in stock without
	// an enrolled agent.
	FindNoAgent(ctx context.Context, s Scope, f DashboardFilter) ([]*DeviceLine, int, error)
	// FindLowSupplies lists supplies at or below LowSupplyPercent with
	// their forecast, the lowest level first.
	FindLowSupplies(ctx context.Context, s Scope, f DashboardFilter) ([]*SupplyLine, int, error)
	// FindUnreachable lists unreachable poll targets.
	FindUnreachable(ctx context.Context, s Scope, f DashboardFilter) ([]*TargetLine, int, error)
	// FindDueToday lists open tickets due later today, soonest first.
	FindDueToday(ctx context.Context, s Scope, f DashboardFilter) ([]*DueTicket, int, error)
	// FindCISources says when each source last saw a visible CI
	// (ENOTFOUND for another's).
	FindCISources(ctx context.Context, s Scope, ciID int64) ([]SourceSeen, error)
	// FindDuplicateCandidate returns one duplicate candidate in any
	// status, with who resolved it (ENOTFOUND for another authority's),
	// so that a review page can say someone else merged it meanwhile.
	FindDuplicateCandidate(ctx context.Context, s Scope, id int64) (*DuplicateCandidate, error)
}
