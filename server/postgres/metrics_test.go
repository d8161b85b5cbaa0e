package postgres_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestReconcileMetrics: reconcile counts observations by source and
// outcome, duplicate candidates and dropped identifiers.
func TestReconcileMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	db := postgrestest.MustOpenDB(t, postgres.Options{Registry: reg})
	tn := MustCreateTenant(t, db, "MET")
	p := func(key string) cmdb.Observation {
		return cmdb.Observation{Source: "connector:schulamt", SourceKey: key, AuthorityID: tn.Authority.ID, Class: "projector",
			Serial: "X7K2M9Q4", Vendor: "Epson"}
	}
	reconcile(t, db, p("INV-1"))
	reconcile(t, db, p("INV-1"))
	reconcile(t, db, p("INV-2")) // a second live key: created, one candidate
	reconcile(t, db, cmdb.Observation{Source: "snmp", AuthorityID: tn.Authority.ID, Serial: "unbekannt",
		NICs: []cmdb.NIC{{MAC: "01:00:5e:00:00:fb"}, {MAC: "a4:bb:6d:00:00:01"}}})
	want := map[string]float64{
		`cmdb_reconcile_dropped_identifiers_total{reason="junk",source="snmp"}`:              1,
		`cmdb_reconcile_dropped_identifiers_total{reason="multicast",source="snmp"}`:         1,
		`cmdb_reconcile_duplicate_candidates_total{rule="new",source="connector:schulamt"}`:  1,
		`cmdb_reconcile_observations_total{outcome="created",source="connector:schulamt"}`:   2,
		`cmdb_reconcile_observations_total{outcome="created",source="snmp"}`:                 1,
		`cmdb_reconcile_observations_total{outcome="unchanged",source="connector:schulamt"}`: 1,
	}
	fams, err := reg.Gather()
	must(t, err)
	got := map[string]float64{}
	for _, f := range fams {
		if !strings.HasPrefix(f.GetName(), "cmdb_reconcile_") { // the SLA gauges share the registry
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			got[f.GetName()+"{"+strings.Join(labels, ",")+"}"] = m.GetCounter().GetValue()
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("metrics:\n got %v\nwant %v", got, want)
	}
}
