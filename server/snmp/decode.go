package snmp

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/gosnmp/gosnmp"
	"github.com/schulit/cmdb/server/cmdb"
)

// Limits on what one device may put into a result.
const (
	maxSupplies = 64
	maxAlerts   = 64
)

// Decode turns the PDUs of one poll into what they say about the device:
// the SNMPv2-MIB system group, the MAC of its real interface (IF-MIB),
// model, serial, page counter, supplies, printer status, error bits and
// alerts (Host-Resources-MIB, Printer-MIB, ENTITY-MIB). Vendor and class
// are left to Catalog.Classify; Target, Reachable and PolledAt to the
// caller. Values of the wrong type, truncated or out of range are
// skipped: Decode never panics and never invents a number.
func Decode(pdus []gosnmp.SnmpPDU) *cmdb.PollResult {
	ix := newPDUIndex(pdus)
	r := &cmdb.PollResult{}
	decodeSystem(ix, r)
	r.MAC = decodeMAC(ix)
	decodeHostResources(ix, r)
	decodePrinter(ix, r)
	decodeEntity(ix, r)
	return r
}

func decodeSystem(ix *pduIndex, r *cmdb.PollResult) {
	str := func(oid string) string {
		if p, ok := ix.get(oid); ok {
			s, _ := pduString(p)
			return s
		}
		return ""
	}
	r.SysDescr = str(oidSysDescr)
	r.SysName = str(oidSysName)
	r.SysLocation = str(oidSysLocation)
	if p, ok := ix.get(oidSysObjectID); ok && p.Type == gosnmp.ObjectIdentifier {
		r.SysObjectID, _ = pduString(p)
	}
	if p, ok := ix.get(oidSysUpTime); ok && p.Type == gosnmp.TimeTicks {
		if t, ok := pduInt(p); ok && t >= 0 {
			r.UptimeSecs = t / 100
		}
	}
}

// Interface types (IANAifType) of a device's own network port, best
// first: wired Ethernet in its spellings, then Wi-Fi.
var realIfTypes = []int64{6, 7, 62, 69, 117, 71}

// Interface types that are never a device's own port: loopback, virtual,
// tunnels, VLANs, bridges, PPP and the like.
var virtualIfTypes = map[int64]bool{24: true, 53: true, 131: true, 135: true, 136: true, 209: true,
	23: true, 108: true, 150: true, 161: true, 166: true}

// decodeMAC returns the MAC of the device's real interface: the lowest
// ifIndex of the best real interface type with a usable address; failing
// that, of an interface of unknown type that is not virtual. Empty,
// all-zero, broadcast and multicast addresses are skipped.
func decodeMAC(ix *pduIndex) string {
	types := map[int]int64{}
	for _, c := range ix.column(oidIfType) {
		if t, ok := pduInt(c.pdu); ok && len(c.index) == 1 {
			types[c.index[0]] = t
		}
	}
	macs := map[int]string{}
	var order []int
	for _, c := range ix.column(oidIfPhysAddress) {
		if len(c.index) != 1 {
			continue
		}
		if m, ok := macOf(c.pdu); ok {
			macs[c.index[0]] = m
			order = append(order, c.index[0])
		}
	}
	for _, want := range realIfTypes {
		for _, i := range order {
			if t, ok := types[i]; ok && t == want {
				return macs[i]
			}
		}
	}
	for _, i := range order {
		if t, ok := types[i]; !ok || !virtualIfTypes[t] && !slices.Contains(realIfTypes, t) {
			return macs[i]
		}
	}
	return ""
}

// macOf reads ifPhysAddress: six raw octets, or (from some agents) the
// address as text.
func macOf(p gosnmp.SnmpPDU) (string, bool) {
	b, ok := pduBytes(p)
	if !ok {
		return "", false
	}
	var m string
	if len(b) == 6 {
		m = fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
	} else if len(b) >= 12 && len(b) <= 17 {
		if m, ok = cmdb.NormalizeMAC(string(b)); !ok {
			return "", false
		}
	} else {
		return "", false
	}
	return m, !cmdb.JunkMAC(m)
}

// decodeHostResources reads the printer device of hrDeviceTable (its
// description is the model when nothing better is known) and
// hrPrinterTable (status and error bits) of the lowest printer index.
func decodeHostResources(ix *pduIndex, r *cmdb.PollResult) {
	descr := map[int]string{}
	for _, c := range ix.column(oidHrDeviceDescr) {
		if s, ok := pduString(c.pdu); ok && s != "" && len(c.index) == 1 {
			descr[c.index[0]] = s
		}
	}
	// The printer device: hrDeviceType says so, or it has a row in
	// hrPrinterTable (some agents leave hrDeviceType out).
	printers := map[int]bool{}
	for _, c := range ix.column(oidHrDeviceType) {
		if t, ok := pduString(c.pdu); ok && t == oidHrDevicePrinter && len(c.index) == 1 {
			printers[c.index[0]] = true
		}
	}
	status := ix.column(oidHrPrinterStat)
	for _, c := range status {
		if len(c.index) == 1 {
			printers[c.index[0]] = true
		}
	}
	for _, i := range slices.Sorted(maps.Keys(printers)) {
		if descr[i] != "" {
			r.Model = descr[i]
			break
		}
	}
	for _, c := range status {
		if v, ok := pduInt(c.pdu); ok {
			if name, known := printerStatus[v]; known {
				r.Status = name
			} else {
				r.Status = "unknown"
			}
			break
		}
	}
	for _, c := range ix.column(oidHrPrinterError) {
		if b, ok := pduBytes(c.pdu); ok {
			r.Errors = DecodeErrorState(b)
			break
		}
	}
}

// DecodeErrorState names the bits set in an hrPrinterDetectedErrorState
// value (RFC 3805): bit 0 (lowPaper) is the most significant bit of the
// first octet, bit 14 (overduePreventMaint) the second-lowest of the
// second. A one-octet value is valid and carries bits 0–7; bits past 14
// and octets past the second are not defined and are ignored. It returns
// nil when no bit is set.
func DecodeErrorState(b []byte) []string {
	var names []string
	for bit, name := range errorStateBits {
		octet := bit / 8
		if octet >= len(b) {
			break
		}
		if b[octet]&(0x80>>(bit%8)) != 0 {
			names = append(names, name)
		}
	}
	return names
}

// key is a two-arc table index such as (hrDeviceIndex, supplyIndex).
type key struct{ dev, idx int }

func keyOf(index []int) (key, bool) {
	if len(index) != 2 {
		return key{}, false
	}
	return key{index[0], index[1]}, true
}

func sortedKeys[V any](m map[key]V) []key {
	keys := make([]key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.dev != b.dev {
			return a.dev - b.dev
		}
		return a.idx - b.idx
	})
	return keys
}

// decodePrinter reads the Printer-MIB: serial, the life count of the
// first marker, the supplies joined with their colorants, and alerts.
func decodePrinter(ix *pduIndex, r *cmdb.PollResult) {
	for _, c := range ix.column(oidPrtGeneralSerialNumber) {
		if s, ok := pduString(c.pdu); ok && s != "" {
			r.Serial = s
			break
		}
	}
	for _, c := range ix.column(oidPrtMarkerLifeCount) {
		// Counter32 cannot be negative; an Integer that is would be a lie.
		if n, ok := pduInt(c.pdu); ok && n >= 0 && len(c.index) == 2 {
			r.PageCount = &n
			break
		}
	}
	r.Supplies = decodeSupplies(ix)
	r.Alerts = decodeAlerts(ix)
}

func decodeSupplies(ix *pduIndex) []cmdb.Supply {
	cells := map[key]map[int]gosnmp.SnmpPDU{}
	for _, c := range ix.column(oidPrtMarkerSupplies) {
		if len(c.index) != 3 || c.index[0] < colSupplyColorant || c.index[0] > colSupplyLevel {
			continue
		}
		k := key{c.index[1], c.index[2]}
		if cells[k] == nil {
			if len(cells) >= maxSupplies {
				continue
			}
			cells[k] = map[int]gosnmp.SnmpPDU{}
		}
		cells[k][c.index[0]] = c.pdu
	}
	colorants := map[key]string{}
	for _, c := range ix.column(oidPrtMarkerColorantValue) {
		if k, ok := keyOf(c.index); ok {
			if s, ok := pduString(c.pdu); ok && s != "" {
				colorants[k] = s
			}
		}
	}
	var out []cmdb.Supply
	for _, k := range sortedKeys(cells) {
		row := cells[k]
		s := cmdb.Supply{Index: k.idx}
		if p, ok := row[colSupplyDescr]; ok {
			s.Description, _ = pduString(p)
		}
		if p, ok := row[colSupplyType]; ok {
			if v, ok := pduInt(p); ok {
				s.Type = enumName(supplyTypes, v)
			}
		}
		unit := int64(0)
		if p, ok := row[colSupplyUnit]; ok {
			if v, ok := pduInt(p); ok {
				unit = v
				s.Unit = enumName(supplyUnits, v)
			}
		}
		if p, ok := row[colSupplyColorant]; ok {
			if v, ok := pduInt(p); ok && v > 0 && v <= math.MaxInt32 {
				s.Colorant = colorants[key{k.dev, int(v)}]
			}
		}
		level, levelOK := int64(0), false
		if p, ok := row[colSupplyLevel]; ok {
			level, levelOK = pduInt(p)
		}
		maxCap, maxOK := int64(0), false
		if p, ok := row[colSupplyMax]; ok {
			maxCap, maxOK = pduInt(p)
		}
		s.Level, s.Max = clampInt(level), clampInt(maxCap)
		if !levelOK {
			s.State = cmdb.SupplyUnknown
		} else {
			if !maxOK {
				maxCap = -2 // unknown
			}
			s.State, s.Percent = SupplyLevel(level, maxCap, unit)
		}
		out = append(out, s)
	}
	return out
}

// SupplyLevel reads a prtMarkerSuppliesLevel exactly as RFC 3805 defines
// it. The special levels -1 (other), -2 (unknown), -3 (some remaining)
// and 0 (empty) are returned as their State with no percentage. A
// positive level is State "ok"; its percentage is the level itself when
// the unit is percent(19), else level / max × 100 when max is positive.
// A max of -1, -2 or 0 means no percentage can be computed, and a level
// above max (or above 100 %) is not turned into one either: percent is
// nil rather than a wrong number. Other negative levels are "unknown".
// Percentages are rounded to one decimal.
func SupplyLevel(level, maxCapacity, unit int64) (state string, percent *float64) {
	switch {
	case level == -1:
		return cmdb.SupplyOther, nil
	case level == -2:
		return cmdb.SupplyUnknown, nil
	case level == -3:
		return cmdb.SupplySomeRemaining, nil
	case level == 0:
		return cmdb.SupplyEmpty, nil
	case level < 0:
		return cmdb.SupplyUnknown, nil
	}
	var p float64
	switch {
	case unit == unitPercent:
		if level > 100 {
			return cmdb.SupplyOK, nil
		}
		p = float64(level)
	case maxCapacity > 0:
		if level > maxCapacity {
			return cmdb.SupplyOK, nil
		}
		p = math.Round(float64(level)/float64(maxCapacity)*1000) / 10
	default:
		return cmdb.SupplyOK, nil
	}
	return cmdb.SupplyOK, &p
}

func clampInt(v int64) int {
	switch {
	case v > math.MaxInt32:
		return math.MaxInt32
	case v < math.MinInt32:
		return math.MinInt32
	}
	return int(v)
}

func decodeAlerts(ix *pduIndex) []cmdb.Alert {
	cells := map[key]map[int]gosnmp.SnmpPDU{}
	for _, c := range ix.column(oidPrtAlert) {
		if len(c.index) != 3 {
			continue
		}
		switch c.index[0] {
		case colAlertSeverity, colAlertGroup, colAlertCode, colAlertDescr:
		default:
			continue
		}
		k := key{c.index[1], c.index[2]}
		if cells[k] == nil {
			if len(cells) >= maxAlerts {
				continue
			}
			cells[k] = map[int]gosnmp.SnmpPDU{}
		}
		cells[k][c.index[0]] = c.pdu
	}
	var out []cmdb.Alert
	for _, k := range sortedKeys(cells) {
		row := cells[k]
		a := cmdb.Alert{Index: k.idx, Severity: "unknown"}
		if v, ok := pduInt(row[colAlertSeverity]); ok {
			a.Severity = enumName(alertSeverities, v)
		}
		if v, ok := pduInt(row[colAlertGroup]); ok {
			a.Group = enumName(alertGroups, v)
		}
		if v, ok := pduInt(row[colAlertCode]); ok {
			a.Code = enumName(alertCodes, v)
		}
		if p, ok := row[colAlertDescr]; ok {
			a.Description, _ = pduString(p)
		}
		out = append(out, a)
	}
	return out
}

// decodeEntity fills serial and model from ENTITY-MIB where the printer
// MIBs did not: the chassis (entPhysicalClass 3) first, else the first
// entity that has one.
func decodeEntity(ix *pduIndex, r *cmdb.PollResult) {
	chassis := map[int]bool{}
	for _, c := range ix.column(oidEntPhysicalClass) {
		if v, ok := pduInt(c.pdu); ok && v == 3 && len(c.index) == 1 {
			chassis[c.index[0]] = true
		}
	}
	pick := func(col string) string {
		var first string
		for _, c := range ix.column(col) {
			s, ok := pduString(c.pdu)
			if !ok || s == "" || len(c.index) != 1 {
				continue
			}
			if chassis[c.index[0]] {
				return s
			}
			if first == "" {
				first = s
			}
		}
		return first
	}
	if r.Serial == "" {
		r.Serial = pick(oidEntPhysicalSerialNum)
	}
	if r.Model == "" {
		r.Model = pick(oidEntPhysicalModelName)
	}
}
