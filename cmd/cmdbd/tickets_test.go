package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"
)

// postTicket sends POST /api/v1/tickets with an Idempotency-Key.
func (c *client) postTicket(key string, body any) (int, map[string]any) {
	c.t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", c.base+"/api/v1/tickets", bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// TestTicketFlow: a ticket on a printer is opened (once, however often
// the request is retried), worked through its statuses and closed; bad
// input is refused naming the field, and nothing of it is written.
func TestTicketFlow(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, school, room, _ := c.tenant("TKT")
	printer := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "room_id": room, "class": "printer",
		"vendor": "HP", "serial": "TKT-PR-1"}))
	oauth, _, oroom, _ := c.tenant("OTK")
	otherCI := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": oauth, "room_id": oroom, "class": "printer",
		"vendor": "HP", "serial": "OTK-PR-1"}))

	cats := map[string]int64{}
	for _, it := range asSlice(c.must(200, "GET", "/api/v1/ticket-categories?class=printer", nil)["items"]) {
		m := it.(map[string]any)
		cats[m["class"].(string)+"/"+m["name"].(string)] = id(m)
	}
	for _, want := range []string{"printer/Papierstau", "printer/Kein Toner", "printer/Druckt nicht", "printer/Schlechte Druckqualität", "printer/Sonstiges", "general/Sonstiges"} {
		if cats[want] == 0 {
			t.Errorf("category %s missing from %v", want, cats)
		}
	}
	if _, ok := cats["projector/Lampe"]; ok {
		t.Error("printer categories list a projector's")
	}
	projCats := c.must(200, "GET", "/api/v1/ticket-categories?class=projector", nil)
	var lamp int64
	for _, it := range asSlice(projCats["items"]) {
		if m := it.(map[string]any); m["name"] == "Lampe" {
			lamp = id(m)
		}
	}
	if code, out := c.do("GET", "/api/v1/ticket-categories?class=toaster", nil); code != 400 || errOf(out)["field"] != "class" {
		t.Errorf("unknown class: %d %v", code, out)
	}

	good := func() map[string]any {
		return map[string]any{"type": "incident", "title": "Drucker im Raum 1.12 zieht kein Papier", "description": "Seit heute früh.",
			"category_id": cats["printer/Papierstau"], "impact": 2, "urgency": 1, "ci_ids": []int64{printer}, "channel": "phone",
			"on_behalf_of": "Frau Meier"}
	}
	// Bad input: 400 naming the field, and no ticket (nor number) is used up.
	for name, c2 := range map[string]struct {
		mutate func(map[string]any)
		field  string
	}{
		"no title":           {func(b map[string]any) { delete(b, "title") }, "title"},
		"unknown category":   {func(b map[string]any) { b["category_id"] = 999999 }, "category_id"},
		"projector category": {func(b map[string]any) { b["category_id"] = lamp }, "category_id"},
		"no category":        {func(b map[string]any) { delete(b, "category_id") }, "category_id"},
		"impact 4":           {func(b map[string]any) { b["impact"] = 4 }, "impact"},
		"other tenant's CI":  {func(b map[string]any) { b["ci_ids"] = []int64{printer, otherCI} }, "ci_ids[1]"},
		"unknown field":      {func(b map[string]any) { b["colour"] = "rot" }, "colour"},
		"wrong type":         {func(b map[string]any) { b["ci_ids"] = "7" }, "ci_ids"},
	} {
		b := good()
		c2.mutate(b)
		code, out := c.postTicket("", b)
		if code != 400 || errOf(out)["field"] != c2.field {
			t.Errorf("%s: %d %v, want 400 naming %s", name, code, out, c2.field)
		}
	}
	if n := c.must(200, "GET", "/api/v1/tickets", nil)["total"].(float64); n != 0 {
		t.Fatalf("refused tickets were written: %v", n)
	}

	// Opened once, however often retried.
	code, tk := c.postTicket("f0a1-click", good())
	if code != 201 {
		t.Fatalf("create: %d %v", code, tk)
	}
	tid := id(tk)
	year := time.Now().In(mustZone(t)).Year()
	if tk["number"] != fmt.Sprintf("TKT-%d-00001", year) || tk["priority"].(float64) != 2 || tk["status"] != "new" ||
		int64(tk["school_id"].(float64)) != school || tk["on_behalf_of"] != "Frau Meier" || tk["category"] != "Papierstau" {
		t.Fatalf("created ticket: %v", tk)
	}
	code, again := c.postTicket("f0a1-click", good())
	if code != 200 || id(again) != tid {
		t.Fatalf("retried create: %d %v, want 200 with ticket %d", code, again, tid)
	}
	other := good()
	other["title"] = "Ganz etwas anderes"
	if code, out := c.postTicket("f0a1-click", other); code != 409 || errOf(out)["field"] != "Idempotency-Key" {
		t.Errorf("same key, another request: %d %v", code, out)
	}
	if n := c.must(200, "GET", "/api/v1/tickets", nil)["total"].(float64); n != 1 {
		t.Fatalf("%v tickets after a retried create, want 1", n)
	}
	byNumber := c.must(200, "GET", "/api/v1/tickets/"+tk["number"].(string), nil)
	if id(byNumber) != tid {
		t.Fatalf("by number: %v", byNumber)
	}
	if code, _ := c.do("GET", fmt.Sprintf("/api/v1/tickets/OTK-%d-00001", year), nil); code != 404 {
		t.Errorf("unknown number: %d", code)
	}

	// The CI's tickets; filters.
	if items := asSlice(c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/tickets", printer), nil)["items"]); len(items) != 1 {
		t.Fatalf("CI tickets: %v", items)
	}
	for q, want := range map[string]float64{"status=open": 1, "status=new,waiting": 1, "status=closed": 0, "priority=2": 1, "priority=3": 0,
		"q=kein+papier": 1, "q=toner": 0, "group=authority": 1, fmt.Sprintf("ci=%d", otherCI): 0, "level=1": 1} {
		if n := c.must(200, "GET", "/api/v1/tickets?"+q, nil)["total"].(float64); n != want {
			t.Errorf("tickets?%s: %v, want %v", q, n, want)
		}
	}
	for _, q := range []string{"status=done", "priority=9", "group=nobody", "limit=5000"} {
		if code, out := c.do("GET", "/api/v1/tickets?"+q, nil); code != 400 {
			t.Errorf("tickets?%s: %d %v, want 400", q, code, out)
		}
	}

	// Work it: a disallowed transition is 409 naming status and changes nothing.
	path := fmt.Sprintf("/api/v1/tickets/%d", tid)
	code, out := c.do("PATCH", path, map[string]any{"title": "Anders", "status": "closed"})
	if code != 409 || errOf(out)["field"] != "status" {
		t.Fatalf("new → closed: %d %v", code, out)
	}
	if got := c.must(200, "GET", path, nil); got["title"] != tk["title"] || got["status"] != "new" {
		t.Fatalf("a refused change was half-written: %v", got)
	}
	if code, out := c.do("PATCH", path, map[string]any{"status": "done"}); code != 400 || errOf(out)["field"] != "status" {
		t.Errorf("unknown status: %d %v", code, out)
	}
	if code, out := c.do("PATCH", path, map[string]any{"urgency": 0}); code != 400 || errOf(out)["field"] != "urgency" {
		t.Errorf("urgency 0: %d %v", code, out)
	}
	up := c.must(200, "PATCH", path, map[string]any{"status": "in_progress", "urgency": 3, "level": 2})
	if up["priority"].(float64) != 4 || up["level"].(float64) != 2 {
		t.Fatalf("after urgency 3: %v", up)
	}
	c.must(201, "POST", path+"/comments", map[string]any{"body": "Walze getauscht.", "internal": true})
	c.must(200, "PATCH", path, map[string]any{"status": "resolved"})
	closed := c.must(200, "PATCH", path, map[string]any{"status": "closed"})
	if closed["closed_at"] == nil || closed["resolved_at"] == nil {
		t.Fatalf("closed ticket: %v", closed)
	}
	if code, out := c.do("POST", path+"/comments", map[string]any{"body": "Geht wieder nicht."}); code != 409 || errOf(out)["field"] != "status" {
		t.Fatalf("comment on a closed ticket: %d %v", code, out)
	}
	if code, out := c.do("PATCH", path, map[string]any{"status": "in_progress"}); code != 409 || errOf(out)["field"] != "status" {
		t.Fatalf("reopen a closed ticket: %d %v", code, out)
	}
	if n := len(asSlice(c.must(200, "GET", path+"/comments", nil)["items"])); n != 1 {
		t.Fatalf("%d comments, want the one before closing", n)
	}
	var fields []string
	for _, h := range asSlice(c.must(200, "GET", path+"/history", nil)["items"]) {
		m := h.(map[string]any)
		fields = append(fields, fmt.Sprintf("%s:%s>%s", m["field"], m["old"], m["new"]))
	}
	want := fmt.Sprintf(`^\[created:>TKT-%d-00001 urgency:1>3 priority:2>4 level:1>2 status:new>in_progress internal_comment:>\d+ `+
		`status:in_progress>resolved status:resolved>closed\]$`, year)
	if !regexp.MustCompile(want).MatchString(fmt.Sprint(fields)) {
		t.Errorf("history %v\nwant %s", fields, want)
	}
	// The authority's own priority matrix: bad shapes and cells are refused naming them.
	mpath := fmt.Sprintf("/api/v1/authorities/%d/priority-matrix", auth)
	if got := c.must(200, "GET", mpath, nil); fmt.Sprint(got["matrix"]) != "[[1 2 3] [2 3 4] [3 4 5]]" {
		t.Errorf("default matrix: %v", got)
	}
	for body, field := range map[string]string{`{"matrix":[[1,2,3],[2,3,4]]}`: "matrix", `{"matrix":[[1,2,3],[2,3,4],[3,4]]}`: "matrix[2]",
		`{"matrix":[[1,2,3],[2,3,4],[3,4,9]]}`: "matrix[2][2]"} {
		if code, out := c.do("PUT", mpath, body); code != 400 || errOf(out)["field"] != field {
			t.Errorf("PUT %s: %d %v, want 400 naming %s", body, code, out, field)
		}
	}
	c.must(200, "PUT", mpath, map[string]any{"matrix": [][]int{{1, 1, 1}, {1, 2, 3}, {1, 3, 5}}})
	b := good()
	b["impact"], b["urgency"] = 1, 3
	if code, tk2 := c.postTicket("", b); code != 201 || tk2["priority"].(float64) != 1 || tk2["number"] != fmt.Sprintf("TKT-%d-00002", year) {
		t.Errorf("ticket by the own matrix: %d %v", code, tk2)
	}
	// The admin's token is no person: it cannot say "me too".
	if code, _ := c.do("POST", path+"/watchers", nil); code != 400 && code != 409 {
		t.Errorf("watcher by token: %d", code)
	}
}

func mustZone(t *testing.T) *time.Location {
	l, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return l
}
