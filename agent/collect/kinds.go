package collect

import (
	"strconv"
	"strings"
)

// NIC kinds, as in cmdb.InventoryNIC.Kind.
const (
	KindPhysical = "physical"
	KindVirtual  = "virtual"
	KindUSB      = "usb"
	KindDock     = "dock"
)

// Chassis kinds, as in cmdb.InventorySystem.Chassis.
const (
	ChassisLaptop  = "laptop"
	ChassisDesktop = "desktop"
	ChassisTablet  = "tablet"
	ChassisServer  = "server"
	ChassisOther   = "other"
)

// ChassisKind maps an SMBIOS chassis type code (DMI chassis_type) to a
// chassis kind; an unknown or unreadable code is "other".
func ChassisKind(code int) string {
	switch code {
	case 8, 9, 10, 14, 31, 32: // portable, laptop, notebook, sub notebook, convertible, detachable
		return ChassisLaptop
	case 3, 4, 5, 6, 7, 13, 15, 16, 35, 36: // desktop, low profile, pizza box, mini tower, tower, all in one, space-saving, lunch box, mini PC, stick PC
		return ChassisDesktop
	case 30: // tablet
		return ChassisTablet
	case 17, 23, 28: // main server chassis, rack mount, blade
		return ChassisServer
	default:
		return ChassisOther
	}
}

// chassisFromText parses a DMI chassis_type file's content.
func chassisFromText(s string) string {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return ""
	}
	return ChassisKind(n)
}

// placeholders are values firmware vendors leave in DMI fields that
// identify nothing; they must not become a serial that merges machines.
var placeholders = map[string]bool{
	"to be filled by o.e.m.": true, "to be filled by oem": true, "default string": true,
	"system serial number": true, "system product name": true, "system manufacturer": true,
	"not specified": true, "not applicable": true, "none": true, "n/a": true, "na": true,
	"0": true, "00000000": true, "0123456789": true, "123456789": true, "1234567890": true,
	"serial": true, "o.e.m.": true, "oem": true, "invalid": true, "unknown": true,
	"chassis serial number": true, "base board serial number": true, "xxxxxxxxxx": true,
	"03000200-0400-0500-0006-000700080009": true,
	"00000000-0000-0000-0000-000000000000": true,
	"ffffffff-ffff-ffff-ffff-ffffffffffff": true,
}

// CleanDMI trims a DMI or SMBIOS value and returns "" for placeholders.
func CleanDMI(s string) string {
	s = strings.Join(strings.Fields(strings.Trim(s, "\x00")), " ")
	if placeholders[strings.ToLower(s)] {
		return ""
	}
	return s
}

// virtualPrefixes are interface names that are virtual on every system:
// containers, bridges, hypervisors, tunnels and VPNs.
var virtualPrefixes = []string{
	"lo", "docker", "veth", "br-", "virbr", "vmnet", "vboxnet", "tun", "tap", "wg",
	"zt", "tailscale", "utun", "cni", "flannel", "cali", "vxlan", "kube", "podman",
	"lxc", "lxd", "dummy", "ifb", "gif", "stf", "awdl", "llw", "anpi", "bridge", "ap1",
}

// IsVirtualName reports whether an interface name alone says the
// interface is virtual.
func IsVirtualName(name string) bool {
	lower := strings.ToLower(name)
	for _, p := range virtualPrefixes {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	// Windows friendly names.
	for _, w := range []string{"vethernet", "virtualbox", "vmware", "hyper-v", "loopback", "isatap", "teredo", "bluetooth"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}
