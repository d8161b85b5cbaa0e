package demo

import (
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// ConnectorSource is the source of the authority's inventory export.
const ConnectorSource = "connector:demo"

var notes = []string{"Leihgerät Schüler", "Akku schwach", "Displayschaden gemeldet", "Netzteil fehlt", "Ersatzgerät"}

// duplicates turns four devices into duplicates waiting for review: each
// was entered twice in the export with a mistyped serial, and a source
// that sees neither serial matches both records.
func (g *gen) duplicates() {
	for _, c := range []struct {
		school, room, class string
		byMAC               bool
	}{
		{"FSG", "0.01", cmdb.ClassDesktop, false},
		{"OSS", "002", cmdb.ClassLaptop, false},
		{"BSZ", "A0.01", cmdb.ClassMFP, true},
		{"GSP", "2.05", cmdb.ClassPrinter, true},
	} {
		d := g.find(c.school, c.room, c.class)
		d.Twin = &twin{Tag: g.assetTag(d.School), Serial: typo(d.Serial), ByMAC: c.byMAC}
		d.ExportMAC = c.byMAC
		if c.byMAC {
			d.SNMP = true
		} else if !d.Agent {
			d.Agent, d.AgentKey = true, g.uuid()
		}
	}
}

func (g *gen) find(school, room, class string) *device {
	for _, d := range g.p.Devices {
		if d.School.Short == school && d.Room == room && d.Class == class && d.Status == cmdb.StatusInUse {
			return d
		}
	}
	panic("demo: no " + class + " in " + school + " room " + room)
}

// typo returns the serial as a hurried data entry would: a 0 read as O,
// a 1 as I, or else the last two characters swapped.
func typo(s string) string {
	if i := strings.LastIndexByte(s, '0'); i >= 0 {
		return s[:i] + "O" + s[i+1:]
	} else if i := strings.LastIndexByte(s, '1'); i >= 0 {
		return s[:i] + "I" + s[i+1:]
	} else if n := len(s); s[n-1] != s[n-2] {
		return s[:n-2] + s[n-1:] + s[n-2:n-1]
	}
	return s[:len(s)-1] + "X"
}

// connector returns the export records of a device: one, or two for a twin.
func (g *gen) connector(d *device) []plannedObs {
	attrs := map[string]string{cmdb.AttrModel: d.Model.Name, cmdb.AttrPurchaseDate: d.Purchase, cmdb.AttrWarrantyEnd: d.Until}
	if d.Funding != "" {
		attrs["inventory.funding"] = d.Funding
	}
	if g.chance(0.05) {
		attrs["inventory.note"] = g.pick(notes)
	}
	o := cmdb.Observation{Source: ConnectorSource, SourceKey: d.Tag, Class: d.Class, Status: d.Status, Serial: d.Serial,
		Vendor: d.Model.Vendor, Hostname: d.Hostname, AssetTag: d.Tag, Attributes: attrs}
	if d.ExportMAC {
		o.NICs = []cmdb.NIC{{MAC: strings.ToUpper(d.MACs[0]), Kind: cmdb.NICPhysical}}
	}
	l := loc{School: d.School.Code, Building: d.Building, Room: d.Room}
	out := []plannedObs{{l, o}}
	if d.Twin != nil {
		t := o
		t.SourceKey, t.AssetTag, t.Serial = d.Twin.Tag, d.Twin.Tag, d.Twin.Serial
		t.Attributes = map[string]string{cmdb.AttrModel: d.Model.Name, cmdb.AttrPurchaseDate: d.Purchase,
			"inventory.note": "Nacherfassung Inventur"}
		out = append(out, plannedObs{l, t})
	}
	return out
}

// agent returns what the device's inventory agent reports.
func (g *gen) agent(d *device) plannedObs {
	m := d.Model
	osName, ver := "Windows 11 Pro Education", "10.0.22631"
	switch {
	case d.School.Short == "BSZ" && d.Class == cmdb.ClassDesktop && g.chance(0.15):
		osName, ver = "Ubuntu 22.04.4 LTS", "22.04"
	case d.Purchase < "2021" || g.chance(0.15):
		osName, ver = "Windows 10 Pro Education", "10.0.19045"
	}
	mem := []string{"8192", "16384", "16384", "32768"}[g.r.Intn(4)]
	if d.Class == cmdb.ClassLaptop {
		mem = []string{"8192", "16384"}[g.r.Intn(2)]
	}
	attrs := map[string]string{cmdb.AttrModel: m.AgentModel, cmdb.AttrOSName: osName, cmdb.AttrOSVersion: ver,
		"cpu.model": g.pick(m.CPUs), "memory.total_mb": mem, "disk.total_gb": []string{"256", "512"}[g.r.Intn(2)],
		"agent.version": "1.4.2"}
	o := cmdb.Observation{Source: cmdb.SourceAgent, SourceKey: strings.ToLower(d.AgentKey), Class: d.Class, Serial: d.Serial,
		Vendor: m.AgentVendor, HardwareUUID: d.UUID, Hostname: d.Hostname, Attributes: attrs}
	for _, mac := range d.MACs {
		o.NICs = append(o.NICs, cmdb.NIC{MAC: mac, Kind: cmdb.NICPhysical})
	}
	if d.Dock != "" {
		o.NICs = append(o.NICs, cmdb.NIC{MAC: d.Dock, Kind: cmdb.NICDock})
	}
	if d.Virtual != "" {
		o.NICs = append(o.NICs, cmdb.NIC{MAC: d.Virtual, Kind: cmdb.NICVirtual})
	}
	if d.Twin != nil {
		// The agent could not read the firmware serial; it knows the
		// computer by name and network card only.
		o.Serial, o.HardwareUUID = "", ""
		o.Hostname = strings.ToLower(d.Hostname) + "." + strings.ToLower(d.School.Short) + ".musterstadt.schule"
	}
	return plannedObs{loc{School: d.School.Code}, o}
}
