package sim

// Tests with net-snmp's own client tools (Debian's snmp package), an SNMP
// implementation we did not write.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schulit/cmdb/internal/syncbuf"
)

// netSNMP runs a net-snmp tool with numeric OIDs and no MIBs, so that
// its output does not depend on the MIBs installed, and returns its
// standard output (the varbinds) and all it printed (for errors).
func netSNMP(t *testing.T, tool string, args ...string) (stdout, all string, err error) {
	t.Helper()
	path := requireTool(t, tool)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append([]string{"-m", "", "-On"}, args...)...)
	cmd.Env = netSNMPEnv(t)
	// Two goroutines copy stdout and stderr: both write to all.
	var out bytes.Buffer
	var both syncbuf.Buffer
	cmd.Stdout = io.MultiWriter(&out, &both)
	cmd.Stderr = &both
	err = cmd.Run()
	return out.String(), both.String(), err
}

// netSNMPEnv is the environment of one net-snmp tool run: a persistent
// directory and a configuration path of its own, both new and empty, so
// that neither the machine's /etc/snmp nor its /var/lib/snmp (made on
// the first run ever, with a "Created directory" line) changes what the
// tool prints. Every run is thus a first run.
func netSNMPEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SNMP") && !strings.HasPrefix(kv, "MIB") {
			env = append(env, kv)
		}
	}
	dir := t.TempDir()
	return append(env, "SNMP_PERSISTENT_DIR="+filepath.Join(dir, "persist"), "SNMPCONFPATH="+dir)
}

// requireTool returns the path of a net-snmp tool, or skips the test.
// Call it from the test's goroutine.
func requireTool(t *testing.T, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("net-snmp's %s is not installed (scripts/test installs Debian's snmp package): %v", tool, err)
	}
	return path
}

// mustNetSNMP is netSNMP that fails the test on an error.
func mustNetSNMP(t *testing.T, tool string, args ...string) []entry {
	t.Helper()
	out, all, err := netSNMP(t, tool, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, all)
	}
	return parseNetSNMP(t, out)
}

// entry is one varbind as net-snmp printed it, its value in the
// canonical form of canonNetSNMP.
type entry struct{ oid, value string }

func (e entry) String() string { return e.oid + " = " + e.value }

// parseNetSNMP splits net-snmp output into varbinds; a value may span
// lines (a string with a newline, a long hex string).
func parseNetSNMP(t *testing.T, out string) []entry {
	t.Helper()
	var es []entry
	var raw []string
	for _, line := range strings.SplitAfter(out, "\n") {
		if oid, val, ok := strings.Cut(line, " = "); ok && strings.HasPrefix(oid, ".") {
			es = append(es, entry{oid: oid})
			raw = append(raw, val)
		} else if len(es) > 0 && !strings.HasPrefix(line, "End of MIB") {
			raw[len(raw)-1] += line
		} else if s := strings.TrimSpace(line); s != "" && s != "End of MIB" {
			t.Fatalf("unexpected output %q in\n%s", line, out)
		}
	}
	for i := range es {
		es[i].value = canonNetSNMP(t, strings.TrimSuffix(raw[i], "\n"))
	}
	return es
}

// canonNetSNMP turns a value printed by net-snmp into TYPE:VALUE, with
// strings in hex.
func canonNetSNMP(t *testing.T, v string) string {
	t.Helper()
	switch {
	case v == `""`:
		return "STRING:"
	case strings.HasPrefix(v, `STRING: "`) && strings.HasSuffix(v, `"`):
		s := v[len(`STRING: "`) : len(v)-1]
		s = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(s)
		return "STRING:" + hex.EncodeToString([]byte(s))
	case strings.HasPrefix(v, "Hex-STRING:"):
		return "STRING:" + strings.ToLower(strings.Join(strings.Fields(v[len("Hex-STRING:"):]), ""))
	case strings.HasPrefix(v, "Timeticks: ("):
		n, _, _ := strings.Cut(v[len("Timeticks: ("):], ")")
		return "Timeticks:" + n
	case strings.HasPrefix(v, "No Such Object"):
		return "noSuchObject"
	case strings.HasPrefix(v, "No Such Instance"):
		return "noSuchInstance"
	case strings.HasPrefix(v, "No more variables left"):
		return "endOfMibView"
	case strings.Contains(v, ": "):
		typ, val, _ := strings.Cut(v, ": ")
		return typ + ":" + val
	}
	return v
}

// fileRecords reads a data file the simple way, independently of the
// package's parser, into entries as net-snmp would print them, sorted
// by OID.
func fileRecords(t *testing.T, path string) []entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var es []entry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, "|", 3)
		if len(parts) != 3 {
			t.Fatalf("%s: bad line %q", path, line)
		}
		oid, typ, v := "."+parts[0], parts[1], parts[2]
		name := map[string]string{"2": "INTEGER", "6": "OID", "64": "IpAddress", "65": "Counter32", "66": "Gauge32",
			"67": "Timeticks", "70": "Counter64"}[typ]
		switch {
		case typ == "4":
			es = append(es, entry{oid, "STRING:" + hex.EncodeToString([]byte(v))})
		case typ == "4x":
			es = append(es, entry{oid, "STRING:" + strings.ToLower(v)})
		case typ == "6":
			es = append(es, entry{oid, "OID:." + v})
		case name != "":
			es = append(es, entry{oid, name + ":" + v})
		default:
			t.Fatalf("%s: type %s not handled by the test", path, typ)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(es, func(a, b entry) int { return compareDotted(a.oid, b.oid) })
	return es
}

// compareDotted orders dotted OIDs numerically.
func compareDotted(a, b string) int {
	x, y := strings.Split(strings.Trim(a, "."), "."), strings.Split(strings.Trim(b, "."), ".")
	for i := 0; i < len(x) && i < len(y); i++ {
		p, _ := strconv.ParseUint(x[i], 10, 32)
		q, _ := strconv.ParseUint(y[i], 10, 32)
		if p != q {
			if p < q {
				return -1
			}
			return 1
		}
	}
	return len(x) - len(y)
}

func expectEntries(t *testing.T, what string, got, want []entry) {
	t.Helper()
	if !slices.Equal(got, want) {
		var g, w []string
		for _, e := range got {
			g = append(g, e.String())
		}
		for _, e := range want {
			w = append(w, e.String())
		}
		t.Errorf("%s:\ngot\n  %s\nwant\n  %s", what, strings.Join(g, "\n  "), strings.Join(w, "\n  "))
	}
}

func dataFiles(t *testing.T) map[string]string {
	t.Helper()
	dir := sharedData(t)
	paths, err := filepath.Glob(filepath.Join(dir, "*.snmprec"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no data files in %s: %v", dir, err)
	}
	files := map[string]string{}
	for _, p := range paths {
		files[strings.TrimSuffix(filepath.Base(p), ".snmprec")] = p
	}
	return files
}

func TestNetSNMPGet(t *testing.T) {
	s := startShared(t, Options{})
	got := mustNetSNMP(t, "snmpget", "-v2c", "-c", "canon-c5535", s.Addr(), "1.3.6.1.2.1.43.5.1.1.17.1")
	expectEntries(t, "serial", got, []entry{{".1.3.6.1.2.1.43.5.1.1.17.1", "STRING:" + hex.EncodeToString([]byte("XLF01234"))}})

	// Every recorded value of every device, in one Get each, v2c and v1.
	for community, path := range dataFiles(t) {
		want := fileRecords(t, path)
		args := []string{"-c", community, s.Addr()}
		for _, e := range want {
			args = append(args, e.oid)
		}
		for _, v := range []string{"-v2c", "-v1"} {
			got := mustNetSNMP(t, "snmpget", append([]string{v}, args...)...)
			expectEntries(t, community+" "+v, got, want)
		}
	}
}

func TestNetSNMPBulkWalk(t *testing.T) {
	s := startShared(t, Options{})
	files := dataFiles(t)
	for community, path := range files {
		want := fileRecords(t, path)
		end := append(slices.Clone(want), entry{want[len(want)-1].oid, "endOfMibView"})
		for _, reps := range []string{"-Cr1", "-Cr3", "-Cr10", "-Cr100"} {
			got := mustNetSNMP(t, "snmpbulkwalk", "-v2c", reps, "-c", community, s.Addr(), ".1")
			expectEntries(t, community+" bulkwalk "+reps, got, end)
		}
		// GetNext: v2c ends at an endOfMibView, which snmpwalk prints;
		// v1 at a noSuchName error, which it does not.
		got := mustNetSNMP(t, "snmpwalk", "-v2c", "-c", community, s.Addr(), ".1")
		expectEntries(t, community+" walk v2c", got, end)
		got = mustNetSNMP(t, "snmpwalk", "-v1", "-c", community, s.Addr(), ".1")
		expectEntries(t, community+" walk v1", got, want)
	}

	// A subtree: prtMarkerSuppliesTable of the Lexmark, with its -3, 0
	// and 60000.
	var want []entry
	for _, e := range fileRecords(t, files["lexmark-ms521"]) {
		if strings.HasPrefix(e.oid, ".1.3.6.1.2.1.43.11.") {
			want = append(want, e)
		}
	}
	got := mustNetSNMP(t, "snmpbulkwalk", "-v2c", "-c", "lexmark-ms521", s.Addr(), "1.3.6.1.2.1.43.11")
	expectEntries(t, "lexmark supplies", got, want)
	if len(want) != 14 {
		t.Errorf("test data changed: %d supply values", len(want))
	}
	canon := mustNetSNMP(t, "snmpbulkwalk", "-v2c", "-c", "canon-c5535", s.Addr(), "1.3.6.1.2.1.43.11.1.1.9")
	expectEntries(t, "canon supply levels", canon, []entry{
		{".1.3.6.1.2.1.43.11.1.1.9.1.1", "INTEGER:-3"}, {".1.3.6.1.2.1.43.11.1.1.9.1.2", "INTEGER:-3"},
		{".1.3.6.1.2.1.43.11.1.1.9.1.3", "INTEGER:0"}, {".1.3.6.1.2.1.43.11.1.1.9.1.4", "INTEGER:-3"},
	})
}

func TestNetSNMPBulkGetNonRepeaters(t *testing.T) {
	s := startShared(t, Options{})
	got := mustNetSNMP(t, "snmpbulkget", "-v2c", "-Cn1", "-Cr3", "-c", "canon-c5535", s.Addr(),
		"1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.43.11.1.1.6.1", "1.3.6.1.2.1.43.11.1.1.9.1")
	str := func(s string) string { return "STRING:" + hex.EncodeToString([]byte(s)) }
	expectEntries(t, "bulk get", got, []entry{
		{".1.3.6.1.2.1.1.6.0", str("Gesamtschule Ost, Verwaltung")},
		{".1.3.6.1.2.1.43.11.1.1.6.1.1", str("Canon GPR-53 Black Toner")}, {".1.3.6.1.2.1.43.11.1.1.9.1.1", "INTEGER:-3"},
		{".1.3.6.1.2.1.43.11.1.1.6.1.2", str("Canon GPR-53 Cyan Toner")}, {".1.3.6.1.2.1.43.11.1.1.9.1.2", "INTEGER:-3"},
		{".1.3.6.1.2.1.43.11.1.1.6.1.3", str("Canon GPR-53 Magenta Toner")}, {".1.3.6.1.2.1.43.11.1.1.9.1.3", "INTEGER:0"},
	})
}

func TestNetSNMPEndAndMisses(t *testing.T) {
	s := startShared(t, Options{})
	for community, path := range dataFiles(t) {
		recs := fileRecords(t, path)
		last := recs[len(recs)-1].oid
		got := mustNetSNMP(t, "snmpgetnext", "-v2c", "-c", community, s.Addr(), last, "1.3.6.1.9")
		expectEntries(t, community+" getnext at the end", got, []entry{{last, "endOfMibView"}, {".1.3.6.1.9", "endOfMibView"}})
		// v1 has no exceptions: the end of the MIB is a noSuchName error.
		_, out, err := netSNMP(t, "snmpgetnext", "-v1", "-c", community, s.Addr(), last)
		if err == nil || !strings.Contains(out, "noSuchName") {
			t.Errorf("v1 getnext at the end: %v\n%s", err, out)
		}
	}
	got := mustNetSNMP(t, "snmpget", "-v2c", "-c", "canon-c5535", s.Addr(),
		"1.3.6.1.2.1.1.99.0", "1.3.6.1.2.1.1.1", "1.3.6.1.2.1.43.11.1.1.9.1.9", "1.3.6.1.4.1.1602.1.1.0")
	expectEntries(t, "misses", got, []entry{
		{".1.3.6.1.2.1.1.99.0", "noSuchObject"}, {".1.3.6.1.2.1.1.1", "noSuchInstance"},
		{".1.3.6.1.2.1.43.11.1.1.9.1.9", "noSuchInstance"}, {".1.3.6.1.4.1.1602.1.1.0", "noSuchObject"},
	})
	_, out, err := netSNMP(t, "snmpget", "-v1", "-c", "canon-c5535", s.Addr(), "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.99.0")
	if err == nil || !strings.Contains(out, "noSuchName") || !strings.Contains(out, ".1.3.6.1.2.1.1.99.0") {
		t.Errorf("v1 get of a missing OID: %v\n%s", err, out)
	}
}

func TestNetSNMPWrongCommunity(t *testing.T) {
	s := startShared(t, Options{})
	requireTool(t, "snmpget")
	var wg sync.WaitGroup
	for _, c := range []string{"public", "canon-c5535@0", "canon-c5535@16777216", "nobody@3"} {
		wg.Go(func() {
			_, out, err := netSNMP(t, "snmpget", "-v2c", "-t", "1", "-r", "0", "-c", c, s.Addr(), "1.3.6.1.2.1.1.1.0")
			if err == nil || !strings.Contains(out, "Timeout") {
				t.Errorf("community %q: %v\n%s", c, err, out)
			}
		})
	}
	wg.Wait()
	if st := s.Stats(); st.UnknownCommunity != 4 || st.Responses != 0 {
		t.Errorf("stats %+v", st)
	}
	// SNMPv3 gets no answer either.
	_, out, err := netSNMP(t, "snmpget", "-v3", "-l", "noAuthNoPriv", "-u", "someone", "-t", "1", "-r", "0", s.Addr(), "1.3.6.1.2.1.1.1.0")
	if err == nil {
		t.Errorf("v3 answered:\n%s", out)
	}
}

func TestNetSNMPDeviceSuffix(t *testing.T) {
	s := startShared(t, Options{})
	get := func(community string) []entry {
		return mustNetSNMP(t, "snmpget", "-v2c", "-c", community, s.Addr(),
			"1.3.6.1.2.1.43.5.1.1.17.1", "1.3.6.1.2.1.2.2.1.6.2", "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.43.10.2.1.4.1.1")
	}
	str := func(s string) string { return "STRING:" + hex.EncodeToString([]byte(s)) }
	common := []entry{{".1.3.6.1.2.1.1.1.0", str("Canon iR-ADV C5535 /P")}, {".1.3.6.1.2.1.43.10.2.1.4.1.1", "Counter32:801234"}}
	expectEntries(t, "base", get("canon-c5535"), append([]entry{
		{".1.3.6.1.2.1.43.5.1.1.17.1", str("XLF01234")}, {".1.3.6.1.2.1.2.2.1.6.2", "STRING:001e8faabbcc"},
		{".1.3.6.1.2.1.1.5.0", str("iR-ADV-Verwaltung")}}, common...))
	expectEntries(t, "device 17", get("canon-c5535@17"), append([]entry{
		{".1.3.6.1.2.1.43.5.1.1.17.1", str("XLF01234-17")}, {".1.3.6.1.2.1.2.2.1.6.2", "STRING:001e8faabbdd"},
		{".1.3.6.1.2.1.1.5.0", str("iR-ADV-Verwaltung-17")}}, common...))
	expectEntries(t, "device 18", get("canon-c5535@18"), append([]entry{
		{".1.3.6.1.2.1.43.5.1.1.17.1", str("XLF01234-18")}, {".1.3.6.1.2.1.2.2.1.6.2", "STRING:001e8faabbde"},
		{".1.3.6.1.2.1.1.5.0", str("iR-ADV-Verwaltung-18")}}, common...))
	// A walk of a device sees its own identity.
	walk := mustNetSNMP(t, "snmpbulkwalk", "-v2c", "-c", "lexmark-ms521@4242", s.Addr(), "1.3.6.1.2.1.2.2.1.6")
	expectEntries(t, "lexmark 4242 MACs", walk, []entry{
		{".1.3.6.1.2.1.2.2.1.6.1", "STRING:"}, {".1.3.6.1.2.1.2.2.1.6.2", "STRING:0021b75c9aa4"}})
}
