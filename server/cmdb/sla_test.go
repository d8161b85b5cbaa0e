package cmdb

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

var berlinLoc = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return loc
}()

// inBerlin is a Berlin wall-clock time.
func inBerlin(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, berlinLoc)
}

func mustCalendar(t *testing.T, c Calendar) *BusinessCalendar {
	t.Helper()
	b, err := NewBusinessCalendar(c)
	if err != nil {
		t.Fatalf("NewBusinessCalendar: %v", err)
	}
	return b
}

// allWeek is open around the clock, so that only DST changes shape days.
func allWeek() Calendar {
	c := Calendar{TimeZone: "Europe/Berlin"}
	for d := range c.Week {
		c.Week[d] = []OpeningHours{{0, Clock(24, 0)}}
	}
	return c
}

func TestAddBusinessDuration(t *testing.T) {
	bw := mustCalendar(t, DefaultCalendar(StateBW)) // Mon–Fri 07:30–16:00
	lunch := DefaultCalendar(StateBW)
	for d := time.Monday; d <= time.Friday; d++ {
		lunch.Week[d] = []OpeningHours{{Clock(8, 0), Clock(12, 0)}, {Clock(13, 0), Clock(16, 0)}}
	}
	holidays := DefaultCalendar(StateNI)
	holidays.Closed = []ClosedDays{{From: Date{2026, time.March, 23}, To: Date{2026, time.April, 2}, Name: "Osterferien"}}
	for _, tc := range []struct {
		name  string
		cal   *BusinessCalendar
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		{"inside one day", bw, inBerlin(2026, 3, 2, 9, 0), 2 * time.Hour, inBerlin(2026, 3, 2, 11, 0)},
		{"overnight", bw, inBerlin(2026, 3, 2, 9, 0), 8 * time.Hour, inBerlin(2026, 3, 3, 8, 30)},
		{"exactly to closing", bw, inBerlin(2026, 3, 2, 7, 30), 8*time.Hour + 30*time.Minute, inBerlin(2026, 3, 2, 16, 0)},
		{"before opening", bw, inBerlin(2026, 3, 2, 6, 0), 30 * time.Minute, inBerlin(2026, 3, 2, 8, 0)},
		{"at closing", bw, inBerlin(2026, 3, 2, 16, 0), time.Hour, inBerlin(2026, 3, 3, 8, 30)},
		{"after closing", bw, inBerlin(2026, 3, 2, 22, 15), time.Minute, inBerlin(2026, 3, 3, 7, 31)},
		{"on a Saturday", bw, inBerlin(2026, 3, 7, 10, 0), time.Hour, inBerlin(2026, 3, 9, 8, 30)},
		{"across the weekend", bw, inBerlin(2026, 3, 6, 15, 0), 2 * time.Hour, inBerlin(2026, 3, 9, 8, 30)},
		{"a week", bw, inBerlin(2026, 3, 2, 7, 30), 40 * time.Hour, inBerlin(2026, 3, 6, 13, 30)},
		{"across Easter", bw, inBerlin(2026, 4, 2, 15, 0), 2 * time.Hour, inBerlin(2026, 4, 7, 8, 30)},
		{"across Christmas", bw, inBerlin(2026, 12, 24, 15, 0), 2 * time.Hour, inBerlin(2026, 12, 28, 8, 30)},
		{"across New Year", bw, inBerlin(2026, 12, 31, 15, 0), 2 * time.Hour, inBerlin(2027, 1, 4, 8, 30)},
		{"Epiphany in BW", bw, inBerlin(2027, 1, 5, 15, 0), 2 * time.Hour, inBerlin(2027, 1, 7, 8, 30)},
		{"no Epiphany in NI", mustCalendar(t, holidays), inBerlin(2027, 1, 5, 15, 0), 2 * time.Hour, inBerlin(2027, 1, 6, 8, 30)},
		{"school holidays then Easter", mustCalendar(t, holidays), inBerlin(2026, 3, 20, 15, 0), 2 * time.Hour, inBerlin(2026, 4, 7, 8, 30)},
		{"spring DST on the weekend", bw, inBerlin(2026, 3, 27, 15, 0), 2 * time.Hour, inBerlin(2026, 3, 30, 8, 30)},
		{"autumn DST on the weekend", bw, inBerlin(2026, 10, 23, 15, 0), 2 * time.Hour, inBerlin(2026, 10, 26, 8, 30)},
		{"spring DST, 23-hour day", mustCalendar(t, allWeek()), inBerlin(2026, 3, 29, 0, 0), 24 * time.Hour, inBerlin(2026, 3, 30, 1, 0)},
		{"autumn DST, 25-hour day", mustCalendar(t, allWeek()), inBerlin(2026, 10, 25, 0, 0), 24 * time.Hour, inBerlin(2026, 10, 25, 23, 0)},
		{"lunch break skipped", mustCalendar(t, lunch), inBerlin(2026, 3, 2, 11, 0), 2 * time.Hour, inBerlin(2026, 3, 2, 14, 0)},
		{"zero on a Saturday", bw, inBerlin(2026, 3, 7, 10, 0), 0, inBerlin(2026, 3, 7, 10, 0)},
		{"zero inside hours", bw, inBerlin(2026, 3, 2, 10, 0), 0, inBerlin(2026, 3, 2, 10, 0)},
		{"UTC start", bw, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), time.Hour, inBerlin(2026, 3, 2, 10, 0)},
	} {
		got, err := tc.cal.AddBusinessDuration(tc.start, tc.d)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%s: AddBusinessDuration(%s, %s) = %s, %v; want %s", tc.name, tc.start, tc.d, got, err, tc.want)
		}
	}
	if _, err := bw.AddBusinessDuration(inBerlin(2026, 3, 2, 9, 0), -time.Minute); ErrorField(err) != "duration" {
		t.Errorf("negative duration: %v", err)
	}
}

func TestBusinessDurationBetween(t *testing.T) {
	bw := mustCalendar(t, DefaultCalendar(StateBW))
	all := mustCalendar(t, allWeek())
	for _, tc := range []struct {
		name string
		cal  *BusinessCalendar
		a, b time.Time
		want time.Duration
	}{
		{"one day", bw, inBerlin(2026, 3, 2, 0, 0), inBerlin(2026, 3, 3, 0, 0), 8*time.Hour + 30*time.Minute},
		{"a week", bw, inBerlin(2026, 3, 2, 0, 0), inBerlin(2026, 3, 9, 0, 0), 5 * (8*time.Hour + 30*time.Minute)},
		{"weekend only", bw, inBerlin(2026, 3, 6, 16, 0), inBerlin(2026, 3, 9, 7, 30), 0},
		{"Easter week", bw, inBerlin(2026, 3, 30, 0, 0), inBerlin(2026, 4, 7, 0, 0), 4 * (8*time.Hour + 30*time.Minute)},
		{"Christmas to New Year", bw, inBerlin(2026, 12, 24, 0, 0), inBerlin(2027, 1, 2, 0, 0), 5 * (8*time.Hour + 30*time.Minute)},
		{"partial", bw, inBerlin(2026, 3, 2, 15, 0), inBerlin(2026, 3, 3, 8, 0), time.Hour + 30*time.Minute},
		{"reversed", bw, inBerlin(2026, 3, 3, 0, 0), inBerlin(2026, 3, 2, 0, 0), 0},
		{"equal", bw, inBerlin(2026, 3, 2, 9, 0), inBerlin(2026, 3, 2, 9, 0), 0},
		{"spring DST day", all, inBerlin(2026, 3, 29, 0, 0), inBerlin(2026, 3, 30, 0, 0), 23 * time.Hour},
		{"autumn DST day", all, inBerlin(2026, 10, 25, 0, 0), inBerlin(2026, 10, 26, 0, 0), 25 * time.Hour},
	} {
		if got := tc.cal.BusinessDurationBetween(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: BusinessDurationBetween = %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestAddThenMeasure checks that the two directions agree on many starts
// and durations: the time counted up to a due time is the target.
func TestAddThenMeasure(t *testing.T) {
	c := DefaultCalendar(StateSN)
	c.Week[time.Wednesday] = []OpeningHours{{Clock(7, 0), Clock(12, 0)}, {Clock(12, 30), Clock(18, 0)}}
	c.Closed = []ClosedDays{{From: Date{2026, time.July, 6}, To: Date{2026, time.August, 14}}}
	b := mustCalendar(t, c)
	r := rand.New(rand.NewPCG(1, 2))
	base := inBerlin(2026, 1, 1, 0, 0)
	for range 500 {
		start := base.Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour))))
		d := time.Duration(r.Int64N(int64(80 * time.Hour)))
		due, err := b.AddBusinessDuration(start, d)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.BusinessDurationBetween(start, due); got != d {
			t.Fatalf("start %s, d %s: due %s, but %s counted up to it", start, d, due, got)
		}
		if d > 0 && !b.IsOpen(due.Add(-time.Nanosecond)) {
			t.Fatalf("start %s, d %s: due %s just after a closed instant", start, d, due)
		}
	}
}

func TestElapsedWithPauses(t *testing.T) {
	bw := mustCalendar(t, DefaultCalendar(StateBW))
	opened := inBerlin(2026, 3, 2, 9, 0) // Monday
	for _, tc := range []struct {
		name   string
		pauses []Interval
		now    time.Time
		want   time.Duration
	}{
		{"no pause", nil, inBerlin(2026, 3, 3, 12, 0), 11*time.Hour + 30*time.Minute},
		{"waiting across the night", []Interval{{inBerlin(2026, 3, 2, 10, 0), inBerlin(2026, 3, 3, 10, 0)}}, inBerlin(2026, 3, 3, 12, 0), 3 * time.Hour},
		{"overlapping pauses count once", []Interval{
			{inBerlin(2026, 3, 2, 10, 0), inBerlin(2026, 3, 3, 8, 0)},
			{inBerlin(2026, 3, 2, 20, 0), inBerlin(2026, 3, 3, 10, 0)},
		}, inBerlin(2026, 3, 3, 12, 0), 3 * time.Hour},
		{"pause at night only", []Interval{{inBerlin(2026, 3, 2, 17, 0), inBerlin(2026, 3, 3, 7, 0)}}, inBerlin(2026, 3, 3, 12, 0), 11*time.Hour + 30*time.Minute},
		{"pause over the weekend", []Interval{{inBerlin(2026, 3, 6, 16, 30), inBerlin(2026, 3, 9, 7, 0)}}, inBerlin(2026, 3, 9, 8, 30), 7*time.Hour + 4*(8*time.Hour+30*time.Minute) + time.Hour},
		{"still waiting", []Interval{{inBerlin(2026, 3, 2, 10, 0), time.Time{}}}, inBerlin(2026, 3, 5, 12, 0), time.Hour},
		{"pause before opening is ignored", []Interval{{inBerlin(2026, 3, 1, 10, 0), inBerlin(2026, 3, 2, 10, 0)}}, inBerlin(2026, 3, 2, 12, 0), 2 * time.Hour},
		{"malformed pause is ignored", []Interval{{inBerlin(2026, 3, 2, 11, 0), inBerlin(2026, 3, 2, 10, 0)}}, inBerlin(2026, 3, 2, 12, 0), 3 * time.Hour},
		{"now before opened", nil, inBerlin(2026, 3, 1, 12, 0), 0},
	} {
		if got := bw.Elapsed(opened, tc.now, tc.pauses); got != tc.want {
			t.Errorf("%s: Elapsed = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestDueWithPauses(t *testing.T) {
	bw := mustCalendar(t, DefaultCalendar(StateBW))
	opened := inBerlin(2026, 3, 2, 9, 0) // Monday
	for _, tc := range []struct {
		name   string
		target time.Duration
		pauses []Interval
		want   time.Time // zero: clock stopped
	}{
		{"no pause", 4 * time.Hour, nil, inBerlin(2026, 3, 2, 13, 0)},
		{"waiting across the night", 4 * time.Hour, []Interval{{inBerlin(2026, 3, 2, 10, 0), inBerlin(2026, 3, 3, 10, 0)}}, inBerlin(2026, 3, 3, 13, 0)},
		{"pause at night changes nothing", 8 * time.Hour, []Interval{{inBerlin(2026, 3, 2, 17, 0), inBerlin(2026, 3, 3, 7, 0)}}, inBerlin(2026, 3, 3, 8, 30)},
		{"a later pause changes nothing", 4 * time.Hour, []Interval{{inBerlin(2026, 4, 2, 0, 0), inBerlin(2026, 4, 6, 12, 0)}}, inBerlin(2026, 3, 2, 13, 0)},
		{"pause after the due time", 4 * time.Hour, []Interval{{inBerlin(2026, 3, 2, 14, 0), time.Time{}}}, inBerlin(2026, 3, 2, 13, 0)},
		{"still waiting", 4 * time.Hour, []Interval{{inBerlin(2026, 3, 2, 10, 0), time.Time{}}}, time.Time{}},
		{"waiting ended, waiting again", 16 * time.Hour, []Interval{
			{inBerlin(2026, 3, 2, 10, 0), inBerlin(2026, 3, 3, 10, 0)},
			{inBerlin(2026, 3, 3, 15, 0), inBerlin(2026, 3, 5, 7, 30)},
		}, inBerlin(2026, 3, 6, 9, 0)},
	} {
		got, err := bw.Due(opened, tc.target, tc.pauses)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%s: Due = %s, %v; want %s", tc.name, got, err, tc.want)
		}
		if !got.IsZero() {
			if used := bw.Elapsed(opened, got, tc.pauses); used != tc.target {
				t.Errorf("%s: Elapsed up to the due time = %s, want %s", tc.name, used, tc.target)
			}
		}
	}
}

func TestWarnAt(t *testing.T) {
	bw := mustCalendar(t, DefaultCalendar(StateBW))
	opened := inBerlin(2026, 3, 2, 7, 30)
	for _, tc := range []struct {
		fraction float64
		want     time.Time
	}{
		{0, inBerlin(2026, 3, 2, 15, 30)}, // default 80 % of 10 h = 8 h
		{0.5, inBerlin(2026, 3, 2, 12, 30)},
		{1, inBerlin(2026, 3, 3, 9, 0)},
	} {
		got, err := bw.WarnAt(opened, 10*time.Hour, tc.fraction, nil)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("WarnAt(%g) = %s, %v; want %s", tc.fraction, got, err, tc.want)
		}
	}
	for _, f := range []float64{-0.1, 1.5} {
		if _, err := bw.WarnAt(opened, time.Hour, f, nil); ErrorField(err) != "warn_fraction" {
			t.Errorf("WarnAt(%g): %v", f, err)
		}
	}
}

func TestDueTimes(t *testing.T) {
	bw := mustCalendar(t, DefaultCalendar(StateBW))
	opened := inBerlin(2026, 3, 2, 7, 30)
	d, err := bw.DueTimes(opened, 2, DefaultSLATargets(), nil) // 1 h / 8 h
	if err != nil {
		t.Fatal(err)
	}
	want := SLADue{
		FirstResponse: inBerlin(2026, 3, 2, 8, 30), FirstResponseWarn: inBerlin(2026, 3, 2, 8, 18),
		Resolve: inBerlin(2026, 3, 2, 15, 30), ResolveWarn: inBerlin(2026, 3, 2, 13, 54),
	}
	if !d.FirstResponse.Equal(want.FirstResponse) || !d.FirstResponseWarn.Equal(want.FirstResponseWarn) ||
		!d.Resolve.Equal(want.Resolve) || !d.ResolveWarn.Equal(want.ResolveWarn) {
		t.Errorf("DueTimes = %+v, want %+v", d, want)
	}
	// Raising the priority brings the due time forward.
	d1, _ := bw.DueTimes(opened, 1, DefaultSLATargets(), nil)
	if !d1.Resolve.Before(d.Resolve) {
		t.Errorf("priority 1 resolve %s not before priority 2's %s", d1.Resolve, d.Resolve)
	}
	// Waiting now: no resolve due time while the clock stands.
	d, _ = bw.DueTimes(opened, 2, DefaultSLATargets(), []Interval{{Start: inBerlin(2026, 3, 2, 9, 0)}})
	if !d.Resolve.IsZero() || !d.FirstResponse.Equal(want.FirstResponse) {
		t.Errorf("while waiting: %+v", d)
	}
	if _, err := bw.DueTimes(opened, 6, DefaultSLATargets(), nil); ErrorField(err) != "priority" {
		t.Errorf("priority 6: %v", err)
	}
}

func TestSLATargetsValidate(t *testing.T) {
	if err := DefaultSLATargets().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	def := DefaultSLATargets()
	for i := 1; i < 5; i++ {
		if def.Priority[i].Resolve < def.Priority[i-1].Resolve || def.Priority[i].FirstResponse < def.Priority[i-1].FirstResponse {
			t.Errorf("default priority %d is stricter than %d", i+1, i)
		}
	}
	for _, tc := range []struct {
		edit  func(*SLATargets)
		field string
	}{
		{func(s *SLATargets) { s.Priority[0].FirstResponse = 0 }, "priority[1].first_response"},
		{func(s *SLATargets) { s.Priority[2].Resolve = time.Minute }, "priority[3].resolve"},
		{func(s *SLATargets) { s.Priority[4].Resolve = MaxSLATarget + 1 }, "priority[5].resolve"},
		{func(s *SLATargets) { s.WarnFraction = 1.2 }, "warn_fraction"},
	} {
		s := DefaultSLATargets()
		tc.edit(&s)
		if err := s.Validate(); ErrorCode(err) != EINVALID || ErrorField(err) != tc.field {
			t.Errorf("want EINVALID on %s, got %v", tc.field, err)
		}
	}
}

func TestCalendarValidate(t *testing.T) {
	for _, tc := range []struct {
		edit  func(*Calendar)
		field string
	}{
		{func(c *Calendar) { c.TimeZone = "Mars/Olympus" }, "time_zone"},
		{func(c *Calendar) { c.TimeZone = "Local" }, "time_zone"},
		{func(c *Calendar) { c.State = "XY" }, "state"},
		{func(c *Calendar) { c.Week = [7][]OpeningHours{} }, "week"},
		{func(c *Calendar) { c.Week[1][0].Close = c.Week[1][0].Open }, "week[1][0].close"},
		{func(c *Calendar) { c.Week[2][0].Close = Clock(24, 1) }, "week[2][0].close"},
		{func(c *Calendar) { c.Week[3] = append(c.Week[3], OpeningHours{Clock(15, 0), Clock(17, 0)}) }, "week[3][1].open"},
		{func(c *Calendar) { c.Closed = []ClosedDays{{From: Date{2026, 8, 1}, To: Date{2026, 7, 1}}} }, "closed[0].to"},
		{func(c *Calendar) { c.Closed = []ClosedDays{{To: Date{2026, 7, 1}}} }, "closed[0].from"},
		{func(c *Calendar) { c.Closed = []ClosedDays{{From: Date{2026, 1, 1}, To: Date{2027, 6, 1}}} }, "closed[0].to"},
	} {
		c := DefaultCalendar(StateBY)
		c.Week[3] = []OpeningHours{{Clock(7, 30), Clock(16, 0)}}
		tc.edit(&c)
		err := c.Validate()
		if ErrorCode(err) != EINVALID || ErrorField(err) != tc.field {
			t.Errorf("want EINVALID on %s, got %v", tc.field, err)
		}
		if _, err := NewBusinessCalendar(c); err == nil {
			t.Errorf("NewBusinessCalendar accepted a calendar invalid on %s", tc.field)
		}
	}
	if err := (Calendar{Week: allWeek().Week}).Validate(); err != nil {
		t.Errorf("zone and state may be empty: %v", err)
	}
}

func TestCalendarJSON(t *testing.T) {
	in := `{"time_zone":"Europe/Berlin","state":"HE","week":[[],[{"open":"07:30","close":"16:00"}],[],[],[],[],[]],` +
		`"closed":[{"from":"2026-07-06","to":"2026-08-14","name":"Sommerferien"}]}`
	var c Calendar
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	b := mustCalendar(t, c)
	if !b.IsOpen(inBerlin(2026, 3, 2, 8, 0)) || b.IsOpen(inBerlin(2026, 3, 3, 8, 0)) || b.IsOpen(inBerlin(2026, 7, 6, 8, 0)) {
		t.Error("decoded calendar open at the wrong times")
	}
	if name, ok := b.ClosedReason(Date{2026, time.July, 13}); !ok || name != "Sommerferien" {
		t.Errorf("ClosedReason = %q, %v", name, ok)
	}
	if name, ok := b.ClosedReason(Date{2026, time.June, 4}); !ok || name != "Fronleichnam" {
		t.Errorf("ClosedReason = %q, %v", name, ok)
	}
	if err := json.Unmarshal([]byte(`{"week":[[{"open":"7:30","close":"16:00"}]]}`), &c); err == nil {
		t.Error("7:30 without a leading zero parsed")
	}
}

func TestCalendarNeverOpen(t *testing.T) {
	// Closed ranges chained over eleven years: arithmetic fails, not loops.
	c := DefaultCalendar("")
	d := Date{2026, time.January, 1}
	for range 12 {
		c.Closed = append(c.Closed, ClosedDays{From: d, To: d.AddDays(365)})
		d = d.AddDays(366)
	}
	b := mustCalendar(t, c)
	if name, ok := b.ClosedReason(Date{2030, time.May, 2}); !ok || name != "closed" {
		t.Errorf("ClosedReason of an unnamed range = %q, %v", name, ok)
	}
	if _, err := b.AddBusinessDuration(inBerlin(2026, 1, 1, 0, 0), time.Hour); ErrorCode(err) != EINVALID {
		t.Errorf("AddBusinessDuration on a closed decade: %v", err)
	}
}

// BenchmarkDueTimes measures recomputing one ticket's four due/warn times
// (priority 3, a waiting span) on a calendar with a year of school holidays.
func BenchmarkDueTimes(b *testing.B) {
	c := DefaultCalendar(StateNW)
	for i := range 6 {
		from := Date{2026, time.Month(2*i + 1), 10}
		c.Closed = append(c.Closed, ClosedDays{From: from, To: from.AddDays(13), Name: "Ferien"})
	}
	cal, err := NewBusinessCalendar(c)
	if err != nil {
		b.Fatal(err)
	}
	opened := inBerlin(2026, 3, 2, 9, 0)
	pauses := []Interval{{inBerlin(2026, 3, 3, 10, 0), inBerlin(2026, 3, 5, 10, 0)}}
	for b.Loop() {
		if _, err := cal.DueTimes(opened, 3, DefaultSLATargets(), pauses); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBusinessCalendarConcurrent: one calendar serves many goroutines
// (run with -race); each year's holidays are computed once and shared.
func TestBusinessCalendarConcurrent(t *testing.T) {
	cal := mustCalendar(t, DefaultCalendar(StateBY))
	done := make(chan time.Time)
	for y := range 8 {
		go func() {
			due, _ := cal.AddBusinessDuration(inBerlin(2030+y, 12, 24, 15, 0), 2*time.Hour)
			done <- due
		}()
	}
	for range 8 {
		due := <-done
		if d := DateOf(due); d.Month != time.December && d.Month != time.January || d.Day == 25 || d.Day == 26 {
			t.Errorf("due %s", due)
		}
	}
}

func TestSLATargetsJSON(t *testing.T) {
	b, err := json.Marshal(DefaultSLATargets())
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"priority":[{"first_response_minutes":30,"resolve_minutes":240},`; string(b[:len(want)]) != want {
		t.Errorf("JSON %s", b)
	}
	var back SLATargets
	if err := json.Unmarshal(b, &back); err != nil || back != DefaultSLATargets() {
		t.Errorf("round trip = %+v, %v", back, err)
	}
	// A huge value must not wrap around into a valid target.
	in := `{"priority":[{"first_response_minutes":30,"resolve_minutes":9223372036854775807},{},{},{},{}]}`
	if err := json.Unmarshal([]byte(in), &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(); ErrorField(err) != "priority[1].resolve" {
		t.Errorf("huge resolve target: %v", err)
	}
}
