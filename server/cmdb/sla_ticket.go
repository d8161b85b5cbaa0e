package cmdb

import (
	"context"
	"time"
)

// DefaultCalendarState is the German state of the calendar of an authority
// that stored none (the authority itself names no state): Nordrhein-Westfalen,
// the most populous state, with its public holidays.
const DefaultCalendarState = StateNW

// DueSoonWindow is how far ahead a due time counts as due soon.
const DueSoonWindow = time.Hour

// SLA states of a ticket (TicketSLA.State).
const (
	// SLAOK: open, the clock runs, no due time within DueSoonWindow.
	SLAOK = "ok"
	// SLADueSoon: open, a due time that binds lies within DueSoonWindow.
	SLADueSoon = "due_soon"
	// SLABreached: a due time that binds has passed (open), or the ticket
	// was answered or resolved late (resolved, closed).
	SLABreached = "breached"
	// SLAPaused: status waiting before any due time passed; the clock
	// stands still.
	SLAPaused = "paused"
	// SLAMet: resolved or closed in time.
	SLAMet = "met"
	// SLANone: the ticket has no due times (opened before SLAs existed).
	SLANone = "none"
)

// SLA filter values of TicketFilter.SLA.
const (
	SLAFilterBreached = "breached"
	SLAFilterDueSoon  = "due_soon"
)

// TicketSLA is the SLA view of a ticket: its due times, when it was first
// answered, and its state at the time it was read. A nil due time has not
// been set: the clock is paused before reaching it (waiting), or the
// ticket has none.
type TicketSLA struct {
	FirstResponseDue *time.Time `json:"first_response_due"`
	ResolveDue       *time.Time `json:"resolve_due"`
	FirstResponseAt  *time.Time `json:"first_response_at"`
	State            string     `json:"state"`
	// Deadline is the due time that decides State (see StateAt).
	Deadline *time.Time `json:"-"`
}

// StateAt returns the SLA state of a ticket in status at now, which was
// resolved at end (nil: not yet) — one of the SLA* constants. The deadline
// decides: for an open ticket breached when it passed, due soon within
// DueSoonWindow; a waiting ticket whose deadline has not passed is paused;
// a resolved or closed one met unless its deadline lay before end.
func (s *TicketSLA) StateAt(status string, end *time.Time, now time.Time) string {
	open := status != StatusResolved && status != StatusClosed
	switch {
	case s.Deadline == nil && status == StatusWaiting:
		return SLAPaused
	case s.Deadline == nil && s.FirstResponseDue == nil && s.ResolveDue == nil:
		return SLANone
	case !open:
		if s.Deadline != nil && end != nil && s.Deadline.Before(*end) {
			return SLABreached
		}
		return SLAMet
	case s.Deadline == nil:
		return SLAOK
	case !s.Deadline.After(now):
		return SLABreached
	case status == StatusWaiting:
		return SLAPaused
	case !s.Deadline.After(now.Add(DueSoonWindow)):
		return SLADueSoon
	}
	return SLAOK
}

func validateSLAFilter(v string) error {
	switch v {
	case "", SLAFilterBreached, SLAFilterDueSoon:
		return nil
	}
	return Invalid("sla", "must be breached or due_soon, not %q", v)
}

// CalendarDay is a closed day of an authority's calendar in one year: a
// public holiday of its state (Kind "holiday") or one of its extra closed
// days (Kind "closed").
type CalendarDay struct {
	Date Date   `json:"date"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// SLAStore keeps the authorities' business calendars and SLA targets.
// Only callers who see the whole authority (authority IT, admins) read and
// change them; for everyone else the authority does not exist (ENOTFOUND).
type SLAStore interface {
	// FindCalendar returns the authority's calendar, or
	// DefaultCalendar(DefaultCalendarState) when it stored none.
	FindCalendar(ctx context.Context, s Scope, authorityID int64) (Calendar, error)
	// SetCalendar stores the authority's calendar and recomputes the due
	// times of its open tickets. EINVALID naming the field (see
	// Calendar.Validate).
	SetCalendar(ctx context.Context, s Scope, authorityID int64, c Calendar) error
	// FindSLATargets returns the authority's targets, or
	// DefaultSLATargets() when it stored none.
	FindSLATargets(ctx context.Context, s Scope, authorityID int64) (SLATargets, error)
	// SetSLATargets stores the authority's targets and recomputes the due
	// times of its open tickets. EINVALID naming the field (see
	// SLATargets.Validate).
	SetSLATargets(ctx context.Context, s Scope, authorityID int64, t SLATargets) error
	// FindCalendarDays lists the closed days of the authority's calendar
	// in year, sorted: its state's public holidays and its extra closed
	// days. EINVALID naming "year" outside MinHolidayYear..MaxHolidayYear.
	FindCalendarDays(ctx context.Context, s Scope, authorityID int64, year int) ([]CalendarDay, error)
}

// Audit actions of changed SLA settings.
const (
	AuditCalendarSet   = "sla_calendar_set"
	AuditSLATargetsSet = "sla_targets_set"
)
