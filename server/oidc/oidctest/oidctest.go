// Package oidctest is an OpenID provider for tests, served on loopback by
// an httptest.Server. It has no login page: /authorize sends the browser
// straight back with a code for the identity set by SetNextUser.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Tamper modes.
const (
	TamperNone      = ""
	TamperAudience  = "audience"  // aud is another client
	TamperExpired   = "expired"   // exp is in the past
	TamperIssuer    = "issuer"    // iss is another issuer
	TamperSignature = "signature" // signed with a key not in the JWKS (same kid)
	TamperNonce     = "nonce"     // nonce is not the one asked for
)

const keyID = "test-key-1"

// Provider is an OpenID provider for tests. URL is its issuer.
type Provider struct {
	URL string

	srv          *httptest.Server
	clientID     string
	clientSecret string
	key, other   *rsa.PrivateKey

	mu     sync.Mutex
	user   map[string]any
	tamper string
	grants map[string]*grant
	last   url.Values
}

// grant is an issued authorization code.
type grant struct {
	redirectURI, nonce, challenge string
	claims                        map[string]any
	expires                       time.Time
}

// New starts a provider for one client; t.Cleanup closes it.
func New(t testing.TB, clientID, clientSecret string) *Provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{clientID: clientID, clientSecret: clientSecret, key: key, other: other,
		grants: map[string]*grant{}, user: map[string]any{"sub": "user-1"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	p.URL = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

// SetNextUser sets the claims (sub, email, email_verified, name and any
// extra ones such as "groups") of the ID tokens issued for codes handed
// out from now on. iss, aud, exp, iat and nonce are set by the provider.
func (p *Provider) SetNextUser(claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user = maps.Clone(claims)
}

// Tamper makes the next ID token the token endpoint issues bad in the way
// named by mode (see the Tamper constants); it applies to one token.
func (p *Provider) Tamper(mode string) {
	switch mode {
	case TamperNone, TamperAudience, TamperExpired, TamperIssuer, TamperSignature, TamperNonce:
	default:
		panic("oidctest: unknown tamper mode " + mode)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper = mode
}

// LastAuthorize returns the query of the last /authorize request.
func (p *Provider) LastAuthorize() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + "/authorize",
		"token_endpoint":                        p.URL + "/token",
		"jwks_uri":                              p.URL + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &p.key.PublicKey, KeyID: keyID, Algorithm: string(jose.RS256), Use: "sig"}}})
}

// authorize hands out a code at once, as if the user had signed in.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.last = q
	p.mu.Unlock()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case q.Get("client_id") != p.clientID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case err != nil || !redirect.IsAbs():
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		http.Error(w, "PKCE with S256 is required", http.StatusBadRequest)
		return
	}
	code := randomString()
	p.mu.Lock()
	p.grants[code] = &grant{redirectURI: redirect.String(), nonce: q.Get("nonce"), challenge: q.Get("code_challenge"),
		claims: maps.Clone(p.user), expires: time.Now().Add(time.Minute)}
	p.mu.Unlock()
	back := redirect.Query()
	back.Set("code", code)
	if s := q.Get("state"); s != "" {
		back.Set("state", s)
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// token exchanges a code for an ID token and an access token.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.clientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.clientSecret)) != 1 {
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	p.mu.Lock()
	g := p.grants[r.PostForm.Get("code")]
	delete(p.grants, r.PostForm.Get("code"))
	tamper := p.tamper
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if g == nil || time.Now().After(g.expires) || g.redirectURI != r.PostForm.Get("redirect_uri") ||
		subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.challenge)) != 1 {
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	p.mu.Lock()
	p.tamper = TamperNone
	p.mu.Unlock()

	now := time.Now()
	claims := maps.Clone(g.claims)
	if claims == nil {
		claims = map[string]any{}
	}
	claims["iss"], claims["aud"] = p.URL, p.clientID
	claims["iat"], claims["exp"] = now.Unix(), now.Add(5*time.Minute).Unix()
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	key := p.key
	switch tamper {
	case TamperAudience:
		claims["aud"] = "another-client"
	case TamperExpired:
		claims["iat"], claims["exp"] = now.Add(-20*time.Minute).Unix(), now.Add(-10*time.Minute).Unix()
	case TamperIssuer:
		claims["iss"] = p.URL + "/other"
	case TamperSignature:
		key = p.other
	case TamperNonce:
		claims["nonce"] = "not-the-nonce"
	}
	idToken, err := sign(key, claims)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"access_token": randomString(), "token_type": "Bearer",
		"expires_in": 300, "id_token": idToken})
}

func sign(key *rsa.PrivateKey, claims map[string]any) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: keyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func tokenError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func randomString() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
