// Package snmptest helps tests of the SNMP poller: it reads snmpsim
// recordings (.snmprec) into PDUs, finds the shared sample devices and
// runs Debian's snmpsimd, a real SNMP agent we did not write, as a
// subprocess on a loopback port.
package snmptest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/schulit/cmdb/internal/syncbuf"
	"github.com/schulit/cmdb/server/cmdb"
)

// ParseSnmprec reads an snmpsim recording: one "OID|type|value" per
// line, where type is the numeric ASN.1 tag, with an "x" suffix when the
// value is hex. Values become the Go types gosnmp decodes them to.
func ParseSnmprec(data []byte) ([]gosnmp.SnmpPDU, error) {
	var pdus []gosnmp.SnmpPDU
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, "|", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("snmprec line %d: want OID|type|value", n)
		}
		oid, typ, val := parts[0], parts[1], parts[2]
		isHex := strings.HasSuffix(typ, "x")
		tag, err := strconv.Atoi(strings.TrimSuffix(typ, "x"))
		if err != nil {
			return nil, fmt.Errorf("snmprec line %d: type %q", n, typ)
		}
		raw := []byte(val)
		if isHex {
			if raw, err = hex.DecodeString(val); err != nil {
				return nil, fmt.Errorf("snmprec line %d: hex value: %v", n, err)
			}
		}
		p := gosnmp.SnmpPDU{Name: "." + strings.TrimPrefix(oid, "."), Type: gosnmp.Asn1BER(tag)}
		switch p.Type {
		case gosnmp.Integer:
			v, err := strconv.Atoi(string(raw))
			if err != nil {
				return nil, fmt.Errorf("snmprec line %d: integer %q", n, raw)
			}
			p.Value = v
		case gosnmp.OctetString, gosnmp.Opaque:
			p.Value = raw
		case gosnmp.ObjectIdentifier:
			p.Value = "." + strings.TrimPrefix(string(raw), ".")
		case gosnmp.IPAddress:
			p.Value = string(raw)
		case gosnmp.Counter32, gosnmp.Gauge32:
			v, err := strconv.ParseUint(string(raw), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("snmprec line %d: unsigned %q", n, raw)
			}
			p.Value = uint(v)
		case gosnmp.TimeTicks:
			v, err := strconv.ParseUint(string(raw), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("snmprec line %d: timeticks %q", n, raw)
			}
			p.Value = uint32(v)
		case gosnmp.Counter64:
			v, err := strconv.ParseUint(string(raw), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("snmprec line %d: counter64 %q", n, raw)
			}
			p.Value = v
		case gosnmp.Null:
		default:
			return nil, fmt.Errorf("snmprec line %d: unsupported type %d", n, tag)
		}
		pdus = append(pdus, p)
	}
	return pdus, sc.Err()
}

// LoadSnmprec reads an .snmprec file.
func LoadSnmprec(tb testing.TB, path string) []gosnmp.SnmpPDU {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	pdus, err := ParseSnmprec(data)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return pdus
}

// DataDir returns the directory of the shared sample devices
// (shared/testdata/snmp: *.snmprec and expected.json), found from the
// working directory upwards, beside or above the repository, or named by
// CMDB_SNMP_TESTDATA. It fails the test when there is none.
func DataDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("CMDB_SNMP_TESTDATA"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		// The repository's own copy first, then shared/ beside it.
		for _, cand := range []string{filepath.Join(d, "testdata", "snmp"), filepath.Join(d, "shared", "testdata", "snmp")} {
			if _, err := os.Stat(filepath.Join(cand, "expected.json")); err == nil {
				return cand
			}
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	tb.Fatalf("no shared/testdata/snmp/expected.json above %s; set CMDB_SNMP_TESTDATA", wd)
	return ""
}

// V3User is an SNMPv3 user snmpsimd accepts (protocol names as snmpsimd
// spells them: SHA, SHA256, …; AES, AES256, …).
type V3User struct {
	Name, AuthProto, AuthKey, PrivProto, PrivKey string
}

// Simulator is a running snmpsimd. Each data file answers on the
// community named after it (v1/v2c) and on the v3 context of that name.
type Simulator struct {
	Addr string // 127.0.0.1:port
	Port int
}

var simLock sync.Mutex

// StartSimulator runs snmpsimd on a free loopback port with the
// recordings of dataDir and the given v3 users, waits until it answers,
// and stops it when the test ends. It skips the test when snmpsimd is not
// installed (scripts/test installs it).
func StartSimulator(tb testing.TB, dataDir string, users ...V3User) *Simulator {
	tb.Helper()
	bin, err := exec.LookPath("snmpsimd")
	if err != nil {
		tb.Skip("snmpsimd is not installed (Debian package snmpsim; scripts/test installs it)")
	}
	// snmpsimd drops privileges to nobody when run as root, so its index
	// cache must be writable by all.
	cache, err := os.MkdirTemp("", "snmpsim-cache-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(cache) })
	if err := os.Chmod(cache, 0o777); err != nil {
		tb.Fatal(err)
	}
	// Picking a free port and handing it to another process can race
	// with a parallel test doing the same; one start at a time, and a
	// retry, keep that from flaking.
	simLock.Lock()
	defer simLock.Unlock()
	var lastLog string
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freeUDPPort()
		if err != nil {
			tb.Fatal(err)
		}
		args := []string{"--data-dir=" + dataDir, "--cache-dir=" + cache,
			fmt.Sprintf("--agent-udpv4-endpoint=127.0.0.1:%d", port), "--logging-method=stderr"}
		if os.Geteuid() == 0 {
			args = append(args, "--process-user=nobody", "--process-group=nogroup")
		}
		for _, u := range users {
			args = append(args, "--v3-user="+u.Name)
			if u.AuthProto != "" {
				args = append(args, "--v3-auth-key="+u.AuthKey, "--v3-auth-proto="+u.AuthProto)
			}
			if u.PrivProto != "" {
				args = append(args, "--v3-priv-key="+u.PrivKey, "--v3-priv-proto="+u.PrivProto)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, bin, args...)
		var log syncbuf.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Start(); err != nil {
			cancel()
			tb.Fatalf("start snmpsimd: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		stop := func() {
			cancel()
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
			}
		}
		sim := &Simulator{Addr: fmt.Sprintf("127.0.0.1:%d", port), Port: port}
		if waitReady(sim, dataDir, &log, exited) {
			tb.Cleanup(stop)
			return sim
		}
		stop()
		lastLog = log.String()
	}
	tb.Fatalf("snmpsimd did not answer; its log:\n%s", lastLog)
	return nil
}

// waitReady waits until snmpsimd says it listens (so that an answer
// cannot come from another process that took the port) and then polls
// sysObjectID of the first recording until it answers; it gives up when
// snmpsimd exits or after 60 s (the first start indexes the files).
func waitReady(sim *Simulator, dataDir string, log *syncbuf.Buffer, exited <-chan struct{}) bool {
	files, _ := filepath.Glob(filepath.Join(dataDir, "*.snmprec"))
	if len(files) == 0 {
		return false
	}
	community := strings.TrimSuffix(filepath.Base(files[0]), ".snmprec")
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if !strings.Contains(log.String(), "Listening at UDP/IPv4 endpoint") {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(sim.Port), Community: community,
			Version: gosnmp.Version2c, Timeout: 300 * time.Millisecond, Retries: 0}
		if err := g.Connect(); err == nil {
			pkt, err := g.Get([]string{".1.3.6.1.2.1.1.2.0"})
			g.Conn.Close()
			if err == nil && len(pkt.Variables) == 1 && pkt.Variables[0].Type == gosnmp.ObjectIdentifier {
				return true
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}

func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// Expected is one device of expected.json: what a poller should
// understand from it. Supplies map a description to a percentage
// (number) or an RFC 3805 state (string).
type Expected struct {
	Kind      string         `json:"kind"`
	Vendor    *string        `json:"vendor"`
	Model     *string        `json:"model"`
	Serial    *string        `json:"serial"`
	MAC       *string        `json:"mac"`
	PageCount *int64         `json:"page_count"`
	Supplies  map[string]any `json:"supplies"`
	Errors    []string       `json:"errors"`
}

// LoadExpected reads expected.json of dataDir: device name → Expected.
func LoadExpected(tb testing.TB, dataDir string) map[string]Expected {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(dataDir, "expected.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]Expected
	if err := json.Unmarshal(data, &m); err != nil {
		tb.Fatalf("expected.json: %v", err)
	}
	return m
}

// Mismatches compares what a poller understood of a device with
// expected.json's entry for it and describes every difference. Kind
// "printer" accepts the classes printer and mfp (a copier is a printer
// that also scans); other kinds must equal the class.
func Mismatches(got *cmdb.PollResult, want Expected) []string {
	var d []string
	diff := func(field string, g, w any) {
		if fmt.Sprint(g) != fmt.Sprint(w) {
			d = append(d, fmt.Sprintf("%s = %v, want %v", field, g, w))
		}
	}
	switch {
	case want.Kind == "printer" && (got.Class == "printer" || got.Class == "mfp"):
	default:
		diff("class", got.Class, want.Kind)
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	diff("vendor", got.Vendor, str(want.Vendor))
	diff("model", got.Model, str(want.Model))
	diff("serial", got.Serial, str(want.Serial))
	diff("mac", got.MAC, str(want.MAC))
	if want.PageCount != nil || got.PageCount != nil {
		var g, w any = "nil", "nil"
		if got.PageCount != nil {
			g = *got.PageCount
		}
		if want.PageCount != nil {
			w = *want.PageCount
		}
		diff("page_count", g, w)
	}
	if want.Supplies != nil || len(got.Supplies) > 0 {
		seen := map[string]bool{}
		for _, s := range got.Supplies {
			seen[s.Description] = true
			w, ok := want.Supplies[s.Description]
			if !ok {
				d = append(d, fmt.Sprintf("unexpected supply %q", s.Description))
				continue
			}
			switch w := w.(type) {
			case float64:
				if s.State != cmdb.SupplyOK || s.Percent == nil || *s.Percent != w {
					d = append(d, fmt.Sprintf("supply %q = %s/%v, want ok/%v", s.Description, s.State, pct(s.Percent), w))
				}
			case string:
				if s.State != w || s.Percent != nil {
					d = append(d, fmt.Sprintf("supply %q = %s/%v, want %s without percent", s.Description, s.State, pct(s.Percent), w))
				}
			default:
				d = append(d, fmt.Sprintf("supply %q: expected.json value %v", s.Description, w))
			}
		}
		for name := range want.Supplies {
			if !seen[name] {
				d = append(d, fmt.Sprintf("missing supply %q", name))
			}
		}
	}
	if want.Errors != nil {
		g := slices.Sorted(slices.Values(got.Errors))
		w := slices.Sorted(slices.Values(want.Errors))
		if !slices.Equal(g, w) {
			d = append(d, fmt.Sprintf("errors = %v, want %v", g, w))
		}
	}
	return d
}

func pct(p *float64) any {
	if p == nil {
		return "nil"
	}
	return *p
}
