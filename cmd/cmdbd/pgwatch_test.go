package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPrivatePostgresDeathStopsServer: when the private PostgreSQL's
// postmaster is killed, cmdbd notices, logs why, /healthz stops answering
// 200, and main gets an error to exit non-zero with (so that systemd
// restarts the whole).
func TestPrivatePostgresDeathStopsServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // the postgres user must reach it when we are root
	os.Chmod(dir, 0o755)
	m, _, logs := runMain(t, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir)
	c := &client{t: t, base: "http://" + m.Addr()}
	c.must(200, "GET", "/healthz", nil)
	if m.DiedErr() != nil {
		t.Fatalf("DiedErr before anything happened: %v", m.DiedErr())
	}
	b, err := os.ReadFile(filepath.Join(dir, "pg", "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.Died():
	case <-time.After(time.Minute): // a generous bound, not a speed goal
		t.Fatalf("the postmaster was killed a minute ago and cmdbd has not noticed; logs:\n%s", logs)
	}
	if err := m.DiedErr(); err == nil || !strings.Contains(err.Error(), "died") || !strings.Contains(err.Error(), "restarts") {
		t.Fatalf("DiedErr = %v", err)
	}
	c.must(503, "GET", "/healthz", nil)
	if !strings.Contains(logs.String(), "private PostgreSQL died") {
		t.Fatalf("nothing logged; logs:\n%s", logs)
	}
}
