package snmpbench

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/internal/syncbuf"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/snmp"
)

// buildCmdbd builds cmdbd into a temp dir: the bench runs the
// simulator and the polling side as cmdbd processes.
func buildCmdbd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cmdbd")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/schulit/cmdb/cmd/cmdbd").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// assertStopped fails unless nothing answers SNMP at the simulator's
// address any more: the bench stopped the process it started.
func assertStopped(t *testing.T, addr string) {
	t.Helper()
	if addr == "" {
		t.Fatal("the report names no simulator")
	}
	cred := []cmdb.SNMPCredential{{Name: "x", Version: "2c", Community: Community + "@1"}}
	r, err := snmp.Poll(context.Background(), addr, cred, snmp.Options{Timeout: 300 * time.Millisecond})
	if err != nil || r.Reachable {
		t.Errorf("the simulator at %s still answers after the bench (%v)", addr, err)
	}
}

// TestBenchSNMP runs the bench with 20 devices: our poller in its own
// process, then prometheus-snmp-exporter with the generated module. Both
// must see every device with its own serial and all four supplies. No
// timing assertions.
func TestBenchSNMP(t *testing.T) {
	t.Parallel()
	o := Options{Devices: 20, Concurrency: 8, Timeout: 2 * time.Second, Retries: 1,
		ExporterConcurrency: []int{4, 8}, Community: Community, MaxTime: 3 * time.Minute, Bin: buildCmdbd(t)}
	_, err := findExporter("")
	haveExporter := err == nil
	o.NoExporter = !haveExporter
	var out bytes.Buffer
	rep, err := Run(context.Background(), o, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	p := rep.Poller
	if p == nil || p.Complete != 20 || p.Supplies != 80 || p.Errors != 0 || p.DevicesPerSec <= 0 {
		t.Fatalf("poller round = %+v; want 20 complete devices, 80 supplies, no errors", p)
	}
	if runtime.GOOS == "linux" && p.PeakRSS <= 0 {
		t.Errorf("poller peak RSS not measured: %+v", p)
	}
	for _, want := range []string{"bench snmp: 20 simulated printers", "cmdbd poller:  20/20 devices complete in ", " devices/s; peak RSS "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	assertStopped(t, rep.Simulator)
	if !haveExporter {
		t.Skip("prometheus-snmp-exporter is not installed (Debian package prometheus-snmp-exporter; scripts/test installs it): the comparison was not run")
	}
	if len(rep.ExporterTrials) != 2 {
		t.Fatalf("%d exporter trials, want 2 (concurrency 4 and 8)", len(rep.ExporterTrials))
	}
	for _, r := range rep.ExporterTrials {
		if r.Complete != 20 || r.Supplies != 80 || r.Errors != 0 {
			t.Errorf("exporter round = %+v; want 20 complete devices, 80 supplies, no errors", r)
		}
		if runtime.GOOS == "linux" && r.PeakRSS <= 0 {
			t.Errorf("exporter peak RSS not measured: %+v", r)
		}
	}
	if rep.Exporter == nil || rep.Ratio <= 0 || !strings.Contains(rep.ExporterVersion, "version") {
		t.Errorf("report = %+v; want the best exporter round, its version and a ratio", rep)
	}
	for _, want := range []string{"snmp_exporter: 20/20 devices complete in ", "ratio: our poller "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestBenchSNMPJSON: --json prints the report, and nothing else.
func TestBenchSNMPJSON(t *testing.T) {
	t.Parallel()
	o := Options{Devices: 5, Concurrency: 2, Timeout: 2 * time.Second, Retries: 1, NoExporter: true, JSON: true,
		Community: Community, MaxTime: 2 * time.Minute, Bin: buildCmdbd(t)}
	var out bytes.Buffer
	if _, err := Run(context.Background(), o, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output is not one JSON report: %v\n%s", err, out.String())
	}
	if rep.Devices != 5 || rep.Poller == nil || rep.Poller.Complete != 5 || rep.Exporter != nil {
		t.Errorf("report = %+v", rep)
	}
}

// TestBenchSNMPCancel: when the bench is cancelled (Ctrl-C) while
// polling, it returns and its processes are gone.
func TestBenchSNMPCancel(t *testing.T) {
	t.Parallel()
	o := Options{Devices: 100000, Concurrency: 2, Timeout: 2 * time.Second, Retries: 1, NoExporter: true,
		Community: Community, MaxTime: 2 * time.Minute, Bin: buildCmdbd(t)}
	ctx, cancel := context.WithCancel(context.Background())
	var out syncbuf.Buffer
	go func() {
		// Cancel once the polling has started.
		for !strings.Contains(out.String(), "bench snmp: ") {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		cancel()
	}()
	rep, err := Run(ctx, o, &out)
	if err == nil {
		t.Fatalf("a cancelled bench returned no error: %+v", rep)
	}
	var addr string
	if _, rest, ok := strings.Cut(out.String(), " on udp "); ok {
		addr, _, _ = strings.Cut(rest, ";")
	}
	assertStopped(t, addr)
}

func TestBenchSNMPOptions(t *testing.T) {
	ok := Options{Devices: 1, Concurrency: 1, Timeout: time.Second, MaxTime: time.Minute, Community: "c"}
	if err := ok.check(); err != nil {
		t.Fatalf("%+v: %v", ok, err)
	}
	for _, f := range []func(o *Options){
		func(o *Options) { o.Devices = 0 },
		func(o *Options) { o.Devices = snmpMaxBenchDevices + 1 },
		func(o *Options) { o.Concurrency = 0 },
		func(o *Options) { o.Timeout = 0 },
		func(o *Options) { o.Retries = -1 },
		func(o *Options) { o.Community = "c@1" },
		func(o *Options) { o.Target = "10.1.2.3:161" }, // loopback only
		func(o *Options) { o.Target = "printer.example:161" },
	} {
		o := ok
		f(&o)
		if err := o.check(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
