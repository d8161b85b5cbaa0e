package report

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/schulit/cmdb/agentproto"
)

// sampleInventory is a realistic school laptop with n packages.
func sampleInventory(n int) agentproto.Inventory {
	inv := agentproto.Inventory{
		System: agentproto.InventorySystem{Hostname: "gs-nord-lt-042", Vendor: "LENOVO", Model: "20XW00A5GE",
			Serial: "PF2ABCDE", HardwareUUID: "4c4c4544-0042-3510-8052-b4c04f4b4e32", Chassis: "laptop",
			OSName: "Debian GNU/Linux", OSVersion: "12", Kernel: "6.1.0-18-amd64", Arch: "x86_64",
			BootTime: time.Date(2026, 3, 2, 7, 58, 0, 0, time.UTC)},
		Hardware: agentproto.InventoryHardware{CPUModel: "11th Gen Intel(R) Core(TM) i5-1135G7 @ 2.40GHz",
			CPUCores: 4, CPUThreads: 8, MemoryBytes: 16 << 30,
			Disks:   []agentproto.InventoryDisk{{Name: "nvme0n1p2", Model: "SAMSUNG MZVL2512HCJQ", Serial: "S64KNX0T123456", SizeBytes: 500 << 30, FreeBytes: 200 << 30}},
			Battery: &agentproto.Battery{DesignWh: 50, FullWh: 42.5, HealthPercent: 85}},
		Network: []agentproto.InventoryNIC{
			{Name: "wlp0s20f3", MAC: "a4:c3:f0:11:22:33", Kind: "physical", Addresses: []string{"10.12.4.57/22"}},
			{Name: "lo", Kind: "virtual", Addresses: []string{"127.0.0.1/8", "::1/128"}},
		},
	}
	for i := range n {
		inv.Software = append(inv.Software, agentproto.SoftwareItem{Name: fmt.Sprintf("package-%04d", i), Publisher: "Debian Developers", Version: fmt.Sprintf("1.%d-1", i)})
	}
	return inv
}

func mustTake(t *testing.T, inv agentproto.Inventory) Snapshot {
	t.Helper()
	s, err := Take(inv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sectionNames(r agentproto.Report) []string {
	return slices.Sorted(maps.Keys(r.Sections))
}

func TestFirstReportHasAllSections(t *testing.T) {
	s := mustTake(t, sampleInventory(50))
	r := s.Report("dev-1", 1, time.Now(), nil, nil, false)
	if got, want := sectionNames(r), slices.Sorted(slices.Values(agentproto.Sections)); !slices.Equal(got, want) {
		t.Fatalf("first report sections %v, want %v", got, want)
	}
	for _, name := range agentproto.Sections {
		if r.Hashes[name] != agentproto.SectionHash(r.Sections[name]) {
			t.Errorf("hash of %s does not match its data", name)
		}
	}
	var sys agentproto.InventorySystem
	if err := json.Unmarshal(r.Sections[agentproto.SectionSystem], &sys); err != nil || sys.Serial != "PF2ABCDE" {
		t.Errorf("system section does not decode to the inventory: %+v, %v", sys, err)
	}
}

func TestUnchangedReportIsSmallHeartbeat(t *testing.T) {
	inv := sampleInventory(2000)
	first := mustTake(t, inv)
	acked := first.Hashes
	second := mustTake(t, inv) // collected again, nothing changed
	r := second.Report("0b6e1f0c-5d55-4a52-9f3e-6d1c0f6a7b21", 2, time.Now(), acked, nil, false)
	if len(r.Sections) != 0 {
		t.Fatalf("unchanged report carries sections %v", sectionNames(r))
	}
	wire, err := Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(wire) > 2048 {
		t.Errorf("heartbeat is %d bytes gzip on the wire, want ≤ 2048", len(wire))
	}
	t.Logf("heartbeat: %d bytes on the wire", len(wire))
	// It decodes to device, seq, time and all hashes.
	zr, err := gzip.NewReader(bytes.NewReader(wire))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(zr)
	var back agentproto.Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Seq != 2 || len(back.Hashes) != len(agentproto.Sections) || back.Sections != nil {
		t.Errorf("decoded heartbeat %+v", back)
	}
}

func TestChangedSoftwareIsTheOnlySectionSent(t *testing.T) {
	inv := sampleInventory(100)
	acked := mustTake(t, inv).Hashes
	inv.Software = append(inv.Software, agentproto.SoftwareItem{Name: "zoom", Version: "6.0.2"})
	r := mustTake(t, inv).Report("dev-1", 2, time.Now(), acked, nil, false)
	if got := sectionNames(r); !slices.Equal(got, []string{agentproto.SectionSoftware}) {
		t.Errorf("sections %v, want only software", got)
	}
	if len(r.Hashes) != len(agentproto.Sections) {
		t.Errorf("hashes %v, want all sections", r.Hashes)
	}
}

func TestWantFullResendsAll(t *testing.T) {
	inv := sampleInventory(10)
	s := mustTake(t, inv)
	r := s.Report("dev-1", 3, time.Now(), s.Hashes, nil, true)
	if len(r.Sections) != len(agentproto.Sections) {
		t.Errorf("full report carries %v", sectionNames(r))
	}
}

// A section that changes and changes back before the server has seen the
// queued report must be sent again: the server will have the changed
// data from the queued report.
func TestChangeBackWhileQueued(t *testing.T) {
	inv := sampleInventory(10)
	a := mustTake(t, inv)
	inv.Network[0].Addresses = []string{"192.168.1.20/24"}
	b := mustTake(t, inv)
	inv.Network[0].Addresses = []string{"10.12.4.57/22"}
	c := mustTake(t, inv)
	r := c.Report("dev-1", 3, time.Now(), a.Hashes, b.Hashes, false)
	if got := sectionNames(r); !slices.Equal(got, []string{agentproto.SectionNetwork}) {
		t.Errorf("sections %v, want network", got)
	}
}

func TestFullCarriesEverySection(t *testing.T) {
	s := mustTake(t, sampleInventory(10))
	r := s.Report("dev-1", 7, time.Now(), s.Hashes, nil, false)
	f := s.Full(r)
	if f.Seq != 7 || len(f.Sections) != len(agentproto.Sections) || len(r.Sections) != 0 {
		t.Errorf("full %d sections seq %d; original now %d sections", len(f.Sections), f.Seq, len(r.Sections))
	}
}
