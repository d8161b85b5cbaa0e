package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/httpmeta"
)

// signInView is the sign-in form: what was typed (never the password)
// and the messages next to the fields.
type signInView struct {
	Email  string
	Next   string
	Errors fieldErrors
	// SSO are the authorities whose people sign in by single sign-on.
	SSO []cmdb.SignInChoice
	// Draft says what became of a form sent after the session ended:
	// "kept" (shown again after sign-in) or "toolong".
	Draft string
}

// signInPage renders the sign-in page with v, offering single sign-on
// where authorities have it (without it when the list cannot be read:
// the password form still works).
func (s *server) signInPage(w http.ResponseWriter, r *http.Request, rq *request, status int, v signInView) {
	if s.opts.Accounts != nil {
		cs, err := s.opts.Accounts.FindSignInChoices(r.Context())
		if err != nil {
			s.log.Warn("sign-in page: single sign-on choices", "err", err)
		}
		v.SSO = cs
	}
	s.render(w, r, rq, status, "signin", "signin.title", v)
}

func (s *server) signInForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	next := httpmeta.LocalPath(r.URL.Query().Get("next"))
	if rq.User != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	v := signInView{Next: next, Draft: r.URL.Query().Get("entwurf")}
	if v.Draft != "kept" && v.Draft != "toolong" {
		v.Draft = ""
	}
	s.signInPage(w, r, rq, http.StatusOK, v)
	return nil
}

// signIn checks e-mail and password with the account store and starts a
// session in the API's cookie, then goes back to the page asked for.
func (s *server) signIn(w http.ResponseWriter, r *http.Request, rq *request) error {
	v := signInView{Email: strings.TrimSpace(r.PostFormValue("email")), Next: httpmeta.LocalPath(r.PostFormValue("next")), Errors: fieldErrors{}}
	password := cmdb.Secret(r.PostFormValue("password"))
	if v.Email == "" {
		v.Errors["email"] = rq.tr.T("signin.email.required")
	}
	if password == "" {
		v.Errors["password"] = rq.tr.T("signin.password.required")
	}
	if len(v.Errors) > 0 {
		s.signInPage(w, r, rq, http.StatusBadRequest, v)
		return nil
	}
	meta := requestMeta(r)
	if !s.limit.Allow(meta.IP) {
		w.Header().Set("Retry-After", "2")
		v.Errors["password"] = rq.tr.T("signin.ratelimited")
		s.signInPage(w, r, rq, http.StatusTooManyRequests, v)
		return nil
	}
	// A session brought along is never reused: sign-in starts a new one.
	if c, err := r.Cookie(cmdb.SessionCookie); err == nil && c.Value != "" {
		s.opts.Accounts.SignOut(r.Context(), cmdb.Secret(c.Value), meta)
	}
	_, tok, err := s.opts.Accounts.SignIn(r.Context(), v.Email, password, meta)
	switch cmdb.ErrorCode(err) {
	case "":
	case cmdb.EUNAUTHORIZED, cmdb.EINVALID:
		// One message for every failure, as the store gives: nothing is
		// learned about which accounts exist.
		clearSessionCookie(w)
		v.Errors["password"] = rq.tr.T("signin.failed")
		s.signInPage(w, r, rq, http.StatusUnauthorized, v)
		return nil
	default:
		return err
	}
	setCookie(w, cmdb.SessionCookie, tok.Reveal(), s.opts.SessionMaxAge)
	http.Redirect(w, r, v.Next, http.StatusSeeOther)
	return nil
}

func (s *server) signOut(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c, err := r.Cookie(cmdb.SessionCookie); err == nil && c.Value != "" {
		if err := s.opts.Accounts.SignOut(r.Context(), cmdb.Secret(c.Value), requestMeta(r)); err != nil && cmdb.ErrorCode(err) != cmdb.EUNAUTHORIZED {
			return err
		}
	}
	clearSessionCookie(w)
	setCookie(w, draftCookie, "", -1) // a form kept for her is hers only
	http.Redirect(w, r, "/anmelden", http.StatusSeeOther)
	return nil
}

// setLanguage is the language switch: it remembers the choice in a
// cookie and, for a signed-in person, as their setting (which their mail
// follows too), then goes back to the page.
func (s *server) setLanguage(w http.ResponseWriter, r *http.Request, rq *request) error {
	lang := r.PostFormValue("lang")
	if !supportedLang(lang) {
		return cmdb.Invalid("lang", "must be de or en")
	}
	if rq.User != nil {
		if err := s.opts.Accounts.SetUserLanguage(r.Context(), rq.Scope, rq.User.ID, lang); err != nil {
			return err
		}
	}
	setCookie(w, langCookie, lang, 365*24*time.Hour)
	http.Redirect(w, r, httpmeta.LocalPath(r.PostFormValue("next")), http.StatusSeeOther)
	return nil
}
