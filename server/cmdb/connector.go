package cmdb

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Delete policies: what a sync does with a CI whose record disappeared
// from the source.
const (
	DeleteIgnore        = "ignore"         // nothing; the replica remembers it is gone
	DeleteRetire        = "retire"         // status retired
	DeleteRetireDispose = "retire_dispose" // retired, disposed DisposeAfterDays later
)

// DefaultGuardShare is the share of an instance's records that may
// disappear in one run before the run is refused until a person confirms.
const DefaultGuardShare = 0.10

// Run statuses.
const (
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	RunCancelled = "cancelled"
	RunRefused   = "refused"
)

// Replica states of a connector record.
const (
	ReplicaActive   = "active"
	ReplicaError    = "error"
	ReplicaGone     = "gone"
	ReplicaRetired  = "retired"
	ReplicaDisposed = "disposed"
)

// ConnectorInstance is one configured connector of an authority: which
// plugin binary runs (pinned by its SHA-256), its settings and secrets,
// when it runs and how its records map onto CIs. Its records reach
// reconcile as the source "connector:<Name>".
type ConnectorInstance struct {
	ID          int64  `json:"id"`
	AuthorityID int64  `json:"authority_id"`
	Name        string `json:"name"`
	Plugin      string `json:"plugin"`
	BinaryPath  string `json:"binary_path"`
	// BinarySHA256 is the hex SHA-256 the executable must have.
	BinarySHA256 string          `json:"binary_sha256"`
	Settings     json.RawMessage `json:"settings"`
	// SecretNames lists the secrets that are set; their values are
	// write-only and never leave the store except to the plugin.
	SecretNames []string `json:"secret_names"`
	// Schedule is a cron expression (five fields); empty: runs by hand only.
	Schedule         string           `json:"schedule"`
	Mapping          ConnectorMapping `json:"mapping"`
	DeletePolicy     string           `json:"delete_policy"`
	DisposeAfterDays int              `json:"dispose_after_days"`
	GuardShare       float64          `json:"guard_share"`
	// Push has every successful run write the CMDB's changes back
	// through the connector's Push (see ConnectorStore.PushCandidates).
	// Only a plugin with the "push" capability may have it; CheckPush.
	Push      bool      `json:"push"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	CreatedBy string    `json:"created_by"`
}

// Source is the reconcile source name of the instance's records.
func (c *ConnectorInstance) Source() string { return SourceConnector + ":" + c.Name }

// ConnectorMapping says how a connector's records become observations.
// Keys of the value maps compare case-insensitively, without surrounding
// spaces.
type ConnectorMapping struct {
	// Fields maps a record attribute (the connector's name) to a CI
	// attribute; unmapped attributes keep their name. Mapping to "" drops
	// the attribute.
	Fields map[string]string `json:"fields,omitempty"`
	// Classes maps the source's class word ("Beamer") to a class
	// ("projector"); built-in German and English words apply otherwise.
	Classes map[string]string `json:"classes,omitempty"`
	// Statuses maps the source's status word ("in Betrieb") to a status.
	Statuses map[string]string `json:"statuses,omitempty"`
	// Schools maps the source's school code or name to a school code of
	// the authority; unmapped values are tried as school code, then name.
	Schools map[string]string `json:"schools,omitempty"`
	// CreateRooms allows the sync to create a room that a record names and
	// the school does not have yet.
	CreateRooms bool `json:"create_rooms,omitempty"`
	// Allowed lists the CI attributes this source may set (its place in
	// the precedence); empty: all. Identifiers always go to reconcile,
	// since they identify the device.
	Allowed []string `json:"allowed,omitempty"`
}

var instanceNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,47}$`)

// AttrSourceDeviceID is the attribute a connector record's
// Identifiers.SourceDeviceID becomes (the source's own device id).
const AttrSourceDeviceID = "source_device_id"

// FieldTargets are the attributes a source field may be mapped to
// (ConnectorMapping.Fields) besides free attributes under a namespace
// (InNamespace): the core attributes that are not set through the class,
// status and school mappings. Serial, asset tag, hostname and hardware
// UUID become the observation's identifiers.
var FieldTargets = []string{AttrName, AttrVendor, AttrModel, AttrSerial, AttrAssetTag, AttrHostname, AttrHardwareUUID,
	AttrOSName, AttrOSVersion, AttrPurchaseDate, AttrWarrantyEnd, AttrOwner}

// Validate checks a mapping: every target attribute, class and status
// must exist. A field maps to one of FieldTargets or to a free attribute
// under a namespace ("inventory.kostenstelle"); allowed names core
// attributes, the source's device id or such free attributes. A name of
// neither kind ("garantie_endee", "modell") is a typo that would silently
// drop the field, so it is refused. The error names the offending entry.
func (m *ConnectorMapping) Validate() error {
	for _, k := range sortedKeys(m.Fields) {
		v := m.Fields[k]
		field := "mapping.fields." + k
		if strings.TrimSpace(k) == "" {
			return Invalid("mapping.fields", "a source field name must not be empty")
		}
		if v == "" {
			continue
		}
		if err := ValidAttrName(field, v); err != nil {
			return err
		}
		if contains([]string{AttrClass, AttrStatus, AttrSchool, AttrRoom}, v) {
			return Invalid(field, "%q is set through the class, status and school mappings, not as a field", v)
		}
		if !contains(FieldTargets, v) && !InNamespace(v) {
			return Invalid(field, "%q is no attribute a field can be mapped to: one of %s, or a free attribute under inventory. (e.g. inventory.%s)",
				v, strings.Join(FieldTargets, ", "), attrWord(v))
		}
	}
	for _, k := range sortedKeys(m.Classes) {
		if !contains(Classes, m.Classes[k]) {
			return Invalid("mapping.classes."+k, "must be one of %s", strings.Join(Classes, ", "))
		}
	}
	for _, k := range sortedKeys(m.Statuses) {
		if !contains(Statuses, m.Statuses[k]) {
			return Invalid("mapping.statuses."+k, "must be one of %s", strings.Join(Statuses, ", "))
		}
	}
	for _, k := range sortedKeys(m.Schools) {
		if err := ValidateCode("mapping.schools."+k, m.Schools[k]); err != nil {
			return err
		}
	}
	for i, a := range m.Allowed {
		field := "mapping.allowed[" + strconv.Itoa(i) + "]"
		if err := ValidAttrName(field, a); err != nil {
			return err
		}
		if !contains(CoreAttrs, a) && a != AttrSourceDeviceID && !InNamespace(a) {
			return Invalid(field, "%q is no attribute: one of %s, %s, or a free attribute under a namespace such as inventory.",
				a, strings.Join(CoreAttrs, ", "), AttrSourceDeviceID)
		}
	}
	return nil
}

// attrWord is the last word of a dotted attribute name.
func attrWord(v string) string {
	if i := strings.LastIndexByte(v, '.'); i >= 0 {
		return v[i+1:]
	}
	return v
}

// Allows reports whether the mapping lets the source set attr.
func (m *ConnectorMapping) Allows(attr string) bool {
	return len(m.Allowed) == 0 || slices.Contains(m.Allowed, attr)
}

// Validate checks an instance before it is stored.
func (c *ConnectorInstance) Validate() error {
	if c.AuthorityID <= 0 {
		return Invalid("authority_id", "is required")
	}
	if !instanceNameRE.MatchString(c.Name) {
		return Invalid("name", "must be 1 to 48 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if err := ValidateText("plugin", c.Plugin, 64); err != nil {
		return err
	} else if c.Plugin == "" {
		return Invalid("plugin", "is required")
	}
	if c.BinaryPath == "" || !strings.HasPrefix(c.BinaryPath, "/") {
		return Invalid("binary_path", "must be an absolute path to the connector executable")
	}
	if len(c.BinarySHA256) != 64 || strings.Trim(strings.ToLower(c.BinarySHA256), "0123456789abcdef") != "" {
		return Invalid("binary_sha256", "must be a SHA-256 in 64 hex digits")
	}
	if len(c.Settings) > 0 {
		var obj map[string]any
		if err := json.Unmarshal(c.Settings, &obj); err != nil || obj == nil {
			return Invalid("settings", "must be a JSON object")
		}
	}
	if fields := strings.Fields(c.Schedule); c.Schedule != "" && len(fields) != 5 {
		return Invalid("schedule", "must be a cron expression of five fields (minute hour day month weekday), e.g. \"0 2 * * *\"")
	}
	switch c.DeletePolicy {
	case "":
		c.DeletePolicy = DeleteIgnore
	case DeleteIgnore, DeleteRetire, DeleteRetireDispose:
	default:
		return Invalid("delete_policy", "must be ignore, retire or retire_dispose")
	}
	if c.DisposeAfterDays < 0 || c.DisposeAfterDays > 3650 {
		return Invalid("dispose_after_days", "must be between 0 and 3650")
	}
	if c.GuardShare == 0 {
		c.GuardShare = DefaultGuardShare
	} else if c.GuardShare < 0 || c.GuardShare > 1 {
		return Invalid("guard_share", "must be a share between 0 and 1, e.g. 0.1 for 10 %%")
	}
	return c.Mapping.Validate()
}

// ConnectorRun is one sync run of an instance: its log.
type ConnectorRun struct {
	ID         int64      `json:"id"`
	InstanceID int64      `json:"connector_id"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Status     string     `json:"status"`
	DryRun     bool       `json:"dry_run"`
	Confirmed  bool       `json:"confirmed"`
	StartedBy  string     `json:"started_by"`
	RunCounters
	// Expected is the number of records expected: the total the
	// connector announced for this run, else the replica's size; 0 when
	// unknown.
	Expected int `json:"expected"`
	Batches  int `json:"batches"`
	// Progress is the percentage done, 0–100.
	Progress  float64    `json:"progress"`
	ErrorList []RunError `json:"error_list"`
	// Plan is what a dry run would do.
	Plan *RunPlan `json:"plan,omitempty"`
	// PeakMemoryBytes is the server's Go heap at its highest during the
	// run; PluginMemoryBytes the connector process's peak resident size.
	PeakMemoryBytes   int64  `json:"peak_memory_bytes"`
	PluginMemoryBytes int64  `json:"plugin_memory_bytes"`
	CancelRequested   bool   `json:"cancel_requested"`
	Failure           string `json:"failure,omitempty"`
}

// RunCounters are the counters of a run.
type RunCounters struct {
	Seen      int `json:"seen"`
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Retired   int `json:"retired"`
	Conflicts int `json:"conflicts"`
	Errors    int `json:"errors"`
	// Pushed counts the changes written back to the source (in a dry
	// run: that would be); PushFailures those the source refused.
	Pushed       int `json:"pushed"`
	PushFailures int `json:"push_failures"`
}

// MaxRunErrors is how many error entries a run log keeps; the counter
// counts them all.
const MaxRunErrors = 1000

// RunError is one record that could not be applied (or a conflict), with
// where it is in the source, the field and the rule.
type RunError struct {
	Origin    string `json:"origin"`
	SourceKey string `json:"source_key,omitempty"`
	Field     string `json:"field,omitempty"`
	Rule      string `json:"rule"`
	Message   string `json:"message"`
}

// RunPlan is what a dry run found: what would be created, updated
// (attribute by attribute), retired, and what conflicts. Each list keeps
// at most MaxPlanEntries entries.
type RunPlan struct {
	Creates   []PlanCI      `json:"creates"`
	Updates   []PlanCI      `json:"updates"`
	Retires   []PlanCI      `json:"retires"`
	Conflicts []RunError    `json:"conflicts"`
	Truncated bool          `json:"truncated,omitempty"`
	Rooms     []PlanNewRoom `json:"new_rooms,omitempty"`
	// Pushes are the changes a run would write back to the source (an
	// instance with push on): Old is the source's value, New the CMDB's.
	Pushes []PlanCI `json:"pushes,omitempty"`
}

// MaxPlanEntries bounds each list of a RunPlan.
const MaxPlanEntries = 5000

// PlanCI is one CI a dry run would create, change or retire.
type PlanCI struct {
	SourceKey string       `json:"source_key"`
	Origin    string       `json:"origin,omitempty"`
	CIID      int64        `json:"ci_id,omitempty"`
	Changes   []PlanChange `json:"changes,omitempty"`
}

// PlanChange is one attribute's old and new value.
type PlanChange struct {
	Attr string `json:"attr"`
	Old  string `json:"old"`
	New  string `json:"new"`
}

// PlanNewRoom is a room a run would create.
type PlanNewRoom struct {
	School string `json:"school"`
	Room   string `json:"room"`
}

// Add appends an entry to one of the plan's lists, keeping it bounded.
func (p *RunPlan) Add(list *[]PlanCI, e PlanCI) {
	if len(*list) >= MaxPlanEntries {
		p.Truncated = true
		return
	}
	*list = append(*list, e)
}

// ReplicaRecord is what the replica remembers of one record.
type ReplicaRecord struct {
	NativeKey string    `json:"native_key"`
	CIID      int64     `json:"ci_id"`
	Hash      int64     `json:"hash"`
	LastSeen  time.Time `json:"last_seen"`
	State     string    `json:"state"`
	GoneSince time.Time `json:"gone_since,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	// ViewKnown says the replica holds the source's view of the
	// pushable fields (rows written before push existed do not).
	ViewKnown bool `json:"view_known,omitempty"`
}

// SyncItem is one mapped record for ApplySync: its observation, or the
// error that kept it out.
type SyncItem struct {
	NativeKey string
	Origin    string
	Hash      int64
	Obs       Observation
	// Err is set for a record that cannot be applied; it is recorded in
	// the replica (state error) and not reconciled.
	Err *RunError
}

// SyncOutcome is what ApplySync did with one item.
type SyncOutcome struct {
	CIID    int64
	Outcome string // created, updated, unchanged, or "" for an error
	Changes []PlanChange
	// Conflict is set when reconcile found the record's identifiers on
	// another CI (a duplicate candidate), or refused it.
	Conflict *RunError
	Err      *RunError
}

// ConnectorUpdate changes an instance; nil fields stay.
type ConnectorUpdate struct {
	Settings         *json.RawMessage  `json:"settings,omitempty"`
	Secrets          map[string]string `json:"secrets,omitempty"` // "" removes a secret
	Schedule         *string           `json:"schedule,omitempty"`
	Mapping          *ConnectorMapping `json:"mapping,omitempty"`
	DeletePolicy     *string           `json:"delete_policy,omitempty"`
	DisposeAfterDays *int              `json:"dispose_after_days,omitempty"`
	GuardShare       *float64          `json:"guard_share,omitempty"`
	BinaryPath       *string           `json:"binary_path,omitempty"`
	BinarySHA256     *string           `json:"binary_sha256,omitempty"`
	Push             *bool             `json:"push,omitempty"`
}

// ConnectorStore keeps connector instances, their replicas and run logs.
// Every method filters by scope: an instance of an authority the caller
// cannot see completely (authority IT, admin) is ENOTFOUND.
type ConnectorStore interface {
	// CreateConnector stores an instance with its secrets (sealed).
	// ECONFLICT when the authority has an instance of that name; EINVALID
	// naming the field.
	CreateConnector(ctx context.Context, s Scope, c *ConnectorInstance, secrets map[string]string) error
	FindConnectors(ctx context.Context, s Scope, authorityID int64) ([]*ConnectorInstance, error)
	FindConnectorByID(ctx context.Context, s Scope, id int64) (*ConnectorInstance, error)
	FindConnectorByName(ctx context.Context, s Scope, authorityID int64, name string) (*ConnectorInstance, error)
	UpdateConnector(ctx context.Context, s Scope, id int64, u ConnectorUpdate) (*ConnectorInstance, error)
	// DeleteConnector removes an instance with its replica and runs; its
	// CIs stay. ECONFLICT while a run is running.
	DeleteConnector(ctx context.Context, s Scope, id int64) error
	// ConnectorSecrets returns the unsealed secrets, for the plugin only.
	ConnectorSecrets(ctx context.Context, s Scope, id int64) (map[string]string, error)

	// StartConnectorRun records a new running run; ECONFLICT when the
	// instance has one running.
	StartConnectorRun(ctx context.Context, s Scope, r *ConnectorRun) error
	// UpdateConnectorRun writes counters and progress of a running run and
	// reports whether a cancel was requested.
	UpdateConnectorRun(ctx context.Context, s Scope, r *ConnectorRun) (cancel bool, err error)
	// FinishConnectorRun writes the final state of a run.
	FinishConnectorRun(ctx context.Context, s Scope, r *ConnectorRun) error
	FindConnectorRuns(ctx context.Context, s Scope, instanceID int64, limit int) ([]*ConnectorRun, error)
	FindConnectorRun(ctx context.Context, s Scope, id int64) (*ConnectorRun, error)
	// CancelConnectorRun asks a running run to stop; ECONFLICT when it is
	// not running.
	CancelConnectorRun(ctx context.Context, s Scope, id int64) error

	// ConnectorReplica returns every record the instance's replica holds.
	ConnectorReplica(ctx context.Context, s Scope, instanceID int64) (map[string]*ReplicaRecord, error)
	// PushCandidates returns the instance's active records whose CI's
	// current values differ from the source's view (PushView), in one
	// query, ordered by native key. status and location say whether
	// those fields count (the mapping lets the source set them).
	PushCandidates(ctx context.Context, s Scope, instanceID int64, status, location bool) ([]*PushCandidate, error)
	// MarkPushed records that the source took these candidates' values:
	// the view becomes what was sent (the fields Sent names).
	MarkPushed(ctx context.Context, s Scope, instanceID int64, done []*PushCandidate) error

	// BeginSync starts writing one run's batches. A dry run writes into
	// one transaction that Close rolls back.
	BeginSync(ctx context.Context, s Scope, inst *ConnectorInstance, dryRun bool) (SyncWriter, error)
}

// SyncWriter writes a run's batches: each call is one transaction (in a
// dry run, all share one that is never committed).
type SyncWriter interface {
	// Apply reconciles the items' observations and writes their replica
	// rows. Items with Err only update the replica. An item that reconcile
	// refuses is left out and reported; the rest still goes in.
	Apply(ctx context.Context, items []SyncItem) ([]SyncOutcome, error)
	// Touch records that the run saw every active record at at. With
	// except non-nil (a run refused by the guard, whose disappeared
	// records stay active), it marks instead every active record not
	// written since the run began (since), except those keys.
	Touch(ctx context.Context, since, at time.Time, except []string) error
	// Retire applies the delete policy to disappeared records: status
	// (retired or disposed) through reconcile, and the replica state.
	Retire(ctx context.Context, recs []*ReplicaRecord, status string) ([]SyncOutcome, error)
	// Forget marks disappeared records gone without changing their CIs.
	Forget(ctx context.Context, keys []string, at time.Time) error
	// Close ends the writer; a dry run's transaction is rolled back.
	Close() error
}

// PushView is the values of the fields a connector can write back, in
// CMDB words: status, the school's code, the room's building and room
// names, the serial and the MACs (normalised, sorted).
type PushView struct {
	Status   string
	School   string
	Building string
	Room     string
	Serial   string
	MACs     []string
}

// PushCandidate is a record whose CI differs from the source's view: Was
// is the view, Now the CMDB's values, SchoolName the CI's school's name.
// Sent is filled by the host with the fields it sent (the names used in
// plan entries: status, location, serial, macs).
type PushCandidate struct {
	NativeKey  string
	CIID       int64
	Was, Now   PushView
	SchoolName string
	Sent       map[string]bool
}

// CheckPush refuses push for a plugin without the "push" capability.
func CheckPush(plugin string, push, canPush bool) error {
	if push && !canPush {
		return Invalid("push", "the connector %s cannot write back: its plugin lacks the push capability", plugin)
	}
	return nil
}

// SortedSecretNames lists secret names in order.
func SortedSecretNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
