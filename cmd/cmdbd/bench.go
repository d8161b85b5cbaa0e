package main

import (
	"context"
	"os"

	"github.com/schulit/cmdb/server/agentdoor/loadgen"
	"github.com/schulit/cmdb/server/bench/ingestbench"
	"github.com/schulit/cmdb/server/postgres"
)

// runBenchIngest is "cmdbd bench ingest" (see ingestbench.Run). Without
// --url it serves in-process, on a throwaway private PostgreSQL unless
// --db names a database, and stops both at the end; with --url it loads
// that server and checks the database only if --db is given.
func (m *Main) runBenchIngest(ctx context.Context, o ingestbench.Options) error {
	_, _, err := m.benchIngest(ctx, o)
	return err
}

// benchIngest does the work of runBenchIngest and returns ingestbench.Run's
// figures.
func (m *Main) benchIngest(ctx context.Context, o ingestbench.Options) (*loadgen.Result, int, error) {
	if err := o.Check(); err != nil {
		return nil, -1, err
	}
	if m.log == nil {
		m.log = m.logger()
	}
	env := ingestbench.Env{Out: m.Stdout}
	if o.URL != "" {
		env.DatabaseURL = m.Config.DatabaseURL.Reveal()
		return ingestbench.Run(ctx, o, env)
	}
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
	env.Start = func(ctx context.Context, rate float64, burst int) (string, *postgres.DB, error) {
		m.Config.Listen, m.Config.PublicURL = "127.0.0.1:0", ""
		m.Config.AgentReportRate, m.Config.AgentReportBurst = rate, burst
		if err := m.listen(); err != nil {
			return "", nil, err
		}
		if err := m.openDB(ctx, url, m.Config.DataDir); err != nil {
			return "", nil, err
		}
		if err := m.serve(ctx); err != nil {
			return "", nil, err
		}
		return m.Addr(), m.db, nil
	}
	return ingestbench.Run(ctx, o, env)
}
