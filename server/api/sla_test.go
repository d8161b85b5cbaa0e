package api

import (
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
)

// The domain's field names of a refused calendar or set of targets become
// the fields of the body the caller sent.
func TestSLAFieldNames(t *testing.T) {
	for in, want := range map[string]string{
		"week":              "hours",
		"week[0]":           "hours.sunday",
		"week[1][0].close":  "hours.monday[0].close",
		"week[6][10].open":  "hours.saturday[10].open",
		"state":             "state",
		"closed[3].to":      "closed[3].to",
		"weekday":           "weekday",
		"week[7][0].open":   "week[7][0].open",
		"time_zone":         "time_zone",
		"priority[1].first": "priority[1].first",
	} {
		if got := cmdb.ErrorField(calendarField(cmdb.Invalid(in, "x"))); got != want {
			t.Errorf("calendar field %s: %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"priority[1].first_response": "targets[0].first_response_minutes",
		"priority[5].resolve":        "targets[4].resolve_minutes",
		"priority[6].resolve":        "priority[6].resolve",
		"warn_fraction":              "warn_fraction",
	} {
		if got := cmdb.ErrorField(targetsField(cmdb.Invalid(in, "x"))); got != want {
			t.Errorf("targets field %s: %s, want %s", in, got, want)
		}
	}
	// Other errors pass unchanged.
	nf := cmdb.Errorf(cmdb.ENOTFOUND, "No such authority: 7.")
	if calendarField(nf) != error(nf) || targetsField(nf) != error(nf) {
		t.Error("a not-found error was rewritten")
	}
}
