package cmdb

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestEaster(t *testing.T) {
	// Published dates of Easter Sunday, including the earliest (22 March)
	// and latest (25 April) possible ones.
	for _, tc := range []struct {
		year int
		want Date
	}{
		{1583, Date{1583, time.April, 10}},
		{1818, Date{1818, time.March, 22}},
		{1943, Date{1943, time.April, 25}},
		{2000, Date{2000, time.April, 23}},
		{2008, Date{2008, time.March, 23}},
		{2011, Date{2011, time.April, 24}},
		{2019, Date{2019, time.April, 21}},
		{2024, Date{2024, time.March, 31}},
		{2025, Date{2025, time.April, 20}},
		{2026, Date{2026, time.April, 5}},
		{2027, Date{2027, time.March, 28}},
		{2038, Date{2038, time.April, 25}},
		{2285, Date{2285, time.March, 22}},
	} {
		if got := Easter(tc.year); got != tc.want {
			t.Errorf("Easter(%d) = %s, want %s", tc.year, got, tc.want)
		}
	}
	// For every year: a Sunday between 22 March and 25 April.
	for y := MinHolidayYear; y <= 4000; y++ {
		e := Easter(y)
		if e.Weekday() != time.Sunday || e.Before(Date{y, time.March, 22}) || (Date{y, time.April, 25}).Before(e) {
			t.Fatalf("Easter(%d) = %s (%s) is not a Sunday between 22 March and 25 April", y, e, e.Weekday())
		}
	}
}

func holidayNames(t *testing.T, s GermanState, year int) map[Date]string {
	t.Helper()
	hs, err := Holidays(s, year)
	if err != nil {
		t.Fatalf("Holidays(%s, %d): %v", s, year, err)
	}
	m := map[Date]string{}
	for i, h := range hs {
		if i > 0 && !hs[i-1].Date.Before(h.Date) {
			t.Fatalf("Holidays(%s, %d) not sorted: %s after %s", s, year, h.Date, hs[i-1].Date)
		}
		m[h.Date] = h.Name
	}
	return m
}

func TestHolidaysCountPerState(t *testing.T) {
	// Statutory statewide holidays in 2026 (BB lists Easter and Whit
	// Sunday as well).
	want := map[GermanState]int{
		StateBW: 12, StateBY: 12, StateBE: 10, StateBB: 12, StateHB: 10, StateHH: 10, StateHE: 10, StateMV: 11,
		StateNI: 10, StateNW: 11, StateRP: 11, StateSL: 12, StateSN: 11, StateST: 11, StateSH: 10, StateTH: 11,
	}
	for _, s := range GermanStates {
		if got := len(holidayNames(t, s, 2026)); got != want[s] {
			t.Errorf("%s 2026: %d holidays, want %d", s, got, want[s])
		}
	}
}

func TestHolidays(t *testing.T) {
	d := func(y int, m time.Month, day int) Date { return Date{y, m, day} }
	for _, tc := range []struct {
		state GermanState
		date  Date
		name  string // "" means: not a holiday
	}{
		// Easter-based, 2026 (Easter 5 April).
		{StateNI, d(2026, time.April, 3), "Karfreitag"},
		{StateNI, d(2026, time.April, 6), "Ostermontag"},
		{StateNI, d(2026, time.May, 14), "Christi Himmelfahrt"},
		{StateNI, d(2026, time.May, 25), "Pfingstmontag"},
		{StateNW, d(2026, time.June, 4), "Fronleichnam"},
		{StateNI, d(2026, time.June, 4), ""},
		{StateSN, d(2026, time.June, 4), ""}, // only some communities
		{StateTH, d(2026, time.June, 4), ""},
		{StateBB, d(2026, time.April, 5), "Ostersonntag"},
		{StateBB, d(2026, time.May, 24), "Pfingstsonntag"},
		{StateBE, d(2026, time.April, 5), ""},
		// Easter-based, another year (Easter 2027: 28 March).
		{StateHE, d(2027, time.March, 26), "Karfreitag"},
		{StateHE, d(2027, time.May, 27), "Fronleichnam"},
		// Fixed.
		{StateHH, d(2026, time.January, 1), "Neujahr"},
		{StateHH, d(2026, time.May, 1), "Tag der Arbeit"},
		{StateHH, d(2026, time.October, 3), "Tag der Deutschen Einheit"},
		{StateHH, d(2026, time.December, 25), "1. Weihnachtstag"},
		{StateHH, d(2026, time.December, 26), "2. Weihnachtstag"},
		{StateHH, d(2026, time.December, 24), ""},
		{StateBW, d(2026, time.January, 6), "Heilige Drei Könige"},
		{StateST, d(2026, time.January, 6), "Heilige Drei Könige"},
		{StateHE, d(2026, time.January, 6), ""},
		{StateBE, d(2026, time.March, 8), "Internationaler Frauentag"},
		{StateBE, d(2018, time.March, 8), ""},
		{StateMV, d(2023, time.March, 8), "Internationaler Frauentag"},
		{StateMV, d(2022, time.March, 8), ""},
		{StateBE, d(2025, time.May, 8), "Tag der Befreiung"},
		{StateBE, d(2026, time.May, 8), ""},
		{StateSL, d(2026, time.August, 15), "Mariä Himmelfahrt"},
		{StateBY, d(2026, time.August, 15), ""}, // only Catholic-majority communities
		{StateTH, d(2026, time.September, 20), "Weltkindertag"},
		{StateTH, d(2018, time.September, 20), ""},
		{StateBB, d(2026, time.October, 31), "Reformationstag"},
		{StateSH, d(2026, time.October, 31), "Reformationstag"},
		{StateSH, d(2016, time.October, 31), ""},
		{StateBW, d(2017, time.October, 31), "Reformationstag"}, // 500th anniversary, nationwide
		{StateBW, d(2026, time.October, 31), ""},
		{StateBW, d(2026, time.November, 1), "Allerheiligen"},
		{StateNW, d(2026, time.November, 1), "Allerheiligen"},
		{StateHE, d(2026, time.November, 1), ""},
		{StateSN, d(2026, time.November, 18), "Buß- und Bettag"},
		{StateSN, d(2025, time.November, 19), "Buß- und Bettag"},
		{StateSN, d(2023, time.November, 22), "Buß- und Bettag"}, // 22 Nov itself is a Wednesday
		{StateSN, d(2028, time.November, 22), "Buß- und Bettag"},
		{StateSN, d(2029, time.November, 21), "Buß- und Bettag"},
		{StateBY, d(2026, time.November, 18), ""},
		{StateBY, d(1994, time.November, 16), "Buß- und Bettag"}, // nationwide until 1994
		{StateHE, d(1989, time.October, 3), ""},
	} {
		got := holidayNames(t, tc.state, tc.date.Year)[tc.date]
		if got != tc.name {
			t.Errorf("%s %s: holiday %q, want %q", tc.state, tc.date, got, tc.name)
		}
	}
}

func TestHolidaysAnyYear(t *testing.T) {
	// Far years work and keep the Easter offsets.
	for _, y := range []int{1700, 2100, 2500, 9999} {
		m := holidayNames(t, StateBY, y)
		e := Easter(y)
		for off, name := range map[int]string{-2: "Karfreitag", 1: "Ostermontag", 39: "Christi Himmelfahrt", 50: "Pfingstmontag", 60: "Fronleichnam"} {
			if m[e.AddDays(off)] != name {
				t.Errorf("BY %d: %s is %q, want %q", y, e.AddDays(off), m[e.AddDays(off)], name)
			}
		}
		if e.AddDays(39).Weekday() != time.Thursday || e.AddDays(60).Weekday() != time.Thursday {
			t.Errorf("%d: Himmelfahrt/Fronleichnam not on a Thursday", y)
		}
	}
}

func TestHolidaysInvalid(t *testing.T) {
	for _, tc := range []struct {
		state GermanState
		year  int
		field string
	}{
		{"XX", 2026, "state"},
		{"by", 2026, "state"},
		{"", 2026, "state"},
		{StateBY, 1582, "year"},
		{StateBY, 10000, "year"},
	} {
		_, err := Holidays(tc.state, tc.year)
		if ErrorCode(err) != EINVALID || ErrorField(err) != tc.field {
			t.Errorf("Holidays(%q, %d) = %v, want EINVALID on %s", tc.state, tc.year, err, tc.field)
		}
	}
}

func TestDateText(t *testing.T) {
	var v struct {
		D Date `json:"d"`
	}
	if err := json.Unmarshal([]byte(`{"d":"2026-12-24"}`), &v); err != nil || v.D != (Date{2026, time.December, 24}) {
		t.Fatalf("unmarshal = %v, %v", v.D, err)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"d":"2026-12-24"}` {
		t.Errorf("marshal = %s", b)
	}
	if err := json.Unmarshal([]byte(`{"d":"24.12.2026"}`), &v); err == nil {
		t.Error("a German-style date parsed")
	}
	if _, err := ParseDate("closed[0].from", "2026-02-30"); ErrorField(err) != "closed[0].from" {
		t.Errorf("30 February: %v", err)
	}
	if got := MakeDate(2026, time.January, 32); got != (Date{2026, time.February, 1}) {
		t.Errorf("MakeDate normalises to %s", got)
	}
	if !slices.Contains(GermanStates, StateTH) || len(GermanStates) != 16 {
		t.Error("GermanStates incomplete")
	}
}
