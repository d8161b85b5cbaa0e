package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/schulit/cmdb/server/api"
)

// TestBadTextInParams: a NUL byte or invalid UTF-8 in a query or path value
// answers 400 naming the parameter before any handler runs (the stores are
// nil here: reaching one would panic), also on the unauthenticated
// sign-on route; clean values pass through.
func TestBadTextInParams(t *testing.T) {
	reached := 0
	oidc := func(w http.ResponseWriter, r *http.Request) { reached++; w.WriteHeader(http.StatusFound) }
	srv := api.New(api.Options{OIDCLogin: oidc, OIDCCallback: oidc})
	for _, tt := range []struct{ method, target, field string }{
		{"GET", "/api/v1/audit?action=a%00b", "action"},
		{"GET", "/api/v1/cis/7/metrics?name=%ff", "name"},
		{"DELETE", "/api/v1/cis/7/locks/own%00er", "attr"},
		{"GET", "/auth/oidc/%00/login", "authority"},
		{"GET", "/auth/oidc/sch%c3ule/callback", "authority"},
		{"GET", "/api/v1/cis?q%ff=1", "query"},
	} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))
		var body api.ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 400 ||
			body.Error.Code != "invalid" || body.Error.Field != tt.field {
			t.Errorf("%s %s: %d %s; want 400 naming %s", tt.method, tt.target, rec.Code, rec.Body, tt.field)
		}
	}
	if reached != 0 {
		t.Fatalf("the sign-on handler ran %d times for bad input", reached)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/auth/oidc/schul%C3%A4mter/login?x=%C3%BC", nil))
	if rec.Code != http.StatusFound || reached != 1 {
		t.Fatalf("clean UTF-8 values: %d, handler ran %d times", rec.Code, reached)
	}
}
