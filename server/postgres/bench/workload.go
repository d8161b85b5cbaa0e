package bench

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"strconv"

	"github.com/schulit/cmdb/server/cmdb"
)

// Kinds of simulated devices, each observed by one source.
const (
	kindAgent     = iota // laptops and desktops: source agent
	kindSNMP             // printers: source snmp
	kindConnector        // inventory records: source connector:bench
)

const connectorSource = "connector:bench"

// device is what the sources last said about one simulated device. An
// unchanged observation is rebuilt from it as it is; a changed one
// mutates it first.
type device struct {
	n        int
	kind     int
	school   int // index into tenant.Schools
	room     int // index into tenant.Rooms[school]
	class    string
	vendor   string
	serial   string
	uuid     string
	hostname string
	assetTag string
	macs     []string
	attrs    map[string]string
	changes  int
}

// workload generates observations deterministically from its seed.
type workload struct {
	t       *tenant
	rng     *rand.Rand
	devices []*device
}

func newWorkload(t *tenant, seed uint64) *workload {
	return &workload{t: t, rng: rand.New(rand.NewPCG(seed, 0x5c4017))}
}

// initial returns observations of n new devices.
func (w *workload) initial(n int) ([]cmdb.Observation, []string) {
	obs, exp := make([]cmdb.Observation, n), make([]string, n)
	for i := range n {
		obs[i], exp[i] = w.newDevice().observation(w.t), cmdb.OutcomeCreated
	}
	return obs, exp
}

// newPerRound is the number of new devices in a round of total observations.
func newPerRound(total int) int { return total * pctNew / 100 }

// changedPerRound is the number of changed observations in a round of total.
func changedPerRound(total int) int { return total * pctChanged / 100 }

// round returns total observations in random order: newPerRound(total)
// of new devices, the rest of distinct existing devices, of which
// changedPerRound(total) carry a change. It panics if there are too few
// existing devices.
func (w *workload) round(total int) ([]cmdb.Observation, []string) {
	nNew, nChanged := newPerRound(total), changedPerRound(total)
	nOld := total - nNew
	if nOld > len(w.devices) {
		panic(fmt.Sprintf("bench: round of %d observations needs %d devices, have %d", total, nOld, len(w.devices)))
	}
	obs, exp := make([]cmdb.Observation, 0, total), make([]string, 0, total)
	// A partial Fisher–Yates shuffle picks nOld distinct devices.
	pick := make([]int, len(w.devices))
	for i := range pick {
		pick[i] = i
	}
	for i := range nOld {
		j := i + w.rng.IntN(len(pick)-i)
		pick[i], pick[j] = pick[j], pick[i]
		d := w.devices[pick[i]]
		if i < nChanged {
			w.change(d)
			obs, exp = append(obs, d.observation(w.t)), append(exp, cmdb.OutcomeUpdated)
		} else {
			obs, exp = append(obs, d.observation(w.t)), append(exp, cmdb.OutcomeUnchanged)
		}
	}
	for range nNew {
		obs, exp = append(obs, w.newDevice().observation(w.t)), append(exp, cmdb.OutcomeCreated)
	}
	w.rng.Shuffle(len(obs), func(i, j int) {
		obs[i], obs[j] = obs[j], obs[i]
		exp[i], exp[j] = exp[j], exp[i]
	})
	return obs, exp
}

var (
	agentVendors = []struct{ vendor, prefix, model string }{
		{"Dell Inc.", "DL", "Latitude 5440"}, {"LENOVO", "PF", "ThinkPad L14 Gen 4"},
		{"HP", "5CD", "ProBook 450 G10"}, {"Fujitsu", "YM", "ESPRIMO D7011"},
	}
	printerVendors = []struct{ vendor, prefix, model string }{
		{"Hewlett-Packard", "CNB", "LaserJet M404dn"}, {"Brother", "E7", "MFC-L8900CDW"},
		{"Kyocera", "VCF", "ECOSYS M5526cdw"},
	}
	connectorClasses = []struct{ class, vendor, prefix, model string }{
		{cmdb.ClassProjector, "Epson", "X5H", "EB-695Wi"}, {cmdb.ClassDisplay, "Promethean", "PRM", "ActivPanel 9"},
		{cmdb.ClassTablet, "Apple", "DMP", "iPad 10th gen"}, {cmdb.ClassDocumentCamera, "IPEVO", "IPV", "VZ-X"},
	}
	costCenters = []string{"4711", "4712", "4720", "4800", "4910"}
)

// newDevice invents a device: 55% agent, 15% snmp, 30% connector.
func (w *workload) newDevice() *device {
	n := len(w.devices) + 1
	d := &device{n: n, school: w.rng.IntN(len(w.t.Schools)), attrs: map[string]string{}}
	d.room = w.rng.IntN(len(w.t.Rooms[d.school]))
	school := w.t.Schools[d.school].Code
	switch p := w.rng.IntN(100); {
	case p < 55:
		d.kind = kindAgent
		v := agentVendors[w.rng.IntN(len(agentVendors))]
		d.vendor, d.serial = v.vendor, fmt.Sprintf("%sA%07d", v.prefix, n)
		d.class, d.hostname = cmdb.ClassLaptop, fmt.Sprintf("NB-%s-%05d", school, n)
		if w.rng.IntN(3) == 0 {
			d.class, d.hostname = cmdb.ClassDesktop, fmt.Sprintf("PC-%s-%05d", school, n)
		}
		d.uuid = fmt.Sprintf("%016x%016x", w.rng.Uint64(), w.rng.Uint64())
		d.macs = []string{mac(0xa4bb6d, n)}
		if d.class == cmdb.ClassLaptop && w.rng.IntN(2) == 0 {
			d.macs = append(d.macs, mac(0xf09e4a, n))
		}
		d.attrs["model"] = v.model
		d.attrs["os_name"] = "Windows 11 Education"
		d.attrs["os_version"] = "10.0.22631." + strconv.Itoa(2000+w.rng.IntN(1500))
		d.attrs["cpu.model"] = "Intel(R) Core(TM) i5-1335U"
		d.attrs["cpu.cores"] = strconv.Itoa(4 << w.rng.IntN(2))
		d.attrs["memory.total_mb"] = strconv.Itoa(8192 << w.rng.IntN(2))
		d.attrs["disk.total_gb"] = strconv.Itoa(256 << w.rng.IntN(2))
		d.attrs["bios.version"] = fmt.Sprintf("1.%d.%d", w.rng.IntN(20), w.rng.IntN(10))
	case p < 70:
		d.kind = kindSNMP
		v := printerVendors[w.rng.IntN(len(printerVendors))]
		d.vendor, d.serial, d.class = v.vendor, fmt.Sprintf("%sP%07d", v.prefix, n), cmdb.ClassPrinter
		if w.rng.IntN(3) == 0 {
			d.class = cmdb.ClassMFP
		}
		d.macs = []string{mac(0x3cd92b, n)}
		d.attrs["model"] = v.model
		d.attrs["counter.pages"] = strconv.Itoa(w.rng.IntN(200000))
		d.attrs["counter.color_pages"] = strconv.Itoa(w.rng.IntN(50000))
		d.attrs["supply.toner_black"] = strconv.Itoa(w.rng.IntN(101))
	default:
		d.kind = kindConnector
		v := connectorClasses[w.rng.IntN(len(connectorClasses))]
		d.class, d.vendor, d.serial = v.class, v.vendor, fmt.Sprintf("%sC%07d", v.prefix, n)
		d.assetTag = fmt.Sprintf("%s-%06d", school, n)
		d.attrs["model"] = v.model
		y, m := 2018+w.rng.IntN(7), 1+w.rng.IntN(12)
		d.attrs["purchase_date"] = fmt.Sprintf("%d-%02d-%02d", y, m, 1+w.rng.IntN(28))
		d.attrs["warranty_end"] = fmt.Sprintf("%d-%02d-28", y+5, m)
		d.attrs["inventory.cost_center"] = costCenters[w.rng.IntN(len(costCenters))]
	}
	w.devices = append(w.devices, d)
	return d
}

// mac returns a MAC with the given OUI and the device number as the rest.
func mac(oui, n int) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", oui>>16&0xff, oui>>8&0xff, oui&0xff, n>>16&0xff, n>>8&0xff, n&0xff)
}

// change mutates what the device's source will say next: agents report a
// new OS build (70%) or a renamed host, printers higher counters,
// connectors a room move or a new cost centre.
func (w *workload) change(d *device) {
	d.changes++
	switch d.kind {
	case kindAgent:
		if w.rng.IntN(10) < 7 {
			d.attrs["os_version"] = "10.0.22631." + strconv.Itoa(3500+d.changes)
		} else {
			d.hostname = fmt.Sprintf("%s-%s-%05d-%d", d.hostname[:2], w.t.Schools[d.school].Code, d.n, d.changes)
		}
	case kindSNMP:
		pages, _ := strconv.Atoi(d.attrs["counter.pages"])
		d.attrs["counter.pages"] = strconv.Itoa(pages + 1 + w.rng.IntN(2000))
	case kindConnector:
		if w.rng.IntN(2) == 0 {
			d.room = (d.room + 1 + w.rng.IntN(len(w.t.Rooms[d.school])-1)) % len(w.t.Rooms[d.school])
		} else {
			d.attrs["inventory.cost_center"] = fmt.Sprintf("%d", 5000+d.changes)
		}
	}
}

// observation builds what the device's source reports now.
func (d *device) observation(t *tenant) cmdb.Observation {
	o := cmdb.Observation{AuthorityID: t.Authority.ID, Class: d.class, Serial: d.serial, Vendor: d.vendor,
		Hostname: d.hostname, AssetTag: d.assetTag, Attributes: maps.Clone(d.attrs)}
	if d.uuid != "" {
		o.HardwareUUID = d.uuid
	}
	for i, m := range d.macs {
		kind := cmdb.NICPhysical
		if i > 0 {
			kind = "" // the agent could not tell the wifi adapter's kind
		}
		o.NICs = append(o.NICs, cmdb.NIC{MAC: m, Kind: kind})
	}
	switch d.kind {
	case kindAgent:
		o.Source, o.SourceKey, o.SchoolID = cmdb.SourceAgent, fmt.Sprintf("agent-%07d", d.n), t.Schools[d.school].ID
	case kindSNMP:
		o.Source, o.SchoolID = cmdb.SourceSNMP, t.Schools[d.school].ID
	case kindConnector:
		o.Source, o.SourceKey, o.RoomID = connectorSource, fmt.Sprintf("INV-%07d", d.n), t.Rooms[d.school][d.room].ID
	}
	return o
}
