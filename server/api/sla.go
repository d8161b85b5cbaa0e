package api

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// The authorities' SLA settings: business calendar, targets per priority
// and the closed days of a year. The JSON forms here are the API's own
// (times as "07:30", weekdays by name, targets in minutes), translated to
// the domain's types; the rules stay in cmdb (Calendar.Validate,
// SLATargets.Validate), and their field names are translated back so
// that an error names the field of the body the caller sent.

// CalendarBody is the body of GET and PUT /authorities/{id}/calendar. A
// PUT replaces the whole calendar.
type CalendarBody struct {
	// TimeZone is an IANA zone; "" or absent means Europe/Berlin.
	TimeZone string `json:"time_zone"`
	// State is the Bundesland whose public holidays are closed ("" for
	// none); required on PUT, so that leaving it out cannot drop the
	// holidays unnoticed.
	State *string `json:"state"`
	// Hours holds the opening hours per weekday; a day without spans is
	// closed.
	Hours WeekHoursBody `json:"hours"`
	// Closed lists extra closed days (school holidays, a works outing).
	Closed []ClosedDaysBody `json:"closed"`
}

// WeekHoursBody holds the opening spans of each weekday.
type WeekHoursBody struct {
	Monday    []OpeningHoursBody `json:"monday"`
	Tuesday   []OpeningHoursBody `json:"tuesday"`
	Wednesday []OpeningHoursBody `json:"wednesday"`
	Thursday  []OpeningHoursBody `json:"thursday"`
	Friday    []OpeningHoursBody `json:"friday"`
	Saturday  []OpeningHoursBody `json:"saturday"`
	Sunday    []OpeningHoursBody `json:"sunday"`
}

// days returns the week's spans indexed by time.Weekday, with the JSON
// name of each day.
func (w *WeekHoursBody) days() [7]*[]OpeningHoursBody {
	return [7]*[]OpeningHoursBody{&w.Sunday, &w.Monday, &w.Tuesday, &w.Wednesday, &w.Thursday, &w.Friday, &w.Saturday}
}

// weekdayNames are the JSON names of the days, indexed by time.Weekday.
var weekdayNames = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// OpeningHoursBody is one opening span, "HH:MM" to "HH:MM" (close may be
// "24:00").
type OpeningHoursBody struct {
	Open  string `json:"open"`
	Close string `json:"close"`
}

// ClosedDaysBody is a range of extra closed days, from and to inclusive
// (YYYY-MM-DD).
type ClosedDaysBody struct {
	From string `json:"from"`
	To   string `json:"to"`
	Name string `json:"name"`
}

func calendarBody(c cmdb.Calendar) CalendarBody {
	state := string(c.State)
	out := CalendarBody{TimeZone: c.TimeZone, State: &state, Closed: []ClosedDaysBody{}}
	if out.TimeZone == "" {
		out.TimeZone = cmdb.DefaultTimeZone
	}
	for d, dst := range out.Hours.days() {
		*dst = []OpeningHoursBody{}
		for _, h := range c.Week[d] {
			*dst = append(*dst, OpeningHoursBody{Open: h.Open.String(), Close: h.Close.String()})
		}
	}
	for _, r := range c.Closed {
		out.Closed = append(out.Closed, ClosedDaysBody{From: r.From.String(), To: r.To.String(), Name: r.Name})
	}
	return out
}

// calendar turns the body into the domain's calendar; errors name the
// body's fields.
func (b CalendarBody) calendar() (cmdb.Calendar, error) {
	if b.State == nil {
		return cmdb.Calendar{}, cmdb.Invalid("state", "is required: a German state code (%s), or \"\" for no public holidays", stateCodes())
	}
	c := cmdb.Calendar{TimeZone: b.TimeZone, State: cmdb.GermanState(*b.State)}
	for d, spans := range b.Hours.days() {
		for i, h := range *spans {
			f := fmt.Sprintf("hours.%s[%d]", weekdayNames[d], i)
			open, err := cmdb.ParseTimeOfDay(f+".open", h.Open)
			if err != nil {
				return cmdb.Calendar{}, err
			}
			cl, err := cmdb.ParseTimeOfDay(f+".close", h.Close)
			if err != nil {
				return cmdb.Calendar{}, err
			}
			c.Week[d] = append(c.Week[d], cmdb.OpeningHours{Open: open, Close: cl})
		}
	}
	for i, r := range b.Closed {
		f := fmt.Sprintf("closed[%d]", i)
		from, err := cmdb.ParseDate(f+".from", r.From)
		if err != nil {
			return cmdb.Calendar{}, err
		}
		to, err := cmdb.ParseDate(f+".to", r.To)
		if err != nil {
			return cmdb.Calendar{}, err
		}
		c.Closed = append(c.Closed, cmdb.ClosedDays{From: from, To: to, Name: r.Name})
	}
	return c, nil
}

func stateCodes() string {
	s := ""
	for i, st := range cmdb.GermanStates {
		if i > 0 {
			s += ", "
		}
		s += string(st)
	}
	return s
}

// weekField matches the domain's names of opening-hours fields:
// "week", "week[1]", "week[1][0].close".
var weekField = regexp.MustCompile(`^week(?:\[([0-6])\](?:\[(\d+)\](\..+)?)?)?$`)

// calendarField renames a field of Calendar.Validate to the body's.
func calendarField(err error) error {
	var e *cmdb.Error
	if !errors.As(err, &e) || e.Code != cmdb.EINVALID {
		return err
	}
	m := weekField.FindStringSubmatch(e.Field)
	if m == nil {
		return err
	}
	c := *e
	switch d, _ := strconv.Atoi(m[1]); {
	case m[1] == "":
		c.Field = "hours"
	case m[2] == "":
		c.Field = "hours." + weekdayNames[d]
	default:
		c.Field = fmt.Sprintf("hours.%s[%s]%s", weekdayNames[d], m[2], m[3])
	}
	return &c
}

// sla returns the store of the SLA settings, or ENOTFOUND when the
// server has none.
func (s *Server) sla() (cmdb.SLAStore, error) {
	if s.opts.SLA == nil {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "SLA settings are not offered by this server.")
	}
	return s.opts.SLA, nil
}

// SLATargetsBody is the body of GET and PUT /authorities/{id}/sla-targets:
// one target per priority, 1 to 5 in order, in business minutes of the
// authority's calendar. A PUT replaces all five.
type SLATargetsBody struct {
	Targets []SLATargetBody `json:"targets"`
	// WarnFraction is the share of a target after which the assignee
	// group is warned; 0 or absent means 0.8.
	WarnFraction float64 `json:"warn_fraction"`
}

// SLATargetBody is the target of one priority.
type SLATargetBody struct {
	// Priority is 1 (highest) to 5; on PUT it may be left out, and must
	// otherwise match the entry's place.
	Priority             int   `json:"priority"`
	FirstResponseMinutes int64 `json:"first_response_minutes"`
	ResolveMinutes       int64 `json:"resolve_minutes"`
}

func slaTargetsBody(t cmdb.SLATargets) SLATargetsBody {
	out := SLATargetsBody{Targets: make([]SLATargetBody, 0, len(t.Priority)), WarnFraction: t.WarnFraction}
	for i, p := range t.Priority {
		out.Targets = append(out.Targets, SLATargetBody{Priority: i + 1,
			FirstResponseMinutes: int64(p.FirstResponse / time.Minute), ResolveMinutes: int64(p.Resolve / time.Minute)})
	}
	return out
}

// targets turns the body into the domain's targets; errors name the
// body's fields.
func (b SLATargetsBody) targets() (cmdb.SLATargets, error) {
	var t cmdb.SLATargets
	if len(b.Targets) != len(t.Priority) {
		return t, cmdb.Invalid("targets", "must list exactly %d targets, priorities 1 to %d in order (got %d)", len(t.Priority), len(t.Priority), len(b.Targets))
	}
	// Minutes beyond the bound are kept saturated (no overflow) for
	// Validate to refuse.
	limit := int64(cmdb.MaxSLATarget/time.Minute) + 1
	minutes := func(m int64) time.Duration { return time.Duration(max(-limit, min(m, limit))) * time.Minute }
	for i, x := range b.Targets {
		if x.Priority != 0 && x.Priority != i+1 {
			return t, cmdb.Invalid(fmt.Sprintf("targets[%d].priority", i), "must be %d: the targets are listed by priority 1 to %d in order (got %d)", i+1, len(t.Priority), x.Priority)
		}
		t.Priority[i] = cmdb.SLATarget{FirstResponse: minutes(x.FirstResponseMinutes), Resolve: minutes(x.ResolveMinutes)}
	}
	t.WarnFraction = b.WarnFraction
	return t, nil
}

// targetField matches the domain's names of target fields:
// "priority[1].resolve" (priority 1 is targets[0]).
var targetField = regexp.MustCompile(`^priority\[([1-5])\]\.(first_response|resolve)$`)

// targetsField renames a field of SLATargets.Validate to the body's.
func targetsField(err error) error {
	var e *cmdb.Error
	if !errors.As(err, &e) || e.Code != cmdb.EINVALID {
		return err
	}
	m := targetField.FindStringSubmatch(e.Field)
	if m == nil {
		return err
	}
	p, _ := strconv.Atoi(m[1])
	c := *e
	c.Field = fmt.Sprintf("targets[%d].%s_minutes", p-1, m[2])
	return &c
}

// HolidaysBody is the body of GET /authorities/{id}/holidays: the closed
// days of the authority's calendar in one year, sorted by date.
type HolidaysBody struct {
	Year  int                `json:"year"`
	Items []cmdb.CalendarDay `json:"items"`
	Total int                `json:"total"`
}

func (s *Server) listHolidays(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	st, err := s.sla()
	if err != nil {
		return err
	}
	v := r.URL.Query().Get("year")
	if v == "" {
		return cmdb.Invalid("year", "is required: a year such as 2027")
	}
	year, err := strconv.Atoi(v)
	if err != nil {
		return cmdb.Invalid("year", "must be a year between %d and %d, not %q", cmdb.MinHolidayYear, cmdb.MaxHolidayYear, v)
	}
	days, err := st.FindCalendarDays(r.Context(), sc, id, year)
	if err != nil {
		return err
	}
	writeJSON(w, 200, HolidaysBody{Year: year, Items: days, Total: len(days)})
	return nil
}
