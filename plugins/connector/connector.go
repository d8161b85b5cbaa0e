// Package connector is the contract between the CMDB server and a
// connector plugin: a separate executable that reads an authority's own
// inventory system (a spreadsheet export, Intune, Snipe-IT) and, where it
// can, writes CMDB changes back.
//
// A connector implements the plain Go interface Connector and hands it to
// Serve in its main. The server starts connector executables with Launch
// and talks to them through the same interface; gRPC over
// hashicorp/go-plugin stays inside this package. A connector that crashes,
// hangs or talks garbage costs the server one failed call, never the
// process.
//
// Connectors write logs as JSON on stderr only (Logger gives them one);
// stdout belongs to the plugin handshake.
package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
)

// Connector is what a connector plugin implements and what the host calls.
// Every method takes a context; the host gives every call a deadline, and a
// connector should return promptly once the context is done.
type Connector interface {
	// Describe says who the connector is, what it can do and how its
	// configuration looks. It must not need a configuration.
	Describe(ctx context.Context) (Description, error)

	// Check tests a configuration: that it is complete and well-formed,
	// that the source can be reached and that the credentials are accepted.
	// A configuration that fails is a CheckResult with OK false and a
	// message a person understands, not an error; an error means the check
	// itself could not run.
	Check(ctx context.Context, cfg Config) (CheckResult, error)

	// Pull reads every record of the source and hands them to emit in
	// batches, in order, never all at once. It stops and returns emit's
	// error when emit fails (the host has stopped listening). Batches of
	// any size are allowed; the transport splits them into messages of at
	// most MaxBatch records. A connector that knows how many records it
	// will send (a file's rows, an API's total) says so with ExpectTotal
	// before its first emit, so that the host can show progress on a
	// first run.
	Pull(ctx context.Context, cfg Config, emit func(batch []Record) error) error

	// Push writes CMDB changes back to the source. A connector without the
	// "push" capability embeds NoPush, which answers ErrUnsupported.
	// Changes that the source refuses are PushResult.Failures, not an error.
	Push(ctx context.Context, cfg Config, changes []Change) (PushResult, error)
}

// MaxBatch is the most records one Pull message carries; the host hands
// batches of this size (or smaller) to its emit function.
const MaxBatch = 500

// ErrUnsupported is returned by Push of a connector that cannot push.
var ErrUnsupported = errors.New("connector: not supported by this connector")

// NoPush is embedded by connectors that only pull.
type NoPush struct{}

// Push answers ErrUnsupported.
func (NoPush) Push(context.Context, Config, []Change) (PushResult, error) {
	return PushResult{}, ErrUnsupported
}

// Capability is something a connector can do.
type Capability string

// The capabilities of protocol version 1.
const (
	CapPull Capability = "pull"
	CapPush Capability = "push"
)

// Description is what Describe returns.
type Description struct {
	Name         string       `json:"name"`    // short, lower case, e.g. "csv"
	Version      string       `json:"version"` // the connector's own version
	Capabilities []Capability `json:"capabilities"`
	// ConfigSchema is a JSON schema (draft 2020-12) of Config.Settings,
	// which the host uses to validate and render an instance's settings.
	ConfigSchema json.RawMessage `json:"config_schema"`
	// Secrets names the secrets the connector reads from Config.Secrets.
	Secrets []SecretSpec `json:"secrets,omitempty"`
}

// Can reports whether the connector has capability c.
func (d Description) Can(c Capability) bool {
	for _, have := range d.Capabilities {
		if have == c {
			return true
		}
	}
	return false
}

// SecretSpec describes one secret a connector reads.
type SecretSpec struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Required    bool   `json:"required"`
}

// Config is one connector instance's configuration: its settings as a JSON
// object and its secrets apart, so that the host can keep those sealed and
// a connector can never log them by accident (Secret redacts itself).
type Config struct {
	Settings json.RawMessage   `json:"settings"`
	Secrets  map[string]Secret `json:"secrets,omitempty"`
}

// Decode unmarshals Settings into v; empty settings leave v unchanged.
func (c Config) Decode(v any) error {
	if len(c.Settings) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.Settings, v); err != nil {
		return fmt.Errorf("connector: settings are not valid JSON for this connector: %w", err)
	}
	return nil
}

// LogValue lists the secret names, never their values.
func (c Config) LogValue() slog.Value {
	names := make([]string, 0, len(c.Secrets))
	for n := range c.Secrets {
		names = append(names, n)
	}
	sort.Strings(names)
	return slog.GroupValue(slog.String("settings", string(c.Settings)), slog.Any("secrets", names))
}

// Secret is a password, token or key of a connector instance. It redacts
// itself when printed, logged or marshalled; Reveal gives the value to the
// code that must use it.
type Secret string

const redacted = "[redacted]"

// String returns a placeholder, never the secret.
func (s Secret) String() string { return redacted }

// GoString returns a placeholder, never the secret.
func (s Secret) GoString() string { return redacted }

// MarshalJSON returns a placeholder, never the secret.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns a placeholder, never the secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue returns a placeholder, never the secret.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// CheckResult is the outcome of Check.
type CheckResult struct {
	OK bool `json:"ok"`
	// Message is one sentence for a person, e.g. "Datei gelesen: 412
	// Zeilen, alle Spalten zugeordnet." or what to fix.
	Message  string    `json:"message"`
	Problems []Problem `json:"problems,omitempty"`
}

// Problem names a field, the rule it breaks and says so in words.
type Problem struct {
	Field   string `json:"field"`   // a settings key, or a record field such as "mac"
	Rule    string `json:"rule"`    // machine-readable, e.g. "required", "format"
	Message string `json:"message"` // for people
}

// Record is one thing the source knows about. Values are as the source
// has them (trimmed): the host maps classes, statuses and attribute names,
// and judges junk serials; a connector only normalises notation (MACs,
// dates as YYYY-MM-DD).
type Record struct {
	// SourceKey is the source's own stable key of this record; it links
	// the record to its CI from the second run on.
	SourceKey string `json:"source_key"`
	// ClassHint is the source's word for the kind of device, e.g. "Beamer".
	ClassHint   string      `json:"class_hint,omitempty"`
	Identifiers Identifiers `json:"identifiers"`
	// Attributes are the other fields; well-known keys are the Attr
	// constants, anything else keeps the source's own name.
	Attributes map[string]string `json:"attributes,omitempty"`
	Location   Location          `json:"location"`
	// Status is the source's word for the state, e.g. "in Betrieb".
	Status string `json:"status,omitempty"`
	// Deleted says the source has deleted this record.
	Deleted bool `json:"deleted,omitempty"`
	// Origin says where in the source the record is, for the run log,
	// e.g. "inventar.csv Zeile 17".
	Origin string `json:"origin,omitempty"`
	// Problems are values the connector could not read (an invalid MAC or
	// date); they are left out of the record and named here.
	Problems []Problem `json:"problems,omitempty"`
}

// Well-known attribute keys.
const (
	AttrName          = "name"
	AttrVendor        = "vendor"
	AttrModel         = "model"
	AttrPurchaseDate  = "purchase_date"  // YYYY-MM-DD
	AttrWarrantyUntil = "warranty_until" // YYYY-MM-DD
	AttrNotes         = "notes"
	AttrOwner         = "owner"
)

// Identifiers are what the host identifies a device by.
type Identifiers struct {
	Serial         string   `json:"serial,omitempty"`
	MACs           []string `json:"macs,omitempty"` // aa:bb:cc:dd:ee:ff
	AssetTag       string   `json:"asset_tag,omitempty"`
	HardwareUUID   string   `json:"hardware_uuid,omitempty"`
	SourceDeviceID string   `json:"source_device_id,omitempty"`
	Hostname       string   `json:"hostname,omitempty"`
}

// Location says where the source thinks the device is.
type Location struct {
	SchoolCode string `json:"school_code,omitempty"`
	SchoolName string `json:"school_name,omitempty"`
	Building   string `json:"building,omitempty"`
	Room       string `json:"room,omitempty"`
}

// Change is one CMDB change the host asks a connector to write back.
type Change struct {
	SourceKey   string            `json:"source_key,omitempty"` // empty if the source does not know the CI yet
	CIID        string            `json:"ci_id"`
	Identifiers Identifiers       `json:"identifiers"`
	Fields      map[string]string `json:"fields,omitempty"` // attribute → new value
	Status      string            `json:"status,omitempty"`
	Location    Location          `json:"location"`
}

// PushResult is the outcome of Push.
type PushResult struct {
	Applied  int           `json:"applied"`
	Failures []PushFailure `json:"failures,omitempty"`
}

// PushFailure is a change the source refused, and why.
type PushFailure struct {
	SourceKey string `json:"source_key"`
	Message   string `json:"message"`
}

type expectTotalKey struct{}

// ExpectTotal tells the host, from inside Pull, how many records this Pull
// will hand to emit in all (deleted ones included), for its progress; call
// it before the first emit, with ctx the context Pull got. n <= 0 (not
// known) and calls outside a Pull are ignored. It is a hint: the host
// does not rely on it, so a count that turns out wrong costs only a wrong
// percentage.
func ExpectTotal(ctx context.Context, n int) {
	if f, ok := ctx.Value(expectTotalKey{}).(func(int)); ok && n > 0 {
		f(n)
	}
}

// WithExpectTotal returns a context for a Pull whose ExpectTotal calls go
// to f (the host's progress; the transport's adapters). f may be called
// from the goroutine that runs Pull.
func WithExpectTotal(ctx context.Context, f func(n int)) context.Context {
	return context.WithValue(ctx, expectTotalKey{}, f)
}
