package loadgen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// model is one kind of machine a school buys in numbers.
type model struct {
	vendor, name, chassis string
	serialPrefix          string
	oui                   [3]byte // of the wired or only NIC
	cpu                   string
	cores, threads        int
	memoryGB              uint64
	diskModel             string
	diskGB                uint64
	batteryWh             float64 // 0: no battery
	os                    int     // index into systems
}

var models = []model{
	{"Dell Inc.", "Latitude 3540", "laptop", "DL", [3]byte{0x18, 0x66, 0xda}, "13th Gen Intel(R) Core(TM) i5-1335U", 10, 12, 16, "KIOXIA KBG50ZNS256G", 256, 54, 0},
	{"LENOVO", "ThinkPad L14 Gen 4", "laptop", "PF", [3]byte{0x8c, 0x16, 0x45}, "AMD Ryzen 5 PRO 7530U", 6, 12, 16, "SAMSUNG MZVL4256HBJD", 256, 57, 0},
	{"HP", "ProBook 450 G10", "laptop", "5CG", [3]byte{0x64, 0x4e, 0xd7}, "13th Gen Intel(R) Core(TM) i5-1335U", 10, 12, 8, "SK hynix BC901 256GB", 256, 51, 0},
	{"Fujitsu", "ESPRIMO D7011", "desktop", "YM", [3]byte{0x4c, 0x52, 0x62}, "11th Gen Intel(R) Core(TM) i5-11500", 6, 12, 16, "Samsung SSD 980 500GB", 500, 0, 0},
	{"LENOVO", "ThinkCentre M70q Gen 3", "desktop", "MJ", [3]byte{0x88, 0xae, 0xdd}, "12th Gen Intel(R) Core(TM) i5-12400T", 6, 12, 16, "WDC PC SN740 512GB", 512, 0, 1},
	{"Microsoft Corporation", "Surface Go 3", "tablet", "0F", [3]byte{0x28, 0x16, 0xa8}, "Intel(R) Pentium(R) Gold 6500Y", 2, 4, 8, "SK hynix BC711 128GB", 128, 28, 0},
	{"Dell Inc.", "OptiPlex 7010", "desktop", "DL", [3]byte{0xb0, 0x4f, 0x13}, "13th Gen Intel(R) Core(TM) i5-13500", 14, 20, 16, "KIOXIA BG5 512GB", 512, 0, 1},
	{"Acer", "TravelMate B3", "laptop", "NX", [3]byte{0x08, 0x97, 0x98}, "Intel(R) N100", 4, 4, 8, "Kingston OM8PGP4128", 128, 50, 2},
}

// system is an operating system image as a school rolls it out.
type system struct {
	name, version, kernel, arch string
	build                       int // patch level; deltas raise it
	buildPrefix                 string
	software                    int // offset into the package pool: images share most packages
}

var systems = []system{
	{"Windows 11 Education", "23H2", "10.0.22631", "amd64", 3880, "22631.", 0},
	{"Ubuntu", "24.04.1 LTS", "6.8.0-45-generic", "amd64", 45, "6.8.0-", 200},
	{"Windows 11 Pro Education", "22H2", "10.0.22621", "amd64", 4037, "22621.", 40},
}

// The software pool: every agent installs about 200 packages from it, so
// that the server's catalogue deduplicates them.
const (
	poolSize       = 420
	basePackages   = 170 // the image's packages, shared by all agents on that image
	extraPackages  = 30  // chosen at random per agent
	versionsPerPkg = 4
)

type pkg struct {
	name, publisher string
	versions        [versionsPerPkg]string
}

var pool = makePool()

func makePool() []pkg {
	known := []struct{ name, publisher string }{
		{"Mozilla Firefox", "Mozilla"}, {"Google Chrome", "Google LLC"}, {"Microsoft Edge", "Microsoft Corporation"},
		{"LibreOffice", "The Document Foundation"}, {"VLC media player", "VideoLAN"}, {"GeoGebra Classic", "International GeoGebra Institute"},
		{"Scratch Desktop", "Scratch Foundation"}, {"Audacity", "Audacity Team"}, {"GIMP", "The GIMP Team"}, {"Inkscape", "Inkscape Project"},
		{"7-Zip", "Igor Pavlov"}, {"Notepad++", "Notepad++ Team"}, {"Microsoft Teams", "Microsoft Corporation"},
		{"Adobe Acrobat Reader", "Adobe"}, {"Python", "Python Software Foundation"}, {"Visual Studio Code", "Microsoft Corporation"},
		{"Zoom Workplace", "Zoom Video Communications"}, {"Thunderbird", "Mozilla"}, {"OpenShot Video Editor", "OpenShot Studios"},
		{"Blender", "Blender Foundation"}, {"Krita", "Krita Foundation"}, {"MuseScore", "MuseScore"}, {"Stellarium", "Stellarium team"},
		{"Greenfoot", "King's College London"}, {"BlueJ", "King's College London"}, {"Arduino IDE", "Arduino SA"},
		{"Calliope mini Editor", "Calliope gGmbH"}, {"Anki", "Ankitects"}, {"Zotero", "Corporation for Digital Scholarship"},
		{"OBS Studio", "OBS Project"}, {"Microsoft 365 Apps for education", "Microsoft Corporation"},
		{"Microsoft OneDrive", "Microsoft Corporation"}, {"Java Runtime Environment", "Eclipse Adoptium"}, {"Git", "The Git Development Community"},
		{"PuTTY", "Simon Tatham"}, {"WinSCP", "Martin Prikryl"}, {"KeePassXC", "KeePassXC Team"}, {"Paint.NET", "dotPDN LLC"},
		{"FreeCAD", "FreeCAD Team"}, {"Tux Paint", "New Breed Software"},
	}
	rng := rand.New(rand.NewPCG(42, 42))
	out := make([]pkg, 0, poolSize)
	for i := 0; i < poolSize; i++ {
		var p pkg
		switch {
		case i < len(known):
			p.name, p.publisher = known[i].name, known[i].publisher
		case i%5 == 0:
			p.name, p.publisher = fmt.Sprintf("Microsoft Visual C++ Redistributable component %d", i), "Microsoft Corporation"
		case i%5 == 1:
			p.name, p.publisher = fmt.Sprintf("Update for Windows (KB50%05d)", 31000+i*7), "Microsoft Corporation"
		default:
			p.name, p.publisher = fmt.Sprintf("lib%s%d", []string{"gtk", "xml", "ssl", "png", "qt", "av", "curl", "icu"}[i%8], i), "Ubuntu Developers"
		}
		major, minor, patch := 1+rng.IntN(120), rng.IntN(20), rng.IntN(50)
		for v := range p.versions {
			p.versions[v] = fmt.Sprintf("%d.%d.%d", major, minor, patch+v)
		}
		out = append(out, p)
	}
	return out
}

// installed is one package on a machine: its pool index and version index.
type installed struct{ pkg, version int }

// newInventory makes the plausible inventory of agent i of run tag:
// hostname, serial, UUID and MACs are distinct per agent (and, through
// tag, per run), the rest comes from the tables above.
func newInventory(tag uint32, i int, rng *rand.Rand) (cmdb.Inventory, []installed, system) {
	m := models[i%len(models)]
	img := systems[m.os]
	kind := map[string]string{"laptop": "NB", "desktop": "PC", "tablet": "TB"}[m.chassis]
	var inv cmdb.Inventory
	uuid := make([]byte, 16)
	for k := range uuid {
		uuid[k] = byte(rng.UintN(256))
	}
	uuid[6], uuid[8] = uuid[6]&0x0f|0x40, uuid[8]&0x3f|0x80
	inv.System = cmdb.InventorySystem{
		Hostname:     fmt.Sprintf("lg%08x-%s-%05d", tag, strings.ToLower(kind), i),
		Vendor:       m.vendor,
		Model:        m.name,
		Serial:       fmt.Sprintf("%s%08X%05d", m.serialPrefix, tag, i),
		HardwareUUID: fmt.Sprintf("%x-%x-%x-%x-%x", uuid[0:4], uuid[4:6], uuid[6:8], uuid[8:10], uuid[10:]),
		Chassis:      m.chassis,
		OSName:       img.name,
		OSVersion:    img.version,
		OSBuild:      fmt.Sprintf("%s%d", img.buildPrefix, img.build),
		Kernel:       img.kernel,
		Arch:         img.arch,
		BootTime:     time.Now().Add(-time.Duration(rng.IntN(72*3600)) * time.Second).Truncate(time.Second).UTC(),
	}
	size := m.diskGB << 30
	inv.Hardware = cmdb.InventoryHardware{
		CPUModel: m.cpu, CPUCores: m.cores, CPUThreads: m.threads, MemoryBytes: m.memoryGB << 30,
		Disks: []cmdb.InventoryDisk{{Name: "disk0", Model: m.diskModel, Serial: fmt.Sprintf("S%08X%06d", tag, i),
			SizeBytes: size, FreeBytes: size / 100 * uint64(20+rng.IntN(60))}},
	}
	if m.batteryWh > 0 {
		full := m.batteryWh * (0.7 + 0.3*rng.Float64())
		inv.Hardware.Battery = &cmdb.Battery{DesignWh: m.batteryWh, FullWh: round1(full), HealthPercent: round1(full / m.batteryWh * 100)}
	}
	// MACs: the vendor's OUI and 24 bits that differ for every agent of
	// a run (up to 2^22 agents) and between runs.
	mac := func(oui [3]byte, nic int) string {
		n := (tag*2654435761 + uint32(i)*4 + uint32(nic)) & 0xffffff
		return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", oui[0], oui[1], oui[2], n>>16, n>>8&0xff, n&0xff)
	}
	ip := fmt.Sprintf("10.%d.%d.%d", 16+i>>16&0x0f, i>>8&0xff, i&0xff)
	switch m.chassis {
	case "desktop":
		inv.Network = []cmdb.InventoryNIC{{Name: "eth0", MAC: mac(m.oui, 0), Kind: cmdb.NICPhysical, Addresses: []string{ip + "/16"}}}
	default:
		inv.Network = []cmdb.InventoryNIC{{Name: "wlan0", MAC: mac([3]byte{0x3c, 0x21, 0x9c}, 1), Kind: cmdb.NICPhysical, Addresses: []string{ip + "/16"}}}
		if m.chassis == "laptop" {
			inv.Network = append(inv.Network, cmdb.InventoryNIC{Name: "eth0", MAC: mac(m.oui, 0), Kind: cmdb.NICPhysical})
		}
	}
	// Software: the image's packages, some extras, mostly current versions.
	var sw []installed
	have := map[int]bool{}
	for k := 0; k < basePackages; k++ {
		p := (img.software + k) % poolSize
		have[p] = true
		sw = append(sw, installed{p, rng.IntN(2)})
	}
	for len(sw) < basePackages+extraPackages {
		if p := rng.IntN(poolSize); !have[p] {
			have[p] = true
			sw = append(sw, installed{p, rng.IntN(versionsPerPkg)})
		}
	}
	inv.Software = softwareItems(sw)
	return inv, sw, img
}

func round1(f float64) float64 { return float64(int(f*10+0.5)) / 10 }

// softwareItems lists installed packages sorted like an agent would.
func softwareItems(sw []installed) []cmdb.SoftwareItem {
	sorted := sortInstalled(sw)
	out := make([]cmdb.SoftwareItem, 0, len(sorted))
	for _, s := range sorted {
		p := pool[s.pkg]
		out = append(out, cmdb.SoftwareItem{Name: p.name, Publisher: p.publisher, Version: p.versions[s.version]})
	}
	return out
}

// softwareJSON is json.Marshal(softwareItems(sw)), put together from the
// packages' JSON made once: a software change re-encodes the section.
func softwareJSON(sw []installed) []byte {
	sorted := sortInstalled(sw)
	n := 2
	for _, s := range sorted {
		n += len(pkgJSON[s.pkg][s.version]) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, s := range sorted {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, pkgJSON[s.pkg][s.version]...)
	}
	return append(b, ']')
}

// sortInstalled returns sw sorted by name, then version.
func sortInstalled(sw []installed) []installed {
	sorted := slices.Clone(sw)
	slices.SortFunc(sorted, func(a, b installed) int { return pkgRank[a.pkg][a.version] - pkgRank[b.pkg][b.version] })
	return sorted
}

// pkgRank[p][v] is the place of pool package p at version v in name, then
// version order; pkgJSON[p][v] is its JSON.
var pkgRank, pkgJSON = rankPool()

func rankPool() ([][versionsPerPkg]int, [][versionsPerPkg][]byte) {
	var all []installed
	for p := range pool {
		for v := range versionsPerPkg {
			all = append(all, installed{p, v})
		}
	}
	slices.SortFunc(all, func(a, b installed) int {
		pa, pb := pool[a.pkg], pool[b.pkg]
		if c := strings.Compare(pa.name, pb.name); c != 0 {
			return c
		}
		return strings.Compare(pa.versions[a.version], pb.versions[b.version])
	})
	rank := make([][versionsPerPkg]int, len(pool))
	js := make([][versionsPerPkg][]byte, len(pool))
	for i, s := range all {
		p := pool[s.pkg]
		rank[s.pkg][s.version] = i
		b, err := json.Marshal(cmdb.SoftwareItem{Name: p.name, Publisher: p.publisher, Version: p.versions[s.version]})
		if err != nil {
			panic(err) // plain strings: cannot happen
		}
		js[s.pkg][s.version] = b
	}
	return rank, js
}
