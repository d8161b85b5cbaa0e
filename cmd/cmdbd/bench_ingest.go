package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/schulit/cmdb/server/agentdoor/loadgen"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
)

// benchIngestOptions are the flags of "cmdbd bench ingest".
type benchIngestOptions struct {
	// URL is a server already running on this machine; empty: the bench
	// starts a server in-process (on a throwaway private PostgreSQL
	// unless --db is given) and an enrolment token for it.
	URL            string
	EnrolmentToken string // with URL
	Agents         int
	Duration       time.Duration
	Rate           float64 // reports/s per agent
	Concurrency    int
	CPUProfile     string // file for a CPU profile of the load phase (server and load generator)
}

// The server allows each device 1 report/s with a burst of 10 (ingest's
// default), so the default load is many agents at 1/s.
const (
	defaultBenchAgents = 5000
	defaultBenchRate   = 1
	serverDeviceRate   = 1
	// Real agents each have their own connection, so the requests in
	// flight grow with the server's latency (5000/s × 100 ms = 500); a
	// smaller worker pool would cap the load at workers/latency.
	defaultBenchConcurrency = 512
)

// registerFlags adds the flags of "cmdbd bench ingest" to fs.
func (o *benchIngestOptions) registerFlags(fs *flag.FlagSet) {
	fs.IntVar(&o.Agents, "agents", defaultBenchAgents, "simulated agents")
	fs.DurationVar(&o.Duration, "duration", 30*time.Second, "load phase after enrolment")
	fs.Float64Var(&o.Rate, "rate", defaultBenchRate, "reports per second per agent in the load phase (the server allows 1/s per device, burst 10)")
	fs.IntVar(&o.Concurrency, "concurrency", defaultBenchConcurrency, "HTTP workers of the load generator (requests in flight at most)")
	fs.StringVar(&o.URL, "url", "", "base URL of a server running on this machine; empty: start one in-process")
	fs.StringVar(&o.EnrolmentToken, "enrolment-token", os.Getenv("CMDB_ENROLMENT_TOKEN"),
		"with --url: enrolment token with enough uses left (env CMDB_ENROLMENT_TOKEN)")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of this process (server and load generator) during the load phase to `file` (for go tool pprof)")
}

// check validates the options after parsing.
func (o *benchIngestOptions) check() error {
	switch {
	case o.Agents < 1 || o.Agents > 100000:
		return errors.New("bench ingest: --agents must be between 1 and 100000")
	case o.Duration <= 0:
		return errors.New("bench ingest: --duration must be positive")
	case o.Rate <= 0:
		return errors.New("bench ingest: --rate must be positive")
	case o.Concurrency < 1:
		return errors.New("bench ingest: --concurrency must be at least 1")
	case o.URL != "" && o.EnrolmentToken == "":
		return errors.New("bench ingest: --url needs --enrolment-token")
	}
	return nil
}

// runBenchIngest is "cmdbd bench ingest": it loads the agent door with
// simulated agents (see loadgen.Run) and then checks that every
// acknowledged report is in the database. Without --url it starts the
// server in-process, on a throwaway private PostgreSQL unless --db names
// a database, and stops both at the end; with --url it loads that server
// and checks the database only if --db is given.
func (m *Main) runBenchIngest(ctx context.Context, o benchIngestOptions) error {
	_, _, err := m.benchIngest(ctx, o)
	return err
}

// benchIngest does the work of runBenchIngest and returns the figures and
// the number of devices whose acknowledged reports are missing (-1 when
// not checked).
func (m *Main) benchIngest(ctx context.Context, o benchIngestOptions) (*loadgen.Result, int, error) {
	if err := o.check(); err != nil {
		return nil, -1, err
	}
	if m.log == nil {
		m.log = m.logger()
	}
	lopts := loadgen.Options{URL: o.URL, EnrolmentToken: o.EnrolmentToken, Agents: o.Agents, Duration: o.Duration,
		Rate: o.Rate, Concurrency: o.Concurrency, Out: m.Stdout}
	if o.URL == "" {
		url := m.Config.DatabaseURL.Reveal()
		if url == "" {
			// A throwaway cluster, so that the benchmark never touches real data.
			dir, err := os.MkdirTemp("", "cmdb-bench-")
			if err != nil {
				return nil, -1, err
			}
			os.Chmod(dir, 0o755) // as root, PostgreSQL runs as the postgres user
			defer os.RemoveAll(dir)
			m.Config.DataDir = dir
		}
		// Stop the server and the cluster before the directory goes (defers
		// run last in, first out), and do not leave main waiting as for serve.
		defer func() { m.Close(); m.serving = false }()
		if err := m.openDB(ctx, url, m.Config.DataDir); err != nil {
			return nil, -1, err
		}
		m.Config.Listen, m.Config.PublicURL = "127.0.0.1:0", ""
		if o.Rate > serverDeviceRate {
			// Let each simulated device report at the bench's rate, with room for jitter.
			m.Config.AgentReportRate, m.Config.AgentReportBurst = 2*o.Rate, 20
		}
		if err := m.serve(ctx); err != nil {
			return nil, -1, err
		}
		tok, err := m.benchEnrolmentToken(ctx, o.Agents)
		if err != nil {
			return nil, -1, err
		}
		lopts.URL, lopts.EnrolmentToken = "http://"+m.Addr(), tok
		fmt.Fprintf(m.Stdout, "bench ingest: server at %s, %d agents at %g reports/s each for %s\n", lopts.URL, o.Agents, o.Rate, o.Duration)
	}
	if o.CPUProfile != "" {
		// The load phase only: enrolment is not what the figures are about.
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return nil, -1, fmt.Errorf("bench ingest: --cpuprofile: %w", err)
		}
		defer f.Close()
		lopts.OnLoad = func() {
			if err := pprof.StartCPUProfile(f); err != nil {
				fmt.Fprintf(m.Stdout, "bench ingest: --cpuprofile: %v\n", err)
			}
		}
		defer pprof.StopCPUProfile()
	}
	res, err := loadgen.Run(ctx, lopts)
	if err != nil {
		return res, -1, err
	}

	// Every acknowledged report must have been committed.
	db := m.db
	if db == nil {
		url := m.Config.DatabaseURL.Reveal()
		if url == "" {
			fmt.Fprintln(m.Stdout, "lost: not checked (pass --db to check the server's database)")
			return res, -1, nil
		}
		if db, err = postgres.Open(ctx, url, postgres.Options{MaxOpenConns: 2}); err != nil {
			return res, -1, err
		}
		defer db.Close()
	}
	lost, err := loadgen.Verify(ctx, db.SQL(), res.AckedSeq)
	if err != nil {
		return res, -1, err
	}
	if lost > 0 {
		fmt.Fprintf(m.Stdout, "lost: %d (devices whose acknowledged report is not in the database)\n", lost)
		return res, lost, fmt.Errorf("bench ingest: %d devices lack an acknowledged report in the database", lost)
	}
	fmt.Fprintln(m.Stdout, "lost: 0 (every acknowledged report is in the database)")
	return res, 0, nil
}

// benchEnrolmentToken makes an authority, a school and an enrolment token
// for agents devices in m.db and returns the token.
func (m *Main) benchEnrolmentToken(ctx context.Context, agents int) (string, error) {
	scope := cmdb.AdminScope("bench")
	code := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	a := &cmdb.Authority{Code: code, Name: "Bench ingest " + code}
	if err := m.db.CreateAuthority(ctx, scope, a); err != nil {
		return "", fmt.Errorf("bench ingest: %w", err)
	}
	s := &cmdb.School{AuthorityID: a.ID, Code: "bench", Name: "Bench school"}
	if err := m.db.CreateSchool(ctx, scope, s); err != nil {
		return "", fmt.Errorf("bench ingest: %w", err)
	}
	tok, err := m.db.CreateEnrolmentToken(ctx, scope, &cmdb.EnrolmentToken{SchoolID: s.ID, Name: "bench ingest", MaxUses: agents})
	if err != nil {
		return "", fmt.Errorf("bench ingest: %w", err)
	}
	return tok.Reveal(), nil
}
