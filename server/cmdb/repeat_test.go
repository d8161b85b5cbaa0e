package cmdb

import (
	"slices"
	"testing"
	"time"
)

func TestEvaluateRepeatFailure(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	ago := func(days int) time.Time { return now.AddDate(0, 0, -days) }
	inc := func(id string, daysAgo int) RepeatTicket {
		return RepeatTicket{ID: id, Number: "LKP-" + id, Incident: true, OpenedAt: ago(daysAgo)}
	}
	req := func(id string, daysAgo int) RepeatTicket {
		r := inc(id, daysAgo)
		r.Incident = false
		return r
	}
	dup := func(id string, daysAgo int, into string) RepeatTicket {
		r := inc(id, daysAgo)
		r.MergedInto = into
		return r
	}
	rule := DefaultRepeatRule()
	for _, tc := range []struct {
		name     string
		tickets  []RepeatTicket
		rule     RepeatRule
		flagged  bool
		numbers  []string
		clearsAt time.Time
	}{
		{"three in a year", []RepeatTicket{inc("3", 10), inc("1", 300), inc("2", 100)}, rule,
			true, []string{"LKP-1", "LKP-2", "LKP-3"}, ago(300).AddDate(0, 0, 365)},
		{"two in a year", []RepeatTicket{inc("1", 300), inc("2", 100)}, rule, false, []string{"LKP-1", "LKP-2"}, time.Time{}},
		{"one left the window", []RepeatTicket{inc("1", 400), inc("2", 100), inc("3", 10)}, rule,
			false, []string{"LKP-2", "LKP-3"}, time.Time{}},
		{"four: clears when the second oldest leaves", []RepeatTicket{inc("1", 300), inc("2", 200), inc("3", 100), inc("4", 1)}, rule,
			true, []string{"LKP-1", "LKP-2", "LKP-3", "LKP-4"}, ago(200).AddDate(0, 0, 365)},
		{"requests do not count", []RepeatTicket{inc("1", 300), req("2", 200), req("3", 100), inc("4", 1)}, rule,
			false, []string{"LKP-1", "LKP-4"}, time.Time{}},
		{"a duplicate counts once", []RepeatTicket{inc("1", 300), inc("2", 100), dup("3", 99, "2")}, rule,
			false, []string{"LKP-1", "LKP-2"}, time.Time{}},
		{"an earlier duplicate dates the incident, the survivor names it", []RepeatTicket{inc("1", 300), inc("2", 100), dup("3", 350, "2"), inc("4", 5)}, rule,
			true, []string{"LKP-2", "LKP-1", "LKP-4"}, ago(350).AddDate(0, 0, 365)},
		{"merge chains count once", []RepeatTicket{inc("1", 30), dup("2", 20, "1"), dup("3", 10, "2"), inc("4", 5)}, rule,
			false, []string{"LKP-1", "LKP-4"}, time.Time{}},
		{"duplicates of a ticket on another CI count once", []RepeatTicket{dup("1", 30, "x"), dup("2", 20, "x"), inc("3", 5), inc("4", 4)}, rule,
			true, []string{"LKP-1", "LKP-3", "LKP-4"}, ago(30).AddDate(0, 0, 365)},
		{"a merge cycle ends", []RepeatTicket{dup("1", 30, "2"), dup("2", 20, "1"), inc("3", 5)}, rule,
			false, []string{"LKP-1", "LKP-3"}, time.Time{}},
		{"future tickets do not count", []RepeatTicket{inc("1", 30), inc("2", 20), inc("3", -1)}, rule,
			false, []string{"LKP-1", "LKP-2"}, time.Time{}},
		{"exactly a window ago is outside", []RepeatTicket{inc("1", 365), inc("2", 20), inc("3", 1)}, rule,
			false, []string{"LKP-2", "LKP-3"}, time.Time{}},
		{"class override: 2 in 90 days", []RepeatTicket{inc("1", 80), inc("2", 1)}, RepeatRule{2, 90},
			true, []string{"LKP-1", "LKP-2"}, ago(80).AddDate(0, 0, 90)},
		{"no tickets", nil, rule, false, nil, time.Time{}},
	} {
		got := EvaluateRepeatFailure(tc.tickets, tc.rule, now)
		if got.Flagged != tc.flagged || !slices.Equal(got.Tickets, tc.numbers) ||
			got.Count != len(got.Tickets) || !got.ClearsAt.Equal(tc.clearsAt) {
			t.Errorf("%s: got %+v, want flagged=%v tickets=%v clears=%s", tc.name, got, tc.flagged, tc.numbers, tc.clearsAt)
		}
	}
}

func TestRepeatFailureClearsByItself(t *testing.T) {
	opened := []time.Time{
		time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC),
	}
	var ts []RepeatTicket
	for i, o := range opened {
		ts = append(ts, RepeatTicket{ID: string(rune('a' + i)), Number: string(rune('A' + i)), Incident: true, OpenedAt: o})
	}
	rule := DefaultRepeatRule()
	before := EvaluateRepeatFailure(ts, rule, opened[2].Add(-time.Second))
	set := EvaluateRepeatFailure(ts, rule, opened[2])
	if before.Flagged || !set.Flagged {
		t.Fatalf("flag before the third incident %v, at it %v", before.Flagged, set.Flagged)
	}
	if want := "3 incidents in 365 days: A, B, C"; set.Reason(rule) != want {
		t.Errorf("Reason = %q, want %q", set.Reason(rule), want)
	}
	if still := EvaluateRepeatFailure(ts, rule, set.ClearsAt.Add(-time.Second)); !still.Flagged {
		t.Errorf("cleared before ClearsAt %s", set.ClearsAt)
	}
	if cleared := EvaluateRepeatFailure(ts, rule, set.ClearsAt); cleared.Flagged || cleared.Reason(rule) != "" {
		t.Errorf("still flagged at ClearsAt %s: %+v", set.ClearsAt, cleared)
	}
	if !set.ClearsAt.Equal(opened[0].AddDate(0, 0, 365)) {
		t.Errorf("ClearsAt = %s", set.ClearsAt)
	}
}

func TestRepeatRules(t *testing.T) {
	rs := RepeatRules{ByClass: map[string]RepeatRule{ClassPrinter: {4, 180}}}
	if err := rs.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := rs.For(ClassPrinter); got != (RepeatRule{4, 180}) {
		t.Errorf("printer rule %+v", got)
	}
	if got := rs.For(ClassLaptop); got != DefaultRepeatRule() {
		t.Errorf("laptop rule %+v, want the default", got)
	}
	rs.Default = RepeatRule{5, 730}
	if got := rs.For(ClassLaptop); got != (RepeatRule{5, 730}) {
		t.Errorf("laptop rule %+v, want the authority's default", got)
	}
	for _, tc := range []struct {
		rules RepeatRules
		field string
	}{
		{RepeatRules{Default: RepeatRule{1, 365}}, "default.threshold"},
		{RepeatRules{Default: RepeatRule{3, 0}}, "default.window_days"},
		{RepeatRules{ByClass: map[string]RepeatRule{ClassPrinter: {3, 5000}}}, "by_class.printer.window_days"},
		{RepeatRules{ByClass: map[string]RepeatRule{"toaster": {3, 365}}}, "by_class.toaster"},
	} {
		if err := tc.rules.Validate(); ErrorCode(err) != EINVALID || ErrorField(err) != tc.field {
			t.Errorf("want EINVALID on %s, got %v", tc.field, err)
		}
	}
}
