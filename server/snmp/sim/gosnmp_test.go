package sim

// The simulator through gosnmp, the client library of the project's own
// poller (server/snmp).

import (
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

func goSNMP(t *testing.T, addr, community string, version gosnmp.SnmpVersion) *gosnmp.GoSNMP {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.ParseUint(port, 10, 16)
	g := &gosnmp.GoSNMP{Target: host, Port: uint16(p), Community: community, Version: version,
		Timeout: 2 * time.Second, Retries: 2, MaxOids: gosnmp.MaxOids}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Conn.Close() })
	return g
}

// pduString renders a gosnmp varbind like the entries of netsnmp_test.go.
func pduString(p gosnmp.SnmpPDU) string {
	switch p.Type {
	case gosnmp.OctetString:
		return p.Name + " = STRING:" + hex.EncodeToString(p.Value.([]byte))
	case gosnmp.Integer:
		return fmt.Sprintf("%s = INTEGER:%d", p.Name, p.Value)
	case gosnmp.ObjectIdentifier:
		return fmt.Sprintf("%s = OID:%s", p.Name, p.Value)
	case gosnmp.TimeTicks:
		return fmt.Sprintf("%s = Timeticks:%d", p.Name, p.Value)
	case gosnmp.Counter32:
		return fmt.Sprintf("%s = Counter32:%d", p.Name, p.Value)
	case gosnmp.NoSuchObject:
		return p.Name + " = noSuchObject"
	case gosnmp.NoSuchInstance:
		return p.Name + " = noSuchInstance"
	case gosnmp.EndOfMibView:
		return p.Name + " = endOfMibView"
	}
	return fmt.Sprintf("%s = %v:%v", p.Name, p.Type, p.Value)
}

func TestGoSNMPClient(t *testing.T) {
	files := dataFiles(t)
	for _, size := range []int{484, DefaultMaxMessageSize} {
		s := startShared(t, Options{MaxMessageSize: size})
		for community, path := range files {
			want := fileRecords(t, path)
			for _, v := range []gosnmp.SnmpVersion{gosnmp.Version1, gosnmp.Version2c} {
				g := goSNMP(t, s.Addr(), community, v)
				g.MaxRepetitions = 50
				walk := g.WalkAll
				if v == gosnmp.Version2c {
					walk = g.BulkWalkAll
				}
				pdus, err := walk(".1.3.6.1")
				if err != nil {
					t.Fatalf("%s %v walk: %v", community, v, err)
				}
				if len(pdus) != len(want) {
					t.Errorf("%s %v max %d: walked %d varbinds, want %d", community, v, size, len(pdus), len(want))
					continue
				}
				for i, p := range pdus {
					if got := pduString(p); got != want[i].String() {
						t.Errorf("%s %v: got %s, want %s", community, v, got, want[i])
					}
				}
			}
		}
	}

	s := startShared(t, Options{})
	g := goSNMP(t, s.Addr(), "canon-c5535@17", gosnmp.Version2c)
	res, err := g.Get([]string{".1.3.6.1.2.1.43.5.1.1.17.1", ".1.3.6.1.2.1.2.2.1.6.2", ".1.3.6.1.2.1.43.11.1.1.9.1.3",
		".1.3.6.1.2.1.1.99.0", ".1.3.6.1.2.1.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	wantGet := []string{
		".1.3.6.1.2.1.43.5.1.1.17.1 = STRING:" + hex.EncodeToString([]byte("XLF01234-17")),
		".1.3.6.1.2.1.2.2.1.6.2 = STRING:001e8faabbdd",
		".1.3.6.1.2.1.43.11.1.1.9.1.3 = INTEGER:0",
		".1.3.6.1.2.1.1.99.0 = noSuchObject",
		".1.3.6.1.2.1.1.1 = noSuchInstance",
	}
	for i, p := range res.Variables {
		if got := pduString(p); i >= len(wantGet) || got != wantGet[i] {
			t.Errorf("get %d: %s", i, got)
		}
	}
	if len(res.Variables) != len(wantGet) {
		t.Errorf("get: %d varbinds", len(res.Variables))
	}

	bad := goSNMP(t, s.Addr(), "canon-c5535@0", gosnmp.Version2c)
	bad.Timeout, bad.Retries = 300*time.Millisecond, 0
	if _, err := bad.Get([]string{".1.3.6.1.2.1.1.1.0"}); err == nil {
		t.Error("unknown community answered")
	}
}
