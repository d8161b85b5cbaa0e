package collect

import (
	"context"
	"strconv"
	"unsafe"

	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/host"
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"github.com/schulit/cmdb/agentproto"
)

var procGetSystemFirmwareTable = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetSystemFirmwareTable")

// smbiosTable returns the raw SMBIOS structure table, without WMI.
func smbiosTable() []byte {
	const rsmb = 'R'<<24 | 'S'<<16 | 'M'<<8 | 'B'
	if procGetSystemFirmwareTable.Find() != nil {
		return nil
	}
	n, _, _ := procGetSystemFirmwareTable.Call(rsmb, 0, 0, 0)
	if n == 0 {
		return nil
	}
	buf := make([]byte, n)
	got, _, _ := procGetSystemFirmwareTable.Call(rsmb, 0, uintptr(unsafe.Pointer(&buf[0])), n)
	if got == 0 || got > n || got < 8 {
		return nil
	}
	// RawSMBIOSData: 4 version bytes, DWORD length, then the table.
	length := int(uint32(buf[4]) | uint32(buf[5])<<8 | uint32(buf[6])<<16 | uint32(buf[7])<<24)
	return buf[8:min(8+length, int(got))]
}

func platformSystem(ctx context.Context, o Options, s *agentproto.InventorySystem) {
	d := ParseSMBIOS(smbiosTable())
	if d.Vendor == "" || d.Model == "" {
		if k, err := registry.OpenKey(registry.LOCAL_MACHINE, `HARDWARE\DESCRIPTION\System\BIOS`, registry.QUERY_VALUE); err == nil {
			d.Vendor = firstNonEmpty(d.Vendor, regString(k, "SystemManufacturer"))
			d.Model = firstNonEmpty(d.Model, regString(k, "SystemProductName"))
			k.Close()
		}
	}
	s.Vendor, s.Model, s.Serial, s.HardwareUUID, s.Chassis = d.Vendor, d.Model, d.Serial, d.UUID, d.Chassis
	if name, _, version, err := host.PlatformInformationWithContext(ctx); err == nil {
		s.OSName, s.OSVersion = name, version
	}
	if k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Windows NT\CurrentVersion`, registry.QUERY_VALUE|registry.WOW64_64KEY); err == nil {
		build := regString(k, "CurrentBuildNumber")
		if ubr, _, err := k.GetIntegerValue("UBR"); err == nil && build != "" {
			build += "." + strconv.FormatUint(ubr, 10)
		}
		s.OSBuild = build
		k.Close()
	}
}

func regString(k registry.Key, name string) string {
	v, _, err := k.GetStringValue(name)
	if err != nil {
		return ""
	}
	return CleanDMI(v)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func platformNICKind(o Options, name string) string {
	if IsVirtualName(name) {
		return KindVirtual
	}
	guid, desc, ok := adapterByName(name)
	if !ok {
		o.debug("network adapter not found", "name", name)
		return KindPhysical
	}
	return NICKindWindows(pnpInstanceID(guid), desc)
}

// adapterByName finds the adapter whose friendly name (the name Go's net
// package gives the interface) is name, and returns its GUID and
// interface description.
func adapterByName(name string) (guid, desc string, ok bool) {
	size := uint32(16 << 10)
	for range 3 {
		buf := make([]byte, size)
		aa := (*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0]))
		err := windows.GetAdaptersAddresses(windows.AF_UNSPEC, windows.GAA_FLAG_SKIP_ANYCAST|windows.GAA_FLAG_SKIP_MULTICAST|
			windows.GAA_FLAG_SKIP_DNS_SERVER, 0, aa, &size)
		if err == windows.ERROR_BUFFER_OVERFLOW {
			continue
		} else if err != nil {
			return "", "", false
		}
		for a := aa; a != nil; a = a.Next {
			if windows.UTF16PtrToString(a.FriendlyName) == name {
				return windows.BytePtrToString(a.AdapterName), windows.UTF16PtrToString(a.Description), true
			}
		}
		return "", "", false
	}
	return "", "", false
}

// pnpInstanceID reads the PnP instance id of the network adapter with
// this GUID ("USB\VID_0BDA&PID_8153\…"), "" when unreadable.
func pnpInstanceID(guid string) string {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE,
		`SYSTEM\CurrentControlSet\Control\Network\{4D36E972-E325-11CE-BFC1-08002BE10318}\`+guid+`\Connection`, registry.QUERY_VALUE)
	if err != nil {
		return ""
	}
	defer k.Close()
	v, _, err := k.GetStringValue("PnPInstanceId")
	if err != nil {
		return ""
	}
	return v
}

func platformBattery(Options) *agentproto.Battery { return nil }

func platformDiskInfo(Options, string) (string, string) { return "", "" }

func skipPartition(p disk.PartitionStat) bool { return p.Fstype == "" }

// platformSoftware reads the Uninstall keys of the registry, 64- and
// 32-bit views. It never queries Win32_Product, which makes Windows
// Installer verify (and possibly repair) every MSI package.
func platformSoftware(context.Context, Options) []agentproto.SoftwareItem {
	var items []agentproto.SoftwareItem
	for _, path := range []string{
		`SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`,
		`SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall`,
	} {
		root, err := registry.OpenKey(registry.LOCAL_MACHINE, path, registry.ENUMERATE_SUB_KEYS|registry.WOW64_64KEY)
		if err != nil {
			continue
		}
		names, _ := root.ReadSubKeyNames(-1)
		for _, n := range names {
			k, err := registry.OpenKey(root, n, registry.QUERY_VALUE)
			if err != nil {
				continue
			}
			if it, ok := uninstallItem(k); ok {
				items = append(items, it)
			}
			k.Close()
		}
		root.Close()
	}
	return items
}

// uninstallItem skips entries Programs and Features hides too: system
// components, updates and entries without a display name.
func uninstallItem(k registry.Key) (agentproto.SoftwareItem, bool) {
	name, _, err := k.GetStringValue("DisplayName")
	if err != nil || name == "" {
		return agentproto.SoftwareItem{}, false
	}
	if sc, _, err := k.GetIntegerValue("SystemComponent"); err == nil && sc == 1 {
		return agentproto.SoftwareItem{}, false
	}
	if p, _, _ := k.GetStringValue("ParentKeyName"); p != "" {
		return agentproto.SoftwareItem{}, false
	}
	if rt, _, _ := k.GetStringValue("ReleaseType"); rt == "Update" || rt == "Hotfix" || rt == "Security Update" {
		return agentproto.SoftwareItem{}, false
	}
	pub, _, _ := k.GetStringValue("Publisher")
	ver, _, _ := k.GetStringValue("DisplayVersion")
	return agentproto.SoftwareItem{Name: name, Publisher: pub, Version: ver}, true
}
