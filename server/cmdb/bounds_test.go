package cmdb_test

import (
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// TestObservationTimeBounds: an observation's time is refused when no
// clock could have meant it (year 1, year 9999), naming observed_at.
func TestObservationTimeBounds(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"not given", time.Time{}, true},
		{"now", now, true},
		{"a month ago", now.Add(-30 * 24 * time.Hour), true},
		{"a clock an hour ahead", now.Add(time.Hour), true},
		{"year 1", time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), false},
		{"two years ago", now.Add(-2 * 366 * 24 * time.Hour), false},
		{"two days ahead", now.Add(48 * time.Hour), false},
		{"year 9999", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := cmdb.Observation{Source: "connector:test", SourceKey: "K1", AuthorityID: 1, ObservedAt: tc.at}
			err := o.Validate()
			if tc.ok && err != nil {
				t.Errorf("refused: %v", err)
			} else if !tc.ok && (cmdb.ErrorField(err) != "observed_at" || !strings.Contains(cmdb.ErrorMessage(err), "days before")) {
				t.Errorf("got %v, want 400 on observed_at saying the bounds", err)
			}
		})
	}
}

// TestHardwareBounds: numbers no machine has are refused, naming the field.
func TestHardwareBounds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hw    cmdb.InventoryHardware
		field string
	}{
		{"real laptop", cmdb.InventoryHardware{CPUCores: 8, CPUThreads: 16, MemoryBytes: 16 << 30,
			Disks: []cmdb.InventoryDisk{{Name: "nvme0n1", SizeBytes: 1 << 40, FreeBytes: 1 << 39}}, Battery: &cmdb.Battery{DesignWh: 57, FullWh: 50, HealthPercent: 88}}, ""},
		{"negative cores", cmdb.InventoryHardware{CPUCores: -1}, "sections.hardware.cpu_cores"},
		{"a million cores", cmdb.InventoryHardware{CPUCores: 1 << 20}, "sections.hardware.cpu_cores"},
		{"negative threads", cmdb.InventoryHardware{CPUThreads: -4}, "sections.hardware.cpu_threads"},
		{"memory 2^64-1", cmdb.InventoryHardware{MemoryBytes: 1<<64 - 1}, "sections.hardware.memory_bytes"},
		{"disk 2^64-1", cmdb.InventoryHardware{Disks: []cmdb.InventoryDisk{{Name: "a"}, {Name: "b", FreeBytes: 1<<64 - 1}}}, "sections.hardware.disks[1].free_bytes"},
		{"battery health 1000 %", cmdb.InventoryHardware{Battery: &cmdb.Battery{HealthPercent: 1000}}, "sections.hardware.battery.health_percent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hw := tc.hw
			err := (&cmdb.ReportItem{Device: &cmdb.Device{}, Report: &cmdb.Report{}, Hardware: &hw}).Validate()
			if cmdb.ErrorField(err) != tc.field || (tc.field == "") != (err == nil) {
				t.Errorf("got %v, want field %q", err, tc.field)
			}
		})
	}
}
