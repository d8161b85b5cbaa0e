package main

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// as returns a client acting through an integration token of one role.
func (c *client) as(role string, org int64) *client {
	c.t.Helper()
	tok := c.must(201, "POST", "/api/v1/tokens", map[string]any{"name": role, "role": role, "org_id": org, "integration": true})
	return &client{t: c.t, base: c.base, token: tok["token"].(string)}
}

// titles lists the titles of a list answer.
func titles(out map[string]any) []string {
	got := []string{}
	for _, it := range asSlice(out["items"]) {
		got = append(got, it.(map[string]any)["title"].(string))
	}
	return got
}

// TestKnowledgeBaseAPI: the authority's IT writes articles (rendered and
// sanitised as html); a teacher lists only the public ones and finds
// them by German search; bad input is 400 naming the field; a resolved
// ticket's solution becomes an internal draft.
func TestKnowledgeBaseAPI(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, school, room, _ := c.tenant("KBA")
	it, teacher := c.as("authority_it", auth), c.as("teacher", school)
	oauth, _, _, _ := c.tenant("KBO")
	other := c.as("authority_it", oauth)

	pub := it.must(201, "POST", "/api/v1/kb-articles", map[string]any{"title": "Beamer zeigt kein Bild", "public": true,
		"body_md": "Erst den **Eingang** prüfen: am Beamer auf HDMI 1 stellen.<script>alert(1)</script>", "classes": []string{"projector"},
		"models": []string{"Epson EB-W49"}})
	if pub["authority_id"].(float64) != float64(auth) || pub["version"].(float64) != 1 || pub["public"] != true ||
		!strings.Contains(pub["html"].(string), "<strong>Eingang</strong>") || strings.Contains(pub["html"].(string), "<script") {
		t.Fatalf("created %v", pub)
	}
	if _, ok := pub["body_html"]; ok {
		t.Errorf("the article carries body_html besides html: %v", pub)
	}
	internal := it.must(201, "POST", "/api/v1/kb-articles", map[string]any{"title": "Beamer-Lampe tauschen", "body_md": "Nur der Dienstleister."})

	// Bad input: 400 naming the field; teachers do not write.
	for name, b := range map[string]struct {
		body  any
		field string
	}{
		"empty title":       {map[string]any{"title": " ", "public": true}, "title"},
		"no title":          {map[string]any{"body_md": "Text"}, "title"},
		"bad class":         {map[string]any{"title": "x", "classes": []string{"toaster"}}, "classes[0]"},
		"html is ours":      {map[string]any{"title": "x", "html": "<b>x</b>"}, "html"},
		"wrong type":        {map[string]any{"title": "x", "public": "ja"}, "public"},
		"bad category":      {map[string]any{"title": "x", "category_ids": []int64{999999}}, "category_ids[0]"},
		"foreign authority": {map[string]any{"title": "x", "authority_id": oauth}, "authority_id"},
	} {
		if code, out := it.do("POST", "/api/v1/kb-articles", b.body); code != 400 || errOf(out)["field"] != b.field {
			t.Errorf("%s: %d %v, want 400 naming %s", name, code, out, b.field)
		}
	}
	if code, out := teacher.do("POST", "/api/v1/kb-articles", map[string]any{"title": "Von Lehrkraft"}); code != 403 {
		t.Errorf("teacher writes: %d %v", code, out)
	}
	if n := it.must(200, "GET", "/api/v1/kb-articles", nil)["total"].(float64); n != 2 {
		t.Fatalf("after refused writes: %v articles", n)
	}

	// The teacher sees the public article, by list, search and id, and
	// never the internal one.
	if got := titles(teacher.must(200, "GET", "/api/v1/kb-articles", nil)); !slices.Equal(got, []string{"Beamer zeigt kein Bild"}) {
		t.Errorf("teacher lists %q", got)
	}
	for _, q := range []string{"Bildes", "beamer", "Beam", "kein Bild -Toaster", "HDMI-1", `"kein Bild"`} {
		out := teacher.must(200, "GET", "/api/v1/kb-articles?q="+url.QueryEscape(q), nil)
		if got := titles(out); !slices.Equal(got, []string{"Beamer zeigt kein Bild"}) || out["total"].(float64) != 1 {
			t.Errorf("teacher searching %q finds %q", q, got)
		}
	}
	if got := titles(it.must(200, "GET", "/api/v1/kb-articles?q=Beamer", nil)); len(got) != 2 {
		t.Errorf("IT searching Beamer finds %q", got)
	}
	if got := titles(it.must(200, "GET", "/api/v1/kb-articles?q=Beamer&public_only=true&class=projector&model=epson+eb-w49", nil)); len(got) != 1 {
		t.Errorf("IT searching public projector articles finds %q", got)
	}
	if got := titles(teacher.must(200, "GET", "/api/v1/kb-articles?q=Lampe", nil)); len(got) != 0 {
		t.Errorf("teacher finds the internal article: %q", got)
	}
	teacher.must(200, "GET", fmt.Sprintf("/api/v1/kb-articles/%d", id(pub)), nil)
	for who, cl := range map[string]*client{"teacher": teacher, "other authority": other} {
		if code, _ := cl.do("GET", fmt.Sprintf("/api/v1/kb-articles/%d", id(internal)), nil); code != 404 {
			t.Errorf("%s gets the internal article: %d", who, code)
		}
	}
	if n := other.must(200, "GET", "/api/v1/kb-articles", nil)["total"].(float64); n != 0 {
		t.Errorf("the other authority lists %v articles", n)
	}
	for q, field := range map[string]string{"class=toaster": "class", "limit=viele": "limit", "limit=1000": "limit",
		"public_only=vielleicht": "public_only", "category_id=-1": "category_id", "offset=-5": "offset"} {
		if code, out := teacher.do("GET", "/api/v1/kb-articles?"+q, nil); code != 400 || errOf(out)["field"] != field {
			t.Errorf("%s: %d %v, want 400 naming %s", q, code, out, field)
		}
	}

	// Changes: a stale version conflicts; readers may not change.
	up := it.must(200, "PATCH", fmt.Sprintf("/api/v1/kb-articles/%d", id(pub)), map[string]any{"body_md": "Eingang auf *HDMI 1*.", "version": 1})
	if up["version"].(float64) != 2 || !strings.Contains(up["html"].(string), "<em>HDMI 1</em>") {
		t.Errorf("updated %v", up)
	}
	if code, out := it.do("PATCH", fmt.Sprintf("/api/v1/kb-articles/%d", id(pub)), map[string]any{"title": "Alt", "version": 1}); code != 409 || errOf(out)["field"] != "version" {
		t.Errorf("stale version: %d %v", code, out)
	}
	if code, _ := teacher.do("PATCH", fmt.Sprintf("/api/v1/kb-articles/%d", id(pub)), map[string]any{"title": "Meins"}); code != 403 {
		t.Errorf("teacher changes: %d", code)
	}

	// A draft from a resolved ticket's solution, internal until published.
	beamer := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "room_id": room, "class": "projector",
		"vendor": "Epson", "model": "EB-W49", "serial": "KBA-BM-1"}))
	var noPicture int64
	for _, cat := range asSlice(c.must(200, "GET", "/api/v1/ticket-categories?class=projector", nil)["items"]) {
		if m := cat.(map[string]any); m["name"] == "Kein Bild" {
			noPicture = id(m)
		}
	}
	code, tk := teacher.postTicket("", map[string]any{"type": "incident", "title": "Beamer Raum 1.12 bleibt blau", "description": "Seit Montag kein Bild.",
		"category_id": noPicture, "impact": 3, "urgency": 2, "ci_ids": []int64{beamer}})
	if code != 201 {
		t.Fatalf("ticket: %d %v", code, tk)
	}
	draftPath := fmt.Sprintf("/api/v1/tickets/%s/kb-draft", tk["number"])
	if code, out := it.do("POST", draftPath, nil); code != 409 || errOf(out)["field"] != "status" {
		t.Errorf("draft of an open ticket: %d %v", code, out)
	}
	it.must(201, "POST", fmt.Sprintf("/api/v1/tickets/%d/comments", id(tk)), map[string]any{"body": "Kabel am HDMI-Eingang getauscht."})
	it.must(200, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", id(tk)), map[string]any{"status": "resolved"})
	if code, _ := teacher.do("POST", draftPath, nil); code != 403 {
		t.Errorf("teacher drafts: %d", code)
	}
	d := it.must(201, "POST", draftPath, nil)
	if d["public"] != false || d["source_ticket_id"].(float64) != float64(id(tk)) || !strings.Contains(d["body_md"].(string), "Kabel am HDMI-Eingang getauscht.") ||
		fmt.Sprint(d["models"]) != "[Epson EB-W49]" {
		t.Errorf("draft %v", d)
	}
	if code, _ := teacher.do("GET", fmt.Sprintf("/api/v1/kb-articles/%d", id(d)), nil); code != 404 {
		t.Errorf("teacher sees the draft: %d", code)
	}

	it.must(204, "DELETE", fmt.Sprintf("/api/v1/kb-articles/%d", id(internal)), nil)
	it.must(404, "GET", fmt.Sprintf("/api/v1/kb-articles/%d", id(internal)), nil)
}

// TestProblemAPI: a problem opened from a repeat failure groups the
// printer's incidents; tickets are linked and unlinked by id or number,
// and the history shows it; bad input is 400 naming the field; teachers
// and other authorities get 404.
func TestProblemAPI(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, school, room, _ := c.tenant("PRA")
	it, teacher := c.as("authority_it", auth), c.as("teacher", school)
	oauth, _, _, _ := c.tenant("PRO")
	other := c.as("authority_it", oauth)
	printer := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "room_id": room, "class": "printer",
		"vendor": "HP", "model": "LaserJet 4250", "serial": "PRA-PR-1"}))
	var jam int64
	for _, cat := range asSlice(c.must(200, "GET", "/api/v1/ticket-categories?class=printer", nil)["items"]) {
		if m := cat.(map[string]any); m["name"] == "Papierstau" {
			jam = id(m)
		}
	}
	open := func() map[string]any {
		code, tk := teacher.postTicket("", map[string]any{"type": "incident", "title": "Papierstau im Raum 1.12", "category_id": jam,
			"impact": 3, "urgency": 2, "ci_ids": []int64{printer}})
		if code != 201 {
			t.Fatalf("open: %d %v", code, tk)
		}
		return tk
	}
	t1, t2, t3 := open(), open(), open()
	if f, _ := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d", printer), nil)["repeat_failure"].(map[string]any); f == nil {
		t.Fatal("the printer is not flagged")
	}

	for name, b := range map[string]struct {
		body  any
		field string
	}{
		"empty title":   {map[string]any{"title": "", "origin": "repeat_failure", "ci_id": printer}, "title"},
		"no ci":         {map[string]any{"title": "x", "origin": "repeat_failure"}, "ci_id"},
		"bad origin":    {map[string]any{"title": "x", "origin": "bauchgefühl"}, "origin"},
		"foreign ci":    {map[string]any{"title": "x", "origin": "repeat_failure", "ci_id": 999999}, "ci_id"},
		"unknown field": {map[string]any{"title": "x", "status": "open"}, "status"},
	} {
		if code, out := it.do("POST", "/api/v1/problems", b.body); code != 400 || errOf(out)["field"] != b.field {
			t.Errorf("%s: %d %v, want 400 naming %s", name, code, out, b.field)
		}
	}
	if code, _ := teacher.do("POST", "/api/v1/problems", map[string]any{"title": "x"}); code != 403 {
		t.Errorf("teacher opens a problem: %d", code)
	}

	p := it.must(201, "POST", "/api/v1/problems", map[string]any{"title": "HP LaserJet 4250 im Raum 1.12 fällt immer wieder aus",
		"origin": "repeat_failure", "ci_id": printer, "known_error": "Verschlissene Einzugsrollen"})
	ids := func(p map[string]any) []int64 {
		var out []int64
		for _, v := range asSlice(p["ticket_ids"]) {
			out = append(out, int64(v.(float64)))
		}
		return out
	}
	if p["number"] != fmt.Sprintf("PRB-%d", id(p)) || p["status"] != "open" || !slices.Equal(ids(p), []int64{id(t1), id(t2), id(t3)}) {
		t.Fatalf("problem %v", p)
	}
	if tk := c.must(200, "GET", fmt.Sprintf("/api/v1/tickets/%d", id(t1)), nil); tk["problem_id"].(float64) != float64(id(p)) {
		t.Errorf("the ticket does not name its problem: %v", tk["problem_id"])
	}

	// Link a fourth report by its number through the problem's number, then unlink it.
	t4 := open()
	linkPath := fmt.Sprintf("/api/v1/problems/%s/tickets/%s", p["number"], t4["number"])
	if got := ids(it.must(200, "PUT", linkPath, nil)); !slices.Equal(got, []int64{id(t1), id(t2), id(t3), id(t4)}) {
		t.Errorf("after link: %v", got)
	}
	if got := ids(it.must(200, "DELETE", fmt.Sprintf("/api/v1/problems/%d/tickets/%d", id(p), id(t4)), nil)); len(got) != 3 {
		t.Errorf("after unlink: %v", got)
	}
	if code, _ := it.do("DELETE", fmt.Sprintf("/api/v1/problems/%d/tickets/%d", id(p), id(t4)), nil); code != 404 {
		t.Errorf("unlink a ticket not in it: %d", code)
	}
	if code, out := it.do("PUT", fmt.Sprintf("/api/v1/problems/%d/tickets/kaputt", id(p)), nil); code != 400 || errOf(out)["field"] != "ticket_id" {
		t.Errorf("bad ticket_id: %d %v", code, out)
	}
	if code, out := it.do("PATCH", fmt.Sprintf("/api/v1/problems/%d", id(p)), map[string]any{"status": "erledigt"}); code != 400 || errOf(out)["field"] != "status" {
		t.Errorf("bad status: %d %v", code, out)
	}
	it.must(200, "PATCH", fmt.Sprintf("/api/v1/problems/%d", id(p)), map[string]any{"status": "known_error", "workaround": "Papier vor dem Einlegen fächern."})

	var hist []string
	for _, e := range asSlice(it.must(200, "GET", fmt.Sprintf("/api/v1/problems/%d/history", id(p)), nil)["items"]) {
		m := e.(map[string]any)
		hist = append(hist, fmt.Sprintf("%s:%s>%s", m["field"], m["old"], m["new"]))
	}
	want := []string{"created:>repeat_failure", "ticket:>" + t1["number"].(string), "ticket:>" + t2["number"].(string), "ticket:>" + t3["number"].(string),
		"ticket:>" + t4["number"].(string), "ticket:" + t4["number"].(string) + ">", "status:open>known_error", "workaround:>Papier vor dem Einlegen fächern."}
	if !slices.Equal(hist, want) {
		t.Errorf("history\n got %q\nwant %q", hist, want)
	}
	if l := it.must(200, "GET", "/api/v1/problems?status=known_error&origin=repeat_failure", nil); l["total"].(float64) != 1 {
		t.Errorf("filtered list: %v", l)
	}
	if code, out := it.do("GET", "/api/v1/problems?status=erledigt", nil); code != 400 || errOf(out)["field"] != "status" {
		t.Errorf("bad status filter: %d %v", code, out)
	}

	// Teachers and the other authority learn nothing.
	for who, cl := range map[string]*client{"teacher": teacher, "other authority": other} {
		for _, path := range []string{fmt.Sprintf("/api/v1/problems/%d", id(p)), fmt.Sprintf("/api/v1/problems/%d/history", id(p))} {
			if code, _ := cl.do("GET", path, nil); code != 404 {
				t.Errorf("%s GET %s: %d", who, path, code)
			}
		}
		if n := cl.must(200, "GET", "/api/v1/problems", nil)["total"].(float64); n != 0 {
			t.Errorf("%s lists %v problems", who, n)
		}
	}
	if code, _ := other.do("PUT", fmt.Sprintf("/api/v1/problems/%d/tickets/%d", id(p), id(t4)), nil); code != 404 {
		t.Errorf("the other authority links: %d", code)
	}
}
