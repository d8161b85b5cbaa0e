package main

import (
	"fmt"
	"testing"
)

// TestSNMPCredentialLooseValues posts credential profiles that no device
// is configured with: each is refused with 400 naming the field, and
// nothing is stored.
func TestSNMPCredentialLooseValues(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	_, school, _, _ := c.tenant("LOOSE")
	path := fmt.Sprintf("/api/v1/schools/%d/snmp-credentials", school)
	for _, tt := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"community on a v3 profile", map[string]any{"name": "v3", "version": "3", "user": "cmdb", "auth_proto": "SHA",
			"auth_pass": "auth-pass-1", "community": "public"}, "community"},
		{"NUL in a community", map[string]any{"name": "v2c", "version": "2c", "community": "pub\x00lic"}, "community"},
		{"line break in a community", map[string]any{"name": "v2c", "version": "2c", "community": "public\r\n"}, "community"},
	} {
		code, out := c.do("POST", path, tt.body)
		e, _ := out["error"].(map[string]any)
		if code != 400 || e == nil || e["field"] != tt.field {
			t.Errorf("%s: status %d, body %v; want 400 naming %q", tt.name, code, out, tt.field)
		}
	}
	var list []any
	code, out := c.do("GET", path, nil)
	if l, ok := out["items"].([]any); ok {
		list = l
	}
	if code != 200 || len(list) != 0 {
		t.Errorf("credential profiles after refused posts: %d %v, want none", code, out)
	}
}
