// Package web is the portal: server-rendered HTML pages for teachers (and,
// later, staff) beside the JSON API. It imports the domain (server/cmdb)
// and no other adapter; handlers read the request, ask the stores with
// the caller's scope (the stores enforce tenancy), fill a view and render
// it. Every page works without JavaScript.
package web

import (
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/httpmeta"
)

//go:embed templates static locales
var files embed.FS

// Options configures the portal.
type Options struct {
	Accounts cmdb.AccountStore
	Tickets  cmdb.TicketStore
	CIs      cmdb.CIStore
	Tenants  cmdb.TenantStore
	// KB keeps the knowledge base (self-help before a report); nil: none.
	KB cmdb.KBStore
	// Catalogue lists the services a teacher can request; nil: the
	// request page says there are none yet.
	Catalogue cmdb.CatalogueStore
	// Attachments keeps the photos of reports; nil: the report form
	// takes no photo. AttachmentLimits bound them (zero fields: the
	// defaults), as the store's do.
	Attachments      cmdb.AttachmentStore
	AttachmentLimits cmdb.AttachmentLimits
	// Agents, SNMP and SLA serve the administration's enrolment tokens,
	// SNMP settings and SLA calendar; nil: those pages answer not found.
	Agents cmdb.AgentStore
	SNMP   cmdb.SNMPStore
	SLA    cmdb.SLAStore
	// Dashboard feeds the console's dashboard and duplicates review
	// (console_dash*.go); nil: those pages answer 404.
	Dashboard cmdb.DashboardStore
	// Failures and Monitoring keep the repeat-failure and monitoring
	// rules the administration edits; nil: those pages answer not found.
	Failures   cmdb.FailureStore
	Monitoring cmdb.MonitoringStore
	// Queue keeps the staff queue's counts and saved filters, Problems
	// the problems a ticket is linked to (SNMP above gives the ticket
	// page's device panel its health); nil: those parts are left out.
	Queue    cmdb.TicketQueueStore
	Problems cmdb.ProblemStore
	// Labels prints a device's QR label; nil: no label link.
	Labels LabelPrinter
	// SessionMaxAge is the lifetime of the session cookie; 0: a browser
	// session.
	SessionMaxAge time.Duration
	// SecretKey is the server's secret key; the portal derives from it
	// the key that seals a form's draft kept over a sign-in (nil: a
	// random key, so drafts last as long as the process).
	SecretKey []byte
	Logger    *slog.Logger
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// CSP is the Content-Security-Policy of every response: nothing but the
// portal's own files, no inline script or style, no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// maxForm bounds the body of a form.
const maxForm = 256 << 10

// langCookie keeps the language a signed-out visitor chose.
const langCookie = "lang"

// server serves the portal.
type server struct {
	opts  Options
	log   *slog.Logger
	views *engine
	i18n  *catalogue
	limit httpmeta.SignInLimiter
	// drafts seals what was typed into a form sent after the session
	// ended (draft.go).
	drafts *drafter
	// exportMax bounds a queue export; 0 means queueExportLimit (tests
	// set less).
	exportMax int
}

// New returns the portal's handler. It serves every path it is given;
// mount it beside the API (which keeps /api/, /auth/, /healthz, …).
func New(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &server{opts: opts, log: opts.Logger, views: mustEngine(), i18n: mustCatalogue(), drafts: newDrafter(opts.SecretKey)}
	mux := http.NewServeMux()
	mux.Handle("GET /static/{file}", http.HandlerFunc(s.static))
	// Browsers ask for /favicon.ico whatever the page names.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		r.SetPathValue("file", "icon.svg")
		s.static(w, r)
	})
	mux.Handle("GET /anmelden", s.public(s.signInForm))
	mux.Handle("POST /anmelden", s.public(s.signIn))
	mux.Handle("POST /abmelden", s.public(s.signOut))
	mux.Handle("POST /sprache", s.public(s.setLanguage))
	mux.Handle("GET /{$}", s.private(s.home))
	mux.Handle("GET /tickets", s.private(s.myTickets))
	mux.Handle("GET /tickets/{number}", s.private(s.ticket))
	mux.Handle("POST /tickets/{number}", s.private(s.ticketAction))
	mux.Handle("GET /live/tickets", s.private(s.liveTickets))
	mux.Handle("GET /melden", s.private(s.reportSchool))
	mux.Handle("GET /melden/raum/{id}", s.private(s.reportRoom))
	mux.Handle("GET /melden/raum/{id}/melden", s.private(s.reportRoomForm))
	mux.Handle("POST /melden/raum/{id}/melden", s.privateUpload(s.report))
	mux.Handle("GET /melden/geraet/{id}", s.private(s.reportDevice))
	mux.Handle("POST /melden/geraet/{id}", s.privateUpload(s.report))
	mux.Handle("POST /melden/betroffen", s.private(s.meToo))
	mux.Handle("GET /gemeldet/{number}", s.private(s.reported))
	mux.Handle("GET /r/{code}", s.private(s.scan))
	mux.Handle("GET /beantragen", s.private(s.requestList))
	mux.Handle("GET /beantragen/{id}", s.private(s.serviceForm))
	mux.Handle("POST /beantragen/{id}", s.private(s.serviceRequest))
	// The staff console (console*.go): each part adds its routes here.
	s.adminRoutes(mux)
	s.dashRoutes(mux)
	s.queueRoutes(mux)
	s.deviceRoutes(mux)
	mux.Handle("/", s.public(s.notFound))

	// Cookies make browsers send credentials on their own: refuse
	// state-changing cross-origin requests (Sec-Fetch-Site / Origin), as
	// the API does.
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(s.public(func(w http.ResponseWriter, r *http.Request, rq *request) error {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "cross-origin request refused")
	}))
	return headers(csrf.Handler(mux))
}

// headers sets the security headers of every response.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// request is what a handler knows about the caller.
type request struct {
	Scope cmdb.Scope
	User  *cmdb.User // nil when signed out
	Lang  string
	tr    *translator
	names map[int64]string // people named on the page so far (console_queue.go)
}

// handler is a page handler; a returned error is rendered as an error
// page (sign-in for EUNAUTHORIZED, 404 for ENOTFOUND, …).
type handler func(w http.ResponseWriter, r *http.Request, rq *request) error

// public serves pages open without sign-in; a valid session still makes
// the caller known (for the header and the language).
func (s *server) public(h handler) http.Handler {
	return s.serve(h, false, maxForm)
}

// private serves pages that need a signed-in person: others are sent to
// the sign-in page, and back here afterwards.
func (s *server) private(h handler) http.Handler {
	return s.serve(h, true, maxForm)
}

// privateUpload is private for a form with a photo: its body may hold
// one file of the attachment limit besides the fields.
func (s *server) privateUpload(h handler) http.Handler {
	return s.serve(h, true, s.attachmentLimits().MaxFileSize+maxForm)
}

func (s *server) serve(h handler, signedIn bool, maxBody int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.Body != nil {
			// Forms are small (a comment is at most 20,000 characters),
			// but for a photo.
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		rq := &request{}
		if c, err := r.Cookie(cmdb.SessionCookie); err == nil && c.Value != "" {
			sc, err := s.opts.Accounts.Session(r.Context(), cmdb.Secret(c.Value))
			switch {
			case err == nil && sc.UserID != 0:
				sc.IP = requestMeta(r).IP
				if u, err := s.opts.Accounts.FindUserByID(r.Context(), sc, sc.UserID); err == nil {
					rq.Scope, rq.User = sc, u
				} else {
					s.log.Warn("web: session user not found", "err", err)
				}
			case cmdb.ErrorCode(err) == cmdb.EUNAUTHORIZED:
				clearSessionCookie(w)
			case err != nil:
				s.fail(w, r, s.requestLang(r, nil), err)
				return
			}
		}
		rq.Lang = s.requestLang(r, rq.User)
		rq.tr = s.i18n.translator(rq.Lang)
		if signedIn && rq.User == nil {
			s.signInFirst(w, r)
			return
		}
		if err := h(w, r, rq); err != nil {
			s.renderError(w, r, rq, err)
		}
	})
}

// signInFirst sends a signed-out caller to the sign-in page and back
// here afterwards. A form sent after the session ended keeps what was
// typed (keepDraft) and comes back to the page it was on: a form's
// action that has no page of its own (me too) goes back to the page
// that showed the form.
func (s *server) signInFirst(w http.ResponseWriter, r *http.Request) {
	next, kept := r.URL.RequestURI(), ""
	if r.Method == http.MethodPost {
		kept = s.keepDraft(w, r)
		next = r.URL.Path
		if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && kept == "" {
			next = ref.RequestURI()
		}
	}
	target := "/anmelden?next=" + url.QueryEscape(httpmeta.LocalPath(next))
	if kept != "" {
		target += "&entwurf=" + kept
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// fail answers an error before the caller is known.
func (s *server) fail(w http.ResponseWriter, r *http.Request, lang string, err error) {
	s.renderError(w, r, &request{Lang: lang, tr: s.i18n.translator(lang)}, err)
}

// renderError shows an error page in the caller's language; internal
// errors are logged with detail and shown without.
func (s *server) renderError(w http.ResponseWriter, r *http.Request, rq *request, err error) {
	code := cmdb.ErrorCode(err)
	status := http.StatusInternalServerError
	switch code {
	case cmdb.ENOTFOUND:
		status = http.StatusNotFound
	case cmdb.EFORBIDDEN:
		status = http.StatusForbidden
	case cmdb.EINVALID:
		status = http.StatusBadRequest
	case cmdb.EUNAVAILABLE:
		status = http.StatusServiceUnavailable
	case cmdb.ERATELIMITED:
		status = http.StatusTooManyRequests
	case cmdb.EUNAUTHORIZED:
		http.Redirect(w, r, "/anmelden?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	default:
		code = cmdb.EINTERNAL
		s.log.Error("web: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	s.render(w, r, rq, status, "error", "error."+code+".title", errorView{Code: code})
}

type errorView struct{ Code string }

func (s *server) notFound(w http.ResponseWriter, r *http.Request, rq *request) error {
	return cmdb.Errorf(cmdb.ENOTFOUND, "no page %s", r.URL.Path)
}

// requestMeta says where a request came from, for audit and rate limits.
func requestMeta(r *http.Request) cmdb.RequestMeta { return httpmeta.Meta(r) }

// fieldErrors maps form fields to the message shown next to them.
type fieldErrors map[string]string

// storeError turns a store's error into a message next to its field (or
// "form" when it names none): a German (or English) text from the
// catalogue for the code and field, else the generic one for the code
// with the store's own words. Internal errors go up to the error page.
func (rq *request) storeError(err error, fields ...string) (fieldErrors, error) {
	var e *cmdb.Error
	if !errors.As(err, &e) || e.Code == cmdb.EINTERNAL || e.Code == cmdb.EUNAUTHORIZED || e.Code == cmdb.ENOTFOUND {
		return nil, err
	}
	field := "form"
	for _, f := range fields {
		if f == e.Field {
			field = f
		}
	}
	msg, ok := rq.tr.lookup("error." + e.Field + "." + e.Code)
	if !ok {
		msg = rq.tr.T("error.generic."+e.Code, "Detail", e.Message)
	}
	return fieldErrors{field: msg}, nil
}
