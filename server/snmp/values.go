package snmp

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gosnmp/gosnmp"
)

// maxText bounds every string taken from a device: descriptions and
// serials are short, and a device that sends a megabyte gets it cut.
const maxText = 255

// pduIndex holds a poll's PDUs by OID (no leading dot). Values that say
// "nothing here" (noSuchObject, noSuchInstance, endOfMibView, NULL) are
// dropped, so a lookup either finds a value or nothing.
type pduIndex struct {
	byOID map[string]gosnmp.SnmpPDU
	oids  []string // sorted by arcs
}

func newPDUIndex(pdus []gosnmp.SnmpPDU) *pduIndex {
	ix := &pduIndex{byOID: make(map[string]gosnmp.SnmpPDU, len(pdus))}
	for _, p := range pdus {
		switch p.Type {
		case gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView, gosnmp.Null:
			continue
		}
		oid := strings.TrimPrefix(p.Name, ".")
		if oid == "" {
			continue
		}
		if _, dup := ix.byOID[oid]; !dup {
			ix.oids = append(ix.oids, oid)
		}
		ix.byOID[oid] = p
	}
	slices.SortFunc(ix.oids, compareOID)
	return ix
}

// get returns the PDU of one OID.
func (ix *pduIndex) get(oid string) (gosnmp.SnmpPDU, bool) {
	p, ok := ix.byOID[oid]
	return p, ok
}

// row is one table cell: the index arcs after the column OID and the PDU.
type row struct {
	index []int
	pdu   gosnmp.SnmpPDU
}

// column returns the cells under a column OID in index order. Cells whose
// index is not made of small non-negative numbers are skipped.
func (ix *pduIndex) column(col string) []row {
	prefix := col + "."
	var rows []row
	for _, oid := range ix.oids {
		rest, ok := strings.CutPrefix(oid, prefix)
		if !ok {
			continue
		}
		idx, ok := parseArcs(rest)
		if !ok {
			continue
		}
		rows = append(rows, row{index: idx, pdu: ix.byOID[oid]})
	}
	return rows
}

// under reports whether any value was read under an OID subtree.
func (ix *pduIndex) under(prefix string) bool {
	prefix = strings.TrimPrefix(prefix, ".")
	for _, oid := range ix.oids {
		if oid == prefix || strings.HasPrefix(oid, prefix+".") {
			return true
		}
	}
	return false
}

// parseArcs parses "1.2.3" into arcs; each arc must fit an int32.
func parseArcs(s string) ([]int, bool) {
	if s == "" {
		return nil, false
	}
	parts := strings.Split(s, ".")
	arcs := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 31)
		if err != nil {
			return nil, false
		}
		arcs[i] = int(n)
	}
	return arcs, true
}

// compareOID orders OIDs arc by arc numerically; malformed arcs compare
// as text after well-formed ones.
func compareOID(a, b string) int {
	// Arcs that are the same text compare equal: skip to the arc in
	// which the two first differ (OIDs of one walk share long prefixes).
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) && i == len(b) {
		return 0
	}
	j := strings.LastIndexByte(a[:i], '.') + 1
	a, b = a[j:], b[j:]
	for a != "" && b != "" {
		var ea, eb string
		ea, a, _ = strings.Cut(a, ".")
		eb, b, _ = strings.Cut(b, ".")
		na, erra := strconv.ParseUint(ea, 10, 64)
		nb, errb := strconv.ParseUint(eb, 10, 64)
		switch {
		case erra == nil && errb == nil:
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
		case erra == nil:
			return -1
		case errb == nil:
			return 1
		default:
			if c := strings.Compare(ea, eb); c != 0 {
				return c
			}
		}
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

// pduInt returns an integer value of any integer-like SNMP type.
// Anything else (strings, OIDs, values beyond int64) is not an int.
func pduInt(p gosnmp.SnmpPDU) (int64, bool) {
	switch p.Type {
	case gosnmp.Integer, gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Counter64, gosnmp.Uinteger32:
	default:
		return 0, false
	}
	switch v := p.Value.(type) {
	case int:
		return int64(v), true
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case uint:
		return uintToInt(uint64(v))
	case uint8:
		return int64(v), true
	case uint16:
		return int64(v), true
	case uint32:
		return int64(v), true
	case uint64:
		return uintToInt(v)
	}
	return 0, false
}

func uintToInt(v uint64) (int64, bool) {
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// pduBytes returns the raw bytes of an OCTET STRING.
func pduBytes(p gosnmp.SnmpPDU) ([]byte, bool) {
	if p.Type != gosnmp.OctetString && p.Type != gosnmp.Opaque {
		return nil, false
	}
	switch v := p.Value.(type) {
	case []byte:
		return v, true
	case string:
		return []byte(v), true
	}
	return nil, false
}

// pduString returns an OCTET STRING as clean text (see cleanText) or an
// OBJECT IDENTIFIER without its leading dot.
func pduString(p gosnmp.SnmpPDU) (string, bool) {
	if p.Type == gosnmp.ObjectIdentifier {
		s, ok := p.Value.(string)
		if !ok {
			return "", false
		}
		s = strings.TrimPrefix(s, ".")
		if _, ok := parseArcs(s); !ok {
			return "", false
		}
		return s, true
	}
	b, ok := pduBytes(p)
	if !ok {
		return "", false
	}
	return cleanText(b), true
}

// cleanText makes device text safe to store and show: Latin-1 bytes that
// are not UTF-8 are read as Latin-1 (printers often send it), NULs and
// other control characters become spaces, runs of space collapse, and the
// result is trimmed and cut to maxText runes.
func cleanText(b []byte) string {
	var s string
	if utf8.Valid(b) {
		s = string(b)
	} else {
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		s = string(r)
	}
	var out strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == utf8.RuneError {
			space = true
			continue
		}
		if space && out.Len() > 0 {
			out.WriteByte(' ')
			n++
		}
		space = false
		if n >= maxText {
			break
		}
		out.WriteRune(r)
		n++
	}
	return out.String()
}

// enterprise returns the private enterprise number of a sysObjectID
// (1.3.6.1.4.1.<n>…), or 0.
func enterprise(sysObjectID string) int {
	rest, ok := strings.CutPrefix(strings.TrimPrefix(sysObjectID, "."), oidEnterprises+".")
	if !ok {
		return 0
	}
	first, _, _ := strings.Cut(rest, ".")
	n, err := strconv.ParseUint(first, 10, 31)
	if err != nil {
		return 0
	}
	return int(n)
}
