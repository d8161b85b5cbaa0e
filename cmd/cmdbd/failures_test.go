package main

import (
	"fmt"
	"testing"
)

// TestRepeatFailureFlow: the third incident on a printer flags it in its
// JSON, its history and the list of replacement candidates; merging a
// fourth as a duplicate counts it once; a stricter rule clears the flag
// at once; bad merges and rules are refused naming the field.
func TestRepeatFailureFlow(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, school, room, _ := c.tenant("REP")
	printer := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "room_id": room, "class": "printer",
		"vendor": "HP", "model": "LaserJet M404", "serial": "REP-PR-1"}))
	var jam int64
	for _, it := range asSlice(c.must(200, "GET", "/api/v1/ticket-categories?class=printer", nil)["items"]) {
		if m := it.(map[string]any); m["name"] == "Papierstau" {
			jam = id(m)
		}
	}
	open := func(typ string) map[string]any {
		code, tk := c.postTicket("", map[string]any{"type": typ, "title": "Papierstau im Raum 1.12", "category_id": jam,
			"impact": 3, "urgency": 2, "ci_ids": []int64{printer}})
		if code != 201 {
			t.Fatalf("open: %d %v", code, tk)
		}
		return tk
	}
	flag := func() map[string]any {
		f, _ := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d", printer), nil)["repeat_failure"].(map[string]any)
		return f
	}
	t1, t2 := open("incident"), open("incident")
	open("request")
	if f := flag(); f != nil {
		t.Fatalf("two incidents and a request flagged the printer: %v", f)
	}
	t3 := open("incident")
	f := flag()
	if f == nil || f["count"].(float64) != 3 || f["window_days"].(float64) != 365 || len(asSlice(f["tickets"])) != 3 ||
		asSlice(f["tickets"])[0] != t1["number"] || asSlice(f["tickets"])[2] != t3["number"] {
		t.Fatalf("flag after three incidents: %v", f)
	}
	list := c.must(200, "GET", fmt.Sprintf("/api/v1/repeat-failures?school_id=%d", school), nil)
	if list["total"].(float64) != 1 || id(asSlice(list["items"])[0].(map[string]any)) != printer {
		t.Fatalf("repeat failures: %v", list)
	}
	if n := c.must(200, "GET", "/api/v1/repeat-failures?class=laptop", nil)["total"].(float64); n != 0 {
		t.Errorf("laptops flagged: %v", n)
	}
	if code, out := c.do("GET", "/api/v1/repeat-failures?class=toaster", nil); code != 400 || errOf(out)["field"] != "class" {
		t.Errorf("bad class: %d %v", code, out)
	}
	if it := asSlice(c.must(200, "GET", fmt.Sprintf("/api/v1/cis?school=%d", school), nil)["items"])[0].(map[string]any); it["repeat_failure"] == nil {
		t.Errorf("the CI list does not carry the flag: %v", it)
	}
	hist := 0
	for _, h := range asSlice(c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/history", printer), nil)["items"]) {
		if m := h.(map[string]any); m["attribute"] == "repeat_failure" && m["source"] == "rule:repeat-failure" {
			hist++
		}
	}
	if hist != 1 {
		t.Errorf("%d repeat_failure history rows, want 1", hist)
	}

	// A fourth report of the same jam, merged into the third by its number.
	t4 := open("incident")
	if f := flag(); f["count"].(float64) != 4 {
		t.Fatalf("flag after a fourth incident: %v", f)
	}
	if code, out := c.do("POST", fmt.Sprintf("/api/v1/tickets/%d/merge", id(t4)), map[string]any{"into": id(t4)}); code != 400 || errOf(out)["field"] != "into" {
		t.Errorf("merge into itself: %d %v", code, out)
	}
	if code, out := c.do("POST", fmt.Sprintf("/api/v1/tickets/%d/merge", id(t4)), map[string]any{"into": "REP-1999-99999"}); code != 400 || errOf(out)["field"] != "into" {
		t.Errorf("merge into an unknown number: %d %v", code, out)
	}
	into := c.must(200, "POST", fmt.Sprintf("/api/v1/tickets/%d/merge", id(t4)), map[string]any{"into": t3["number"]})
	if id(into) != id(t3) {
		t.Fatalf("merge answered %v", into)
	}
	if dup := c.must(200, "GET", fmt.Sprintf("/api/v1/tickets/%d", id(t4)), nil); dup["status"] != "closed" || int64(dup["merged_into"].(float64)) != id(t3) {
		t.Fatalf("duplicate: %v", dup)
	}
	if f := flag(); f["count"].(float64) != 3 {
		t.Fatalf("flag after the merge counts %v, want 3", f["count"])
	}
	if code, out := c.do("POST", fmt.Sprintf("/api/v1/tickets/%d/merge", id(t4)), map[string]any{"into": id(t2)}); code != 409 || errOf(out)["field"] != "status" {
		t.Errorf("merging a merged ticket again: %d %v", code, out)
	}
	if code, out := c.do("PATCH", fmt.Sprintf("/api/v1/tickets/%d", id(t4)), map[string]any{"title": "Neu"}); code != 409 {
		t.Errorf("changing a merged ticket: %d %v", code, out)
	}

	// The rule: default 3 in 365; printers stricter now.
	rulePath := fmt.Sprintf("/api/v1/authorities/%d/repeat-failure-rule", auth)
	if r := c.must(200, "GET", rulePath, nil); r["default"].(map[string]any)["threshold"].(float64) != 3 {
		t.Fatalf("default rule: %v", r)
	}
	if code, out := c.do("PUT", rulePath, map[string]any{"by_class": map[string]any{"printer": map[string]any{"threshold": 1, "window_days": 30}}}); code != 400 ||
		errOf(out)["field"] != "by_class.printer.threshold" {
		t.Errorf("threshold 1: %d %v", code, out)
	}
	if code, out := c.do("PUT", rulePath, map[string]any{"by_class": map[string]any{"toaster": map[string]any{"threshold": 3, "window_days": 30}}}); code != 400 ||
		errOf(out)["field"] != "by_class.toaster" {
		t.Errorf("unknown class: %d %v", code, out)
	}
	r := c.must(200, "PUT", rulePath, map[string]any{"by_class": map[string]any{"printer": map[string]any{"threshold": 5, "window_days": 365}}})
	if r["by_class"].(map[string]any)["printer"].(map[string]any)["threshold"].(float64) != 5 {
		t.Fatalf("stored rule: %v", r)
	}
	if f := flag(); f != nil {
		t.Fatalf("flag under 5 incidents: %v", f)
	}
	if n := c.must(200, "GET", "/api/v1/repeat-failures", nil)["total"].(float64); n != 0 {
		t.Errorf("cleared flag still listed: %v", n)
	}

	// Patterns: the admin sees several authorities and names one.
	c.tenant("REX")
	if code, out := c.do("GET", "/api/v1/failure-patterns", nil); code != 400 || errOf(out)["field"] != "authority_id" {
		t.Errorf("patterns without authority: %d %v", code, out)
	}
	if p := c.must(200, "GET", fmt.Sprintf("/api/v1/failure-patterns?authority_id=%d", auth), nil); p["total"].(float64) != 0 {
		t.Errorf("one printer is no pattern: %v", p)
	}
	if code, _ := c.do("GET", "/api/v1/failure-patterns?authority_id=999999", nil); code != 404 {
		t.Errorf("patterns of an unknown authority: %d", code)
	}
}
