package pgembed

import (
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDiedWhenPostmasterKilled: after kill -9 of the postmaster, Died is
// closed and Err names the pid and the server log.
func TestDiedWhenPostmasterKilled(t *testing.T) {
	skipWithoutPostgres(t)
	c := start(t, clusterDir(t))
	select {
	case <-c.Died():
		t.Fatal("Died before anything happened")
	default:
	}
	pf, err := readPidFile(filepath.Join(c.dataDir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pf.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Died():
	case <-time.After(time.Minute): // a generous bound, not a speed goal
		t.Fatal("the postmaster was killed a minute ago and Died is still open")
	}
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), strconv.Itoa(pf.pid)) || !strings.Contains(err.Error(), "postgres.log") {
		t.Fatalf("Err = %v", err)
	}
}

// TestStopIsNotDeath: an intended Stop never closes Died.
func TestStopIsNotDeath(t *testing.T) {
	skipWithoutPostgres(t)
	c := start(t, clusterDir(t))
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	// Stop waits for the watch to end, so Died cannot close later.
	select {
	case <-c.Died():
		t.Fatalf("Died after Stop: %v", c.Err())
	default:
	}
	if c.Err() != nil {
		t.Fatalf("Err after Stop: %v", c.Err())
	}
}
