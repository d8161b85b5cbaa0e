package pgembed

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"
)

// clusterDir returns a not-yet-existing cluster directory below t.TempDir().
// t.TempDir creates its directories with mode 0700; when running as root they
// are opened up so that the postgres user can traverse them.
func clusterDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if os.Geteuid() == 0 {
		for _, p := range []string{d, filepath.Dir(d)} {
			if err := os.Chmod(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	return filepath.Join(d, "sub", "pg")
}

func skipWithoutPostgres(t *testing.T) {
	t.Helper()
	if _, err := FindBinDir(""); err != nil {
		t.Skip(err)
	}
}

func start(t *testing.T, dir string) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{Dir: dir, Fast: true, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c
}

func open(t *testing.T, c *Cluster) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", c.URL("cmdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func accepting(port int) bool {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

func TestStartStopReuse(t *testing.T) {
	skipWithoutPostgres(t)
	dir := clusterDir(t)
	c := start(t, dir)

	if !strings.HasPrefix(c.URL("cmdb"), "postgres://cmdb:") || !strings.HasSuffix(c.URL("x"), "/x?sslmode=disable") {
		t.Errorf("unexpected URL shape")
	}
	if strings.Contains(c.String(), c.password) || strings.Contains(fmt.Sprintf("%+v", c), c.password) {
		t.Errorf("String leaks the password")
	}
	fi, err := os.Stat(filepath.Join(dir, "password"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("password file: %v, mode %v", err, fi.Mode())
	}
	if log, err := os.ReadFile(filepath.Join(dir, "postgres.log")); err == nil && strings.Contains(string(log), c.password) {
		t.Errorf("server log contains the password")
	}

	db := open(t, c)
	var name string
	if err := db.QueryRow("SELECT current_database()").Scan(&name); err != nil || name != "cmdb" {
		t.Fatalf("current_database: %q, %v", name, err)
	}
	var maxConn, listen, sockets string
	if err := db.QueryRow("SELECT current_setting('max_connections'), current_setting('listen_addresses'), current_setting('unix_socket_directories')").
		Scan(&maxConn, &listen, &sockets); err != nil {
		t.Fatal(err)
	}
	if maxConn != "200" || listen != "127.0.0.1" || sockets != "" {
		t.Errorf("settings: max_connections=%s listen_addresses=%s unix_socket_directories=%q", maxConn, listen, sockets)
	}
	if _, err := db.Exec("CREATE TABLE keep (x int); INSERT INTO keep VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	port := c.Port()
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("postmaster.pid still present after Stop: %v", err)
	}
	if accepting(port) {
		t.Errorf("port %d still accepting after Stop", port)
	}

	// A stale postmaster.pid naming a dead process must not block the start.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	pidPath := filepath.Join(dir, "data", "postmaster.pid")
	stale := fmt.Sprintf("%d\n%s\n1700000000\n%d\n\n127.0.0.1\n  1234  5678\nready   \n", dead.Process.Pid, filepath.Join(dir, "data"), port)
	if err := os.WriteFile(pidPath, []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	if c.runAs != nil {
		if err := c.runAs.chown(pidPath); err != nil {
			t.Fatal(err)
		}
	}

	c2 := start(t, dir)
	if !c2.owned {
		t.Fatalf("second start attached to a stale postmaster.pid")
	}
	if c2.password != c.password {
		t.Errorf("password changed across restarts")
	}
	var x int
	if err := open(t, c2).QueryRow("SELECT x FROM keep").Scan(&x); err != nil || x != 42 {
		t.Fatalf("data did not survive restart: %d, %v", x, err)
	}
	if err := c2.Stop(); err != nil {
		t.Fatal(err)
	}
}

func TestAttachToRunning(t *testing.T) {
	skipWithoutPostgres(t)
	dir := clusterDir(t)
	c1 := start(t, dir)
	c2 := start(t, dir)
	if c2.owned || c2.Port() != c1.Port() {
		t.Fatalf("second Start did not attach: owned=%v port %d vs %d", c2.owned, c2.Port(), c1.Port())
	}
	if c2.URL("cmdb") != c1.URL("cmdb") {
		t.Errorf("URLs differ")
	}
	if err := open(t, c2).Ping(); err != nil {
		t.Fatalf("ping via attached cluster: %v", err)
	}
	if err := c2.Stop(); err != nil {
		t.Fatal(err)
	}
	db := open(t, c1)
	if err := db.Ping(); err != nil {
		t.Fatalf("server stopped by the attached cluster's Stop: %v", err)
	}
	_ = db.Close()
	if err := c1.Stop(); err != nil {
		t.Fatal(err)
	}
	if accepting(c1.Port()) {
		t.Errorf("server still running after the owner's Stop")
	}
}

func TestConcurrentStartSameDir(t *testing.T) {
	skipWithoutPostgres(t)
	dir := clusterDir(t)
	errs := make(chan error, 3)
	clusters := make(chan *Cluster, 3)
	for range 3 {
		go func() {
			c, err := Start(context.Background(), Options{Dir: dir, Fast: true})
			if err == nil {
				clusters <- c
			}
			errs <- err
		}()
	}
	owners := 0
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
			continue
		}
		c := <-clusters
		t.Cleanup(func() { _ = c.Stop() })
		if c.owned {
			owners++
		}
	}
	if owners != 1 {
		t.Errorf("%d clusters think they started the server, want 1", owners)
	}
}

func TestFindBinDir(t *testing.T) {
	const exact = "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH or under /usr/lib/postgresql/*/bin; " +
		"install them with `apt-get install postgresql` (Debian) or pass --db / CMDB_DATABASE_URL to use an existing database"
	if got := notFoundMessage(defaultGlobRoot); got != exact {
		t.Errorf("message:\n got %s\nwant %s", got, exact)
	}

	bogus := filepath.Join(t.TempDir(), "nope")
	if _, err := FindBinDir(bogus); err == nil || !strings.Contains(err.Error(), bogus) ||
		!strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Errorf("explicit bogus dir: %v", err)
	}

	t.Setenv("PATH", "")
	root := t.TempDir()
	_, err := findBinDir("", root)
	if err == nil || err.Error() != notFoundMessage(root) {
		t.Errorf("empty PATH and root: %v", err)
	}

	for _, v := range []string{"9.6", "15", "10", "16"} {
		bin := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range serverBinaries {
			if v == "16" && name == "postgres" {
				continue // incomplete installation must be skipped
			}
			if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := findBinDir("", root)
	if want := filepath.Join(root, "15", "bin"); err != nil || got != want {
		t.Errorf("glob: got %q, %v; want %q", got, err, want)
	}

	// An initdb symlinked onto PATH leads to its real directory.
	pathDir := t.TempDir()
	if err := os.Symlink(filepath.Join(root, "10", "bin", "initdb"), filepath.Join(pathDir, "initdb")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", pathDir)
	got, err = findBinDir("", root)
	if want := filepath.Join(root, "10", "bin"); err != nil || got != want {
		t.Errorf("PATH: got %q, %v; want %q", got, err, want)
	}
	if got, err := FindBinDir(filepath.Join(root, "9.6", "bin")); err != nil || got != filepath.Join(root, "9.6", "bin") {
		t.Errorf("explicit: got %q, %v", got, err)
	}
}

func TestUntraversableParent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only relevant when running as root")
	}
	a, err := lookupAccount("")
	if err != nil {
		t.Skip(err)
	}
	closed := t.TempDir() // mode 0700, owned by root
	if err := os.Chmod(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err = prepareDir(filepath.Join(closed, "data", "pg"), a)
	if err == nil || !strings.Contains(err.Error(), closed) || !strings.Contains(err.Error(), "--data-dir") {
		t.Fatalf("want an error naming %s, got %v", closed, err)
	}
}

// As root, a cluster directory that a service account owns (cmdbd's
// /var/lib/cmdb/pg belongs to cmdb) is used as that account, not taken over
// by postgres; any other directory runs as postgres.
func TestRootRunsAsTheOwnerOfTheDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only relevant when running as root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip(err)
	}
	if _, err := user.Lookup("postgres"); err != nil {
		t.Skip(err)
	}
	owned := t.TempDir()
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	if err := os.Chown(owned, uid, gid); err != nil {
		t.Fatal(err)
	}
	if a, err := lookupAccount(owned); err != nil || a == nil || a.name != "nobody" {
		t.Errorf("directory of nobody: account %+v, %v; want nobody", a, err)
	}
	for _, dir := range []string{t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		if a, err := lookupAccount(dir); err != nil || a == nil || a.name != "postgres" {
			t.Errorf("%s: account %+v, %v; want postgres", dir, a, err)
		}
	}
}

func TestBusyPortAndForeignPidFile(t *testing.T) {
	skipWithoutPostgres(t)
	dir := clusterDir(t)
	c := start(t, dir)
	password := c.password
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}

	// A fixed port that is taken: the error carries the server log's tail.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	_, err = Start(context.Background(), Options{Dir: dir, Port: busy, Fast: true})
	if err == nil {
		t.Fatal("Start on a busy port succeeded")
	}
	t.Logf("expected error: %v", err)
	if !strings.Contains(err.Error(), "could not bind") || strings.Contains(err.Error(), password) {
		t.Errorf("unexpected error: %v", err)
	}

	// A postmaster.pid naming a live non-postgres process (pid reuse after a
	// reboot or container restart) is discarded.
	pidPath := filepath.Join(dir, "data", "postmaster.pid")
	foreign := fmt.Sprintf("%d\n%s\n1700000000\n%d\n\n127.0.0.1\n  1234  5678\nready   \n", os.Getpid(), filepath.Join(dir, "data"), busy)
	if err := os.WriteFile(pidPath, []byte(foreign), 0o600); err != nil {
		t.Fatal(err)
	}
	c2 := start(t, dir)
	if !c2.owned || c2.Port() == busy {
		t.Fatalf("attached to a foreign process: owned=%v port=%d", c2.owned, c2.Port())
	}
	if err := open(t, c2).Ping(); err != nil {
		t.Fatal(err)
	}
}
