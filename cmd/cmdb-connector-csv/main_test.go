package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schulit/cmdb/plugins/connector"
)

// TestSubprocess builds the real connector binary, starts it as the host
// does, and pulls a generated 10,000-row German Excel export through it.
func TestSubprocess(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "cmdb-connector-csv")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	var csv bytes.Buffer
	csv.WriteString("\ufeffInventarnummer;Seriennummer;Gerätetyp;Hersteller;Schulnummer;Raum;Status;Kaufdatum;MAC-Adresse\r\n")
	const rows = 10000
	for i := range rows {
		fmt.Fprintf(&csv, "INV-%05d;SN%07d;Laptop;Dell;GYN;%d.%02d;in Betrieb;%02d.%02d.2024;00-11-22-%02X-%02X-%02X\r\n",
			i, i, i%3+1, i%40, i%28+1, i%12+1, i>>16&0xff, i>>8&0xff, i&0xff)
	}
	path := filepath.Join(dir, "inventar.csv")
	if err := os.WriteFile(path, csv.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	c, stop, err := connector.Launch(context.Background(), bin, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ctx := context.Background()

	d, err := c.Describe(ctx)
	if err != nil || d.Name != "csv" || !d.Can(connector.CapPull) || d.Can(connector.CapPush) || !json.Valid(d.ConfigSchema) {
		t.Fatalf("Describe = %+v, %v", d, err)
	}
	settings, _ := json.Marshal(map[string]string{"path": path})
	cfg := connector.Config{Settings: settings}
	res, err := c.Check(ctx, cfg)
	if err != nil || !res.OK || !strings.Contains(res.Message, "10000 Geräte") {
		t.Fatalf("Check = %+v, %v", res, err)
	}

	keys := map[string]bool{}
	batches := 0
	var last connector.Record
	err = c.Pull(ctx, cfg, func(b []connector.Record) error {
		batches++
		if len(b) > connector.MaxBatch {
			t.Errorf("batch of %d records", len(b))
		}
		for _, r := range b {
			keys[r.SourceKey] = true
			last = r
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != rows || batches != rows/connector.MaxBatch {
		t.Fatalf("%d distinct records in %d batches, want %d in %d", len(keys), batches, rows, rows/connector.MaxBatch)
	}
	if last.Identifiers.Serial != "SN0009999" || last.Identifiers.MACs[0] != "00:11:22:00:27:0f" ||
		last.Attributes["purchase_date"] != "2024-04-04" || last.Origin != "inventar.csv Zeile 10001" {
		t.Fatalf("last record %+v", last)
	}

	if _, err := c.Push(ctx, cfg, nil); err == nil {
		t.Fatal("Push on the csv connector succeeded")
	}
}

// TestRunByHand: started without the host, the binary says what it is.
func TestRunByHand(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "cmdb-connector-csv")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
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
