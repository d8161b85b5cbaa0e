package collect

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/host"

	"github.com/schulit/cmdb/agentproto"
)

func platformSystem(ctx context.Context, o Options, s *agentproto.InventorySystem) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "/usr/sbin/ioreg", "-rd1", "-c", "IOPlatformExpertDevice").Output(); err == nil {
		d := ParseIoreg(out)
		s.Vendor, s.Model, s.Serial, s.HardwareUUID, s.Chassis = d.Vendor, d.Model, d.Serial, d.UUID, d.Chassis
	} else {
		o.debug("ioreg", "err", err)
	}
	if s.Vendor == "" {
		s.Vendor = "Apple"
	}
	if _, _, version, err := host.PlatformInformationWithContext(ctx); err == nil {
		s.OSName, s.OSVersion = "macOS", version
	}
	if out, err := exec.CommandContext(ctx, "/usr/bin/sw_vers", "-buildVersion").Output(); err == nil {
		s.OSBuild = strings.TrimSpace(string(out))
	}
}

func platformNICKind(o Options, name string) string {
	return NICKindDarwin(name, hardwarePorts(o)[name])
}

// ports caches the hardware ports for one collection (a minute): Network
// asks for each interface in turn.
var ports struct {
	sync.Mutex
	at  time.Time
	got map[string]string
}

// hardwarePorts returns the hardware port name of each device, from
// networksetup -listallhardwareports.
func hardwarePorts(o Options) map[string]string {
	ports.Lock()
	defer ports.Unlock()
	if ports.got != nil && time.Since(ports.at) < time.Minute {
		return ports.got
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/sbin/networksetup", "-listallhardwareports").Output()
	if err != nil {
		o.debug("networksetup", "err", err)
	}
	ports.got, ports.at = ParseHardwarePorts(out), time.Now()
	return ports.got
}

func platformBattery(Options) *agentproto.Battery { return nil }

func platformDiskInfo(Options, string) (string, string) { return "", "" }

// skipPartition keeps the system and data volume and external volumes;
// the APFS helper volumes (Preboot, VM, Update, …) say nothing new.
func skipPartition(p disk.PartitionStat) bool {
	return !strings.HasPrefix(p.Device, "/dev/") ||
		(strings.HasPrefix(p.Mountpoint, "/System/Volumes/") && p.Mountpoint != "/System/Volumes/Data")
}

// platformSoftware lists the applications in /Applications with their
// CFBundleShortVersionString. Applications in users' home folders are
// not read.
func platformSoftware(_ context.Context, o Options) []agentproto.SoftwareItem {
	apps, _ := filepath.Glob("/Applications/*.app")
	utils, _ := filepath.Glob("/Applications/Utilities/*.app")
	var items []agentproto.SoftwareItem
	for _, app := range append(apps, utils...) {
		it := agentproto.SoftwareItem{Name: strings.TrimSuffix(filepath.Base(app), ".app")}
		if data, err := os.ReadFile(filepath.Join(app, "Contents", "Info.plist")); err == nil {
			it.Version = PlistString(data, "CFBundleShortVersionString")
			if id := PlistString(data, "CFBundleIdentifier"); strings.HasPrefix(id, "com.apple.") {
				it.Publisher = "Apple"
			}
		}
		items = append(items, it)
	}
	return items
}
