package cmdb

import (
	"math"
	"sort"
	"strconv"
)

// Identify rules, strongest first. Rule names appear in reconcile results
// and duplicate candidates.
const (
	RuleCIID      = "ci_id"
	RuleSourceKey = "source_key"
	RuleSerial    = "serial_vendor"
	RuleUUID      = "hardware_uuid"
	RuleMAC       = "mac"
	RuleHostname  = "hostname_school"
	RuleNew       = "new"
)

// Identity is an observation's identifiers, normalised, with junk removed.
// It is what the identify rules match on and what the store indexes.
type Identity struct {
	SourceKey string // "<source>|<key>"
	Serial    string
	VendorKey string
	UUID      string
	MACs      []string
	Hostname  string
	SchoolID  int64 // hostnames match only within this school
	AssetTag  string
}

// Identity returns the normalised identifiers of o, dropping junk serials,
// junk UUIDs and MACs of virtual, dock and USB NICs. schoolID is the
// observation's school after its room was resolved.
func (j *Junk) Identity(o *Observation, schoolID int64) Identity {
	id := Identity{VendorKey: VendorKey(o.Vendor), Hostname: NormalizeHostname(o.Hostname), SchoolID: schoolID,
		AssetTag: NormalizeSerial(o.AssetTag)}
	if o.SourceKey != "" {
		id.SourceKey = o.Source + "|" + o.SourceKey
	}
	if s := NormalizeSerial(o.Serial); !j.JunkSerial(s) {
		id.Serial = s
	}
	if u, ok := NormalizeUUID(o.HardwareUUID); ok && !j.JunkUUID(u) {
		id.UUID = u
	}
	seen := map[string]bool{}
	for _, n := range o.NICs {
		if m, ok := NormalizeMAC(n.MAC); ok && n.Identifies() && !JunkMAC(m) && !seen[m] {
			seen[m] = true
			id.MACs = append(id.MACs, m)
		}
	}
	return id
}

// Identifiers returns the identifiers to record for a CI from this identity.
func (id Identity) Identifiers(source string) []Identifier {
	var out []Identifier
	add := func(kind, v, vendor string, school int64) {
		if v != "" {
			out = append(out, Identifier{Kind: kind, Value: v, Vendor: vendor, SchoolID: school, Source: source})
		}
	}
	add(IdentSourceKey, id.SourceKey, "", 0)
	add(IdentSerial, id.Serial, id.VendorKey, 0)
	add(IdentUUID, id.UUID, "", 0)
	for _, m := range id.MACs {
		add(IdentMAC, m, "", 0)
	}
	if id.SchoolID != 0 {
		add(IdentHostname, id.Hostname, "", id.SchoolID)
	}
	add(IdentAssetTag, id.AssetTag, "", 0)
	return out
}

// IdentityIndex is the part of the CMDB that identify looks at: the CIs
// that share any identifier with the observations of a batch, indexed by
// identifier. The store fills it; reconcile keeps it current while it
// works through a batch, so that a device seen twice in one batch lands
// on one CI.
type IdentityIndex struct {
	CIs     map[int64]*CI
	Cloned  map[string]bool // hardware UUIDs seen on different serials
	Junk    *Junk
	bySrc   map[string][]int64
	bySer   map[string][]int64
	byUUID  map[string][]int64
	byMAC   map[string][]int64
	byHost  map[string][]int64
	ciIdent map[int64]map[string]bool // "kind|value" known per CI
}

// NewIdentityIndex returns an empty index.
func NewIdentityIndex(j *Junk) *IdentityIndex {
	return &IdentityIndex{CIs: map[int64]*CI{}, Cloned: map[string]bool{}, Junk: j,
		bySrc: map[string][]int64{}, bySer: map[string][]int64{}, byUUID: map[string][]int64{},
		byMAC: map[string][]int64{}, byHost: map[string][]int64{}, ciIdent: map[int64]map[string]bool{}}
}

func hostKey(school int64, host string) string { return strconv.FormatInt(school, 10) + "|" + host }

// Add records that CI ciID has identifier x. It reports whether x was new.
func (ix *IdentityIndex) Add(ciID int64, x Identifier) bool {
	k := x.Kind + "|" + x.Value
	if x.Kind == IdentHostname {
		k += "|" + strconv.FormatInt(x.SchoolID, 10)
	}
	if ix.ciIdent[ciID] == nil {
		ix.ciIdent[ciID] = map[string]bool{}
	}
	if ix.ciIdent[ciID][k] {
		return false
	}
	ix.ciIdent[ciID][k] = true
	switch x.Kind {
	case IdentSourceKey:
		ix.bySrc[x.Value] = append(ix.bySrc[x.Value], ciID)
	case IdentSerial:
		ix.bySer[x.Value] = append(ix.bySer[x.Value], ciID)
	case IdentUUID:
		ix.byUUID[x.Value] = append(ix.byUUID[x.Value], ciID)
	case IdentMAC:
		ix.byMAC[x.Value] = append(ix.byMAC[x.Value], ciID)
	case IdentHostname:
		k := hostKey(x.SchoolID, x.Value)
		ix.byHost[k] = append(ix.byHost[k], ciID)
	}
	return true
}

// Match is the result of identify.
type Match struct {
	CIID int64  // 0: no CI found, create one
	Rule string // which rule found it
	// Others are further CIs the same rule found: duplicate candidates.
	Others []int64
	// ClonedUUID is set when the observation proved its hardware UUID to
	// be shared by different devices; it must be ignored from now on.
	ClonedUUID string
}

// Identify finds the CI an observation is about with the ordered rules:
// source key, serial + vendor, hardware UUID, MAC, hostname within the
// school. The first rule that finds CIs decides. A weaker rule skips CIs
// whose stronger identifiers contradict the observation. If a rule finds
// several CIs, the best match (most shared identifiers, then oldest) is
// returned with the others as duplicate candidates: nothing is merged.
func (ix *IdentityIndex) Identify(id *Identity) Match {
	var m Match
	if id.UUID != "" && !ix.Cloned[id.UUID] && id.Serial != "" {
		for _, c := range ix.byUUID[id.UUID] {
			if s := ix.serialOf(c); s != "" && s != id.Serial {
				m.ClonedUUID = id.UUID
				ix.Cloned[id.UUID] = true
				break
			}
		}
	}
	if ix.Cloned[id.UUID] {
		id.UUID = ""
	}
	rules := []struct {
		name  string
		cands func() []int64
	}{
		{RuleSourceKey, func() []int64 { return ix.bySrc[id.SourceKey] }},
		{RuleSerial, func() []int64 {
			var out []int64
			for _, c := range ix.bySer[id.Serial] {
				if v := VendorKey(ix.CIs[c].Vendor); v == "" || id.VendorKey == "" || v == id.VendorKey {
					out = append(out, c)
				}
			}
			return out
		}},
		{RuleUUID, func() []int64 { return ix.filter(ix.byUUID[id.UUID], id, false) }},
		{RuleMAC, func() []int64 {
			var out []int64
			for _, mac := range id.MACs {
				out = append(out, ix.byMAC[mac]...)
			}
			return ix.filter(out, id, true)
		}},
		{RuleHostname, func() []int64 {
			return ix.filter(ix.byHost[hostKey(id.SchoolID, id.Hostname)], id, true)
		}},
	}
	for _, r := range rules {
		if r.name == RuleHostname && (id.SchoolID == 0 || id.Hostname == "") {
			continue
		}
		cands := uniq(r.cands())
		if len(cands) == 0 {
			continue
		}
		best := ix.best(cands, id)
		m.CIID, m.Rule = best, r.name
		for _, c := range cands {
			if c != best {
				m.Others = append(m.Others, c)
			}
		}
		return m
	}
	m.Rule = RuleNew
	return m
}

func (ix *IdentityIndex) serialOf(ciID int64) string {
	c := ix.CIs[ciID]
	if c == nil {
		return ""
	}
	if s := NormalizeSerial(c.Serial); !ix.Junk.JunkSerial(s) {
		return s
	}
	return ""
}

func (ix *IdentityIndex) uuidOf(ciID int64) string {
	c := ix.CIs[ciID]
	if c == nil {
		return ""
	}
	if u, ok := NormalizeUUID(c.HardwareUUID); ok && !ix.Junk.JunkUUID(u) && !ix.Cloned[u] {
		return u
	}
	return ""
}

// filter drops candidates whose stronger identifiers contradict the
// observation: a different valid serial, and for rules weaker than the
// UUID rule also a different valid hardware UUID.
func (ix *IdentityIndex) filter(cands []int64, id *Identity, checkUUID bool) []int64 {
	var out []int64
	for _, c := range cands {
		if s := ix.serialOf(c); s != "" && id.Serial != "" && s != id.Serial {
			continue
		}
		if u := ix.uuidOf(c); checkUUID && u != "" && id.UUID != "" && u != id.UUID {
			continue
		}
		out = append(out, c)
	}
	return out
}

// best picks the candidate sharing most identifiers with id; ties go to
// the oldest (lowest id).
func (ix *IdentityIndex) best(cands []int64, id *Identity) int64 {
	score := func(c int64) int {
		n := 0
		for _, x := range id.Identifiers("") {
			k := x.Kind + "|" + x.Value
			if x.Kind == IdentHostname {
				k += "|" + strconv.FormatInt(x.SchoolID, 10)
			}
			if ix.ciIdent[c][k] {
				n++
			}
		}
		return n
	}
	// Temporary (negative) ids of CIs created in this batch are younger
	// than every stored CI, and -1 is older than -2.
	age := func(id int64) int64 {
		if id < 0 {
			return math.MaxInt64/2 - id
		}
		return id
	}
	sort.Slice(cands, func(i, j int) bool {
		si, sj := score(cands[i]), score(cands[j])
		if si != sj {
			return si > sj
		}
		return age(cands[i]) < age(cands[j])
	})
	return cands[0]
}

func uniq(ids []int64) []int64 {
	if len(ids) < 2 {
		return ids
	}
	seen := make(map[int64]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
