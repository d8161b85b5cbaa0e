// Package pgembed runs a private PostgreSQL cluster inside a directory, using
// the PostgreSQL server binaries installed on the machine (initdb, pg_ctl,
// postgres, plus psql/createdb).
//
// Layout of Options.Dir (created with mode 0700; owned by the "postgres" system
// user when this process is root, because PostgreSQL refuses to run as root):
//
//	data/          PGDATA, created by initdb (via data.init/ and a rename)
//	password       password of the superuser "cmdb", mode 0600
//	postgres.log   server log (pg_ctl -l)
//	lock           flock(2) serialising Start/Stop between processes
//
// The server listens only on 127.0.0.1, has no Unix socket and accepts only
// scram-sha-256 password authentication.
package pgembed

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

const (
	superuser    = "cmdb"
	defaultDB    = "cmdb"
	startTimeout = 60 * time.Second
	lockTimeout  = 3 * time.Minute
	maxLogSize   = 16 << 20
)

// Options configures a cluster.
type Options struct {
	// Dir is the cluster directory (created if missing), e.g. <data-dir>/pg.
	// Its missing parents are created with mode 0755.
	Dir string
	// BinDir optionally names the directory holding initdb/pg_ctl/postgres;
	// if empty, FindBinDir searches for them.
	BinDir string
	// Logger receives progress messages; nil discards them.
	Logger *slog.Logger
	// Port is the TCP port on 127.0.0.1; 0 picks a free port at each start.
	Port int
	// Fast trades durability for speed (fsync, synchronous_commit and
	// full_page_writes off, initdb --no-sync). For tests only.
	Fast bool
}

// Cluster is a running private PostgreSQL, either started by this process or
// attached to a postmaster another process started on the same directory.
// Its methods are safe for concurrent use.
type Cluster struct {
	dir      string
	dataDir  string
	logPath  string
	binDir   string
	port     int
	password string
	owned    bool
	runAs    *account
	log      *slog.Logger

	watcher *watcher // notices the postmaster's death (see Died)

	mu      sync.Mutex
	stopped bool
}

// Start makes the cluster in opts.Dir available and returns once it accepts
// connections and the database "cmdb" exists.
//
// On first use it runs initdb (superuser "cmdb" with a random password stored
// in Dir/password, scram-sha-256 authentication, UTF8 encoding, locale C).
// If a live postmaster already serves the directory (for instance `cmdbd serve`
// while `cmdbd token create` runs), Start attaches to it, using the port from
// its postmaster.pid, and Stop will leave it running. A stale postmaster.pid
// does not prevent starting. Otherwise it starts postgres with pg_ctl on
// 127.0.0.1:opts.Port (a free port if 0), without a Unix socket and with
// max_connections=200, waiting up to about 60 seconds; a start failure returns
// an error including the tail of the server log. Concurrent Start calls on the
// same directory, from any process, are serialised by a lock file.
//
// When the process runs as root the server runs as the owner of Dir if Dir
// exists and belongs to another user (the cluster of a service such as cmdbd
// running as user cmdb), else as the "postgres" system user, which must exist;
// that user must be able to traverse every parent directory of Dir.
// The password never appears on a command line, in logs or in errors.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("pgembed: no cluster directory given")
	}
	binDir, err := FindBinDir(opts.BinDir)
	if err != nil {
		return nil, err
	}
	runAs, err := lookupAccount(opts.Dir)
	if err != nil {
		return nil, err
	}
	dir, err := prepareDir(opts.Dir, runAs)
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		dir:     dir,
		dataDir: filepath.Join(dir, "data"),
		logPath: filepath.Join(dir, "postgres.log"),
		binDir:  binDir,
		runAs:   runAs,
		log:     opts.Logger,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("component", "pgembed", "dir", dir)

	lctx, cancel := context.WithTimeout(ctx, lockTimeout)
	defer cancel()
	unlock, err := lockFile(lctx, filepath.Join(dir, "lock"), runAs)
	if err != nil {
		return nil, err
	}
	defer unlock()

	port, running, err := c.findRunning(ctx)
	if err != nil {
		return nil, err
	}
	if !running {
		if err := c.initdb(ctx, opts.Fast); err != nil {
			return nil, err
		}
	}
	if c.password, err = c.readPassword(); err != nil {
		return nil, err
	}
	if running {
		c.port = port
		c.log.Info("attached to running PostgreSQL", "port", port)
	} else {
		if err := c.checkVersion(ctx); err != nil {
			return nil, err
		}
		if err := c.startServer(ctx, opts); err != nil {
			return nil, err
		}
		c.owned = true
		c.log.Info("started PostgreSQL", "port", c.port, "bin_dir", binDir)
	}
	if err := c.ensureDatabase(ctx, defaultDB); err != nil {
		if c.owned {
			_ = c.pgctlStop()
			c.stopped = true
		}
		return nil, err
	}
	if err := c.watch(); err != nil {
		if c.owned {
			_ = c.pgctlStop()
		}
		return nil, err
	}
	return c, nil
}

// URL returns a lib/pq connection URL for database dbname, e.g.
// postgres://cmdb:PASSWORD@127.0.0.1:PORT/dbname?sslmode=disable.
// The result contains the password: do not log it.
func (c *Cluster) URL(dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(superuser, c.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port returns the TCP port the server listens on at 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// String describes the cluster without revealing the password.
func (c *Cluster) String() string {
	return fmt.Sprintf("pgembed.Cluster{dir: %s, port: %d, owned: %t}", c.dir, c.port, c.owned)
}

// Stop stops the server (pg_ctl stop -m fast -w) if this Cluster started it;
// a Cluster that attached to another process's server leaves it running.
// Calls after the first are no-ops.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	c.stopped = true
	c.watcher.stopWatching()
	if !c.owned {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), lockTimeout)
	defer cancel()
	if unlock, err := lockFile(ctx, filepath.Join(c.dir, "lock"), c.runAs); err == nil {
		defer unlock()
	}
	if err := c.pgctlStop(); err != nil {
		return err
	}
	c.log.Info("stopped PostgreSQL")
	return nil
}

func (c *Cluster) pgctlStop() error {
	if _, err := os.Stat(filepath.Join(c.dataDir, "postmaster.pid")); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout+10*time.Second)
	defer cancel()
	_, err := c.run(ctx, true, nil, filepath.Join(c.binDir, "pg_ctl"),
		"stop", "-D", c.dataDir, "-m", "fast", "-w", "-t", strconv.Itoa(int(startTimeout/time.Second)))
	return err
}

// prepareDir creates dir (0700, owned by runAs) and its parents (0755), checks
// that runAs can reach it, and returns its absolute, symlink-free path.
func prepareDir(dir string, runAs *account) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := mkdirAll0755(filepath.Dir(dir)); err != nil {
		return "", err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	if dir, err = filepath.EvalSymlinks(dir); err != nil {
		return "", err
	}
	if !runAs.owns(dir) {
		if err := runAs.chown(dir); err != nil {
			return "", fmt.Errorf("giving %s to user postgres: %w", dir, err)
		}
	}
	if err := runAs.checkTraversable(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// mkdirAll0755 is os.MkdirAll with the created directories chmod'ed to 0755
// regardless of the umask.
func mkdirAll0755(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirAll0755(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return err
	}
	return os.Chmod(dir, 0o755)
}

// Throwaway starts a fast cluster in a new temporary directory named
// after prefix, for benchmarks that must never touch real data, and
// returns the URL of its database "cmdb" and a function that stops the
// cluster and removes the directory.
func Throwaway(ctx context.Context, prefix string) (url string, done func(), err error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, err
	}
	_ = os.Chmod(dir, 0o755) // as root the cluster runs as postgres
	c, err := Start(ctx, Options{Dir: dir + "/pg", Fast: true})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return c.URL("cmdb"), func() { c.Stop(); os.RemoveAll(dir) }, nil
}
