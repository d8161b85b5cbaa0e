package cmdb

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Source kinds: the part of a source name before ':'.
const (
	SourceAgent     = "agent"
	SourceSNMP      = "snmp"
	SourceConnector = "connector"
	SourceUser      = "user"
	SourceMerge     = "merge"
)

var sourceRE = regexp.MustCompile(`^(agent|snmp|(connector|user):[A-Za-z0-9._@-]{1,64})$`)

// SourceKind returns the kind of a source: "connector:schulamt" → "connector".
func SourceKind(source string) string {
	if i := strings.IndexByte(source, ':'); i >= 0 {
		return source[:i]
	}
	return source
}

// ValidateSource checks a source name: agent, snmp, connector:<name> or user:<id>.
func ValidateSource(field, source string) error {
	if !sourceRE.MatchString(source) {
		return Invalid(field, "must be agent, snmp, connector:<name> or user:<id>")
	}
	return nil
}

// NIC kinds. Only physical NICs (and NICs of unknown kind) identify a
// device; a docking station's or USB adapter's MAC travels between devices.
const (
	NICPhysical = "physical"
	NICVirtual  = "virtual"
	NICDock     = "dock"
	NICUSB      = "usb"
)

// NIC is a network interface seen by a source.
type NIC struct {
	MAC  string `json:"mac"`
	Kind string `json:"kind,omitempty"`
}

// Identifies reports whether the NIC's MAC may identify its device.
func (n NIC) Identifies() bool { return n.Kind == "" || n.Kind == NICPhysical }

// Observation is what one source says about one thing at one time. It is
// the only input of reconcile: agents, the SNMP poller, connectors and
// hand edits all produce Observations.
type Observation struct {
	// Source is agent, snmp, connector:<name> or user:<id>.
	Source string `json:"source"`
	// SourceKey is the source's own stable key for the thing (agent
	// device id, connector record id). Optional.
	SourceKey   string `json:"source_key,omitempty"`
	AuthorityID int64  `json:"authority_id"`
	// SchoolID and RoomID say where the thing is, when the source knows.
	// A room implies its school.
	SchoolID int64 `json:"school_id,omitempty"`
	RoomID   int64 `json:"room_id,omitempty"`
	// CIID targets one CI directly (hand edits). Identify rules are skipped.
	CIID int64 `json:"ci_id,omitempty"`
	// MustCreate refuses, with ECONFLICT, an observation that identifies
	// an existing CI (creating a CI by hand).
	MustCreate   bool   `json:"-"`
	Class        string `json:"class,omitempty"`
	Status       string `json:"status,omitempty"`
	Serial       string `json:"serial,omitempty"`
	Vendor       string `json:"vendor,omitempty"`
	HardwareUUID string `json:"hardware_uuid,omitempty"`
	Hostname     string `json:"hostname,omitempty"`
	AssetTag     string `json:"asset_tag,omitempty"`
	NICs         []NIC  `json:"nics,omitempty"`
	// Attributes holds the other core attributes (name, model, os_name,
	// purchase_date, …) and free attributes such as "cpu.model".
	Attributes map[string]string `json:"attributes,omitempty"`
	// Clear lists attributes a hand edit unsets.
	Clear []string `json:"clear,omitempty"`
	// ObservedAt defaults to the time of reconcile.
	ObservedAt time.Time `json:"observed_at,omitzero"`
}

var attrNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`)

// Maximum sizes of an observation's parts.
const (
	MaxAttrs       = 200
	MaxNICs        = 64
	MaxAttrNameLen = 64
	MaxBatch       = 20000
)

// identityAttrs are core attributes that come in through their own
// Observation fields and may not be given in Attributes.
var identityAttrs = []string{AttrClass, AttrStatus, AttrSchool, AttrRoom, AttrSerial, AttrVendor,
	AttrHardwareUUID, AttrHostname, AttrAssetTag}

// ValidAttrName checks an attribute name: lower-case words of letters,
// digits and '_' separated by dots, at most 64 characters.
func ValidAttrName(field, name string) error {
	if len(name) > MaxAttrNameLen || !attrNameRE.MatchString(name) {
		return Invalid(field, "attribute name %q must be lower-case letters, digits and '_' in dot-separated words, at most %d characters", truncate(name, 70), MaxAttrNameLen)
	}
	return nil
}

// Validate checks an observation's form: known source, class and status,
// parseable MACs, UUID and dates, text lengths and attribute names. It
// does not check that school or room exist; the store does.
func (o *Observation) Validate() error {
	if err := ValidateSource("source", o.Source); err != nil {
		return err
	}
	if o.AuthorityID <= 0 && o.CIID <= 0 {
		return Invalid("authority_id", "is required")
	}
	if err := ValidateTime("observed_at", o.ObservedAt, time.Now(), MaxReportAge); err != nil {
		return err
	}
	if o.SchoolID < 0 {
		return Invalid("school_id", "must be a school id")
	} else if o.RoomID < 0 {
		return Invalid("room_id", "must be a room id")
	}
	if o.Class != "" && !contains(Classes, o.Class) {
		return Invalid("class", "must be one of %s", strings.Join(Classes, ", "))
	}
	if o.Status != "" && !contains(Statuses, o.Status) {
		return Invalid("status", "must be one of %s", strings.Join(Statuses, ", "))
	}
	for _, f := range []struct{ name, v string }{{"source_key", o.SourceKey}, {"serial", o.Serial},
		{"vendor", o.Vendor}, {"hostname", o.Hostname}, {"asset_tag", o.AssetTag}} {
		if err := ValidateText(f.name, f.v, MaxNameLen); err != nil {
			return err
		}
	}
	if o.HardwareUUID != "" {
		if _, ok := NormalizeUUID(o.HardwareUUID); !ok {
			return Invalid("hardware_uuid", "must be a UUID of 32 hex digits")
		}
	}
	if len(o.NICs) > MaxNICs {
		return Invalid("nics", "must have at most %d entries", MaxNICs)
	}
	for i, n := range o.NICs {
		if _, ok := NormalizeMAC(n.MAC); !ok {
			return Invalid("nics["+strconv.Itoa(i)+"].mac", "must be a 48-bit MAC address such as 00:1a:2b:3c:4d:5e")
		}
		if n.Kind != "" && !contains([]string{NICPhysical, NICVirtual, NICDock, NICUSB}, n.Kind) {
			return Invalid("nics["+strconv.Itoa(i)+"].kind", "must be physical, virtual, dock or usb")
		}
	}
	if len(o.Attributes) > MaxAttrs {
		return Invalid("attributes", "must have at most %d entries", MaxAttrs)
	}
	for _, k := range sortedKeys(o.Attributes) {
		field := "attributes." + k
		if err := ValidAttrName(field, k); err != nil {
			return err
		}
		if contains(identityAttrs, k) {
			return Invalid(field, "is set through the observation's own %q field", k)
		}
		if err := ValidateAttrValue(field, k, o.Attributes[k]); err != nil {
			return err
		}
	}
	for i, k := range o.Clear {
		if err := ValidAttrName("clear["+strconv.Itoa(i)+"]", k); err != nil {
			return err
		} else if k == AttrClass || k == AttrStatus {
			return Invalid("clear["+strconv.Itoa(i)+"]", "%s cannot be cleared", k)
		}
	}
	if len(o.Clear) > 0 && SourceKind(o.Source) != SourceUser {
		return Invalid("clear", "only hand edits (source user:<id>) may clear attributes")
	}
	return nil
}

// ValidateAttrValue checks a value for one attribute: dates are
// YYYY-MM-DD, names at most MaxNameLen, other values at most MaxTextLen.
func ValidateAttrValue(field, attr, v string) error {
	switch attr {
	case AttrPurchaseDate, AttrWarrantyEnd:
		if v == "" {
			return nil
		}
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return Invalid(field, "must be a date in the form YYYY-MM-DD")
		}
		return nil
	case AttrName, AttrModel, AttrOSName, AttrOSVersion, AttrOwner:
		return ValidateText(field, v, MaxNameLen)
	}
	return ValidateText(field, v, MaxTextLen)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
