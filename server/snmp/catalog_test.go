package snmp

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
	"github.com/schulit/cmdb/server/cmdb"
)

func TestDefaultCatalog(t *testing.T) {
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range c.Profiles {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "printer,audiovisual,network,default" {
		t.Errorf("profiles = %s", got)
	}
	for _, v := range c.Vendors {
		if v.Source != "iana" && v.Source != "unverified" {
			t.Errorf("vendor %d (%s) does not say how it was checked", v.Enterprise, v.Vendor)
		}
		if !v.Generic && cmdb.NormalizeVendor(v.Vendor) != v.Vendor {
			t.Errorf("vendor %d: %q is not the name cmdb.NormalizeVendor gives (%q)", v.Enterprise, v.Vendor, cmdb.NormalizeVendor(v.Vendor))
		}
	}
	if _, ok := c.byEnterprise[10211]; ok {
		t.Error("10211 is BENAU A/S in the IANA registry, not BenQ; it must not be in the vendor table")
	}
	if last := c.ClassRules[len(c.ClassRules)-1]; last.Class != cmdb.ClassOther {
		t.Errorf("last class rule = %q, want a catch-all other", last.Class)
	}
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadCatalogErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, field string
		wantIn            []string
	}{
		{"unknown key in a profile", "profiles:\n  - name: x\n    colour: red\n", "profiles",
			[]string{"bad.yaml", `line 3: unknown key "colour"`}},
		{"unknown key in a match", "profiles:\n  - name: x\n    match: {enterprize: [1]}\n", "profiles",
			[]string{"bad.yaml", `unknown key "enterprize"`}},
		{"unknown top-level key", "profils: []\n", "profiles", []string{"bad.yaml", `line 1: unknown key "profils"`}},
		{"not YAML", "profiles: [\n", "profiles", []string{"bad.yaml"}},
		{"bad regex", "profiles:\n  - name: x\n    match: {sys_descr: ['(']}\n", "profiles[0].match.sys_descr[0]",
			[]string{"bad.yaml", "missing closing )"}},
		{"unknown OID name", "profiles:\n  - name: x\n    walk: [ifFoo]\n", "profiles[0].walk[0]",
			[]string{"bad.yaml", `"ifFoo" is neither a numeric OID`}},
		{"profile without a name", "profiles:\n  - walk: [ifType]\n", "profiles[0].name", []string{"bad.yaml"}},
		{"profile twice in a file", "profiles:\n  - name: x\n  - name: x\n", "profiles[1].name", []string{"bad.yaml"}},
		{"unknown class", "class_rules:\n  - class: toaster\n", "class_rules[0].class", []string{"bad.yaml", "must be one of"}},
		{"vendor without a name", "vendors:\n  - enterprise: 99999\n", "vendors[0].vendor", []string{"bad.yaml"}},
		{"vendor without a number", "vendors:\n  - vendor: X\n", "vendors[0].enterprise", []string{"bad.yaml"}},
		{"vendor source", "vendors:\n  - {enterprise: 5, vendor: X, source: rumour}\n", "vendors[0].source", []string{"bad.yaml"}},
		{"descr vendor with an empty pattern", "descr_vendors:\n  - {vendor: X}\n", "descr_vendors[0].pattern", []string{"bad.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "bad.yaml", tc.yaml)
			_, err := LoadCatalog(dir)
			if cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != tc.field {
				t.Fatalf("err = %v, want EINVALID on %s", err, tc.field)
			}
			for _, s := range tc.wantIn {
				if !strings.Contains(cmdb.ErrorMessage(err), s) {
					t.Errorf("message %q does not contain %q", cmdb.ErrorMessage(err), s)
				}
			}
		})
	}
	if _, err := LoadCatalog(filepath.Join(t.TempDir(), "missing")); cmdb.ErrorField(err) != "profiles" {
		t.Errorf("missing directory: err = %v", err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", "profiles:\n  - name: same\n    walk: [ifType]\n")
	writeFile(t, dir, "b.yml", "profiles:\n  - name: same\n    walk: [ifType]\n")
	if _, err := LoadCatalog(dir); err == nil || !strings.Contains(err.Error(), "b.yml") || !strings.Contains(err.Error(), "a.yaml") {
		t.Errorf("profile in two operator files: err = %v", err)
	}
}

func TestLoadCatalogOverrides(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "site.yaml", `
vendors:
  - {enterprise: 641, vendor: Lexmark Schulamt, source: unverified}
  - {enterprise: 64999, vendor: Tiny Displays, source: unverified}
class_rules:
  - {class: interactive_display, enterprises: [64999]}
profiles:
  - name: printer
    match: {enterprises: [641]}
    get: [sysName, .1.3.6.1.4.1.641.2.1.2.1.3.1]
    walk: [prtMarkerSuppliesTable]
  - name: tiny
    match: {sys_object_id: [1.3.6.1.4.1.64999.1]}
    walk: [ifPhysAddress]
`)
	writeFile(t, dir, "notes.txt", "not a catalog file")
	c, err := LoadCatalog(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Profile("1.3.6.1.4.1.641.6.1", "")
	if p.Name != "printer" || strings.Join(p.GetOIDs(), " ") != "1.3.6.1.2.1.1.5.0 1.3.6.1.4.1.641.2.1.2.1.3.1" ||
		strings.Join(p.WalkOIDs(), " ") != oidPrtMarkerSupplies {
		t.Errorf("operator printer profile not used: %+v", p)
	}
	if p := c.Profile("1.3.6.1.4.1.1602.4.7", ""); p.Name != "default" {
		t.Errorf("Canon now falls to %q, want default (the operator's printer profile replaced the built-in one)", p.Name)
	}
	if p := c.Profile(".1.3.6.1.4.1.64999.1.5", ""); p.Name != "tiny" {
		t.Errorf("profile = %q, want tiny", p.Name)
	}
	if p := c.Profile("1.3.6.1.4.1.64999.10", ""); p.Name != "default" {
		t.Errorf("prefix must end at an arc: profile = %q", p.Name)
	}
	if v := c.Vendor("1.3.6.1.4.1.641.6.1", "", ""); v != "Lexmark Schulamt" {
		t.Errorf("vendor = %q", v)
	}
	r := &cmdb.PollResult{SysObjectID: "1.3.6.1.4.1.64999.1", SysDescr: "Panel 9000"}
	c.Classify(r, nil)
	if r.Class != cmdb.ClassDisplay || r.Vendor != "Tiny Displays" {
		t.Errorf("class, vendor = %q, %q", r.Class, r.Vendor)
	}
}

func TestProfileSelection(t *testing.T) {
	c := DefaultCatalog()
	for _, tc := range []struct{ sysObjectID, sysDescr, want string }{
		{"1.3.6.1.4.1.641.6.1.1.1", "Lexmark MS521dn", "printer"},
		{"1.3.6.1.4.1.1602.4.7", "Canon iR-ADV C5535 /P", "printer"},
		{"1.3.6.1.4.1.11.2.3.9.1", "HP ETHERNET MULTI-ENVIRONMENT", "printer"},
		{"1.3.6.1.4.1.8072.3.2.10", "HP LaserJet Pro M404dn", "printer"},
		{"1.3.6.1.4.1.10211.4", "BenQ Projector MW560", "audiovisual"},
		{"1.3.6.1.4.1.8072.3.2.10", "Promethean ActivPanel", "audiovisual"},
		{"1.3.6.1.4.1.9.1.1208", "Cisco IOS Software, C2960X Software", "network"},
		{"1.3.6.1.4.1.41112", "Linux 4.4.153 #0 SMP", "network"},
		{"1.3.6.1.4.1.99999.1", "something", "default"},
		{"", "", "default"},
	} {
		if got := c.Profile(tc.sysObjectID, tc.sysDescr).Name; got != tc.want {
			t.Errorf("Profile(%s, %q) = %s, want %s", tc.sysObjectID, tc.sysDescr, got, tc.want)
		}
	}
}

func TestVendor(t *testing.T) {
	c := DefaultCatalog()
	for _, tc := range []struct{ sysObjectID, sysDescr, model, want string }{
		{"1.3.6.1.4.1.641.6.1.1.1", "Lexmark MS521dn", "", "Lexmark"},
		{"1.3.6.1.4.1.1602.4.7", "", "", "Canon"},
		{"1.3.6.1.4.1.18334.1.1.1.2.1.38.1.1", "KONICA MINOLTA bizhub C258", "", "Konica Minolta"},
		{"1.3.6.1.4.1.10211.4", "BenQ Projector MW560", "", "BenQ"},
		{"1.3.6.1.4.1.8072.3.2.10", "Linux EPSON Projector 5.10", "", "Epson"},
		{"1.3.6.1.4.1.8072.3.2.10", "Linux 5.10", "HP LaserJet Pro M404dn", "HP"},
		{"1.3.6.1.4.1.8072.3.2.10", "Linux 5.10", "", ""},
		{"1.3.6.1.4.1.99999", "Unknown thing", "", ""},
		{"", "", "", ""},
	} {
		if got := c.Vendor(tc.sysObjectID, tc.sysDescr, tc.model); got != tc.want {
			t.Errorf("Vendor(%s, %q, %q) = %q, want %q", tc.sysObjectID, tc.sysDescr, tc.model, got, tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	printerMIB := []gosnmp.SnmpPDU{pInt("1.3.6.1.2.1.43.11.1.1.9.1.1", 50)}
	hrPrinter := []gosnmp.SnmpPDU{pOID("1.3.6.1.2.1.25.3.2.1.2.1", oidHrDevicePrinter)}
	ports := func(n, ifType int) []gosnmp.SnmpPDU {
		var p []gosnmp.SnmpPDU
		for i := 1; i <= n; i++ {
			p = append(p, pInt("1.3.6.1.2.1.2.2.1.3."+strconv.Itoa(i), ifType))
		}
		return p
	}
	descr := func(d string) []gosnmp.SnmpPDU { return []gosnmp.SnmpPDU{pStr(oidSysDescr, d)} }
	for _, tc := range []struct {
		name        string
		sysObjectID string
		pdus        []gosnmp.SnmpPDU
		want        string
	}{
		{"imageRUNNER ADVANCE copier", "1.3.6.1.4.1.1602.4.7", append(descr("Canon iR-ADV C5535 /P"), printerMIB...), cmdb.ClassMFP},
		{"Lexmark MS printer with All-N-1 firmware tag", "1.3.6.1.4.1.641.6.1.1.1",
			append(descr("Lexmark MS521dn version CXLBL.075.272 kernel 4.11.12-yocto-standard All-N-1"), printerMIB...), cmdb.ClassPrinter},
		{"Lexmark MX multifunction", "1.3.6.1.4.1.641.6.1.1.1", append(descr("Lexmark MX521ade version MXTGM.075"), printerMIB...), cmdb.ClassMFP},
		{"HP LaserJet MFP by hrDeviceDescr", "1.3.6.1.4.1.11.2.3.9.1", slices.Concat(descr("HP ETHERNET MULTI-ENVIRONMENT"), hrPrinter,
			[]gosnmp.SnmpPDU{pStr("1.3.6.1.2.1.25.3.2.1.3.1", "HP LaserJet Pro MFP M428fdw")}), cmdb.ClassMFP},
		{"HP LaserJet printer", "1.3.6.1.4.1.11.2.3.9.1", slices.Concat(descr("HP ETHERNET MULTI-ENVIRONMENT"), hrPrinter,
			[]gosnmp.SnmpPDU{pStr("1.3.6.1.2.1.25.3.2.1.3.1", "HP LaserJet Pro M404dn")}), cmdb.ClassPrinter},
		{"Brother MFC", "1.3.6.1.4.1.2435.2.3.9.1", append(descr("Brother NC-8300h, Firmware Ver.1.05 MFC-L8690CDW"), printerMIB...), cmdb.ClassMFP},
		{"printer with Wi-Fi stays a printer", "1.3.6.1.4.1.2435.2.3.9.1", slices.Concat(descr("Brother HL-L2350DW"), printerMIB, ports(1, 71)), cmdb.ClassPrinter},
		{"BenQ projector", "1.3.6.1.4.1.10211.4", descr("BenQ Projector MW560"), cmdb.ClassProjector},
		{"Epson projector on net-snmp", "1.3.6.1.4.1.8072.3.2.10", descr("EPSON Projector EB-695Wi"), cmdb.ClassProjector},
		{"Promethean panel", "1.3.6.1.4.1.8072.3.2.10", descr("Promethean ActivPanel Titanium"), cmdb.ClassDisplay},
		{"UniFi access point", "1.3.6.1.4.1.41112", descr("UAP-AC-Pro-Gen2 6.5.28"), cmdb.ClassAccessPoint},
		{"LANCOM access point", "1.3.6.1.4.1.2356.11.1", descr("LANCOM LN-1700B 10.50.0123"), cmdb.ClassAccessPoint},
		{"Aruba AP by enterprise only", "1.3.6.1.4.1.14823.1.2.95", descr("ArubaOS (MODEL: 515)"), cmdb.ClassAccessPoint},
		{"Wi-Fi interface", "1.3.6.1.4.1.99999.1", slices.Concat(descr("Linux"), ports(1, 6), ports(1, 71)), cmdb.ClassAccessPoint},
		{"switch by name", "1.3.6.1.4.1.11.2.3.7.11.181", descr("HP J9773A 2530-24G-PoEP Switch"), cmdb.ClassSwitch},
		{"switch by port count", "1.3.6.1.4.1.9.1.1208", slices.Concat(descr("Cisco IOS Software, C2960X Software"), ports(26, 6)), cmdb.ClassSwitch},
		{"few ports is no switch", "1.3.6.1.4.1.99999.1", slices.Concat(descr("Linux"), ports(2, 6)), cmdb.ClassOther},
		{"nothing known", "", nil, cmdb.ClassOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pdus := append(slices.Clone(tc.pdus), pOID(oidSysObjectID, tc.sysObjectID))
			r := DefaultCatalog().Result(pdus)
			if r.Class != tc.want {
				t.Errorf("class = %q, want %q (vendor %q, model %q)", r.Class, tc.want, r.Vendor, r.Model)
			}
		})
	}
}
