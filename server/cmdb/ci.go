package cmdb

import (
	"context"
	"time"
)

// Classes of configuration items.
const (
	ClassLaptop         = "laptop"
	ClassDesktop        = "desktop"
	ClassTablet         = "tablet"
	ClassPrinter        = "printer"
	ClassMFP            = "mfp"
	ClassProjector      = "projector"
	ClassDisplay        = "interactive_display"
	ClassDocumentCamera = "document_camera"
	ClassAccessPoint    = "access_point"
	ClassSwitch         = "switch"
	ClassOther          = "other"
)

// Classes lists every valid class in display order.
var Classes = []string{ClassLaptop, ClassDesktop, ClassTablet, ClassPrinter, ClassMFP, ClassProjector,
	ClassDisplay, ClassDocumentCamera, ClassAccessPoint, ClassSwitch, ClassOther}

// Lifecycle statuses of a CI.
const (
	StatusPlanned  = "planned"
	StatusInStock  = "in_stock"
	StatusInUse    = "in_use"
	StatusInRepair = "in_repair"
	StatusRetired  = "retired"
	StatusDisposed = "disposed"
)

// Statuses lists every valid status in lifecycle order.
var Statuses = []string{StatusPlanned, StatusInStock, StatusInUse, StatusInRepair, StatusRetired, StatusDisposed}

// Relation kinds between CIs. A relation reads "From <kind> To":
// a laptop connected_to a switch, software installed_on a desktop, a
// document camera part_of an interactive display.
const (
	RelConnectedTo = "connected_to"
	RelInstalledOn = "installed_on"
	RelPartOf      = "part_of"
)

// RelationKinds lists the valid relation kinds.
var RelationKinds = []string{RelConnectedTo, RelInstalledOn, RelPartOf}

// Core attribute names. Together with free attributes (see ValidAttrName)
// they are what reconcile merges, locks and records in history.
const (
	AttrClass        = "class"
	AttrStatus       = "status"
	AttrName         = "name"
	AttrSchool       = "school"
	AttrRoom         = "room"
	AttrVendor       = "vendor"
	AttrModel        = "model"
	AttrSerial       = "serial"
	AttrAssetTag     = "asset_tag"
	AttrHostname     = "hostname"
	AttrHardwareUUID = "hardware_uuid"
	AttrOSName       = "os_name"
	AttrOSVersion    = "os_version"
	AttrPurchaseDate = "purchase_date"
	AttrWarrantyEnd  = "warranty_end"
	AttrOwner        = "owner"
)

// CoreAttrs lists the core attributes, which have typed columns.
var CoreAttrs = []string{AttrClass, AttrStatus, AttrName, AttrSchool, AttrRoom, AttrVendor, AttrModel,
	AttrSerial, AttrAssetTag, AttrHostname, AttrHardwareUUID, AttrOSName, AttrOSVersion,
	AttrPurchaseDate, AttrWarrantyEnd, AttrOwner}

// CI is a configuration item: one real thing. It is written only by
// reconcile. School and room are zero when unknown. Dates are YYYY-MM-DD.
type CI struct {
	ID int64 `json:"id"`
	// ShortCode is the code on the CI's QR label (see ShortCode), read-only.
	ShortCode    string            `json:"short_code"`
	AuthorityID  int64             `json:"authority_id"`
	SchoolID     int64             `json:"school_id,omitempty"`
	RoomID       int64             `json:"room_id,omitempty"`
	Class        string            `json:"class"`
	Status       string            `json:"status"`
	Name         string            `json:"name"`
	Vendor       string            `json:"vendor,omitempty"`
	Model        string            `json:"model,omitempty"`
	Serial       string            `json:"serial,omitempty"`
	AssetTag     string            `json:"asset_tag,omitempty"`
	Hostname     string            `json:"hostname,omitempty"`
	HardwareUUID string            `json:"hardware_uuid,omitempty"`
	OSName       string            `json:"os_name,omitempty"`
	OSVersion    string            `json:"os_version,omitempty"`
	PurchaseDate string            `json:"purchase_date,omitempty"`
	WarrantyEnd  string            `json:"warranty_end,omitempty"`
	Owner        string            `json:"owner,omitempty"`
	Attributes   map[string]string `json:"attributes"`
	// Provenance says which source set each attribute and when.
	Provenance map[string]Provenance `json:"-"`
	// MergedInto is set on a CI that was merged into another; such a CI
	// is kept for its history and no longer listed.
	MergedInto int64 `json:"merged_into,omitempty"`
	// RepeatFailure is the replacement-candidate flag, nil when none
	// (read-only; see RepeatFailureFlag).
	RepeatFailure *RepeatFailureFlag `json:"repeat_failure"`
	CreatedAt     time.Time          `json:"created_at"`
	UpdatedAt     time.Time          `json:"updated_at"`
}

// Get returns the value of a core or free attribute, "" when unset.
func (c *CI) Get(attr string) string {
	if p := c.field(attr); p != nil {
		return *p
	}
	switch attr {
	case AttrSchool:
		return idString(c.SchoolID)
	case AttrRoom:
		return idString(c.RoomID)
	}
	return c.Attributes[attr]
}

// Set sets a core or free attribute; "" clears it. Room and school take
// decimal IDs; the caller checks they exist.
func (c *CI) Set(attr, v string) {
	if p := c.field(attr); p != nil {
		*p = v
		return
	}
	switch attr {
	case AttrSchool:
		c.SchoolID = parseID(v)
		return
	case AttrRoom:
		c.RoomID = parseID(v)
		return
	}
	if v == "" {
		delete(c.Attributes, attr)
		return
	}
	if c.Attributes == nil {
		c.Attributes = map[string]string{}
	}
	c.Attributes[attr] = v
}

func (c *CI) field(attr string) *string {
	switch attr {
	case AttrClass:
		return &c.Class
	case AttrStatus:
		return &c.Status
	case AttrName:
		return &c.Name
	case AttrVendor:
		return &c.Vendor
	case AttrModel:
		return &c.Model
	case AttrSerial:
		return &c.Serial
	case AttrAssetTag:
		return &c.AssetTag
	case AttrHostname:
		return &c.Hostname
	case AttrHardwareUUID:
		return &c.HardwareUUID
	case AttrOSName:
		return &c.OSName
	case AttrOSVersion:
		return &c.OSVersion
	case AttrPurchaseDate:
		return &c.PurchaseDate
	case AttrWarrantyEnd:
		return &c.WarrantyEnd
	case AttrOwner:
		return &c.Owner
	}
	return nil
}

// Clone returns a deep copy, so that reconcile can diff before and after.
func (c *CI) Clone() *CI {
	o := *c
	o.Attributes = make(map[string]string, len(c.Attributes))
	for k, v := range c.Attributes {
		o.Attributes[k] = v
	}
	o.Provenance = make(map[string]Provenance, len(c.Provenance))
	for k, v := range c.Provenance {
		o.Provenance[k] = v
	}
	return &o
}

// Identifier kinds, strongest first as the identify rules use them.
const (
	IdentSourceKey = "source_key"
	IdentSerial    = "serial"
	IdentUUID      = "hardware_uuid"
	IdentMAC       = "mac"
	IdentHostname  = "hostname"
	IdentAssetTag  = "asset_tag"
)

// Identifier is one normalised identifier of a CI. Vendor qualifies a
// serial; SchoolID qualifies a hostname (hostnames match only within a
// school); a source key's Value is "<source>|<key>".
type Identifier struct {
	Kind      string    `json:"kind"`
	Value     string    `json:"value"`
	Vendor    string    `json:"vendor,omitempty"`
	SchoolID  int64     `json:"school_id,omitempty"`
	Source    string    `json:"source"`
	FirstSeen time.Time `json:"first_seen"`
}

// Provenance records which source set an attribute value and when.
type Provenance struct {
	Source string    `json:"source"`
	At     time.Time `json:"at"`
}

// Lock pins an attribute to its hand-edited value: no source but a user
// changes it until the lock is released.
type Lock struct {
	CIID     int64     `json:"ci_id"`
	Attr     string    `json:"attribute"`
	Value    string    `json:"value"`
	LockedBy string    `json:"locked_by"`
	LockedAt time.Time `json:"locked_at"`
}

// HistoryEntry is one append-only record of an attribute change. Old and
// New are nil when the attribute was unset.
type HistoryEntry struct {
	ID     int64     `json:"id"`
	CIID   int64     `json:"ci_id"`
	Attr   string    `json:"attribute"`
	Old    *string   `json:"old"`
	New    *string   `json:"new"`
	Source string    `json:"source"`
	At     time.Time `json:"at"`
}

// Relation links two CIs of the same authority.
type Relation struct {
	ID        int64     `json:"id"`
	FromID    int64     `json:"from_ci_id"`
	ToID      int64     `json:"to_ci_id"`
	Kind      string    `json:"kind"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
}

// Duplicate candidate statuses.
const (
	DupOpen      = "open"
	DupMerged    = "merged"
	DupDismissed = "dismissed"
)

// DuplicateCandidate is a pair of CIs that an identify rule could not tell
// apart. A human merges them or dismisses the candidate.
type DuplicateCandidate struct {
	ID          int64      `json:"id"`
	AuthorityID int64      `json:"authority_id"`
	CIA         int64      `json:"ci_a"`
	CIB         int64      `json:"ci_b"`
	Rule        string     `json:"rule"`
	Detail      string     `json:"detail"`
	Status      string     `json:"status"`
	CreatedAt   time.Time  `json:"created_at"`
	ResolvedBy  string     `json:"resolved_by,omitempty"`
	ResolvedAt  *time.Time `json:"resolved_at,omitempty"`
}

// CIFilter selects CIs; zero fields do not filter. Query searches name,
// serial, asset tag, hostname and MAC addresses.
type CIFilter struct {
	AuthorityID int64
	SchoolID    int64
	RoomID      int64
	Class       string
	Status      string
	// Query searches name, serial, asset tag, hostname, vendor and model
	// (case-insensitive substring) and MAC addresses (whole, or a part in
	// any notation: see MACFragment).
	Query string
	// Vendor and Model match the whole value, ignoring case.
	Vendor, Model string
	Offset        int
	Limit         int
}

// Validate checks enum values and paging bounds.
func (f *CIFilter) Validate() error {
	if f.Class != "" && !contains(Classes, f.Class) {
		return Invalid("class", "must be one of %v", Classes)
	} else if f.Status != "" && !contains(Statuses, f.Status) {
		return Invalid("status", "must be one of %v", Statuses)
	} else if f.Offset < 0 {
		return Invalid("offset", "must not be negative")
	} else if f.Limit < 0 || f.Limit > 1000 {
		return Invalid("limit", "must be between 1 and 1000")
	} else if err := ValidateText("q", f.Query, MaxNameLen); err != nil {
		return err
	} else if err := ValidateText("vendor", f.Vendor, MaxNameLen); err != nil {
		return err
	} else if err := ValidateText("model", f.Model, MaxNameLen); err != nil {
		return err
	}
	return nil
}

// DuplicateFilter selects duplicate candidates.
type DuplicateFilter struct {
	Status      string // default: open
	AuthorityID int64
	CIID        int64
	Offset      int
	Limit       int
}

// Outcomes of reconciling one observation.
const (
	OutcomeCreated   = "created"
	OutcomeUpdated   = "updated"
	OutcomeUnchanged = "unchanged"
)

// ReconcileResult says what reconcile did with each observation, in the
// order they were given.
type ReconcileResult struct {
	Items []ReconcileItem `json:"items"`
}

// ReconcileItem is the outcome for one observation: the CI it landed on,
// how it was identified, the attributes it changed and any duplicate
// candidates it recorded.
type ReconcileItem struct {
	CIID       int64    `json:"ci_id"`
	Outcome    string   `json:"outcome"`
	Rule       string   `json:"rule,omitempty"`
	Changed    []string `json:"changed,omitempty"`
	Duplicates []int64  `json:"duplicate_ci_ids,omitempty"`
	// Dropped lists identifiers of the observation that were ignored
	// because they identify nothing (junk serial, multicast MAC, ...).
	Dropped []Dropped `json:"dropped,omitempty"`
}

// CIStore is the one door through which CIs are written, and the way they
// are read. All methods filter by the scope in the store: objects outside
// it are ENOTFOUND. Bad input is EINVALID naming the field; nothing of a
// failed call is written.
type CIStore interface {
	// Reconcile identifies, merges and writes a batch of observations in
	// one transaction. Hand edits (source "user:…") lock what they change.
	Reconcile(ctx context.Context, s Scope, obs []Observation) (*ReconcileResult, error)
	FindCIByID(ctx context.Context, s Scope, id int64) (*CI, error)
	// FindCIs returns a page of CIs and the total number matching.
	FindCIs(ctx context.Context, s Scope, f CIFilter) ([]*CI, int, error)
	FindIdentifiers(ctx context.Context, s Scope, ciID int64) ([]*Identifier, error)
	// FindLocks lists locks of one CI, or of every visible CI when ciID is 0.
	FindLocks(ctx context.Context, s Scope, ciID int64) ([]*Lock, error)
	// ReleaseLock removes a lock; ENOTFOUND when there is none.
	ReleaseLock(ctx context.Context, s Scope, ciID int64, attr string) error
	// FindHistory lists the history of a CI and of CIs merged into it, newest first.
	FindHistory(ctx context.Context, s Scope, ciID int64, limit int) ([]*HistoryEntry, error)
	FindDuplicates(ctx context.Context, s Scope, f DuplicateFilter) ([]*DuplicateCandidate, int, error)
	// MergeCIs merges remove into keep: identifiers, relations, locks and
	// history move over, keep's empty attributes are filled, and the merge
	// is recorded in history. ECONFLICT if either was already merged.
	MergeCIs(ctx context.Context, s Scope, keepID, removeID int64) (*CI, error)
	// DismissDuplicate marks a candidate as not a duplicate.
	DismissDuplicate(ctx context.Context, s Scope, id int64) error
	// MergeDuplicate merges the candidate's other CI into keepID.
	MergeDuplicate(ctx context.Context, s Scope, id, keepID int64) (*CI, error)
	CreateRelation(ctx context.Context, s Scope, r *Relation) error
	FindRelations(ctx context.Context, s Scope, ciID int64) ([]*Relation, error)
	DeleteRelation(ctx context.Context, s Scope, id int64) error
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
