package web

import (
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

func init() {
	at := time.Date(2026, 3, 9, 10, 15, 0, 0, time.UTC)
	old, new := "1.11", "1.12"
	moreViews["console_device_list"] = deviceListView{Query: "drucker", Classes: cmdb.Classes, Statuses: cmdb.Statuses, Total: 1, Page: 1, Pages: 2,
		Schools: []*cmdb.School{{ID: 1, Name: "Gymnasium am See"}}, Next: "/cis?seite=2", CSV: "/cis?format=csv", XLSX: "/cis?format=xlsx",
		Rows: []deviceRow{{ID: 5, Name: "Drucker 1.12", Class: cmdb.ClassPrinter, Status: cmdb.StatusInUse, AssetTag: "SWS-42", Room: "Raum 1.12", School: "Gymnasium", Flagged: true}}}
	ci := &cmdb.CI{ID: 5, Name: "Drucker 1.12", Class: cmdb.ClassPrinter, Status: cmdb.StatusInUse, Vendor: "HP", Model: "M404", AssetTag: "SWS-42",
		ShortCode: "ABC123", RepeatFailure: &cmdb.RepeatFailureFlag{Count: 3, WindowDays: 90, Tickets: []string{"SWS-2026-00001"}}}
	p := &plot{ID: "verbrauch", Title: "Verbrauchsmaterial", Unit: "%", Series: []*plotSeries{
		{Name: "supply.1.percent", Label: "Toner", DaysLeft: 12, Points: []plotPoint{{at.Add(-48 * time.Hour), 80}, {at, 70}}}}}
	p.SVG = drawPlot(p, mustCatalogue().translator(cmdb.LangDE))
	moreViews["console_device"] = &deviceView{CI: ci, Room: "Raum 1.12", School: "Gymnasium am See", Seen: []seenLine{{"snmp", at}},
		Repeat: "3 Störungen", Statuses: cmdb.Statuses, Rooms: []*cmdb.Room{{ID: 3, Name: "Raum 1.12"}}, Label: true, Saved: true, CanEdit: true,
		Form:     deviceForm{RoomID: 3, Status: cmdb.StatusInUse, AssetTag: "SWS-42", Version: "1"},
		Errors:   fieldErrors{"form": "veraltet", "asset_tag": "zu lang"},
		Stale:    []timelineLine{{At: at, Kind: "change", Attr: "room", Old: old, New: new, Source: "user:anna"}},
		Timeline: []timelineLine{{At: at, Kind: "change", Attr: "room", Old: old, New: new, Source: "snmp"}, {At: at, Kind: "ticket", Number: "SWS-2026-00001", Title: "Stau", Status: cmdb.StatusNew}, {At: at, Kind: "health", Attr: "jam", Open: true}},
		Prev:     "/cis/5?seite=1", Next: "/cis/5?seite=3",
		Locks:       []*cmdb.Lock{{Attr: "asset_tag", Value: "SWS-42", LockedBy: "user:anna", LockedAt: at}},
		Identifiers: []*cmdb.Identifier{{Kind: "serial", Value: "CN123", Source: "snmp", FirstSeen: at}},
		Software:    []*cmdb.SoftwareItem{{Name: "Firefox", Version: "128"}}, SoftwareTotal: 1, Plots: []*plot{p}}
}

func TestDaysLeft(t *testing.T) {
	now := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	var pts []plotPoint
	for d := 20; d >= 0; d-- { // 1 % a day, 40 % left
		pts = append(pts, plotPoint{now.Add(-time.Duration(d) * 24 * time.Hour), 40 + float64(d)})
	}
	if got := daysLeft(pts, now); got != 40 {
		t.Errorf("daysLeft = %d, want 40", got)
	}
	if got := daysLeft([]plotPoint{{now, 50}, {now.Add(time.Hour), 60}}, now); got != -1 {
		t.Errorf("rising: %d", got)
	}
	if got := len(downsample(make([]plotPoint, 1000), 300)); got != 300 {
		t.Errorf("downsample: %d", got)
	}
}
