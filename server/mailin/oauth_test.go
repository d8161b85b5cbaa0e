package mailin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
)

func TestClientCredentialsTokenSignsIn(t *testing.T) {
	t.Parallel()
	const clientSecret = "entra-client-secret-123"
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if err := r.ParseForm(); err != nil || !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		if id != "app-1" || secret != clientSecret || r.PostForm.Get("scope") != MicrosoftIMAPScope {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			// A careless endpoint echoes what it got.
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": "bad secret " + secret})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": testToken, "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(tokens.Close)

	srv := startServer(t, serverOpts{implicitTLS: true, xoauth2: true, rev1Only: true})
	srv.appendMail(t, readFixture(t, "plain.eml"))
	cfg := srv.config()
	cfg.Security, cfg.Auth, cfg.Password = SecurityTLS, AuthXOAUTH2, ""
	ts, err := ClientCredentialsTokenSource(context.Background(), tokens.URL, "app-1", cmdb.Secret(clientSecret), MicrosoftIMAPScope)
	if err != nil {
		t.Fatal(err)
	}
	cfg.TokenSource = ts
	p, err := NewPoller(cfg, &recorder{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := p.Poll(context.Background()); err != nil || st != (Stats{Processed: 1}) {
		t.Fatalf("poll = %+v, %v", st, err)
	}

	const wrong = "wrong-secret-456"
	cfg.TokenSource, _ = ClientCredentialsTokenSource(context.Background(), tokens.URL, "app-1", cmdb.Secret(wrong), MicrosoftIMAPScope)
	p, _ = NewPoller(cfg, &recorder{}, nil)
	_, err = p.Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "invalid_client") || strings.Contains(err.Error(), wrong) {
		t.Errorf("poll with a wrong client secret = %v, want invalid_client without the secret", err)
	}
	if _, err := ClientCredentialsTokenSource(context.Background(), tokens.URL, "", cmdb.Secret(wrong)); cmdb.ErrorField(err) != "client_id" {
		t.Errorf("missing client id: %v", err)
	}
}
