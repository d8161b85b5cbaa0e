package api

import (
	"net/http"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/httpmeta"
)

// SessionCookie is the name of the browser session cookie (shared with
// the web portal, so it lives in the domain).
const SessionCookie = cmdb.SessionCookie

// requestMeta says where a request came from.
func requestMeta(r *http.Request) cmdb.RequestMeta { return httpmeta.Meta(r) }

func (s *Server) setSessionCookie(w http.ResponseWriter, tok cmdb.Secret) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: tok.Reveal(), Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.opts.SessionMaxAge.Seconds())})
}

func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, _ cmdb.Scope) error {
	meta := requestMeta(r)
	if !s.limit.Allow(meta.IP) {
		w.Header().Set("Retry-After", "2")
		writeError(w, r, s.log, cmdb.Errorf(cmdb.ERATELIMITED, "Too many sign-in attempts; wait a moment."))
		return nil
	}
	var in struct {
		Email    string      `json:"email"`
		Password cmdb.Secret `json:"password"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	// A session cookie brought along is never reused: sign-in always starts a new session.
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		s.opts.Accounts.SignOut(r.Context(), cmdb.Secret(c.Value), meta)
	}
	u, tok, err := s.opts.Accounts.SignIn(r.Context(), in.Email, in.Password, meta)
	if err != nil {
		clearSessionCookie(w)
		return err
	}
	s.setSessionCookie(w, tok)
	writeJSON(w, 200, u)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, _ cmdb.Scope) error {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if err := s.opts.Accounts.SignOut(r.Context(), cmdb.Secret(c.Value), requestMeta(r)); err != nil {
			return err
		}
	}
	clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) logoutEverywhere(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	if sc.UserID == 0 {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "Integration tokens have no sessions.")
	}
	if err := s.opts.Accounts.SignOutEverywhere(r.Context(), sc, sc.UserID, requestMeta(r)); err != nil {
		return err
	}
	clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Me is the answer of GET /auth/me: who the caller is and what they see.
type Me struct {
	User  *cmdb.User `json:"user,omitempty"`
	Scope struct {
		Subject     string  `json:"subject"`
		Admin       bool    `json:"admin"`
		Authorities []int64 `json:"authorities"`
		Schools     []int64 `json:"schools"`
		ReadSchools []int64 `json:"read_schools"`
		Providers   []int64 `json:"providers"`
	} `json:"scope"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var out Me
	if sc.UserID != 0 {
		u, err := s.opts.Accounts.FindUserByID(r.Context(), sc, sc.UserID)
		if err != nil {
			return err
		}
		out.User = u
	}
	out.Scope.Subject, out.Scope.Admin = sc.Subject, sc.Admin
	out.Scope.Authorities, out.Scope.Schools = nonNil(sc.Authorities), nonNil(sc.Schools)
	out.Scope.ReadSchools, out.Scope.Providers = nonNil(sc.ReadSchools), nonNil(sc.Providers)
	writeJSON(w, 200, out)
	return nil
}

func nonNil(v []int64) []int64 {
	if v == nil {
		return []int64{}
	}
	return v
}

// MembershipInput names a role in an organisation.
type MembershipInput struct {
	Role  string `json:"role"`
	OrgID int64  `json:"org_id"`
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in struct {
		Email       string            `json:"email"`
		Name        string            `json:"name"`
		Language    string            `json:"language"`
		Password    cmdb.Secret       `json:"password"`
		Memberships []MembershipInput `json:"memberships"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	u := &cmdb.User{Email: in.Email, Name: in.Name, Language: in.Language}
	for _, m := range in.Memberships {
		u.Memberships = append(u.Memberships, cmdb.Membership{Role: m.Role, OrgID: m.OrgID})
	}
	if err := s.opts.Accounts.CreateUser(r.Context(), sc, u, in.Password); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Language string `json:"language"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	if in.Language == "" {
		return cmdb.Invalid("language", "is required: de or en")
	}
	if err := s.opts.Accounts.SetUserLanguage(r.Context(), sc, id, in.Language); err != nil {
		return err
	}
	u, err := s.opts.Accounts.FindUserByID(r.Context(), sc, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// updateUser changes a user's name and e-mail address (PATCH: a field
// left out or null stays as it is).
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in cmdb.UserUpdate
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	u, err := s.opts.Accounts.UpdateUser(r.Context(), sc, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		CurrentPassword cmdb.Secret `json:"current_password"`
		Password        cmdb.Secret `json:"password"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	if err := s.opts.Accounts.SetPassword(r.Context(), sc, id, in.CurrentPassword, in.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) addMembership(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in MembershipInput
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	m := &cmdb.Membership{UserID: id, Role: in.Role, OrgID: in.OrgID}
	if err := s.opts.Accounts.AddMembership(r.Context(), sc, m); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, m)
	return nil
}

// noContent serves a POST or DELETE on …/{id} that answers 204.
func noContent(do func(r *http.Request, sc cmdb.Scope, id int64) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := do(r, sc, id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in struct {
		Name        string     `json:"name"`
		Role        string     `json:"role"`
		OrgID       int64      `json:"org_id"`
		ExpiresAt   *time.Time `json:"expires_at"`
		Integration bool       `json:"integration"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	t := &cmdb.APIToken{Name: in.Name, Role: in.Role, OrgID: in.OrgID, ExpiresAt: in.ExpiresAt, UserID: sc.UserID}
	if in.Integration {
		t.UserID = 0
	} else if sc.UserID == 0 {
		return cmdb.Invalid("integration", "must be true: integration tokens have no user to make tokens for")
	}
	tok, err := s.opts.Accounts.CreateToken(r.Context(), sc, t)
	if err != nil {
		return err
	}
	// The only time the token is shown.
	writeJSON(w, http.StatusCreated, struct {
		*cmdb.APIToken
		Token string `json:"token"`
	}{t, tok.Reveal()})
	return nil
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	auth, err := queryInt(r, "authority")
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	offset, err := queryInt(r, "offset")
	if err != nil {
		return err
	}
	out, total, err := s.opts.Accounts.FindAudit(r.Context(), sc, cmdb.AuditFilter{AuthorityID: auth, Action: r.URL.Query().Get("action"), Limit: int(limit), Offset: int(min(offset, 1<<30))})
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.AuditEvent]{Items: out, Total: total})
	return nil
}

func (s *Server) setOIDC(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Issuer       string           `json:"issuer"`
		ClientID     string           `json:"client_id"`
		ClientSecret cmdb.Secret      `json:"client_secret"`
		Scopes       []string         `json:"scopes"`
		Rules        []cmdb.ClaimRule `json:"rules"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	if in.ClientSecret.Reveal() == "[redacted]" {
		in.ClientSecret = "" // a config sent back as it was read keeps its secret
	}
	c := &cmdb.OIDCConfig{AuthorityID: id, Issuer: in.Issuer, ClientID: in.ClientID, ClientSecret: in.ClientSecret,
		Scopes: in.Scopes, Rules: in.Rules}
	if err := s.opts.Accounts.SetOIDCConfig(r.Context(), sc, c); err != nil {
		return err
	}
	writeJSON(w, 200, c) // the secret marshals as "[redacted]"
	return nil
}
