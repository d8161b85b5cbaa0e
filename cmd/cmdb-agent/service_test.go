package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kardianos/service"

	"github.com/schulit/cmdb/agent"
	"github.com/schulit/cmdb/agentproto"
)

// fakeSysV does what kardianos/service's SysV backend does, below root:
// Install writes /etc/init.d/cmdb-agent and seven /etc/rc?.d links,
// Uninstall removes only the script.
type fakeSysV struct {
	root   string
	cfg    *service.Config
	calls  []string
	failOn string
}

func (f *fakeSysV) call(name string) error {
	f.calls = append(f.calls, name)
	if f.failOn == name {
		return errors.New(name + " failed")
	}
	return nil
}

func (f *fakeSysV) Install() error {
	if err := f.call("install"); err != nil {
		return err
	}
	script := filepath.Join(f.root, "etc", "init.d", "cmdb-agent")
	os.MkdirAll(filepath.Dir(script), 0o755)
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec "+f.cfg.Executable+" "+strings.Join(f.cfg.Arguments, " ")+"\n"), 0o755); err != nil {
		return err
	}
	for _, l := range []string{"rc2.d/S50", "rc3.d/S50", "rc4.d/S50", "rc5.d/S50", "rc0.d/K02", "rc1.d/K02", "rc6.d/K02"} {
		link := filepath.Join(f.root, "etc", l+"cmdb-agent")
		os.MkdirAll(filepath.Dir(link), 0o755)
		if err := os.Symlink("/etc/init.d/cmdb-agent", link); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeSysV) Uninstall() error {
	if err := f.call("uninstall"); err != nil {
		return err
	}
	return os.Remove(filepath.Join(f.root, "etc", "init.d", "cmdb-agent"))
}
func (f *fakeSysV) Start() error { return f.call("start") }
func (f *fakeSysV) Stop() error  { return f.call("stop") }

// serviceMain returns a Main for install/uninstall on a fake Linux machine
// below a temporary root, running as euid, with the agent binary at self.
func serviceMain(t *testing.T, euid int) (*Main, *fakeSysV, *bytes.Buffer) {
	t.Helper()
	root := t.TempDir()
	self := filepath.Join(root, "home", "it", "Downloads", "cmdb-agent")
	os.MkdirAll(filepath.Dir(self), 0o755)
	if err := os.WriteFile(self, []byte("agent binary"), 0o700); err != nil {
		t.Fatal(err)
	}
	f := &fakeSysV{root: root}
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Config: Config{StatePath: filepath.Join(root, "var", "lib", "cmdb-agent", "state.json")},
		host: &serviceHost{Root: root, GOOS: "linux", Euid: euid, System: "linux-systemv",
			Self: func() (string, error) { return self, nil },
			New:  func(c *service.Config) (serviceControl, error) { f.cfg = c; return f, nil }}}
	return m, f, &out
}

func enrol(t *testing.T, path string) {
	t.Helper()
	if err := agent.SaveState(path, agent.State{Server: "https://cmdb.example.org", DeviceID: "d-1", Credential: agentproto.Secret("cred")}); err != nil {
		t.Fatal(err)
	}
}

func do(m *Main, action string) error {
	m.Config.Command = action
	m.Config.LogFormat, m.Config.LogLevel = "text", "info"
	return m.Run(context.Background())
}

func TestInstallRefusesWithoutEnrolment(t *testing.T) {
	m, f, _ := serviceMain(t, 0)
	err := do(m, "install")
	if err == nil || !strings.Contains(err.Error(), "not enrolled for the service") || !strings.Contains(err.Error(), m.Config.StatePath) ||
		!strings.Contains(err.Error(), "sudo cmdb-agent enroll") {
		t.Errorf("install without enrolment: %v, want a refusal naming the state file and how to enrol", err)
	}
	if len(f.calls) > 0 {
		t.Errorf("the service manager was called: %v", f.calls)
	}
	if _, err := os.Stat(m.host.binaryPath()); err == nil {
		t.Error("the binary was copied although install was refused")
	}
}

func TestInstallRefusesWithoutRoot(t *testing.T) {
	m, f, _ := serviceMain(t, 1000)
	enrol(t, m.Config.StatePath)
	if err := do(m, "install"); err == nil || !strings.Contains(err.Error(), "sudo cmdb-agent install") {
		t.Errorf("install as a user: %v, want a refusal saying to use sudo", err)
	}
	if len(f.calls) > 0 {
		t.Errorf("the service manager was called: %v", f.calls)
	}
}

func TestInstallRefusesNextToThePackage(t *testing.T) {
	m, f, _ := serviceMain(t, 0)
	enrol(t, m.Config.StatePath)
	unit := m.host.path(packageUnit)
	os.MkdirAll(filepath.Dir(unit), 0o755)
	os.WriteFile(unit, []byte("[Service]\n"), 0o644)
	if err := do(m, "install"); err == nil || !strings.Contains(err.Error(), "systemctl enable --now cmdb-agent") {
		t.Errorf("install with the Debian package's unit present: %v", err)
	}
	if len(f.calls) > 0 {
		t.Errorf("the service manager was called: %v", f.calls)
	}
}

func TestInstallCopiesAndUninstallLeavesNothing(t *testing.T) {
	m, f, out := serviceMain(t, 0)
	enrol(t, m.Config.StatePath)
	before := tree(t, f.root)
	if err := do(m, "install"); err != nil {
		t.Fatal(err)
	}
	bin := m.host.binaryPath()
	if bin != filepath.Join(f.root, "usr", "local", "bin", "cmdb-agent") {
		t.Errorf("binary path %s", bin)
	}
	if b, err := os.ReadFile(bin); err != nil || string(b) != "agent binary" {
		t.Fatalf("binary not copied to %s: %v", bin, err)
	}
	if fi, _ := os.Stat(bin); fi.Mode().Perm() != 0o755 {
		t.Errorf("copied binary has mode %v, want 0755", fi.Mode().Perm())
	}
	if f.cfg.Executable != bin || !slices.Equal(f.cfg.Arguments, []string{"run", "--state", m.Config.StatePath}) {
		t.Errorf("service runs %s %v, want %s run --state %s", f.cfg.Executable, f.cfg.Arguments, bin, m.Config.StatePath)
	}
	if !slices.Equal(f.calls, []string{"install", "start"}) {
		t.Errorf("service calls %v", f.calls)
	}
	if !strings.Contains(out.String(), "installed service cmdb-agent") {
		t.Errorf("install printed %q", out.String())
	}
	// A link that is not ours stays.
	other := filepath.Join(f.root, "etc", "rc2.d", "S01cmdb-agent")
	os.Symlink("/etc/init.d/something-else", other)

	if err := do(m, "uninstall"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(other); err != nil {
		t.Errorf("uninstall removed a link that is not its own: %v", err)
	}
	os.Remove(other)
	after := tree(t, f.root)
	if !slices.Equal(before, after) {
		t.Errorf("uninstall left behind:\nbefore %v\nafter  %v", before, after)
	}
	if _, err := os.Stat(m.Config.StatePath); err != nil {
		t.Errorf("uninstall removed the enrolment: %v", err)
	}
}

func TestInstallFromTheFixedPlaceDoesNotCopy(t *testing.T) {
	m, f, _ := serviceMain(t, 0)
	enrol(t, m.Config.StatePath)
	bin := m.host.binaryPath()
	os.MkdirAll(filepath.Dir(bin), 0o755)
	os.WriteFile(bin, []byte("already here"), 0o755)
	m.host.Self = func() (string, error) { return bin, nil }
	if err := do(m, "install"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(bin); string(b) != "already here" {
		t.Errorf("binary was replaced: %q", b)
	}
	if f.cfg.Executable != bin {
		t.Errorf("service runs %s, want %s", f.cfg.Executable, bin)
	}
}

func TestFailedInstallRemovesTheCopy(t *testing.T) {
	m, f, _ := serviceMain(t, 0)
	enrol(t, m.Config.StatePath)
	f.failOn = "install"
	if err := do(m, "install"); err == nil {
		t.Fatal("no error")
	}
	if _, err := os.Stat(m.host.binaryPath()); err == nil {
		t.Error("a failed install left the copied binary")
	}
}

// tree lists every path below root, directories excepted.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, strings.TrimPrefix(p, root))
		}
		return nil
	})
	return out
}
