package collect

import (
	"context"
	"runtime"
	"testing"
)

// TestCollectThisMachine runs the real collectors: whatever machine the
// tests run on has a hostname, an OS, a network interface, a CPU and
// memory.
func TestCollectThisMachine(t *testing.T) {
	inv := Collect(context.Background(), Options{})
	s, h := inv.System, inv.Hardware
	if s.Hostname == "" {
		t.Error("no hostname")
	}
	if s.Kernel == "" || s.Arch == "" {
		t.Errorf("no kernel or arch: %+v", s)
	}
	if runtime.GOOS == "linux" && s.OSName == "" {
		t.Errorf("no OS name from os-release: %+v", s)
	}
	if s.BootTime.IsZero() {
		t.Error("no boot time")
	}
	if len(inv.Network) == 0 {
		t.Error("no network interface")
	}
	for _, n := range inv.Network {
		if n.Kind == "" {
			t.Errorf("NIC %s has no kind", n.Name)
		}
	}
	if h.CPUThreads < 1 || h.CPUCores < 1 || h.CPUThreads < h.CPUCores {
		t.Errorf("CPU cores %d threads %d", h.CPUCores, h.CPUThreads)
	}
	if h.MemoryBytes == 0 {
		t.Error("no memory size")
	}
	for i := 1; i < len(inv.Software); i++ {
		if inv.Software[i-1].Name > inv.Software[i].Name {
			t.Fatalf("software not sorted by name at %d: %q > %q", i, inv.Software[i-1].Name, inv.Software[i].Name)
		}
	}
}
