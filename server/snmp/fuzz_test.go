package snmp

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/snmp/snmptest"
)

// The fuzz input is a list of PDUs, each encoded as:
//
//	kind   1 byte  value type, and whether the Go value is of the wrong type
//	oid    1 byte  a column or scalar the decoder reads (fuzzOIDBases), or
//	               0xff followed by a length byte and the OID as text
//	arcs   1 byte  number of index arcs (0–3), then one byte per arc
//	value  1 byte  length (0–63), then the value bytes
//
// so that the fuzzer mostly produces PDUs the decoder looks at.
var fuzzOIDBases = []string{
	oidSysDescr, oidSysObjectID, oidSysUpTime, oidSysName, oidSysLocation,
	oidIfType, oidIfPhysAddress, oidHrDeviceType, oidHrDeviceDescr, oidHrPrinterStat, oidHrPrinterError,
	oidPrtGeneralSerialNumber, oidPrtMarkerLifeCount,
	oidPrtMarkerSupplies + ".3", oidPrtMarkerSupplies + ".5", oidPrtMarkerSupplies + ".6",
	oidPrtMarkerSupplies + ".7", oidPrtMarkerSupplies + ".8", oidPrtMarkerSupplies + ".9",
	oidPrtMarkerColorantValue, oidPrtAlert + ".2", oidPrtAlert + ".4", oidPrtAlert + ".7", oidPrtAlert + ".8",
	oidEntPhysicalClass, oidEntPhysicalSerialNum, oidEntPhysicalModelName, oidPrinterMIB,
}

var fuzzTypes = []gosnmp.Asn1BER{gosnmp.Integer, gosnmp.OctetString, gosnmp.ObjectIdentifier, gosnmp.Counter32,
	gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Counter64, gosnmp.NoSuchObject, gosnmp.EndOfMibView, gosnmp.Null,
	gosnmp.IPAddress, gosnmp.Opaque}

// decodeFuzzPDUs turns fuzz bytes into PDUs; it never fails, it stops at
// the first incomplete record.
func decodeFuzzPDUs(data []byte) []gosnmp.SnmpPDU {
	var pdus []gosnmp.SnmpPDU
	next := func(n int) ([]byte, bool) {
		if n > len(data) {
			return nil, false
		}
		b := data[:n]
		data = data[n:]
		return b, true
	}
	for len(pdus) < 2000 {
		h, ok := next(2)
		if !ok {
			break
		}
		kind, base := h[0], h[1]
		var oid string
		if base == 0xff {
			l, ok := next(1)
			if !ok {
				break
			}
			b, ok := next(int(l[0]))
			if !ok {
				break
			}
			oid = string(b)
		} else {
			oid = fuzzOIDBases[int(base)%len(fuzzOIDBases)]
		}
		n, ok := next(1)
		if !ok {
			break
		}
		arcs, ok := next(int(n[0]) % 4)
		if !ok {
			break
		}
		for _, a := range arcs {
			oid += "." + strconv.Itoa(int(a))
		}
		l, ok := next(1)
		if !ok {
			break
		}
		val, ok := next(int(l[0]) % 64)
		if !ok {
			break
		}
		typ := fuzzTypes[int(kind&0x7f)%len(fuzzTypes)]
		wrong := kind&0x80 != 0
		pdus = append(pdus, gosnmp.SnmpPDU{Name: "." + oid, Type: typ, Value: fuzzValue(typ, val, wrong)})
	}
	return pdus
}

func fuzzValue(typ gosnmp.Asn1BER, b []byte, wrong bool) any {
	var n uint64
	for i := 0; i < len(b) && i < 8; i++ {
		n = n<<8 | uint64(b[i])
	}
	if wrong { // a Go type that does not fit the SNMP type
		switch typ {
		case gosnmp.OctetString, gosnmp.ObjectIdentifier:
			return int(int64(n))
		default:
			return b
		}
	}
	switch typ {
	case gosnmp.Integer:
		// Sign-extend the value's own width, as BER integers are.
		if len(b) > 0 && len(b) < 8 && b[0]&0x80 != 0 {
			n |= ^uint64(0) << (8 * len(b))
		}
		return int(int64(n))
	case gosnmp.OctetString, gosnmp.Opaque:
		return b
	case gosnmp.ObjectIdentifier:
		// Arcs in base 128, high bit set on all but an arc's last byte,
		// as BER encodes them.
		var parts []string
		var arc uint64
		for _, c := range b {
			arc = arc<<7 | uint64(c&0x7f)
			if c&0x80 == 0 {
				parts = append(parts, strconv.FormatUint(arc, 10))
				arc = 0
			}
		}
		return "." + strings.Join(parts, ".")
	case gosnmp.IPAddress:
		return string(b)
	case gosnmp.Counter32, gosnmp.Gauge32:
		return uint(uint32(n))
	case gosnmp.TimeTicks:
		return uint32(n)
	case gosnmp.Counter64:
		return n
	}
	return nil
}

// encodeFuzzPDUs is the inverse for seeds: OIDs as text, values of their
// own type.
func encodeFuzzPDUs(pdus []gosnmp.SnmpPDU) []byte {
	var out []byte
	for _, p := range pdus {
		kind := slices.Index(fuzzTypes, p.Type)
		if kind < 0 {
			continue
		}
		var val []byte
		switch v := p.Value.(type) {
		case []byte:
			val = v
		case string:
			if p.Type == gosnmp.ObjectIdentifier {
				for _, a := range strings.Split(strings.TrimPrefix(v, "."), ".") {
					n, _ := strconv.ParseUint(a, 10, 32)
					var groups []byte
					for groups = []byte{byte(n & 0x7f)}; n > 0x7f; {
						n >>= 7
						groups = append([]byte{byte(n&0x7f) | 0x80}, groups...)
					}
					val = append(val, groups...)
				}
			} else {
				val = []byte(v)
			}
		case int:
			val = binary.BigEndian.AppendUint64(nil, uint64(v))
		case uint:
			val = binary.BigEndian.AppendUint32(nil, uint32(v))
		case uint32:
			val = binary.BigEndian.AppendUint32(nil, v)
		case uint64:
			val = binary.BigEndian.AppendUint64(nil, v)
		}
		oid := strings.TrimPrefix(p.Name, ".")
		if len(oid) > 255 || len(val) > 63 {
			continue
		}
		out = append(out, byte(kind), 0xff, byte(len(oid)))
		out = append(out, oid...)
		out = append(out, 0, byte(len(val)))
		out = append(out, val...)
	}
	return out
}

// FuzzDecode checks that no PDU list, however broken, makes decoding and
// classification panic, and that what comes out is always a valid
// observation with honest supply numbers.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add(encodeFuzzPDUs(slices.Concat(
		supplyRow("1", "Black Toner", 3, 19, 100, 81),
		supplyRow("2", "Drum", 9, 7, -2, -3),
		[]gosnmp.SnmpPDU{pBytes(oidHrPrinterError+".1", 0x08), pCounter(oidPrtMarkerLifeCount+".1.1", 42),
			pBytes(oidIfPhysAddress+".2", 0, 0x1e, 0x8f, 1, 2, 3), pInt(oidIfType+".2", 6),
			pOID(oidSysObjectID, "1.3.6.1.4.1.1602.4.7"), pStr(oidSysDescr, "Canon iR-ADV C5535")})))
	// Mostly selector-encoded records: a supply level, a MAC, an error state.
	f.Add([]byte{0, 18, 2, 1, 1, 1, 0xfd, 1, 6, 1, 2, 6, 0, 0x1e, 0x8f, 1, 2, 3, 1, 10, 1, 1, 2, 0xff, 0xfe})
	// The shared sample devices, when they are there.
	if dir, err := sampleDir(); err == nil {
		files, _ := filepath.Glob(filepath.Join(dir, "*.snmprec"))
		for _, file := range files {
			data, _ := os.ReadFile(file)
			if pdus, err := snmptest.ParseSnmprec(data); err == nil {
				f.Add(encodeFuzzPDUs(pdus))
			}
		}
	}
	cat := DefaultCatalog()
	f.Fuzz(func(t *testing.T, data []byte) {
		pdus := decodeFuzzPDUs(data)
		r := cat.Result(pdus)
		for _, s := range r.Supplies {
			if !slices.Contains([]string{cmdb.SupplyOK, cmdb.SupplyOther, cmdb.SupplyUnknown, cmdb.SupplySomeRemaining, cmdb.SupplyEmpty}, s.State) {
				t.Fatalf("supply state %q", s.State)
			}
			if s.Percent != nil && (s.State != cmdb.SupplyOK || *s.Percent < 0 || *s.Percent > 100) {
				t.Fatalf("supply %+v has percent %v", s, *s.Percent)
			}
		}
		for _, e := range r.Errors {
			if !slices.Contains(errorStateBits[:], e) {
				t.Fatalf("error bit %q", e)
			}
		}
		if r.PageCount != nil && *r.PageCount < 0 {
			t.Fatalf("page count %d", *r.PageCount)
		}
		if !slices.Contains(cmdb.Classes, r.Class) {
			t.Fatalf("class %q", r.Class)
		}
		r.Reachable = true
		for k, v := range Metrics(r) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("metric %s = %v", k, v)
			}
		}
		o := Observation(r, 1, 0)
		if err := o.Validate(); err != nil {
			t.Fatalf("observation does not validate: %v\nresult: %+v", err, r)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatal(err)
		}
	})
}

// sampleDir finds shared/testdata/snmp without failing a test.
func sampleDir() (string, error) {
	if d := os.Getenv("CMDB_SNMP_TESTDATA"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		for _, cand := range []string{filepath.Join(d, "testdata", "snmp"), filepath.Join(d, "shared", "testdata", "snmp")} {
			if _, err := os.Stat(filepath.Join(cand, "expected.json")); err == nil {
				return cand, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", os.ErrNotExist
		}
	}
}

// TestFuzzEncoding checks that the seeds mean what they say: a sample
// device encoded and decoded again is understood the same way.
func TestFuzzEncoding(t *testing.T) {
	pdus := sample(t, "canon-c5535")
	want, _ := json.Marshal(DefaultCatalog().Result(pdus))
	got, _ := json.Marshal(DefaultCatalog().Result(decodeFuzzPDUs(encodeFuzzPDUs(pdus))))
	if string(got) != string(want) {
		t.Errorf("round trip changed the result:\n got %s\nwant %s", got, want)
	}
}
