package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// runCmd runs one cmdbd command and returns its stdout and error.
func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	m := NewMain()
	var out strings.Builder
	m.Stdout, m.Stderr = &out, &strings.Builder{}
	args = append(args, "--data-dir", sharedDataDir(t))
	if err := m.ParseFlags(args); err != nil {
		t.Fatalf("cmdbd %v: %v", args, err)
	}
	err := m.Run(context.Background())
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return out.String(), err
}

// TestConnectorCommands: a connector is added from the shell with its
// binary pinned and a secret from the environment, listed without the
// secret, checked, dry-run (nothing written, the plan printed), run (JSON
// summary with the run log's counters) and removed.
func TestConnectorCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := postgrestest.NewDatabase(t)
	db, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	admin := cmdb.AdminScope("test")
	auth := &cmdb.Authority{Code: "CLI", Name: "Landkreis CLI"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateAuthority(ctx, admin, auth))
	must(db.CreateSchool(ctx, admin, &cmdb.School{AuthorityID: auth.ID, Code: "GYN", Name: "Gymnasium Nord"}))
	dir := t.TempDir()
	bin := filepath.Join(dir, "cmdb-connector-csv")
	if b, err := exec.Command("go", "build", "-o", bin, "../cmdb-connector-csv").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	file := filepath.Join(dir, "inventar.csv")
	must(os.WriteFile(file, []byte("Seriennummer;Gerätetyp;Hersteller;Schulnummer;Status\r\nSN1;Beamer;Epson;GYN;in Betrieb\r\nSN2;Laptop;Dell;GYN;ausgesondert\r\nSN3;Laptop;Dell;NIX;Lager\r\n"), 0o644))
	mapping := filepath.Join(dir, "mapping.json")
	must(os.WriteFile(mapping, []byte(`{"classes": {"Beamer": "projector"}}`), 0o644))
	// A name of this test's own: t.Setenv does not go with t.Parallel.
	os.Setenv("CLI_TEST_TOKEN", "streng-geheim")
	t.Cleanup(func() { os.Unsetenv("CLI_TEST_TOKEN") })

	out, err := runCmd(t, "connector", "add", "--db", url, "--authority", "CLI", "--name", "inventar", "--binary", bin,
		"--settings", `{"path": "`+file+`"}`, "--mapping-file", mapping, "--secret-env", "token=CLI_TEST_TOKEN", "--schedule", "0 2 * * *")
	must(err)
	if !strings.Contains(out, "plugin csv") || !strings.Contains(out, "secrets set: token") || strings.Contains(out, "streng-geheim") {
		t.Fatalf("connector add printed %q", out)
	}
	if _, err := runCmd(t, "connector", "add", "--db", url, "--authority", "CLI", "--name", "zwei", "--binary", bin, "--schedule", "jeden Tag"); err == nil || !strings.Contains(err.Error(), "--schedule") {
		t.Fatalf("bad schedule: %v", err)
	}
	// The csv connector cannot write back: --push is refused by name.
	if _, err := runCmd(t, "connector", "add", "--db", url, "--authority", "CLI", "--name", "zurueck", "--binary", bin, "--push"); err == nil ||
		!strings.Contains(err.Error(), "--push: the connector csv cannot write back") {
		t.Fatalf("--push for csv: %v", err)
	}
	out, err = runCmd(t, "connector", "list", "--db", url, "--authority", "CLI", "--json")
	must(err)
	if strings.Contains(out, "streng-geheim") || !strings.Contains(out, `"secret_names": [`) || !strings.Contains(out, `"push": false`) {
		t.Fatalf("connector list = %s", out)
	}
	out, err = runCmd(t, "connector", "check", "--db", url, "--authority", "CLI", "--name", "inventar")
	must(err)
	if out == "" {
		t.Fatal("connector check printed nothing")
	}

	out, err = runCmd(t, "sync", "run", "--db", url, "--authority", "CLI", "--connector", "inventar", "--dry-run")
	must(err)
	if !strings.Contains(out, "dry run") || !strings.Contains(out, `class: "" → "projector"`) || !strings.Contains(out, "unknown_school") {
		t.Fatalf("dry run printed:\n%s", out)
	}
	if _, n, _ := db.FindCIs(ctx, admin, cmdb.CIFilter{AuthorityID: auth.ID, Limit: 1}); n != 0 {
		t.Fatalf("dry run wrote %d CIs", n)
	}
	out, err = runCmd(t, "sync", "run", "--db", url, "--authority", "CLI", "--connector", "inventar", "--json")
	must(err)
	var sum map[string]any
	must(json.Unmarshal([]byte(out), &sum))
	for k, want := range map[string]float64{"seen": 3, "created": 2, "updated": 0, "unchanged": 0, "retired": 0, "conflicts": 0, "errors": 1,
		"pushed": 0, "push_failures": 0} {
		if got, ok := sum[k].(float64); !ok || got != want {
			t.Errorf("summary %s = %v, want %v", k, sum[k], want)
		}
	}
	if sum["status"] != "succeeded" {
		t.Errorf("summary status = %v", sum["status"])
	}
	cis, _, _ := db.FindCIs(ctx, admin, cmdb.CIFilter{AuthorityID: auth.ID, Status: cmdb.StatusRetired})
	if len(cis) != 1 || cis[0].Serial != "SN2" {
		t.Errorf("\"ausgesondert\" should be retired: %v", cis)
	}
	out, err = runCmd(t, "connector", "remove", "--db", url, "--authority", "CLI", "--name", "inventar")
	must(err)
	if !strings.Contains(out, "removed") {
		t.Fatalf("connector remove printed %q", out)
	}
	if _, err := runCmd(t, "sync", "run", "--db", url, "--authority", "CLI", "--connector", "inventar"); err == nil {
		t.Fatal("sync of a removed connector ran")
	}
}

// copyExe copies an executable to dir/name.
func copyExe(t *testing.T, from, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// upgrade changes an executable as a package upgrade does: same program,
// other bytes (a trailer after the ELF sections does not stop it running).
func upgrade(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("cmdb 1.5.0"); err != nil {
		t.Fatal(err)
	}
}

// TestConnectorRepin: after a package upgrade replaced the connectors,
// every run of an instance stops at its old pin; connector repin --all
// pins the new executables in the connector directory (across
// authorities), audited with the old and new SHA-256, and the runs work
// again. An instance whose executable lies elsewhere is skipped; an
// executable that is no connector, or another plugin's, is not pinned.
func TestConnectorRepin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := postgrestest.NewDatabase(t)
	db, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	admin := cmdb.AdminScope("test")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	auth := &cmdb.Authority{Code: "REPIN", Name: "Landkreis Repin"}
	must(db.CreateAuthority(ctx, admin, auth))
	must(db.CreateSchool(ctx, admin, &cmdb.School{AuthorityID: auth.ID, Code: "GYN", Name: "Gymnasium Nord"}))
	connDir, own := t.TempDir(), t.TempDir()
	csv := filepath.Join(csvConnectorDir(t), "cmdb-connector-csv")
	bin := copyExe(t, csv, connDir, "cmdb-connector-csv")
	other := copyExe(t, csv, own, "cmdb-connector-csv")
	file := filepath.Join(t.TempDir(), "inventar.csv")
	must(os.WriteFile(file, []byte("Seriennummer;Gerätetyp;Schulnummer\r\nRP1;Laptop;GYN\r\n"), 0o644))
	settings := `{"path": "` + file + `"}`
	_, err = runCmd(t, "connector", "add", "--db", url, "--authority", "REPIN", "--name", "inventar", "--binary", bin, "--settings", settings)
	must(err)
	_, err = runCmd(t, "connector", "add", "--db", url, "--authority", "REPIN", "--name", "eigen", "--binary", other, "--settings", settings)
	must(err)
	upgrade(t, bin)
	upgrade(t, other)
	if _, err := runCmd(t, "sync", "run", "--db", url, "--authority", "REPIN", "--connector", "inventar"); err == nil ||
		!strings.Contains(err.Error(), "ersetzt") {
		t.Fatalf("run after the upgrade, before repin: %v", err)
	}

	out, err := runCmd(t, "connector", "repin", "--db", url, "--all", "--connector-dir", connDir)
	must(err)
	if !strings.Contains(out, "connector inventar of REPIN: re-pinned plugin csv") || !strings.Contains(out, "connector eigen of REPIN: skipped") {
		t.Fatalf("repin --all printed:\n%s", out)
	}
	if _, err := runCmd(t, "sync", "run", "--db", url, "--authority", "REPIN", "--connector", "inventar"); err != nil {
		t.Fatalf("run after repin: %v", err)
	}
	if _, err := runCmd(t, "sync", "run", "--db", url, "--authority", "REPIN", "--connector", "eigen"); err == nil {
		t.Fatal("the instance outside the connector directory was re-pinned")
	}
	inst, err := db.FindConnectorByName(ctx, admin, auth.ID, "inventar")
	must(err)
	events, _, err := db.FindAudit(ctx, admin, cmdb.AuditFilter{AuthorityID: auth.ID, Action: "connector_updated"})
	must(err)
	if len(events) != 1 || events[0].Detail["binary_sha256"] != inst.BinarySHA256 || events[0].Detail["binary_sha256_was"] == inst.BinarySHA256 ||
		events[0].Actor != "cli" {
		t.Fatalf("audit of the repin: %+v", events)
	}
	out, err = runCmd(t, "connector", "repin", "--db", url, "--authority", "REPIN", "--name", "inventar", "--connector-dir", connDir)
	must(err)
	if !strings.Contains(out, "unchanged") {
		t.Errorf("second repin printed %q", out)
	}

	// Not a connector, then another plugin: refused, the pin stays.
	must(os.WriteFile(bin, []byte("#!/bin/sh\necho kein Connector\n"), 0o755))
	if _, err := runCmd(t, "connector", "repin", "--db", url, "--authority", "REPIN", "--name", "inventar", "--connector-dir", connDir); err == nil {
		t.Fatal("a script that is no connector was pinned")
	}
	example := filepath.Join(t.TempDir(), "example")
	if b, err := exec.Command("go", "build", "-o", example, "../../plugins/example/cmd/cmdb-connector-example").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	copyExe(t, example, connDir, "cmdb-connector-csv")
	out, err = runCmd(t, "connector", "repin", "--db", url, "--authority", "REPIN", "--all", "--connector-dir", connDir)
	if err == nil || !strings.Contains(out, `is now the connector "example", not "csv"`) {
		t.Fatalf("another plugin's executable: %v\n%s", err, out)
	}
	again, err := db.FindConnectorByName(ctx, admin, auth.ID, "inventar")
	must(err)
	if again.BinarySHA256 != inst.BinarySHA256 {
		t.Fatal("a refused executable was pinned")
	}
	if _, err := runCmd(t, "connector", "repin", "--db", url, "--name", "inventar"); err == nil || !strings.Contains(err.Error(), "--authority") {
		t.Errorf("--name without --authority: %v", err)
	}
}
