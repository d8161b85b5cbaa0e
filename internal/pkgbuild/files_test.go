package pkgbuild

import (
	"strings"
	"testing"
)

// unitEnvironment returns the variables the unit's Environment= lines set.
func unitEnvironment(t *testing.T, unit string) map[string]string {
	t.Helper()
	b, err := packFiles.ReadFile("files/" + unit)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		v, ok := strings.CutPrefix(strings.TrimSpace(line), "Environment=")
		if !ok {
			continue
		}
		for _, kv := range strings.Fields(v) {
			k, val, _ := strings.Cut(kv, "=")
			env[k] = val
		}
	}
	return env
}

// TestServiceConnectorDir: the package puts cmdbd in /usr/bin and the
// connectors in ConnectorDir, so the unit must tell cmdbd where they are;
// else the API finds no connector by plugin name. The settings file shows
// the variable with that default.
func TestServiceConnectorDir(t *testing.T) {
	if got := unitEnvironment(t, "cmdbd.service")["CMDB_CONNECTOR_DIR"]; got != ConnectorDir {
		t.Errorf("cmdbd.service sets CMDB_CONNECTOR_DIR=%q, want %q", got, ConnectorDir)
	}
	env, err := packFiles.ReadFile("files/cmdbd.env")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(env), "\n#CMDB_CONNECTOR_DIR="+ConnectorDir+"\n") {
		t.Errorf("cmdbd.env does not show CMDB_CONNECTOR_DIR with its default %s", ConnectorDir)
	}
	for _, c := range connectorContents("bin") {
		if !strings.HasPrefix(c.Destination, ConnectorDir+"/cmdb-connector-") {
			t.Errorf("connector installed as %s, not in %s", c.Destination, ConnectorDir)
		}
	}
}
