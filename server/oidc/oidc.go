// Package oidc signs users in through their authority's OpenID provider:
// the authorization code flow with PKCE, state and nonce, the ID token
// verified with go-oidc, and claims mapped to memberships by the
// authority's rules. Secrets (client secret, codes, tokens) are never
// logged or answered.
package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/httperr"
	"github.com/schulit/cmdb/server/httpmeta"
	"golang.org/x/oauth2"
)

// Store is what sign-in needs from the account store.
type Store interface {
	// FindOIDCConfig returns the authority's config; ENOTFOUND if the
	// authority has none.
	FindOIDCConfig(ctx context.Context, authorityCode string) (*cmdb.OIDCConfig, error)
	// SignInExternal creates or updates the user and their memberships
	// from the identity and starts a session; returns the session token.
	SignInExternal(ctx context.Context, id cmdb.ExternalIdentity, meta cmdb.RequestMeta) (*cmdb.User, cmdb.Secret, error)
}

// Options configures a Handler.
type Options struct {
	Store Store
	// BaseURL is the public base URL of cmdbd, such as
	// http://127.0.0.1:8080; the redirect URL is
	// BaseURL + "/auth/oidc/{authority}/callback".
	BaseURL string
	// SecureCookies sets the Secure flag on cookies (false only for
	// plain-http development and tests).
	SecureCookies bool
	// SessionCookie names the session cookie set on success.
	SessionCookie string
	// SessionMaxAge is the session cookie's Max-Age; 0 makes it a browser
	// session cookie.
	SessionMaxAge time.Duration
	// HTTPClient, if set, makes the discovery, JWKS and token requests;
	// it is then the caller's to keep them off private addresses.
	HTTPClient *http.Client
	// AllowPrivateIssuers lets the default client reach issuers over plain
	// http and on loopback, private and other non-public addresses. By
	// default only https issuers are fetched, and every connection (also
	// after redirects and whatever a name resolves to at that moment) to
	// a non-public address is refused.
	AllowPrivateIssuers bool
	Logger              *slog.Logger
	// Now, if set, is the clock for sign-in expiry and ID token checks.
	Now func() time.Time
	// Meta, if set, says where a request came from; by default the
	// remote address and the User-Agent header.
	Meta func(*http.Request) cmdb.RequestMeta
}

// Tunables.
const (
	flowTTL      = 10 * time.Minute // how long a started sign-in may take
	maxFlows     = 10000            // sign-ins in progress kept at most
	providerTTL  = 5 * time.Minute  // how long discovery results are reused
	outboundWait = 15 * time.Second // limit of each call to the provider
	loginCookie  = "cmdb_oidc_login"
)

// Handler serves /auth/oidc/{authority}/login and .../callback.
type Handler struct {
	opts   Options
	log    *slog.Logger
	client *http.Client
	flows  *flows

	mu        sync.Mutex
	providers map[string]cachedProvider
}

type cachedProvider struct {
	p       *oidc.Provider
	fetched time.Time
}

// New returns a Handler.
func New(opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Meta == nil {
		opts.Meta = httpmeta.Meta
	}
	if opts.SessionCookie == "" {
		opts.SessionCookie = "cmdb_session"
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: outboundWait}
		if !opts.AllowPrivateIssuers {
			client.Transport = publicTransport()
		}
	}
	return &Handler{opts: opts, log: opts.Logger, client: client, flows: newFlows(maxFlows),
		providers: map[string]cachedProvider{}}
}

// callbackPath is the callback's path for an authority; the login cookie
// is limited to it.
func callbackPath(authority string) string {
	return "/auth/oidc/" + url.PathEscape(authority) + "/callback"
}

// Login redirects the browser to the authority's provider (path value
// "authority" is the authority code) with a new state, nonce and PKCE
// challenge, remembered server-side under the id in a short-lived cookie,
// with where to return to (query "next", a local path; else "/").
func (h *Handler) Login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	authority := r.PathValue("authority")
	// An unknown code and an authority whose provider cannot be used get
	// one answer, so that the sign-on URL does not tell which codes exist.
	unavailable := func() {
		writeError(w, cmdb.ENOTFOUND, "No single sign-on is available here; check the address, or try again later.")
	}
	cfg, err := h.config(r.Context(), authority)
	if err != nil {
		if cmdb.ErrorCode(err) == cmdb.ENOTFOUND {
			unavailable()
			return
		}
		h.log.Error("oidc login: loading config", "authority", authority, "err", err)
		writeError(w, cmdb.EINTERNAL, "Internal error.")
		return
	}
	provider, err := h.provider(r.Context(), cfg.Issuer)
	if err != nil {
		h.log.Error("oidc login: provider discovery failed", "authority", authority, "issuer", cfg.Issuer, "err", err)
		unavailable()
		return
	}
	now := h.opts.Now()
	f := &flow{authority: authority, issuer: cfg.Issuer, state: randomString(), nonce: randomString(),
		verifier: oauth2.GenerateVerifier(), next: httpmeta.LocalPath(r.URL.Query().Get("next")), expires: now.Add(flowTTL)}
	id := h.flows.put(f, now)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: id, Path: callbackPath(authority),
		MaxAge: int(flowTTL / time.Second), HttpOnly: true, Secure: h.opts.SecureCookies, SameSite: http.SameSiteLaxMode})
	target := h.oauth2Config(authority, cfg, provider).AuthCodeURL(f.state, oidc.Nonce(f.nonce),
		oauth2.S256ChallengeOption(f.verifier))
	http.Redirect(w, r, target, http.StatusFound)
}

// Callback completes a sign-in: it checks the state, exchanges the code,
// verifies the ID token, maps its claims to memberships, signs the user in
// through the store, sets the session cookie and redirects to the path
// Login was given ("/" when none).
func (h *Handler) Callback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	authority := r.PathValue("authority")
	log := h.log.With("authority", authority)
	// The login cookie is good for one try, whatever comes of it.
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: callbackPath(authority), MaxAge: -1,
		HttpOnly: true, Secure: h.opts.SecureCookies, SameSite: http.SameSiteLaxMode})
	refuse := func(reason string, err error, msg string) {
		log.Warn("oidc sign-in refused", "reason", reason, "err", err)
		writeError(w, cmdb.EUNAUTHORIZED, msg)
	}
	const tryAgain = "Sign-in failed; please try again."

	var f *flow
	if c, err := r.Cookie(loginCookie); err == nil {
		f = h.flows.take(c.Value, h.opts.Now())
	}
	if f == nil || f.authority != authority {
		refuse("no sign-in in progress", nil, "The sign-in expired or was not started here; please try again.")
		return
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		refuse("provider answered an error", errors.New(truncate(e, 64)), "The sign-in provider refused the sign-in.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.state)) != 1 {
		refuse("state mismatch", nil, tryAgain)
		return
	}
	code := q.Get("code")
	if code == "" {
		refuse("no code", nil, tryAgain)
		return
	}
	cfg, err := h.config(r.Context(), authority)
	if err == nil && cfg.Issuer != f.issuer {
		err = errors.New("issuer changed during sign-in")
	}
	if err != nil {
		refuse("loading config", err, tryAgain)
		return
	}
	provider, err := h.provider(r.Context(), cfg.Issuer)
	if err != nil {
		refuse("provider discovery", err, tryAgain)
		return
	}

	ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), h.client), outboundWait)
	defer cancel()
	tok, err := h.oauth2Config(authority, cfg, provider).Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		refuse("code exchange", safeError(err), tryAgain)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		refuse("no id_token in token response", nil, tryAgain)
		return
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: h.opts.Now})
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		refuse("id token verification", err, tryAgain)
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.nonce)) != 1 {
		refuse("nonce mismatch", nil, tryAgain)
		return
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			refuse("access token hash mismatch", nil, tryAgain)
			return
		}
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil || idt.Subject == "" {
		refuse("unreadable claims or no subject", err, tryAgain)
		return
	}
	id := cmdb.ExternalIdentity{AuthorityID: cfg.AuthorityID, Issuer: cfg.Issuer, Subject: idt.Subject,
		Email: stringClaim(claims, "email"), EmailVerified: boolClaim(claims, "email_verified"),
		Name: stringClaim(claims, "name"), Memberships: MapClaims(cfg.Rules, cfg.Issuer, claims)}
	if len(id.Memberships) == 0 {
		log.Warn("oidc sign-in refused", "reason", "no claim rule matched", "sub", id.Subject)
		writeError(w, cmdb.EFORBIDDEN, "No role for this account.")
		return
	}

	user, session, err := h.opts.Store.SignInExternal(r.Context(), id, h.opts.Meta(r))
	if err != nil {
		code := cmdb.ErrorCode(err)
		if code == cmdb.EINTERNAL {
			log.Error("oidc sign-in: store", "err", err)
			writeError(w, code, "Internal error.")
			return
		}
		log.Warn("oidc sign-in refused by store", "sub", id.Subject, "err", err)
		writeError(w, code, cmdb.ErrorMessage(err))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: h.opts.SessionCookie, Value: session.Reveal(), Path: "/",
		MaxAge: int(h.opts.SessionMaxAge / time.Second), HttpOnly: true, Secure: h.opts.SecureCookies,
		SameSite: http.SameSiteLaxMode})
	log.Info("oidc sign-in", "user_id", user.ID, "sub", id.Subject, "memberships", len(id.Memberships))
	http.Redirect(w, r, f.next, http.StatusSeeOther)
}

// config loads the authority's config; an empty authority is not found.
func (h *Handler) config(ctx context.Context, authority string) (*cmdb.OIDCConfig, error) {
	if authority == "" {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "no authority")
	}
	cfg, err := h.opts.Store.FindOIDCConfig(ctx, authority)
	if err == nil && cfg == nil {
		err = cmdb.Errorf(cmdb.ENOTFOUND, "no OIDC config")
	}
	return cfg, err
}

func (h *Handler) oauth2Config(authority string, cfg *cmdb.OIDCConfig, p *oidc.Provider) *oauth2.Config {
	scopes := []string{oidc.ScopeOpenID, "email", "profile"}
	for _, s := range cfg.Scopes {
		if s != "" && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	return &oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret.Reveal(), Endpoint: p.Endpoint(),
		RedirectURL: h.opts.BaseURL + callbackPath(authority), Scopes: scopes}
}

// provider returns the issuer's discovered provider, reusing it for
// providerTTL. Failed discoveries are not kept.
func (h *Handler) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	now := h.opts.Now()
	h.mu.Lock()
	c, ok := h.providers[issuer]
	h.mu.Unlock()
	if ok && now.Sub(c.fetched) < providerTTL && now.Sub(c.fetched) >= 0 {
		return c.p, nil
	}
	if u, err := url.Parse(issuer); err != nil || (u.Scheme != "https" && !h.opts.AllowPrivateIssuers) {
		// Set before issuers had to be https, or by hand in the database.
		return nil, errors.New("issuer is not an https URL (private issuers are not allowed)")
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, h.client), outboundWait)
	defer cancel()
	p, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, v := range h.providers {
		if now.Sub(v.fetched) >= providerTTL {
			delete(h.providers, k)
		}
	}
	h.providers[issuer] = cachedProvider{p: p, fetched: now}
	return p, nil
}

// safeError reduces a token endpoint error to its status and OAuth error
// code, leaving out the response body.
func safeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return errors.New("token endpoint answered " + http.StatusText(status) + ": " + truncate(re.ErrorCode, 64))
	}
	return err
}

func stringClaim(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}

// boolClaim reads a boolean claim; some providers send "true" as a string.
func boolClaim(claims map[string]any, name string) bool {
	switch v := claims[name].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// writeError answers with the API's error shape (httperr), the status
// following the code.
func writeError(w http.ResponseWriter, code, msg string) {
	httperr.Write(w, cmdb.Errorf(code, "%s", msg))
}
