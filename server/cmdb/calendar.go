package cmdb

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	// The calendar's zone (Europe/Berlin by default) must load on machines
	// without the system's zoneinfo files (containers, minimal Debian).
	_ "time/tzdata"
)

// DefaultTimeZone is the zone of a Calendar that names none.
const DefaultTimeZone = "Europe/Berlin"

// TimeOfDay is a wall-clock time as minutes after midnight, 0 (00:00) to
// 1440 (24:00, only useful as a closing time). Its text form is "HH:MM".
type TimeOfDay int

// Clock returns the time of day h:m.
func Clock(h, m int) TimeOfDay { return TimeOfDay(h*60 + m) }

// String returns t as "HH:MM".
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

// ParseTimeOfDay parses "HH:MM" (00:00 to 24:00); the error names field.
func ParseTimeOfDay(field, s string) (TimeOfDay, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 ||
		hh*60+mm > 1440 {
		return 0, Invalid(field, "%q is not a time of day HH:MM between 00:00 and 24:00", s)
	}
	return Clock(hh, mm), nil
}

// MarshalText implements encoding.TextMarshaler ("HH:MM").
func (t TimeOfDay) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler ("HH:MM").
func (t *TimeOfDay) UnmarshalText(b []byte) error {
	v, err := ParseTimeOfDay("time", string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// OpeningHours is one span of a day during which the SLA clock runs,
// from Open (inclusive) to Close (exclusive).
type OpeningHours struct {
	Open  TimeOfDay `json:"open"`
	Close TimeOfDay `json:"close"`
}

// ClosedDays is a range of extra closed days (school holidays, a works
// outing), From to To inclusive.
type ClosedDays struct {
	From Date   `json:"from"`
	To   Date   `json:"to"`
	Name string `json:"name,omitempty"`
}

// Calendar is an authority's business calendar: the weekly opening hours,
// the German state whose public holidays are closed, and extra closed days.
// It is plain data; NewBusinessCalendar turns it into the clock that does
// the arithmetic.
type Calendar struct {
	// TimeZone is an IANA zone name; "" means DefaultTimeZone.
	TimeZone string `json:"time_zone"`
	// State names the Bundesland whose public holidays are closed; ""
	// means none (only Closed applies).
	State GermanState `json:"state"`
	// Week holds the opening hours per weekday, indexed by time.Weekday
	// (0 = Sunday). Spans of one day are sorted and do not overlap. A day
	// without spans is closed.
	Week [7][]OpeningHours `json:"week"`
	// Closed lists extra closed days.
	Closed []ClosedDays `json:"closed,omitempty"`
}

// Limits of a Calendar.
const (
	MaxClosedRanges    = 1000
	MaxClosedRangeDays = 366
	maxSpansPerDay     = 8
)

// DefaultCalendar returns Monday to Friday 07:30–16:00 in Europe/Berlin with
// the public holidays of state (pass "" for none).
func DefaultCalendar(state GermanState) Calendar {
	c := Calendar{TimeZone: DefaultTimeZone, State: state}
	for d := time.Monday; d <= time.Friday; d++ {
		c.Week[d] = []OpeningHours{{Clock(7, 30), Clock(16, 0)}}
	}
	return c
}

// Validate returns an EINVALID error naming the offending field
// ("time_zone", "state", "week[1][0].close", "closed[2].to", …), or nil.
// A valid calendar has a loadable zone, a known state or none, at least one
// opening span in the week, spans with 00:00 ≤ open < close ≤ 24:00 sorted
// without overlap (at most 8 a day), and at most 1000 closed ranges, each
// with from ≤ to and at most 366 days long.
func (c Calendar) Validate() error {
	if _, err := c.location(); err != nil {
		return err
	}
	if c.State != "" && !c.State.Valid() {
		return Invalid("state", "%q is not a German state code (BW, BY, BE, BB, HB, HH, HE, MV, NI, NW, RP, SL, SN, ST, SH, TH)", string(c.State))
	}
	open := false
	for d, spans := range c.Week {
		if len(spans) > maxSpansPerDay {
			return Invalid(fmt.Sprintf("week[%d]", d), "at most %d opening spans a day", maxSpansPerDay)
		}
		for i, s := range spans {
			f := fmt.Sprintf("week[%d][%d]", d, i)
			if s.Open < 0 || s.Open >= 1440 {
				return Invalid(f+".open", "must be between 00:00 and 23:59")
			}
			if s.Close <= s.Open || s.Close > 1440 {
				return Invalid(f+".close", "must be after open (%s) and at most 24:00", s.Open)
			}
			if i > 0 && s.Open < spans[i-1].Close {
				return Invalid(f+".open", "must not be before the previous span's close (%s)", spans[i-1].Close)
			}
			open = true
		}
	}
	if !open {
		return Invalid("week", "must have at least one opening span")
	}
	if len(c.Closed) > MaxClosedRanges {
		return Invalid("closed", "at most %d closed ranges", MaxClosedRanges)
	}
	for i, r := range c.Closed {
		f := fmt.Sprintf("closed[%d]", i)
		if r.From.IsZero() || r.From.Year < MinHolidayYear || r.From.Year > MaxHolidayYear {
			return Invalid(f+".from", "must be a date between %d and %d", MinHolidayYear, MaxHolidayYear)
		}
		if r.To.IsZero() || r.To.Before(r.From) {
			return Invalid(f+".to", "must be a date not before from (%s)", r.From)
		}
		if r.From.AddDays(MaxClosedRangeDays - 1).Before(r.To) {
			return Invalid(f+".to", "a closed range is at most %d days long", MaxClosedRangeDays)
		}
		if len(r.Name) > 200 {
			return Invalid(f+".name", "at most 200 characters")
		}
	}
	return nil
}

func (c Calendar) location() (*time.Location, error) {
	name := c.TimeZone
	if name == "" {
		name = DefaultTimeZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, Invalid("time_zone", "%q is not an IANA time zone such as Europe/Berlin", c.TimeZone)
	}
	return loc, nil
}

// BusinessCalendar does SLA arithmetic on a validated Calendar. It is safe
// for concurrent use. Durations it counts are real elapsed time inside
// opening hours, so an opening span across a DST change counts its true
// length.
type BusinessCalendar struct {
	cal      Calendar
	loc      *time.Location
	closed   map[Date]string // extra closed days → name
	mu       sync.Mutex
	holidays map[int]map[Date]string // year → day → name
}

// NewBusinessCalendar validates c (see Calendar.Validate) and returns its
// clock.
func NewBusinessCalendar(c Calendar) (*BusinessCalendar, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	loc, _ := c.location()
	for d := range c.Week { // c is a copy, but its slices share memory with the caller's
		c.Week[d] = slices.Clone(c.Week[d])
	}
	closed := map[Date]string{}
	for _, r := range c.Closed {
		name := r.Name
		if name == "" {
			name = "closed"
		}
		for d := r.From; !r.To.Before(d); d = d.AddDays(1) { // at most MaxClosedRangeDays
			if _, dup := closed[d]; !dup {
				closed[d] = name
			}
		}
	}
	c.Closed = nil // kept as the map above
	return &BusinessCalendar{cal: c, loc: loc, closed: closed, holidays: map[int]map[Date]string{}}, nil
}

// Location returns the calendar's time zone.
func (b *BusinessCalendar) Location() *time.Location { return b.loc }

// ClosedReason reports whether day d is closed as a whole by a public
// holiday or an extra closed range, and its name (the holiday's, else the
// first range's, "closed" for a range without a name). Weekdays without opening
// hours are not reported here.
func (b *BusinessCalendar) ClosedReason(d Date) (string, bool) {
	if b.cal.State != "" && d.Year >= MinHolidayYear && d.Year <= MaxHolidayYear {
		b.mu.Lock()
		hs, ok := b.holidays[d.Year]
		if !ok {
			hs = map[Date]string{}
			list, _ := Holidays(b.cal.State, d.Year)
			for _, h := range list {
				hs[h.Date] = h.Name
			}
			b.holidays[d.Year] = hs
		}
		b.mu.Unlock()
		if name, ok := hs[d]; ok {
			return name, true
		}
	}
	name, ok := b.closed[d]
	return name, ok
}

// span is one opening span of one day in absolute time.
type span struct{ s, e time.Time }

// openSpans returns the opening spans of day d in absolute time.
func (b *BusinessCalendar) openSpans(d Date) []span {
	hours := b.cal.Week[d.Weekday()]
	if len(hours) == 0 {
		return nil
	}
	if _, closed := b.ClosedReason(d); closed {
		return nil
	}
	out := make([]span, 0, len(hours))
	for _, h := range hours {
		s := time.Date(d.Year, d.Month, d.Day, 0, int(h.Open), 0, 0, b.loc)
		e := time.Date(d.Year, d.Month, d.Day, 0, int(h.Close), 0, 0, b.loc)
		if s.Before(e) {
			out = append(out, span{s, e})
		}
	}
	return out
}

// IsOpen reports whether the SLA clock runs at t (ignoring pauses).
func (b *BusinessCalendar) IsOpen(t time.Time) bool {
	for _, sp := range b.openSpans(DateOf(t.In(b.loc))) {
		if !t.Before(sp.s) && t.Before(sp.e) {
			return true
		}
	}
	return false
}
