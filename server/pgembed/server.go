package pgembed

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// pidFile is the part of postmaster.pid we use.
type pidFile struct {
	pid    int
	port   int
	status string
}

func readPidFile(path string) (pidFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return pidFile{}, err
	}
	lines := strings.Split(string(b), "\n")
	var pf pidFile
	pf.pid, _ = strconv.Atoi(strings.TrimSpace(lines[0]))
	if len(lines) > 3 {
		pf.port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	}
	if len(lines) > 7 {
		pf.status = strings.TrimSpace(lines[7])
	}
	return pf, nil
}

// findRunning reports whether a live postmaster serves the data directory and
// its port, waiting while it is starting or stopping. It removes a
// postmaster.pid whose pid now belongs to a non-postgres process.
func (c *Cluster) findRunning(ctx context.Context) (int, bool, error) {
	path := filepath.Join(c.dataDir, "postmaster.pid")
	deadline := time.Now().Add(startTimeout)
	for {
		pf, err := readPidFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, err
		}
		switch processState(pf.pid) {
		case procDead:
			return 0, false, nil // stale: postgres itself discards it
		case procForeign:
			c.log.Warn("removing stale postmaster.pid naming a non-postgres process", "pid", pf.pid)
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return 0, false, err
			}
			return 0, false, nil
		}
		if pf.status == "ready" && pf.port > 0 {
			return pf.port, true, nil
		}
		if time.Now().After(deadline) {
			return 0, false, fmt.Errorf("PostgreSQL (pid %d) in %s did not become ready within %v (status %q)",
				pf.pid, c.dataDir, startTimeout, pf.status)
		}
		select {
		case <-ctx.Done():
			return 0, false, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// initdb creates the data directory and password file unless they exist.
func (c *Cluster) initdb(ctx context.Context, fast bool) error {
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); err == nil {
		return nil
	}
	if entries, err := os.ReadDir(c.dataDir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty but holds no PostgreSQL cluster (no PG_VERSION); move it away", c.dataDir)
	}
	c.log.Info("initialising PostgreSQL cluster")
	pwPath := filepath.Join(c.dir, "password")
	tmp := pwPath + ".tmp"
	_ = os.Remove(tmp)
	if err := os.WriteFile(tmp, []byte(rand.Text()+"\n"), 0o600); err != nil {
		return err
	}
	if err := c.runAs.chown(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, pwPath); err != nil {
		return err
	}
	initDir := c.dataDir + ".init"
	if err := os.RemoveAll(initDir); err != nil {
		return err
	}
	args := []string{"-D", initDir, "-U", superuser, "--pwfile=" + pwPath, "--auth=scram-sha-256",
		"--encoding=UTF8", "--locale=C"}
	if fast {
		args = append(args, "--no-sync")
	}
	if _, err := c.run(ctx, true, nil, filepath.Join(c.binDir, "initdb"), args...); err != nil {
		_ = os.RemoveAll(initDir)
		return err
	}
	_ = os.Remove(c.dataDir) // an empty directory left by someone else
	return os.Rename(initDir, c.dataDir)
}

func (c *Cluster) readPassword() (string, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, "password"))
	if err != nil {
		return "", fmt.Errorf("reading the cluster password: %w", err)
	}
	pw := strings.TrimSpace(string(b))
	if pw == "" {
		return "", fmt.Errorf("password file %s is empty", filepath.Join(c.dir, "password"))
	}
	return pw, nil
}

// checkVersion refuses data directories of another major version.
func (c *Cluster) checkVersion(ctx context.Context) error {
	b, err := os.ReadFile(filepath.Join(c.dataDir, "PG_VERSION"))
	if err != nil {
		return err
	}
	dataVer := strings.TrimSpace(string(b))
	out, err := c.run(ctx, false, nil, filepath.Join(c.binDir, "postgres"), "--version")
	if err != nil {
		return err
	}
	f := strings.Fields(out) // postgres (PostgreSQL) 15.13 (Debian ...)
	if len(f) < 3 || dataVer == "" {
		return nil
	}
	if f[2] != dataVer && !strings.HasPrefix(f[2], dataVer+".") {
		return fmt.Errorf("the cluster in %s was created by PostgreSQL %s but the binaries in %s are version %s; "+
			"install PostgreSQL %s or upgrade the cluster with pg_upgrade", c.dataDir, dataVer, c.binDir, f[2], dataVer)
	}
	return nil
}

// startServer runs pg_ctl start, retrying with another port if an
// automatically chosen one was taken meanwhile.
func (c *Cluster) startServer(ctx context.Context, opts Options) error {
	if fi, err := os.Stat(c.logPath); err == nil && fi.Size() > maxLogSize {
		_ = os.Rename(c.logPath, c.logPath+".1")
	}
	for attempt := 1; ; attempt++ {
		port := opts.Port
		if port == 0 {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return fmt.Errorf("picking a free port: %w", err)
			}
			port = l.Addr().(*net.TCPAddr).Port
			_ = l.Close()
		}
		var offset int64
		if fi, err := os.Stat(c.logPath); err == nil {
			offset = fi.Size()
		}
		o := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200", port)
		if opts.Fast {
			o += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
		}
		_, err := c.run(ctx, true, nil, filepath.Join(c.binDir, "pg_ctl"), "start", "-D", c.dataDir,
			"-l", c.logPath, "-w", "-t", strconv.Itoa(int(startTimeout/time.Second)), "-o", o)
		if err == nil {
			c.port = port
			return nil
		}
		tail := logTail(c.logPath, offset, 20)
		if opts.Port == 0 && attempt < 5 && strings.Contains(tail, "could not bind") {
			c.log.Warn("port taken meanwhile, retrying", "port", port)
			continue
		}
		return fmt.Errorf("starting PostgreSQL in %s: %w\nlast lines of %s:\n%s", c.dataDir, err, c.logPath, tail)
	}
}

// logTail returns up to n last lines written to path after offset.
func logTail(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(f, maxLogSize))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ensureDatabase creates database name unless it exists.
func (c *Cluster) ensureDatabase(ctx context.Context, name string) error {
	env := []string{"PGPASSWORD=" + c.password, "PGCONNECT_TIMEOUT=10", "PGSSLMODE=disable"}
	conn := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(c.port), "-U", superuser}
	out, err := c.run(ctx, false, env, clientTool(c.binDir, "psql"), append(conn, "-X", "-q", "-t", "-A",
		"-d", "postgres", "-c", "SELECT 1 FROM pg_database WHERE datname = '"+name+"'")...)
	if err != nil {
		return err
	}
	if strings.TrimSpace(out) == "1" {
		return nil
	}
	out, err = c.run(ctx, false, env, clientTool(c.binDir, "createdb"), append(conn, name)...)
	if err != nil && !strings.Contains(out, "already exists") {
		return err
	}
	return nil
}

// run executes a PostgreSQL program with a clean environment plus env, as the
// cluster owner if asOwner. The error includes the program's output, never env.
func (c *Cluster) run(ctx context.Context, asOwner bool, env []string, prog string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = c.dir
	cmd.Env = append(baseEnv(), env...)
	if asOwner {
		cmd.SysProcAttr = c.runAs.sysProcAttr()
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", filepath.Base(prog), strings.Join(args, " "), err,
			strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// baseEnv is our environment without PG* and locale variables, which could
// redirect the tools to another server or change message languages.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}
