package agentproto_test

import (
	"os/exec"
	"strings"
	"testing"
)

// goList runs go list in the module root with the given arguments.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	cmd := exec.Command(goBin, append([]string{"list"}, args...)...)
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.Fields(string(out))
}

// TestAgentImportsNoServerCode: the agent (its packages, their tests and
// the cmdb-agent command) is built from the protocol, not from the
// server, so that server code never ships on the pupils' machines.
func TestAgentImportsNoServerCode(t *testing.T) {
	deps := goList(t, "-deps", "-test", "./agent/...", "./cmd/cmdb-agent")
	if len(deps) < 10 {
		t.Fatalf("go list found only %d packages: %v", len(deps), deps)
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "github.com/schulit/cmdb/server") {
			t.Errorf("the agent depends on %s", p)
		}
	}
}

// TestProtocolImportsOnlyStandardLibrary: both sides import agentproto,
// so it must bring nothing with it.
func TestProtocolImportsOnlyStandardLibrary(t *testing.T) {
	for _, line := range goList(t, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./agentproto") {
		if line != "github.com/schulit/cmdb/agentproto" {
			t.Errorf("agentproto depends on %s, not the standard library", line)
		}
	}
}
