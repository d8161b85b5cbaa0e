package cmdb

import (
	"strconv"
	"strings"
	"time"
)

// Attribute groups for precedence.
const (
	GroupHardware  = "hardware"
	GroupSoftware  = "software"
	GroupLocation  = "location"
	GroupInventory = "inventory"
	GroupMetrics   = "metrics"
	GroupOther     = "other"
)

// Policy decides which source may set which attribute. For each group it
// lists source kinds, highest precedence first; kinds not listed rank
// below all listed ones. A source overwrites a value set by a source of
// equal or lower rank, or by any source that has gone stale (not seen on
// this CI for longer than its StaleAfter). Hand edits always apply and
// lock the attribute; a locked attribute is changed only by hand.
type Policy struct {
	Precedence map[string][]string
	StaleAfter map[string]time.Duration
}

// DefaultPolicy returns the precedence of DESIGN.md: hardware and
// software ← agent > connector > snmp; location, asset tag, owner and
// purchase data ← connector > user; counters and supplies ← snmp.
func DefaultPolicy() *Policy {
	return &Policy{
		Precedence: map[string][]string{
			GroupHardware:  {SourceAgent, SourceConnector, SourceSNMP},
			GroupSoftware:  {SourceAgent, SourceConnector, SourceSNMP},
			GroupLocation:  {SourceConnector, SourceUser},
			GroupInventory: {SourceConnector, SourceUser},
			GroupMetrics:   {SourceSNMP},
			GroupOther:     {SourceAgent, SourceConnector, SourceSNMP},
		},
		StaleAfter: map[string]time.Duration{
			SourceAgent:     30 * 24 * time.Hour,
			SourceSNMP:      7 * 24 * time.Hour,
			SourceConnector: 30 * 24 * time.Hour,
		},
	}
}

// AttrGroup returns the precedence group of an attribute. Free attributes
// are grouped by their first word: cpu.*, memory.*, disk.*, battery.*,
// bios.* are hardware; os.*, software.* software; counter.*, supply.*,
// printer.* metrics; inventory.* inventory.
func AttrGroup(attr string) string {
	switch attr {
	case AttrClass, AttrVendor, AttrModel, AttrSerial, AttrHardwareUUID:
		return GroupHardware
	case AttrHostname, AttrOSName, AttrOSVersion:
		return GroupSoftware
	case AttrSchool, AttrRoom:
		return GroupLocation
	case AttrStatus, AttrName, AttrAssetTag, AttrOwner, AttrPurchaseDate, AttrWarrantyEnd:
		return GroupInventory
	}
	first, _, _ := strings.Cut(attr, ".")
	if g, ok := attrNamespaces[first]; ok {
		return g
	}
	return GroupOther
}

// attrNamespaces are the first words of free attributes that place them
// in a precedence group (AttrGroup).
var attrNamespaces = map[string]string{
	"cpu": GroupHardware, "memory": GroupHardware, "disk": GroupHardware, "battery": GroupHardware,
	"bios": GroupHardware, "hw": GroupHardware, "nic": GroupHardware,
	"os": GroupSoftware, "software": GroupSoftware,
	"counter": GroupMetrics, "supply": GroupMetrics, "printer": GroupMetrics,
	"inventory": GroupInventory,
}

// InNamespace reports whether attr is a free attribute under one of the
// namespaces AttrGroup knows ("inventory.kostenstelle", "bios.version").
func InNamespace(attr string) bool {
	first, rest, ok := strings.Cut(attr, ".")
	_, known := attrNamespaces[first]
	return ok && known && rest != ""
}

func (p *Policy) rank(group, source string) int {
	kind := SourceKind(source)
	list := p.Precedence[group]
	for i, k := range list {
		if k == kind {
			return i
		}
	}
	return len(list)
}

// Change is one attribute change that reconcile writes to history. Old
// and New are "" when unset.
type Change struct {
	Attr string
	Old  string
	New  string
}

// MergeInput is what Merge needs besides the CI.
type MergeInput struct {
	Source string
	Now    time.Time
	// Values to apply, in order. "" means unknown and is skipped, except
	// in Clear.
	Values []AttrValue
	// Clear lists attributes a hand edit unsets.
	Clear []string
	// Locked attributes of the CI.
	Locked map[string]bool
	// LastSeen says when each source last observed this CI.
	LastSeen map[string]time.Time
}

// AttrValue is one attribute value from an observation.
type AttrValue struct{ Attr, Value string }

// Values lists the attribute values an observation carries, in a fixed
// order: class, status, location, identity fields, then the rest sorted
// by name. schoolID is the school after the room was resolved.
func (o *Observation) Values(schoolID int64) []AttrValue {
	out := []AttrValue{{AttrClass, o.Class}, {AttrStatus, o.Status}, {AttrSchool, idString(schoolID)},
		{AttrRoom, idString(o.RoomID)}, {AttrVendor, NormalizeVendor(o.Vendor)},
		{AttrSerial, strings.TrimSpace(o.Serial)}, {AttrHostname, strings.TrimSpace(o.Hostname)},
		{AttrAssetTag, strings.TrimSpace(o.AssetTag)}}
	if u, ok := NormalizeUUID(o.HardwareUUID); ok {
		out = append(out, AttrValue{AttrHardwareUUID, u})
	}
	for _, k := range sortedKeys(o.Attributes) {
		out = append(out, AttrValue{k, strings.TrimSpace(o.Attributes[k])})
	}
	return out
}

// Merge applies an observation's values to ci by the policy and returns
// the changes, in order. Provenance on ci is updated, also where a higher
// source confirms a value without changing it. For hand edits the changed
// attributes are returned in locks as well.
func (p *Policy) Merge(ci *CI, in MergeInput) (changes []Change, locks []string) {
	if ci.Provenance == nil {
		ci.Provenance = map[string]Provenance{}
	}
	user := SourceKind(in.Source) == SourceUser
	apply := func(attr, v string) {
		cur := ci.Get(attr)
		prov, has := ci.Provenance[attr]
		if !user && in.Locked[attr] {
			return
		}
		if v == cur {
			if v != "" && prov.Source != in.Source && (!has || p.mayOverride(attr, prov, in)) {
				ci.Provenance[attr] = Provenance{Source: in.Source, At: in.Now}
			}
			return
		}
		if !user && has && cur != "" && !p.mayOverride(attr, prov, in) {
			return
		}
		ci.Set(attr, v)
		if v == "" {
			delete(ci.Provenance, attr)
		} else {
			ci.Provenance[attr] = Provenance{Source: in.Source, At: in.Now}
		}
		changes = append(changes, Change{Attr: attr, Old: cur, New: v})
		if user {
			locks = append(locks, attr)
		}
	}
	for _, av := range in.Values {
		if av.Value != "" {
			apply(av.Attr, av.Value)
		}
	}
	for _, attr := range in.Clear {
		apply(attr, "")
	}
	return changes, locks
}

// mayOverride reports whether in.Source may replace a value set by prov.
func (p *Policy) mayOverride(attr string, prov Provenance, in MergeInput) bool {
	if prov.Source == in.Source {
		return true
	}
	g := AttrGroup(attr)
	if p.rank(g, in.Source) <= p.rank(g, prov.Source) {
		return true
	}
	return p.stale(prov, in)
}

func (p *Policy) stale(prov Provenance, in MergeInput) bool {
	after, ok := p.StaleAfter[SourceKind(prov.Source)]
	if !ok {
		return false
	}
	seen := prov.At
	if t, ok := in.LastSeen[prov.Source]; ok && t.After(seen) {
		seen = t
	}
	return in.Now.Sub(seen) > after
}

// DefaultStatus is the status of a CI created by a source that did not
// say: devices an agent or the poller sees are in use; connector and
// hand-created CIs are in stock until said otherwise.
func DefaultStatus(source string) string {
	switch SourceKind(source) {
	case SourceAgent, SourceSNMP:
		return StatusInUse
	}
	return StatusInStock
}

// DefaultName derives a display name for a new CI: hostname, else vendor
// and model with the serial, else the asset tag, else class and id.
func DefaultName(ci *CI) string {
	switch {
	case ci.Hostname != "":
		return ci.Hostname
	case ci.Model != "" && ci.Serial != "":
		return strings.TrimSpace(ci.Vendor+" "+ci.Model) + " (" + ci.Serial + ")"
	case ci.Model != "":
		return strings.TrimSpace(ci.Vendor + " " + ci.Model)
	case ci.AssetTag != "":
		return ci.AssetTag
	case ci.Serial != "":
		return ci.Serial
	}
	return ci.Class + " " + strconv.FormatInt(ci.ID, 10)
}

// MergeCI folds rm, a CI being merged into keep, into keep by precedence
// and returns the changes, in order. A value of rm replaces keep's when
// keep has none, when rm's source outranks keep's for the attribute's
// group, when keep's source has gone stale while rm's has not, or when it
// was set by hand on rm (its lock moves to keep); on equal rank keep's
// value stays: keep is the CI a human chose to survive. Attributes locked
// on keep (in.Locked) never change. Provenance follows the value. The
// room follows the school: when keep takes rm's school it takes rm's room
// too, and a room of another school never comes over. in.Now and
// in.LastSeen (the sources of both CIs) decide staleness; in.Source and
// in.Values are not used.
func (p *Policy) MergeCI(keep, rm *CI, in MergeInput) []Change {
	if keep.Provenance == nil {
		keep.Provenance = map[string]Provenance{}
	}
	var changes []Change
	set := func(attr, v string, prov Provenance, has bool) {
		cur := keep.Get(attr)
		keep.Set(attr, v)
		if has && v != "" {
			keep.Provenance[attr] = prov
		} else {
			delete(keep.Provenance, attr)
		}
		changes = append(changes, Change{Attr: attr, Old: cur, New: v})
	}
	attrs := append([]string{}, CoreAttrs...)
	attrs = append(attrs, sortedKeys(rm.Attributes)...)
	schoolMoved := false
	for _, a := range attrs {
		v, cur := rm.Get(a), keep.Get(a)
		rp, rhas := rm.Provenance[a]
		if a == AttrRoom {
			if schoolMoved && !in.Locked[a] && v != cur {
				set(a, v, rp, rhas)
			}
			if schoolMoved || keep.SchoolID != rm.SchoolID {
				continue
			}
		}
		if v == "" || v == cur || in.Locked[a] {
			continue
		}
		kp, khas := keep.Provenance[a]
		take := cur == ""
		if !take && rhas {
			g := AttrGroup(a)
			switch {
			case SourceKind(rp.Source) == SourceUser:
				take = true
			case SourceKind(kp.Source) == SourceUser && khas:
				take = false
			case !khas:
				take = p.rank(g, rp.Source) < len(p.Precedence[g])
			default:
				take = p.rank(g, rp.Source) < p.rank(g, kp.Source) || (p.stale(kp, in) && !p.stale(rp, in))
			}
		}
		if !take {
			continue
		}
		set(a, v, rp, rhas)
		if a == AttrSchool {
			schoolMoved = true
		}
	}
	return changes
}
