package demo

import (
	"fmt"
	"math/rand"
	"strings"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// seed makes the demo inventory the same on every load.
const seed = 20240917

// device is one physical device of the demo inventory.
type device struct {
	School          *schoolDef
	Building, Room  string // room "" when the export does not know it
	Model           *model
	Class, Status   string
	Serial, Tag     string
	Hostname        string
	MACs            []string // physical NICs, first one is in the export
	ExportMAC       bool
	Dock, Virtual   string // MACs that do not identify (agent only)
	UUID            string
	Purchase, Until string
	Funding         string
	Agent           bool
	SNMP            bool   // answers SNMP (from a simulator, see SimDevices)
	AgentKey, IP    string // IP: the SNMP target address
	// Twin, when set, is a second export record of this device with
	// another asset tag and a mistyped serial: a duplicate for review.
	Twin *twin
}

type twin struct {
	Tag, Serial string
	// ByMAC: the export records carry the MAC and SNMP sees the MAC only;
	// otherwise the records carry no MAC and the agent sees the hostname only.
	ByMAC bool
}

// loc names a tenant object by codes; Building and Room are "" when the
// observation only knows the school.
type loc struct{ School, Building, Room string }

type plannedObs struct {
	loc
	Obs cmdb.Observation
}

// plan is the demo data before it meets a store: the tenant tree and the
// observations, with locations by code instead of by id.
type plan struct {
	Schools []*schoolDef
	Devices []*device
	Obs     []plannedObs
}

type gen struct {
	r    *rand.Rand
	p    *plan
	used map[string]bool
	tag  map[string]int
	host map[string]int
}

// buildPlan generates the demo inventory. It is deterministic.
func buildPlan() *plan {
	g := &gen{r: rand.New(rand.NewSource(seed)), p: &plan{Schools: schools},
		used: map[string]bool{}, tag: map[string]int{}, host: map[string]int{}}
	for _, s := range schools {
		for bi := range s.Buildings {
			b := &s.Buildings[bi]
			for ri := range b.Rooms {
				g.room(s, b, &b.Rooms[ri])
			}
		}
	}
	g.duplicates()
	snmpAddresses(g.p)
	for _, d := range g.p.Devices {
		g.p.Obs = append(g.p.Obs, g.connector(d)...)
	}
	for _, d := range g.p.Devices {
		if d.Agent {
			g.p.Obs = append(g.p.Obs, g.agent(d))
		}
	}
	return g.p
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) pick(list []string) string { return list[g.r.Intn(len(list))] }

// room adds the devices of one room.
func (g *gen) room(s *schoolDef, b *buildingDef, r *roomDef) {
	add := func(class string) *device { return g.device(s, b, r, class) }
	n := func(k int, class string) {
		for i := 0; i < k; i++ {
			add(class)
		}
	}
	board := func() {
		if g.chance(0.6) {
			add(cmdb.ClassDisplay)
		} else {
			add(cmdb.ClassProjector)
		}
	}
	switch r.Kind {
	case kClass, kLab:
		board()
		if r.Kind == kLab || g.chance(0.7) {
			add(cmdb.ClassDocumentCamera)
		}
		if r.Kind == kLab || g.chance(0.6) {
			add(cmdb.ClassDesktop)
		}
		if r.Kind == kLab || g.chance(0.5) {
			add(cmdb.ClassAccessPoint)
		}
	case kPC:
		n(r.N, cmdb.ClassDesktop)
		add(cmdb.ClassPrinter)
		board()
		add(cmdb.ClassAccessPoint)
		add(cmdb.ClassSwitch)
	case kOffice:
		n(r.N, cmdb.ClassDesktop)
		add(cmdb.ClassMFP)
		add(cmdb.ClassPrinter)
	case kHead:
		add(cmdb.ClassLaptop)
		add(cmdb.ClassPrinter)
	case kStaff:
		n(r.N, cmdb.ClassDesktop)
		add(cmdb.ClassMFP)
		add(cmdb.ClassAccessPoint)
		docks := []string{g.mac(ouiDock), g.mac(ouiDock), g.mac(ouiDock)}
		for i := 0; i < s.Laptops; i++ {
			if d := add(cmdb.ClassLaptop); g.chance(0.5) {
				d.Dock = g.pick(docks)
			}
		}
	case kHall:
		add(cmdb.ClassProjector)
		add(cmdb.ClassAccessPoint)
		g.other(s, b, r, "appletv")
	case kLib:
		n(r.N, cmdb.ClassDesktop)
		add(cmdb.ClassPrinter)
		add(cmdb.ClassAccessPoint)
	case kServer:
		n(1+g.r.Intn(3), cmdb.ClassSwitch)
		g.other(s, b, r, "ds220")
		g.other(s, b, r, "ups")
	case kStore:
		n(2+g.r.Intn(3), cmdb.ClassLaptop)
		n(1+g.r.Intn(3), cmdb.ClassDesktop)
		n(2+g.r.Intn(4), cmdb.ClassTablet)
		add(cmdb.ClassProjector)
		add(cmdb.ClassPrinter)
	case kGym:
		add(cmdb.ClassAccessPoint)
	case kWorkshop:
		n(r.N, cmdb.ClassDesktop)
		add(cmdb.ClassDisplay)
		add(cmdb.ClassAccessPoint)
		for i := g.r.Intn(5); i > 0; i-- {
			g.other(s, b, r, "rpi4")
		}
	}
	n(r.Tablets, cmdb.ClassTablet)
}

func (g *gen) other(s *schoolDef, b *buildingDef, r *roomDef, key string) *device {
	d := g.newDevice(s, b, r, cmdb.ClassOther, catalogue[key])
	d.ExportMAC = true
	return d
}

func (g *gen) device(s *schoolDef, b *buildingDef, r *roomDef, class string) *device {
	d := g.newDevice(s, b, r, class, catalogue[g.pick(s.Lines[class])])
	switch class {
	case cmdb.ClassLaptop, cmdb.ClassDesktop:
		d.ExportMAC = g.chance(0.75)
		d.Hostname = g.hostname(s, r, class)
		d.UUID = g.uuid()
		d.Agent = d.Status == cmdb.StatusInUse && g.chance(0.92)
		if class == cmdb.ClassLaptop {
			d.MACs = append(d.MACs, g.mac(ouiIntelWiFi))
		} else if s.Short == "BSZ" && g.chance(0.3) {
			d.Virtual = g.mac([]string{ouiHyperV})
		}
	case cmdb.ClassPrinter, cmdb.ClassMFP:
		d.ExportMAC = g.chance(0.95)
		d.SNMP = d.Status == cmdb.StatusInUse
	case cmdb.ClassProjector:
		d.ExportMAC = g.chance(0.6)
		d.SNMP = d.Status == cmdb.StatusInUse
	case cmdb.ClassDisplay:
		d.ExportMAC = g.chance(0.5)
	case cmdb.ClassAccessPoint, cmdb.ClassSwitch:
		d.ExportMAC = true
	}
	if d.Agent {
		d.AgentKey = g.uuid()
	}
	return d
}

func (g *gen) newDevice(s *schoolDef, b *buildingDef, r *roomDef, class string, m *model) *device {
	d := &device{School: s, Building: b.Code, Room: r.Code, Model: m, Class: class}
	d.Status, d.Purchase, d.Until = g.lifecycle(r, class)
	if len(m.OUIs) > 0 {
		d.MACs = []string{g.mac(m.OUIs)}
	}
	if m.MACSerial {
		d.Serial = strings.ToUpper(strings.ReplaceAll(d.MACs[0], ":", ""))
	} else {
		d.Serial = g.serial(m.Serial)
	}
	d.Tag = g.assetTag(s)
	if y := d.Purchase[:4]; y >= "2020" && y <= "2024" && class != cmdb.ClassOther && g.chance(0.6) {
		d.Funding = "DigitalPakt Schule"
	}
	if r.Kind != kStore && g.chance(0.04) {
		d.Building, d.Room = "", "" // the export lacks the room
	}
	g.p.Devices = append(g.p.Devices, d)
	return d
}

// lifecycle returns a status, purchase date and warranty end.
func (g *gen) lifecycle(r *roomDef, class string) (status, purchase, until string) {
	year := 2018 + g.r.Intn(7)
	status = cmdb.StatusInUse
	switch f := g.r.Float64(); {
	case r.Kind == kStore && f < 0.55:
		status, year = cmdb.StatusInStock, 2025
	case r.Kind == kStore:
		status, year = cmdb.StatusRetired, 2013+g.r.Intn(4)
	case f < 0.03:
		status, year = cmdb.StatusRetired, 2014+g.r.Intn(4)
	case f < 0.07:
		status = cmdb.StatusInRepair
	}
	p := time.Date(year, time.Month(1+g.r.Intn(12)), 1+g.r.Intn(28), 0, 0, 0, 0, time.UTC)
	years := 3
	switch class {
	case cmdb.ClassDesktop, cmdb.ClassDisplay, cmdb.ClassSwitch, cmdb.ClassMFP:
		years = 5
	case cmdb.ClassLaptop, cmdb.ClassAccessPoint:
		years = 4
	}
	return status, p.Format(time.DateOnly), p.AddDate(years, 0, 0).Format(time.DateOnly)
}

// hostname names a computer: FSG-R112-PC03 in a room, FSG-LZ-NB07 for a
// laptop of the pool.
func (g *gen) hostname(s *schoolDef, r *roomDef, class string) string {
	tag := r.Tag
	if tag == "" {
		tag = "R" + strings.NewReplacer(".", "", "-", "", "_", "").Replace(r.Code)
	}
	suffix := "PC"
	if class == cmdb.ClassLaptop {
		suffix = "NB"
	}
	k := s.Short + "-" + tag + "-" + suffix
	g.host[k]++
	return fmt.Sprintf("%s%02d", k, g.host[k])
}

func (g *gen) assetTag(s *schoolDef) string {
	g.tag[s.Short]++
	return fmt.Sprintf("%s-%06d", s.Short, g.tag[s.Short])
}

const (
	digits  = "0123456789"
	letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	hexdig  = "0123456789ABCDEF"
)

// serial returns a new serial number of the pattern.
func (g *gen) serial(pattern string) string {
	for {
		var b strings.Builder
		for _, c := range pattern {
			switch c {
			case 'n':
				b.WriteByte(digits[g.r.Intn(len(digits))])
			case 'a':
				b.WriteByte(letters[g.r.Intn(len(letters))])
			case 'x':
				all := digits + letters
				b.WriteByte(all[g.r.Intn(len(all))])
			case 'h':
				b.WriteByte(hexdig[g.r.Intn(len(hexdig))])
			default:
				b.WriteRune(c)
			}
		}
		s := b.String()
		if !g.used["serial|"+s] && strings.Trim(s, s[:1]) != "" {
			g.used["serial|"+s] = true
			return s
		}
	}
}

// mac returns a new MAC address with one of the OUIs.
func (g *gen) mac(ouis []string) string {
	for {
		m := fmt.Sprintf("%s:%02x:%02x:%02x", g.pick(ouis), g.r.Intn(256), g.r.Intn(256), g.r.Intn(256))
		if !g.used["mac|"+m] {
			g.used["mac|"+m] = true
			return m
		}
	}
}

// uuid returns a random UUID in the upper-case form Windows reports.
func (g *gen) uuid() string {
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(g.r.Intn(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]))
}
