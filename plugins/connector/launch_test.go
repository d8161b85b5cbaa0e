//go:build unix

package connector

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a log sink that the plugin's log goroutine and the test
// may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// launchSelf starts this test binary as a connector in the given mode and
// returns it, its stop function, the pid file and the host's log.
func launchSelf(t *testing.T, mode string, o Options) (Connector, func(), string, *syncBuffer, error) {
	t.Helper()
	pidfile := filepath.Join(t.TempDir(), "pid")
	o.Env = append(o.Env, "CMDB_CONNECTOR_TEST_MODE="+mode, "CMDB_CONNECTOR_TEST_PIDFILE="+pidfile)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c, stop, err := LaunchWith(context.Background(), exe, logger, o)
	if stop != nil {
		t.Cleanup(stop)
	}
	return c, stop, pidfile, logs, err
}

// assertGone fails unless the process in pidfile has ended and been
// reaped. Bounded: a process that lives on is the failure.
func assertGone(t *testing.T, pidfile string) {
	t.Helper()
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatalf("connector never wrote its pid: %v", err)
	}
	pid, _ := strconv.Atoi(string(b))
	for range 500 {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("connector process %d still exists", pid)
}

func TestLaunchHealthy(t *testing.T) {
	c, stop, pidfile, _, err := launchSelf(t, "ok", Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Describe(context.Background())
	if err != nil || d.Name != "faulty" {
		t.Fatalf("Describe = %+v, %v", d, err)
	}
	n := 0
	if err := c.Pull(context.Background(), Config{}, func(b []Record) error { n += len(b); return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 1000 {
		t.Fatalf("pulled %d records, want 1000", n)
	}
	if _, err := c.Push(context.Background(), Config{}, nil); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Push = %v, want ErrUnsupported", err)
	}
	stop()
	stop() // twice is fine
	assertGone(t, pidfile)
	if _, err := c.Describe(context.Background()); !errors.Is(err, ErrStopped) {
		t.Fatalf("Describe after stop = %v, want ErrStopped", err)
	}
}

func TestLaunchCrashMidPull(t *testing.T) {
	for _, mode := range []string{"crash", "panic"} {
		t.Run(mode, func(t *testing.T) {
			c, _, pidfile, logs, err := launchSelf(t, mode, Options{})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			err = c.Pull(context.Background(), Config{}, func(b []Record) error { n += len(b); return nil })
			t.Logf("error: %v", err)
			if !errors.Is(err, ErrCrashed) {
				t.Fatalf("Pull = %v, want ErrCrashed", err)
			}
			if n != 300 {
				t.Fatalf("got %d records before the crash, want the 300 sent", n)
			}
			if !strings.Contains(err.Error(), "connector ") || !strings.Contains(err.Error(), "Pull") {
				t.Fatalf("error %q does not name the connector and the call", err)
			}
			if want := map[string]string{"crash": "(exit status 3)", "panic": "panic: connector bug"}[mode]; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
			assertGone(t, pidfile)
			if mode == "panic" && !strings.Contains(logs.String(), "connector bug") {
				t.Errorf("the panic message is not in the host's log:\n%s", logs)
			}
		})
	}
}

func TestLaunchHangInPullIsStopped(t *testing.T) {
	c, _, pidfile, _, err := launchSelf(t, "hang", Options{StallTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = c.Pull(context.Background(), Config{}, func(b []Record) error { n += len(b); return nil })
	t.Logf("error: %v", err)
	if !errors.Is(err, ErrHung) || n != 300 {
		t.Fatalf("Pull = %v after %d records, want ErrHung after 300", err, n)
	}
	assertGone(t, pidfile)
}

func TestLaunchHangInCheckIsStopped(t *testing.T) {
	c, _, pidfile, _, err := launchSelf(t, "hang", Options{CallTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Check(context.Background(), Config{})
	t.Logf("error: %v", err)
	if !errors.Is(err, ErrHung) {
		t.Fatalf("Check = %v, want ErrHung", err)
	}
	assertGone(t, pidfile)
}

func TestLaunchCallerCancelIsNotAHang(t *testing.T) {
	c, _, _, _, err := launchSelf(t, "hang", Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = c.Check(ctx, Config{})
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrHung) {
		t.Fatalf("Check = %v, want the caller's deadline", err)
	}
}

func TestLaunchGarbageOnStdout(t *testing.T) {
	_, _, pidfile, _, err := launchSelf(t, "garbage", Options{})
	t.Logf("error: %v", err)
	if !errors.Is(err, ErrStart) {
		t.Fatalf("Launch = %v, want ErrStart", err)
	}
	if !strings.Contains(err.Error(), "Hallo! Ich bin kein Connector.") {
		t.Errorf("error %q does not show what the connector wrote", err)
	}
	assertGone(t, pidfile)
}

func TestLaunchStartTimeout(t *testing.T) {
	_, _, pidfile, _, err := launchSelf(t, "slow-start", Options{StartTimeout: 500 * time.Millisecond})
	t.Logf("error: %v", err)
	if !errors.Is(err, ErrStart) {
		t.Fatalf("Launch = %v, want ErrStart", err)
	}
	assertGone(t, pidfile)
}

func TestLaunchNotAnExecutable(t *testing.T) {
	_, _, err := Launch(context.Background(), filepath.Join(t.TempDir(), "fehlt"), nil)
	t.Logf("error: %v", err)
	if !errors.Is(err, ErrStart) {
		t.Fatalf("Launch = %v, want ErrStart", err)
	}
}

func TestLaunchPinnedChecksum(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	c, _, _, _, err := launchSelf(t, "ok", Options{SHA256: sum[:]})
	if err != nil {
		t.Fatalf("Launch with the right checksum = %v", err)
	}
	if _, err := c.Describe(context.Background()); err != nil {
		t.Fatal(err)
	}
	sum[0] ^= 0xff
	_, _, _, _, err = launchSelf(t, "ok", Options{SHA256: sum[:]})
	t.Logf("error: %v", err)
	if !errors.Is(err, ErrStart) || !errors.Is(err, ErrChecksum) {
		t.Fatalf("Launch of a replaced binary = %v, want ErrStart naming the checksum", err)
	}
}

// TestLaunchStdoutAfterHandshake: a connector that prints to stdout while
// it works does not break the protocol (go-plugin takes stdout over).
func TestLaunchStdoutAfterHandshake(t *testing.T) {
	c, _, _, _, err := launchSelf(t, "chatty", Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := c.Pull(context.Background(), Config{}, func(b []Record) error { n += len(b); return nil }); err != nil || n != 1000 {
		t.Fatalf("Pull = %v after %d records, want 1000", err, n)
	}
}

// TestConnectorDiesWithHost: a host killed outright (no Kill, no KillAll)
// takes its connectors with it.
func TestConnectorDiesWithHost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux ties a child to its parent")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pidfile := filepath.Join(t.TempDir(), "pid")
	host := exec.Command(exe)
	host.Env = append(os.Environ(), "CMDB_CONNECTOR_TEST_MODE=host", "CMDB_CONNECTOR_TEST_PIDFILE="+pidfile)
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = host.Process.Kill(); _ = host.Wait() }()
	for i := 0; ; i++ {
		if b, err := os.ReadFile(pidfile); err == nil && len(b) > 0 {
			break
		}
		if i == 1000 {
			t.Fatal("the host's connector never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := host.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = host.Wait()
	assertGone(t, pidfile)
}
