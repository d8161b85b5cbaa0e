package pjlink_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/pjlink"
)

func TestResultObservationMetrics(t *testing.T) {
	at := time.Now().UTC().Truncate(time.Hour) // observations must be recent to be valid
	errs := func(s string) map[string]string {
		parts := []string{"fan", "lamp", "temperature", "cover", "filter", "other"}
		levels := map[byte]string{'0': "ok", '1': "warning", '2': "error"}
		m := map[string]string{}
		for i, p := range parts {
			m[p] = levels[s[i]]
		}
		return m
	}
	tests := []struct {
		name    string
		st      pjlink.Status
		errors  []string
		serial  string
		attrs   map[string]string
		metrics map[string]float64
	}{
		{"class 1 with two lamps, a lamp warning and a filter error",
			pjlink.Status{Manufacturer: "EPSON", Model: "EB-685W", Name: "Raum 104", Class: 1, Power: pjlink.PowerOn,
				Lamps: []pjlink.Lamp{{Hours: 1234, On: true}, {Hours: 99999}}, Errors: errs("010020")},
			[]string{"lampWarning", "filterError"}, "",
			map[string]string{"model": "EB-685W", "pjlink.name": "Raum 104", "pjlink.class": "1", "projector.power": "on",
				"projector.lamp.1.hours": "1234", "projector.lamp.2.hours": "99999", "projector.errors": "lamp:warning,filter:error"},
			map[string]float64{"projector.power": 1, "projector.lamp.1.hours": 1234, "projector.lamp.2.hours": 99999,
				"projector.error.fan": 0, "projector.error.lamp": 1, "projector.error.temperature": 0, "projector.error.cover": 0,
				"projector.error.filter": 2, "projector.error.other": 0}},
		{"class 2 laser projector, all well, standby",
			pjlink.Status{Manufacturer: "Sony", Model: "VPL-PHZ61", Class: 2, Serial: "7001234", SoftwareVersion: "1.2",
				Power: pjlink.PowerOff, Errors: errs("000000")},
			nil, "7001234",
			map[string]string{"model": "VPL-PHZ61", "pjlink.class": "2", "pjlink.software_version": "1.2", "projector.power": "off",
				"projector.errors": "none"},
			map[string]float64{"projector.power": 0, "projector.error.fan": 0, "projector.error.lamp": 0, "projector.error.temperature": 0,
				"projector.error.cover": 0, "projector.error.filter": 0, "projector.error.other": 0}},
		{"refused everything but the power, junk serial",
			pjlink.Status{Class: 2, Serial: "0000000", Power: pjlink.PowerUnknown},
			nil, "",
			map[string]string{"pjlink.class": "2"},
			map[string]float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := pjlink.Result(&tt.st, "10.1.2.3", at)
			if !r.Reachable || r.Class != cmdb.ClassProjector || r.Target != "10.1.2.3" || !r.PolledAt.Equal(at) ||
				r.Vendor != cmdb.NormalizeVendor(tt.st.Manufacturer) || r.Model != tt.st.Model || r.SysName != tt.st.Name {
				t.Errorf("Result = %+v", r)
			}
			if !reflect.DeepEqual(r.Errors, tt.errors) {
				t.Errorf("Result errors = %v, want %v", r.Errors, tt.errors)
			}
			o := pjlink.Observation(&tt.st, "pjlink-target:7", 1, 2, at)
			if o.Source != cmdb.SourceSNMP || o.SourceKey != "pjlink-target:7" || o.AuthorityID != 1 || o.SchoolID != 2 ||
				o.Class != cmdb.ClassProjector || o.Serial != tt.serial || !o.ObservedAt.Equal(at) {
				t.Errorf("Observation = %+v", o)
			}
			if err := o.Validate(); err != nil {
				t.Errorf("Observation invalid: %v", err)
			}
			if !reflect.DeepEqual(o.Attributes, tt.attrs) {
				t.Errorf("attributes =\n%v\nwant\n%v", o.Attributes, tt.attrs)
			}
			if m := pjlink.Metrics(&tt.st); !reflect.DeepEqual(m, tt.metrics) {
				t.Errorf("metrics =\n%v\nwant\n%v", m, tt.metrics)
			}
		})
	}
	if v := pjlink.Result(&pjlink.Status{Manufacturer: "EPSON"}, "x", at).Vendor; v != "Epson" {
		t.Errorf("vendor EPSON = %q, want Epson", v)
	}
}
