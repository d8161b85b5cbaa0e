// Command benchrun measures the footprint of `cmdb-agent inventory`: it
// builds the agent (CGO_ENABLED=0, as shipped), runs the inventory N
// times and prints mean and max wall time and peak RSS, plus the size of
// a full report and of a heartbeat on the wire.
//
//	go run ./agent/internal/benchrun -n 20
//
// Targets: ≤ 0.15 s wall, ≤ 15 MB peak RSS, heartbeat ≤ 2 KB.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/schulit/cmdb/agent/report"
	"github.com/schulit/cmdb/agentproto"
)

func main() {
	n := flag.Int("n", 20, "runs")
	bin := flag.String("bin", "", "agent binary to measure; built from ./cmd/cmdb-agent when empty")
	flag.Parse()
	if err := run(*n, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

func run(n int, bin string) error {
	if bin == "" {
		dir, err := os.MkdirTemp("", "cmdb-agent-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "cmdb-agent")
		build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/cmdb-agent")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build (run from the repository root): %w", err)
		}
	}
	var total, worst time.Duration
	var peak int64
	var out bytes.Buffer
	for i := range n {
		out.Reset()
		cmd := exec.Command(bin, "inventory")
		cmd.Stdout = &out
		cmd.Stderr = os.Stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		d := time.Since(start)
		total += d
		worst = max(worst, d)
		peak = max(peak, maxRSS(cmd.ProcessState))
	}
	var inv agentproto.Inventory
	if err := json.Unmarshal(out.Bytes(), &inv); err != nil {
		return fmt.Errorf("inventory output: %w", err)
	}
	snap, err := report.Take(inv)
	if err != nil {
		return err
	}
	now := time.Now()
	full, err := report.Encode(snap.Report("device-0123456789abcdef", 1, now, nil, nil, true))
	if err != nil {
		return err
	}
	beat, err := report.Encode(snap.Report("device-0123456789abcdef", 2, now, snap.Hashes, nil, false))
	if err != nil {
		return err
	}
	if st, err := os.Stat(bin); err == nil {
		fmt.Printf("binary:            %.1f MB\n", float64(st.Size())/(1<<20))
	}
	fmt.Printf("runs:              %d\n", n)
	fmt.Printf("wall mean:         %.3f s\n", (total / time.Duration(n)).Seconds())
	fmt.Printf("wall max:          %.3f s\n", worst.Seconds())
	if peak > 0 {
		fmt.Printf("peak RSS:          %.1f MB\n", float64(peak)/(1<<20))
	} else {
		fmt.Printf("peak RSS:          not available on this system\n")
	}
	fmt.Printf("inventory:         %d bytes JSON, %d software items, %d NICs, %d disks\n",
		out.Len(), len(inv.Software), len(inv.Network), len(inv.Hardware.Disks))
	fmt.Printf("full report:       %d bytes gzip on the wire\n", len(full))
	fmt.Printf("heartbeat:         %d bytes gzip on the wire\n", len(beat))
	return nil
}
