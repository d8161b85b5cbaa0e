package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/schulit/cmdb/internal/syncbuf"
	"github.com/schulit/cmdb/server/oidc/oidctest"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// authServer is a server with an admin client, the raw database and a
// recorder of every response body, for the tests of accounts.
type authServer struct {
	*client
	db     *sql.DB
	logs   *syncbuf.Buffer
	bodies *syncbuf.Buffer
}

func startAuthServer(t *testing.T, serveFlags ...string) *authServer {
	t.Helper()
	url := postgrestest.NewDatabase(t)
	_, out, _ := runMain(t, "token", "create", "--admin", "--db", url)
	m, _, logs := runMain(t, append([]string{"serve", "--listen", "127.0.0.1:0", "--db", url, "--log-level", "debug", "--log-format", "json"}, serveFlags...)...)
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &authServer{client: &client{t: t, base: "http://" + m.Addr(), token: strings.TrimSpace(out)}, db: db, logs: logs, bodies: &syncbuf.Buffer{}}
}

// raw sends a request with extra headers and returns the response and body.
func (a *authServer) raw(method, path, body string, hdr map[string]string) (*http.Response, string) {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !(method == "POST" && path == "/api/v1/tokens") { // the one answer that shows a secret, once
		a.bodies.Write(b)
	}
	return resp, string(b)
}

func sessionCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == "cmdb_session" && c.Value != "" {
			return c
		}
	}
	t.Fatalf("no session cookie in %v", resp.Header.Values("Set-Cookie"))
	return nil
}

func (a *authServer) login(email, password string, hdr map[string]string) (*http.Response, string) {
	return a.raw("POST", "/auth/login", fmt.Sprintf(`{"email": %q, "password": %q}`, email, password), hdr)
}

const goodPassword = "Kreide-Tafel-2026!"

// TestPasswordSignIn covers the account life: creation rules, sign-in,
// cookie flags, no user enumeration, session fixation, sign-out.
func TestPasswordSignIn(t *testing.T) {
	t.Parallel()
	a := startAuthServer(t)
	auth, school, _, _ := a.tenant("PW")
	_, otherSchool, _, _ := a.tenant("PX")
	user := a.must(201, "POST", "/api/v1/users", map[string]any{"email": "Lehrerin@Schule.de", "name": "Frau Berg", "password": goodPassword,
		"memberships": []map[string]any{{"role": "school_it", "org_id": school}}})
	if user["email"] != "lehrerin@schule.de" || user["has_password"] != true {
		t.Fatalf("user = %v", user)
	}
	// An authority IT user of PW may create users in PW, not in PX.
	a.must(201, "POST", "/api/v1/users", map[string]any{"email": "it@pw.de", "password": goodPassword,
		"memberships": []map[string]any{{"role": "authority_it", "org_id": auth}}})
	resp, _ := a.login("it@pw.de", goodPassword, nil)
	itCookie := sessionCookie(t, resp)

	for _, tt := range []struct {
		name   string
		body   map[string]any
		status int
		field  string
	}{
		{"weak password", map[string]any{"email": "a@pw.de", "password": "kurz", "memberships": []map[string]any{{"role": "teacher", "org_id": school}}}, 400, "password"},
		{"common password", map[string]any{"email": "b@pw.de", "password": "Password1234", "memberships": []map[string]any{{"role": "teacher", "org_id": school}}}, 400, "password"},
		{"unknown role", map[string]any{"email": "c@pw.de", "memberships": []map[string]any{{"role": "hausmeister", "org_id": school}}}, 400, "memberships[0].role"},
		{"other authority", map[string]any{"email": "d@pw.de", "memberships": []map[string]any{{"role": "teacher", "org_id": otherSchool}}}, 400, "memberships[0].org_id"},
		{"duplicate e-mail", map[string]any{"email": "LEHRERIN@schule.de", "memberships": []map[string]any{{"role": "teacher", "org_id": school}}}, 409, "email"},
		{"bad e-mail", map[string]any{"email": "nobody", "memberships": []map[string]any{{"role": "teacher", "org_id": school}}}, 400, "email"},
		{"admin role", map[string]any{"email": "e@pw.de", "memberships": []map[string]any{{"role": "admin"}}}, 403, "memberships[0].role"},
	} {
		resp, body := a.raw("POST", "/api/v1/users", string(mustJSON(tt.body)), map[string]string{"Cookie": "cmdb_session=" + itCookie.Value})
		if resp.StatusCode != tt.status || !strings.Contains(body, `"field":"`+tt.field+`"`) {
			t.Errorf("%s: %d %s; want %d naming %s", tt.name, resp.StatusCode, body, tt.status, tt.field)
		}
	}
	var n int
	a.db.QueryRow(`SELECT count(*) FROM users`).Scan(&n)
	if n != 2 {
		t.Fatalf("users after bad input = %d, want 2 (nothing half-written)", n)
	}

	// Wrong password and unknown user answer alike.
	r1, b1 := a.login("lehrerin@schule.de", "wrong password!", nil)
	r2, b2 := a.login("niemand@schule.de", "wrong password!", nil)
	if r1.StatusCode != 401 || r2.StatusCode != 401 || b1 != b2 {
		t.Fatalf("enumeration: %d %s / %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}

	// Session fixation: a planted cookie is never taken over.
	planted := "cmdbs_planted-by-an-attacker"
	resp, _ = a.login("lehrerin@schule.de", goodPassword, map[string]string{"Cookie": "cmdb_session=" + planted})
	c := sessionCookie(t, resp)
	if c.Value == planted || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie = %+v", c)
	}
	if r, _ := a.raw("GET", "/auth/me", "", map[string]string{"Cookie": "cmdb_session=" + planted}); r.StatusCode != 401 {
		t.Fatalf("planted cookie: %d", r.StatusCode)
	}
	r, me := a.raw("GET", "/auth/me", "", map[string]string{"Cookie": "cmdb_session=" + c.Value})
	if r.StatusCode != 200 || !strings.Contains(me, `"schools":[`+fmt.Sprint(school)+`]`) {
		t.Fatalf("me: %d %s", r.StatusCode, me)
	}
	// Signing in again with a valid session replaces it.
	resp, _ = a.login("lehrerin@schule.de", goodPassword, map[string]string{"Cookie": "cmdb_session=" + c.Value})
	c2 := sessionCookie(t, resp)
	if r, _ := a.raw("GET", "/auth/me", "", map[string]string{"Cookie": "cmdb_session=" + c.Value}); r.StatusCode != 401 {
		t.Fatalf("old session after a new sign-in: %d", r.StatusCode)
	}
	// A third session; sign-out everywhere ends both.
	resp, _ = a.login("lehrerin@schule.de", goodPassword, nil)
	c3 := sessionCookie(t, resp)
	if r, _ := a.raw("POST", "/auth/logout-everywhere", "", map[string]string{"Cookie": "cmdb_session=" + c2.Value}); r.StatusCode != 204 {
		t.Fatalf("logout everywhere: %d", r.StatusCode)
	}
	for _, v := range []string{c2.Value, c3.Value} {
		if r, _ := a.raw("GET", "/auth/me", "", map[string]string{"Cookie": "cmdb_session=" + v}); r.StatusCode != 401 {
			t.Fatalf("session after sign-out everywhere: %d", r.StatusCode)
		}
	}
	// Plain sign-out ends one session.
	resp, _ = a.login("lehrerin@schule.de", goodPassword, nil)
	c4 := sessionCookie(t, resp)
	a.raw("POST", "/auth/logout", "", map[string]string{"Cookie": "cmdb_session=" + c4.Value})
	if r, _ := a.raw("GET", "/auth/me", "", map[string]string{"Cookie": "cmdb_session=" + c4.Value}); r.StatusCode != 401 {
		t.Fatalf("session after sign-out: %d", r.StatusCode)
	}
	assertNoSecrets(t, a, goodPassword, c.Value, c2.Value, c3.Value, a.token)
}

// TestCSRF: a state-changing request that carries the session cookie from
// another site is refused; the same from our own pages passes.
func TestCSRF(t *testing.T) {
	t.Parallel()
	a := startAuthServer(t)
	auth, school, _, _ := a.tenant("CS")
	a.must(201, "POST", "/api/v1/users", map[string]any{"email": "it@cs.de", "password": goodPassword,
		"memberships": []map[string]any{{"role": "authority_it", "org_id": auth}}})
	resp, _ := a.login("it@cs.de", goodPassword, nil)
	cookie := "cmdb_session=" + sessionCookie(t, resp).Value
	body := fmt.Sprintf(`{"authority_id": %d, "school_id": %d, "class": "projector", "serial": "EP1"}`, auth, school)
	for _, hdr := range []map[string]string{
		{"Cookie": cookie, "Sec-Fetch-Site": "cross-site"},
		{"Cookie": cookie, "Origin": "https://evil.example"},
	} {
		if r, b := a.raw("POST", "/api/v1/cis", body, hdr); r.StatusCode != 403 {
			t.Fatalf("cross-site POST with %v: %d %s", hdr, r.StatusCode, b)
		}
	}
	if r, b := a.raw("POST", "/api/v1/cis", body, map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "same-origin"}); r.StatusCode != 201 {
		t.Fatalf("same-origin POST: %d %s", r.StatusCode, b)
	}
	if l := a.must(200, "GET", fmt.Sprintf("/api/v1/cis?authority=%d", auth), nil); l["total"].(float64) != 1 {
		t.Fatalf("CIs = %v, want only the same-origin one", l["total"])
	}
}

// TestTokens: personal and integration tokens, shown once, scoped,
// revocable, expiring; malformed ones refused.
func TestTokens(t *testing.T) {
	t.Parallel()
	a := startAuthServer(t)
	auth, school, _, _ := a.tenant("TK")
	a.must(201, "POST", "/api/v1/users", map[string]any{"email": "it@tk.de", "password": goodPassword,
		"memberships": []map[string]any{{"role": "school_it", "org_id": school}}})
	resp, _ := a.login("it@tk.de", goodPassword, nil)
	cookie := map[string]string{"Cookie": "cmdb_session=" + sessionCookie(t, resp).Value}

	r, body := a.raw("POST", "/api/v1/tokens", fmt.Sprintf(`{"name": "laptop script", "role": "school_it", "org_id": %d}`, school), cookie)
	if r.StatusCode != 201 || !strings.Contains(body, `"token":"cmdb_`) {
		t.Fatalf("create token: %d %s", r.StatusCode, body)
	}
	var tok string
	fmt.Sscanf(body[strings.Index(body, `"token":"`)+9:], "%s", &tok)
	tok = strings.TrimRight(tok, `"}`)
	user := &client{t: t, base: a.base, token: tok}
	if l := user.must(200, "GET", "/api/v1/tokens", nil); l["total"].(float64) != 1 || strings.Contains(fmt.Sprint(l), tok) {
		t.Fatalf("token list: %v", l)
	}
	// The token sees the school, not the authority's other business.
	user.must(200, "GET", fmt.Sprintf("/api/v1/schools/%d", school), nil)
	user.must(403, "GET", "/api/v1/audit", nil)

	for _, tt := range []struct{ name, body, field string }{
		{"role not held", fmt.Sprintf(`{"name": "x", "role": "authority_it", "org_id": %d}`, auth), "role"},
		{"expired at birth", fmt.Sprintf(`{"name": "x", "role": "school_it", "org_id": %d, "expires_at": "2020-01-01T00:00:00Z"}`, school), "expires_at"},
		{"unknown role", fmt.Sprintf(`{"name": "x", "role": "superuser", "org_id": %d}`, school), "role"},
	} {
		if r, b := a.raw("POST", "/api/v1/tokens", tt.body, cookie); r.StatusCode/100 != 4 || !strings.Contains(b, `"field":"`+tt.field+`"`) {
			t.Errorf("%s: %d %s", tt.name, r.StatusCode, b)
		}
	}
	// An admin-made integration token for the authority.
	integ := a.must(201, "POST", "/api/v1/tokens", map[string]any{"name": "Schulamt-Sync", "role": "authority_it", "org_id": auth, "integration": true})
	itok := integ["token"].(string)
	(&client{t: t, base: a.base, token: itok}).must(200, "GET", "/api/v1/audit", nil)

	// Revoked: refused at once.
	a.must(204, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", id(integ)), nil)
	(&client{t: t, base: a.base, token: itok}).must(401, "GET", "/api/v1/cis", nil)
	// Expired: refused.
	if _, err := a.db.Exec(`UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE name = 'laptop script'`); err != nil {
		t.Fatal(err)
	}
	user.must(401, "GET", "/api/v1/cis", nil)
	// Malformed.
	for _, bad := range []string{"cmdb_", "cmdb_" + strings.Repeat("x", 300), "Basic Zm9vOmJhcg==", "cmdbs_session-token"} {
		if r, b := a.raw("GET", "/api/v1/cis", "", map[string]string{"Authorization": "Bearer " + bad}); r.StatusCode != 401 || !strings.Contains(b, "unauthorized") {
			t.Errorf("token %.12q: %d %s", bad, r.StatusCode, b)
		}
	}
	audit := fmt.Sprint(a.must(200, "GET", "/api/v1/audit", nil))
	for _, action := range []string{"token_created", "token_revoked", "user_created", "membership_added", "sign_in"} {
		if !strings.Contains(audit, action) {
			t.Errorf("audit lacks %s", action)
		}
	}
	assertNoSecrets(t, a, goodPassword, tok, itok, a.token)
}

// TestLockout: repeated failures lock the account even for the right
// password; authority IT unlocks it; addresses are rate limited.
func TestLockout(t *testing.T) {
	t.Parallel()
	a := startAuthServer(t)
	auth, school, _, _ := a.tenant("LO")
	u := a.must(201, "POST", "/api/v1/users", map[string]any{"email": "teacher@lo.de", "password": goodPassword,
		"memberships": []map[string]any{{"role": "teacher", "org_id": school}}})
	a.must(201, "POST", "/api/v1/users", map[string]any{"email": "it@lo.de", "password": goodPassword,
		"memberships": []map[string]any{{"role": "authority_it", "org_id": auth}}})
	for i := 0; i < 5; i++ {
		if r, _ := a.login("teacher@lo.de", "falsches Passwort", nil); r.StatusCode != 401 {
			t.Fatalf("attempt %d: %d", i, r.StatusCode)
		}
	}
	if r, b := a.login("teacher@lo.de", goodPassword, nil); r.StatusCode != 401 {
		t.Fatalf("locked account signed in: %d %s", r.StatusCode, b)
	}
	resp, _ := a.login("it@lo.de", goodPassword, nil)
	itc := map[string]string{"Cookie": "cmdb_session=" + sessionCookie(t, resp).Value}
	if r, b := a.raw("POST", fmt.Sprintf("/api/v1/users/%d/unlock", id(u)), "", itc); r.StatusCode != 204 {
		t.Fatalf("unlock: %d %s", r.StatusCode, b)
	}
	if r, b := a.login("teacher@lo.de", goodPassword, nil); r.StatusCode != 200 {
		t.Fatalf("after unlock: %d %s", r.StatusCode, b)
	}
	audit := fmt.Sprint(a.must(200, "GET", fmt.Sprintf("/api/v1/audit?authority=%d", auth), nil))
	for _, action := range []string{"locked_out", "unlocked", "sign_in_failed"} {
		if !strings.Contains(audit, action) {
			t.Errorf("audit lacks %s", action)
		}
	}
	// Hammering from one address hits the rate limit.
	limited := false
	for i := 0; i < 30 && !limited; i++ {
		r, _ := a.login("nobody@lo.de", "x", nil)
		limited = r.StatusCode == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("30 quick sign-ins from one address were never rate limited")
	}
	assertNoSecrets(t, a, goodPassword, a.token)
}

// TestOIDCSignIn: single sign-on against an in-test OpenID provider; bad
// ID tokens (audience, expiry, issuer, signature, nonce) are refused.
func TestOIDCSignIn(t *testing.T) {
	t.Parallel()
	a := startAuthServer(t, "--oidc-allow-private-issuers") // the test provider is on loopback
	auth, school, _, _ := a.tenant("SSO")
	const secret = "idp-client-secret-7f3a9c"
	idp := oidctest.New(t, "cmdb-sso", secret)
	a.must(400, "PUT", fmt.Sprintf("/api/v1/authorities/%d/oidc", auth), map[string]any{"issuer": "ftp://idp", "client_id": "x", "client_secret": "y"})
	cfg := a.must(200, "PUT", fmt.Sprintf("/api/v1/authorities/%d/oidc", auth), map[string]any{"issuer": idp.URL, "client_id": "cmdb-sso",
		"client_secret": secret, "rules": []map[string]any{{"claim": "groups", "value": "lehrer-40123", "role": "teacher", "org_id": school}}})
	if strings.Contains(fmt.Sprint(cfg), secret) {
		t.Fatal("the client secret came back")
	}
	idp.SetNextUser(map[string]any{"sub": "u-1", "email": "Herr.Kaya@schule.de", "email_verified": true, "name": "Herr Kaya",
		"groups": []string{"lehrer-40123", "eltern"}})

	signIn := func() (*http.Response, string) {
		r, _ := a.raw("GET", "/auth/oidc/SSO/login", "", nil)
		if r.StatusCode != http.StatusFound && r.StatusCode != http.StatusSeeOther {
			t.Fatalf("login: %d", r.StatusCode)
		}
		var login *http.Cookie
		for _, c := range r.Cookies() {
			if c.Name == "cmdb_oidc_login" {
				login = c
			}
		}
		cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		back, err := cl.Get(r.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		back.Body.Close()
		cb, err := url.Parse(back.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(cb.String(), a.base+"/auth/oidc/SSO/callback") {
			t.Fatalf("provider sent us to %q", back.Header.Get("Location"))
		}
		return a.raw("GET", strings.TrimPrefix(cb.String(), a.base), "", map[string]string{"Cookie": login.Name + "=" + login.Value})
	}
	resp, body := signIn()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d %s", resp.StatusCode, body)
	}
	c := sessionCookie(t, resp)
	_, me := a.raw("GET", "/auth/me", "", map[string]string{"Cookie": "cmdb_session=" + c.Value})
	if !strings.Contains(me, `"email":"herr.kaya@schule.de"`) || !strings.Contains(me, `"read_schools":[`+fmt.Sprint(school)+`]`) {
		t.Fatalf("me after SSO: %s", me)
	}
	// Sending the config back as it was read keeps the stored secret.
	a.must(200, "PUT", fmt.Sprintf("/api/v1/authorities/%d/oidc", auth), map[string]any{"issuer": idp.URL, "client_id": "cmdb-sso",
		"client_secret": cfg["client_secret"], "rules": cfg["rules"]})
	if resp, body := signIn(); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in after re-saving the config: %d %s", resp.StatusCode, body)
	}
	for _, mode := range []string{oidctest.TamperAudience, oidctest.TamperExpired, oidctest.TamperIssuer, oidctest.TamperSignature, oidctest.TamperNonce} {
		idp.Tamper(mode)
		if resp, body := signIn(); resp.StatusCode != 401 || len(resp.Cookies()) > 0 && resp.Cookies()[0].Name == "cmdb_session" && resp.Cookies()[0].Value != "" {
			t.Errorf("tampered %s: %d %s", mode, resp.StatusCode, body)
		}
	}
	// Without a matching group there is no role: refused.
	idp.SetNextUser(map[string]any{"sub": "u-2", "email": "gast@schule.de", "email_verified": true, "groups": []string{"eltern"}})
	if resp, _ := signIn(); resp.StatusCode != 403 {
		t.Errorf("no role: %d", resp.StatusCode)
	}
	var users int
	a.db.QueryRow(`SELECT count(*) FROM users`).Scan(&users)
	if users != 1 {
		t.Fatalf("users = %d, want only Herr Kaya", users)
	}
	assertNoSecrets(t, a, secret, c.Value, a.token)
}

// assertNoSecrets fails if any secret appears in the server log or in a
// response body the test received.
func assertNoSecrets(t *testing.T, a *authServer, secrets ...string) {
	t.Helper()
	logs, bodies := a.logs.String(), a.bodies.String()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(logs, s) {
			t.Errorf("secret %.6s… appears in the server log", s)
		}
		if strings.Contains(bodies, s) {
			t.Errorf("secret %.6s… appears in a response body", s)
		}
	}
	if len(logs) == 0 {
		t.Error("no server log captured")
	}
}

// TestNoEscalation: authority IT cannot take over a user who also holds
// roles elsewhere, and a narrow token cannot buy a wider one or a password.
func TestNoEscalation(t *testing.T) {
	t.Parallel()
	a := startAuthServer(t)
	authA, schoolA, _, _ := a.tenant("EA")
	authB, _, _, _ := a.tenant("EB")
	a.must(201, "POST", "/api/v1/users", map[string]any{"email": "it@ea.de", "password": goodPassword,
		"memberships": []map[string]any{{"role": "authority_it", "org_id": authA}}})
	both := a.must(201, "POST", "/api/v1/users", map[string]any{"email": "both@ea.de", "password": goodPassword,
		"memberships": []map[string]any{{"role": "teacher", "org_id": schoolA}, {"role": "authority_it", "org_id": authB}}})
	resp, _ := a.login("it@ea.de", goodPassword, nil)
	it := map[string]string{"Cookie": "cmdb_session=" + sessionCookie(t, resp).Value}
	// IT of A sees the user's role in A only, not what they are in B.
	if _, b := a.raw("GET", fmt.Sprintf("/api/v1/users/%d", id(both)), "", it); strings.Contains(b, "authority_it") || !strings.Contains(b, "teacher") {
		t.Errorf("IT of A sees: %s", b)
	}
	// A missing school and another authority's school get the same answer.
	var msgs []string
	for _, org := range []int64{schoolA + 100000, authB} {
		_, b := a.raw("POST", "/api/v1/users", string(mustJSON(map[string]any{"email": fmt.Sprintf("x%d@ea.de", org),
			"memberships": []map[string]any{{"role": "teacher", "org_id": org}}})), it)
		msgs = append(msgs, strings.ReplaceAll(b, fmt.Sprint(org), "N"))
	}
	if msgs[0] != msgs[1] {
		t.Errorf("answers differ, telling which ids exist: %s / %s", msgs[0], msgs[1])
	}
	for _, path := range []string{fmt.Sprintf("/api/v1/users/%d/unlock", id(both)), fmt.Sprintf("/api/v1/users/%d/sign-out-everywhere", id(both))} {
		if r, b := a.raw("POST", path, "", it); r.StatusCode != 403 {
			t.Errorf("authority IT of A on a user who is also IT of B: %s → %d %s", path, r.StatusCode, b)
		}
	}
	if r, b := a.raw("PUT", fmt.Sprintf("/api/v1/users/%d/password", id(both)), `{"password": "Neues-Passwort-99"}`, it); r.StatusCode != 403 {
		t.Errorf("password takeover across authorities: %d %s", r.StatusCode, b)
	}
	// The user of both roles makes a teacher token; it cannot mint an authority IT token or change the password.
	resp, _ = a.login("both@ea.de", goodPassword, nil)
	own := map[string]string{"Cookie": "cmdb_session=" + sessionCookie(t, resp).Value}
	_, body := a.raw("POST", "/api/v1/tokens", fmt.Sprintf(`{"name": "narrow", "role": "teacher", "org_id": %d}`, schoolA), own)
	var narrow struct{ Token string }
	json.Unmarshal([]byte(body), &narrow)
	bearer := map[string]string{"Authorization": "Bearer " + narrow.Token}
	if r, b := a.raw("POST", "/api/v1/tokens", fmt.Sprintf(`{"name": "wide", "role": "authority_it", "org_id": %d}`, authB), bearer); r.StatusCode != 403 {
		t.Errorf("teacher token minted an authority IT token: %d %s", r.StatusCode, b)
	}
	if r, b := a.raw("PUT", fmt.Sprintf("/api/v1/users/%d/password", id(both)), `{"current_password": "`+goodPassword+`", "password": "Neues-Passwort-99"}`, bearer); r.StatusCode != 403 {
		t.Errorf("token changed its user's password: %d %s", r.StatusCode, b)
	}
	// Signed in, with the current password, it works and ends the other sessions.
	if r, b := a.raw("PUT", fmt.Sprintf("/api/v1/users/%d/password", id(both)), `{"password": "Neues-Passwort-99"}`, own); r.StatusCode != 400 {
		t.Errorf("password change without the current one: %d %s", r.StatusCode, b)
	}
	if r, b := a.raw("PUT", fmt.Sprintf("/api/v1/users/%d/password", id(both)), `{"current_password": "`+goodPassword+`", "password": "Neues-Passwort-99"}`, own); r.StatusCode != 204 {
		t.Fatalf("password change: %d %s", r.StatusCode, b)
	}
	if r, _ := a.raw("GET", "/auth/me", "", own); r.StatusCode != 401 {
		t.Errorf("session survived a password change: %d", r.StatusCode)
	}
}

func mustSQL(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sameAnswer fails unless two responses have one status and one body once
// the ids that differ between them are replaced by N.
func sameAnswer(t *testing.T, what string, r1 *http.Response, b1 string, id1 int64, r2 *http.Response, b2 string, id2 int64) {
	t.Helper()
	n1, n2 := strings.ReplaceAll(b1, fmt.Sprint(id1), "N"), strings.ReplaceAll(b2, fmt.Sprint(id2), "N")
	if r1.StatusCode != r2.StatusCode || n1 != n2 {
		t.Errorf("%s: the answers tell existing from missing: %d %s / %d %s", what, r1.StatusCode, b1, r2.StatusCode, b2)
	}
}

// TestNoExistenceOracles: what exists outside the caller's scope (e-mail
// addresses, school ids in OIDC rules, provider ids, authority codes)
// answers exactly like what does not exist at all.
func TestNoExistenceOracles(t *testing.T) {
	t.Parallel()
	a := startAuthServer(t)
	authA, schoolA, _, _ := a.tenant("ORA")
	authB, schoolB, _, _ := a.tenant("ORB")
	prov := a.must(201, "POST", "/api/v1/providers", map[string]any{"code": "IT-ORB", "name": "Systemhaus B", "authority_ids": []int64{authB}})
	a.must(201, "POST", "/api/v1/users", map[string]any{"email": "taken@orb.de", "password": goodPassword,
		"memberships": []map[string]any{{"role": "teacher", "org_id": schoolB}}})
	cookie := map[string]map[string]string{}
	for role, org := range map[string]int64{"teacher": schoolA, "school_it": schoolA, "authority_it": authA} {
		email := role + "@ora.de"
		a.must(201, "POST", "/api/v1/users", map[string]any{"email": email, "password": goodPassword,
			"memberships": []map[string]any{{"role": role, "org_id": org}}})
		resp, _ := a.login(email, goodPassword, nil)
		cookie[role] = map[string]string{"Cookie": "cmdb_session=" + sessionCookie(t, resp).Value}
	}

	// E-mail addresses: any role that may not make this user learns nothing.
	for _, role := range []string{"teacher", "school_it"} {
		post := func(email string) (*http.Response, string) {
			return a.raw("POST", "/api/v1/users", string(mustJSON(map[string]any{"email": email, "name": "X",
				"memberships": []map[string]any{{"role": "teacher", "org_id": schoolA}}})), cookie[role])
		}
		r1, b1 := post("taken@orb.de")
		r2, b2 := post("free@orb.de")
		sameAnswer(t, role+" creating a user with a taken vs a free address", r1, b1, 0, r2, b2, 0)
	}

	// School ids in OIDC claim rules: another authority's vs none.
	const missing = 9_999_999
	oidcPut := func(org int64) (*http.Response, string) {
		return a.raw("PUT", fmt.Sprintf("/api/v1/authorities/%d/oidc", authA), string(mustJSON(map[string]any{
			"issuer": "https://login.ora.example", "client_id": "cmdb", "client_secret": "s",
			"rules": []map[string]any{{"claim": "groups", "value": "it", "role": "school_it", "org_id": org}}})), cookie["authority_it"])
	}
	r1, b1 := oidcPut(schoolB)
	r2, b2 := oidcPut(missing)
	if r1.StatusCode != 400 || !strings.Contains(b1, `"field":"rules[0].org_id"`) {
		t.Errorf("rule naming another authority's school: %d %s", r1.StatusCode, b1)
	}
	sameAnswer(t, "OIDC rule naming another authority's school vs none", r1, b1, schoolB, r2, b2, missing)

	// Provider ids in tokens: an existing provider vs none.
	tokenPost := func(org int64) (*http.Response, string) {
		return a.raw("POST", "/api/v1/tokens", fmt.Sprintf(`{"name": "x", "role": "provider", "org_id": %d, "integration": true}`, org), cookie["authority_it"])
	}
	r1, b1 = tokenPost(id(prov))
	r2, b2 = tokenPost(missing)
	sameAnswer(t, "integration token for an existing provider vs none", r1, b1, id(prov), r2, b2, missing)
	r1, b1 = a.raw("POST", "/api/v1/tokens", fmt.Sprintf(`{"name": "x", "role": "school_it", "org_id": %d, "integration": true}`, schoolB), cookie["authority_it"])
	r2, b2 = a.raw("POST", "/api/v1/tokens", fmt.Sprintf(`{"name": "x", "role": "school_it", "org_id": %d, "integration": true}`, missing), cookie["authority_it"])
	sameAnswer(t, "integration token for another authority's school vs none", r1, b1, schoolB, r2, b2, missing)

	// Authority codes: one with single sign-on whose provider does not
	// answer vs a code that does not exist.
	a.must(200, "PUT", fmt.Sprintf("/api/v1/authorities/%d/oidc", authB), map[string]any{"issuer": "https://login.orb.example",
		"client_id": "cmdb", "client_secret": "s"})
	r1, b1 = a.raw("GET", "/auth/oidc/ORB/login", "", nil)
	r2, b2 = a.raw("GET", "/auth/oidc/NOPE/login", "", nil)
	sameAnswer(t, "sign-on URL of an authority without working SSO vs an unknown code", r1, b1, 0, r2, b2, 0)
}

// TestOIDCIssuerMustBePublic: by default an issuer is https on a public
// address; loopback, private, link-local (cloud metadata) and plain http
// are refused naming the field.
func TestOIDCIssuerMustBePublic(t *testing.T) {
	t.Parallel()
	a := startAuthServer(t)
	auth, _, _, _ := a.tenant("PUB")
	put := func(issuer string) (int, map[string]any) {
		return a.do("PUT", fmt.Sprintf("/api/v1/authorities/%d/oidc", auth), map[string]any{"issuer": issuer, "client_id": "cmdb", "client_secret": "s"})
	}
	for _, issuer := range []string{"http://127.0.0.1:9/realms/x", "https://127.0.0.1:8443", "https://localhost/realms/x",
		"https://10.1.2.3", "https://[::1]:8443", "https://169.254.169.254/latest", "https://100.64.0.1", "http://login.pub.example",
		"https://[::ffff:192.168.1.1]"} {
		code, body := put(issuer)
		if e, _ := body["error"].(map[string]any); code != 400 || e["field"] != "issuer" {
			t.Errorf("issuer %s: %d %v; want 400 naming issuer", issuer, code, body)
		}
	}
	if code, body := put("https://8.8.8.8/realms/schule"); code != 200 {
		t.Errorf("public issuer: %d %v", code, body)
	}
}

// TestDeactivateUser: authority IT deactivates a user of their authority:
// the session and the personal token stop working at once, and signing in
// fails exactly like a wrong password; reactivated, the user signs in
// again and the token works again. Nobody outside the authority sees the
// user, and nobody deactivates themselves.
func TestDeactivateUser(t *testing.T) {
	t.Parallel()
	a := startAuthServer(t)
	auth, school, _, _ := a.tenant("DA")
	authB, _, _, _ := a.tenant("DB")
	u := a.must(201, "POST", "/api/v1/users", map[string]any{"email": "lehrer@da.de", "password": goodPassword,
		"memberships": []map[string]any{{"role": "school_it", "org_id": school}}})
	it := a.must(201, "POST", "/api/v1/users", map[string]any{"email": "it@da.de", "password": goodPassword,
		"memberships": []map[string]any{{"role": "authority_it", "org_id": auth}}})
	resp, _ := a.login("it@da.de", goodPassword, nil)
	itc := map[string]string{"Cookie": "cmdb_session=" + sessionCookie(t, resp).Value}
	resp, _ = a.login("lehrer@da.de", goodPassword, nil)
	userc := map[string]string{"Cookie": "cmdb_session=" + sessionCookie(t, resp).Value}
	_, body := a.raw("POST", "/api/v1/tokens", fmt.Sprintf(`{"name": "skript", "role": "school_it", "org_id": %d}`, school), userc)
	var tok struct{ Token string }
	json.Unmarshal([]byte(body), &tok)
	bearer := map[string]string{"Authorization": "Bearer " + tok.Token}
	if r, b := a.raw("GET", "/auth/me", "", bearer); r.StatusCode != 200 {
		t.Fatalf("token before: %d %s", r.StatusCode, b)
	}

	if r, b := a.raw("POST", fmt.Sprintf("/api/v1/users/%d/deactivate", id(it)), "", itc); r.StatusCode != 403 {
		t.Errorf("deactivating oneself: %d %s", r.StatusCode, b)
	}
	if r, b := a.raw("POST", fmt.Sprintf("/api/v1/users/%d/deactivate", id(u)), "", itc); r.StatusCode != 204 {
		t.Fatalf("deactivate: %d %s", r.StatusCode, b)
	}
	for name, hdr := range map[string]map[string]string{"session": userc, "token": bearer} {
		if r, b := a.raw("GET", "/auth/me", "", hdr); r.StatusCode != 401 {
			t.Errorf("%s of a deactivated user: %d %s", name, r.StatusCode, b)
		}
	}
	r1, b1 := a.login("lehrer@da.de", goodPassword, nil)
	r2, b2 := a.login("it@da.de", "falsches Passwort!", nil)
	if r1.StatusCode != 401 || r1.StatusCode != r2.StatusCode || b1 != b2 {
		t.Errorf("deactivated sign-in %d %s; wrong password %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	if got := a.must(200, "GET", fmt.Sprintf("/api/v1/users/%d", id(u)), nil); got["disabled"] != true {
		t.Errorf("user after deactivation: %v", got)
	}

	if r, b := a.raw("POST", fmt.Sprintf("/api/v1/users/%d/activate", id(u)), "", itc); r.StatusCode != 204 {
		t.Fatalf("activate: %d %s", r.StatusCode, b)
	}
	if r, b := a.login("lehrer@da.de", goodPassword, nil); r.StatusCode != 200 {
		t.Errorf("sign-in after reactivation: %d %s", r.StatusCode, b)
	}
	if r, b := a.raw("GET", "/auth/me", "", bearer); r.StatusCode != 200 {
		t.Errorf("token after reactivation: %d %s", r.StatusCode, b)
	}
	if r, _ := a.raw("GET", "/auth/me", "", userc); r.StatusCode != 401 {
		t.Errorf("the session ended by deactivation came back: %d", r.StatusCode)
	}
	// Another authority's IT does not see the user at all.
	a.must(201, "POST", "/api/v1/users", map[string]any{"email": "it@db.de", "password": goodPassword,
		"memberships": []map[string]any{{"role": "authority_it", "org_id": authB}}})
	resp, _ = a.login("it@db.de", goodPassword, nil)
	other := map[string]string{"Cookie": "cmdb_session=" + sessionCookie(t, resp).Value}
	if r, b := a.raw("POST", fmt.Sprintf("/api/v1/users/%d/deactivate", id(u)), "", other); r.StatusCode != 404 {
		t.Errorf("another authority's IT: %d %s", r.StatusCode, b)
	}
	audit := fmt.Sprint(a.must(200, "GET", fmt.Sprintf("/api/v1/audit?authority=%d", auth), nil))
	for _, action := range []string{"user_deactivated", "user_activated"} {
		if !strings.Contains(audit, action) {
			t.Errorf("audit lacks %s", action)
		}
	}
}
