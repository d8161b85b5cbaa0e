package oidc_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schulit/cmdb/internal/syncbuf"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/oidc"
	"github.com/schulit/cmdb/server/oidc/oidctest"
	"golang.org/x/oauth2"
)

const (
	clientID     = "cmdb-client"
	clientSecret = "s3cr3t-Client-Value-9f8e7d"
	sessionToken = "session-token-abc123"
)

// fakeStore is an in-memory Store that records sign-ins.
type fakeStore struct {
	mu      sync.Mutex
	configs map[string]*cmdb.OIDCConfig
	got     []cmdb.ExternalIdentity
	meta    []cmdb.RequestMeta
}

func (s *fakeStore) FindOIDCConfig(ctx context.Context, code string) (*cmdb.OIDCConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.configs[code]
	if !ok {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "authority %q has no OIDC config", code)
	}
	cp := *c
	return &cp, nil
}

func (s *fakeStore) SignInExternal(ctx context.Context, id cmdb.ExternalIdentity, meta cmdb.RequestMeta) (*cmdb.User, cmdb.Secret, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, id)
	s.meta = append(s.meta, meta)
	return &cmdb.User{ID: 7, Email: id.Email, Name: id.Name, Memberships: id.Memberships}, sessionToken, nil
}

func (s *fakeStore) signIns() []cmdb.ExternalIdentity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]cmdb.ExternalIdentity(nil), s.got...)
}

type env struct {
	t        *testing.T
	idp      *oidctest.Provider
	store    *fakeStore
	srv      *httptest.Server
	logs     *syncbuf.Buffer
	mu       sync.Mutex
	seen     []string // every response body and Location header
	sessions []string // session cookie values handed out
	codes    []string // authorization codes handed out
}

var rules = []cmdb.ClaimRule{
	{Claim: "groups", Value: "it-team", Role: cmdb.RoleSchoolIT, OrgID: 11},
	{Claim: "groups", Value: "teachers", Role: cmdb.RoleTeacher, OrgID: 11},
	{Claim: "dept", Value: "authority-it", Role: cmdb.RoleAuthorityIT, OrgID: 3},
}

func newEnv(t *testing.T, opts ...func(*oidc.Options)) *env {
	t.Helper()
	e := &env{t: t, idp: oidctest.New(t, clientID, clientSecret), logs: &syncbuf.Buffer{}}
	e.store = &fakeStore{configs: map[string]*cmdb.OIDCConfig{
		"schule": {AuthorityID: 3, Issuer: e.idp.URL, ClientID: clientID, ClientSecret: clientSecret,
			Scopes: []string{"groups"}, Rules: rules},
		"wrongsecret": {AuthorityID: 4, Issuer: e.idp.URL, ClientID: clientID, ClientSecret: "other-" + clientSecret,
			Rules: rules},
	}}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	// The provider runs on loopback: allowed here, refused by default.
	o := oidc.Options{Store: e.store, BaseURL: e.srv.URL, SessionCookie: "cmdb_session", AllowPrivateIssuers: true,
		SessionMaxAge: 12 * time.Hour, Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, f := range opts {
		f(&o)
	}
	h := oidc.New(o)
	mux.HandleFunc("GET /auth/oidc/{authority}/login", h.Login)
	mux.HandleFunc("GET /auth/oidc/{authority}/callback", h.Callback)
	t.Cleanup(e.checkNoSecrets)
	return e
}

// checkNoSecrets asserts that the client secret, the codes and tokens
// appear in no response and no log line.
func (e *env) checkNoSecrets() {
	e.mu.Lock()
	defer e.mu.Unlock()
	logs := e.logs.String()
	secrets := append([]string{clientSecret, "other-" + clientSecret}, e.sessions...)
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			e.t.Errorf("a secret appears in the log:\n%s", logs)
		}
	}
	for _, s := range []string{clientSecret, url.QueryEscape(clientSecret)} {
		for _, body := range e.seen {
			if strings.Contains(body, s) {
				e.t.Errorf("the client secret appears in a response: %s", body)
			}
		}
	}
	for _, code := range e.codes {
		if strings.Contains(logs, code) {
			e.t.Errorf("an authorization code appears in the log:\n%s", logs)
		}
	}
}

// client returns a browser: a cookie jar, redirects not followed.
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type result struct {
	resp *http.Response
	body string
}

func (e *env) get(c *http.Client, u string) result {
	e.t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	e.mu.Lock()
	e.seen = append(e.seen, string(b), resp.Header.Get("Location"))
	if l, err := resp.Location(); err == nil && l.Query().Get("code") != "" {
		e.codes = append(e.codes, l.Query().Get("code"))
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "cmdb_session" {
			e.sessions = append(e.sessions, ck.Value)
		}
	}
	e.mu.Unlock()
	return result{resp, string(b)}
}

func location(t *testing.T, r result, base string) string {
	t.Helper()
	l, err := r.resp.Location()
	if err != nil {
		t.Fatalf("status %d, no Location: %s", r.resp.StatusCode, r.body)
	}
	if base != "" && !strings.HasPrefix(l.String(), base) {
		t.Fatalf("redirect to %s, want under %s", l, base)
	}
	return l.String()
}

// begin runs login and the provider's authorize step, returning the
// callback URL. edit, if set, may change the authorize URL first.
func (e *env) begin(c *http.Client, authority string, edit func(url.Values)) string {
	e.t.Helper()
	login := e.get(c, e.srv.URL+"/auth/oidc/"+authority+"/login")
	if login.resp.StatusCode != http.StatusFound {
		e.t.Fatalf("login: status %d: %s", login.resp.StatusCode, login.body)
	}
	authz, _ := url.Parse(location(e.t, login, e.idp.URL+"/authorize?"))
	if edit != nil {
		q := authz.Query()
		edit(q)
		authz.RawQuery = q.Encode()
	}
	back := e.get(c, authz.String())
	if back.resp.StatusCode != http.StatusFound {
		e.t.Fatalf("authorize: status %d: %s", back.resp.StatusCode, back.body)
	}
	return location(e.t, back, e.srv.URL+"/auth/oidc/"+authority+"/callback?")
}

func cookie(r result, name string) *http.Cookie {
	for _, c := range r.resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func wantError(t *testing.T, r result, status int, code string) {
	t.Helper()
	if r.resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", r.resp.StatusCode, status, r.body)
	}
	var b struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(r.body), &b); err != nil || b.Error.Code != code || b.Error.Message == "" {
		t.Fatalf("body %q, want error code %q", r.body, code)
	}
	if c := cookie(r, "cmdb_session"); c != nil {
		t.Errorf("session cookie set on failure")
	}
}

var alice = map[string]any{"sub": "alice-42", "email": "alice@schule.de", "email_verified": true,
	"name": "Alice Lehrerin", "groups": []string{"teachers", "it-team"}}

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	e.idp.SetNextUser(alice)
	c := e.client()

	login := e.get(c, e.srv.URL+"/auth/oidc/schule/login")
	lc := cookie(login, "cmdb_oidc_login")
	if lc == nil || !lc.HttpOnly || lc.SameSite != http.SameSiteLaxMode || lc.Path != "/auth/oidc/schule/callback" ||
		lc.MaxAge <= 0 || lc.MaxAge > 600 {
		t.Fatalf("login cookie %+v", lc)
	}
	authz, _ := url.Parse(location(t, login, e.idp.URL+"/authorize?"))
	q := authz.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("state") == "" || q.Get("nonce") == "" ||
		q.Get("scope") != "openid email profile groups" || q.Get("client_id") != clientID ||
		q.Get("redirect_uri") != e.srv.URL+"/auth/oidc/schule/callback" || strings.Contains(q.Get("state"), lc.Value) {
		t.Fatalf("authorize query %v", q)
	}
	back := e.get(c, authz.String())
	if got := e.idp.LastAuthorize(); got.Get("code_challenge") != q.Get("code_challenge") {
		t.Fatalf("provider saw %v", got)
	}
	cb := e.get(c, location(t, back, e.srv.URL+"/auth/oidc/schule/callback?"))
	if cb.resp.StatusCode != http.StatusSeeOther || location(t, cb, "") != e.srv.URL+"/" {
		t.Fatalf("callback: %d %s", cb.resp.StatusCode, cb.body)
	}
	sc := cookie(cb, "cmdb_session")
	if sc == nil || sc.Value != sessionToken || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" ||
		sc.MaxAge != 12*3600 || sc.Secure {
		t.Fatalf("session cookie %+v", sc)
	}
	if lc := cookie(cb, "cmdb_oidc_login"); lc == nil || lc.MaxAge >= 0 {
		t.Errorf("login cookie not cleared: %+v", lc)
	}
	got := e.store.signIns()
	if len(got) != 1 {
		t.Fatalf("%d sign-ins", len(got))
	}
	want := cmdb.ExternalIdentity{AuthorityID: 3, Issuer: e.idp.URL, Subject: "alice-42", Email: "alice@schule.de",
		EmailVerified: true, Name: "Alice Lehrerin", Memberships: []cmdb.Membership{
			{Role: cmdb.RoleSchoolIT, OrgKind: cmdb.OrgSchool, OrgID: 11, Source: e.idp.URL},
			{Role: cmdb.RoleTeacher, OrgKind: cmdb.OrgSchool, OrgID: 11, Source: e.idp.URL}}}
	if !reflect.DeepEqual(got[0], want) {
		t.Fatalf("identity\n got %+v\nwant %+v", got[0], want)
	}
	if m := e.store.meta[0]; m.IP != "127.0.0.1" || m.UserAgent == "" {
		t.Errorf("meta %+v", m)
	}

	// The login cookie was good for one try: replaying the callback fails.
	replay := e.get(c, location(t, back, ""))
	wantError(t, replay, http.StatusUnauthorized, cmdb.EUNAUTHORIZED)
}

// TestSignInReturnsToNext: a sign-in started from a page (the report
// form whose session ended) returns there; a path of another site does
// not count.
func TestSignInReturnsToNext(t *testing.T) {
	for next, want := range map[string]string{
		"/melden/geraet/7?entwurf=1": "/melden/geraet/7?entwurf=1",
		"//evil.example/":            "/",
		"https://evil.example/":      "/",
	} {
		e := newEnv(t)
		e.idp.SetNextUser(alice)
		c := e.client()
		login := e.get(c, e.srv.URL+"/auth/oidc/schule/login?next="+url.QueryEscape(next))
		back := e.get(c, location(t, login, e.idp.URL+"/authorize?"))
		cb := e.get(c, location(t, back, e.srv.URL+"/auth/oidc/schule/callback?"))
		if cb.resp.StatusCode != http.StatusSeeOther || location(t, cb, "") != e.srv.URL+want {
			t.Errorf("next %q: callback %d to %s, want %s", next, cb.resp.StatusCode, cb.resp.Header.Get("Location"), want)
		}
	}
}

func TestRefused(t *testing.T) {
	otherVerifier := oauth2.GenerateVerifier()
	for _, tc := range []struct {
		name   string
		reason string // as logged
		tamper string
		user   map[string]any
		auth   string
		edit   func(url.Values)                      // changes the authorize request
		cb     func(e *env, u string) (string, bool) // changes the callback URL; true: fresh browser
		status int
		code   string
	}{
		{name: "wrong audience", reason: "id token verification", tamper: oidctest.TamperAudience},
		{name: "expired", reason: "id token verification", tamper: oidctest.TamperExpired},
		{name: "wrong issuer", reason: "id token verification", tamper: oidctest.TamperIssuer},
		{name: "bad signature", reason: "id token verification", tamper: oidctest.TamperSignature},
		{name: "wrong nonce", reason: "nonce mismatch", tamper: oidctest.TamperNonce},
		{name: "wrong client secret", reason: "code exchange", auth: "wrongsecret"},
		{name: "PKCE verifier wrong", reason: "code exchange", edit: func(q url.Values) {
			q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(otherVerifier))
		}},
		{name: "wrong state", reason: "state mismatch", cb: func(e *env, u string) (string, bool) {
			p, _ := url.Parse(u)
			q := p.Query()
			q.Set("state", "forged")
			p.RawQuery = q.Encode()
			return p.String(), false
		}},
		{name: "missing state", reason: "state mismatch", cb: func(e *env, u string) (string, bool) {
			p, _ := url.Parse(u)
			q := p.Query()
			q.Del("state")
			p.RawQuery = q.Encode()
			return p.String(), false
		}},
		{name: "no login cookie", reason: "no sign-in in progress", cb: func(e *env, u string) (string, bool) { return u, true }},
		{name: "provider error", reason: "provider answered an error", cb: func(e *env, u string) (string, bool) {
			p, _ := url.Parse(u)
			p.RawQuery = url.Values{"error": {"access_denied"}, "state": {p.Query().Get("state")}}.Encode()
			return p.String(), false
		}},
		{name: "no matching rule", reason: "no claim rule matched", user: map[string]any{"sub": "bob", "email": "bob@schule.de", "groups": []any{"pupils"}},
			status: http.StatusForbidden, code: cmdb.EFORBIDDEN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.idp.SetNextUser(alice)
			if tc.user != nil {
				e.idp.SetNextUser(tc.user)
			}
			e.idp.Tamper(tc.tamper)
			if tc.auth == "" {
				tc.auth = "schule"
			}
			if tc.status == 0 {
				tc.status, tc.code = http.StatusUnauthorized, cmdb.EUNAUTHORIZED
			}
			c := e.client()
			u := e.begin(c, tc.auth, tc.edit)
			if tc.cb != nil {
				var fresh bool
				if u, fresh = tc.cb(e, u); fresh {
					c = e.client()
				}
			}
			r := e.get(c, u)
			wantError(t, r, tc.status, tc.code)
			if !strings.Contains(e.logs.String(), `reason="`+tc.reason+`"`) {
				t.Errorf("refused for another reason than %q:\n%s", tc.reason, e.logs.String())
			}
			if lc := cookie(r, "cmdb_oidc_login"); lc == nil || lc.MaxAge >= 0 {
				t.Errorf("login cookie not cleared: %+v", lc)
			}
			if n := len(e.store.signIns()); n != 0 {
				t.Errorf("store got %d sign-ins", n)
			}
			if strings.Contains(r.body, "oidc:") {
				t.Errorf("body reveals detail: %s", r.body)
			}
		})
	}
}

func TestSignInExpires(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, func(o *oidc.Options) { o.Now = clock })
	e.idp.SetNextUser(alice)
	c := e.client()
	u := e.begin(c, "schule", nil)
	mu.Lock()
	now = now.Add(11 * time.Minute)
	mu.Unlock()
	wantError(t, e.get(c, u), http.StatusUnauthorized, cmdb.EUNAUTHORIZED)
	if !strings.Contains(e.logs.String(), `reason="no sign-in in progress"`) {
		t.Errorf("log: %s", e.logs.String())
	}
}

func TestUnknownAuthority(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	r := e.get(c, e.srv.URL+"/auth/oidc/nope/login")
	if r.resp.StatusCode != http.StatusNotFound || cookie(r, "cmdb_oidc_login") != nil {
		t.Fatalf("status %d, body %s", r.resp.StatusCode, r.body)
	}
	wantError(t, r, http.StatusNotFound, cmdb.ENOTFOUND)
	// A callback for an authority whose login cookie it does not have.
	u := e.begin(c, "schule", nil)
	u = strings.Replace(u, "/schule/", "/nope/", 1)
	wantError(t, e.get(c, u), http.StatusUnauthorized, cmdb.EUNAUTHORIZED)
}

func TestMapClaims(t *testing.T) {
	const iss = "https://idp.example"
	m := func(role string, org int64) cmdb.Membership {
		return cmdb.Membership{Role: role, OrgKind: cmdb.RoleOrgKind(role), OrgID: org, Source: iss}
	}
	for _, tc := range []struct {
		name   string
		rules  []cmdb.ClaimRule
		claims map[string]any
		want   []cmdb.Membership
	}{
		{"string claim", []cmdb.ClaimRule{{Claim: "role", Value: "lehrer", Role: cmdb.RoleTeacher, OrgID: 5}},
			map[string]any{"role": "lehrer"}, []cmdb.Membership{m(cmdb.RoleTeacher, 5)}},
		{"string claim differs", []cmdb.ClaimRule{{Claim: "role", Value: "lehrer", Role: cmdb.RoleTeacher, OrgID: 5}},
			map[string]any{"role": "Lehrer"}, nil},
		{"array claim", []cmdb.ClaimRule{{Claim: "groups", Value: "it", Role: cmdb.RoleSchoolIT, OrgID: 5}},
			map[string]any{"groups": []any{"staff", "it"}}, []cmdb.Membership{m(cmdb.RoleSchoolIT, 5)}},
		{"no match", []cmdb.ClaimRule{{Claim: "groups", Value: "it", Role: cmdb.RoleSchoolIT, OrgID: 5}},
			map[string]any{"groups": []any{"staff"}, "it": "groups"}, nil},
		{"missing claim", []cmdb.ClaimRule{{Claim: "groups", Value: "it", Role: cmdb.RoleSchoolIT, OrgID: 5}},
			map[string]any{}, nil},
		{"non-string claim", []cmdb.ClaimRule{{Claim: "n", Value: "1", Role: cmdb.RoleSchoolIT, OrgID: 5}},
			map[string]any{"n": 1.0}, nil},
		{"several rules", []cmdb.ClaimRule{
			{Claim: "groups", Value: "it", Role: cmdb.RoleSchoolIT, OrgID: 5},
			{Claim: "groups", Value: "staff", Role: cmdb.RoleTeacher, OrgID: 6},
			{Claim: "dept", Value: "central", Role: cmdb.RoleAuthorityIT, OrgID: 1},
			{Claim: "groups", Value: "nope", Role: cmdb.RoleTeacher, OrgID: 7},
			{Claim: "dept", Value: "central", Role: cmdb.RoleSchoolIT, OrgID: 5}, // duplicate grant
		}, map[string]any{"groups": []any{"staff", "it"}, "dept": "central"},
			[]cmdb.Membership{m(cmdb.RoleSchoolIT, 5), m(cmdb.RoleTeacher, 6), m(cmdb.RoleAuthorityIT, 1)}},
		{"admin and unknown roles never granted", []cmdb.ClaimRule{
			{Claim: "groups", Value: "it", Role: cmdb.RoleAdmin},
			{Claim: "groups", Value: "it", Role: "superuser", OrgID: 5},
		}, map[string]any{"groups": []any{"it"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := oidc.MapClaims(tc.rules, iss, tc.claims); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
