package cmdb

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
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
	Source    string // the observation's source
	SourceKey string // "<source>|<key>"
	Serial    string
	VendorKey string
	UUID      string
	MACs      []string
	Hostname  string
	SchoolID  int64 // hostnames match only within this school
	AssetTag  string
	// Dropped lists the identifiers the observation carried that do not
	// identify anything, with the reason; reconcile says them in its answer.
	Dropped []Dropped
}

// Dropped is an identifier of an observation that identify ignored.
type Dropped struct {
	Field  string `json:"field"`  // observation field: serial, hardware_uuid, nics[i].mac
	Value  string `json:"value"`  // as sent, trimmed
	Reason string `json:"reason"` // one of the Drop* reasons
}

// Reasons an identifier is dropped.
const (
	DropJunk      = "junk"      // on the junk list or a placeholder (serial, UUID)
	DropInvalid   = "invalid"   // not a UUID or MAC at all
	DropMulticast = "multicast" // a multicast or broadcast MAC
	DropZero      = "zero"      // an all-zero MAC
	DropCloned    = "cloned"    // a hardware UUID seen on different serials
)

// Identity returns the normalised identifiers of o, dropping junk serials,
// junk UUIDs and MACs of virtual, dock and USB NICs; junk values it drops
// are listed in Dropped (MACs of virtual, dock and USB NICs are not: the
// source said they do not identify). schoolID is the observation's school after its room
// was resolved.
func (j *Junk) Identity(o *Observation, schoolID int64) Identity {
	id := Identity{Source: o.Source, VendorKey: VendorKey(o.Vendor), Hostname: NormalizeHostname(o.Hostname), SchoolID: schoolID,
		AssetTag: NormalizeSerial(o.AssetTag)}
	drop := func(field, v, reason string) {
		id.Dropped = append(id.Dropped, Dropped{Field: field, Value: strings.TrimSpace(v), Reason: reason})
	}
	if o.SourceKey != "" {
		id.SourceKey = o.Source + "|" + o.SourceKey
	}
	if s := NormalizeSerial(o.Serial); !j.JunkSerial(s) {
		id.Serial = s
	} else if strings.TrimSpace(o.Serial) != "" {
		drop("serial", o.Serial, DropJunk)
	}
	if u, ok := NormalizeUUID(o.HardwareUUID); ok && !j.JunkUUID(u) {
		id.UUID = u
	} else if ok {
		drop("hardware_uuid", o.HardwareUUID, DropJunk)
	} else if strings.TrimSpace(o.HardwareUUID) != "" {
		drop("hardware_uuid", o.HardwareUUID, DropInvalid)
	}
	seen := map[string]bool{}
	for i, n := range o.NICs {
		field := "nics[" + strconv.Itoa(i) + "].mac"
		m, ok := NormalizeMAC(n.MAC)
		switch {
		case strings.TrimSpace(n.MAC) == "":
		case !ok:
			drop(field, n.MAC, DropInvalid)
		case m == "00:00:00:00:00:00":
			drop(field, n.MAC, DropZero)
		case JunkMAC(m):
			drop(field, n.MAC, DropMulticast)
		case !n.Identifies():
			// Virtual, dock and USB NICs are not identities by what the
			// source itself said: not worth a word in every answer.
		case !seen[m]:
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
	CIs    map[int64]*CI
	Cloned map[string]bool // hardware UUIDs seen on different serials
	Junk   *Junk
	// Now and StaleAfter (per source kind, as Policy.StaleAfter) decide
	// whether a CI's source key is live: its source saw the CI within the
	// stale period. A kind without a stale period never goes quiet.
	Now        time.Time
	StaleAfter map[string]time.Duration
	lastSeen   map[int64]map[string]time.Time
	srcKeys    map[int64][]string // source key values per CI
	bySrc      map[string][]int64
	bySer      map[string][]int64
	byUUID     map[string][]int64
	byMAC      map[string][]int64
	byHost     map[string][]int64
	ciIdent    map[int64]map[string]bool // "kind|value" known per CI
}

// NewIdentityIndex returns an empty index.
func NewIdentityIndex(j *Junk) *IdentityIndex {
	return &IdentityIndex{CIs: map[int64]*CI{}, Cloned: map[string]bool{}, Junk: j,
		bySrc: map[string][]int64{}, bySer: map[string][]int64{}, byUUID: map[string][]int64{},
		byMAC: map[string][]int64{}, byHost: map[string][]int64{}, ciIdent: map[int64]map[string]bool{},
		lastSeen: map[int64]map[string]time.Time{}, srcKeys: map[int64][]string{}}
}

// Seen records that source observed CI ciID at at (the later time wins).
// It is what tells a live source key from one that has gone quiet.
func (ix *IdentityIndex) Seen(ciID int64, source string, at time.Time) {
	if ix.lastSeen[ciID] == nil {
		ix.lastSeen[ciID] = map[string]time.Time{}
	}
	if t, ok := ix.lastSeen[ciID][source]; !ok || at.After(t) {
		ix.lastSeen[ciID][source] = at
	}
}

// liveOtherKey returns a source key of the observation's source that CI
// c holds besides the observation's own key, if that source saw c within
// its stale period: the source then holds two live records, and c is not
// the observation's device. A CI without a last-seen time for the source
// counts as live (a wrong merge is worse than a duplicate).
func (ix *IdentityIndex) liveOtherKey(c int64, id *Identity) string {
	if id.SourceKey == "" {
		return ""
	}
	src := id.Source
	if src == "" {
		src, _, _ = strings.Cut(id.SourceKey, "|")
	}
	for _, k := range ix.srcKeys[c] {
		if k == id.SourceKey || !strings.HasPrefix(k, src+"|") {
			continue
		}
		t, seen := ix.lastSeen[c][src]
		after, stales := ix.StaleAfter[SourceKind(src)]
		if !seen || !stales || ix.Now.Sub(t) <= after {
			return k
		}
	}
	return ""
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
		ix.srcKeys[ciID] = append(ix.srcKeys[ciID], x.Value)
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
	// Contradicted are CIs a rule found that hold another live key of the
	// observation's source: not the observation's device, but recorded as
	// duplicate candidates.
	Contradicted []Contradiction
	// ClonedUUID is set when the observation proved its hardware UUID to
	// be shared by different devices; it must be ignored from now on.
	ClonedUUID string
}

// Contradiction is a CI a rule found but that cannot be the observation's
// device because it holds Key, another live key of the same source.
type Contradiction struct {
	CIID int64
	Rule string
	Key  string
}

// Identify finds the CI an observation is about with the ordered rules:
// source key, serial + vendor, hardware UUID, MAC, hostname within the
// school. The first rule that finds CIs decides. A weaker rule skips CIs
// whose stronger identifiers contradict the observation. Rules after the
// source key also skip CIs holding another live key of the observation's
// source (two live records of one source are two things); those are
// returned in Contradicted. The one exception: an agent's firmware serial
// (with no contradicting hardware UUID) still matches a CI with another
// live agent key, as a reinstalled or dual-booted machine must. If a rule finds several CIs, the best match
// (most shared identifiers, then oldest) is returned with the others as
// duplicate candidates: nothing is merged. A cloned UUID is dropped from
// id and listed in id.Dropped.
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
	if id.UUID != "" && ix.Cloned[id.UUID] {
		id.Dropped = append(id.Dropped, Dropped{Field: "hardware_uuid", Value: id.UUID, Reason: DropCloned})
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
		if r.name != RuleSourceKey {
			cands = ix.dropContradicted(cands, id, r.name, &m)
		}
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

// dropContradicted removes from cands the CIs that hold another live key
// of the observation's source and notes them in m (once each).
func (ix *IdentityIndex) dropContradicted(cands []int64, id *Identity, rule string, m *Match) []int64 {
	out := cands[:0:0]
	for _, c := range cands {
		k := ix.liveOtherKey(c, id)
		if k != "" && rule == RuleSerial && SourceKind(id.Source) == SourceAgent {
			// An agent reads the serial from the machine's firmware: a
			// second live agent with it is the same board reinstalled or
			// booted into another system, unless the board's UUID differs.
			if u := ix.uuidOf(c); u == "" || id.UUID == "" || u == id.UUID {
				k = ""
			}
		}
		if k == "" {
			out = append(out, c)
			continue
		}
		dup := false
		for _, x := range m.Contradicted {
			dup = dup || x.CIID == c
		}
		if !dup {
			m.Contradicted = append(m.Contradicted, Contradiction{CIID: c, Rule: rule, Key: k})
		}
	}
	return out
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
