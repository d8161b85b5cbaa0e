// Package snmpbench is "cmdbd bench snmp": our SNMP poller against
// prometheus-snmp-exporter on simulated printers, each side in its own
// process (the cmdbd binary's "snmp simulate" and "bench snmp --target").
package snmpbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/snmp"
)

const benchSNMPUsage = `Usage: cmdbd bench snmp [--devices 5000] [--concurrency N] [--timeout 2s]
                       [--exporter PATH | --no-exporter] [--json]

Polls N simulated printers (4 supplies each) once with our SNMP poller and
prints devices/s, round time and peak RSS; then scrapes the same devices
through prometheus-snmp-exporter with an equivalent Printer-MIB module and
prints its figures and the ratio. The simulator, the polling side and the
exporter each run as their own process on loopback, so that each peak RSS
is that process's alone; all of them are stopped at the end.

A device counts as complete when it answered with its own serial number
(the simulator's "-N" suffix) and at least one supply.

Flags:
`

// Options are the flags of "cmdbd bench snmp".
type Options struct {
	Devices     int
	Concurrency int
	Timeout     time.Duration
	Retries     int
	// Exporter is the prometheus-snmp-exporter binary; empty: found on
	// PATH. NoExporter skips the comparison.
	Exporter            string
	NoExporter          bool
	ExporterConcurrency []int
	JSON                bool
	// Target is a simulator already running; empty: the bench starts
	// one. With Target, our poller runs in this process.
	Target    string
	Community string
	MaxTime   time.Duration
	// Bin is the cmdbd binary run for the simulator and the polling
	// side; empty: this executable. Tests pass a built cmdbd.
	Bin string
}

const (
	defaultBenchSNMPDevices = 5000
	// Measured on the 2-core box (see README): the round time stops
	// falling at about 128 polls in flight, and the UDP socket buffers
	// of the one simulator start to overflow well above 512.
	defaultBenchSNMPConcurrency = 128
	// Community names the recording of the simulated printers; device N
	// answers Community@N.
	Community = "canon-c5535"
)

// defaultExporterConcurrency are the HTTP concurrencies the exporter is
// tried with; its best round counts.
var defaultExporterConcurrency = []int{32, 64, 128, 256}

// benchPrinterRecording is a colour MFP with four toner supplies, one of
// them empty (with an alert), a copy of testdata/snmp/canon-c5535.snmprec
// so that the bench needs no files. The simulator answers NAME@N as
// device N of it, with its own serial number and MAC.
const benchPrinterRecording = `1.3.6.1.2.1.1.1.0|4|Canon iR-ADV C5535 /P
1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.1602.4.7
1.3.6.1.2.1.1.3.0|67|88000000
1.3.6.1.2.1.1.4.0|4|it-service@schulamt.example
1.3.6.1.2.1.1.5.0|4|iR-ADV-Verwaltung
1.3.6.1.2.1.1.6.0|4|Gesamtschule Ost, Verwaltung
1.3.6.1.2.1.2.1.0|2|2
1.3.6.1.2.1.2.2.1.1.1|2|1
1.3.6.1.2.1.2.2.1.1.2|2|2
1.3.6.1.2.1.2.2.1.2.1|4|lo
1.3.6.1.2.1.2.2.1.2.2|4|eth0
1.3.6.1.2.1.2.2.1.3.1|2|24
1.3.6.1.2.1.2.2.1.3.2|2|6
1.3.6.1.2.1.2.2.1.6.1|4|
1.3.6.1.2.1.2.2.1.6.2|4x|001e8faabbcc
1.3.6.1.2.1.25.3.2.1.1.1|2|1
1.3.6.1.2.1.25.3.2.1.2.1|6|1.3.6.1.2.1.25.3.1.5
1.3.6.1.2.1.25.3.2.1.3.1|4|Canon iR-ADV C5535
1.3.6.1.2.1.25.3.2.1.5.1|2|2
1.3.6.1.2.1.25.3.5.1.1.1|2|4
1.3.6.1.2.1.25.3.5.1.2.1|4x|0800
1.3.6.1.2.1.43.5.1.1.17.1|4|XLF01234
1.3.6.1.2.1.43.10.2.1.3.1.1|2|7
1.3.6.1.2.1.43.10.2.1.4.1.1|65|801234
1.3.6.1.2.1.43.11.1.1.3.1.1|2|1
1.3.6.1.2.1.43.11.1.1.3.1.2|2|2
1.3.6.1.2.1.43.11.1.1.3.1.3|2|3
1.3.6.1.2.1.43.11.1.1.3.1.4|2|4
1.3.6.1.2.1.43.11.1.1.4.1.1|2|3
1.3.6.1.2.1.43.11.1.1.4.1.2|2|3
1.3.6.1.2.1.43.11.1.1.4.1.3|2|3
1.3.6.1.2.1.43.11.1.1.4.1.4|2|3
1.3.6.1.2.1.43.11.1.1.5.1.1|2|3
1.3.6.1.2.1.43.11.1.1.5.1.2|2|3
1.3.6.1.2.1.43.11.1.1.5.1.3|2|3
1.3.6.1.2.1.43.11.1.1.5.1.4|2|3
1.3.6.1.2.1.43.11.1.1.6.1.1|4|Canon GPR-53 Black Toner
1.3.6.1.2.1.43.11.1.1.6.1.2|4|Canon GPR-53 Cyan Toner
1.3.6.1.2.1.43.11.1.1.6.1.3|4|Canon GPR-53 Magenta Toner
1.3.6.1.2.1.43.11.1.1.6.1.4|4|Canon GPR-53 Yellow Toner
1.3.6.1.2.1.43.11.1.1.7.1.1|2|7
1.3.6.1.2.1.43.11.1.1.7.1.2|2|7
1.3.6.1.2.1.43.11.1.1.7.1.3|2|7
1.3.6.1.2.1.43.11.1.1.7.1.4|2|7
1.3.6.1.2.1.43.11.1.1.8.1.1|2|-2
1.3.6.1.2.1.43.11.1.1.8.1.2|2|-2
1.3.6.1.2.1.43.11.1.1.8.1.3|2|-2
1.3.6.1.2.1.43.11.1.1.8.1.4|2|-2
1.3.6.1.2.1.43.11.1.1.9.1.1|2|-3
1.3.6.1.2.1.43.11.1.1.9.1.2|2|-3
1.3.6.1.2.1.43.11.1.1.9.1.3|2|0
1.3.6.1.2.1.43.11.1.1.9.1.4|2|-3
1.3.6.1.2.1.43.12.1.1.4.1.1|4|black
1.3.6.1.2.1.43.12.1.1.4.1.2|4|cyan
1.3.6.1.2.1.43.12.1.1.4.1.3|4|magenta
1.3.6.1.2.1.43.12.1.1.4.1.4|4|yellow
1.3.6.1.2.1.43.18.1.1.2.1.1|2|3
1.3.6.1.2.1.43.18.1.1.4.1.1|2|11
1.3.6.1.2.1.43.18.1.1.7.1.1|2|1104
1.3.6.1.2.1.43.18.1.1.8.1.1|4|Magenta toner is empty
`

// registerFlags adds the flags of "cmdbd bench snmp" to fs.
func (o *Options) registerFlags(fs *flag.FlagSet) {
	fs.IntVar(&o.Devices, "devices", defaultBenchSNMPDevices, "simulated printers (NAME@1 … NAME@N)")
	fs.IntVar(&o.Concurrency, "concurrency", defaultBenchSNMPConcurrency, "polls in flight at most")
	fs.DurationVar(&o.Timeout, "timeout", snmp.DefaultTimeout, "how long one SNMP request waits for an answer (both sides)")
	fs.IntVar(&o.Retries, "retries", 1, "how often a request is sent again after a timeout (both sides)")
	fs.StringVar(&o.Exporter, "exporter", "", "prometheus-snmp-exporter binary; empty: found on PATH")
	fs.BoolVar(&o.NoExporter, "no-exporter", false, "poll with our poller only, no comparison")
	fs.Func("exporter-concurrency", fmt.Sprintf("comma-separated HTTP concurrencies to try the exporter with; the best counts (default %s)",
		commaInts(defaultExporterConcurrency)), func(s string) error {
		var cs []int
		for f := range strings.SplitSeq(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return fmt.Errorf("%q is not a positive number", f)
			}
			cs = append(cs, n)
		}
		o.ExporterConcurrency = cs
		return nil
	})
	fs.BoolVar(&o.JSON, "json", false, "print the figures as JSON")
	fs.StringVar(&o.Target, "target", "", "UDP address of a simulator already running (cmdbd snmp simulate); empty: start one")
	fs.StringVar(&o.Community, "community", Community, "with --target: the recording whose NAME@N devices are polled")
	fs.DurationVar(&o.MaxTime, "max-time", 10*time.Minute, "stop the whole bench after this long")
}

// check validates the options after parsing and fills in defaults.
func (o *Options) check() error {
	switch {
	case o.Devices < 1 || o.Devices > snmpMaxBenchDevices:
		return fmt.Errorf("bench snmp: --devices must be between 1 and %d", snmpMaxBenchDevices)
	case o.Concurrency < 1:
		return errors.New("bench snmp: --concurrency must be at least 1")
	case o.Timeout <= 0:
		return errors.New("bench snmp: --timeout must be positive")
	case o.Retries < 0:
		return errors.New("bench snmp: --retries must not be negative")
	case o.MaxTime <= 0:
		return errors.New("bench snmp: --max-time must be positive")
	case o.Community == "" || strings.ContainsAny(o.Community, "@ \t\n"):
		return errors.New("bench snmp: --community must be a recording name without @ or spaces")
	}
	if o.Target != "" {
		host, _, err := snmp.SplitTarget(o.Target, 161)
		if err != nil {
			return fmt.Errorf("bench snmp: --target: %s", cmdb.ErrorMessage(err))
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return errors.New("bench snmp: --target must be a loopback address such as 127.0.0.1:1161")
		}
	}
	if len(o.ExporterConcurrency) == 0 {
		o.ExporterConcurrency = defaultExporterConcurrency
	}
	return nil
}

// snmpMaxBenchDevices bounds --devices: one exporter module per device
// has to fit into a config file.
const snmpMaxBenchDevices = 100000

// Report is what "cmdbd bench snmp" measured.
type Report struct {
	Devices   int    `json:"devices"`
	Community string `json:"community"`
	Simulator string `json:"simulator"`
	Timeout   string `json:"timeout"`
	Retries   int    `json:"retries"`
	// Poller is our poller's round.
	Poller *Round `json:"poller"`
	// ExporterVersion is what the exporter's --version said.
	ExporterVersion string `json:"exporter_version,omitempty"`
	// ExporterTrials are the exporter's rounds, one per concurrency,
	// each in a fresh exporter process; Exporter is the fastest.
	ExporterTrials []*Round `json:"exporter_trials,omitempty"`
	Exporter       *Round   `json:"exporter,omitempty"`
	// Ratio is our devices/s over the exporter's best.
	Ratio float64 `json:"ratio,omitempty"`
}

// Round is one round over all devices.
type Round struct {
	Concurrency int `json:"concurrency"`
	Devices     int `json:"devices"`
	// Complete devices answered with their own serial number and at
	// least one supply; Errors are the others.
	Complete      int     `json:"complete"`
	Supplies      int     `json:"supplies"`
	Errors        int     `json:"errors"`
	FirstError    string  `json:"first_error,omitempty"`
	Seconds       float64 `json:"seconds"`
	DevicesPerSec float64 `json:"devices_per_sec"`
	// PeakRSS is the polling process's peak resident set (bytes; 0:
	// unknown on this system); IdleRSS its peak before the round (the
	// exporter's includes loading its configuration).
	PeakRSS int64 `json:"peak_rss_bytes"`
	IdleRSS int64 `json:"idle_rss_bytes,omitempty"`
	// CPUSeconds is the user and system time the polling process spent
	// on the round (0: unknown).
	CPUSeconds float64 `json:"cpu_seconds"`
}

// Command is "cmdbd bench snmp".
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cmdbd bench snmp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchSNMPUsage)
		fs.PrintDefaults()
	}
	var o Options
	o.registerFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	} else if fs.NArg() > 0 {
		return fmt.Errorf("bench snmp: unexpected argument %q", fs.Arg(0))
	}
	_, err := Run(ctx, o, stdout)
	return err
}

// Run runs the bench and prints its figures to out, as text or as
// JSON. Every process it starts is stopped before it returns.
func Run(ctx context.Context, o Options, out io.Writer) (*Report, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.MaxTime)
	defer cancel()
	rep := &Report{Devices: o.Devices, Community: o.Community, Timeout: o.Timeout.String(), Retries: o.Retries}
	text := io.Discard
	if !o.JSON {
		text = out
	}
	exporter := ""
	if !o.NoExporter {
		var err error
		if exporter, err = findExporter(o.Exporter); err != nil {
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp("", "cmdb-bench-snmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	if o.Target != "" {
		// The polling side: this process polls, and its peak RSS is its own.
		rep.Simulator = o.Target
		fmt.Fprintf(text, "bench snmp: %d devices %s@1…%d on udp %s; timeout %s, retries %d\n",
			o.Devices, o.Community, o.Devices, o.Target, o.Timeout, o.Retries)
		idle, cpu0 := selfPeakRSS(), processCPU()
		rep.Poller = pollSNMPRound(ctx, o)
		rep.Poller.IdleRSS = idle
		rep.Poller.CPUSeconds = (processCPU() - cpu0).Seconds()
		rep.Poller.PeakRSS = selfPeakRSS()
	} else {
		bin := o.Bin
		if bin == "" {
			if bin, err = os.Executable(); err != nil {
				return nil, fmt.Errorf("bench snmp: %w", err)
			}
		}
		data := filepath.Join(tmp, "data")
		if err := os.Mkdir(data, 0o755); err != nil {
			return nil, err
		}
		o.Community = Community
		rep.Community = o.Community
		if err := os.WriteFile(filepath.Join(data, o.Community+".snmprec"), []byte(benchPrinterRecording), 0o644); err != nil {
			return nil, err
		}
		sim, addr, err := startSimulator(ctx, bin, data)
		if err != nil {
			return nil, err
		}
		defer sim.stop()
		o.Target, rep.Simulator = addr, addr
		fmt.Fprintf(text, "bench snmp: %d simulated printers %s@1…%d (4 supplies each) on udp %s; timeout %s, retries %d\n",
			o.Devices, o.Community, o.Devices, addr, o.Timeout, o.Retries)
		if rep.Poller, err = pollInChild(ctx, bin, o); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(text, "cmdbd poller:  %s\n", rep.Poller)
	if ctx.Err() != nil {
		return rep, fmt.Errorf("bench snmp: %w", context.Cause(ctx))
	}

	if exporter != "" {
		if err := benchExporter(ctx, exporter, tmp, o, rep, text); err != nil {
			return rep, err
		}
	}
	if o.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// String is the round as one line of text.
func (r *Round) String() string {
	rss := "peak RSS n/a"
	if r.PeakRSS > 0 {
		rss = "peak RSS " + mebibytes(r.PeakRSS)
		if r.IdleRSS > 0 {
			rss += " (" + mebibytes(r.IdleRSS) + " before the round)"
		}
	}
	cpu := ""
	if r.CPUSeconds > 0 {
		cpu = fmt.Sprintf(", CPU %.1fs", r.CPUSeconds)
	}
	s := fmt.Sprintf("%d/%d devices complete in %.2fs = %.0f devices/s; %s%s; errors %d (concurrency %d)",
		r.Complete, r.Devices, r.Seconds, r.DevicesPerSec, rss, cpu, r.Errors, r.Concurrency)
	if r.FirstError != "" {
		s += "; first error: " + r.FirstError
	}
	return s
}

func mebibytes(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func commaInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// roundCounter collects the outcome of one round's devices.
type roundCounter struct {
	complete, supplies, errors atomic.Int64
	firstErr                   sync.Once
	first                      string
}

func (c *roundCounter) fail(dev int, msg string) {
	c.errors.Add(1)
	c.firstErr.Do(func() { c.first = fmt.Sprintf("device %d: %s", dev, msg) })
}

// runRound calls one(dev) for dev 1…devices with at most concurrency
// calls at once and returns the round's figures. It stops starting calls
// when ctx ends; devices not started count as errors.
func runRound(ctx context.Context, devices, concurrency int, one func(dev int, c *roundCounter)) *Round {
	var c roundCounter
	next := atomic.Int64{}
	var wg sync.WaitGroup
	start := time.Now()
	for range min(concurrency, devices) {
		wg.Go(func() {
			for ctx.Err() == nil {
				dev := int(next.Add(1))
				if dev > devices {
					return
				}
				one(dev, &c)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := &Round{Concurrency: concurrency, Devices: devices, Complete: int(c.complete.Load()),
		Supplies: int(c.supplies.Load()), Seconds: elapsed.Seconds()}
	r.Errors = devices - r.Complete
	r.FirstError = c.first
	if r.FirstError == "" && r.Errors > 0 {
		r.FirstError = "not polled: " + context.Cause(ctx).Error()
	}
	r.DevicesPerSec = float64(r.Complete) / elapsed.Seconds()
	return r
}

// pollSNMPRound polls every device once with our poller, in this process.
func pollSNMPRound(ctx context.Context, o Options) *Round {
	popts := snmp.Options{Timeout: o.Timeout, Retries: o.Retries}
	return runRound(ctx, o.Devices, o.Concurrency, func(dev int, c *roundCounter) {
		n := strconv.Itoa(dev)
		creds := []cmdb.SNMPCredential{{Name: "bench", Version: "2c", Community: cmdb.Secret(o.Community + "@" + n)}}
		res, err := snmp.Poll(ctx, o.Target, creds, popts)
		switch {
		case err != nil:
			c.fail(dev, err.Error())
		case !res.Reachable:
			c.fail(dev, "no answer")
		case !strings.HasSuffix(res.Serial, "-"+n):
			c.fail(dev, fmt.Sprintf("serial %q is not device %d's", res.Serial, dev))
		case len(res.Supplies) == 0:
			c.fail(dev, "no supplies")
		default:
			c.complete.Add(1)
			c.supplies.Add(int64(len(res.Supplies)))
		}
	})
}

// pollInChild runs our poller's round in a child process (this binary's
// "bench snmp --target"), so that the peak RSS is the polling process's
// alone, and returns its figures.
func pollInChild(ctx context.Context, bin string, o Options) (*Round, error) {
	var stdout bytes.Buffer
	p, err := startProcess(ctx, bin, []string{"bench", "snmp", "--target", o.Target, "--community", o.Community,
		"--devices", strconv.Itoa(o.Devices), "--concurrency", strconv.Itoa(o.Concurrency),
		"--timeout", o.Timeout.String(), "--retries", strconv.Itoa(o.Retries),
		"--max-time", o.MaxTime.String(), "--no-exporter", "--json"}, &stdout)
	if err != nil {
		return nil, err
	}
	if err := p.wait(); err != nil {
		return nil, fmt.Errorf("bench snmp: the polling process: %w\n%s", err, p.stderr.String())
	}
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || rep.Poller == nil {
		return nil, fmt.Errorf("bench snmp: the polling process printed no figures (%v):\n%s", err, stdout.String())
	}
	// The child reports its own high-water mark where /proc has it.
	if rep.Poller.PeakRSS == 0 {
		rep.Poller.PeakRSS = peakRSSOf(p.cmd.ProcessState)
	}
	return rep.Poller, nil
}

// process is a child process of the bench.
type process struct {
	cmd    *exec.Cmd
	stderr *tailBuffer
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// startProcess starts bin with args. The process gets SIGTERM when ctx
// ends or stop is called, and is killed if it has not exited 5 seconds
// later.
func startProcess(ctx context.Context, bin string, args []string, stdout io.Writer) (*process, error) {
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	p := &process{cmd: cmd, stderr: &tailBuffer{max: 8 << 10}, cancel: cancel, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = stdout, p.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("bench snmp: %w", err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// wait waits for the process to exit by itself and returns how it ended.
func (p *process) wait() error {
	<-p.done
	p.cancel()
	return p.err
}

// stop ends the process (SIGTERM, then SIGKILL) and waits for it.
func (p *process) stop() {
	p.cancel()
	<-p.done
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// lineWatcher passes on the first line that contains prefix (the text
// after it) and discards everything.
type lineWatcher struct {
	prefix string
	found  chan string
	buf    []byte
	sent   bool
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	if w.sent {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		if _, rest, ok := strings.Cut(line, w.prefix); ok {
			w.found <- strings.TrimSpace(rest)
			w.sent, w.buf = true, nil
			break
		}
	}
	return len(p), nil
}

// startSimulator runs "cmdbd snmp simulate" on a free loopback port and
// returns it with its UDP address.
func startSimulator(ctx context.Context, bin, data string) (*process, string, error) {
	lw := &lineWatcher{prefix: "listening on udp ", found: make(chan string, 1)}
	p, err := startProcess(ctx, bin, []string{"snmp", "simulate", "--data", data, "--listen", "127.0.0.1:0"}, lw)
	if err != nil {
		return nil, "", err
	}
	select {
	case addr := <-lw.found:
		return p, addr, nil
	case <-p.done:
		err = fmt.Errorf("bench snmp: the simulator ended: %v\n%s", p.err, p.stderr.String())
	case <-time.After(30 * time.Second):
		err = fmt.Errorf("bench snmp: the simulator did not start within 30s\n%s", p.stderr.String())
	case <-ctx.Done():
		err = fmt.Errorf("bench snmp: %w", context.Cause(ctx))
	}
	p.stop()
	return nil, "", err
}

// freeTCPAddr returns a loopback address with a port free right now.
func freeTCPAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("bench snmp: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitHTTP waits until url answers 200 OK, the process ends, or a minute
// has passed (the exporter reads one module per device first).
func waitHTTP(ctx context.Context, client *http.Client, url string, p *process) error {
	deadline := time.Now().Add(time.Minute)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		switch {
		case p.exited():
			return fmt.Errorf("bench snmp: the exporter ended: %v\n%s", p.err, p.stderr.String())
		case ctx.Err() != nil:
			return fmt.Errorf("bench snmp: %w", context.Cause(ctx))
		case time.Now().After(deadline):
			return fmt.Errorf("bench snmp: the exporter did not answer on %s within a minute\n%s", url, p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// peakRSSOf returns the peak RSS in bytes of an exited process from its
// rusage (ru_maxrss), or 0 where the system does not report it. It is
// the fallback where /proc is missing: on Linux, a child started with
// vfork and exec inherits the parent's high-water mark in ru_maxrss, so
// a small child of a larger parent shows the parent's figure. The rusage
// type differs per system, hence reflection rather than a build tag per
// system.
func peakRSSOf(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	v := reflect.ValueOf(ps.SysUsage())
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return 0
	}
	f := v.Elem().FieldByName("Maxrss")
	if !f.IsValid() || !f.CanInt() {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return f.Int() // bytes there; kilobytes elsewhere
	}
	return f.Int() << 10
}

// selfPeakRSS returns this process's peak RSS in bytes (Linux), or 0.
func selfPeakRSS() int64 { return procRSS(os.Getpid(), "VmHWM") }

// procRSS reads a memory figure such as VmRSS or VmHWM of a process from
// /proc (Linux) in bytes, or 0.
func procRSS(pid int, field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// procCPU returns the user and system time a process has used, from
// /proc (Linux), or -1.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// The command name in parentheses may hold spaces; fields after it
	// are space-separated: utime and stime are the 12th and 13th.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return -1
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	// Clock ticks of USER_HZ, which Linux fixes at 100 for user space.
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// processCPU returns this process's CPU time so far, or 0 where unknown.
func processCPU() time.Duration { return max(procCPU(os.Getpid()), 0) }
