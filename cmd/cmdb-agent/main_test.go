package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/schulit/cmdb/agent/agenttest"
	"github.com/schulit/cmdb/agentproto"
	"github.com/schulit/cmdb/internal/buildinfo"
)

// run runs the command line args like main does and returns stdout and
// stderr.
func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb}
	if err := m.ParseFlags(args); err != nil {
		return out.String(), errb.String(), err
	}
	err = m.Run(context.Background())
	return out.String(), errb.String(), err
}

func TestInventoryPrintsJSON(t *testing.T) {
	out, _, err := run(t, "inventory")
	if err != nil {
		t.Fatal(err)
	}
	var inv agentproto.Inventory
	if err := json.Unmarshal([]byte(out), &inv); err != nil {
		t.Fatalf("inventory output is not an Inventory: %v\n%s", err, out)
	}
	if inv.System.Hostname == "" || len(inv.Network) == 0 || inv.Hardware.MemoryBytes == 0 {
		t.Errorf("inventory lacks hostname, NICs or memory: %+v", inv.System)
	}
	if !strings.Contains(out, "\n  \"system\": {") {
		t.Error("inventory is not indented")
	}
}

func TestEnrollAndRunOnce(t *testing.T) {
	srv := agenttest.New(t)
	state := filepath.Join(t.TempDir(), "agent", "state.json")
	var printed strings.Builder

	out, errOut, err := run(t, "enroll", "--server", srv.URL(), "--token", srv.Token, "--state", state, "--log-format", "text", "--log-level", "debug")
	printed.WriteString(out + errOut)
	if err != nil {
		t.Fatalf("enroll: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, srv.DeviceID) {
		t.Errorf("enroll output %q does not name the device", out)
	}
	if info, err := os.Stat(state); err != nil {
		t.Fatal(err)
	} else if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", info.Mode().Perm())
	}

	for range 2 {
		out, errOut, err = run(t, "run", "--once", "--state", state, "--log-format", "json", "--log-level", "debug")
		printed.WriteString(out + errOut)
		if err != nil {
			t.Fatalf("run --once: %v\n%s", err, errOut)
		}
	}
	got := srv.Reports()
	if len(got) != 2 || len(got[0].Report.Sections) != len(agentproto.Sections) || len(got[1].Report.Sections) != 0 {
		t.Errorf("server got %d reports; want a full one, then a heartbeat", len(got))
	}

	// The server goes away: the report is spooled, run still succeeds.
	srv.Stop()
	_, errOut, err = run(t, "run", "--once", "--state", state)
	printed.WriteString(errOut)
	if err != nil {
		t.Fatalf("run --once with server down: %v", err)
	}
	if files, _ := os.ReadDir(filepath.Join(filepath.Dir(state), "spool")); len(files) != 1 {
		t.Errorf("spool holds %d files, want 1", len(files))
	}

	for _, secret := range []string{srv.Token, srv.Credential} {
		if strings.Contains(printed.String(), secret) {
			t.Errorf("printed output contains a secret:\n%s", printed.String())
		}
	}
}

func TestFlags(t *testing.T) {
	tests := [][]string{
		{},
		{"frobnicate"},
		{"enroll", "--server", "https://cmdb.example.org"},
		{"enroll", "--token", "t"},
		{"run", "extra"},
		{"inventory", "--log-format", "xml"},
	}
	for _, args := range tests {
		if _, _, err := run(t, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	t.Setenv("CMDB_ENROLL_TOKEN", "from-env")
	m := &Main{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
	if err := m.ParseFlags([]string{"enroll", "--server", "https://cmdb.example.org"}); err != nil {
		t.Fatalf("token from environment: %v", err)
	}
	if m.Config.Token.Reveal() != "from-env" {
		t.Errorf("token = %q", m.Config.Token.Reveal())
	}
}

func TestServiceRunsAgent(t *testing.T) {
	m := &Main{Config: Config{StatePath: "/var/lib/cmdb-agent/state.json"}}
	c := serviceConfig(m.serviceArgs())
	if c.Name != "cmdb-agent" || !slices.Equal(c.Arguments, []string{"run", "--state", "/var/lib/cmdb-agent/state.json"}) {
		t.Errorf("service config %+v", c)
	}
}

func TestVersionCommand(t *testing.T) {
	out, _, err := run(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	if want := "cmdb-agent " + buildinfo.Get().String() + "\n"; out != want {
		t.Errorf("cmdb-agent version printed %q, want %q", out, want)
	}
}
