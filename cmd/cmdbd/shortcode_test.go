package main

import (
	"strconv"
	"strings"
	"testing"
)

// TestCIByShortCode: the code on a label finds the CI for whoever may see
// it (case and hyphens as a person types them), another tenant's code is
// not found, and a code that cannot be one names the parameter.
func TestCIByShortCode(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	a, school, room, _ := c.tenant("SCA")
	b, _, _, _ := c.tenant("SCB")
	ci := func(auth, room int64, serial string) map[string]any {
		obs := map[string]any{"source": "agent", "authority_id": auth, "class": "projector", "serial": serial, "vendor": "Epson"}
		if room != 0 {
			obs["room_id"] = room
		}
		r := c.must(200, "POST", "/api/v1/observations", map[string]any{"observations": []map[string]any{obs}})
		id := int64(r["items"].([]any)[0].(map[string]any)["ci_id"].(float64))
		return c.must(200, "GET", "/api/v1/cis/"+strconv.FormatInt(id, 10), nil)
	}
	own, other := ci(a, room, "X6WX0000001"), ci(b, 0, "X6WX0000002")
	code, _ := own["short_code"].(string)
	if len(code) != 6 || strings.ContainsAny(code, "01IO") {
		t.Fatalf("short_code %q", own["short_code"])
	}
	tok := c.must(201, "POST", "/api/v1/tokens", map[string]any{"name": "Lehrkraft", "role": "teacher", "org_id": school, "integration": true})
	teacher := &client{t: t, base: c.base, token: tok["token"].(string)}
	typed := strings.ToLower(code[:3]) + "-" + code[3:]
	if got := teacher.must(200, "GET", "/api/v1/cis/"+typed, nil); got["id"] != own["id"] {
		t.Fatalf("by code %s: %v, want CI %v", typed, got["id"], own["id"])
	}
	teacher.must(404, "GET", "/api/v1/cis/"+other["short_code"].(string), nil)
	if e := c.must(400, "GET", "/api/v1/cis/ABC0IO", nil)["error"].(map[string]any); e["field"] != "id" {
		t.Fatalf("malformed code: %v, want 400 on id", e)
	}
}
