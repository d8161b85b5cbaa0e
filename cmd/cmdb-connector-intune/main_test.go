package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/plugins/intune/intunetest"
)

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

func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cmdb-connector-intune")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSubprocess builds the real connector binary, starts it as the host
// does, and pulls a tenant of 1,500 laptops (three pages of Autopilot,
// fifteen of managed devices, one of them throttled) from the fake.
func TestSubprocess(t *testing.T) {
	bin := build(t)
	f := intunetest.New(t)
	f.PageSize = 500
	const joined, managedOnly, autopilotOnly = 1200, 100, 200
	for i := range joined + autopilotOnly {
		a := intunetest.AutopilotDevice{ID: fmt.Sprintf("ap-%05d", i), SerialNumber: fmt.Sprintf("5CG%07d", i),
			Manufacturer: "HP", Model: "HP ProBook 440 G9", GroupTag: "RSO-Lehrkraefte", EnrollmentState: "notContacted"}
		if i < joined {
			a.EnrollmentState, a.ManagedDeviceID = "enrolled", fmt.Sprintf("md-%05d", i)
		}
		f.Autopilot = append(f.Autopilot, a)
	}
	for i := range joined + managedOnly {
		f.Managed = append(f.Managed, intunetest.ManagedDevice{ID: fmt.Sprintf("md-%05d", i), DeviceName: fmt.Sprintf("RSO-NB-%04d", i),
			SerialNumber: fmt.Sprintf("5CG%07d", i), OperatingSystem: "Windows", Manufacturer: "HP", Model: "HP ProBook 440 G9",
			LastSyncDateTime: "2026-12-01T16:05:00Z", WiFiMacAddress: fmt.Sprintf("A4C3F0%06X", i)})
		if i >= joined {
			f.Managed[i].SerialNumber = fmt.Sprintf("PF%06d", i)
		}
	}
	// One throttled page costs this test one real second.
	f.Fail(intunetest.Managed, 1, intunetest.Fault{Status: 429, RetryAfter: "1"})

	logs := &syncBuffer{}
	ctx := context.Background()
	c, stop, err := connector.Launch(ctx, bin, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	d, err := c.Describe(ctx)
	if err != nil || d.Name != "intune" || !d.Can(connector.CapPull) || !json.Valid(d.ConfigSchema) {
		t.Fatalf("Describe = %+v, %v", d, err)
	}
	cfg := connector.Config{Settings: f.Settings(nil), Secrets: map[string]connector.Secret{"client_secret": intunetest.Secret}}
	res, err := c.Check(ctx, cfg)
	if err != nil || !res.OK {
		t.Fatalf("Check = %+v, %v", res, err)
	}
	bad := connector.Config{Settings: cfg.Settings, Secrets: map[string]connector.Secret{"client_secret": "abgelaufen-2025"}}
	res, err = c.Check(ctx, bad)
	if err != nil || res.OK || !strings.HasPrefix(res.Message, "Anmeldung bei Microsoft abgelehnt: Client-ID oder Geheimnis prüfen") {
		t.Fatalf("Check with an expired secret = %+v, %v", res, err)
	}

	keys := map[string]connector.Record{}
	batches := 0
	err = c.Pull(ctx, cfg, func(b []connector.Record) error {
		batches++
		if len(b) > connector.MaxBatch {
			t.Errorf("batch of %d records", len(b))
		}
		for _, r := range b {
			keys[r.SourceKey] = r
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != joined+managedOnly+autopilotOnly || batches != 3 {
		t.Fatalf("%d records in %d batches, want %d in 3", len(keys), batches, joined+managedOnly+autopilotOnly)
	}
	if r := keys["ap-00042"]; r.Identifiers.Hostname != "RSO-NB-0042" || r.Attributes["group_tag"] != "RSO-Lehrkraefte" ||
		r.Identifiers.MACs[0] != "a4:c3:f0:00:00:2a" || r.Attributes["last_sync"] != "2026-12-01" {
		t.Errorf("joined record %+v", r)
	}
	if r := keys["ap-01300"]; r.Status != "notContacted" || r.Identifiers.Serial != "5CG0001300" {
		t.Errorf("Autopilot-only record %+v", r)
	}
	if r := keys["md-01250"]; r.Identifiers.Serial != "PF001250" || r.Attributes["group_tag"] != "" {
		t.Errorf("managed-only record %+v", r)
	}

	stop() // drains the connector's log into the host's
	log := logs.String()
	if !strings.Contains(log, "Microsoft Graph drosselt") || !strings.Contains(log, "Intune gelesen") {
		t.Errorf("the connector's log did not reach the host:\n%s", log)
	}
	if strings.Contains(log, intunetest.Secret) || strings.Contains(log, "abgelaufen-2025") {
		t.Errorf("the host's log shows a secret:\n%s", log)
	}
}

// TestRunByHand: started without the host, the binary says what it is.
func TestRunByHand(t *testing.T) {
	bin := build(t)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err == nil {
		t.Fatal("exit 0")
	}
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "vom CMDB-Server gestartet") {
		t.Fatalf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}
