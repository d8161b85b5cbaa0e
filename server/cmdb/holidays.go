package cmdb

import (
	"fmt"
	"slices"
	"time"
)

// GermanState is the code of a German Bundesland, whose public holidays an
// authority's business calendar observes.
type GermanState string

// The sixteen German states.
const (
	StateBW GermanState = "BW" // Baden-Württemberg
	StateBY GermanState = "BY" // Bayern
	StateBE GermanState = "BE" // Berlin
	StateBB GermanState = "BB" // Brandenburg
	StateHB GermanState = "HB" // Bremen
	StateHH GermanState = "HH" // Hamburg
	StateHE GermanState = "HE" // Hessen
	StateMV GermanState = "MV" // Mecklenburg-Vorpommern
	StateNI GermanState = "NI" // Niedersachsen
	StateNW GermanState = "NW" // Nordrhein-Westfalen
	StateRP GermanState = "RP" // Rheinland-Pfalz
	StateSL GermanState = "SL" // Saarland
	StateSN GermanState = "SN" // Sachsen
	StateST GermanState = "ST" // Sachsen-Anhalt
	StateSH GermanState = "SH" // Schleswig-Holstein
	StateTH GermanState = "TH" // Thüringen
)

// GermanStates lists every state code in the order above.
var GermanStates = []GermanState{StateBW, StateBY, StateBE, StateBB, StateHB, StateHH, StateHE, StateMV,
	StateNI, StateNW, StateRP, StateSL, StateSN, StateST, StateSH, StateTH}

// Valid reports whether s is one of the sixteen state codes (upper case).
func (s GermanState) Valid() bool { return slices.Contains(GermanStates, s) }

// Date is a calendar day without a time or zone. Its text form (JSON) is
// "2006-01-02".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar day of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// MakeDate returns the normalised date (so that 32 January is 1 February).
func MakeDate(year int, month time.Month, day int) Date {
	return DateOf(time.Date(year, month, day, 0, 0, 0, 0, time.UTC))
}

// AddDays returns the date n days later (earlier when n < 0).
func (d Date) AddDays(n int) Date { return MakeDate(d.Year, d.Month, d.Day+n) }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Weekday()
}

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// String returns d as "2006-01-02".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// ParseDate parses "2006-01-02"; the error names the field.
func ParseDate(field, s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, Invalid(field, "%q is not a date of the form YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// MarshalText implements encoding.TextMarshaler ("2006-01-02").
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler ("2006-01-02").
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate("date", string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Holiday is one public holiday.
type Holiday struct {
	Date Date   `json:"date"`
	Name string `json:"name"`
}

// Easter returns Easter Sunday of year in the Gregorian calendar (the
// anonymous Gregorian computus of Meeus/Jones/Butcher), valid for every
// year from 1583 on.
func Easter(year int) Date {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return Date{year, time.Month(month), day}
}

// Minimum and maximum year for which public holidays are computed.
const (
	MinHolidayYear = 1583 // first full year of the Gregorian calendar
	MaxHolidayYear = 9999
)

// Holidays returns the statutory public holidays of state in year, sorted
// by date. It returns an EINVALID error for an unknown state or a year
// outside MinHolidayYear..MaxHolidayYear.
//
// The rules are today's state laws, applied with the years they took
// effect: Tag der Deutschen Einheit from 1990; Reformationstag in BB, MV,
// SN, ST, TH from 1990 and in HB, HH, NI, SH from 2018, and everywhere in
// 2017 (its 500th anniversary); Frauentag in BE from 2019 and MV from 2023;
// Weltkindertag in TH from 2019; Buß- und Bettag everywhere until 1994 and
// in SN since; the one-off Tag der Befreiung in BE (2020, 2025). Holidays
// that only some municipalities of a state keep are not included, since
// an authority's calendar lists them as extra closed days when they apply:
// Mariä Himmelfahrt in BY (Catholic-majority communities only; it is kept
// in SL statewide), Fronleichnam in SN and TH (some Sorbian/Catholic
// communities), the Augsburger Friedensfest. Easter Sunday and Whit Sunday
// are listed only where the state's law names them (BB).
func Holidays(state GermanState, year int) ([]Holiday, error) {
	if !state.Valid() {
		return nil, Invalid("state", "%q is not a German state code (BW, BY, BE, BB, HB, HH, HE, MV, NI, NW, RP, SL, SN, ST, SH, TH)", string(state))
	}
	if year < MinHolidayYear || year > MaxHolidayYear {
		return nil, Invalid("year", "%d is outside %d..%d", year, MinHolidayYear, MaxHolidayYear)
	}
	in := func(states ...GermanState) bool { return slices.Contains(states, state) }
	var hs []Holiday
	add := func(d Date, name string) { hs = append(hs, Holiday{d, name}) }
	fixed := func(m time.Month, day int, name string) { add(Date{year, m, day}, name) }
	easter := Easter(year)

	fixed(time.January, 1, "Neujahr")
	if in(StateBW, StateBY, StateST) {
		fixed(time.January, 6, "Heilige Drei Könige")
	}
	if (state == StateBE && year >= 2019) || (state == StateMV && year >= 2023) {
		fixed(time.March, 8, "Internationaler Frauentag")
	}
	add(easter.AddDays(-2), "Karfreitag")
	if state == StateBB {
		add(easter, "Ostersonntag")
	}
	add(easter.AddDays(1), "Ostermontag")
	fixed(time.May, 1, "Tag der Arbeit")
	if state == StateBE && (year == 2020 || year == 2025) {
		fixed(time.May, 8, "Tag der Befreiung")
	}
	add(easter.AddDays(39), "Christi Himmelfahrt")
	if state == StateBB {
		add(easter.AddDays(49), "Pfingstsonntag")
	}
	add(easter.AddDays(50), "Pfingstmontag")
	if in(StateBW, StateBY, StateHE, StateNW, StateRP, StateSL) {
		add(easter.AddDays(60), "Fronleichnam")
	}
	if state == StateSL {
		fixed(time.August, 15, "Mariä Himmelfahrt")
	}
	if state == StateTH && year >= 2019 {
		fixed(time.September, 20, "Weltkindertag")
	}
	if year >= 1990 {
		fixed(time.October, 3, "Tag der Deutschen Einheit")
	}
	if year == 2017 ||
		(year >= 1990 && in(StateBB, StateMV, StateSN, StateST, StateTH)) ||
		(year >= 2018 && in(StateHB, StateHH, StateNI, StateSH)) {
		fixed(time.October, 31, "Reformationstag")
	}
	if in(StateBW, StateBY, StateNW, StateRP, StateSL) {
		fixed(time.November, 1, "Allerheiligen")
	}
	if year <= 1994 || state == StateSN {
		add(bussUndBettag(year), "Buß- und Bettag")
	}
	fixed(time.December, 25, "1. Weihnachtstag")
	fixed(time.December, 26, "2. Weihnachtstag")

	slices.SortStableFunc(hs, func(a, b Holiday) int {
		switch {
		case a.Date.Before(b.Date):
			return -1
		case b.Date.Before(a.Date):
			return 1
		}
		return 0
	})
	return hs, nil
}

// bussUndBettag returns the Wednesday before 23 November (16–22 November).
func bussUndBettag(year int) Date {
	d := Date{year, time.November, 22}
	back := (int(d.Weekday()) - int(time.Wednesday) + 7) % 7
	return d.AddDays(-back)
}
