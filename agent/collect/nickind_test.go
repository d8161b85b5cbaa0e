package collect

import (
	"os"
	"testing"
)

func TestNICKindWindows(t *testing.T) {
	for _, tt := range []struct{ pnp, desc, want string }{
		{`PCI\VEN_8086&DEV_15BC&SUBSYS_229B17AA&REV_10\3&11583659&0&FE`, "Intel(R) Ethernet Connection (7) I219-V", KindPhysical},
		{`PCI\VEN_8086&DEV_2723&SUBSYS_00848086&REV_1A\4&2A3B9A0A&0&00E8`, "Intel(R) Wi-Fi 6 AX200 160MHz", KindPhysical},
		{`USB\VID_0BDA&PID_8153\000001000000`, "Realtek USB GbE Family Controller", KindUSB},
		{`USB\VID_17EF&PID_A387\301D48C6E`, "Lenovo USB-C Dock Ethernet", KindDock},
		{`USB\VID_0BDA&PID_8153&MI_00\7&1D8C0E0B&0&0000`, "Dell Universal Dock D6000", KindDock},
		{`PCI\VEN_8086&DEV_15B8&SUBSYS_08861028&REV_00\6&1B0C7F2A&0&00000008`, "Intel(R) Ethernet Connection (Thunderbolt Dock WD19TB)", KindDock},
		{`USB\VID_05AC&PID_12A8&MI_02\6&2C1D2B3&0&0002`, "Apple Mobile Device Ethernet", KindUSB},
		{`ROOT\VMS_MP\0000`, "Hyper-V Virtual Ethernet Adapter", KindVirtual},
		{`SWD\MSRRAS\MS_NDISWANIP`, "WAN Miniport (IP)", KindVirtual},
		{`ROOT\NET\0000`, "TAP-Windows Adapter V9", KindVirtual},
		{``, "ASIX AX88179 USB 3.0 to Gigabit Ethernet Adapter", KindUSB}, // PnP id unreadable
		{``, "", KindPhysical},
	} {
		if got := NICKindWindows(tt.pnp, tt.desc); got != tt.want {
			t.Errorf("NICKindWindows(%q, %q) = %s, want %s", tt.pnp, tt.desc, got, tt.want)
		}
	}
}

func TestNICKindDarwin(t *testing.T) {
	out, err := os.ReadFile("testdata/darwin/networksetup-listallhardwareports.txt")
	if err != nil {
		t.Fatal(err)
	}
	ports := ParseHardwarePorts(out)
	for _, tt := range []struct{ dev, port, want string }{
		{"en0", "Ethernet", KindPhysical},
		{"en1", "Wi-Fi", KindPhysical},
		{"bridge0", "Thunderbolt Bridge", KindVirtual},
		{"en7", "USB 10/100/1000 LAN", KindUSB},
		{"en8", "CalDigit TS3 Plus", KindUSB}, // a dock named by its product: external all the same
		{"en9", "Thunderbolt Ethernet Slot 1", KindDock},
		{"en10", "Dell Universal Dock D6000", KindDock},
		{"en11", "iPhone USB", KindUSB},
		{"en12", "Bluetooth PAN", KindVirtual},
		{"en2", "Thunderbolt 1", KindVirtual},
		{"en5", "", KindPhysical}, // not listed: nothing known
	} {
		if ports[tt.dev] != tt.port {
			t.Errorf("port of %s = %q, want %q", tt.dev, ports[tt.dev], tt.port)
		}
		if got := NICKindDarwin(tt.dev, ports[tt.dev]); got != tt.want {
			t.Errorf("NICKindDarwin(%s, %q) = %s, want %s", tt.dev, ports[tt.dev], got, tt.want)
		}
	}
	if len(ports) != 10 {
		t.Errorf("ports = %v, want 10", ports)
	}
}
