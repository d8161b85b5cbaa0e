package pkgbuild

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// runPostinst runs the cmdbd package's postinst with args, every command
// it calls replaced by a stub that logs its arguments (runuser also the
// data directory it is given); runuser exits with runuserExit.
func runPostinst(t *testing.T, runuserExit int, args ...string) (log, stderr string) {
	t.Helper()
	script, err := packFiles.ReadFile("files/cmdbd.postinst")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	logFile := filepath.Join(dir, "calls.log")
	for _, c := range []string{"getent", "adduser", "mkdir", "chown", "chmod", "systemctl", "runuser", "timeout"} {
		body := fmt.Sprintf("#!/bin/sh\necho \"%s $*\" >>%s\n", c, logFile)
		if c == "timeout" {
			body += "shift\nexec \"$@\"\n"
		}
		if c == "runuser" {
			body += fmt.Sprintf("echo \"  CMDB_DATA_DIR=$CMDB_DATA_DIR\" >>%s\nexit %d\n", logFile, runuserExit)
		}
		if err := os.WriteFile(filepath.Join(dir, c), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	cmd := exec.Command(sh, append([]string{"-c", string(script), "postinst"}, args...)...)
	cmd.Env = []string{"PATH=" + dir}
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("postinst %v: %v\n%s", args, err, errb.String())
	}
	b, _ := os.ReadFile(logFile)
	return string(b), errb.String()
}

// TestPostinstRepinsConnectors: an upgrade replaces the connectors, so
// their pins must be renewed or every instance stops running; postinst
// runs connector repin for the package's folder, as the user cmdb with
// the unit's data directory. A first install has nothing to re-pin; a
// failing repin does not fail the upgrade but says what to run.
func TestPostinstRepinsConnectors(t *testing.T) {
	if _, err := os.Stat("/etc/cmdb/cmdbd.env"); err == nil {
		t.Skip("/etc/cmdb/cmdbd.env exists on this machine; postinst would read it")
	}
	want := "timeout 300 runuser -u cmdb -- /usr/bin/cmdbd connector repin --all --connector-dir " + ConnectorDir + "\n" +
		"runuser -u cmdb -- /usr/bin/cmdbd connector repin --all --connector-dir " + ConnectorDir + "\n  CMDB_DATA_DIR=/var/lib/cmdb\n"
	log, _ := runPostinst(t, 0, "configure", "1.4.0")
	if !strings.Contains(log, want) {
		t.Errorf("upgrade: postinst called\n%s\nwant\n%s", log, want)
	}
	if log, _ := runPostinst(t, 0, "configure", ""); strings.Contains(log, "runuser") {
		t.Errorf("first install re-pins:\n%s", log)
	}
	if _, stderr := runPostinst(t, 1, "configure", "1.4.0"); !strings.Contains(stderr, "cmdbd connector repin --all") {
		t.Errorf("a failed repin is not reported: %q", stderr)
	}
}
