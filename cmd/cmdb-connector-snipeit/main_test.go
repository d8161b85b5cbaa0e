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
	"github.com/schulit/cmdb/plugins/snipeit/snipeittest"
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
	bin := filepath.Join(t.TempDir(), "cmdb-connector-snipeit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSubprocess builds the real connector binary, starts it as the host
// does, checks, pulls 1,200 assets (three pages of 500, one throttled)
// and pushes two changes back to the fake.
func TestSubprocess(t *testing.T) {
	bin := build(t)
	f := snipeittest.New(t)
	f.Locations = []snipeittest.Location{{ID: 1, Name: "Realschule Ost"}, {ID: 2, Name: "Altbau", ParentID: 1},
		{ID: 3, Name: "Raum 12", ParentID: 2}, {ID: 4, Name: "Werkstatt", ParentID: 1}}
	f.StatusLabels = []snipeittest.StatusLabel{{ID: 1, Name: "Einsatzbereit", Type: "deployable"}, {ID: 2, Name: "Defekt", Type: "undeployable"}}
	const n = 1200
	for i := 1; i <= n; i++ {
		f.Assets = append(f.Assets, snipeittest.Asset{ID: i, Name: fmt.Sprintf("RSO-NB-%04d", i), AssetTag: fmt.Sprintf("RSO-%05d", i),
			Serial: fmt.Sprintf("PF%06d", i), Model: "Lenovo ThinkPad L14 Gen 4", Category: "Notebooks & Tablets", Manufacturer: "Lenovo",
			StatusID: 1, RTDLocationID: 3, PurchaseDate: "2025-02-28", WarrantyMonths: 48,
			Fields: []snipeittest.CustomField{{Name: "MAC Address", Column: "_snipeit_mac_address_1", Format: "MAC",
				Value: fmt.Sprintf("8C:16:45:00:%02X:%02X", i>>8, i&0xff)}}})
	}
	// One throttled page costs this test one real second.
	f.Fail(snipeittest.Hardware, 500, snipeittest.Fault{Status: 429, RetryAfter: "1"})

	logs := &syncBuffer{}
	ctx := context.Background()
	c, stop, err := connector.Launch(ctx, bin, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	d, err := c.Describe(ctx)
	if err != nil || d.Name != "snipeit" || !d.Can(connector.CapPush) || !json.Valid(d.ConfigSchema) {
		t.Fatalf("Describe = %+v, %v", d, err)
	}
	// Ten requests a second keep the test short; the default is two.
	cfg := connector.Config{Settings: f.Settings(map[string]any{"requests_per_second": 10}), Secrets: map[string]connector.Secret{"api_token": connector.Secret(f.Token)}}
	res, err := c.Check(ctx, cfg)
	if err != nil || !res.OK || res.Message != "Verbindung zu Snipe-IT steht; der API-Schlüssel sieht 1200 Assets." {
		t.Fatalf("Check = %+v, %v", res, err)
	}
	bad := connector.Config{Settings: cfg.Settings, Secrets: map[string]connector.Secret{"api_token": "widerrufen-2025"}}
	res, err = c.Check(ctx, bad)
	if err != nil || res.OK || !strings.HasPrefix(res.Message, "Snipe-IT lehnt den API-Schlüssel ab") {
		t.Fatalf("Check with a revoked token = %+v, %v", res, err)
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
	if len(keys) != n || batches != 3 {
		t.Fatalf("%d records in %d batches, want %d in 3", len(keys), batches, n)
	}
	if r := keys["300"]; r.ClassHint != "Notebooks & Tablets" || r.Identifiers.MACs[0] != "8c:16:45:00:01:2c" ||
		r.Location != (connector.Location{SchoolName: "Realschule Ost", Building: "Altbau", Room: "Raum 12"}) ||
		r.Attributes["warranty_until"] != "2029-02-28" || r.Status != "Einsatzbereit" {
		t.Errorf("record %+v", r)
	}

	pr, err := c.Push(ctx, cfg, []connector.Change{
		{SourceKey: "300", Status: "Defekt", Location: connector.Location{SchoolName: "Realschule Ost", Room: "Werkstatt"}},
		{Identifiers: connector.Identifiers{Serial: "GIBTSNICHT"}, Status: "Defekt"},
	})
	if err != nil || pr.Applied != 1 || len(pr.Failures) != 1 || !strings.Contains(pr.Failures[0].Message, "legt keine an") {
		t.Fatalf("Push = %+v, %v", pr, err)
	}
	if a, _ := f.Find(300); a.StatusID != 2 || a.RTDLocationID != 4 {
		t.Errorf("asset 300 after Push: %+v", a)
	}

	stop() // drains the connector's log into the host's
	log := logs.String()
	if !strings.Contains(log, "Snipe-IT drosselt") || !strings.Contains(log, "Snipe-IT gelesen") {
		t.Errorf("the connector's log did not reach the host:\n%s", log)
	}
	if strings.Contains(log, f.Token) || strings.Contains(log, "widerrufen-2025") {
		t.Errorf("the host's log shows a token:\n%s", log)
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
