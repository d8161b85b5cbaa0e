package snmp

import (
	"slices"

	"github.com/gosnmp/gosnmp"
	"github.com/schulit/cmdb/server/cmdb"
)

// ethernetIfTypes are the IANAifTypes counted as Ethernet ports.
var ethernetIfTypes = []int64{6, 7, 62, 69, 117}

// Result decodes the PDUs of one poll and classifies the device: Decode
// followed by Classify. It is pure and never panics.
func (c *Catalog) Result(pdus []gosnmp.SnmpPDU) *cmdb.PollResult {
	r := Decode(pdus)
	c.Classify(r, pdus)
	return r
}

// Classify sets r.Vendor (see Vendor) and r.Class: the class of the first
// class rule that holds for the device, "other" when none does. The PDUs
// are those r was decoded from; rules look at which MIBs answered.
func (c *Catalog) Classify(r *cmdb.PollResult, pdus []gosnmp.SnmpPDU) {
	ix := newPDUIndex(pdus)
	f := facts{
		enterprise: enterprise(r.SysObjectID),
		ix:         ix,
		printer:    ix.under(oidPrinterMIB) || ix.under(oidHrPrinterStat),
		ifTypes:    map[int64]int{},
	}
	f.texts = append(f.texts, r.SysDescr, r.Model)
	for _, c := range ix.column(oidHrDeviceType) {
		if t, ok := pduString(c.pdu); ok && t == oidHrDevicePrinter {
			f.printer = true
		}
	}
	for _, c := range ix.column(oidHrDeviceDescr) {
		if s, ok := pduString(c.pdu); ok && s != "" {
			f.texts = append(f.texts, s)
		}
	}
	for _, c := range ix.column(oidIfType) {
		if t, ok := pduInt(c.pdu); ok {
			f.ifTypes[t]++
		}
	}
	r.Vendor = c.Vendor(r.SysObjectID, r.SysDescr, r.Model)
	r.Class = cmdb.ClassOther
	for i := range c.ClassRules {
		if c.ClassRules[i].holds(&f) {
			r.Class = c.ClassRules[i].Class
			return
		}
	}
}

// facts are what class rules look at.
type facts struct {
	enterprise int
	texts      []string
	printer    bool
	ifTypes    map[int64]int
	ix         *pduIndex
}

func (r *ClassRule) holds(f *facts) bool {
	if r.Printer != nil && *r.Printer != f.printer {
		return false
	}
	if len(r.Enterprises) > 0 && !slices.Contains(r.Enterprises, f.enterprise) {
		return false
	}
	if len(r.res) > 0 && !r.textMatches(f.texts) {
		return false
	}
	if len(r.oids) > 0 && !slices.ContainsFunc(r.oids, f.ix.under) {
		return false
	}
	if len(r.IfTypes) > 0 && !slices.ContainsFunc(r.IfTypes, func(t int) bool { return f.ifTypes[int64(t)] > 0 }) {
		return false
	}
	if r.MinEthernetPorts > 0 {
		n := 0
		for _, t := range ethernetIfTypes {
			n += f.ifTypes[t]
		}
		if n < r.MinEthernetPorts {
			return false
		}
	}
	return true
}

func (r *ClassRule) textMatches(texts []string) bool {
	for _, re := range r.res {
		for _, t := range texts {
			if t != "" && re.MatchString(t) {
				return true
			}
		}
	}
	return false
}
