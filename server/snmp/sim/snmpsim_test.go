package sim

// The simulator against the real snmpsim (Debian's snmpsim package) on the
// same recordings: net-snmp must see the same varbinds from both.

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// startSnmpsim runs snmpsimd on dir and returns its address.
func startSnmpsim(t *testing.T, dir string) string {
	t.Helper()
	bin, err := exec.LookPath("snmpsimd")
	if err != nil {
		t.Skipf("snmpsimd is not installed (scripts/test installs Debian's snmpsim package): %v", err)
	}
	requireTool(t, "snmpget")
	dir, err = filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	// snmpsimd drops root for nobody, who must be able to write the
	// cache: a directory it creates itself in a world-writable one.
	tmp, err := os.MkdirTemp("", "snmpsim-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	if err := os.Chmod(tmp, 0o777); err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	args := []string{"--data-dir=" + dir, "--cache-dir=" + filepath.Join(tmp, "cache"), "--agent-udpv4-endpoint=" + addr}
	if os.Geteuid() == 0 {
		args = append(args, "--process-user=nobody", "--process-group=nogroup")
	}
	var log bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, out, err := netSNMP(t, "snmpget", "-v2c", "-t", "0.5", "-r", "0", "-c", "canon-c5535", addr, "1.3.6.1.2.1.1.5.0")
		if err == nil {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("snmpsimd did not answer within a minute: %v\n%s\nits log:\n%s", err, out, log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestAgainstSnmpsim(t *testing.T) {
	if testing.Short() {
		t.Skip("starts snmpsimd")
	}
	dir := sharedData(t)
	ref := startSnmpsim(t, dir)
	s := startShared(t, Options{})
	// Both agents get the same questions. snmpsim pads GetBulk responses
	// with endOfMibView to max-repetitions, which net-snmp prints, where
	// we stop after the first such row: compare without those.
	withoutEnd := func(es []entry) []entry {
		var out []entry
		for _, e := range es {
			if e.value != "endOfMibView" {
				out = append(out, e)
			}
		}
		return out
	}
	for community, path := range dataFiles(t) {
		recs := fileRecords(t, path)
		type query struct {
			tool string
			opts []string // before the agent address
			oids []string // after it
		}
		c := []string{"-c", community}
		var all []string
		for _, r := range recs {
			all = append(all, r.oid)
		}
		queries := []query{
			{"snmpwalk", append([]string{"-v1"}, c...), nil},
			{"snmpwalk", append([]string{"-v2c"}, c...), nil},
			{"snmpbulkwalk", append([]string{"-v2c"}, c...), nil},
			{"snmpbulkwalk", append([]string{"-v2c", "-Cr25"}, c...), nil},
			{"snmpbulkwalk", append([]string{"-v2c", "-Cr1"}, c...), []string{"1.3.6.1.2.1.2"}},
			{"snmpgetnext", append([]string{"-v2c"}, c...), []string{recs[0].oid, recs[len(recs)/2].oid, recs[len(recs)-1].oid, "1.3.6.1.2.1.2"}},
			{"snmpbulkget", append([]string{"-v2c", "-Cn2", "-Cr7"}, c...), []string{"1.3.6.1.2.1.1", recs[3].oid, "1.3.6.1.2.1.2.2.1.1", "1.3.6.1.2.1.43"}},
			{"snmpget", append([]string{"-v2c"}, c...), all},
			{"snmpget", append([]string{"-v1"}, c...), all},
		}
		for i, q := range queries {
			at := func(addr string) []entry {
				args := append(append(append([]string{}, q.opts...), addr), q.oids...)
				return withoutEnd(mustNetSNMP(t, q.tool, args...))
			}
			want, got := at(ref), at(s.Addr())
			if len(want) == 0 {
				t.Errorf("%s query %d: snmpsim answered nothing", community, i)
			}
			expectEntries(t, community+" query "+strconv.Itoa(i)+" "+q.tool, got, want)
		}
	}
}
