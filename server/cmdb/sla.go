package cmdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Interval is a span of time from Start (inclusive) to End (exclusive). In
// SLA arithmetic it is a pause of the clock (a ticket in status waiting); a
// zero End means the pause is still going on.
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
}

// maxClosedDays bounds the search for opening hours: a calendar with no
// open minute in ten years (say, closed ranges chained end to end) makes
// arithmetic fail instead of looping.
const maxClosedDays = 3700

// errPausedForever ends a walk that reached an open-ended pause.
var errPausedForever = errors.New("clock paused")

var endOfTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// mergePauses returns the pauses sorted by start with overlapping and
// touching ones merged; an open-ended pause gets End = endOfTime and ends
// the list. Pauses with End ≤ Start are dropped.
func mergePauses(ps []Interval) []Interval {
	out := make([]Interval, 0, len(ps))
	for _, p := range ps {
		if p.End.IsZero() {
			p.End = endOfTime
		}
		if p.End.After(p.Start) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	merged := out[:0]
	for _, p := range out {
		if n := len(merged); n > 0 && !p.Start.After(merged[n-1].End) {
			if p.End.After(merged[n-1].End) {
				merged[n-1].End = p.End
			}
			continue
		}
		merged = append(merged, p)
	}
	return merged
}

// walk calls fn with each stretch of running clock — inside opening hours
// and outside the pauses — from `from` on, in order, until fn returns true,
// the stretches reach until (exclusive; zero means no end), or the clock is
// paused for good (errPausedForever). ps must come from mergePauses.
func (b *BusinessCalendar) walk(from, until time.Time, ps []Interval, fn func(s, e time.Time) bool) error {
	day := DateOf(from.In(b.loc))
	pi, closedRun := 0, 0
	for {
		if !until.IsZero() && !time.Date(day.Year, day.Month, day.Day, 0, 0, 0, 0, b.loc).Before(until) {
			return nil
		}
		spans := b.openSpans(day)
		if len(spans) == 0 {
			if closedRun++; closedRun > maxClosedDays {
				return Errorf(EINVALID, "the calendar has no opening hours in the %d days after %s", maxClosedDays, day.AddDays(-maxClosedDays))
			}
		} else {
			closedRun = 0
		}
		for _, sp := range spans {
			s, e := sp.s, sp.e
			if s.Before(from) {
				s = from
			}
			if !until.IsZero() && e.After(until) {
				e = until
			}
			for s.Before(e) {
				for pi < len(ps) && !ps[pi].End.After(s) {
					pi++
				}
				if pi < len(ps) && !ps[pi].Start.After(s) { // s is inside a pause
					if ps[pi].End.Equal(endOfTime) {
						return errPausedForever
					}
					s = ps[pi].End
					continue
				}
				stop := e
				if pi < len(ps) && ps[pi].Start.Before(e) {
					stop = ps[pi].Start
				}
				if fn(s, stop) {
					return nil
				}
				s = stop
			}
		}
		day = day.AddDays(1)
	}
}

// AddBusinessDuration returns the earliest instant t ≥ start at which d of
// opening hours have passed since start: the due time of a target d for a
// ticket opened at start. A start outside opening hours counts from the
// next opening; a due time that exactly fills a span is that span's close
// (not the next opening). d = 0 returns start itself. The result is in the
// calendar's location. Errors: EINVALID for d < 0 (field "duration") or a
// calendar without any opening hour in ten years.
func (b *BusinessCalendar) AddBusinessDuration(start time.Time, d time.Duration) (time.Time, error) {
	return b.Due(start, d, nil)
}

// BusinessDurationBetween returns the opening hours between a and b (the
// part of [a, b) inside opening spans); 0 when b is not after a.
func (b *BusinessCalendar) BusinessDurationBetween(a, c time.Time) time.Duration {
	return b.Elapsed(a, c, nil)
}

// Elapsed returns the SLA time used between start and now: the opening
// hours in [start, now) outside the pauses (overlapping pauses count once;
// an open-ended pause stops the clock from its start). 0 when now is not
// after start.
func (b *BusinessCalendar) Elapsed(start, now time.Time, pauses []Interval) time.Duration {
	if !now.After(start) {
		return 0
	}
	var sum time.Duration
	// Bounded by now; errPausedForever only ends the count early.
	_ = b.walk(start, now, mergePauses(pauses), func(s, e time.Time) bool {
		sum += e.Sub(s)
		return false
	})
	return sum
}

// Due returns the earliest instant t ≥ start at which Elapsed(start, t,
// pauses) reaches target: the due time of a ticket opened at start whose
// waiting spans are pauses. Known pauses push the due time later by the
// opening hours they cover. When an open-ended pause (zero End) begins
// before the target is reached, the clock is stopped and there is no due
// time yet: Due returns the zero time and no error. target = 0 returns
// start. The result is in the calendar's location. Errors: EINVALID for
// target < 0 (field "duration") or a calendar without any opening hour in
// ten years.
func (b *BusinessCalendar) Due(start time.Time, target time.Duration, pauses []Interval) (time.Time, error) {
	if target < 0 {
		return time.Time{}, Invalid("duration", "must not be negative (got %s)", target)
	}
	if target == 0 {
		return start.In(b.loc), nil
	}
	left := target
	var due time.Time
	err := b.walk(start, time.Time{}, mergePauses(pauses), func(s, e time.Time) bool {
		if n := e.Sub(s); n < left {
			left -= n
			return false
		}
		due = s.Add(left)
		return true
	})
	if errors.Is(err, errPausedForever) {
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, err
	}
	return due.In(b.loc), nil
}

// DefaultWarnFraction is the share of an SLA target after which the
// assignee group is warned (80 %).
const DefaultWarnFraction = 0.8

// WarnAt returns when fraction of target has elapsed (see Due): the time to
// warn the assignee group. fraction 0 means DefaultWarnFraction; otherwise
// it must be in (0, 1] (EINVALID, field "warn_fraction"). Like Due, it
// returns the zero time while an open-ended pause holds the clock before
// that point.
func (b *BusinessCalendar) WarnAt(start time.Time, target time.Duration, fraction float64, pauses []Interval) (time.Time, error) {
	if fraction == 0 {
		fraction = DefaultWarnFraction
	}
	if !(fraction > 0 && fraction <= 1) {
		return time.Time{}, Invalid("warn_fraction", "must be greater than 0 and at most 1 (got %g)", fraction)
	}
	return b.Due(start, time.Duration(float64(target)*fraction), pauses)
}

// SLATarget is the time allowed for one priority, in business hours of the
// authority's calendar. Its JSON form counts whole minutes:
// {"first_response_minutes": 30, "resolve_minutes": 240}.
type SLATarget struct {
	FirstResponse time.Duration
	Resolve       time.Duration
}

type slaTargetJSON struct {
	FirstResponse int64 `json:"first_response_minutes"`
	Resolve       int64 `json:"resolve_minutes"`
}

// MarshalJSON writes the target in minutes (rounded down).
func (t SLATarget) MarshalJSON() ([]byte, error) {
	return json.Marshal(slaTargetJSON{int64(t.FirstResponse / time.Minute), int64(t.Resolve / time.Minute)})
}

// UnmarshalJSON reads the target in minutes; values beyond MaxSLATarget
// are kept saturated for Validate to refuse.
func (t *SLATarget) UnmarshalJSON(b []byte) error {
	var v slaTargetJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	minutes := func(m int64) time.Duration {
		if limit := int64(MaxSLATarget/time.Minute) + 1; m > limit {
			m = limit
		} else if m < -limit {
			m = -limit
		}
		return time.Duration(m) * time.Minute
	}
	*t = SLATarget{minutes(v.FirstResponse), minutes(v.Resolve)}
	return nil
}

// SLATargets holds an authority's targets for priorities 1 (highest) to 5
// (Priority[0] is priority 1) and the warn fraction (0 means
// DefaultWarnFraction).
type SLATargets struct {
	Priority     [5]SLATarget `json:"priority"`
	WarnFraction float64      `json:"warn_fraction"`
}

// MaxSLATarget bounds a target (about a year of 8.5-hour business days).
const MaxSLATarget = 2000 * time.Hour

// DefaultSLATargets returns the targets used when an authority sets none,
// in business hours (a default business day is 8.5 hours, 07:30–16:00):
//
//	priority  first response  resolve
//	1         30 min          4 h (half a day)
//	2         1 h             8 h (about a day)
//	3         4 h             24 h (about three days)
//	4         8 h             40 h (about a week)
//	5         16 h            80 h (about two weeks)
//
// and a warning at 80 %.
func DefaultSLATargets() SLATargets {
	return SLATargets{
		Priority: [5]SLATarget{
			{30 * time.Minute, 4 * time.Hour},
			{1 * time.Hour, 8 * time.Hour},
			{4 * time.Hour, 24 * time.Hour},
			{8 * time.Hour, 40 * time.Hour},
			{16 * time.Hour, 80 * time.Hour},
		},
		WarnFraction: DefaultWarnFraction,
	}
}

// For returns the target of priority p (1–5); EINVALID (field "priority")
// otherwise.
func (t SLATargets) For(p int) (SLATarget, error) {
	if p < 1 || p > 5 {
		return SLATarget{}, Invalid("priority", "must be 1 to 5 (got %d)", p)
	}
	return t.Priority[p-1], nil
}

// Validate returns an EINVALID error naming the field
// ("priority[1].resolve", "warn_fraction"), or nil. Each first response
// target is positive, each resolve target at least its first response, both
// at most MaxSLATarget; warn_fraction is 0 (default) or in (0, 1].
func (t SLATargets) Validate() error {
	for i, p := range t.Priority {
		f := fmt.Sprintf("priority[%d]", i+1)
		if p.FirstResponse <= 0 || p.FirstResponse > MaxSLATarget {
			return Invalid(f+".first_response", "must be greater than 0 and at most %s", MaxSLATarget)
		}
		if p.Resolve < p.FirstResponse || p.Resolve > MaxSLATarget {
			return Invalid(f+".resolve", "must be at least the first response target (%s) and at most %s", p.FirstResponse, MaxSLATarget)
		}
	}
	if t.WarnFraction != 0 && !(t.WarnFraction > 0 && t.WarnFraction <= 1) {
		return Invalid("warn_fraction", "must be greater than 0 and at most 1 (got %g)", t.WarnFraction)
	}
	return nil
}

// SLADue holds a ticket's due and warn times; a zero time means the clock
// is paused (status waiting) before that point, so it has none yet.
type SLADue struct {
	FirstResponse     time.Time
	FirstResponseWarn time.Time
	Resolve           time.Time
	ResolveWarn       time.Time
}

// DueTimes computes the due and warn times of a ticket of priority p
// opened at opened, with its waiting spans as pauses, under targets t.
// Recompute it when the priority or the pauses change. Errors: those of
// SLATargets.For and Due.
func (b *BusinessCalendar) DueTimes(opened time.Time, p int, t SLATargets, pauses []Interval) (SLADue, error) {
	target, err := t.For(p)
	if err != nil {
		return SLADue{}, err
	}
	var d SLADue
	for _, x := range []struct {
		out    *time.Time
		target time.Duration
		warn   bool
	}{
		{&d.FirstResponse, target.FirstResponse, false},
		{&d.FirstResponseWarn, target.FirstResponse, true},
		{&d.Resolve, target.Resolve, false},
		{&d.ResolveWarn, target.Resolve, true},
	} {
		if x.warn {
			*x.out, err = b.WarnAt(opened, x.target, t.WarnFraction, pauses)
		} else {
			*x.out, err = b.Due(opened, x.target, pauses)
		}
		if err != nil {
			return SLADue{}, err
		}
	}
	return d, nil
}
