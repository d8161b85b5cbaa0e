package snmp

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/snmp/snmptest"
)

func v2c(name, community string) cmdb.SNMPCredential {
	return cmdb.SNMPCredential{Name: name, Version: "2c", Community: cmdb.Secret(community)}
}

// fakeNet answers like a network of fake devices: target+community (or
// target+user) → recording. Unknown pairs time out.
type fakeNet struct {
	mu      sync.Mutex
	devices map[string][]gosnmp.SnmpPDU
	dialed  []string
	opened  []*FakeScraper
}

var errTimeout = errors.New("request timeout (after 0 retries)")

func (n *fakeNet) dial(_ context.Context, target string, cred cmdb.SNMPCredential, _ Options) (Scraper, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	id := cred.Community.Reveal() + cred.User
	n.dialed = append(n.dialed, target+"/"+cred.Name)
	f := NewFakeScraper(n.devices[target+"/"+id])
	if _, ok := n.devices[target+"/"+id]; !ok {
		f.Err = errTimeout
	}
	n.opened = append(n.opened, f)
	return f, nil
}

func sample(t *testing.T, name string) []gosnmp.SnmpPDU {
	return snmptest.LoadSnmprec(t, filepath.Join(snmptest.DataDir(t), name+".snmprec"))
}

func TestPollTriesCredentialsInOrder(t *testing.T) {
	net := &fakeNet{devices: map[string][]gosnmp.SnmpPDU{"10.0.0.5/s3cret": sample(t, "lexmark-ms521")}}
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	creds := []cmdb.SNMPCredential{v2c("public", "public"), v2c("school", "s3cret"), v2c("never", "never")}
	rep, err := PollReport(context.Background(), "10.0.0.5", creds, Options{Dial: net.dial, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Reachable || rep.Credential != "school" || rep.Profile != "printer" || !rep.PolledAt.Equal(now) || rep.Target != "10.0.0.5" {
		t.Errorf("report = %+v", rep)
	}
	if !slices.Equal(net.dialed, []string{"10.0.0.5/public", "10.0.0.5/school"}) {
		t.Errorf("dialed %v: the third credential must not be tried once the second answered", net.dialed)
	}
	for _, f := range net.opened {
		if !f.Closed() {
			t.Error("a scraper was not closed")
		}
	}
	// The printer profile's walks and nothing the profile does not name.
	calls := net.opened[1].Calls()
	if !strings.HasPrefix(calls[0], "get "+oidSysDescr) || !slices.Contains(calls, "walk "+oidPrtMarkerSupplies) ||
		!slices.Contains(calls, "walk "+oidIfPhysAddress) {
		t.Errorf("calls = %v", calls)
	}
	if rep.PageCount == nil || *rep.PageCount != 22010 || rep.Vendor != "Lexmark" || rep.Class != cmdb.ClassPrinter {
		t.Errorf("result = %+v", rep.PollResult)
	}
	// The JSON of a report is the poll result plus profile and credential name.
	b, _ := json.Marshal(rep)
	for _, want := range []string{`"profile":"printer"`, `"credential":"school"`, `"serial":"4514123456789"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
	if strings.Contains(string(b), "s3cret") {
		t.Errorf("JSON leaks the community: %s", b)
	}
}

func TestPollUnreachable(t *testing.T) {
	net := &fakeNet{}
	r, err := Poll(context.Background(), "10.0.0.9:1161", []cmdb.SNMPCredential{v2c("a", "a"), v2c("b", "b")}, Options{Dial: net.dial})
	if err != nil {
		t.Fatal(err)
	}
	if r.Reachable || r.Target != "10.0.0.9:1161" || r.PolledAt.IsZero() || r.Class != "" {
		t.Errorf("result = %+v, want unreachable", r)
	}
	if len(net.dialed) != 2 {
		t.Errorf("dialed %v, want both credentials tried", net.dialed)
	}
}

func TestPollDeviceWithoutSystemGroup(t *testing.T) {
	// An agent that answers, but with nothing: not this credential's device.
	net := &fakeNet{devices: map[string][]gosnmp.SnmpPDU{"10.0.0.7/a": {pInt("1.3.6.1.2.1.43.10.2.1.4.1.1", 5)}}}
	r, err := Poll(context.Background(), "10.0.0.7", []cmdb.SNMPCredential{v2c("a", "a")}, Options{Dial: net.dial})
	if err != nil || r.Reachable {
		t.Errorf("Poll = %+v, %v; want unreachable", r, err)
	}
}

func TestPollCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	net := &fakeNet{}
	if _, err := Poll(ctx, "10.0.0.9", []cmdb.SNMPCredential{v2c("a", "a")}, Options{Dial: net.dial}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestPollInvalidInput(t *testing.T) {
	ok := []cmdb.SNMPCredential{v2c("a", "public")}
	v3 := func(auth, priv string) []cmdb.SNMPCredential {
		return []cmdb.SNMPCredential{{Version: "3", User: "u", AuthProto: auth, AuthPass: "authpass1", PrivProto: priv, PrivPass: "privpass1"}}
	}
	for _, tc := range []struct {
		name   string
		target string
		creds  []cmdb.SNMPCredential
		field  string
	}{
		{"empty target", " ", ok, "target"},
		{"port out of range", "10.0.0.1:70000", ok, "target"},
		{"port zero", "10.0.0.1:0", ok, "target"},
		{"port not a number", "printer.local:snmp", ok, "target"},
		{"not a host name", "bad host!", ok, "target"},
		{"no credentials", "10.0.0.1", nil, "credentials"},
		{"empty community", "10.0.0.1", []cmdb.SNMPCredential{v2c("a", "public"), v2c("b", "")}, "credentials[1].community"},
		{"unknown version", "10.0.0.1", []cmdb.SNMPCredential{{Version: "4"}}, "credentials[0].version"},
		{"unknown auth protocol", "10.0.0.1", v3("MD5", ""), "credentials[0].auth_proto"},
		{"unknown priv protocol", "10.0.0.1", v3("SHA", "DES"), "credentials[0].priv_proto"},
		{"priv without auth", "10.0.0.1", v3("", "AES"), "credentials[0].auth_proto"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net := &fakeNet{}
			_, err := Poll(context.Background(), tc.target, tc.creds, Options{Dial: net.dial})
			if cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != tc.field {
				t.Errorf("err = %v, want EINVALID on %s", err, tc.field)
			}
			if len(net.dialed) > 0 {
				t.Errorf("dialed %v on bad input", net.dialed)
			}
		})
	}
}

func TestSplitTarget(t *testing.T) {
	for _, tc := range []struct {
		in   string
		host string
		port uint16
	}{
		{"10.0.0.1", "10.0.0.1", 161},
		{"10.0.0.1:1161", "10.0.0.1", 1161},
		{"drucker-a114.schule.local", "drucker-a114.schule.local", 161},
		{"drucker-a114:162", "drucker-a114", 162},
		{"fd00::5", "fd00::5", 161},
		{"[fd00::5]", "fd00::5", 161},
		{"[fd00::5]:1161", "fd00::5", 1161},
	} {
		host, port, err := SplitTarget(tc.in, 161)
		if err != nil || host != tc.host || port != tc.port {
			t.Errorf("SplitTarget(%q) = %q, %d, %v; want %q, %d", tc.in, host, port, err, tc.host, tc.port)
		}
	}
}

func TestGosnmpParams(t *testing.T) {
	for _, tc := range []struct {
		cred  cmdb.SNMPCredential
		flags gosnmp.SnmpV3MsgFlags
		auth  gosnmp.SnmpV3AuthProtocol
		priv  gosnmp.SnmpV3PrivProtocol
	}{
		{cmdb.SNMPCredential{Version: "3", User: "u"}, gosnmp.NoAuthNoPriv, gosnmp.NoAuth, gosnmp.NoPriv},
		{cmdb.SNMPCredential{Version: "3", User: "u", AuthProto: "SHA", AuthPass: "x"}, gosnmp.AuthNoPriv, gosnmp.SHA, gosnmp.NoPriv},
		{cmdb.SNMPCredential{Version: "3", User: "u", AuthProto: "SHA224", PrivProto: "AES"}, gosnmp.AuthPriv, gosnmp.SHA224, gosnmp.AES},
		{cmdb.SNMPCredential{Version: "3", User: "u", AuthProto: "SHA256", PrivProto: "AES192"}, gosnmp.AuthPriv, gosnmp.SHA256, gosnmp.AES192},
		{cmdb.SNMPCredential{Version: "3", User: "u", AuthProto: "SHA384", PrivProto: "AES256"}, gosnmp.AuthPriv, gosnmp.SHA384, gosnmp.AES256},
		{cmdb.SNMPCredential{Version: "3", User: "u", AuthProto: "SHA512", PrivProto: "AES"}, gosnmp.AuthPriv, gosnmp.SHA512, gosnmp.AES},
	} {
		g, err := gosnmpParams(tc.cred)
		if err != nil {
			t.Fatal(err)
		}
		usm := g.SecurityParameters.(*gosnmp.UsmSecurityParameters)
		if g.Version != gosnmp.Version3 || g.MsgFlags != tc.flags || usm.AuthenticationProtocol != tc.auth ||
			usm.PrivacyProtocol != tc.priv || usm.UserName != "u" {
			t.Errorf("%+v: flags %v auth %v priv %v", tc.cred, g.MsgFlags, usm.AuthenticationProtocol, usm.PrivacyProtocol)
		}
	}
	// Every protocol the domain allows maps to gosnmp.
	for _, p := range cmdb.SNMPAuthProtocols {
		if _, ok := authProtocols[p]; !ok {
			t.Errorf("auth protocol %s has no gosnmp mapping", p)
		}
	}
	for _, p := range cmdb.SNMPPrivProtocols {
		if _, ok := privProtocols[p]; !ok {
			t.Errorf("priv protocol %s has no gosnmp mapping", p)
		}
	}
	g, _ := gosnmpParams(v2c("a", "public"))
	if g.Version != gosnmp.Version2c || g.Community != "public" {
		t.Errorf("v2c = %v %q", g.Version, g.Community)
	}
	g, _ = gosnmpParams(cmdb.SNMPCredential{Version: "1", Community: "c1"})
	if g.Version != gosnmp.Version1 || g.Community != "c1" {
		t.Errorf("v1 = %v %q", g.Version, g.Community)
	}
}

func TestRangeHosts(t *testing.T) {
	for _, tc := range []struct {
		cidr        string
		n           int
		first, last string
	}{
		{"192.0.2.0/29", 6, "192.0.2.1", "192.0.2.6"},
		{"192.0.2.77/29", 6, "192.0.2.73", "192.0.2.78"},
		{"10.8.0.0/22", 1022, "10.8.0.1", "10.8.3.254"},
		{"192.0.2.8/31", 2, "192.0.2.8", "192.0.2.9"},
		{"192.0.2.8/32", 1, "192.0.2.8", "192.0.2.8"},
		{"192.0.2.8", 1, "192.0.2.8", "192.0.2.8"},
		{"2001:db8::/118", 1024, "2001:db8::", "2001:db8::3ff"},
	} {
		hosts, err := rangeHosts(tc.cidr)
		if err != nil || len(hosts) != tc.n || hosts[0].String() != tc.first || hosts[len(hosts)-1].String() != tc.last {
			t.Errorf("rangeHosts(%s) = %d hosts %v…, %v; want %d %s…%s", tc.cidr, len(hosts), hosts[:min(2, len(hosts))], err, tc.n, tc.first, tc.last)
		}
	}
	for _, bad := range []string{"10.8.0.0/21", "10.0.0.0/8", "0.0.0.0/0", "2001:db8::/117", "10.0.0.0/33", "printers", "", "10.0.0.0/-1"} {
		if _, err := Discover(context.Background(), bad, []cmdb.SNMPCredential{v2c("a", "a")}, Options{}); cmdb.ErrorField(err) != "range" {
			t.Errorf("Discover(%q) err = %v, want EINVALID on range", bad, err)
		}
	}
}

func TestDiscoverFake(t *testing.T) {
	net := &fakeNet{devices: map[string][]gosnmp.SnmpPDU{
		"192.0.2.3/school": sample(t, "lexmark-ms521"),
		"192.0.2.5/school": sample(t, "benq-mw560"),
	}}
	found, err := Discover(context.Background(), "192.0.2.0/29", []cmdb.SNMPCredential{v2c("school", "school")},
		Options{Dial: net.dial, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range found {
		got = append(got, r.Target+"="+r.Class)
	}
	if !slices.Equal(got, []string{"192.0.2.3=printer", "192.0.2.5=projector"}) {
		t.Errorf("found %v", got)
	}
	if len(net.dialed) != 6 {
		t.Errorf("dialed %d hosts, want the 6 of a /29", len(net.dialed))
	}
}

func TestDiscoverStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	dials := 0
	dial := func(context.Context, string, cmdb.SNMPCredential, Options) (Scraper, error) {
		mu.Lock()
		defer mu.Unlock()
		dials++
		cancel()
		return NewFakeScraper(nil), nil
	}
	found, err := Discover(ctx, "192.0.2.0/24", []cmdb.SNMPCredential{v2c("a", "a")}, Options{Dial: dial, Concurrency: 1})
	if !errors.Is(err, context.Canceled) || len(found) != 0 {
		t.Errorf("Discover = %v, %v; want nothing and context.Canceled", found, err)
	}
	if dials != 1 {
		t.Errorf("%d dials after the context ended, want 1", dials)
	}
}

func TestObservation(t *testing.T) {
	r := DefaultCatalog().Result(sample(t, "lexmark-ms521"))
	r.Target, r.Reachable, r.PolledAt = "10.0.0.5", true, time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	o := Observation(r, 7, 12)
	if err := o.Validate(); err != nil {
		t.Fatalf("observation does not validate: %v", err)
	}
	if o.Source != "snmp" || o.AuthorityID != 7 || o.SchoolID != 12 || o.Class != "printer" || o.Vendor != "Lexmark" ||
		o.Serial != "4514123456789" || o.Hostname != "ET00210B5C8A12" || !o.ObservedAt.Equal(r.PolledAt) {
		t.Errorf("observation = %+v", o)
	}
	if len(o.NICs) != 1 || o.NICs[0] != (cmdb.NIC{MAC: "00:21:b7:5c:8a:12", Kind: cmdb.NICPhysical}) {
		t.Errorf("NICs = %+v", o.NICs)
	}
	want := map[string]string{
		"model": "Lexmark MS521dn", "counter.pages": "22010",
		"supply.1.name": "Black Toner", "supply.1.type": "toner", "supply.1.colorant": "black", "supply.1.level": "81",
		"supply.2.name": "Imaging Unit", "supply.2.type": "fuser", "supply.2.level": "63",
		"printer.status": "idle", "printer.errors": "none", "printer.alerts": "0",
		"snmp.sys_object_id": "1.3.6.1.4.1.641.6.1.1.1", "snmp.sys_location": "Berufsschule, Raum B011",
	}
	for k, v := range want {
		if o.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, o.Attributes[k], v)
		}
	}
	for k := range o.Attributes {
		if g := cmdb.AttrGroup(k); strings.HasPrefix(k, "supply.") || strings.HasPrefix(k, "counter.") || strings.HasPrefix(k, "printer.") {
			if g != cmdb.GroupMetrics {
				t.Errorf("attribute %s is in group %s, want metrics", k, g)
			}
		}
	}

	canon := DefaultCatalog().Result(sample(t, "canon-c5535"))
	oc := Observation(canon, 7, 0)
	if oc.Attributes["supply.3.level"] != "empty" || oc.Attributes["supply.1.level"] != "some-remaining" ||
		oc.Attributes["printer.errors"] != "doorOpen" || oc.Attributes["printer.alerts"] != "1" || oc.Class != "mfp" {
		t.Errorf("canon attributes = %v", oc.Attributes)
	}

	benq := DefaultCatalog().Result(sample(t, "benq-mw560"))
	ob := Observation(benq, 7, 0)
	if err := ob.Validate(); err != nil {
		t.Fatal(err)
	}
	if ob.Serial != "" || ob.Class != "projector" || len(ob.NICs) != 1 || ob.Attributes["printer.errors"] != "" {
		t.Errorf("benq observation = %+v", ob)
	}
}

func TestMetrics(t *testing.T) {
	canon := DefaultCatalog().Result(sample(t, "canon-c5535"))
	canon.Reachable = true
	lexmark := DefaultCatalog().Result(sample(t, "lexmark-ms521"))
	lexmark.Reachable = true
	for _, tc := range []struct {
		name string
		r    *cmdb.PollResult
		want map[string]float64
	}{
		{"lexmark", lexmark, map[string]float64{"counter.pages": 22010, "supply.1.percent": 81, "supply.1.level": 81,
			"supply.2.percent": 63, "supply.2.level": 37800, "printer.errors": 0, "printer.alerts": 0}},
		{"canon: special levels are no numbers", canon, map[string]float64{"counter.pages": 801234, "printer.errors": 1, "printer.alerts": 1}},
		{"unreachable", &cmdb.PollResult{}, map[string]float64{}},
		{"projector", &cmdb.PollResult{Reachable: true, Class: "projector"}, map[string]float64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Metrics(tc.r)
			if len(got) != len(tc.want) {
				t.Errorf("Metrics = %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if g, ok := got[k]; !ok || g != v {
					t.Errorf("%s = %v, want %v", k, g, v)
				}
			}
		})
	}
}

func TestObservationDropsJunk(t *testing.T) {
	r := &cmdb.PollResult{Serial: "0000000000", MAC: "00:00:00:00:00:00", SysName: "localhost", Class: "toaster",
		Supplies: []cmdb.Supply{{Index: 1, Description: "Toner", State: cmdb.SupplyOK, Level: 3000, Max: -2, Unit: "impressions"}}}
	o := Observation(r, 1, 0)
	if o.Serial != "" || len(o.NICs) != 0 || o.Hostname != "" || o.Class != cmdb.ClassOther {
		t.Errorf("observation kept junk: %+v", o)
	}
	if o.Attributes["supply.1.level"] != "3000 impressions" {
		t.Errorf("level = %q", o.Attributes["supply.1.level"])
	}
	if err := o.Validate(); err != nil {
		t.Error(err)
	}
}
