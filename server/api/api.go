// Package api is the JSON HTTP API under /api/v1/, plus /healthz,
// /readyz and /metrics. Handlers decode, call the store with the caller's
// scope and encode; the store enforces tenancy.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/schulit/cmdb/internal/buildinfo"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/httperr"
	"github.com/schulit/cmdb/server/httpmeta"
)

// Options configures a Server.
type Options struct {
	Tenants  cmdb.TenantStore
	CIs      cmdb.CIStore
	Accounts cmdb.AccountStore
	Agents   cmdb.AgentStore
	SNMP     cmdb.SNMPStore
	Tickets  cmdb.TicketStore
	// Attachments keeps the photos and PDFs of tickets; AttachmentLimits
	// bound them (zero fields: the defaults), the store's the same.
	Attachments      cmdb.AttachmentStore
	AttachmentLimits cmdb.AttachmentLimits
	// Failures keeps the repeat-failure flags and finds model patterns.
	Failures cmdb.FailureStore
	// Monitoring keeps the monitoring rules; nil: Tickets, when it is
	// one too.
	Monitoring cmdb.MonitoringStore
	// SLA keeps the authorities' business calendars and SLA targets;
	// nil: Tickets, when it is one too.
	SLA cmdb.SLAStore
	// Catalogue keeps the service catalogue and the authorities' own
	// ticket categories.
	Catalogue cmdb.CatalogueStore
	// KB keeps the knowledge base, Problems the problems behind
	// incidents; nil: Tickets, when it is one too.
	KB       cmdb.KBStore
	Problems cmdb.ProblemStore
	// Connectors keeps connector instances and their runs; nil: Tickets,
	// when it is one too.
	Connectors cmdb.ConnectorStore
	// ConnectorBinary resolves an installed plugin's name, or (admins) a
	// path, to an executable that is a connector, pinned by its SHA-256.
	// CheckConnector runs the instance's Check. StartSync starts a run in
	// the server's background — owned by the server, stopped when it
	// closes, never by the request — and returns the run as it started;
	// ECONFLICT while one runs. All nil: the connector routes answer 501.
	// ImportDir is the directory a connector's settings.path (the file
	// it reads) must lie in, unless a platform admin sets it; empty: no
	// caller but an admin may name a file.
	ImportDir       string
	ConnectorBinary func(ctx context.Context, sc cmdb.Scope, plugin, path string) (ConnectorBinary, error)
	CheckConnector  func(ctx context.Context, sc cmdb.Scope, inst *cmdb.ConnectorInstance) (ConnectorCheck, error)
	StartSync       func(sc cmdb.Scope, inst *cmdb.ConnectorInstance, o SyncOptions) (*cmdb.ConnectorRun, error)
	// DescribeConnector starts an instance's pinned executable and says
	// whether it can push (before push is turned on).
	DescribeConnector func(ctx context.Context, sc cmdb.Scope, inst *cmdb.ConnectorInstance) (canPush bool, err error)
	// AgentEnroll and AgentReport serve the agents
	// (/api/v1/agent/enroll and /api/v1/agent/report); nil: not offered.
	AgentEnroll, AgentReport http.HandlerFunc
	// OIDCLogin and OIDCCallback serve single sign-on
	// (/auth/oidc/{authority}/login and …/callback); nil: not offered.
	OIDCLogin, OIDCCallback http.HandlerFunc
	// SessionMaxAge is the lifetime of the session cookie.
	SessionMaxAge time.Duration
	// Live, if set, reports whether the process can go on at all; /healthz
	// answers 503 when it fails (the process is about to exit).
	Live func() error
	// Ready reports whether the server can serve (database reachable
	// and migrated).
	Ready  func(ctx context.Context) error
	Logger *slog.Logger
	// Registry receives the HTTP metrics and is served at /metrics.
	Registry *prometheus.Registry
	// Build is the server's version, shown by /healthz and as the
	// cmdb_build_info gauge.
	Build buildinfo.Info
	// PublicURL is the address people reach the server at, for the QR
	// codes of labels; empty: the address of the request.
	PublicURL string
}

// Server serves the API.
type Server struct {
	opts     Options
	log      *slog.Logger
	mux      *http.ServeMux
	handler  http.Handler
	limit    httpmeta.SignInLimiter
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// Route is one entry of the route table. Auth routes require a caller:
// a bearer token or a session cookie. The access-matrix test walks this
// table.
type Route struct {
	Method, Pattern string
	Auth            bool
	handler         handlerFunc
}

// handlerFunc is a handler that gets the caller's scope and returns its
// error for the wrapper to encode.
type handlerFunc func(w http.ResponseWriter, r *http.Request, s cmdb.Scope) error

// New returns a Server with all routes registered.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.Monitoring == nil {
		opts.Monitoring, _ = opts.Tickets.(cmdb.MonitoringStore)
	}
	if opts.SLA == nil {
		opts.SLA, _ = opts.Tickets.(cmdb.SLAStore)
	}
	if opts.KB == nil {
		opts.KB, _ = opts.Tickets.(cmdb.KBStore)
	}
	if opts.Problems == nil {
		opts.Problems, _ = opts.Tickets.(cmdb.ProblemStore)
	}
	s := &Server{opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cmdb_http_requests_total",
		Help: "HTTP requests by route and status code."}, []string{"route", "code"})
	s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cmdb_http_request_duration_seconds",
		Help: "HTTP request duration by route.", Buckets: prometheus.DefBuckets}, []string{"route"})
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: "cmdb_build_info", Help: "Always 1; the labels say which build runs.",
		ConstLabels: prometheus.Labels{"version": opts.Build.Version, "commit": opts.Build.Commit, "goversion": opts.Build.GoVersion}})
	build.Set(1)
	opts.Registry.MustRegister(s.requests, s.duration, build)
	for _, rt := range s.Routes() {
		s.mux.Handle(rt.Method+" "+rt.Pattern, s.wrap(rt))
	}
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{}))
	// Unknown paths and wrong methods answer JSON too, not Go's text.
	for _, p := range []string{"/api/", "/auth/", "/healthz", "/readyz", "/metrics"} {
		s.mux.HandleFunc(p, s.notFound)
	}
	if opts.AgentEnroll != nil {
		s.mux.HandleFunc("POST /api/v1/agent/enroll", opts.AgentEnroll)
		s.mux.HandleFunc("POST /api/v1/agent/report", opts.AgentReport)
	}
	if opts.OIDCLogin != nil {
		s.mux.HandleFunc("GET /auth/oidc/{authority}/login", opts.OIDCLogin)
		s.mux.HandleFunc("GET /auth/oidc/{authority}/callback", opts.OIDCCallback)
	}
	// Cookies make browsers send credentials on their own: refuse
	// state-changing cross-origin requests (Sec-Fetch-Site / Origin).
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httperr.Write(w, cmdb.Errorf(cmdb.EFORBIDDEN, "Cross-origin request refused."))
	}))
	// NUL bytes and invalid UTF-8 in query and path values answer 400
	// naming the parameter, before any handler (PostgreSQL refuses them).
	s.handler = csrf.Handler(checkParams(s.mux, s.mux))
	return s
}

// notFound answers unknown API paths with 404, and known paths asked
// with the wrong method with 405 and an Allow header.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{"GET", "POST", "PATCH", "PUT", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); strings.Contains(p, " ") { // a route, not a catch-all of New
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		httperr.Write(w, cmdb.Errorf(cmdb.EMETHODNOTALLOWED, "%s is not allowed here; use %s.", r.Method, strings.Join(allow, " or ")))
		return
	}
	writeError(w, r, s.log, cmdb.Errorf(cmdb.ENOTFOUND, "No such API endpoint: %s %s.", r.Method, r.URL.Path))
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Routes returns the route table.
func (s *Server) Routes() []Route {
	set := s.settings()
	return append([]Route{
		{"GET", "/healthz", false, s.healthz},
		{"GET", "/readyz", false, s.readyz},
		{"GET", "/api/v1/openapi.yaml", false, serveOpenAPI},
		{"POST", "/auth/login", false, s.login},
		{"POST", "/auth/logout", false, s.logout},
		{"POST", "/auth/logout-everywhere", true, s.logoutEverywhere},
		{"GET", "/auth/me", true, s.me},
		{"GET", "/api/v1/users", true, listAll(s.opts.Accounts, cmdb.AccountStore.FindUsers)},
		{"POST", "/api/v1/users", true, s.createUser},
		{"GET", "/api/v1/users/{id}", true, getOne(s.opts.Accounts, cmdb.AccountStore.FindUserByID)},
		{"PATCH", "/api/v1/users/{id}", true, s.updateUser},
		{"PUT", "/api/v1/users/{id}/password", true, s.setPassword},
		{"PUT", "/api/v1/users/{id}/language", true, s.setLanguage},
		{"POST", "/api/v1/users/{id}/memberships", true, s.addMembership},
		{"POST", "/api/v1/users/{id}/unlock", true, noContent(func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.Accounts.Unlock(r.Context(), sc, id)
		})},
		{"POST", "/api/v1/users/{id}/deactivate", true, noContent(func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.Accounts.SetUserActive(r.Context(), sc, id, false)
		})},
		{"POST", "/api/v1/users/{id}/activate", true, noContent(func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.Accounts.SetUserActive(r.Context(), sc, id, true)
		})},
		{"POST", "/api/v1/users/{id}/sign-out-everywhere", true, noContent(func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.Accounts.SignOutEverywhere(r.Context(), sc, id, requestMeta(r))
		})},
		{"DELETE", "/api/v1/memberships/{id}", true, noContent(func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.Accounts.RemoveMembership(r.Context(), sc, id)
		})},
		{"GET", "/api/v1/tokens", true, listAll(s.opts.Accounts, cmdb.AccountStore.FindTokens)},
		{"POST", "/api/v1/tokens", true, s.createToken},
		{"DELETE", "/api/v1/tokens/{id}", true, noContent(func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.Accounts.RevokeToken(r.Context(), sc, id)
		})},
		{"GET", "/api/v1/audit", true, s.listAudit},
		{"GET", "/api/v1/enrolment-tokens", true, s.listEnrolmentTokens},
		{"POST", "/api/v1/enrolment-tokens", true, s.createEnrolmentToken},
		{"DELETE", "/api/v1/enrolment-tokens/{id}", true, noContent(func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.Agents.RevokeEnrolmentToken(r.Context(), sc, id)
		})},
		{"GET", "/api/v1/cis/{id}/software", true, listOfCI(s.opts.Agents, cmdb.AgentStore.FindSoftware)},
		{"GET", "/api/v1/cis/{id}/metrics", true, s.listMetrics},
		{"GET", "/api/v1/cis/{id}/health-events", true, listOfCI(s.opts.SNMP, cmdb.SNMPStore.FindHealthEvents)},
		{"GET", "/api/v1/schools/{id}/snmp-credentials", true, listOfCI(s.opts.SNMP, cmdb.SNMPStore.FindSNMPCredentials)},
		{"POST", "/api/v1/schools/{id}/snmp-credentials", true, s.createSNMPCredential},
		{"DELETE", "/api/v1/snmp-credentials/{id}", true, noContent(func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.SNMP.DeleteSNMPCredential(r.Context(), sc, id)
		})},
		{"GET", "/api/v1/snmp-targets", true, schoolList(func(r *http.Request, sc cmdb.Scope, school int64) ([]*cmdb.SNMPTarget, error) {
			return s.opts.SNMP.FindSNMPTargets(r.Context(), sc, school)
		})},
		{"POST", "/api/v1/snmp-targets", true, s.createSNMPTarget},
		{"DELETE", "/api/v1/snmp-targets/{id}", true, noContent(func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.SNMP.DeleteSNMPTarget(r.Context(), sc, id)
		})},
		{"GET", "/api/v1/snmp-ranges", true, schoolList(func(r *http.Request, sc cmdb.Scope, school int64) ([]*cmdb.SNMPRange, error) {
			return s.opts.SNMP.FindSNMPRanges(r.Context(), sc, school)
		})},
		{"POST", "/api/v1/snmp-ranges", true, s.createSNMPRange},
		{"DELETE", "/api/v1/snmp-ranges/{id}", true, noContent(func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.SNMP.DeleteSNMPRange(r.Context(), sc, id)
		})},
		{"PUT", "/api/v1/authorities/{id}/oidc", true, s.setOIDC},
		{"GET", "/api/v1/authorities/{id}/oidc", true, s.getOIDC},
		{"GET", "/api/v1/authorities", true, listAll(s.opts.Tenants, cmdb.TenantStore.FindAuthorities)},
		{"POST", "/api/v1/authorities", true, s.createAuthority},
		{"GET", "/api/v1/authorities/{id}", true, getOne(s.opts.Tenants, cmdb.TenantStore.FindAuthorityByID)},
		{"GET", "/api/v1/authorities/{id}/tree", true, s.getTree},
		{"GET", "/api/v1/schools", true, listTenants(s.opts.Tenants, cmdb.TenantStore.FindSchools)},
		{"POST", "/api/v1/schools", true, s.createSchool},
		{"GET", "/api/v1/schools/{id}", true, getOne(s.opts.Tenants, cmdb.TenantStore.FindSchoolByID)},
		{"GET", "/api/v1/schools/{id}/labels", true, s.schoolLabels},
		{"PATCH", "/api/v1/schools/{id}", true, rename(s.opts.Tenants, cmdb.TenantStore.UpdateSchool)},
		{"DELETE", "/api/v1/schools/{id}", true, noContent(func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.Tenants.DeleteSchool(r.Context(), sc, id)
		})},
		{"GET", "/api/v1/buildings", true, listTenants(s.opts.Tenants, cmdb.TenantStore.FindBuildings)},
		{"POST", "/api/v1/buildings", true, s.createBuilding},
		{"GET", "/api/v1/buildings/{id}", true, getOne(s.opts.Tenants, cmdb.TenantStore.FindBuildingByID)},
		{"PATCH", "/api/v1/buildings/{id}", true, rename(s.opts.Tenants, cmdb.TenantStore.UpdateBuilding)},
		{"DELETE", "/api/v1/buildings/{id}", true, noContent(func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.Tenants.DeleteBuilding(r.Context(), sc, id)
		})},
		{"GET", "/api/v1/rooms", true, listTenants(s.opts.Tenants, cmdb.TenantStore.FindRooms)},
		{"POST", "/api/v1/rooms", true, s.createRoom},
		{"GET", "/api/v1/rooms/{id}", true, getOne(s.opts.Tenants, cmdb.TenantStore.FindRoomByID)},
		{"GET", "/api/v1/rooms/{id}/labels", true, s.roomLabels},
		{"PATCH", "/api/v1/rooms/{id}", true, rename(s.opts.Tenants, cmdb.TenantStore.UpdateRoom)},
		{"DELETE", "/api/v1/rooms/{id}", true, noContent(func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.Tenants.DeleteRoom(r.Context(), sc, id)
		})},
		{"GET", "/api/v1/providers", true, listAll(s.opts.Tenants, cmdb.TenantStore.FindProviders)},
		{"POST", "/api/v1/providers", true, s.createProvider},
		{"POST", "/api/v1/providers/{id}/contracts", true, s.addContract},
		{"GET", "/api/v1/cis", true, s.listCIs},
		{"POST", "/api/v1/cis", true, s.createCI},
		{"GET", "/api/v1/cis/{id}", true, s.getCI},
		{"PATCH", "/api/v1/cis/{id}", true, s.updateCI},
		{"GET", "/api/v1/cis/{id}/identifiers", true, listOfCI(s.opts.CIs, cmdb.CIStore.FindIdentifiers)},
		{"GET", "/api/v1/cis/{id}/provenance", true, s.getProvenance},
		{"GET", "/api/v1/cis/{id}/locks", true, listOfCI(s.opts.CIs, cmdb.CIStore.FindLocks)},
		{"DELETE", "/api/v1/cis/{id}/locks/{attr}", true, s.releaseLock},
		{"GET", "/api/v1/cis/{id}/history", true, s.listHistory},
		{"GET", "/api/v1/cis/{id}/relations", true, listOfCI(s.opts.CIs, cmdb.CIStore.FindRelations)},
		{"POST", "/api/v1/cis/{id}/merge", true, s.mergeCI},
		{"GET", "/api/v1/locks", true, s.listLocks},
		{"POST", "/api/v1/relations", true, s.createRelation},
		{"DELETE", "/api/v1/relations/{id}", true, noContent(func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.CIs.DeleteRelation(r.Context(), sc, id)
		})},
		{"GET", "/api/v1/duplicates", true, s.listDuplicates},
		{"POST", "/api/v1/duplicates/{id}/merge", true, s.mergeDuplicate},
		{"POST", "/api/v1/duplicates/{id}/dismiss", true, noContent(func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.CIs.DismissDuplicate(r.Context(), sc, id)
		})},
		{"POST", "/api/v1/observations", true, s.postObservations},
		{"GET", "/api/v1/tickets", true, s.listTickets},
		{"POST", "/api/v1/tickets", true, s.createTicket},
		{"GET", "/api/v1/tickets/{id}", true, s.getTicket},
		{"PATCH", "/api/v1/tickets/{id}", true, s.updateTicket},
		{"GET", "/api/v1/tickets/{id}/comments", true, s.listTicketComments},
		{"POST", "/api/v1/tickets/{id}/comments", true, s.addTicketComment},
		{"POST", "/api/v1/tickets/{id}/watchers", true, s.addTicketWatcher},
		{"GET", "/api/v1/tickets/{id}/history", true, s.listTicketHistory},
		{"GET", "/api/v1/tickets/{id}/attachments", true, s.listTicketAttachments},
		{"POST", "/api/v1/tickets/{id}/attachments", true, s.addTicketAttachment},
		{"GET", "/api/v1/tickets/{id}/attachments/{aid}", true, s.getTicketAttachment},
		{"GET", "/api/v1/cis/{id}/tickets", true, listOfCI(s.opts.Tickets, cmdb.TicketStore.FindCITickets)},
		{"GET", "/api/v1/ticket-categories", true, s.listTicketCategories},
		{"POST", "/api/v1/ticket-categories", true, s.createTicketCategory},
		{"PATCH", "/api/v1/ticket-categories/{id}", true, s.updateTicketCategory},
		{"DELETE", "/api/v1/ticket-categories/{id}", true, s.deactivateTicketCategory},
		{"GET", "/api/v1/services", true, s.listServices},
		{"POST", "/api/v1/services", true, s.createService},
		{"GET", "/api/v1/services/{id}", true, s.getService},
		{"PATCH", "/api/v1/services/{id}", true, s.updateService},
		{"DELETE", "/api/v1/services/{id}", true, s.deactivateService},
		{"GET", "/api/v1/authorities/{id}/priority-matrix", true, set["priority-matrix"][0]},
		{"PUT", "/api/v1/authorities/{id}/priority-matrix", true, set["priority-matrix"][1]},
		{"POST", "/api/v1/tickets/{id}/merge", true, s.mergeTicket},
		{"GET", "/api/v1/authorities/{id}/repeat-failure-rule", true, set["repeat-failure-rule"][0]},
		{"PUT", "/api/v1/authorities/{id}/repeat-failure-rule", true, set["repeat-failure-rule"][1]},
		{"GET", "/api/v1/authorities/{id}/pattern-rule", true, set["pattern-rule"][0]},
		{"PUT", "/api/v1/authorities/{id}/pattern-rule", true, set["pattern-rule"][1]},
		{"GET", "/api/v1/repeat-failures", true, s.listRepeatFailures},
		{"GET", "/api/v1/failure-patterns", true, s.listFailurePatterns},
		{"GET", "/api/v1/authorities/{id}/monitoring-rules", true, set["monitoring-rules"][0]},
		{"PUT", "/api/v1/authorities/{id}/monitoring-rules", true, set["monitoring-rules"][1]},
		{"GET", "/api/v1/authorities/{id}/calendar", true, set["calendar"][0]},
		{"PUT", "/api/v1/authorities/{id}/calendar", true, set["calendar"][1]},
		{"GET", "/api/v1/authorities/{id}/sla-targets", true, set["sla-targets"][0]},
		{"PUT", "/api/v1/authorities/{id}/sla-targets", true, set["sla-targets"][1]},
		{"GET", "/api/v1/authorities/{id}/holidays", true, s.listHolidays},
		{"GET", "/api/v1/kb-articles", true, s.listKBArticles},
		{"POST", "/api/v1/kb-articles", true, s.createKBArticle},
		{"GET", "/api/v1/kb-articles/{id}", true, s.getKBArticle},
		{"PATCH", "/api/v1/kb-articles/{id}", true, s.updateKBArticle},
		{"DELETE", "/api/v1/kb-articles/{id}", true, s.deleteKBArticle},
		{"POST", "/api/v1/tickets/{id}/kb-draft", true, s.draftKBArticle},
		{"GET", "/api/v1/problems", true, s.listProblems},
		{"POST", "/api/v1/problems", true, s.createProblem},
		{"GET", "/api/v1/problems/{id}", true, s.getProblem},
		{"PATCH", "/api/v1/problems/{id}", true, s.updateProblem},
		{"GET", "/api/v1/problems/{id}/history", true, s.listProblemHistory},
		{"PUT", "/api/v1/problems/{id}/tickets/{ticket_id}", true, s.problemTicket(true)},
		{"DELETE", "/api/v1/problems/{id}/tickets/{ticket_id}", true, s.problemTicket(false)},
	}, s.connectorRoutes()...)
}

type scopeKey struct{}

// wrap adds authentication, metrics, logging and error encoding.
func (s *Server) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: 200}
		var scope cmdb.Scope
		err := func() error {
			if !rt.Auth {
				return nil
			}
			h := r.Header.Get("Authorization")
			tok := ""
			if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
				tok = h[7:]
			}
			var err error
			if c, cerr := r.Cookie(SessionCookie); tok == "" && cerr == nil && c.Value != "" {
				if scope, err = s.opts.Accounts.Session(r.Context(), cmdb.Secret(c.Value)); err != nil {
					clearSessionCookie(rec)
					return err
				}
				scope.IP = requestMeta(r).IP
				return nil
			}
			if tok == "" {
				rec.Header().Set("WWW-Authenticate", `Bearer realm="cmdb"`)
				return cmdb.Errorf(cmdb.EUNAUTHORIZED, "Sign in, or send a bearer token (Authorization: Bearer <token>).")
			}
			defer func() { scope.IP = requestMeta(r).IP }()
			if scope, err = s.opts.Accounts.Authenticate(r.Context(), strings.TrimSpace(tok)); err != nil {
				if cmdb.ErrorCode(err) == cmdb.EUNAUTHORIZED {
					rec.Header().Set("WWW-Authenticate", `Bearer realm="cmdb", error="invalid_token"`)
				}
				return err
			}
			return nil
		}()
		if err == nil {
			err = rt.handler(rec, r.WithContext(context.WithValue(r.Context(), scopeKey{}, scope)), scope)
		}
		if err != nil {
			writeError(rec, r, s.log, err)
		}
		s.requests.WithLabelValues(rt.Pattern, strconv.Itoa(rec.code)).Inc()
		s.duration.WithLabelValues(rt.Pattern).Observe(time.Since(start).Seconds())
		s.log.Debug("request", "method", r.Method, "route", rt.Pattern, "status", rec.code,
			"duration_ms", time.Since(start).Milliseconds(), "subject", scope.Subject)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// ErrorBody is the JSON shape of every error response (httperr.Body).
type ErrorBody = httperr.Body

func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if cmdb.ErrorCode(err) == cmdb.EINTERNAL {
		log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	httperr.Write(w, err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Body size limits.
const (
	maxBody             = 1 << 20
	maxObservationsBody = 64 << 20
)

// decode reads a JSON body strictly: unknown fields, trailing data and
// wrong types are errors that name the field.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.Decode(&struct{}{}) != io.EOF {
			return cmdb.Invalid("body", "must hold exactly one JSON value")
		}
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return cmdb.Invalid("body", "must be at most %d bytes", mbe.Limit)
	case errors.As(err, &syn):
		return cmdb.Invalid("body", "malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		return cmdb.Invalid(typ.Field, "must be a JSON %s, not %s", jsonType(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return cmdb.Invalid("body", "malformed JSON: body is empty or cut short")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return cmdb.Invalid(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "is not a known field")
	}
	return cmdb.Invalid("body", "malformed JSON: %s", err.Error())
}

func jsonType(kind string) string {
	switch kind {
	case "int", "int64", "int32", "float64", "uint", "uint64":
		return "number"
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	case "bool":
		return "boolean"
	}
	return kind
}

// pathID parses a numeric path parameter.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, cmdb.Invalid(name, "must be a positive integer id")
	}
	return id, nil
}

// queryInt parses an optional integer query parameter.
func queryInt(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, cmdb.Invalid(name, "must be a non-negative integer")
	}
	return n, nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ cmdb.Scope) error {
	if s.opts.Live != nil && s.opts.Live() != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "failing", "version": s.opts.Build.Version, "commit": s.opts.Build.Commit})
		return nil
	}
	writeJSON(w, 200, map[string]string{"status": "ok", "version": s.opts.Build.Version, "commit": s.opts.Build.Commit})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request, _ cmdb.Scope) error {
	if s.opts.Ready != nil {
		if err := s.opts.Ready(r.Context()); err != nil {
			s.log.Warn("not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return nil
		}
	}
	writeJSON(w, 200, map[string]string{"status": "ready"})
	return nil
}
