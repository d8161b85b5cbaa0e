package cmdb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
)

func TestMonitoringTitleAndCategory(t *testing.T) {
	for _, c := range []struct {
		kind                 cmdb.HealthKind
		class, subject, name string
		wantTitle, wantCateg string
	}{
		{cmdb.HealthSupplyEmpty, "printer", "#1 Black Toner", "Drucker Lehrerzimmer", "Toner leer: Drucker Lehrerzimmer", "Kein Toner"},
		{cmdb.HealthSupplyEmpty, "mfp", "#5 Drum Unit", "MFP 1", "Verbrauchsmaterial leer: MFP 1", "Sonstiges"},
		{cmdb.HealthSupplyLow, "printer", "#2 Cyan Toner", "P2", "Toner fast leer: P2", "Kein Toner"},
		{cmdb.HealthJam, "mfp", "", "Kopierer", "Papierstau: Kopierer", "Papierstau"},
		{cmdb.HealthOffline, "printer", "", "", "Gerät offline", "Druckt nicht"},
		{cmdb.HealthLamp, "projector", "", "Beamer 1.12", "Lampenfehler: Beamer 1.12", "Lampe"},
		{cmdb.HealthUnreachable, "projector", "", "Beamer", "Gerät nicht erreichbar: Beamer", "Sonstiges"},
		{cmdb.HealthTemperature, "interactive_display", "", "Tafel", "Temperaturfehler: Tafel", "Sonstiges"},
	} {
		if got := cmdb.MonitoringTitle(c.kind, c.subject, c.name); got != c.wantTitle {
			t.Errorf("title of %s %q: %q, want %q", c.kind, c.subject, got, c.wantTitle)
		}
		if got := cmdb.MonitoringCategory(c.kind, c.class, c.subject); got != c.wantCateg {
			t.Errorf("category of %s on %s: %q, want %q", c.kind, c.class, got, c.wantCateg)
		}
	}
}

func TestMaterialDetail(t *testing.T) {
	if cmdb.MaterialDetail("8% left") != cmdb.MaterialDetail("5% left") {
		t.Error("a changed level is news")
	}
	if cmdb.MaterialDetail("lamp warning: its life is nearly over") == cmdb.MaterialDetail("lamp error") {
		t.Error("a warning turning into an error is no news")
	}
}

func TestValidateMonitoringRules(t *testing.T) {
	ok := cmdb.MonitoringRule{Kind: cmdb.HealthJam, OpensTicket: true, Level: 1, Impact: 2, Urgency: 2}
	for _, c := range []struct {
		rules []cmdb.MonitoringRule
		field string
	}{
		{[]cmdb.MonitoringRule{ok}, ""},
		{[]cmdb.MonitoringRule{ok, ok}, "rules[1].kind"},
		{[]cmdb.MonitoringRule{ok, {Kind: "toner", Level: 1, Impact: 1, Urgency: 1}}, "rules[1].kind"},
		{[]cmdb.MonitoringRule{{Kind: cmdb.HealthLamp, Level: 1, Impact: 4, Urgency: 1}}, "rules[0].impact"},
		{[]cmdb.MonitoringRule{{Kind: cmdb.HealthLamp, Level: 1, Impact: 1, Urgency: 1, ProviderID: -1}}, "rules[0].provider_id"},
	} {
		err := cmdb.ValidateMonitoringRules(c.rules)
		if got := cmdb.ErrorField(err); got != c.field || (c.field != "" && cmdb.ErrorCode(err) != cmdb.EINVALID) {
			t.Errorf("%+v: %v, want field %q", c.rules, err, c.field)
		}
	}
}

type sinkFunc func(cmdb.HealthEvent) error

func (f sinkFunc) HealthEvent(_ context.Context, e cmdb.HealthEvent) error { return f(e) }

func TestHealthSinksStopAtTheFirstError(t *testing.T) {
	var seen []string
	boom := errors.New("down")
	ss := cmdb.HealthSinks{
		sinkFunc(func(cmdb.HealthEvent) error { seen = append(seen, "history"); return nil }),
		sinkFunc(func(cmdb.HealthEvent) error { seen = append(seen, "tickets"); return boom }),
		sinkFunc(func(cmdb.HealthEvent) error { seen = append(seen, "late"); return nil }),
	}
	if err := ss.HealthEvent(context.Background(), cmdb.HealthEvent{CIID: 1, Kind: cmdb.HealthJam, Open: true}); !errors.Is(err, boom) {
		t.Fatalf("error %v, want the failing sink's", err)
	}
	if len(seen) != 2 || seen[1] != "tickets" {
		t.Fatalf("sinks called: %v", seen)
	}
}

func TestHealthSinksBatchKeepsEachCIsOrder(t *testing.T) {
	var seen []int64
	boom := errors.New("down")
	ss := cmdb.HealthSinks{sinkFunc(func(e cmdb.HealthEvent) error {
		seen = append(seen, e.CIID)
		if e.CIID == 1 {
			return boom
		}
		return nil
	})}
	errs := ss.HealthEvents(context.Background(), []cmdb.HealthEvent{{CIID: 1}, {CIID: 2}, {CIID: 1}, {CIID: 2}})
	if !errors.Is(errs[0], boom) || errs[1] != nil || !errors.Is(errs[2], boom) || errs[3] != nil {
		t.Fatalf("errors %v", errs)
	}
	if len(seen) != 3 {
		t.Fatalf("the sink saw %v; CI 1's second event must wait for its first", seen)
	}
}
