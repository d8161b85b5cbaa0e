package collect

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/schulit/cmdb/agentproto"
)

func TestParseDpkgStatus(t *testing.T) {
	f, err := os.Open("testdata/dpkg-status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParseDpkgStatus(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []agentproto.SoftwareItem{
		{Name: "adduser", Publisher: "Debian Adduser Developers", Version: "3.134"},
		{Name: "libc6", Publisher: "GNU Libc Maintainers", Version: "2.36-9+deb12u4"},
		{Name: "zz-last", Version: "9"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v (removed and half-installed packages must be left out)", got, want)
	}
}

func TestParseDpkgStatusLongLine(t *testing.T) {
	long := strings.Repeat("x", 200<<10)
	in := "Package: big\nStatus: install ok installed\nDescription: " + long + "\n " + long +
		"\nVersion: 1.2\n\nPackage: next\nStatus: install ok installed\nVersion: 3\n"
	got, err := ParseDpkgStatus(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []agentproto.SoftwareItem{{Name: "big", Version: "1.2"}, {Name: "next", Version: "3"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestParseRPM(t *testing.T) {
	in := "bash\t5.2.26-3.fc40\tFedora Project\ngpg-pubkey\ta15b79cc-63d04c2c\t(none)\nmyapp\t1.0-1\t(none)\n\n"
	got := ParseRPM(strings.NewReader(in))
	want := []agentproto.SoftwareItem{
		{Name: "bash", Publisher: "Fedora Project", Version: "5.2.26-3.fc40"},
		{Name: "myapp", Version: "1.0-1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestSortSoftware(t *testing.T) {
	got := SortSoftware([]agentproto.SoftwareItem{
		{Name: "b", Version: "1"}, {Name: "a", Version: "2"}, {Name: "a", Version: "1"}, {Name: "b", Version: "1"},
	})
	want := []agentproto.SoftwareItem{{Name: "a", Version: "1"}, {Name: "a", Version: "2"}, {Name: "b", Version: "1"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestChassisKind(t *testing.T) {
	tests := []struct {
		code int
		want string
	}{
		{8, "laptop"}, {9, "laptop"}, {10, "laptop"}, {14, "laptop"}, {31, "laptop"}, {32, "laptop"},
		{3, "desktop"}, {4, "desktop"}, {5, "desktop"}, {6, "desktop"}, {7, "desktop"}, {13, "desktop"},
		{15, "desktop"}, {16, "desktop"}, {35, "desktop"}, {36, "desktop"},
		{30, "tablet"},
		{17, "server"}, {23, "server"}, {28, "server"},
		{1, "other"}, {2, "other"}, {11, "other"}, {0, "other"}, {99, "other"},
	}
	for _, tt := range tests {
		if got := ChassisKind(tt.code); got != tt.want {
			t.Errorf("ChassisKind(%d) = %q, want %q", tt.code, got, tt.want)
		}
	}
	if got := chassisFromText("junk"); got != "" {
		t.Errorf("chassisFromText(junk) = %q, want empty", got)
	}
}

func TestCleanDMI(t *testing.T) {
	tests := map[string]string{
		"  PF2ABCDE \n":                        "PF2ABCDE",
		"To be filled by O.E.M.":               "",
		"Default string":                       "",
		"System Serial Number":                 "",
		"Dell  Inc.":                           "Dell Inc.",
		"00000000-0000-0000-0000-000000000000": "",
	}
	for in, want := range tests {
		if got := CleanDMI(in); got != want {
			t.Errorf("CleanDMI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadDMI(t *testing.T) {
	got := ReadDMI("testdata/sys-dmi")
	want := DMI{Vendor: "LENOVO", Model: "20XW00A5GE", Serial: "PF2ABCDE",
		UUID: "4c4c4544-0042-3510-8052-b4c04f4b4e32", Chassis: "laptop"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// Not root: serial and UUID unreadable (here: absent) are left out,
	// placeholders too.
	got = ReadDMI("testdata/sys-dmi-user")
	want = DMI{Model: "OptiPlex 7090", Chassis: "desktop"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := ReadDMI("testdata/does-not-exist"); got != (DMI{}) {
		t.Errorf("missing DMI: got %+v, want zero", got)
	}
}

func TestBatterySysfs(t *testing.T) {
	tests := []struct {
		root string
		want *agentproto.Battery
	}{
		// The mouse battery (scope Device) is not the machine's.
		{"testdata/sys-battery", &agentproto.Battery{DesignWh: 50, FullWh: 42.5, HealthPercent: 85}},
		// charge_* in µAh × voltage_min_design in µV.
		{"testdata/sys-charge", &agentproto.Battery{DesignWh: 45.6, FullWh: 34.2, HealthPercent: 75}},
		{"testdata/sys-nobattery", nil},
		{"testdata/does-not-exist", nil},
	}
	for _, tt := range tests {
		if got := BatterySysfs(tt.root); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.root, got, tt.want)
		}
	}
}

// sysTree builds a sysfs-like tree: entries ending in "->" target are
// symlinks, others are files with the given content ("" makes a dir).
func sysTree(t *testing.T, entries map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for path, content := range entries {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(content, "->"):
			if err := os.Symlink(strings.TrimSpace(content[2:]), p); err != nil {
				t.Skipf("symlinks not supported: %v", err)
			}
		case content == "":
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

func TestNICKindSysfs(t *testing.T) {
	pci := "devices/pci0000:00/0000:00:1f.6"
	usb := "devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0"
	root := sysTree(t, map[string]string{
		pci + "/net/eno1/address":     "aa",
		pci + "/subsystem":            "-> ../../../bus/pci",
		pci + "/net/eno1/device":      "-> ../../../0000:00:1f.6",
		"class/net/eno1":              "-> ../../" + pci + "/net/eno1",
		usb + "/net/enx00e04c/addr":   "aa",
		usb + "/net/enx00e04c/device": "-> ../../../2-1:1.0",
		"class/net/enx00e04c":         "-> ../../" + usb + "/net/enx00e04c",
		// A USB NIC whose class link does not show the bus: its device's
		// subsystem does.
		"class/net/eth1/device/subsystem": "-> ../../../bus/usb",
		"devices/virtual/net/foo0/addr":   "aa",
		"class/net/foo0":                  "-> ../../devices/virtual/net/foo0",
		"class/net/docker0":               "",
		"class/net/veth1a2b":              "",
		"class/net/nodev0/addr":           "aa",
		// A NIC in a Thunderbolt dock: PCI, behind an external port.
		"class/net/enp58s0/device/removable": "removable\n",
		"class/net/enp0s31/device/removable": "fixed\n",
	})
	tests := map[string]string{
		"eno1":       KindPhysical,
		"enx00e04c":  KindUSB,
		"eth1":       KindUSB,
		"foo0":       KindVirtual,
		"docker0":    KindVirtual,
		"veth1a2b":   KindVirtual,
		"br-1234abc": KindVirtual,
		"wg0":        KindVirtual,
		"lo":         KindVirtual,
		"nodev0":     KindVirtual, // no backing device
		"missing0":   KindPhysical,
		"enp58s0":    KindDock,
		"enp0s31":    KindPhysical,
	}
	for name, want := range tests {
		if got := NICKindSysfs(root, name); got != want {
			t.Errorf("NICKindSysfs(%s) = %q, want %q", name, got, want)
		}
	}
}

func TestDiskInfoSysfs(t *testing.T) {
	nvme := "devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1"
	root := sysTree(t, map[string]string{
		nvme + "/device/model":                        "SAMSUNG MZVL2512HCJQ-00BL7   \n",
		nvme + "/device/serial":                       "S64KNX0T123456\n",
		nvme + "/nvme0n1p2/partition":                 "2",
		nvme + "/nvme0n1p3/partition":                 "3",
		"class/block/nvme0n1":                         "-> ../../" + nvme,
		"class/block/nvme0n1p2":                       "-> ../../" + nvme + "/nvme0n1p2",
		"class/block/nvme0n1p3":                       "-> ../../" + nvme + "/nvme0n1p3",
		"devices/virtual/block/dm-0/slaves/nvme0n1p3": "-> ../../../../" + nvme + "/nvme0n1p3",
		"class/block/dm-0":                            "-> ../../devices/virtual/block/dm-0",
		"class/block/vda":                             "",
	})
	tests := []struct{ dev, model, serial string }{
		{"/dev/nvme0n1p2", "SAMSUNG MZVL2512HCJQ-00BL7", "S64KNX0T123456"},
		{"/dev/dm-0", "SAMSUNG MZVL2512HCJQ-00BL7", "S64KNX0T123456"}, // LUKS/LVM on a partition
		{"/dev/vda", "", ""},
	}
	for _, tt := range tests {
		model, serial := DiskInfoSysfs(root, tt.dev)
		if model != tt.model || serial != tt.serial {
			t.Errorf("DiskInfoSysfs(%s) = %q, %q; want %q, %q", tt.dev, model, serial, tt.model, tt.serial)
		}
	}
}

func TestQuantizeFree(t *testing.T) {
	const gb = 1 << 30
	// Writing a little does not change the reported free space.
	if a, b := QuantizeFree(100*gb+5, 256*gb), QuantizeFree(100*gb+200<<20, 256*gb); a != b {
		t.Errorf("small change moved quantized free space: %d vs %d", a, b)
	}
	if got := QuantizeFree(100*gb, 256*gb); got > 100*gb || got < 97*gb {
		t.Errorf("QuantizeFree = %d, want within 1 %% below %d", got, uint64(100*gb))
	}
}

// smbiosStruct builds one SMBIOS structure.
func smbiosStruct(typ byte, formatted []byte, strs ...string) []byte {
	b := append([]byte{typ, byte(4 + len(formatted)), 0, 0}, formatted...)
	for _, s := range strs {
		b = append(append(b, s...), 0)
	}
	if len(strs) == 0 {
		b = append(b, 0)
	}
	return append(b, 0)
}

func TestParseSMBIOS(t *testing.T) {
	uuid := make([]byte, 16)
	binary.LittleEndian.PutUint32(uuid[0:], 0x4c4c4544)
	binary.LittleEndian.PutUint16(uuid[4:], 0x0042)
	binary.LittleEndian.PutUint16(uuid[6:], 0x3510)
	copy(uuid[8:], []byte{0x80, 0x52, 0xb4, 0xc0, 0x4f, 0x4b, 0x4e, 0x32})
	// Type 1: manufacturer 1, product 2, version 3, serial 4, UUID.
	sys := append([]byte{1, 2, 3, 4}, uuid...)
	var table []byte
	table = append(table, smbiosStruct(0, []byte{1, 2, 0, 0}, "BIOS vendor", "1.0")...)
	table = append(table, smbiosStruct(1, append(sys, 6, 0, 0), "Dell Inc.", "Latitude 5440", "Not Specified", "7XK2Q34")...)
	table = append(table, smbiosStruct(3, []byte{1, 0x80 | 10, 0, 0, 0}, "Dell Inc.")...)
	table = append(table, smbiosStruct(127, nil)...)
	table = append(table, smbiosStruct(1, append([]byte{1, 1, 1, 1}, uuid...), "after the end")...)
	got := ParseSMBIOS(table)
	want := DMI{Vendor: "Dell Inc.", Model: "Latitude 5440", Serial: "7XK2Q34",
		UUID: "4c4c4544-0042-3510-8052-b4c04f4b4e32", Chassis: "laptop"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// Truncated data yields no panic and what was readable.
	for i := range len(table) {
		ParseSMBIOS(table[:i])
	}
}

func TestPlistString(t *testing.T) {
	plist := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
	<key>CFBundleIdentifier</key>
	<string>org.mozilla.firefox</string>
	<key>LSRequiresNativeExecution</key>
	<true/>
	<key>CFBundleShortVersionString</key>
	<string>128.0 &amp; more</string>
</dict></plist>`)
	if got := PlistString(plist, "CFBundleShortVersionString"); got != "128.0 & more" {
		t.Errorf("version = %q", got)
	}
	if got := PlistString(plist, "LSRequiresNativeExecution"); got != "" {
		t.Errorf("non-string value = %q, want empty", got)
	}
	if got := PlistString([]byte("bplist00..."), "CFBundleShortVersionString"); got != "" {
		t.Errorf("binary plist = %q, want empty", got)
	}
}

func TestParseIoreg(t *testing.T) {
	out := []byte(`+-o MacBookPro18,3  <class IOPlatformExpertDevice, id 0x100000110, registered>
    {
      "IOPlatformUUID" = "6B29FC40-CA47-1067-B31D-00DD010662DA"
      "model" = <"MacBookPro18,3">
      "manufacturer" = <"Apple Inc.">
      "IOPlatformSerialNumber" = "C02XG0FDH7JY"
    }`)
	got := ParseIoreg(out)
	want := DMI{Vendor: "Apple Inc.", Model: "MacBookPro18,3", Serial: "C02XG0FDH7JY",
		UUID: "6b29fc40-ca47-1067-b31d-00dd010662da", Chassis: "laptop"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestIsVirtualName(t *testing.T) {
	for name, want := range map[string]bool{
		"eth0": false, "enp0s31f6": false, "wlp2s0": false, "Ethernet": false, "WLAN": false, "en0": false,
		"docker0": true, "virbr0": true, "vmnet8": true, "tun0": true, "tap0": true, "wg0": true,
		"vEthernet (WSL)": true, "VirtualBox Host-Only Network": true, "utun3": true, "awdl0": true,
	} {
		if got := IsVirtualName(name); got != want {
			t.Errorf("IsVirtualName(%q) = %v, want %v", name, got, want)
		}
	}
}
