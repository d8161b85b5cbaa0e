package pjlink

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/schulit/cmdb/server/cmdb"
)

// What the server keeps of a projector's status: a poll result (for the
// health tracker and the target's state), an observation for reconcile,
// and metrics kept as time series, like the SNMP poller's.

// ErrorNames returns the parts the error status reports in warning or
// error, as the error names of a cmdb.PollResult, in ERST order:
// fanWarning, lampError, …; nil when all are ok or ERST was refused.
func ErrorNames(st *Status) []string {
	var out []string
	for _, part := range errorParts {
		switch st.Errors[part] {
		case "warning":
			out = append(out, part+"Warning")
		case "error":
			out = append(out, part+"Error")
		}
	}
	return out
}

// Result turns the status of a projector that answered at target into a
// poll result: class projector, vendor (normalised), model, serial (class
// 2), the projector's name as SysName, and its error names in Errors.
func Result(st *Status, target string, at time.Time) *cmdb.PollResult {
	return &cmdb.PollResult{
		Target:    target,
		Reachable: true,
		PolledAt:  at,
		Class:     cmdb.ClassProjector,
		Vendor:    cut(cmdb.NormalizeVendor(st.Manufacturer), cmdb.MaxNameLen),
		Model:     st.Model,
		Serial:    st.Serial,
		SysName:   st.Name,
		Errors:    ErrorNames(st),
	}
}

// Observation turns a projector's status into what the poller says about
// it, for reconcile. The source is snmp: PJLink is read by the same
// poller, with its precedence and stale period. PJLink tells no MAC, and
// class 1 projectors no serial, so the caller passes a key of its own
// for the device (such as the target's id); the serial, when the
// projector reports one that is not junk, identifies it as well.
// Attributes:
//
//	model                      INF2
//	pjlink.name                NAME, the name set on the projector
//	pjlink.class               1 or 2
//	pjlink.software_version    SVER (class 2)
//	projector.power            off, on, cooling, warmup (not when unknown)
//	projector.lamp.<n>.hours   hours of lamp n (from 1)
//	projector.errors           "none", or the parts not ok: "lamp:warning,filter:error"
func Observation(st *Status, sourceKey string, authorityID, schoolID int64, at time.Time) cmdb.Observation {
	o := cmdb.Observation{
		Source:      cmdb.SourceSNMP,
		SourceKey:   sourceKey,
		AuthorityID: authorityID,
		SchoolID:    schoolID,
		Class:       cmdb.ClassProjector,
		Vendor:      cut(cmdb.NormalizeVendor(st.Manufacturer), cmdb.MaxNameLen),
		ObservedAt:  at,
		Attributes:  map[string]string{},
	}
	if s := cut(strings.TrimSpace(st.Serial), cmdb.MaxNameLen); !(&cmdb.Junk{}).JunkSerial(cmdb.NormalizeSerial(s)) {
		o.Serial = s
	}
	set := func(k, v string, limit int) {
		if v != "" {
			o.Attributes[k] = cut(v, limit)
		}
	}
	set(cmdb.AttrModel, st.Model, cmdb.MaxNameLen)
	set("pjlink.name", st.Name, cmdb.MaxTextLen)
	if st.Class > 0 {
		set("pjlink.class", strconv.Itoa(st.Class), cmdb.MaxTextLen)
	}
	set("pjlink.software_version", st.SoftwareVersion, cmdb.MaxTextLen)
	if st.Power != PowerUnknown {
		set("projector.power", st.Power, cmdb.MaxTextLen)
	}
	for i, l := range st.Lamps {
		set("projector.lamp."+strconv.Itoa(i+1)+".hours", strconv.Itoa(l.Hours), cmdb.MaxTextLen)
	}
	if st.Errors != nil {
		var bad []string
		for _, part := range errorParts {
			if v := st.Errors[part]; v != "ok" && v != "" {
				bad = append(bad, part+":"+v)
			}
		}
		errs := "none"
		if len(bad) > 0 {
			errs = strings.Join(bad, ",")
		}
		set("projector.errors", errs, cmdb.MaxTextLen)
	}
	return o
}

// powerValues are the numbers the power state is charted as.
var powerValues = map[string]float64{PowerOff: 0, PowerOn: 1, PowerCooling: 2, PowerWarmup: 3}

// errorValues are the numbers an ERST part is charted as.
var errorValues = map[string]float64{"ok": 0, "warning": 1, "error": 2}

// Metrics returns the numbers of a projector's status to keep as time
// series, named like the attributes of Observation:
//
//	projector.power            0 off, 1 on, 2 cooling, 3 warmup (not when unknown)
//	projector.lamp.<n>.hours   hours of lamp n
//	projector.error.<part>     0 ok, 1 warning, 2 error, for fan, lamp,
//	                           temperature, cover, filter and other
func Metrics(st *Status) map[string]float64 {
	m := map[string]float64{}
	if v, ok := powerValues[st.Power]; ok {
		m["projector.power"] = v
	}
	for i, l := range st.Lamps {
		m["projector.lamp."+strconv.Itoa(i+1)+".hours"] = float64(l.Hours)
	}
	for _, part := range errorParts {
		if v, ok := errorValues[st.Errors[part]]; ok {
			m["projector.error."+part] = v
		}
	}
	return m
}

func cut(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	return string([]rune(s)[:limit])
}
