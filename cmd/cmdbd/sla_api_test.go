package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// TestSLASettingsFlow: an authority's calendar and targets go in by PUT
// and come back by GET as sent; bad values are refused naming the field
// of the body, and nothing changes; the closed days of 2027 hold NW's
// Easter-based holidays and the added school holidays; an open ticket's
// due times follow new targets at once.
func TestSLASettingsFlow(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, _, room, _ := c.tenant("SLA")
	calPath := fmt.Sprintf("/api/v1/authorities/%d/calendar", auth)
	tgtPath := fmt.Sprintf("/api/v1/authorities/%d/sla-targets", auth)

	// Defaults before anything is set.
	def := c.must(200, "GET", calPath, nil)
	if def["state"] != "NW" || def["time_zone"] != "Europe/Berlin" || fmt.Sprint(def["hours"].(map[string]any)["monday"]) != "[map[close:16:00 open:07:30]]" ||
		len(asSlice(def["hours"].(map[string]any)["sunday"])) != 0 {
		t.Fatalf("default calendar: %v", def)
	}
	if tg := c.must(200, "GET", tgtPath, nil); len(asSlice(tg["targets"])) != 5 || tg["warn_fraction"] != 0.8 ||
		asSlice(tg["targets"])[0].(map[string]any)["resolve_minutes"] != 240.0 {
		t.Fatalf("default targets: %v", tg)
	}

	// Calendar round trip: a short Friday, a lunch break on Monday, the summer holidays.
	day := func(spans ...[2]string) []map[string]string {
		out := []map[string]string{}
		for _, s := range spans {
			out = append(out, map[string]string{"open": s[0], "close": s[1]})
		}
		return out
	}
	full := [2]string{"07:30", "16:00"}
	cal := map[string]any{"time_zone": "Europe/Berlin", "state": "NW",
		"hours": map[string]any{"monday": day([2]string{"07:30", "12:00"}, [2]string{"12:30", "16:00"}), "tuesday": day(full),
			"wednesday": day(full), "thursday": day(full), "friday": day([2]string{"07:30", "13:00"}), "saturday": day(), "sunday": day()},
		"closed": []map[string]string{{"from": "2027-07-19", "to": "2027-08-31", "name": "Sommerferien"}}}
	put := c.must(200, "PUT", calPath, cal)
	got := c.must(200, "GET", calPath, nil)
	if fmt.Sprint(put) != fmt.Sprint(got) || fmt.Sprint(got["hours"]) != fmt.Sprint(map[string]any{"monday": []any{
		map[string]any{"open": "07:30", "close": "12:00"}, map[string]any{"open": "12:30", "close": "16:00"}},
		"tuesday": []any{map[string]any{"open": "07:30", "close": "16:00"}}, "wednesday": []any{map[string]any{"open": "07:30", "close": "16:00"}},
		"thursday": []any{map[string]any{"open": "07:30", "close": "16:00"}}, "friday": []any{map[string]any{"open": "07:30", "close": "13:00"}},
		"saturday": []any{}, "sunday": []any{}}) ||
		fmt.Sprint(got["closed"]) != "[map[from:2027-07-19 name:Sommerferien to:2027-08-31]]" {
		t.Fatalf("calendar after PUT: %v", got)
	}

	// Bad calendars name the body's field; the stored one stays.
	bad := func(field string, edit func(m map[string]any)) {
		t.Helper()
		m := map[string]any{"state": "NW", "hours": map[string]any{"monday": day(full), "tuesday": day(full)}}
		edit(m)
		if code, out := c.do("PUT", calPath, m); code != 400 || errOf(out)["field"] != field {
			t.Errorf("want 400 naming %s: %d %v", field, code, out)
		}
	}
	bad("hours.tuesday[0].open", func(m map[string]any) { m["hours"].(map[string]any)["tuesday"] = day([2]string{"7:30", "16:00"}) })
	bad("hours.monday[0].close", func(m map[string]any) { m["hours"].(map[string]any)["monday"] = day([2]string{"07:30", "25:00"}) })
	bad("hours.monday[0].close", func(m map[string]any) { m["hours"].(map[string]any)["monday"] = day([2]string{"16:00", "07:30"}) })
	bad("hours.monday[1].open", func(m map[string]any) {
		m["hours"].(map[string]any)["monday"] = day([2]string{"07:30", "12:00"}, [2]string{"11:00", "16:00"})
	})
	bad("hours", func(m map[string]any) { m["hours"] = map[string]any{} })
	bad("funday", func(m map[string]any) { m["hours"].(map[string]any)["funday"] = day(full) })
	bad("state", func(m map[string]any) { delete(m, "state") })
	bad("time_zone", func(m map[string]any) { m["time_zone"] = "Mitteleuropa/Bonn" })
	bad("closed[0].from", func(m map[string]any) { m["closed"] = []map[string]string{{"from": "19.07.2027", "to": "2027-08-31"}} })
	bad("closed[0].to", func(m map[string]any) { m["closed"] = []map[string]string{{"from": "2027-07-19", "to": "2027-07-18"}} })
	if code, out := c.do("PUT", calPath, map[string]any{"state": "XY", "hours": map[string]any{"monday": day(full)}}); code != 400 ||
		errOf(out)["field"] != "state" || errOf(out)["message"] != `"XY" is not a German state code (BW, BY, BE, BB, HB, HH, HE, MV, NI, NW, RP, SL, SN, ST, SH, TH)` {
		t.Errorf("bad state: %d %v", code, out)
	}
	if again := c.must(200, "GET", calPath, nil); fmt.Sprint(again) != fmt.Sprint(got) {
		t.Errorf("a refused PUT changed the calendar: %v", again)
	}

	// Closed days of 2027: NW's holidays, Easter-based ones included, and the summer holidays.
	holPath := fmt.Sprintf("/api/v1/authorities/%d/holidays", auth)
	hol := c.must(200, "GET", holPath+"?year=2027", nil)
	byDate := map[string]map[string]any{}
	for _, it := range asSlice(hol["items"]) {
		byDate[it.(map[string]any)["date"].(string)] = it.(map[string]any)
	}
	for date, name := range map[string]string{"2027-01-01": "Neujahr", "2027-03-26": "Karfreitag", "2027-03-29": "Ostermontag",
		"2027-05-06": "Christi Himmelfahrt", "2027-05-17": "Pfingstmontag", "2027-05-27": "Fronleichnam",
		"2027-11-01": "Allerheiligen", "2027-07-19": "Sommerferien", "2027-08-31": "Sommerferien"} {
		if byDate[date]["name"] != name {
			t.Errorf("2027: %s is %v, want %s", date, byDate[date], name)
		}
	}
	if byDate["2027-07-19"]["kind"] != "closed" || byDate["2027-03-26"]["kind"] != "holiday" || byDate["2027-10-31"] != nil {
		t.Errorf("kinds, or Reformationstag in NW: %v %v %v", byDate["2027-07-19"], byDate["2027-03-26"], byDate["2027-10-31"])
	}
	// 11 holidays in NW, 44 days of summer holidays.
	if hol["year"] != 2027.0 || hol["total"] != float64(11+44) || len(byDate) != 11+44 {
		t.Errorf("2027: %v days (total %v), want %d", len(byDate), hol["total"], 11+44)
	}
	for q, want := range map[string]string{"": "year", "?year=zwanzig": "year", "?year=1200": "year"} {
		if code, out := c.do("GET", holPath+q, nil); code != 400 || errOf(out)["field"] != want {
			t.Errorf("holidays%s: %d %v", q, code, out)
		}
	}

	// A ticket opened before the targets change.
	var other int64
	for _, it := range asSlice(c.must(200, "GET", "/api/v1/ticket-categories", nil)["items"]) {
		if m := it.(map[string]any); m["class"] == "general" && m["name"] == "Sonstiges" {
			other = id(m)
		}
	}
	code, tk := c.postTicket("", map[string]any{"type": "incident", "title": "Beamer im Raum 1.12 bleibt dunkel", "room_id": room,
		"category_id": other, "impact": 2, "urgency": 2})
	if code != 201 {
		t.Fatalf("open: %d %v", code, tk)
	}
	prio := int(tk["priority"].(float64))
	targets := func(resolve2 int) map[string]any {
		var ts []map[string]any
		for p := 1; p <= 5; p++ {
			first, res := 15*p, 120*p
			if p == prio {
				res = resolve2
			}
			ts = append(ts, map[string]any{"priority": p, "first_response_minutes": first, "resolve_minutes": res})
		}
		return map[string]any{"targets": ts, "warn_fraction": 0.75}
	}
	in := targets(600)
	putT := c.must(200, "PUT", tgtPath, in)
	if gotT := c.must(200, "GET", tgtPath, nil); fmt.Sprint(gotT) != fmt.Sprint(putT) || gotT["warn_fraction"] != 0.75 ||
		fmt.Sprint(gotT["targets"]) != fmt.Sprint(asSlice(c.jsonRound(in)["targets"])) {
		t.Fatalf("targets after PUT: %v, sent %v", gotT, in)
	}

	// The ticket's due times follow: what the calendar gives for the new targets.
	bc, err := cmdb.NewBusinessCalendar(cmdb.Calendar{TimeZone: "Europe/Berlin", State: cmdb.StateNW, Week: [7][]cmdb.OpeningHours{
		time.Monday:    {{Open: cmdb.Clock(7, 30), Close: cmdb.Clock(12, 0)}, {Open: cmdb.Clock(12, 30), Close: cmdb.Clock(16, 0)}},
		time.Tuesday:   {{Open: cmdb.Clock(7, 30), Close: cmdb.Clock(16, 0)}},
		time.Wednesday: {{Open: cmdb.Clock(7, 30), Close: cmdb.Clock(16, 0)}},
		time.Thursday:  {{Open: cmdb.Clock(7, 30), Close: cmdb.Clock(16, 0)}},
		time.Friday:    {{Open: cmdb.Clock(7, 30), Close: cmdb.Clock(13, 0)}}},
		Closed: []cmdb.ClosedDays{{From: cmdb.MakeDate(2027, 7, 19), To: cmdb.MakeDate(2027, 8, 31), Name: "Sommerferien"}}})
	if err != nil {
		t.Fatal(err)
	}
	ticket := fmt.Sprintf("/api/v1/tickets/%d", id(tk))
	check := func(first, resolve time.Duration) {
		t.Helper()
		cur := c.must(200, "GET", ticket, nil)
		opened, _ := time.Parse(time.RFC3339Nano, cur["created_at"].(string))
		sla := cur["sla"].(map[string]any)
		for field, d := range map[string]time.Duration{"first_response_due": first, "resolve_due": resolve} {
			want, _ := bc.Due(opened, d, nil)
			if got, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(sla[field])); !got.Equal(want) {
				t.Errorf("%s after new targets: %v, want %s (opened %s)", field, sla[field], want, opened)
			}
		}
	}
	check(time.Duration(15*prio)*time.Minute, 600*time.Minute)
	c.must(200, "PUT", tgtPath, targets(900))
	check(time.Duration(15*prio)*time.Minute, 900*time.Minute)

	// Bad targets name the body's field; the stored ones stay.
	badT := func(field string, edit func(ts []map[string]any) any) {
		t.Helper()
		in := targets(900)
		if code, out := c.do("PUT", tgtPath, edit(in["targets"].([]map[string]any))); code != 400 || errOf(out)["field"] != field {
			t.Errorf("want 400 naming %s: %d %v", field, code, out)
		}
	}
	badT("targets[2].resolve_minutes", func(ts []map[string]any) any {
		ts[2]["resolve_minutes"] = 10 // below its first response (45)
		return map[string]any{"targets": ts}
	})
	badT("targets[0].first_response_minutes", func(ts []map[string]any) any {
		ts[0]["first_response_minutes"] = 0
		return map[string]any{"targets": ts}
	})
	badT("targets[4].resolve_minutes", func(ts []map[string]any) any {
		ts[4]["resolve_minutes"] = int64(1) << 62 // saturated, not overflowed
		return map[string]any{"targets": ts}
	})
	badT("targets[1].priority", func(ts []map[string]any) any {
		ts[1]["priority"] = 4
		return map[string]any{"targets": ts}
	})
	badT("targets", func(ts []map[string]any) any { return map[string]any{"targets": ts[:4]} })
	badT("warn_fraction", func(ts []map[string]any) any { return map[string]any{"targets": ts, "warn_fraction": 1.5} })
	// A wrong JSON type is the decoder's, whose path has no index.
	badT("targets.resolve_minutes", func(ts []map[string]any) any {
		ts[3]["resolve_minutes"] = "viel"
		return map[string]any{"targets": ts}
	})
	check(time.Duration(15*prio)*time.Minute, 900*time.Minute)

	// Other tenants' authorities are the access matrix's; an unknown one
	// is not found for an admin either.
	if code, _ := c.do("GET", "/api/v1/authorities/999999/calendar", nil); code != 404 {
		t.Errorf("calendar of an unknown authority: %d", code)
	}
}

// jsonRound returns v as it reads after a JSON round trip.
func (c *client) jsonRound(v any) map[string]any {
	c.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		c.t.Fatal(err)
	}
	return out
}
