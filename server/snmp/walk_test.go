package snmp

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/snmp/sim"
	"github.com/schulit/cmdb/server/snmp/snmptest"
)

// walkRoots are the printer profile's tables plus a scalar's instance
// (walked as gosnmp does: GETNEXT finds nothing under it, so it is read
// with a GET), an object no recording has, and a scalar object
// (ifNumber, whose one instance is under it).
var walkRoots = append(DefaultCatalog().Profile("", "").WalkOIDs(), oidSysName, "1.3.6.1.4.1.99999.1", "1.3.6.1.2.1.2.1")

// startSim runs our simulator on the shared recordings.
func startSim(t *testing.T, opts sim.Options) *sim.Server {
	t.Helper()
	opts.DataDir, opts.Listen = snmptest.DataDir(t), "127.0.0.1:0"
	s, err := sim.Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// walkBoth walks roots with WalkMany and with WalkAll one after the
// other and returns both as OID → value.
func walkBoth(t *testing.T, addr string, cred cmdb.SNMPCredential, o Options) (many, each map[string]string) {
	t.Helper()
	s, err := NewScraper(t.Context(), addr, cred, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.(multiWalker).WalkMany(walkRoots)
	if err != nil {
		t.Fatalf("WalkMany: %v", err)
	}
	many = pduMap(t, got)
	each = map[string]string{}
	for _, r := range walkRoots {
		got, err := s.WalkAll(r)
		if err != nil {
			t.Fatalf("WalkAll %s: %v", r, err)
		}
		maps.Copy(each, pduMap(t, got))
	}
	return many, each
}

// pduMap renders PDUs as OID → type and value; an OID twice is an error.
func pduMap(t *testing.T, pdus []gosnmp.SnmpPDU) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, p := range pdus {
		if _, dup := m[p.Name]; dup {
			t.Errorf("%s read twice", p.Name)
		}
		m[p.Name] = fmt.Sprintf("%v %v", p.Type, p.Value)
	}
	return m
}

func diffMaps(t *testing.T, got, want map[string]string) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			t.Errorf("%s: WalkMany %q, WalkAll %q", k, got[k], want[k])
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: WalkMany read it, WalkAll did not", k)
		}
	}
}

// TestWalkMany: walking the tables side by side reads exactly what
// walking them one by one reads, from our simulator (whole answers, and
// answers cut to the smallest message size every agent must take) and
// from Debian's snmpsimd, for v2c and v1.
func TestWalkMany(t *testing.T) {
	opts := Options{Timeout: time.Second, Retries: 1}
	recordings := slices.Sorted(maps.Keys(snmptest.LoadExpected(t, snmptest.DataDir(t))))
	check := func(t *testing.T, addr string) {
		for _, name := range recordings {
			for _, version := range []string{"2c", "1"} {
				t.Run(name+"/v"+version, func(t *testing.T) {
					cred := cmdb.SNMPCredential{Name: "x", Version: version, Community: cmdb.Secret(name)}
					many, each := walkBoth(t, addr, cred, opts)
					if len(each) < 5 {
						t.Fatalf("WalkAll read only %d values", len(each))
					}
					if _, ok := each["."+oidSysName]; !ok {
						t.Errorf("the scalar root %s was not read", oidSysName)
					}
					diffMaps(t, many, each)
				})
			}
		}
	}
	t.Run("sim", func(t *testing.T) { check(t, startSim(t, sim.Options{}).Addr()) })
	t.Run("sim-484", func(t *testing.T) { check(t, startSim(t, sim.Options{MaxMessageSize: 484}).Addr()) })
	t.Run("snmpsimd", func(t *testing.T) { check(t, snmptest.StartSimulator(t, snmptest.DataDir(t)).Addr) })
}

// TestWalkManyRowLimit: a table over MaxRows stops at the limit with
// ErrTooManyRows, and the other tables are still read.
func TestWalkManyRowLimit(t *testing.T) {
	srv := startSim(t, sim.Options{})
	s, err := NewScraper(t.Context(), srv.Addr(), v2c("x", "canon-c5535"), Options{Timeout: time.Second, MaxRows: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pdus, err := s.(multiWalker).WalkMany([]string{oidPrtMarkerSupplies, oidIfType})
	if !errors.Is(err, ErrTooManyRows) {
		t.Errorf("err = %v, want ErrTooManyRows", err)
	}
	var supplies, ifTypes int
	for _, p := range pdus {
		switch {
		case strings.HasPrefix(p.Name, "."+oidPrtMarkerSupplies+"."):
			supplies++
		case strings.HasPrefix(p.Name, "."+oidIfType+"."):
			ifTypes++
		}
	}
	if supplies != 3 || ifTypes != 2 {
		t.Errorf("read %d supply values and %d ifTypes, want 3 and 2", supplies, ifTypes)
	}
}

// TestPollRequests: a printer poll asks the device a handful of times,
// not once or more per table: the poller shares the devices' (and the
// network's) time with thousands of others.
func TestPollRequests(t *testing.T) {
	srv := startSim(t, sim.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	before := srv.Stats().Requests
	r, err := Poll(ctx, srv.Addr(), []cmdb.SNMPCredential{v2c("x", "canon-c5535@7")}, Options{Timeout: time.Second})
	if err != nil || !r.Reachable || r.Serial != "XLF01234-7" || len(r.Supplies) != 4 || len(r.Alerts) != 1 {
		t.Fatalf("Poll = %+v, %v", r, err)
	}
	// System group, two rounds of GETBULK over the tables, and a GET of
	// the ENTITY-MIB columns this printer lacks (maybe scalars).
	if n := srv.Stats().Requests - before; n > 5 {
		t.Errorf("the poll took %d requests, want at most 5", n)
	}
}

// dropProxy relays UDP between its address and an agent, dropping
// requests longer than limit bytes, as some embedded agents ignore
// requests they find too large.
func dropProxy(t *testing.T, agent string, limit int) string {
	t.Helper()
	front, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { front.Close() })
	to, err := net.ResolveUDPAddr("udp4", agent)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 65536)
		for {
			n, client, err := front.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if n > limit {
				continue
			}
			back, err := net.DialUDP("udp4", nil, to)
			if err != nil {
				return
			}
			back.Write(buf[:n])
			go func() {
				defer back.Close()
				resp := make([]byte, 65536)
				back.SetReadDeadline(time.Now().Add(time.Second))
				if m, err := back.Read(resp); err == nil {
					front.WriteToUDP(resp[:m], client)
				}
			}()
		}
	}()
	return front.LocalAddr().String()
}

// TestPollAgentDroppingLargeRequests: a device that ignores the GETBULK
// over all tables is still read, one table at a time.
func TestPollAgentDroppingLargeRequests(t *testing.T) {
	srv := startSim(t, sim.Options{})
	addr := dropProxy(t, srv.Addr(), 150)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	r, err := Poll(ctx, addr, []cmdb.SNMPCredential{v2c("x", "canon-c5535@3")}, Options{Timeout: 300 * time.Millisecond})
	if err != nil || !r.Reachable {
		t.Fatalf("Poll = %+v, %v", r, err)
	}
	if r.Serial != "XLF01234-3" || len(r.Supplies) != 4 || len(r.Alerts) != 1 || r.MAC == "" {
		t.Errorf("result = %+v; want serial XLF01234-3, 4 supplies, 1 alert and a MAC", r)
	}
}
