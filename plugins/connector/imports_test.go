package connector

import (
	"os/exec"
	"strings"
	"testing"
)

// TestConnectorsImportOnlyTheContract: connectors are built from this
// package alone, never from server code, so that a third party can build
// one from the contract and none can reach into the server.
func TestConnectorsImportOnlyTheContract(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	cmd := exec.Command(goBin, "list", "-deps", "-test", "./plugins/...", "./cmd/cmdb-connector-...")
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list found only %d packages", len(deps))
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "github.com/schulit/cmdb/") && !strings.HasPrefix(p, "github.com/schulit/cmdb/plugins/") &&
			!strings.HasPrefix(p, "github.com/schulit/cmdb/cmd/cmdb-connector-") {
			t.Errorf("a connector depends on %s", p)
		}
	}
}
