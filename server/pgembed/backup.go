package pgembed

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// Backup writes a consistent dump (pg_dump custom format, -Fc) of database
// dbname to the file out, while the server keeps serving. The dump is
// written to out+".tmp" with mode 0600 and renamed to out when complete,
// so an interrupted backup never leaves a truncated file under out. The
// password reaches pg_dump in its environment, never on its command line.
func (c *Cluster) Backup(ctx context.Context, dbname, out string) error {
	env := []string{"PGPASSWORD=" + c.password, "PGCONNECT_TIMEOUT=10", "PGSSLMODE=disable"}
	args := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(c.port), "-U", superuser, "-d", dbname}
	return dumpTo(ctx, clientTool(c.binDir, "pg_dump"), env, args, out)
}

// BackupURL is Backup for an external PostgreSQL given by a libpq/lib/pq
// URL such as postgres://user:password@host:5432/cmdb?sslmode=require. The
// password is taken out of the URL and passed as PGPASSWORD. pg_dump is
// the one beside the local server binaries if there are any, else the one
// on PATH; it must be at least the server's major version.
func BackupURL(ctx context.Context, dbURL, out string) error {
	u, err := url.Parse(dbURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("--db: want a URL such as postgres://user:password@host:5432/cmdb")
	}
	var env []string
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			env = append(env, "PGPASSWORD="+pw)
		}
		u.User = url.User(u.User.Username())
	}
	tool := "pg_dump"
	if bin, err := FindBinDir(""); err == nil {
		tool = clientTool(bin, "pg_dump")
	} else if p, err := exec.LookPath("pg_dump"); err == nil {
		tool = p
	} else {
		return errors.New("pg_dump was not found; install the PostgreSQL client (`apt-get install postgresql-client`)")
	}
	return dumpTo(ctx, tool, env, []string{"-d", u.String()}, out)
}

func dumpTo(ctx context.Context, tool string, env, conn []string, out string) error {
	out, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	tmp := out + ".tmp"
	_ = os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	f.Close()
	c := &Cluster{dir: filepath.Dir(out)} // run needs only a working directory
	if _, err := c.run(ctx, false, env, tool, append(conn, "-Fc", "--no-password", "-f", tmp)...); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// Restore creates a new private cluster in opts.Dir from a dump written by
// Backup (or by pg_dump -Fc of any CMDB database) and returns it running,
// with the dump loaded into the database "cmdb" (owners and grants of the
// dump are not kept: everything belongs to the cluster's superuser). It
// refuses when opts.Dir already holds a cluster, so nothing is ever
// overwritten; when the restore fails, the new cluster is removed again so
// that it can be retried. The caller migrates the database afterwards.
func Restore(ctx context.Context, opts Options, dump string) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("pgembed: no cluster directory given")
	}
	dump, err := filepath.Abs(dump)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(dump); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("restore: %s is not a file", dump)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err == nil {
		return nil, fmt.Errorf("restore: %s already holds a database; restore into an empty data directory "+
			"(stop the server and move the old one away first)", data)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	c, err := Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	// The dump is read by pg_restore running as this process's user, which
	// may not be the cluster owner; a regular file read is all it needs.
	env := []string{"PGPASSWORD=" + c.password, "PGCONNECT_TIMEOUT=10", "PGSSLMODE=disable"}
	_, err = c.run(ctx, false, env, clientTool(c.binDir, "pg_restore"), "-h", "127.0.0.1", "-p", strconv.Itoa(c.port),
		"-U", superuser, "-d", defaultDB, "--no-password", "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction", dump)
	if err != nil {
		_ = c.Stop()
		_ = os.RemoveAll(data)
		_ = os.Remove(filepath.Join(dir, "password"))
		return nil, fmt.Errorf("restore: %w (the new cluster was removed)", err)
	}
	return c, nil
}
