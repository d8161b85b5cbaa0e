package collect

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/agentproto"
)

// The sysfs readers below are plain file reads under a root directory, so
// tests run them against fixture trees on any system.

// readTrim reads a small sysfs file; unreadable files (missing, or root
// only for an unprivileged agent) read as "".
func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// DMI is the machine identity from /sys/class/dmi/id.
type DMI struct {
	Vendor, Model, Serial, UUID, Chassis string
}

// ReadDMI reads vendor, model, serial, hardware UUID and chassis kind
// from sysRoot/class/dmi/id. Serial and UUID are readable only by root;
// they are left empty otherwise.
func ReadDMI(sysRoot string) DMI {
	dir := filepath.Join(sysRoot, "class", "dmi", "id")
	read := func(name string) string { return CleanDMI(readTrim(filepath.Join(dir, name))) }
	d := DMI{
		Vendor: read("sys_vendor"),
		Model:  read("product_name"),
		Serial: read("product_serial"),
		UUID:   strings.ToLower(read("product_uuid")),
	}
	if t := readTrim(filepath.Join(dir, "chassis_type")); t != "" {
		d.Chassis = chassisFromText(t)
	}
	return d
}

var usbPath = regexp.MustCompile(`/usb\d+/`)

// NICKindSysfs tells the kind of a Linux network interface from sysfs:
// virtual when it lives under devices/virtual or has a virtual name, usb
// when its device hangs off a USB bus, dock when it is a PCI device the
// kernel marks removable (behind a Thunderbolt/USB4 port), otherwise
// physical. A USB NIC in a docking station cannot be told from a USB
// adapter here, so it stays usb.
func NICKindSysfs(sysRoot, name string) string {
	if IsVirtualName(name) {
		return KindVirtual
	}
	link, err := os.Readlink(filepath.Join(sysRoot, "class", "net", name))
	if err == nil {
		link = filepath.ToSlash(link)
		if strings.Contains(link, "/devices/virtual/") {
			return KindVirtual
		}
		if usbPath.MatchString(link) {
			return KindUSB
		}
	}
	devLink := filepath.Join(sysRoot, "class", "net", name, "device")
	if _, err := os.Lstat(devLink); err != nil {
		// No backing device at all: a software interface.
		if _, statErr := os.Lstat(filepath.Join(sysRoot, "class", "net", name)); statErr == nil {
			return KindVirtual
		}
		return KindPhysical
	}
	if sub, err := os.Readlink(filepath.Join(devLink, "subsystem")); err == nil && filepath.Base(sub) == "usb" {
		return KindUSB
	}
	if real, err := filepath.EvalSymlinks(devLink); err == nil && usbPath.MatchString(filepath.ToSlash(real)+"/") {
		return KindUSB
	}
	// The kernel marks PCI devices behind an external-facing port (a
	// Thunderbolt or USB4 dock) removable.
	if b, err := os.ReadFile(filepath.Join(devLink, "removable")); err == nil && strings.TrimSpace(string(b)) == "removable" {
		return KindDock
	}
	return KindPhysical
}

// BatterySysfs sums the batteries under sysRoot/class/power_supply (type
// Battery, not a peripheral's): design and full-charge capacity in Wh and
// the health percentage. It returns nil when there is no battery or its
// capacity is unknown.
func BatterySysfs(sysRoot string) *agentproto.Battery {
	dir := filepath.Join(sysRoot, "class", "power_supply")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var design, full float64
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if readTrim(filepath.Join(p, "type")) != "Battery" || readTrim(filepath.Join(p, "scope")) == "Device" {
			continue
		}
		d, f := batteryWh(p)
		if d > 0 && f > 0 {
			design += d
			full += f
		}
	}
	if design <= 0 {
		return nil
	}
	return &agentproto.Battery{
		DesignWh:      round(design, 2),
		FullWh:        round(full, 2),
		HealthPercent: round(full/design*100, 1),
	}
}

// batteryWh reads one battery: energy_* in µWh, or charge_* in µAh
// times voltage_min_design in µV.
func batteryWh(p string) (design, full float64) {
	num := func(name string) float64 {
		v, err := strconv.ParseFloat(readTrim(filepath.Join(p, name)), 64)
		if err != nil || v < 0 {
			return 0
		}
		return v
	}
	if d := num("energy_full_design"); d > 0 {
		return d / 1e6, num("energy_full") / 1e6
	}
	volt := num("voltage_min_design")
	if volt == 0 {
		volt = num("voltage_now")
	}
	return num("charge_full_design") * volt / 1e12, num("charge_full") * volt / 1e12
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// DiskInfoSysfs returns model and serial of the disk holding a block
// device (a partition's parent disk, a device-mapper volume's first
// underlying disk), where sysfs lets this user read them.
func DiskInfoSysfs(sysRoot, device string) (model, serial string) {
	name := filepath.Base(device)
	if resolved, err := filepath.EvalSymlinks(device); err == nil {
		name = filepath.Base(resolved) // /dev/mapper/x → dm-0
	}
	block := filepath.Join(sysRoot, "class", "block")
	for range 4 { // dm on dm (LVM on LUKS) is at most a few levels deep
		slaves, _ := os.ReadDir(filepath.Join(block, name, "slaves"))
		if len(slaves) == 0 {
			break
		}
		name = slaves[0].Name()
	}
	disk := name
	if _, err := os.Stat(filepath.Join(block, name, "partition")); err == nil {
		if real, err := filepath.EvalSymlinks(filepath.Join(block, name)); err == nil {
			disk = filepath.Base(filepath.Dir(real))
		}
	}
	dev := filepath.Join(block, disk, "device")
	model = readTrim(filepath.Join(dev, "model"))
	serial = CleanDMI(readTrim(filepath.Join(dev, "serial")))
	if serial == "" {
		serial = vpdSerial(filepath.Join(dev, "vpd_pg80"))
	}
	return strings.Join(strings.Fields(model), " "), serial
}

// vpdSerial reads a SCSI unit serial number page (0x80): four header
// bytes, then the serial.
func vpdSerial(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 5 || b[1] != 0x80 {
		return ""
	}
	n := int(b[3])
	if 4+n > len(b) {
		n = len(b) - 4
	}
	return CleanDMI(string(b[4 : 4+n]))
}
