package snmp

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/snmp/snmptest"
)

// PDU constructors for tables of test input.
func pInt(oid string, v int) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: "." + oid, Type: gosnmp.Integer, Value: v}
}
func pStr(oid, v string) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: "." + oid, Type: gosnmp.OctetString, Value: []byte(v)}
}
func pBytes(oid string, v ...byte) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: "." + oid, Type: gosnmp.OctetString, Value: v}
}
func pOID(oid, v string) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: "." + oid, Type: gosnmp.ObjectIdentifier, Value: "." + v}
}
func pCounter(oid string, v uint) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: "." + oid, Type: gosnmp.Counter32, Value: v}
}

func TestDecodeErrorStateEveryBit(t *testing.T) {
	// Each RFC 3805 bit on its own, in a two-octet value: bit 0 is the
	// most significant bit of the first octet.
	for bit, name := range []string{"lowPaper", "noPaper", "lowToner", "noToner", "doorOpen", "jammed",
		"offline", "serviceRequested", "inputTrayMissing", "outputTrayMissing", "markerSupplyMissing",
		"outputNearFull", "outputFull", "inputTrayEmpty", "overduePreventMaint"} {
		v := []byte{0, 0}
		v[bit/8] = 0x80 >> (bit % 8)
		if got := DecodeErrorState(v); !slices.Equal(got, []string{name}) {
			t.Errorf("bit %d (% x) = %v, want [%s]", bit, v, got, name)
		}
	}
}

func TestDecodeErrorState(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want []string
	}{
		{"empty value", nil, nil},
		{"no bits", []byte{0x00, 0x00}, nil},
		{"one octet, no bits (valid)", []byte{0x00}, nil},
		{"one octet doorOpen (valid)", []byte{0x08}, []string{"doorOpen"}},
		{"one octet all eight", []byte{0xff}, []string{"lowPaper", "noPaper", "lowToner", "noToner", "doorOpen", "jammed", "offline", "serviceRequested"}},
		{"sample canon 0800", []byte{0x08, 0x00}, []string{"doorOpen"}},
		{"low toner and service", []byte{0x21, 0x00}, []string{"lowToner", "serviceRequested"}},
		{"second octet first bit", []byte{0x00, 0x80}, []string{"inputTrayMissing"}},
		{"bit 15 is not defined", []byte{0x00, 0x01}, nil},
		{"third octet is not defined", []byte{0x00, 0x00, 0xff}, nil},
		{"every defined bit", []byte{0xff, 0xfe}, []string{"lowPaper", "noPaper", "lowToner", "noToner", "doorOpen",
			"jammed", "offline", "serviceRequested", "inputTrayMissing", "outputTrayMissing", "markerSupplyMissing",
			"outputNearFull", "outputFull", "inputTrayEmpty", "overduePreventMaint"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DecodeErrorState(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("DecodeErrorState(% x) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestSupplyLevel(t *testing.T) {
	const impressions, percent, tenthsOfGrams = 7, 19, 13
	num := func(f float64) *float64 { return &f }
	for _, tc := range []struct {
		name             string
		level, max, unit int64
		wantState        string
		wantPercent      *float64
	}{
		{"other (-1)", -1, 100, impressions, cmdb.SupplyOther, nil},
		{"unknown (-2)", -2, 100, impressions, cmdb.SupplyUnknown, nil},
		{"some remaining (-3)", -3, -2, impressions, cmdb.SupplySomeRemaining, nil},
		{"empty (0)", 0, 100, percent, cmdb.SupplyEmpty, nil},
		{"empty (0) with unknown max", 0, -2, impressions, cmdb.SupplyEmpty, nil},
		{"undefined negative level", -7, 100, impressions, cmdb.SupplyUnknown, nil},
		{"percent unit is the level", 81, 100, percent, cmdb.SupplyOK, num(81)},
		{"percent unit ignores max", 40, 60000, percent, cmdb.SupplyOK, num(40)},
		{"percent unit with unknown max", 55, -2, percent, cmdb.SupplyOK, num(55)},
		{"percent above 100 is no percent", 150, 100, percent, cmdb.SupplyOK, nil},
		{"level over max", 37800, 60000, impressions, cmdb.SupplyOK, num(63)},
		{"rounded to a tenth", 1, 3, tenthsOfGrams, cmdb.SupplyOK, num(33.3)},
		{"full", 60000, 60000, impressions, cmdb.SupplyOK, num(100)},
		{"max other (-1)", 500, -1, impressions, cmdb.SupplyOK, nil},
		{"max unknown (-2)", 500, -2, impressions, cmdb.SupplyOK, nil},
		{"max zero", 500, 0, impressions, cmdb.SupplyOK, nil},
		{"level above max is no percent", 70000, 60000, impressions, cmdb.SupplyOK, nil},
		{"huge numbers", math.MaxInt32, math.MaxInt32, impressions, cmdb.SupplyOK, num(100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, p := SupplyLevel(tc.level, tc.max, tc.unit)
			if state != tc.wantState {
				t.Errorf("state = %q, want %q", state, tc.wantState)
			}
			switch {
			case p == nil && tc.wantPercent == nil:
			case p == nil || tc.wantPercent == nil || *p != *tc.wantPercent:
				t.Errorf("percent = %v, want %v", fmtPct(p), fmtPct(tc.wantPercent))
			}
		})
	}
}

func fmtPct(p *float64) any {
	if p == nil {
		return "nil"
	}
	return *p
}

const (
	supplies = "1.3.6.1.2.1.43.11.1.1"
	ifTable  = "1.3.6.1.2.1.2.2.1"
)

// supplyRow returns the PDUs of one prtMarkerSuppliesEntry (device 1).
func supplyRow(idx string, descr string, typ, unit, max, level int) []gosnmp.SnmpPDU {
	return []gosnmp.SnmpPDU{
		pStr(supplies+".6.1."+idx, descr), pInt(supplies+".5.1."+idx, typ), pInt(supplies+".7.1."+idx, unit),
		pInt(supplies+".8.1."+idx, max), pInt(supplies+".9.1."+idx, level),
	}
}

func TestDecodeSupplies(t *testing.T) {
	pdus := slices.Concat(
		supplyRow("1", "Black Toner", 3, 19, 100, 81),
		supplyRow("2", "Drum", 9, 7, 60000, 30000),
		supplyRow("3", "Waste", 4, 7, -2, -3),
		supplyRow("4", "Fuser", 15, 7, -1, 0),
		[]gosnmp.SnmpPDU{
			pInt(supplies+".3.1.1", 2), // colorant index 2 → cyan
			pStr("1.3.6.1.2.1.43.12.1.1.4.1.1", "black"),
			pStr("1.3.6.1.2.1.43.12.1.1.4.1.2", "cyan"),
			pInt(supplies+".3.1.2", 0), // no colorant
			pInt(supplies+".3.1.3", 9), // a colorant that is not there
		})
	got := Decode(pdus).Supplies
	want := []struct {
		descr, colorant, typ, unit, state string
		percent                           any
	}{
		{"Black Toner", "cyan", "toner", "percent", "ok", 81.0},
		{"Drum", "", "opc", "impressions", "ok", 50.0},
		{"Waste", "", "wasteToner", "impressions", "some-remaining", "nil"},
		{"Fuser", "", "fuser", "impressions", "empty", "nil"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d supplies, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Index != i+1 || g.Description != w.descr || g.Colorant != w.colorant || g.Type != w.typ ||
			g.Unit != w.unit || g.State != w.state || fmtPct(g.Percent) != w.percent {
			t.Errorf("supply %d = %+v (percent %v), want %+v", i+1, g, fmtPct(g.Percent), w)
		}
	}
}

func TestDecodeMAC(t *testing.T) {
	mac := func(idx string, b ...byte) gosnmp.SnmpPDU { return pBytes(ifTable+".6."+idx, b...) }
	typ := func(idx string, v int) gosnmp.SnmpPDU { return pInt(ifTable+".3."+idx, v) }
	for _, tc := range []struct {
		name string
		pdus []gosnmp.SnmpPDU
		want string
	}{
		{"loopback skipped, ethernet taken", []gosnmp.SnmpPDU{typ("1", 24), mac("1", 0, 0, 0, 0, 0, 1),
			typ("2", 6), mac("2", 0x00, 0x1e, 0x8f, 0xaa, 0xbb, 0xcc)}, "00:1e:8f:aa:bb:cc"},
		{"empty address skipped", []gosnmp.SnmpPDU{typ("1", 6), mac("1"), typ("2", 6), mac("2", 2, 0, 0, 0, 0, 2)}, "02:00:00:00:00:02"},
		{"ethernet preferred over wi-fi", []gosnmp.SnmpPDU{typ("1", 71), mac("1", 2, 0, 0, 0, 0, 1),
			typ("5", 6), mac("5", 2, 0, 0, 0, 0, 5)}, "02:00:00:00:00:05"},
		{"wi-fi only", []gosnmp.SnmpPDU{typ("3", 71), mac("3", 2, 0, 0, 0, 0, 3)}, "02:00:00:00:00:03"},
		{"software interfaces never", []gosnmp.SnmpPDU{typ("1", 53), mac("1", 2, 0, 0, 0, 0, 1),
			typ("2", 135), mac("2", 2, 0, 0, 0, 0, 2), typ("3", 209), mac("3", 2, 0, 0, 0, 0, 3)}, ""},
		{"type other as a last resort", []gosnmp.SnmpPDU{typ("1", 24), typ("2", 1), mac("2", 2, 0, 0, 0, 0, 2)}, "02:00:00:00:00:02"},
		{"no ifType at all", []gosnmp.SnmpPDU{mac("7", 2, 0, 0, 0, 0, 7)}, "02:00:00:00:00:07"},
		{"all zero and multicast are junk", []gosnmp.SnmpPDU{typ("1", 6), mac("1", 0, 0, 0, 0, 0, 0),
			typ("2", 6), mac("2", 1, 0, 0x5e, 0, 0, 1)}, ""},
		{"short address", []gosnmp.SnmpPDU{typ("1", 6), mac("1", 0, 0x1e, 0x8f)}, ""},
		{"address as text", []gosnmp.SnmpPDU{typ("1", 6), pStr(ifTable+".6.1", "00-21-B7-5C-8A-12")}, "00:21:b7:5c:8a:12"},
		{"address of wrong type", []gosnmp.SnmpPDU{typ("1", 6), pInt(ifTable+".6.1", 42)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decode(tc.pdus).MAC; got != tc.want {
				t.Errorf("MAC = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDecodeGarbage feeds values of the wrong type, truncated and out of
// range: Decode must not panic and must not turn them into numbers.
func TestDecodeGarbage(t *testing.T) {
	const (
		lifeCount = "1.3.6.1.2.1.43.10.2.1.4.1.1"
		errState  = "1.3.6.1.2.1.25.3.5.1.2.1"
		status    = "1.3.6.1.2.1.25.3.5.1.1.1"
		serial    = "1.3.6.1.2.1.43.5.1.1.17.1"
	)
	for _, tc := range []struct {
		name  string
		pdus  []gosnmp.SnmpPDU
		check func(t *testing.T, r *cmdb.PollResult)
	}{
		{"negative page counter", []gosnmp.SnmpPDU{pInt(lifeCount, -5)}, func(t *testing.T, r *cmdb.PollResult) {
			if r.PageCount != nil {
				t.Errorf("PageCount = %d, want nil", *r.PageCount)
			}
		}},
		{"page counter as text", []gosnmp.SnmpPDU{pStr(lifeCount, "12345")}, func(t *testing.T, r *cmdb.PollResult) {
			if r.PageCount != nil {
				t.Errorf("PageCount = %d, want nil", *r.PageCount)
			}
		}},
		{"page counter beyond int64", []gosnmp.SnmpPDU{{Name: "." + lifeCount, Type: gosnmp.Counter64, Value: uint64(math.MaxUint64)}}, func(t *testing.T, r *cmdb.PollResult) {
			if r.PageCount != nil {
				t.Errorf("PageCount = %d, want nil", *r.PageCount)
			}
		}},
		{"page counter with a nil value", []gosnmp.SnmpPDU{{Name: "." + lifeCount, Type: gosnmp.Counter32}}, func(t *testing.T, r *cmdb.PollResult) {
			if r.PageCount != nil {
				t.Errorf("PageCount = %d, want nil", *r.PageCount)
			}
		}},
		{"valid Counter32 page counter", []gosnmp.SnmpPDU{pCounter(lifeCount, 22010)}, func(t *testing.T, r *cmdb.PollResult) {
			if r.PageCount == nil || *r.PageCount != 22010 {
				t.Errorf("PageCount = %v, want 22010", r.PageCount)
			}
		}},
		{"error state as integer", []gosnmp.SnmpPDU{pInt(errState, 8)}, func(t *testing.T, r *cmdb.PollResult) {
			if r.Errors != nil {
				t.Errorf("Errors = %v, want none", r.Errors)
			}
		}},
		{"empty error state", []gosnmp.SnmpPDU{pBytes(errState)}, func(t *testing.T, r *cmdb.PollResult) {
			if r.Errors != nil {
				t.Errorf("Errors = %v, want none", r.Errors)
			}
		}},
		{"status out of range", []gosnmp.SnmpPDU{pInt(status, 99)}, func(t *testing.T, r *cmdb.PollResult) {
			if r.Status != "unknown" {
				t.Errorf("Status = %q, want unknown", r.Status)
			}
		}},
		{"status as text", []gosnmp.SnmpPDU{pStr(status, "idle")}, func(t *testing.T, r *cmdb.PollResult) {
			if r.Status != "" {
				t.Errorf("Status = %q, want none", r.Status)
			}
		}},
		{"supply level as text", []gosnmp.SnmpPDU{pStr(supplies+".6.1.1", "Toner"), pStr(supplies+".9.1.1", "80"),
			pInt(supplies+".8.1.1", 100)}, func(t *testing.T, r *cmdb.PollResult) {
			if len(r.Supplies) != 1 || r.Supplies[0].State != cmdb.SupplyUnknown || r.Supplies[0].Percent != nil {
				t.Errorf("Supplies = %+v, want one of unknown level", r.Supplies)
			}
		}},
		{"supply max as text", []gosnmp.SnmpPDU{pStr(supplies+".6.1.1", "Toner"), pInt(supplies+".9.1.1", 80),
			pStr(supplies+".8.1.1", "100")}, func(t *testing.T, r *cmdb.PollResult) {
			if len(r.Supplies) != 1 || r.Supplies[0].State != cmdb.SupplyOK || r.Supplies[0].Percent != nil {
				t.Errorf("Supplies = %+v, want ok without percent", r.Supplies)
			}
		}},
		{"supply with a bad index", []gosnmp.SnmpPDU{pInt(supplies+".9.1", 80), pInt(supplies+".9.x.1", 80),
			pInt(supplies+".9.1.1.1", 80), pInt(supplies+".9.99999999999.1", 80)}, func(t *testing.T, r *cmdb.PollResult) {
			if len(r.Supplies) != 0 {
				t.Errorf("Supplies = %+v, want none", r.Supplies)
			}
		}},
		{"serial with NULs, control characters and Latin-1", []gosnmp.SnmpPDU{pBytes(serial, 'X', 'L', 0xc4, 0, '1', '\n', 0, 0)}, func(t *testing.T, r *cmdb.PollResult) {
			if r.Serial != "XLÄ 1" {
				t.Errorf("Serial = %q, want %q", r.Serial, "XLÄ 1")
			}
		}},
		{"overlong description is cut", []gosnmp.SnmpPDU{pStr(oidSysDescr, strings.Repeat("x", 5000))}, func(t *testing.T, r *cmdb.PollResult) {
			if len(r.SysDescr) != maxText {
				t.Errorf("len(SysDescr) = %d, want %d", len(r.SysDescr), maxText)
			}
		}},
		{"sysObjectID as text and uptime as integer", []gosnmp.SnmpPDU{pStr(oidSysObjectID, "1.3.6.1.4.1.641"), pInt(oidSysUpTime, 500)}, func(t *testing.T, r *cmdb.PollResult) {
			if r.SysObjectID != "" || r.UptimeSecs != 0 {
				t.Errorf("SysObjectID, UptimeSecs = %q, %d; want none", r.SysObjectID, r.UptimeSecs)
			}
		}},
		{"sysObjectID that is no OID", []gosnmp.SnmpPDU{{Name: "." + oidSysObjectID, Type: gosnmp.ObjectIdentifier, Value: "hello"}}, func(t *testing.T, r *cmdb.PollResult) {
			if r.SysObjectID != "" {
				t.Errorf("SysObjectID = %q, want none", r.SysObjectID)
			}
		}},
		{"value types gosnmp never produces", []gosnmp.SnmpPDU{{Name: "." + oidSysDescr, Type: gosnmp.OctetString, Value: 42},
			{Name: "." + lifeCount, Type: gosnmp.Counter32, Value: "many"}, {Name: "", Type: gosnmp.Integer, Value: 1},
			{Name: ".", Type: gosnmp.Integer, Value: 1}}, func(t *testing.T, r *cmdb.PollResult) {
			if r.SysDescr != "" || r.PageCount != nil {
				t.Errorf("SysDescr, PageCount = %q, %v; want none", r.SysDescr, r.PageCount)
			}
		}},
		{"alerts of unknown codes keep the number", []gosnmp.SnmpPDU{pInt("1.3.6.1.2.1.43.18.1.1.2.1.7", 3),
			pInt("1.3.6.1.2.1.43.18.1.1.4.1.7", 77), pInt("1.3.6.1.2.1.43.18.1.1.7.1.7", 4242)}, func(t *testing.T, r *cmdb.PollResult) {
			if len(r.Alerts) != 1 || r.Alerts[0] != (cmdb.Alert{Index: 7, Severity: "critical", Group: "77", Code: "4242"}) {
				t.Errorf("Alerts = %+v", r.Alerts)
			}
		}},
		{"missing values are skipped", []gosnmp.SnmpPDU{{Name: "." + oidSysDescr, Type: gosnmp.NoSuchObject},
			{Name: "." + lifeCount, Type: gosnmp.NoSuchInstance}, {Name: "." + serial, Type: gosnmp.EndOfMibView}}, func(t *testing.T, r *cmdb.PollResult) {
			if r.SysDescr != "" || r.PageCount != nil || r.Serial != "" {
				t.Errorf("result = %+v, want empty", r)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, Decode(tc.pdus))
			DefaultCatalog().Result(tc.pdus) // classification must survive it too
		})
	}
}

func TestDecodeEntity(t *testing.T) {
	const ent = "1.3.6.1.2.1.47.1.1.1.1"
	pdus := []gosnmp.SnmpPDU{
		pInt(ent+".5.1", 10), pStr(ent+".11.1", "PORT-SERIAL"), pStr(ent+".13.1", "SFP-10G"),
		pInt(ent+".5.1001", 3), pStr(ent+".11.1001", "FOC1234X0AB"), pStr(ent+".13.1001", "WS-C2960X-24PS-L"),
	}
	r := Decode(pdus)
	if r.Serial != "FOC1234X0AB" || r.Model != "WS-C2960X-24PS-L" {
		t.Errorf("serial, model = %q, %q; want the chassis's", r.Serial, r.Model)
	}
	// The Printer-MIB serial and the printer's hrDeviceDescr win over ENTITY-MIB.
	pdus = append(pdus, pStr("1.3.6.1.2.1.43.5.1.1.17.1", "PRT-1"), pOID("1.3.6.1.2.1.25.3.2.1.2.1", oidHrDevicePrinter),
		pStr("1.3.6.1.2.1.25.3.2.1.3.1", "Brother HL-L5100DN"))
	r = Decode(pdus)
	if r.Serial != "PRT-1" || r.Model != "Brother HL-L5100DN" {
		t.Errorf("serial, model = %q, %q; want the printer's", r.Serial, r.Model)
	}
}

// TestDecodeSampleDevices decodes the shared recordings without a
// network and compares with expected.json.
func TestDecodeSampleDevices(t *testing.T) {
	dir := snmptest.DataDir(t)
	for name, want := range snmptest.LoadExpected(t, dir) {
		t.Run(name, func(t *testing.T) {
			pdus := snmptest.LoadSnmprec(t, filepath.Join(dir, name+".snmprec"))
			r := DefaultCatalog().Result(pdus)
			for _, d := range snmptest.Mismatches(r, want) {
				t.Error(d)
			}
		})
	}
}

func TestDecodeCanonDetails(t *testing.T) {
	pdus := snmptest.LoadSnmprec(t, filepath.Join(snmptest.DataDir(t), "canon-c5535.snmprec"))
	r := DefaultCatalog().Result(pdus)
	if r.Class != cmdb.ClassMFP {
		t.Errorf("class = %q, want mfp: an imageRUNNER ADVANCE is a copier", r.Class)
	}
	if r.Status != "printing" || r.UptimeSecs != 880000 || r.SysName != "iR-ADV-Verwaltung" ||
		r.SysObjectID != "1.3.6.1.4.1.1602.4.7" || r.SysLocation != "Gesamtschule Ost, Verwaltung" {
		t.Errorf("system/status = %+v", r)
	}
	var colorants []string
	for _, s := range r.Supplies {
		colorants = append(colorants, s.Colorant)
		if s.Type != "toner" || s.Unit != "impressions" || s.Max != -2 {
			t.Errorf("supply %+v", s)
		}
	}
	if !slices.Equal(colorants, []string{"black", "cyan", "magenta", "yellow"}) {
		t.Errorf("colorants = %v", colorants)
	}
	want := []cmdb.Alert{{Index: 1, Severity: "critical", Group: "markerSupplies", Code: "markerTonerAlmostEmpty",
		Description: "Magenta toner is empty"}}
	if !slices.Equal(r.Alerts, want) {
		t.Errorf("alerts = %+v, want %+v", r.Alerts, want)
	}
}
