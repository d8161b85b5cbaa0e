package loadgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/schulit/cmdb/server/cmdb"
)

// The traffic mix of the load phase, in percent of reports; the rest
// (85%) are heartbeats that carry only the section hashes.
const (
	pctDelta    = 10 // one small hardware or system change
	pctSoftware = 5  // one package added or upgraded
)

// Kinds of report, for the mix counters.
const (
	kindHeartbeat = iota
	kindDelta
	kindSoftware
	kindFull
	kindRetry
	numKinds
)

// agent is one simulated cmdb-agent. Its fields are guarded by mu, which
// is held for a whole exchange, so that an agent has at most one report
// in flight and its seq rises by one per report, as the real agent's.
type agent struct {
	mu  sync.Mutex
	idx int
	rng *rand.Rand

	id   string // device id, once enrolled
	cred string // device credential

	inv   cmdb.Inventory
	sw    []installed
	have  []bool // pool index → installed
	img   system
	data  map[string][]byte // the marshalled sections as last sent
	hashe map[string]string // their hashes

	seq   uint64 // of the last report built
	acked uint64 // highest seq the server acknowledged
	full  bool   // the next report carries every section

	// pending is the gzipped body of the last report built until the
	// server acknowledges it: a failed report is sent again as it was,
	// like the agent's spool does.
	pending     []byte
	pendingSeq  uint64
	pendingKind int
	jbuf        []byte // reportJSON's buffer, reused
}

// sortedSections are the section names in JSON key order.
var sortedSections = slices.Sorted(slices.Values(cmdb.Sections))

func newAgent(tag uint32, i int) *agent {
	a := &agent{idx: i, rng: rand.New(rand.NewPCG(uint64(tag), uint64(i))), data: map[string][]byte{},
		hashe: map[string]string{}, have: make([]bool, poolSize), full: true}
	a.inv, a.sw, a.img = newInventory(tag, i, a.rng)
	for _, s := range a.sw {
		a.have[s.pkg] = true
	}
	for _, name := range cmdb.Sections {
		a.marshal(name)
	}
	return a
}

// marshal encodes a section and hashes exactly the bytes that are sent.
func (a *agent) marshal(name string) {
	var v any
	switch name {
	case cmdb.SectionSystem:
		v = a.inv.System
	case cmdb.SectionHardware:
		v = a.inv.Hardware
	case cmdb.SectionNetwork:
		v = a.inv.Network
	case cmdb.SectionSoftware:
		// Put together from the packages' JSON: changes re-encode it often.
		b := softwareJSON(a.sw)
		a.data[name], a.hashe[name] = b, cmdb.SectionHash(b)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs: cannot happen
	}
	a.data[name], a.hashe[name] = b, cmdb.SectionHash(b)
}

// enrollBody is the gzipped enrolment request (the token goes in the
// Authorization header).
func (a *agent) enrollBody() []byte {
	raw, err := json.Marshal(&cmdb.EnrollRequest{System: a.inv.System, NICs: a.inv.Network})
	if err != nil {
		panic(err)
	}
	return gzipBytes(raw)
}

// next returns the body of the agent's next report: the pending one if
// the last was not acknowledged, else a new one from the traffic mix (or
// a full one when the server asked for it).
func (a *agent) next(now time.Time) (body []byte, kind int) {
	if a.pending != nil {
		return a.pending, kindRetry
	}
	var changed []string
	kind = kindHeartbeat
	switch r := a.rng.IntN(100); {
	case a.full:
		changed, kind = cmdb.Sections, kindFull
	case r < pctDelta:
		changed, kind = a.delta(now), kindDelta
	case r < pctDelta+pctSoftware:
		changed, kind = a.softwareChange(), kindSoftware
	}
	a.full = false
	a.seq++
	a.pending, a.pendingSeq, a.pendingKind = gzipBytes(a.reportJSON(now, changed)), a.seq, kind
	return a.pending, kind
}

// reportJSON writes the cmdb.Report of seq a.seq with the changed
// sections. It is written out by hand, not with json.Marshal, which
// would copy and re-check every section's bytes: the generator shares
// the CPU with the server it loads. TestReportJSON checks that it is
// the same as json.Marshal's.
func (a *agent) reportJSON(now time.Time, changed []string) []byte {
	b := a.jbuf[:0]
	// Ids, section names and hashes need no escaping.
	b = append(b, `{"device_id":"`...)
	b = append(b, a.id...)
	b = append(b, '"')
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, a.seq, 10)
	b = append(b, `,"sent_at":"`...)
	b = now.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","hashes":{`...)
	for i, name := range sortedSections {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":"`...)
		b = append(b, a.hashe[name]...)
		b = append(b, '"')
	}
	b = append(b, '}')
	if len(changed) > 0 {
		b = append(b, `,"sections":{`...)
		for i, name := range slices.Sorted(slices.Values(changed)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, name...)
			b = append(b, `":`...)
			b = append(b, a.data[name]...)
		}
		b = append(b, '}')
	}
	a.jbuf = append(b, '}')
	return a.jbuf
}

// acknowledged records a 200 answer.
func (a *agent) acknowledged(resp *cmdb.ReportResponse) {
	a.pending = nil
	a.acked = max(a.acked, resp.Ack)
	if resp.WantFull {
		a.full = true
	}
}

// delta changes the system (an OS patch and the reboot after it) or the
// hardware (disk space, battery wear) and returns the changed section.
func (a *agent) delta(now time.Time) []string {
	if a.rng.IntN(2) == 0 {
		a.img.build++
		a.inv.System.OSBuild = fmt.Sprintf("%s%d", a.img.buildPrefix, a.img.build)
		a.inv.System.BootTime = now.Truncate(time.Second).UTC()
		a.marshal(cmdb.SectionSystem)
		return []string{cmdb.SectionSystem}
	}
	d := &a.inv.Hardware.Disks[0]
	step := d.SizeBytes / 200 * uint64(1+a.rng.IntN(4))
	if a.rng.IntN(2) == 0 && d.FreeBytes > step+d.SizeBytes/10 {
		d.FreeBytes -= step
	} else if d.FreeBytes+step < d.SizeBytes {
		d.FreeBytes += step
	}
	if b := a.inv.Hardware.Battery; b != nil && a.rng.IntN(4) == 0 && b.FullWh > b.DesignWh/2 {
		b.FullWh = round1(b.FullWh - 0.1)
		b.HealthPercent = round1(b.FullWh / b.DesignWh * 100)
	}
	a.marshal(cmdb.SectionHardware)
	return []string{cmdb.SectionHardware}
}

// softwareChange installs a package from the pool or upgrades one.
func (a *agent) softwareChange() []string {
	if a.rng.IntN(2) == 0 && len(a.sw) < poolSize {
		for {
			if p := a.rng.IntN(poolSize); !a.have[p] {
				a.have[p] = true
				a.sw = append(a.sw, installed{p, versionsPerPkg - 1})
				break
			}
		}
	} else {
		// The pool has a few versions per package; an upgrade past the
		// last wraps around, so that the catalogue stays bounded.
		s := &a.sw[a.rng.IntN(len(a.sw))]
		s.version = (s.version + 1) % versionsPerPkg
	}
	a.inv.Software = softwareItems(a.sw)
	a.marshal(cmdb.SectionSoftware)
	return []string{cmdb.SectionSoftware}
}

// Huffman coding only, and klauspost's gzip rather than the standard
// library's: the real agent compresses once per report on its own machine
// (at the default level), the generator thousands of times a second next
// to the server it loads. The server inflates either alike.
var gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.HuffmanOnly); return w }}

func gzipBytes(raw []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(raw)/3 + 64)
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	zw.Write(raw)
	zw.Close()
	gzipWriters.Put(zw)
	return buf.Bytes()
}
