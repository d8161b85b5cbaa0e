package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// formBody is a multipart/form-data request body; accEnv.call and
// client.upload send it as it is.
type formBody struct {
	contentType string
	data        []byte
}

// newForm builds a form with the file (unless name and data are empty)
// and the given text fields.
func newForm(tb testing.TB, name string, data []byte, fields ...string) formBody {
	tb.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := w.WriteField(fields[i], fields[i+1]); err != nil {
			tb.Fatal(err)
		}
	}
	if name != "" || data != nil {
		f, err := w.CreateFormFile("file", name)
		if err != nil {
			tb.Fatal(err)
		}
		f.Write(data)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return formBody{contentType: w.FormDataContentType(), data: b.Bytes()}
}

// testPNG is a real small PNG, padded with zeros to size bytes.
func testPNG(tb testing.TB, size int) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(2, 2, color.RGBA{250, 200, 0, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	if size > b.Len() {
		b.Write(make([]byte, size-b.Len()))
	}
	return b.Bytes()
}

const testPDF = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

// upload sends a form and returns the status, the JSON answer and the
// raw response (for downloads).
func (c *client) upload(method, path string, f *formBody) (int, map[string]any, *http.Response, []byte) {
	c.t.Helper()
	var rd io.Reader
	if f != nil {
		rd = bytes.NewReader(f.data)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if f != nil {
		req.Header.Set("Content-Type", f.contentType)
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out, resp, raw
}

// TestTicketAttachmentsAPI: photos and PDFs go up as multipart forms and
// come down byte for byte, with the type their content shows and headers
// that keep browsers from running them; bad files are refused naming the
// field and the rule, and nothing of them is kept.
func TestTicketAttachmentsAPI(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	auth, _, room, _ := c.tenant("ANH")
	printer := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "room_id": room, "class": "printer",
		"vendor": "Brother", "serial": "ANH-PR-1"}))
	var jam int64
	for _, it := range asSlice(c.must(200, "GET", "/api/v1/ticket-categories?class=printer", nil)["items"]) {
		if m := it.(map[string]any); m["name"] == "Papierstau" {
			jam = id(m)
		}
	}
	tk := c.must(201, "POST", "/api/v1/tickets", map[string]any{"type": "incident", "title": "Drucker zeigt Fehler 75",
		"category_id": jam, "impact": 3, "urgency": 2, "ci_ids": []int64{printer}})
	base := fmt.Sprintf("/api/v1/tickets/%d/attachments", id(tk))

	// A photo whose name says .jpg is stored and served as the PNG it is.
	img := testPNG(t, 0)
	form := newForm(t, "Foto vom Drucker.jpg", img)
	code, out, resp, _ := c.upload("POST", base, &form)
	if code != 201 || out["media_type"] != "image/png" || out["file_name"] != "Foto vom Drucker.png" || out["size"].(float64) != float64(len(img)) {
		t.Fatalf("upload photo: %d %v", code, out)
	}
	photoID := id(out)
	if loc := resp.Header.Get("Location"); loc != fmt.Sprintf("%s/%d", base, photoID) {
		t.Errorf("Location %q", loc)
	}
	sum := sha256.Sum256(img)
	if out["sha256"] != hex.EncodeToString(sum[:]) {
		t.Errorf("sha256 %v", out["sha256"])
	}
	code, _, resp, raw := c.upload("GET", fmt.Sprintf("%s/%d", base, photoID), nil)
	if code != 200 || !bytes.Equal(raw, img) {
		t.Fatalf("download photo: %d, %d bytes (want %d equal)", code, len(raw), len(img))
	}
	for h, want := range map[string]string{
		"Content-Type":            "image/png",
		"Content-Disposition":     `attachment; filename="Foto vom Drucker.png"`,
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "sandbox; default-src 'none'",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("photo %s: %q, want %q", h, got, want)
		}
	}

	// A PDF with a German name, internal, from staff.
	form = newForm(t, "Prüfbericht März.pdf", []byte(testPDF), "internal", "true")
	code, out, _, _ = c.upload("POST", base, &form)
	if code != 201 || out["media_type"] != "application/pdf" || out["internal"] != true {
		t.Fatalf("upload pdf: %d %v", code, out)
	}
	code, _, resp, raw = c.upload("GET", fmt.Sprintf("%s/%d", base, id(out)), nil)
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if code != 200 || string(raw) != testPDF || resp.Header.Get("Content-Type") != "application/pdf" || err != nil ||
		params["filename"] != "Prüfbericht März.pdf" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("download pdf: %d %q %v %v", code, resp.Header, params, err)
	}

	// Refused, naming the field and the rule.
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	zf, _ := zw.Create("virus.exe")
	zf.Write([]byte("MZ"))
	zw.Close()
	big := testPNG(t, 10<<20+1)
	for name, tc := range map[string]struct {
		form          formBody
		code          int
		field, phrase string
	}{
		"zip named .jpg": {newForm(t, "bild.jpg", zb.Bytes()), 400, "file", "must be a photo (JPEG, PNG, WebP, HEIC) or a PDF; this file is a ZIP"},
		"exe named .pdf": {newForm(t, "rechnung.pdf", append([]byte("MZ\x90\x00"), make([]byte, 64)...)), 400, "file", "Windows program"},
		"over 10 MiB":    {newForm(t, "riesig.png", big), 413, "file", "at most 10 MiB"},
		// Refused from its Content-Length, before the body is read.
		"announced as 12 MiB": {newForm(t, "riesig.png", testPNG(t, 12<<20)), 413, "file", "at most 10 MiB"},
		"no file":             {newForm(t, "", nil, "internal", "false"), 400, "file", "is required"},
		"bad internal":        {newForm(t, "a.png", img, "internal", "vielleicht"), 400, "internal", "true or false"},
		"bad comment":         {newForm(t, "a.png", img, "comment_id", "abc"), 400, "comment_id", "comment"},
		"unknown comment":     {newForm(t, "a.png", img, "comment_id", "999999"), 400, "comment_id", "No such comment"},
		"unknown field":       {newForm(t, "a.png", img, "farbe", "rot"), 400, "farbe", "not a known field"},
		"json, not form":      {formBody{"application/json", []byte(`{"file":"x"}`)}, 400, "body", "multipart/form-data"},
	} {
		code, out, _, _ := c.upload("POST", base, &tc.form)
		if e := errOf(out); code != tc.code || e["field"] != tc.field || !strings.Contains(fmt.Sprint(e["message"]), tc.phrase) {
			t.Errorf("%s: %d %v, want %d naming %s with %q", name, code, out, tc.code, tc.field, tc.phrase)
		}
	}
	list := c.must(200, "GET", base, nil)
	if n := list["total"].(float64); n != 2 {
		t.Errorf("%v attachments after the refusals, want 2: %v", n, list)
	}
	if code, _ := c.do("GET", fmt.Sprintf("%s/%d", base, photoID+1000), nil); code != 404 {
		t.Errorf("unknown attachment: %d", code)
	}
	// The upload is in the ticket's history.
	found := false
	for _, h := range asSlice(c.must(200, "GET", fmt.Sprintf("/api/v1/tickets/%d/history", id(tk)), nil)["items"]) {
		if m := h.(map[string]any); m["field"] == "attachment" && strings.HasSuffix(fmt.Sprint(m["new"]), "Foto vom Drucker.png") {
			found = true
		}
	}
	if !found {
		t.Error("the upload is not in the ticket's history")
	}
}

// ticketAttachment returns an attachment of the tenant's ticket, made by
// the admin the first time it is asked for.
func (x *accEnv) ticketAttachment(tn *accTenant) int64 {
	x.t.Helper()
	p := fmt.Sprintf("/api/v1/tickets/%d/attachments", tn.ticket)
	if items := asSlice(x.must(200, "GET", p, nil)["items"]); len(items) > 0 {
		return id(items[0].(map[string]any))
	}
	return id(x.must(201, "POST", p, newForm(x.t, "foto.png", testPNG(x.t, 0))))
}
