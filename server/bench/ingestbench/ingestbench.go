// Package ingestbench is "cmdbd bench ingest": simulated agents load the
// agent door (see loadgen.Run), then every acknowledged report is looked
// for in the database.
package ingestbench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/schulit/cmdb/server/agentdoor/loadgen"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
)

// Options are the flags of "cmdbd bench ingest".
type Options struct {
	// URL is a server already running on this machine; empty: the bench
	// starts a server in-process (Env.Start) and an enrolment token for it.
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
	defaultAgents = 5000
	defaultRate   = 1
	// ServerDeviceRate is the reports/s per device the agent door allows
	// by default.
	ServerDeviceRate = 1
	// Real agents each have their own connection, so the requests in
	// flight grow with the server's latency (5000/s × 100 ms = 500); a
	// smaller worker pool would cap the load at workers/latency.
	defaultConcurrency = 512
)

// RegisterFlags adds the flags of "cmdbd bench ingest" to fs.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.IntVar(&o.Agents, "agents", defaultAgents, "simulated agents")
	fs.DurationVar(&o.Duration, "duration", 30*time.Second, "load phase after enrolment")
	fs.Float64Var(&o.Rate, "rate", defaultRate, "reports per second per agent in the load phase (the server allows 1/s per device, burst 10)")
	fs.IntVar(&o.Concurrency, "concurrency", defaultConcurrency, "HTTP workers of the load generator (requests in flight at most)")
	fs.StringVar(&o.URL, "url", "", "base URL of a server running on this machine; empty: start one in-process")
	fs.StringVar(&o.EnrolmentToken, "enrolment-token", os.Getenv("CMDB_ENROLMENT_TOKEN"),
		"with --url: enrolment token with enough uses left (env CMDB_ENROLMENT_TOKEN)")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of this process (server and load generator) during the load phase to `file` (for go tool pprof)")
}

// Check validates the options after parsing; its errors name the flag.
func (o *Options) Check() error {
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

// Env is what the bench needs from the command that runs it.
type Env struct {
	// Out receives the figures.
	Out io.Writer
	// Start starts the server in-process, its agent door allowing each
	// device rate reports/s with burst (0: the door's defaults), and
	// returns its address and its database. Used without Options.URL;
	// the caller stops the server after Run.
	Start func(ctx context.Context, rate float64, burst int) (addr string, db *postgres.DB, err error)
	// DatabaseURL is the database of the server at Options.URL, to check;
	// empty: not checked.
	DatabaseURL string
}

// Run loads the server and returns the figures and the number of devices
// whose acknowledged reports are missing (-1 when not checked); lost
// reports are also an error.
func Run(ctx context.Context, o Options, env Env) (*loadgen.Result, int, error) {
	if err := o.Check(); err != nil {
		return nil, -1, err
	}
	lopts := loadgen.Options{URL: o.URL, EnrolmentToken: o.EnrolmentToken, Agents: o.Agents, Duration: o.Duration,
		Rate: o.Rate, Concurrency: o.Concurrency, Out: env.Out}
	var db *postgres.DB
	if o.URL == "" {
		var rate float64
		var burst int
		if o.Rate > ServerDeviceRate {
			// Let each simulated device report at the bench's rate, with room for jitter.
			rate, burst = 2*o.Rate, 20
		}
		addr, sdb, err := env.Start(ctx, rate, burst)
		if err != nil {
			return nil, -1, err
		}
		db = sdb
		tok, err := enrolmentToken(ctx, db, o.Agents)
		if err != nil {
			return nil, -1, err
		}
		lopts.URL, lopts.EnrolmentToken = "http://"+addr, tok
		fmt.Fprintf(env.Out, "bench ingest: server at %s, %d agents at %g reports/s each for %s\n", lopts.URL, o.Agents, o.Rate, o.Duration)
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
				fmt.Fprintf(env.Out, "bench ingest: --cpuprofile: %v\n", err)
			}
		}
		defer pprof.StopCPUProfile()
	}
	res, err := loadgen.Run(ctx, lopts)
	if err != nil {
		return res, -1, err
	}

	// Every acknowledged report must have been committed.
	if db == nil {
		if env.DatabaseURL == "" {
			fmt.Fprintln(env.Out, "lost: not checked (pass --db to check the server's database)")
			return res, -1, nil
		}
		if db, err = postgres.Open(ctx, env.DatabaseURL, postgres.Options{MaxOpenConns: 2}); err != nil {
			return res, -1, err
		}
		defer db.Close()
	}
	lost, err := loadgen.Verify(ctx, db.SQL(), res.AckedSeq)
	if err != nil {
		return res, -1, err
	}
	if lost > 0 {
		fmt.Fprintf(env.Out, "lost: %d (devices whose acknowledged report is not in the database)\n", lost)
		return res, lost, fmt.Errorf("bench ingest: %d devices lack an acknowledged report in the database", lost)
	}
	fmt.Fprintln(env.Out, "lost: 0 (every acknowledged report is in the database)")
	return res, 0, nil
}

// enrolmentToken makes an authority, a school and an enrolment token for
// agents devices in db and returns the token.
func enrolmentToken(ctx context.Context, db *postgres.DB, agents int) (string, error) {
	scope := cmdb.AdminScope("bench")
	code := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	a := &cmdb.Authority{Code: code, Name: "Bench ingest " + code}
	if err := db.CreateAuthority(ctx, scope, a); err != nil {
		return "", fmt.Errorf("bench ingest: %w", err)
	}
	s := &cmdb.School{AuthorityID: a.ID, Code: "bench", Name: "Bench school"}
	if err := db.CreateSchool(ctx, scope, s); err != nil {
		return "", fmt.Errorf("bench ingest: %w", err)
	}
	tok, err := db.CreateEnrolmentToken(ctx, scope, &cmdb.EnrolmentToken{SchoolID: s.ID, Name: "bench ingest", MaxUses: agents})
	if err != nil {
		return "", fmt.Errorf("bench ingest: %w", err)
	}
	return tok.Reveal(), nil
}
