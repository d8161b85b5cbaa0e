package snmp

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/schulit/cmdb/server/cmdb"
)

// maxObservedSupplies keeps an observation under cmdb.MaxAttrs: each
// supply takes up to four attributes.
const maxObservedSupplies = 40

// genericSysNames are sysName values that name no device.
var genericSysNames = map[string]bool{"": true, "localhost": true, "unknown": true, "none": true, "default": true}

// Observation turns a poll result into what the SNMP source says about
// the device, for reconcile. Identity: the serial (unless it is junk by
// cmdb's built-in rules; the store's junk list is applied by reconcile)
// and the MAC of the device's real interface; sysName as a hostname
// unless it is generic. Vendor, model and class as understood. Metrics
// go into attributes of the metrics group:
//
//	counter.pages              page counter (prtMarkerLifeCount)
//	supply.<n>.name            supply description
//	supply.<n>.type            toner, drum (opc), fuser, …
//	supply.<n>.colorant        black, cyan, …
//	supply.<n>.level           percent ("81", "63.5") when known, else the
//	                           RFC 3805 state (some-remaining, empty,
//	                           unknown, other), else the raw level and unit
//	printer.status             idle, printing, warmup, other, unknown
//	printer.errors             error bits, comma-separated, or "none"
//	printer.alerts             number of alerts in prtAlertTable
//
// plus snmp.sys_object_id, snmp.sys_descr and snmp.sys_location. An
// unreachable result gives an observation with no identity, which
// reconcile rejects; callers skip those.
func Observation(r *cmdb.PollResult, authorityID, schoolID int64) cmdb.Observation {
	o := cmdb.Observation{
		Source:      cmdb.SourceSNMP,
		AuthorityID: authorityID,
		SchoolID:    schoolID,
		Class:       r.Class,
		Vendor:      cut(r.Vendor, cmdb.MaxNameLen),
		ObservedAt:  r.PolledAt,
		Attributes:  map[string]string{},
	}
	if o.Class != "" && !slices.Contains(cmdb.Classes, o.Class) {
		o.Class = cmdb.ClassOther
	}
	if s := cut(strings.TrimSpace(r.Serial), cmdb.MaxNameLen); !(&cmdb.Junk{}).JunkSerial(cmdb.NormalizeSerial(s)) {
		o.Serial = s
	}
	if m, ok := cmdb.NormalizeMAC(r.MAC); ok && !cmdb.JunkMAC(m) {
		o.NICs = []cmdb.NIC{{MAC: m, Kind: cmdb.NICPhysical}}
	}
	if h := strings.TrimSpace(r.SysName); !genericSysNames[strings.ToLower(h)] && !strings.ContainsAny(h, " \t") {
		o.Hostname = cut(h, cmdb.MaxNameLen)
	}
	set := func(k, v string, limit int) {
		if v != "" {
			o.Attributes[k] = cut(v, limit)
		}
	}
	set(cmdb.AttrModel, r.Model, cmdb.MaxNameLen)
	set("snmp.sys_object_id", r.SysObjectID, cmdb.MaxTextLen)
	set("snmp.sys_descr", r.SysDescr, cmdb.MaxTextLen)
	set("snmp.sys_location", r.SysLocation, cmdb.MaxTextLen)
	if r.PageCount != nil {
		set("counter.pages", strconv.FormatInt(*r.PageCount, 10), cmdb.MaxTextLen)
	}
	for i, s := range r.Supplies {
		if i >= maxObservedSupplies || s.Index < 0 {
			break
		}
		p := "supply." + strconv.Itoa(s.Index) + "."
		set(p+"name", s.Description, cmdb.MaxTextLen)
		set(p+"type", s.Type, cmdb.MaxTextLen)
		set(p+"colorant", s.Colorant, cmdb.MaxTextLen)
		set(p+"level", supplyLevelText(s), cmdb.MaxTextLen)
	}
	if r.Status != "" || len(r.Supplies) > 0 || r.PageCount != nil {
		set("printer.status", r.Status, cmdb.MaxTextLen)
		errs := "none"
		if len(r.Errors) > 0 {
			errs = strings.Join(r.Errors, ",")
		}
		set("printer.errors", errs, cmdb.MaxTextLen)
		set("printer.alerts", strconv.Itoa(len(r.Alerts)), cmdb.MaxTextLen)
	}
	return o
}

// Metrics returns the numbers of a poll result to keep as time series,
// named like the metrics attributes of Observation:
//
//	counter.pages          page counter, when known
//	supply.<n>.percent     supply level in percent, when it is one
//	supply.<n>.level       raw supply level, when it is a real quantity
//	printer.errors         number of error bits set (printers only)
//	printer.alerts         number of alerts (printers only)
//
// Special supply levels (some-remaining, unknown, …) are not numbers and
// are left out rather than charted as -3 or -2. An unreachable result has
// no metrics.
func Metrics(r *cmdb.PollResult) map[string]float64 {
	m := map[string]float64{}
	if !r.Reachable {
		return m
	}
	if r.PageCount != nil {
		m["counter.pages"] = float64(*r.PageCount)
	}
	for i, s := range r.Supplies {
		if i >= maxObservedSupplies || s.Index < 0 {
			break
		}
		p := "supply." + strconv.Itoa(s.Index) + "."
		if s.Percent != nil {
			m[p+"percent"] = *s.Percent
		}
		if s.State == cmdb.SupplyOK {
			m[p+"level"] = float64(s.Level)
		}
	}
	if r.Status != "" || len(r.Supplies) > 0 || r.PageCount != nil {
		m["printer.errors"] = float64(len(r.Errors))
		m["printer.alerts"] = float64(len(r.Alerts))
	}
	return m
}

// supplyLevelText is the supply.<n>.level attribute.
func supplyLevelText(s cmdb.Supply) string {
	switch {
	case s.Percent != nil:
		return strconv.FormatFloat(*s.Percent, 'f', -1, 64)
	case s.State != cmdb.SupplyOK && s.State != "":
		return s.State
	case s.Unit != "":
		return strconv.Itoa(s.Level) + " " + s.Unit
	}
	return strconv.Itoa(s.Level)
}

func cut(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	return string([]rune(s)[:limit])
}
