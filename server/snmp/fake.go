package snmp

import (
	"slices"
	"strings"
	"sync"

	"github.com/gosnmp/gosnmp"
)

// FakeScraper is a map-backed Scraper for tests: it answers from a fixed
// set of PDUs as an agent would, without a network. Set Err to make every
// call fail (a silent or refusing device).
type FakeScraper struct {
	// Err, when set, is returned by Get and WalkAll.
	Err error

	mu     sync.Mutex
	byOID  map[string]gosnmp.SnmpPDU
	sorted []string
	calls  []string
	closed bool
}

// NewFakeScraper returns a FakeScraper holding pdus. PDU names may have a
// leading dot or not; the fake answers with a leading dot like gosnmp.
func NewFakeScraper(pdus []gosnmp.SnmpPDU) *FakeScraper {
	f := &FakeScraper{byOID: map[string]gosnmp.SnmpPDU{}}
	for _, p := range pdus {
		oid := strings.TrimPrefix(p.Name, ".")
		p.Name = "." + oid
		if _, dup := f.byOID[oid]; !dup {
			f.sorted = append(f.sorted, oid)
		}
		f.byOID[oid] = p
	}
	slices.SortFunc(f.sorted, compareOID)
	return f
}

// Get returns the PDU of each OID, noSuchObject for OIDs it lacks.
func (f *FakeScraper) Get(oids []string) ([]gosnmp.SnmpPDU, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "get "+strings.Join(oids, ","))
	if f.Err != nil {
		return nil, f.Err
	}
	out := make([]gosnmp.SnmpPDU, 0, len(oids))
	for _, oid := range oids {
		oid = strings.TrimPrefix(oid, ".")
		if p, ok := f.byOID[oid]; ok {
			out = append(out, p)
		} else {
			out = append(out, gosnmp.SnmpPDU{Name: "." + oid, Type: gosnmp.NoSuchObject})
		}
	}
	return out, nil
}

// WalkAll returns the PDUs under oid in OID order.
func (f *FakeScraper) WalkAll(oid string) ([]gosnmp.SnmpPDU, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "walk "+oid)
	if f.Err != nil {
		return nil, f.Err
	}
	root := strings.TrimPrefix(oid, ".")
	var out []gosnmp.SnmpPDU
	for _, o := range f.sorted {
		if o == root || strings.HasPrefix(o, root+".") {
			out = append(out, f.byOID[o])
		}
	}
	return out, nil
}

// Close marks the fake closed.
func (f *FakeScraper) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

// Calls returns the requests made so far ("get OID,OID…" or "walk OID").
func (f *FakeScraper) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Closed reports whether Close was called.
func (f *FakeScraper) Closed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}
