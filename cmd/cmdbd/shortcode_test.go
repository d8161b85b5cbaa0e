package main

import (
	"os"
	"os/exec"
	"path/filepath"
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
	b, _, broom, _ := c.tenant("SCB")
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

	// The room's label sheet: its QR code, read back by a real decoder,
	// leads to the device.
	code2, ctype, raw := teacher.raw("GET", "/api/v1/rooms/"+strconv.FormatInt(room, 10)+"/labels", teacher.token)
	if code2 != 200 || ctype != "application/pdf" || !strings.HasPrefix(raw, "%PDF-") {
		t.Fatalf("labels: %d %s %.40q", code2, ctype, raw)
	}
	teacher.must(404, "GET", "/api/v1/rooms/"+strconv.FormatInt(broom, 10)+"/labels", nil)
	urls := decodeQR(t, []byte(raw))
	if len(urls) != 1 || !strings.HasSuffix(urls[0], "/r/"+code) {
		t.Fatalf("the sheet's QR codes say %v, want one ending in /r/%s", urls, code)
	}
	path := urls[0][strings.LastIndex(urls[0], "/r/")+3:]
	if got := teacher.must(200, "GET", "/api/v1/cis/"+path, nil); got["id"] != own["id"] {
		t.Fatalf("the label leads to CI %v, want %v", got["id"], own["id"])
	}
}

// decodeQR renders a PDF with pdftoppm and reads its QR codes with
// zbarimg (Debian's poppler-utils and zbar-tools, which scripts/test
// installs; without them the test skips, except in CI).
func decodeQR(t *testing.T, pdf []byte) []string {
	t.Helper()
	for _, n := range []string{"pdftoppm", "zbarimg"} {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s missing: install poppler-utils and zbar-tools", n)
			}
			t.Skipf("%s missing: install poppler-utils and zbar-tools", n)
		}
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "labels.pdf")
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-r", "200", "-png", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	var urls []string
	for _, p := range pages {
		out, _ := exec.Command("zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", p).Output()
		urls = append(urls, strings.Fields(string(out))...)
	}
	return urls
}
