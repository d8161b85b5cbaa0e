package collect

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"
)

// dockWords in an adapter's description or port name say the NIC sits in
// a docking station (or a Thunderbolt dock or adapter): it moves between
// machines, so its MAC identifies none of them.
var dockWords = []string{"dock", "thunderbolt", "port replicator", "usb-c hub", "usb c hub"}

// virtualWords in a Windows adapter description say the adapter is
// software: hypervisors, VPNs, tunnels, miniports.
var virtualWords = []string{"virtual", "hyper-v", "vmware", "virtualbox", "tap-windows", "wintun", "wireguard",
	"miniport", "vpn", "loopback", "teredo", "isatap", "bluetooth", "kernel debug", "wi-fi direct"}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// NICKindWindows tells the kind of a Windows network adapter from its PnP
// instance id (e.g. `USB\VID_0BDA&PID_8153\…`, `PCI\VEN_8086&…`) and its
// interface description ("Realtek USB GbE Family Controller", "Dell
// Thunderbolt Dock Ethernet"): dock when the description names a dock or
// Thunderbolt, usb when the device hangs off USB, virtual for software
// adapters (ROOT\ and SWD\ devices, hypervisor and VPN adapters),
// otherwise physical.
func NICKindWindows(pnpID, description string) string {
	id, desc := strings.ToUpper(strings.TrimSpace(pnpID)), strings.ToLower(description)
	switch {
	case strings.HasPrefix(id, `ROOT\`), strings.HasPrefix(id, `SWD\`), containsAny(desc, virtualWords):
		return KindVirtual
	case containsAny(desc, dockWords):
		return KindDock
	case strings.HasPrefix(id, `USB\`), strings.HasPrefix(id, `USB4\`), strings.Contains(desc, "usb"):
		return KindUSB
	}
	return KindPhysical
}

// ParseHardwarePorts parses the output of `networksetup
// -listallhardwareports` into the hardware port name of each device
// ("en7" → "USB 10/100/1000 LAN").
func ParseHardwarePorts(out []byte) map[string]string {
	ports := map[string]string{}
	var port string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			port = "" // a blank line ends a block
			continue
		}
		switch strings.TrimSpace(k) {
		case "Hardware Port":
			port = strings.TrimSpace(v)
		case "Device":
			if d := strings.TrimSpace(v); d != "" && port != "" {
				ports[d] = port
			}
		}
	}
	return ports
}

// builtinPort matches the hardware port names macOS gives a Mac's own
// NICs; every other port with an Ethernet address is an adapter someone
// plugged in (macOS names those after the product, or "USB 10/100/1000
// LAN", "Ethernet Adapter (en4)").
var builtinPort = regexp.MustCompile(`^(Ethernet( \d+)?|Wi-Fi|AirPort)$`)

// thunderboltPort matches the ports of IP over Thunderbolt: members of
// the Thunderbolt Bridge, not NICs.
var thunderboltPort = regexp.MustCompile(`^Thunderbolt \d+$`)

// NICKindDarwin tells the kind of a macOS interface from its name and
// its hardware port name (ParseHardwarePorts): virtual for virtual names,
// bridges, IP over Thunderbolt, Bluetooth PAN and VPNs; physical for the
// built-in Ethernet and Wi-Fi ports; dock for ports naming a dock or
// Thunderbolt; usb for every other port (USB adapters, iPhone tethering,
// docks named by their product). An interface without a port is physical
// (networksetup could not be read).
func NICKindDarwin(name, port string) string {
	p := strings.ToLower(port)
	switch {
	case IsVirtualName(name), thunderboltPort.MatchString(port), strings.Contains(p, "bridge"),
		strings.Contains(p, "bluetooth"), strings.Contains(p, "vpn"):
		return KindVirtual
	case port == "", builtinPort.MatchString(port):
		return KindPhysical
	case containsAny(p, dockWords):
		return KindDock
	}
	return KindUSB
}
