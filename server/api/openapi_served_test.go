package api

import (
	"bytes"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// TestOpenAPIServed: GET /api/v1/openapi.yaml answers the file in the
// source tree, without signing in.
func TestOpenAPIServed(t *testing.T) {
	want, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	New(Options{}).ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.yaml", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/yaml") || !bytes.Equal(rec.Body.Bytes(), want) {
		t.Fatalf("GET /api/v1/openapi.yaml: %d %q, %d bytes; want 200 application/yaml with the %d bytes of openapi.yaml",
			rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len(), len(want))
	}
	rec = httptest.NewRecorder()
	New(Options{}).ServeHTTP(rec, httptest.NewRequest("DELETE", "/api/v1/openapi.yaml", nil))
	if rec.Code != 405 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("DELETE /api/v1/openapi.yaml: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}
