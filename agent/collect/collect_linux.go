package collect

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/disk"

	"github.com/schulit/cmdb/agentproto"
)

func (o Options) sys(parts ...string) string {
	root := o.SysRoot
	if root == "" {
		root = "/sys"
	}
	return filepath.Join(append([]string{root}, parts...)...)
}

func (o Options) file(path string) string {
	if o.Root == "" {
		return path
	}
	return filepath.Join(o.Root, path)
}

func platformSystem(_ context.Context, o Options, s *agentproto.InventorySystem) {
	d := ReadDMI(o.sys())
	s.Vendor, s.Model, s.Serial, s.HardwareUUID, s.Chassis = d.Vendor, d.Model, d.Serial, d.UUID, d.Chassis
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		f, err := os.Open(o.file(p))
		if err != nil {
			continue
		}
		rel := ParseOSRelease(f)
		f.Close()
		s.OSName, s.OSVersion, s.OSBuild = rel["NAME"], rel["VERSION_ID"], rel["BUILD_ID"]
		if s.OSVersion == "" {
			s.OSVersion = rel["VERSION"]
		}
		break
	}
}

// ParseOSRelease reads an os-release file into its keys and unquoted
// values.
func ParseOSRelease(f *os.File) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		m[k] = strings.Trim(v, `"'`)
	}
	return m
}

func platformNICKind(o Options, name string) string { return NICKindSysfs(o.sys(), name) }

func platformBattery(o Options) *agentproto.Battery { return BatterySysfs(o.sys()) }

func platformDiskInfo(o Options, device string) (string, string) {
	return DiskInfoSysfs(o.sys(), device)
}

func skipPartition(p disk.PartitionStat) bool {
	dev := strings.TrimPrefix(p.Device, "/dev/")
	return !strings.HasPrefix(p.Device, "/dev/") ||
		strings.HasPrefix(dev, "loop") || strings.HasPrefix(dev, "ram") || strings.HasPrefix(dev, "zram") ||
		p.Fstype == "squashfs" || strings.HasPrefix(p.Mountpoint, "/snap/")
}

func platformSoftware(ctx context.Context, o Options) []agentproto.SoftwareItem {
	var items []agentproto.SoftwareItem
	if f, err := os.Open(o.file("/var/lib/dpkg/status")); err == nil {
		dpkg, err := ParseDpkgStatus(f)
		f.Close()
		if err != nil {
			o.debug("dpkg status", "err", err)
		}
		items = append(items, dpkg...)
	}
	if o.Root == "" {
		if rpm, err := exec.LookPath("rpm"); err == nil {
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, rpm, "-qa", "--qf", RPMQueryFormat).Output()
			if err != nil {
				o.debug("rpm -qa", "err", err)
			}
			items = append(items, ParseRPM(bytes.NewReader(out))...)
		}
	}
	return items
}
