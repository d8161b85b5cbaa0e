package snmpbench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schulit/cmdb/server/snmp"
)

// benchExporter scrapes every device through prometheus-snmp-exporter
// once per concurrency in o.ExporterConcurrency, each time in a fresh
// exporter process, and puts the figures into rep.
func benchExporter(ctx context.Context, exporter, tmp string, o Options, rep *Report, text io.Writer) error {
	if v, err := exec.CommandContext(ctx, exporter, "--version").CombinedOutput(); err == nil {
		rep.ExporterVersion, _, _ = strings.Cut(strings.TrimSpace(string(v)), "\n")
	}
	config := filepath.Join(tmp, "snmp.yml")
	if err := writeExporterConfig(config, o); err != nil {
		return err
	}
	fmt.Fprintf(text, "exporter: %s, one module per device in %s\n", rep.ExporterVersion, config)
	for _, conc := range o.ExporterConcurrency {
		r, err := exporterRound(ctx, exporter, config, o, conc)
		if err != nil {
			return err
		}
		fmt.Fprintf(text, "  exporter:    %s\n", r)
		rep.ExporterTrials = append(rep.ExporterTrials, r)
		if rep.Exporter == nil || r.DevicesPerSec > rep.Exporter.DevicesPerSec {
			rep.Exporter = r
		}
		if ctx.Err() != nil {
			return fmt.Errorf("bench snmp: %w", context.Cause(ctx))
		}
	}
	if rep.Exporter.DevicesPerSec > 0 {
		rep.Ratio = rep.Poller.DevicesPerSec / rep.Exporter.DevicesPerSec
	}
	fmt.Fprintf(text, "snmp_exporter: %s\n", rep.Exporter)
	if rep.Ratio > 0 {
		fmt.Fprintf(text, "ratio: our poller %.2f× the exporter's devices/s (%.0f vs %.0f)\n",
			rep.Ratio, rep.Poller.DevicesPerSec, rep.Exporter.DevicesPerSec)
	}
	return nil
}

// findExporter returns the exporter binary to run.
func findExporter(path string) (string, error) {
	if path == "" {
		path = "prometheus-snmp-exporter"
	}
	p, err := exec.LookPath(path)
	if err != nil {
		return "", fmt.Errorf("bench snmp: %s not found (Debian package prometheus-snmp-exporter; or pass --no-exporter): %w", path, err)
	}
	return p, nil
}

// exporterRound starts the exporter, scrapes every device once through
// it with conc requests in flight, and stops it.
func exporterRound(ctx context.Context, exporter, config string, o Options, conc int) (*Round, error) {
	addr, err := freeTCPAddr()
	if err != nil {
		return nil, err
	}
	p, err := startProcess(ctx, exporter, []string{"--config.file=" + config, "--web.listen-address=" + addr,
		"--log.level=warn"}, io.Discard)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	base := "http://" + addr
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}}
	defer client.CloseIdleConnections()
	if err := waitHTTP(ctx, client, base+"/", p); err != nil {
		return nil, err
	}
	idle := procRSS(p.cmd.Process.Pid, "VmHWM")
	cpu0 := procCPU(p.cmd.Process.Pid)
	// A scrape walks up to 16 tables, each request waiting Timeout up to
	// Retries+1 times; the exporter itself gives up long before this.
	scrapeTimeout := time.Duration(16*(o.Retries+1))*o.Timeout + 10*time.Second
	r := runRound(ctx, o.Devices, conc, func(dev int, c *roundCounter) {
		rctx, cancel := context.WithTimeout(ctx, scrapeTimeout)
		defer cancel()
		supplies, err := scrapeExporter(rctx, client, base, o.Target, dev)
		if err != nil {
			c.fail(dev, err.Error())
			return
		}
		c.complete.Add(1)
		c.supplies.Add(int64(supplies))
	})
	if cpu1 := procCPU(p.cmd.Process.Pid); cpu0 >= 0 && cpu1 >= 0 {
		r.CPUSeconds = (cpu1 - cpu0).Seconds()
	}
	r.IdleRSS = idle
	// The peak RSS of the whole process life: the kernel's high-water
	// mark while it runs (see peakRSSOf for why not rusage).
	hwm := procRSS(p.cmd.Process.Pid, "VmHWM")
	p.stop()
	r.PeakRSS = hwm
	if hwm == 0 {
		r.PeakRSS = peakRSSOf(p.cmd.ProcessState)
	}
	return r, nil
}

// scrapeExporter scrapes device dev through the exporter and returns how
// many supply levels it reported. It fails unless the answer has the
// device's own serial number and at least one supply.
func scrapeExporter(ctx context.Context, client *http.Client, base, target string, dev int) (int, error) {
	q := url.Values{"target": {target}, "module": {exporterModule(dev)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/snmp?"+q.Encode(), nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return 0, fmt.Errorf("HTTP %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	serial := []byte(`-` + strconv.Itoa(dev) + `"`)
	var supplies int
	var serialOK bool
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case bytes.HasPrefix(line, []byte("prtMarkerSuppliesLevel{")):
			supplies++
		case bytes.HasPrefix(line, []byte("prtGeneralSerialNumber{")):
			serialOK = bytes.Contains(line, serial)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if !serialOK {
		return 0, fmt.Errorf("no serial number of device %d in the answer", dev)
	}
	if supplies == 0 {
		return 0, errors.New("no supply levels in the answer")
	}
	return supplies, nil
}

func exporterModule(dev int) string { return "dev" + strconv.Itoa(dev) }

// exporterWalk is what the exporter's module reads: the same tables and
// columns as our printer profile (server/snmp/defaults/profiles.yaml),
// after the system scalars our poller reads first.
var exporterWalk = []string{
	"1.3.6.1.2.1.2.2.1.3",      // ifType
	"1.3.6.1.2.1.2.2.1.6",      // ifPhysAddress
	"1.3.6.1.2.1.25.3.2.1.2",   // hrDeviceType
	"1.3.6.1.2.1.25.3.2.1.3",   // hrDeviceDescr
	"1.3.6.1.2.1.25.3.5.1.1",   // hrPrinterStatus
	"1.3.6.1.2.1.25.3.5.1.2",   // hrPrinterDetectedErrorState
	"1.3.6.1.2.1.43.5.1.1.17",  // prtGeneralSerialNumber
	"1.3.6.1.2.1.43.10.2.1.4",  // prtMarkerLifeCount
	"1.3.6.1.2.1.43.11.1.1",    // prtMarkerSuppliesEntry
	"1.3.6.1.2.1.43.12.1.1.4",  // prtMarkerColorantValue
	"1.3.6.1.2.1.43.18.1.1",    // prtAlertEntry
	"1.3.6.1.2.1.47.1.1.1.1.5", // entPhysicalClass
	"1.3.6.1.2.1.47.1.1.1.1.11",
	"1.3.6.1.2.1.47.1.1.1.1.13",
}

var exporterGet = []string{"1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.6.0"}

// exporterMetrics turn what the module reads into metrics, as the
// exporter's generator would from the MIBs: one metric per column, the
// table's INDEX as labels, supply descriptions looked up as labels.
const exporterMetrics = `
    - {name: sysDescr, oid: 1.3.6.1.2.1.1.1, type: DisplayString, help: sysDescr}
    - {name: sysObjectID, oid: 1.3.6.1.2.1.1.2, type: DisplayString, help: sysObjectID}
    - {name: sysUpTime, oid: 1.3.6.1.2.1.1.3, type: gauge, help: sysUpTime}
    - {name: sysName, oid: 1.3.6.1.2.1.1.5, type: DisplayString, help: sysName}
    - {name: sysLocation, oid: 1.3.6.1.2.1.1.6, type: DisplayString, help: sysLocation}
    - {name: ifType, oid: 1.3.6.1.2.1.2.2.1.3, type: gauge, help: ifType, indexes: [{labelname: ifIndex, type: gauge}]}
    - {name: ifPhysAddress, oid: 1.3.6.1.2.1.2.2.1.6, type: PhysAddress48, help: ifPhysAddress, indexes: [{labelname: ifIndex, type: gauge}]}
    - {name: hrDeviceType, oid: 1.3.6.1.2.1.25.3.2.1.2, type: DisplayString, help: hrDeviceType, indexes: [{labelname: hrDeviceIndex, type: gauge}]}
    - {name: hrDeviceDescr, oid: 1.3.6.1.2.1.25.3.2.1.3, type: DisplayString, help: hrDeviceDescr, indexes: [{labelname: hrDeviceIndex, type: gauge}]}
    - {name: hrPrinterStatus, oid: 1.3.6.1.2.1.25.3.5.1.1, type: gauge, help: hrPrinterStatus, indexes: [{labelname: hrDeviceIndex, type: gauge}]}
    - {name: hrPrinterDetectedErrorState, oid: 1.3.6.1.2.1.25.3.5.1.2, type: OctetString, help: hrPrinterDetectedErrorState, indexes: [{labelname: hrDeviceIndex, type: gauge}]}
    - {name: prtGeneralSerialNumber, oid: 1.3.6.1.2.1.43.5.1.1.17, type: DisplayString, help: prtGeneralSerialNumber, indexes: [{labelname: hrDeviceIndex, type: gauge}]}
    - {name: prtMarkerLifeCount, oid: 1.3.6.1.2.1.43.10.2.1.4, type: counter, help: prtMarkerLifeCount, indexes: [{labelname: hrDeviceIndex, type: gauge}, {labelname: prtMarkerIndex, type: gauge}]}
    - {name: prtMarkerSuppliesColorantIndex, oid: 1.3.6.1.2.1.43.11.1.1.3, type: gauge, help: prtMarkerSuppliesColorantIndex, indexes: [{labelname: hrDeviceIndex, type: gauge}, {labelname: prtMarkerSuppliesIndex, type: gauge}]}
    - {name: prtMarkerSuppliesClass, oid: 1.3.6.1.2.1.43.11.1.1.4, type: gauge, help: prtMarkerSuppliesClass, indexes: [{labelname: hrDeviceIndex, type: gauge}, {labelname: prtMarkerSuppliesIndex, type: gauge}]}
    - {name: prtMarkerSuppliesType, oid: 1.3.6.1.2.1.43.11.1.1.5, type: gauge, help: prtMarkerSuppliesType, indexes: [{labelname: hrDeviceIndex, type: gauge}, {labelname: prtMarkerSuppliesIndex, type: gauge}]}
    - {name: prtMarkerSuppliesDescription, oid: 1.3.6.1.2.1.43.11.1.1.6, type: DisplayString, help: prtMarkerSuppliesDescription, indexes: [{labelname: hrDeviceIndex, type: gauge}, {labelname: prtMarkerSuppliesIndex, type: gauge}]}
    - {name: prtMarkerSuppliesSupplyUnit, oid: 1.3.6.1.2.1.43.11.1.1.7, type: gauge, help: prtMarkerSuppliesSupplyUnit, indexes: [{labelname: hrDeviceIndex, type: gauge}, {labelname: prtMarkerSuppliesIndex, type: gauge}]}
    - {name: prtMarkerSuppliesMaxCapacity, oid: 1.3.6.1.2.1.43.11.1.1.8, type: gauge, help: prtMarkerSuppliesMaxCapacity, indexes: [{labelname: hrDeviceIndex, type: gauge}, {labelname: prtMarkerSuppliesIndex, type: gauge}], lookups: [{labels: [hrDeviceIndex, prtMarkerSuppliesIndex], labelname: prtMarkerSuppliesDescription, oid: 1.3.6.1.2.1.43.11.1.1.6, type: DisplayString}]}
    - {name: prtMarkerSuppliesLevel, oid: 1.3.6.1.2.1.43.11.1.1.9, type: gauge, help: prtMarkerSuppliesLevel, indexes: [{labelname: hrDeviceIndex, type: gauge}, {labelname: prtMarkerSuppliesIndex, type: gauge}], lookups: [{labels: [hrDeviceIndex, prtMarkerSuppliesIndex], labelname: prtMarkerSuppliesDescription, oid: 1.3.6.1.2.1.43.11.1.1.6, type: DisplayString}]}
    - {name: prtMarkerColorantValue, oid: 1.3.6.1.2.1.43.12.1.1.4, type: DisplayString, help: prtMarkerColorantValue, indexes: [{labelname: hrDeviceIndex, type: gauge}, {labelname: prtMarkerColorantIndex, type: gauge}]}
    - {name: prtAlertSeverityLevel, oid: 1.3.6.1.2.1.43.18.1.1.2, type: gauge, help: prtAlertSeverityLevel, indexes: [{labelname: hrDeviceIndex, type: gauge}, {labelname: prtAlertIndex, type: gauge}]}
    - {name: prtAlertGroup, oid: 1.3.6.1.2.1.43.18.1.1.4, type: gauge, help: prtAlertGroup, indexes: [{labelname: hrDeviceIndex, type: gauge}, {labelname: prtAlertIndex, type: gauge}]}
    - {name: prtAlertCode, oid: 1.3.6.1.2.1.43.18.1.1.7, type: gauge, help: prtAlertCode, indexes: [{labelname: hrDeviceIndex, type: gauge}, {labelname: prtAlertIndex, type: gauge}]}
    - {name: prtAlertDescription, oid: 1.3.6.1.2.1.43.18.1.1.8, type: DisplayString, help: prtAlertDescription, indexes: [{labelname: hrDeviceIndex, type: gauge}, {labelname: prtAlertIndex, type: gauge}]}
    - {name: entPhysicalClass, oid: 1.3.6.1.2.1.47.1.1.1.1.5, type: gauge, help: entPhysicalClass, indexes: [{labelname: entPhysicalIndex, type: gauge}]}
    - {name: entPhysicalSerialNum, oid: 1.3.6.1.2.1.47.1.1.1.1.11, type: DisplayString, help: entPhysicalSerialNum, indexes: [{labelname: entPhysicalIndex, type: gauge}]}
    - {name: entPhysicalModelName, oid: 1.3.6.1.2.1.47.1.1.1.1.13, type: DisplayString, help: entPhysicalModelName, indexes: [{labelname: entPhysicalIndex, type: gauge}]}
`

// writeExporterConfig writes the exporter's snmp.yml: one module per
// device, because in this exporter's config format the community belongs
// to the module (separate "auths" came with 0.23). Each module is
// written out in full: the exporter's YAML parser refuses a file that
// takes most of its nodes from aliases ("excessive aliasing").
func writeExporterConfig(path string, o Options) error {
	var b bytes.Buffer
	b.WriteString("# Written by cmdbd bench snmp.\n")
	body := fmt.Sprintf("  version: 2\n  timeout: %s\n  retries: %d\n  max_repetitions: %d\n  get: [%s]\n  walk: [%s]\n  metrics:%s",
		o.Timeout, o.Retries, snmp.DefaultMaxRepetitions, strings.Join(exporterGet, ", "), strings.Join(exporterWalk, ", "), exporterMetrics)
	for dev := 1; dev <= o.Devices; dev++ {
		fmt.Fprintf(&b, "%s:\n  auth: {community: %q}\n%s", exporterModule(dev), o.Community+"@"+strconv.Itoa(dev), body)
	}
	return os.WriteFile(path, b.Bytes(), 0o600)
}
