package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/kardianos/service"

	"github.com/schulit/cmdb/agent"
)

// program adapts the agent's Run loop to kardianos/service.
type program struct {
	run    func(ctx context.Context) error
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
}

// Start implements service.Interface; it must not block.
func (p *program) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		defer close(p.done)
		if err := p.run(ctx); err != nil {
			p.log.Error("agent stopped", "err", err)
		}
	}()
	return nil
}

// Stop implements service.Interface: it cancels the run and waits a
// little for the current report to end.
func (p *program) Stop(service.Service) error {
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
	}
	return nil
}

func serviceConfig(args []string) *service.Config {
	c := &service.Config{
		Name:        "cmdb-agent",
		DisplayName: "CMDB agent",
		Description: "Reports this machine's inventory to the school authority's CMDB.",
		Arguments:   args,
		Option:      service.KeyValue{"DelayedAutoStart": true, "Restart": "always"},
	}
	if runtime.GOOS == "linux" {
		c.Dependencies = []string{"After=network-online.target", "Wants=network-online.target"}
	}
	return c
}

// serviceControl is the part of service.Service that install and
// uninstall use.
type serviceControl interface {
	Install() error
	Uninstall() error
	Start() error
	Stop() error
}

// serviceHost is the machine install and uninstall act on; tests replace
// it to work in a directory without a service manager.
type serviceHost struct {
	Root   string // prefix of every path written or removed; "" is /
	GOOS   string
	Euid   int
	Self   func() (string, error) // path of the running binary
	New    func(*service.Config) (serviceControl, error)
	System string // name of the service manager, for messages
}

func defaultServiceHost() *serviceHost {
	return &serviceHost{GOOS: runtime.GOOS, Euid: os.Geteuid(), Self: os.Executable,
		New:    func(c *service.Config) (serviceControl, error) { return service.New(&program{}, c) },
		System: service.ChosenSystem().String()}
}

func (h *serviceHost) path(p string) string {
	if h.Root == "" {
		return p
	}
	return filepath.Join(h.Root, filepath.FromSlash(p))
}

// binaryPath is the fixed place the service runs the agent from.
func (h *serviceHost) binaryPath() string {
	if h.GOOS == "windows" {
		pf := os.Getenv("ProgramFiles")
		if pf == "" {
			pf = `C:\Program Files`
		}
		return filepath.Join(h.Root, pf, "cmdb-agent", "cmdb-agent.exe")
	}
	return h.path("/usr/local/bin/cmdb-agent")
}

// packageUnit is the systemd unit of the Debian package cmdb-agent.
const packageUnit = "/usr/lib/systemd/system/cmdb-agent.service"

// service installs or uninstalls the agent as a system service that runs
// "cmdb-agent run --state FILE" from binaryPath.
func (m *Main) service(action string) error {
	h := m.host
	if h == nil {
		h = defaultServiceHost()
	}
	if h.GOOS != "windows" && h.Euid != 0 {
		return fmt.Errorf("%s: the service runs as root: run it as root (sudo cmdb-agent %s)", action, action)
	}
	state, err := filepath.Abs(m.Config.StatePath)
	if err != nil {
		return fmt.Errorf("%s: --state: %w", action, err)
	}
	m.Config.StatePath = state
	bin := h.binaryPath()
	cfg := serviceConfig(m.serviceArgs())
	cfg.Executable = bin
	s, err := h.New(cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	if action == "uninstall" {
		return m.uninstall(h, s, bin)
	}
	if h.GOOS == "linux" {
		if _, err := os.Stat(h.path(packageUnit)); err == nil {
			return errors.New("install: the Debian package cmdb-agent is installed and brings its own unit; " +
				"after enrolling, start it with: systemctl enable --now cmdb-agent")
		}
	}
	// The service reads this state file as root (SYSTEM on Windows): an
	// enrolment made as another user is not there.
	if st, err := agent.LoadState(state); err != nil || !st.Enrolled() {
		if err == nil || errors.Is(err, agent.ErrNotEnrolled) {
			return fmt.Errorf("install: this machine is not enrolled for the service: %s holds no enrolment; "+
				"enrol as the account the service runs as first: sudo cmdb-agent enroll --server URL --token T", state)
		}
		return fmt.Errorf("install: the service could not read its state: %w", err)
	}
	copied, err := installBinary(h, bin)
	if err != nil {
		return fmt.Errorf("install: copying the agent to %s: %w", bin, err)
	}
	if err := s.Install(); err != nil {
		if copied {
			os.Remove(bin)
		}
		return fmt.Errorf("install: %w", err)
	}
	if err := s.Start(); err != nil {
		return fmt.Errorf("install: installed, but starting failed: %w", err)
	}
	_, err = fmt.Fprintf(m.Stdout, "installed service cmdb-agent (%s) running %s with state %s\n", h.System, bin, state)
	return err
}

// installBinary copies the running binary to bin, unless it runs from
// there; it reports whether it copied.
func installBinary(h *serviceHost, bin string) (bool, error) {
	self, err := h.Self()
	if err != nil {
		return false, err
	}
	if same(self, bin) {
		return false, nil
	}
	src, err := os.Open(self)
	if err != nil {
		return false, err
	}
	defer src.Close()
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return false, err
	}
	tmp := bin + ".new"
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return false, err
	}
	_, err = io.Copy(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o755) // whatever the umask
	}
	if err == nil {
		err = os.Rename(tmp, bin)
	}
	if err != nil {
		os.Remove(tmp)
		return false, err
	}
	return true, nil
}

// same reports whether a and b name the same file.
func same(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// uninstall stops and removes the service, the SysV runlevel links that
// kardianos/service leaves, and the copied binary. The state file stays,
// so that installing again needs no new enrolment.
func (m *Main) uninstall(h *serviceHost, s serviceControl, bin string) error {
	_ = s.Stop() // it may not be running
	if err := s.Uninstall(); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("uninstall: %w", err)
	}
	var errs []error
	if h.GOOS == "linux" {
		errs = append(errs, removeRunlevelLinks(h))
	}
	if self, err := h.Self(); h.GOOS == "windows" && err == nil && same(self, bin) {
		// A running .exe cannot be deleted.
		fmt.Fprintf(m.Stdout, "%s is running this command; delete it afterwards\n", bin)
	} else if err := os.Remove(bin); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	} else if h.GOOS == "windows" {
		os.Remove(filepath.Dir(bin)) // only if empty
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("uninstall: %w", err)
	}
	_, err := fmt.Fprintf(m.Stdout, "uninstalled service cmdb-agent (%s); the enrolment stays in %s\n", h.System, m.Config.StatePath)
	return err
}

// removeRunlevelLinks removes /etc/rc?.d/[SK]NNcmdb-agent links that point
// to /etc/init.d/cmdb-agent (kardianos/service's SysV Uninstall leaves them).
func removeRunlevelLinks(h *serviceHost) error {
	links, _ := filepath.Glob(h.path("/etc/rc[0-6S].d/[SK][0-9][0-9]cmdb-agent"))
	var errs []error
	for _, l := range links {
		target, err := os.Readlink(l)
		if err != nil || (target != "/etc/init.d/cmdb-agent" && target != "../init.d/cmdb-agent" && target != h.path("/etc/init.d/cmdb-agent")) {
			continue // not a link to our script: not ours to remove
		}
		if err := os.Remove(l); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// runService runs the agent until ctx is cancelled. Under the Windows
// service manager it must talk to the manager; systemd and launchd just
// run the process and send SIGTERM, which cancels ctx.
func runService(ctx context.Context, a *agent.Agent, log *slog.Logger) error {
	if runtime.GOOS != "windows" || service.Interactive() {
		return a.Run(ctx)
	}
	s, err := service.New(&program{run: a.Run, log: log}, serviceConfig(nil))
	if err != nil {
		return err
	}
	return s.Run()
}
