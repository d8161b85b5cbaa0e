package snmp

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/snmp/snmptest"
)

// v3 users the simulator accepts: the required SHA/AES pair, and a
// stronger one.
var (
	simUserSHA    = snmptest.V3User{Name: "cmdb-sha", AuthProto: "SHA", AuthKey: "auth-pass-1", PrivProto: "AES", PrivKey: "priv-pass-1"}
	simUserSHA512 = snmptest.V3User{Name: "cmdb-sha512", AuthProto: "SHA512", AuthKey: "auth-pass-2", PrivProto: "AES256", PrivKey: "priv-pass-2"}
)

// TestSnmpsim polls the shared sample devices through Debian's snmpsimd,
// a real agent: v2c per device, v1, v3 authPriv, a wrong credential
// before the right one, and a discovery over loopback addresses.
func TestSnmpsim(t *testing.T) {
	dir := snmptest.DataDir(t)
	sim := snmptest.StartSimulator(t, dir, simUserSHA, simUserSHA512)
	opts := Options{Timeout: time.Second, Retries: 1}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	for name, want := range snmptest.LoadExpected(t, dir) {
		t.Run("v2c/"+name, func(t *testing.T) {
			rep, err := PollReport(ctx, sim.Addr, []cmdb.SNMPCredential{v2c("sample", name)}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Reachable {
				t.Fatalf("%s did not answer", name)
			}
			for _, d := range snmptest.Mismatches(rep.PollResult, want) {
				t.Error(d)
			}
		})
	}

	t.Run("v1", func(t *testing.T) {
		r, err := Poll(ctx, sim.Addr, []cmdb.SNMPCredential{{Name: "v1", Version: "1", Community: "canon-c5535"}}, opts)
		if err != nil || !r.Reachable {
			t.Fatalf("Poll = %+v, %v", r, err)
		}
		if r.Serial != "XLF01234" || len(r.Supplies) != 4 || r.Class != cmdb.ClassMFP || len(r.Alerts) != 1 {
			t.Errorf("v1 result = %+v", r)
		}
	})

	for _, u := range []snmptest.V3User{simUserSHA, simUserSHA512} {
		t.Run("v3 authPriv "+u.AuthProto+"/"+u.PrivProto, func(t *testing.T) {
			cred := cmdb.SNMPCredential{Name: "v3", Version: "3", User: u.Name, AuthProto: u.AuthProto,
				AuthPass: cmdb.Secret(u.AuthKey), PrivProto: u.PrivProto, PrivPass: cmdb.Secret(u.PrivKey)}
			o := opts
			o.ContextName = "lexmark-ms521" // snmpsim picks the recording by v3 context
			rep, err := PollReport(ctx, sim.Addr, []cmdb.SNMPCredential{cred}, o)
			if err != nil || !rep.Reachable {
				t.Fatalf("Poll = %+v, %v", rep, err)
			}
			for _, d := range snmptest.Mismatches(rep.PollResult, snmptest.LoadExpected(t, dir)["lexmark-ms521"]) {
				t.Error(d)
			}
		})
	}

	t.Run("v1 get skips OIDs the agent lacks", func(t *testing.T) {
		s, err := NewScraper(ctx, sim.Addr, cmdb.SNMPCredential{Version: "1", Community: "benq-mw560"}, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		pdus, err := s.Get([]string{oidSysDescr, "1.3.6.1.2.1.1.99.0", oidSysName})
		if err != nil {
			t.Fatal(err)
		}
		if len(pdus) != 2 || normOID(pdus[0].Name) != oidSysDescr || normOID(pdus[1].Name) != oidSysName {
			t.Errorf("pdus = %+v", pdus)
		}
	})

	t.Run("walk stops at the row limit", func(t *testing.T) {
		o := opts
		o.MaxRows = 3
		s, err := NewScraper(ctx, sim.Addr, v2c("x", "canon-c5535"), o)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		pdus, err := s.WalkAll(oidPrtMarkerSupplies)
		if !errors.Is(err, ErrTooManyRows) || len(pdus) != 3 {
			t.Errorf("WalkAll = %d PDUs, %v; want 3 and ErrTooManyRows", len(pdus), err)
		}
	})

	t.Run("wrong credentials first", func(t *testing.T) {
		wrongV3 := cmdb.SNMPCredential{Name: "wrong-v3", Version: "3", User: simUserSHA.Name, AuthProto: "SHA",
			AuthPass: "not-the-pass", PrivProto: "AES", PrivPass: cmdb.Secret(simUserSHA.PrivKey)}
		creds := []cmdb.SNMPCredential{v2c("wrong", "no-such-community"), wrongV3, v2c("right", "benq-mw560")}
		o := Options{Timeout: 300 * time.Millisecond, Retries: 0}
		rep, err := PollReport(ctx, sim.Addr, creds, o)
		if err != nil || !rep.Reachable || rep.Credential != "right" || rep.Class != cmdb.ClassProjector {
			t.Fatalf("Poll = %+v, %v", rep, err)
		}
	})

	t.Run("discover loopback", func(t *testing.T) {
		// snmpsimd listens on 127.0.0.1 only; the rest of 127.0.0.0/29
		// refuses or stays silent.
		o := Options{Port: sim.Port, Timeout: 500 * time.Millisecond, Retries: 0, Concurrency: 3}
		found, err := Discover(ctx, "127.0.0.0/29", []cmdb.SNMPCredential{v2c("x", "lexmark-ms521")}, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 || found[0].Target != sim.Addr || found[0].Serial != "4514123456789" {
			t.Errorf("found %+v, want the simulator only", found)
		}
	})
}

// blackHole is a UDP socket that receives and never answers.
func blackHole(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestPollBlackHole(t *testing.T) {
	hole := blackHole(t)
	target := hole.LocalAddr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	creds := []cmdb.SNMPCredential{v2c("a", "public"),
		{Name: "v3", Version: "3", User: "u", AuthProto: "SHA256", AuthPass: "auth-pass", PrivProto: "AES", PrivPass: "priv-pass"}}
	r, err := Poll(ctx, target, creds, Options{Timeout: 200 * time.Millisecond, Retries: 1})
	if err != nil {
		t.Fatalf("Poll: %v (the deadline passed before the poll gave up?)", err)
	}
	if r.Reachable || r.Target != target {
		t.Errorf("result = %+v, want unreachable", r)
	}
}

func TestDiscoverBlackHoles(t *testing.T) {
	hole := blackHole(t)
	port := hole.LocalAddr().(*net.UDPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	found, err := Discover(ctx, "127.0.0.0/29", []cmdb.SNMPCredential{v2c("a", "public")},
		Options{Port: port, Timeout: 200 * time.Millisecond, Retries: 1, Concurrency: 4})
	if err != nil {
		t.Fatalf("Discover: %v (did not finish before the deadline?)", err)
	}
	if len(found) != 0 {
		t.Errorf("found %+v in a range without agents", found)
	}
}
