// Package collect gathers the inventory of the machine it runs on: system
// identity, hardware, network interfaces and installed software.
//
// It collects no user names, home paths, files, browsing data or location.
// A source that is missing or unreadable (not root, no DMI, no battery)
// leaves its fields empty; collecting never fails.
package collect

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/mem"

	"github.com/schulit/cmdb/agentproto"
)

// Options says where to read from. The zero value reads the live system.
type Options struct {
	// SysRoot is the sysfs mount, "/sys" when empty (Linux only).
	SysRoot string
	// Root prefixes files such as /etc/os-release and the dpkg status
	// file, "/" when empty (Linux only).
	Root string
	// Logger receives debug notes about sources that could not be read;
	// nil discards them.
	Logger *slog.Logger
}

func (o Options) debug(msg string, args ...any) {
	if o.Logger != nil {
		o.Logger.Debug(msg, args...)
	}
}

// Collect returns the inventory of this machine. The four parts are
// collected in parallel; whatever cannot be read is left out.
func Collect(ctx context.Context, o Options) agentproto.Inventory {
	var inv agentproto.Inventory
	var wg sync.WaitGroup
	wg.Go(func() { inv.System = System(ctx, o) })
	wg.Go(func() { inv.Hardware = Hardware(ctx, o) })
	wg.Go(func() { inv.Network = Network(o) })
	wg.Go(func() { inv.Software = Software(ctx, o) })
	wg.Wait()
	return inv
}

// System returns the identity of the machine and its operating system.
func System(ctx context.Context, o Options) agentproto.InventorySystem {
	var s agentproto.InventorySystem
	s.Hostname, _ = os.Hostname()
	s.Arch = runtime.GOARCH
	if arch, err := host.KernelArch(); err == nil && arch != "" {
		s.Arch = arch
	}
	if k, err := host.KernelVersionWithContext(ctx); err == nil {
		s.Kernel = k
	}
	if bt, err := host.BootTimeWithContext(ctx); err == nil && bt > 0 {
		// Whole minutes: the boot time computed from uptime wobbles by a
		// second, which would otherwise change the section every report.
		s.BootTime = time.Unix(int64(bt), 0).UTC().Truncate(time.Minute)
	}
	platformSystem(ctx, o, &s)
	return s
}

// Hardware returns CPU, memory, disks and battery.
func Hardware(ctx context.Context, o Options) agentproto.InventoryHardware {
	var h agentproto.InventoryHardware
	if infos, err := cpu.InfoWithContext(ctx); err == nil && len(infos) > 0 {
		h.CPUModel = strings.Join(strings.Fields(infos[0].ModelName), " ")
	} else if err != nil {
		o.debug("cpu info", "err", err)
	}
	if n, err := cpu.CountsWithContext(ctx, false); err == nil {
		h.CPUCores = n
	}
	if n, err := cpu.CountsWithContext(ctx, true); err == nil {
		h.CPUThreads = n
	}
	if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		h.MemoryBytes = vm.Total
	}
	h.Disks = Disks(ctx, o)
	h.Battery = platformBattery(o)
	return h
}

// Disks returns the mounted real filesystems, one per device, named by
// device (never by mount point, which may hold a user name).
func Disks(ctx context.Context, o Options) []agentproto.InventoryDisk {
	parts, err := disk.PartitionsWithContext(ctx, false)
	if err != nil {
		o.debug("disk partitions", "err", err)
	}
	seen := map[string]bool{}
	var disks []agentproto.InventoryDisk
	for _, p := range parts {
		if seen[p.Device] || skipPartition(p) {
			continue
		}
		seen[p.Device] = true
		d := agentproto.InventoryDisk{Name: diskName(p.Device)}
		if u, err := disk.UsageWithContext(ctx, p.Mountpoint); err == nil && u.Total > 0 {
			d.SizeBytes = u.Total
			d.FreeBytes = QuantizeFree(u.Free, u.Total)
		}
		d.Model, d.Serial = platformDiskInfo(o, p.Device)
		disks = append(disks, d)
	}
	slices.SortFunc(disks, func(a, b agentproto.InventoryDisk) int { return strings.Compare(a.Name, b.Name) })
	return disks
}

// QuantizeFree rounds free space down to a step of 1 % of the size, so a
// routine report does not resend the hardware section for every byte
// written.
func QuantizeFree(free, total uint64) uint64 {
	step := max(total/100, 1<<20)
	return free / step * step
}

func diskName(device string) string {
	if runtime.GOOS == "windows" {
		return device // "C:"
	}
	return filepath.Base(device)
}

// Network returns the network interfaces with MAC, addresses and kind,
// sorted by name. IPv6 link-local addresses are left out: they change
// nothing about the machine and only add noise.
func Network(o Options) []agentproto.InventoryNIC {
	ifs, err := net.Interfaces()
	if err != nil {
		o.debug("network interfaces", "err", err)
		return nil
	}
	nics := make([]agentproto.InventoryNIC, 0, len(ifs))
	for _, ifc := range ifs {
		n := agentproto.InventoryNIC{Name: ifc.Name, MAC: ifc.HardwareAddr.String()}
		if ifc.Flags&net.FlagLoopback != 0 {
			n.Kind = KindVirtual
		} else {
			n.Kind = platformNICKind(o, ifc.Name)
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			p, err := netip.ParsePrefix(a.String())
			if err != nil || p.Addr().IsLinkLocalUnicast() {
				continue
			}
			n.Addresses = append(n.Addresses, p.String())
		}
		slices.Sort(n.Addresses)
		nics = append(nics, n)
	}
	slices.SortFunc(nics, func(a, b agentproto.InventoryNIC) int { return strings.Compare(a.Name, b.Name) })
	return nics
}

// Software returns the installed packages or applications, sorted by name
// and version.
func Software(ctx context.Context, o Options) []agentproto.SoftwareItem {
	return SortSoftware(platformSoftware(ctx, o))
}

// SortSoftware sorts by name, then version, then publisher, and drops
// exact duplicates.
func SortSoftware(items []agentproto.SoftwareItem) []agentproto.SoftwareItem {
	slices.SortFunc(items, func(a, b agentproto.SoftwareItem) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if c := strings.Compare(a.Version, b.Version); c != 0 {
			return c
		}
		return strings.Compare(a.Publisher, b.Publisher)
	})
	return slices.Compact(items)
}
