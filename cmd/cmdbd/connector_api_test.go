package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/schulit/cmdb/internal/syncbuf"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// csvConnectorBuild builds the csv connector once per test binary into a
// connector directory of its own (cmdb-connector-csv, as installed).
var csvConnectorBuild = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "cmdb-connectors-")
	if err != nil {
		return "", err
	}
	os.Chmod(dir, 0o755)
	if b, err := exec.Command("go", "build", "-o", filepath.Join(dir, "cmdb-connector-csv"), "../cmdb-connector-csv").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, b)
	}
	return dir, nil
})

// csvConnectorDir returns the connector directory holding the csv connector.
func csvConnectorDir(t *testing.T) string {
	t.Helper()
	dir, err := csvConnectorBuild()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// startServerWith is startServer with more serve flags.
func startServerWith(t *testing.T, args ...string) (*client, *syncbuf.Buffer) {
	t.Helper()
	url := postgrestest.NewDatabase(t)
	_, out, _ := runMain(t, "token", "create", "--admin", "--name", "test", "--db", url)
	token := strings.TrimSpace(out)
	m, _, logs := runMain(t, append([]string{"serve", "--listen", "127.0.0.1:0", "--db", url, "--log-level", "debug", "--log-format", "json"}, args...)...)
	return &client{t: t, base: "http://" + m.Addr(), token: token}, logs
}

// accCSV is a small inventory file for the matrix's connectors.
func (x *accEnv) accCSV(tn *accTenant) string {
	x.t.Helper()
	p := filepath.Join(x.t.TempDir(), "inventar.csv")
	if err := os.WriteFile(p, []byte("Seriennummer;Gerätetyp;Hersteller;Schulnummer\r\nACC-"+tn.name+"-1;Laptop;Dell;40123\r\n"), 0o644); err != nil {
		x.t.Fatal(err)
	}
	return p
}

// freshConnector registers a csv connector of the tenant by plugin name,
// reading path; its secret is write-only.
func (x *accEnv) freshConnector(tn *accTenant, path string) int64 {
	x.t.Helper()
	return id(x.must(201, "POST", fmt.Sprintf("/api/v1/authorities/%d/connectors", tn.auth), x.connectorBody(path)))
}

func (x *accEnv) connectorBody(path string) map[string]any {
	return map[string]any{"name": fmt.Sprintf("inventar-%d", x.next()), "plugin": "csv",
		"settings": map[string]any{"path": path}, "secrets": map[string]string{"token": "matrix-connector-secret"}}
}

// hangingRun starts a run of a fresh connector whose file is a FIFO that
// nobody writes: the run stays running (until cancelled at server close
// or the connector's stall deadline), so that cancel has one to stop.
func (x *accEnv) hangingRun(tn *accTenant) int64 {
	x.t.Helper()
	fifo := filepath.Join(x.t.TempDir(), "haengt.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		x.t.Fatal(err)
	}
	c := x.freshConnector(tn, fifo)
	return id(x.must(202, "POST", fmt.Sprintf("/api/v1/connectors/%d/runs", c), map[string]any{}))
}

// connectorFixtures gives the tenant a connector and a (dry) run of it.
func (x *accEnv) connectorFixtures(tn *accTenant) {
	x.t.Helper()
	tn.connector = x.freshConnector(tn, x.accCSV(tn))
	tn.connectorRun = id(x.must(202, "POST", fmt.Sprintf("/api/v1/connectors/%d/runs", tn.connector), map[string]any{"dry_run": true}))
}

// Connector routes of the access matrix: authority IT and admins only;
// every other role is told the connector does not exist.
func init() {
	ait := []string{"authority_it"}
	for k, v := range map[string]accessRule{
		"GET /api/v1/authorities/{id}/connectors": {allow: ait, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/authorities/%d/connectors", tn.auth), nil
		}},
		"POST /api/v1/authorities/{id}/connectors": {allow: ait, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/authorities/%d/connectors", tn.auth), x.connectorBody(x.accCSV(tn))
		}},
		"GET /api/v1/connectors/{id}": {allow: ait, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/connectors/%d", tn.connector), nil
		}},
		"PATCH /api/v1/connectors/{id}": {allow: ait, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/connectors/%d", tn.connector), map[string]any{"schedule": fmt.Sprintf("%d 3 * * *", x.next()%60)}
		}},
		"DELETE /api/v1/connectors/{id}": {allow: ait, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/connectors/%d", x.freshConnector(tn, x.accCSV(tn))), nil
		}},
		"POST /api/v1/connectors/{id}/check": {allow: ait, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/connectors/%d/check", tn.connector), nil
		}},
		"POST /api/v1/connectors/{id}/runs": {allow: ait, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/connectors/%d/runs", x.freshConnector(tn, x.accCSV(tn))), map[string]any{"dry_run": true}
		}},
		"GET /api/v1/connectors/{id}/runs": {allow: ait, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/connectors/%d/runs", tn.connector), nil
		}},
		"GET /api/v1/connector-runs/{id}": {allow: ait, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/connector-runs/%d", tn.connectorRun), nil
		}},
		"POST /api/v1/connector-runs/{id}/cancel": {allow: ait, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/connector-runs/%d/cancel", x.hangingRun(tn)), nil
		}},
	} {
		accessMatrix[k] = v
	}
}

// TestDefaultConnectorDir: without --connector-dir, a build tree's
// connectors beside cmdbd are found; a packaged cmdbd in /usr/bin, with
// none beside it, finds the package's connector folder.
func TestDefaultConnectorDir(t *testing.T) {
	bin, pkg, none := t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "missing")
	if got := defaultConnectorDir(bin, pkg); got != pkg {
		t.Errorf("no connector beside cmdbd: %q, want the package's folder %q", got, pkg)
	}
	if got := defaultConnectorDir(bin, none); got != bin {
		t.Errorf("no package folder: %q, want the folder of cmdbd %q", got, bin)
	}
	if err := os.WriteFile(filepath.Join(bin, "cmdb-connector-csv"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := defaultConnectorDir(bin, pkg); got != bin {
		t.Errorf("connector beside cmdbd: %q, want %q", got, bin)
	}
}
