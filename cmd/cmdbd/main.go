// Command cmdbd is the CMDB server: serve, migrate, token, demo, bench.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/schulit/cmdb/internal/buildinfo"
	"github.com/schulit/cmdb/server/agentdoor"
	"github.com/schulit/cmdb/server/api"
	"github.com/schulit/cmdb/server/bench/ingestbench"
	"github.com/schulit/cmdb/server/bench/monitorbench"
	"github.com/schulit/cmdb/server/bench/snmpbench"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/connsync"
	"github.com/schulit/cmdb/server/demo"
	"github.com/schulit/cmdb/server/oidc"
	"github.com/schulit/cmdb/server/pgembed"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/bench"
	"github.com/schulit/cmdb/server/postgres/retentionbench"
	"github.com/schulit/cmdb/server/postgres/ticketbench"
	"github.com/schulit/cmdb/server/scheduler"
	"github.com/schulit/cmdb/server/web"
	"golang.org/x/term"
	"golang.org/x/time/rate"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(NewMain().Exec(ctx, os.Args[1:]))
}

// Config is the parsed command line.
type Config struct {
	Command     string // serve, migrate, token-create, user-add, demo, bench-reconcile, version
	Listen      string
	DatabaseURL cmdb.Secret
	DataDir     string
	LogFormat   string
	LogLevel    string
	TokenName   string
	TokenTTL    time.Duration
	TokenAdmin  bool
	TokenRole   string
	TokenOrg    int64
	UserEmail   string
	UserName    string
	UserSSOOnly bool // user add: no password, single sign-on only
	PublicURL   string
	SecretKey   cmdb.Secret
	Bench       bench.Options
	BenchIngest ingestbench.Options
	// AgentReportRate and AgentReportBurst limit reports per device;
	// 0: the agent door's default (1/s, burst 10).
	AgentReportRate  float64
	AgentReportBurst int
	SNMPArgs         []string // snmp poll / simulate: their own flags, parsed when they run
	SNMPEvery        time.Duration
	SNMPScan         time.Duration
	SNMPMisses       int
	// OIDCAllowPrivate lets authorities use OpenID issuers over plain
	// http or on non-public addresses (--oidc-allow-private-issuers).
	OIDCAllowPrivate bool
	Retention        postgres.Retention // metric retention (serve, demo)
	BackupOut        string             // backup --out
	RestoreFile      string             // restore FILE
	Mail             MailConfig         // serve, demo: CMDB_SMTP_* and CMDB_IMAP_*
	// ConnectorDir holds the installed connectors (cmdb-connector-<plugin>)
	// that the API may register by name; empty: defaultConnectorDir.
	ConnectorDir string
	// ImportDir is where the files that connectors read (the csv
	// connector's settings.path) must lie when authority IT sets them
	// through the API; empty: <data dir>/import.
	ImportDir string
}

// importDir is Config.ImportDir made absolute, else <data dir>/import.
func (m *Main) importDir() string {
	d := m.Config.ImportDir
	if d == "" {
		d = filepath.Join(m.Config.DataDir, "import")
	}
	if abs, err := filepath.Abs(d); err == nil {
		d = abs
	}
	return d
}

// Main wires the adapters together for one command.
type Main struct {
	Config Config
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	log     *slog.Logger
	cluster *pgembed.Cluster
	db      *postgres.DB
	ln      net.Listener
	srv     *http.Server
	reg     *prometheus.Registry // the metrics served at /metrics
	sched   *scheduler.Scheduler
	elector *postgres.Elector
	ingest  *agentdoor.Handler
	demoSim *demo.Simulators // the demo's simulated printers, copiers and projectors
	// dbURL and dbKey are what m.db was opened with, for the demo's
	// second handle (loadDemo).
	dbURL string
	dbKey []byte
	// syncs runs scheduled connector syncs (connector_jobs.go).
	syncs *connsync.Engine
	// stopMail stops the outbox dispatcher; nil when none runs.
	stopMail func()
	serving  bool
}

// NewMain returns a Main writing to the process's stdout and stderr.
func NewMain() *Main { return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr} }

// ParseFlags parses the command and its flags; flags fall back to
// CMDB_* environment variables.
func (m *Main) ParseFlags(args []string) error {
	cmd, args, err := m.splitCommand(args)
	if err != nil {
		return err
	}
	c := &m.Config
	c.Command = cmd
	if cmd == "snmp-poll" || cmd == "snmp-simulate" || cmd == "bench-snmp" || cmd == "bench-retention" || cmd == "bench-tickets" || cmd == "bench-monitoring" || cmd == "bench-device" {
		c.SNMPArgs = args // their own flags, parsed when they run
		return nil
	}
	if connectorCommands[cmd] {
		c.SNMPArgs = args // their own flags, parsed when they run (connectors.go)
		return nil
	}
	if cmd == "restore" {
		var err error
		if c.RestoreFile, args, err = restoreArgs(args); err != nil {
			return err
		}
	}
	fs := flag.NewFlagSet("cmdbd "+strings.ReplaceAll(cmd, "-", " "), flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	var dbURL string
	fs.StringVar(&dbURL, "db", os.Getenv("CMDB_DATABASE_URL"), "PostgreSQL URL (env CMDB_DATABASE_URL); empty: private PostgreSQL in --data-dir")
	fs.StringVar(&c.DataDir, "data-dir", envOr("CMDB_DATA_DIR", "./cmdb-data"), "data directory (env CMDB_DATA_DIR)")
	fs.StringVar(&c.LogFormat, "log-format", envOr("CMDB_LOG_FORMAT", "auto"), "log format: auto, text or json (env CMDB_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", envOr("CMDB_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env CMDB_LOG_LEVEL)")
	switch cmd {
	case "serve", "demo":
		fs.StringVar(&c.Listen, "listen", envOr("CMDB_LISTEN", "127.0.0.1:8080"), "address to listen on (env CMDB_LISTEN)")
		every := 15 * time.Minute
		if cmd == "demo" {
			every = time.Minute // health events open after two polls: let the demo show them soon
		}
		fs.DurationVar(&c.SNMPEvery, "snmp-interval", every, "how often SNMP targets are polled")
		fs.DurationVar(&c.SNMPScan, "snmp-discovery-interval", 24*time.Hour, "how often discovery ranges are scanned")
		fs.IntVar(&c.SNMPMisses, "snmp-miss-limit", 3, "polls in a row a device may miss before it is marked unreachable")
		allowPrivate, _ := strconv.ParseBool(os.Getenv("CMDB_OIDC_ALLOW_PRIVATE_ISSUERS"))
		fs.BoolVar(&c.OIDCAllowPrivate, "oidc-allow-private-issuers", allowPrivate,
			"let authorities use OpenID issuers over plain http or on loopback/private addresses (env CMDB_OIDC_ALLOW_PRIVATE_ISSUERS); default: https on public addresses only")
		if err := registerRetentionFlags(fs, &c.Retention); err != nil {
			return err
		}
		fs.StringVar(&c.ConnectorDir, "connector-dir", os.Getenv("CMDB_CONNECTOR_DIR"), "directory of the installed connectors (cmdb-connector-<plugin>) that authority IT may register through the API by name (env CMDB_CONNECTOR_DIR); default: beside cmdbd if a connector lies there, else /usr/lib/cmdb/connectors if it exists")
		fs.StringVar(&c.ImportDir, "import-dir", os.Getenv("CMDB_IMPORT_DIR"), "directory the files connectors read must lie in when set through the API by authority IT (a csv connector's settings.path; env CMDB_IMPORT_DIR); default: <data-dir>/import")
		fs.StringVar(&c.PublicURL, "public-url", os.Getenv("CMDB_PUBLIC_URL"), "URL users reach the server at, for single sign-on redirects and links in mail (env CMDB_PUBLIC_URL); default http://<listen address>")
		fs.Usage = func() {
			fmt.Fprintf(fs.Output(), "Usage: cmdbd %s [flags]\n\n", cmd)
			fs.PrintDefaults()
			fmt.Fprint(fs.Output(), "\n"+mailEnv)
		}
		if c.Mail, err = mailConfigFromEnv(os.Getenv); err != nil {
			return err
		}
	case "token-create":
		fs.BoolVar(&c.TokenAdmin, "admin", false, "create a platform admin token")
		fs.StringVar(&c.TokenRole, "role", "", "role of an integration token: teacher, school_it, authority_it, provider")
		fs.Int64Var(&c.TokenOrg, "org", 0, "id of the school, authority or provider the role is held in")
		fs.StringVar(&c.TokenName, "name", "admin", "what the token is for")
		fs.DurationVar(&c.TokenTTL, "expires", 0, "lifetime such as 720h; 0: no expiry")
	case "user-add":
		fs.StringVar(&c.UserEmail, "email", "", "e-mail address (required)")
		fs.StringVar(&c.UserName, "name", "", "display name")
		fs.StringVar(&c.TokenRole, "role", "", "role: teacher, school_it, authority_it, provider, admin (required)")
		fs.Int64Var(&c.TokenOrg, "org", 0, "id of the school, authority or provider the role is held in (not for admin)")
		fs.BoolVar(&c.UserSSOOnly, "sso-only", false, "the user signs in only by single sign-on and has no password")
		fs.Usage = func() {
			fmt.Fprint(fs.Output(), "Usage: cmdbd user add --email E --role ROLE [--org ID] [--name N] [--sso-only]\n\n"+
				"The password is read from CMDB_PASSWORD, else asked for on a terminal, else read as the first\n"+
				"line of standard input; without one the user is refused unless --sso-only is given.\n\n")
			fs.PrintDefaults()
		}
	case "backup":
		fs.StringVar(&c.BackupOut, "out", "", "file to write the dump to (pg_dump custom format; required)")
	case "bench-ingest":
		c.BenchIngest.RegisterFlags(fs)
	case "bench-reconcile":
		fs.IntVar(&c.Bench.Devices, "devices", 20000, "distinct devices")
		fs.IntVar(&c.Bench.Batch, "batch", 1000, "observations per batch")
		fs.IntVar(&c.Bench.Rounds, "rounds", 3, "rounds over all devices after the initial load")
		fs.IntVar(&c.Bench.Workers, "workers", 1, "concurrent batches")
	}
	if err := fs.Parse(args); err != nil {
		return err
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.DatabaseURL = cmdb.Secret(dbURL)
	if err := c.Retention.Check(); err != nil {
		return fmt.Errorf("--%s: %s", strings.ReplaceAll(cmdb.ErrorField(err), "_", "-"), cmdb.ErrorMessage(err))
	}
	if cmd == "bench-ingest" {
		if err := c.BenchIngest.Check(); err != nil {
			return err
		}
	}
	if err := c.checkCommandFlags(); err != nil {
		return err
	}
	c.SecretKey = cmdb.Secret(os.Getenv("CMDB_SECRET_KEY"))
	if !map[string]bool{"auto": true, "text": true, "json": true}[c.LogFormat] {
		return fmt.Errorf("--log-format: must be auto, text or json, not %q", c.LogFormat)
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func (m *Main) logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(m.Config.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	format := m.Config.LogFormat
	if format == "auto" {
		format = "json"
		if f, ok := m.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(m.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(m.Stderr, opts))
}

// Serving reports whether Run started a server that runs until Close.
func (m *Main) Serving() bool { return m.serving }

// Addr returns the address the server listens on, once Run has started it.
func (m *Main) Addr() string {
	if m.ln == nil {
		return ""
	}
	return m.ln.Addr().String()
}

// Run carries out the command. For serve and demo it starts the server
// and returns; Close stops it.
func (m *Main) Run(ctx context.Context) error {
	m.log = m.logger()
	switch m.Config.Command {
	case "version":
		fmt.Fprintln(m.Stdout, "cmdbd", buildinfo.Get())
		return nil
	case "bench-reconcile":
		return m.runBench(ctx)
	case "bench-ingest":
		return m.runBenchIngest(ctx, m.Config.BenchIngest)
	case "bench-snmp":
		return quietHelp(snmpbench.Command(ctx, m.Config.SNMPArgs, m.Stdout, m.Stderr))
	case "snmp-poll":
		return quietHelp(runSNMPPoll(ctx, m.Config.SNMPArgs, m.Stdout, m.Stderr))
	case "snmp-simulate":
		return quietHelp(snmpSimulateCommand(ctx, m.Config.SNMPArgs, m.Stdout, m.Stderr))
	case "bench-retention":
		return quietHelp(retentionbench.Command(ctx, m.Config.SNMPArgs, m.Stdout, m.Stderr))
	case "bench-monitoring":
		return quietHelp(monitorbench.Command(ctx, m.Config.SNMPArgs, m.Stdout, m.Stderr))
	case "bench-device":
		return quietHelp(deviceBenchCommand(ctx, m.Config.SNMPArgs, m.Stdout, m.Stderr))
	case "bench-tickets":
		return quietHelp(ticketbench.Command(ctx, m.Config.SNMPArgs, m.Stdout, m.Stderr, ticketBenchExtras...))
	case "backup":
		return m.backup(ctx)
	case "connector-add", "connector-list", "connector-check", "connector-remove", "connector-repin", "sync-run", "bench-sync":
		return m.runConnectorCommand(ctx)
	case "restore":
		return m.restore(ctx)
	}
	if m.Config.Command == "serve" || m.Config.Command == "demo" {
		if err := m.listen(); err != nil {
			return err
		}
	}
	if err := m.openDB(ctx, m.Config.DatabaseURL.Reveal(), m.Config.DataDir); err != nil {
		return err
	}
	switch m.Config.Command {
	case "migrate":
		fmt.Fprintln(m.Stdout, "database migrated")
		return nil
	case "token-create":
		var tok cmdb.Secret
		var err error
		if m.Config.TokenAdmin {
			tok, err = m.db.CreateAdminToken(ctx, m.Config.TokenName, m.Config.TokenTTL)
		} else {
			t := &cmdb.APIToken{Name: m.Config.TokenName, Role: m.Config.TokenRole, OrgID: m.Config.TokenOrg}
			if m.Config.TokenTTL > 0 {
				exp := time.Now().Add(m.Config.TokenTTL)
				t.ExpiresAt = &exp
			}
			tok, err = m.db.CreateToken(ctx, cmdb.AdminScope("cli"), t)
		}
		if err != nil {
			return fmt.Errorf("token create: %s%s", fieldPrefix(err), cmdb.ErrorMessage(err))
		}
		fmt.Fprintln(m.Stdout, tok.Reveal())
		return nil
	case "user-add":
		return m.userAdd(ctx)
	case "demo":
		sum, err := m.loadDemo(ctx)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		m.log.Info("demo authority loaded", "authority_id", sum.Authority, "schools", sum.Schools, "rooms", sum.Rooms,
			"observations", sum.Observations, "created", sum.Created, "duplicates", sum.Duplicates, "snmp_targets", sum.Targets,
			"providers", sum.Providers, "people", sum.People, "services", sum.Services, "articles", sum.Articles,
			"tickets", sum.Tickets, "tickets_created", sum.TicketsCreated)
		if err := m.startDemoSNMP(ctx); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if m.cluster != nil {
			m.log.Info("make an API token with: cmdbd token create --admin --data-dir " + m.Config.DataDir)
		}
	}
	return m.serve(ctx)
}

// openDB opens the database at url, or starts the private PostgreSQL in
// dataDir when url is empty, and migrates it.
func (m *Main) openDB(ctx context.Context, url, dataDir string) error {
	if url == "" {
		dir, err := filepath.Abs(filepath.Join(dataDir, "pg"))
		if err != nil {
			return err
		}
		m.cluster, err = pgembed.Start(ctx, pgembed.Options{Dir: dir, Logger: m.log})
		if err != nil {
			return err
		}
		m.log.Info("private PostgreSQL running", "dir", dir, "port", m.cluster.Port())
		url = m.cluster.URL("cmdb")
	}
	key, err := m.secretKey()
	if err != nil {
		return err
	}
	m.dbURL, m.dbKey = url, key
	m.reg = prometheus.NewRegistry()
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.db, err = postgres.Open(ctx, url, postgres.Options{Logger: m.log, SecretKey: key,
		AllowPrivateIssuers: m.Config.OIDCAllowPrivate, Registry: m.reg, MetricRetention: m.Config.Retention,
		Mail: m.composer()})
	if err != nil {
		return err
	}
	return m.db.Migrate(ctx)
}

func (m *Main) serve(ctx context.Context) error {
	reg := m.reg // made with the store, which exports its reconcile metrics there
	ln := m.ln   // opened by Run before the database
	public := strings.TrimRight(m.Config.PublicURL, "/")
	if public == "" {
		public = "http://" + ln.Addr().String()
	}
	sso := oidc.New(oidc.Options{Store: m.db, BaseURL: public, SecureCookies: true, SessionCookie: api.SessionCookie,
		SessionMaxAge: m.db.SessionMaxAge(), Logger: m.log, AllowPrivateIssuers: m.Config.OIDCAllowPrivate})
	m.ingest = agentdoor.New(agentdoor.Options{Store: m.db, Logger: m.log, Registry: reg,
		ReportRate: rate.Limit(m.Config.AgentReportRate), ReportBurst: m.Config.AgentReportBurst})
	// One engine runs the API's and the scheduler's syncs in the server's
	// background; Close stops them (stopSyncs).
	m.syncs = connsync.New(connsync.Options{Store: m.db, Logger: m.log})
	handler := api.New(api.Options{Tenants: m.db, CIs: m.db, Accounts: m.db, Agents: m.db, SNMP: m.db, Tickets: m.db, Attachments: m.db, Failures: m.db, Catalogue: m.db, SLA: m.db,
		OIDCLogin: sso.Login, OIDCCallback: sso.Callback, AgentEnroll: m.ingest.Enroll, AgentReport: m.ingest.Report,
		SessionMaxAge: m.db.SessionMaxAge(), Ready: m.db.Ping, Live: m.live, Logger: m.log, Registry: reg, Build: buildinfo.Get(), PublicURL: public,
		Connectors: m.db, ConnectorBinary: m.apiConnectorBinary, CheckConnector: m.apiCheckConnector, StartSync: m.apiStartSync,
		DescribeConnector: m.apiDescribeConnector, ImportDir: m.importDir()})
	portal := web.New(web.Options{Accounts: m.db, Tickets: m.db, CIs: m.db, Tenants: m.db, KB: m.db, Catalogue: m.db, Attachments: m.db,
		Agents: m.db, SNMP: m.db, SLA: m.db, Failures: m.db, Monitoring: m.db, Dashboard: m.db, Queue: m.db, Problems: m.db,
		Labels:        ciLabels{public},
		SessionMaxAge: m.db.SessionMaxAge(), SecretKey: m.dbKey, Logger: m.log})
	m.srv = &http.Server{Handler: withPortal(handler, portal), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute,
		IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelWarn)}
	if err := m.startJobs(reg); err != nil {
		return err
	}
	m.serving = true
	srv := m.srv // Close clears m.srv; Serve returns once Shutdown has run
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("http server stopped", "err", err)
		}
	}()
	m.log.Info("serving", "url", "http://"+ln.Addr().String(), "version", buildinfo.Get().Version, "commit", buildinfo.Get().Commit)
	return nil
}

// withPortal serves the JSON API's paths with api and everything else
// with the web portal.
func withPortal(api, portal http.Handler) http.Handler {
	mux := http.NewServeMux()
	for _, p := range []string{"/api/", "/auth/", "/healthz", "/readyz", "/metrics"} {
		mux.Handle(p, api)
	}
	mux.Handle("/", portal)
	return mux
}

func (m *Main) runBench(ctx context.Context) error {
	url := m.Config.DatabaseURL.Reveal()
	dir := ""
	if url == "" {
		// A throwaway cluster, so that the benchmark never touches real data.
		var err error
		if dir, err = os.MkdirTemp("", "cmdb-bench-"); err != nil {
			return err
		}
		// Stop the cluster before its directory goes.
		defer func() { m.Close(); os.RemoveAll(dir) }()
		os.Chmod(dir, 0o755)
	}
	if err := m.openDB(ctx, url, dir); err != nil {
		return err
	}
	opts := m.Config.Bench
	opts.Out = m.Stdout
	_, err := bench.Run(ctx, m.db, opts)
	return err
}

// Close stops the server, the database pool and the private PostgreSQL.
// Calling it again does nothing.
func (m *Main) Close() error {
	var errs []error
	if m.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		errs = append(errs, m.srv.Shutdown(ctx))
		m.srv = nil
	} else if m.ln != nil {
		m.ln.Close() // listening, but the server never started
	}
	if m.stopMail != nil {
		m.stopMail() // before the database goes; what is queued stays queued
		m.stopMail = nil
	}
	if m.sched != nil {
		errs = append(errs, m.sched.Shutdown())
		m.elector.Resign()
		m.sched = nil
	}
	if m.demoSim != nil {
		errs = append(errs, m.demoSim.Close())
		m.demoSim = nil
	}
	m.stopSyncs() // background syncs and connector processes, before the database goes
	if m.ingest != nil {
		m.ingest.Close() // commits what was queued before the database goes
		m.ingest = nil
	}
	if m.db != nil {
		errs = append(errs, m.db.Close())
		m.db = nil
	}
	if m.cluster != nil {
		errs = append(errs, m.cluster.Stop())
		m.cluster = nil
	}
	return errors.Join(errs...)
}

// quietHelp turns the flag package's "help was asked for" into success:
// the usage has been printed.
func quietHelp(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// schedulerElection names the advisory lock whose holder runs the jobs.
const schedulerElection = 7_202_611_221

// startJobs schedules SNMP polling and discovery; with several replicas
// on one database only the elected one runs them. The polling round's
// metrics go to reg.
func (m *Main) startJobs(reg prometheus.Registerer) error {
	c := &m.Config
	if c.SNMPEvery <= 0 {
		c.SNMPEvery = 15 * time.Minute
	}
	if c.SNMPScan <= 0 {
		c.SNMPScan = 24 * time.Hour
	}
	if c.SNMPMisses <= 0 {
		c.SNMPMisses = 3
	}
	m.elector = m.db.NewElector(schedulerElection)
	s, err := scheduler.New(scheduler.Options{Elector: m.elector, Logger: m.log})
	if err != nil {
		return err
	}
	p, err := m.newPoller(reg)
	if err != nil {
		return err
	}
	if err := s.Every("snmp-poll", m.Config.SNMPEvery, func(ctx context.Context) {
		if err := p.Round(ctx); err != nil {
			m.log.Error("SNMP polling round", "err", err)
		}
	}); err != nil {
		return err
	}
	if err := s.Every("snmp-discovery", m.Config.SNMPScan, func(ctx context.Context) {
		if err := p.Discover(ctx); err != nil {
			m.log.Error("SNMP discovery", "err", err)
		}
	}); err != nil {
		return err
	}
	if err := m.scheduleRetention(s); err != nil {
		return err
	}
	if err := m.scheduleConnectors(s); err != nil {
		return err
	}
	if err := m.startMail(context.Background(), s); err != nil {
		s.Shutdown()
		return err
	}
	// The assignee group hears of a due time before it passes (once per
	// due time, by mail when a relay is configured).
	if err := s.Every("sla-warnings", time.Minute, func(ctx context.Context) {
		if n, err := m.db.WarnSLA(ctx); err != nil {
			m.log.Error("SLA warnings", "err", err)
		} else if n > 0 {
			m.log.Info("SLA warnings", "count", n)
		}
	}); err != nil {
		return err
	}
	// Resolved tickets the reporter did not reopen close themselves.
	if err := s.Every("ticket-autoclose", time.Hour, func(ctx context.Context) {
		if n, err := m.db.CloseResolvedTickets(ctx, cmdb.DefaultReopenWindow); err != nil {
			m.log.Error("closing resolved tickets", "err", err)
		} else if n > 0 {
			m.log.Info("closed resolved tickets", "count", n)
		}
	}); err != nil {
		return err
	}
	// Repeat-failure flags clear when their window passes: daily, and
	// once at start so a server that was down catches up.
	if err := s.EveryFromStart("repeat-failures", 24*time.Hour, func(ctx context.Context) {
		if set, cleared, err := m.db.RecomputeAllRepeatFailures(ctx); err != nil {
			m.log.Error("recomputing repeat failures", "err", err)
		} else if set+cleared > 0 {
			m.log.Info("recomputed repeat failures", "set", set, "cleared", cleared)
		}
	}); err != nil {
		return err
	}
	m.sched = s
	s.Start()
	return nil
}
