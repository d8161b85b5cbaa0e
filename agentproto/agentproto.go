// Package agentproto is the wire protocol between cmdb-agent and the
// server's agent door: what the agent sends and the server answers. Both
// sides import these types, so they cannot drift apart; the package
// imports only the standard library, so the agent carries no server code.
//
// Authentication travels in a header, never in the body, so that the
// server can refuse a stranger before it reads a byte of the body:
// enrolment sends "Authorization: Bearer <enrolment token>", a report
// "Authorization: Bearer <device credential>".
package agentproto

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"time"
)

// Paths of the agent door below the server URL.
const (
	EnrollPath = "/api/v1/agent/enroll"
	ReportPath = "/api/v1/agent/report"
)

// Limits of the agent door: what a body may unpack to. The server answers
// 413 Request Entity Too Large above them.
const (
	// MaxEnrollBytes bounds an enrolment request unpacked: a machine
	// with the most NICs (64) and every text at its longest fits.
	MaxEnrollBytes = 32 << 10
	// MaxReportBytes bounds a report unpacked.
	MaxReportBytes = 1 << 20
)

// Secret is a token or credential of the protocol. It redacts itself when
// printed, logged or marshalled; call Reveal where the real value is
// needed. Unmarshalling keeps the value.
type Secret string

const redacted = "[redacted]"

// String implements fmt.Stringer.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer, for %#v.
func (s Secret) GoString() string { return redacted }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// Inventory sections. A report carries each section with its content
// hash; a routine report carries only the sections whose hash changed.
const (
	SectionSystem   = "system"
	SectionHardware = "hardware"
	SectionNetwork  = "network"
	SectionSoftware = "software"
)

// Sections lists the inventory sections in report order.
var Sections = []string{SectionSystem, SectionHardware, SectionNetwork, SectionSoftware}

// Inventory is everything the agent collects about its machine. It holds
// no user names, files, browsing data or location.
type Inventory struct {
	System   InventorySystem   `json:"system"`
	Hardware InventoryHardware `json:"hardware"`
	Network  []InventoryNIC    `json:"network"`
	Software []SoftwareItem    `json:"software"`
}

// InventorySystem identifies the machine and its operating system.
type InventorySystem struct {
	Hostname     string    `json:"hostname"`
	Vendor       string    `json:"vendor,omitempty"`
	Model        string    `json:"model,omitempty"`
	Serial       string    `json:"serial,omitempty"`
	HardwareUUID string    `json:"hardware_uuid,omitempty"`
	Chassis      string    `json:"chassis,omitempty"` // laptop, desktop, tablet, server, other
	OSName       string    `json:"os_name,omitempty"`
	OSVersion    string    `json:"os_version,omitempty"`
	OSBuild      string    `json:"os_build,omitempty"`
	Kernel       string    `json:"kernel,omitempty"`
	Arch         string    `json:"arch,omitempty"`
	BootTime     time.Time `json:"boot_time,omitzero"`
}

// InventoryHardware is CPU, memory, disks and battery.
type InventoryHardware struct {
	CPUModel    string          `json:"cpu_model,omitempty"`
	CPUCores    int             `json:"cpu_cores,omitempty"`
	CPUThreads  int             `json:"cpu_threads,omitempty"`
	MemoryBytes uint64          `json:"memory_bytes,omitempty"`
	Disks       []InventoryDisk `json:"disks,omitempty"`
	Battery     *Battery        `json:"battery,omitempty"`
}

// InventoryDisk is one disk or mounted volume.
type InventoryDisk struct {
	Name      string `json:"name"`
	Model     string `json:"model,omitempty"`
	Serial    string `json:"serial,omitempty"`
	SizeBytes uint64 `json:"size_bytes,omitempty"`
	FreeBytes uint64 `json:"free_bytes,omitempty"`
}

// Battery health: design versus full-charge capacity.
type Battery struct {
	DesignWh float64 `json:"design_wh,omitempty"`
	FullWh   float64 `json:"full_wh,omitempty"`
	// HealthPercent is FullWh / DesignWh × 100.
	HealthPercent float64 `json:"health_percent,omitempty"`
}

// InventoryNIC is one network interface. Kind is physical, virtual, usb
// or dock (see NIC); only physical NICs identify the machine.
type InventoryNIC struct {
	Name      string   `json:"name"`
	MAC       string   `json:"mac,omitempty"`
	Kind      string   `json:"kind"`
	Addresses []string `json:"addresses,omitempty"`
}

// SoftwareItem is one installed package or application.
type SoftwareItem struct {
	Name      string `json:"name"`
	Publisher string `json:"publisher,omitempty"`
	Version   string `json:"version,omitempty"`
}

// SectionHash is the content hash of a section: hex SHA-256 of its JSON.
func SectionHash(data json.RawMessage) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// EnrollRequest asks for a device credential; the per-school enrolment
// token goes in the Authorization header (see the package comment). The
// identifiers let a reinstalled machine land on its CI.
type EnrollRequest struct {
	System InventorySystem `json:"system"`
	NICs   []InventoryNIC  `json:"nics,omitempty"`
}

// EnrollResponse gives the agent its identity and credential; the
// credential is shown only here and stored hashed by the server.
type EnrollResponse struct {
	DeviceID        string `json:"device_id"`
	Credential      Secret `json:"credential"`
	CIID            int64  `json:"ci_id"`
	IntervalSeconds int    `json:"interval_seconds"`
}

// MaxSeq is the largest Seq a report may carry.
const MaxSeq = 1<<63 - 1

// Report is what the agent sends on each run. Seq rises by one per
// report; a report with a Seq the server already acknowledged is applied
// once; it is 1 to MaxSeq (the server keeps it as a signed 64-bit
// number). Hashes names the hash of every section the agent has now;
// Sections holds the data of those the server does not have yet.
type Report struct {
	DeviceID string                     `json:"device_id"`
	Seq      uint64                     `json:"seq"`
	SentAt   time.Time                  `json:"sent_at"`
	Hashes   map[string]string          `json:"hashes"`
	Sections map[string]json.RawMessage `json:"sections,omitempty"`
}

// ReportResponse acknowledges a report. WantFull asks the agent to send
// every section next time; IntervalSeconds sets its reporting interval.
type ReportResponse struct {
	Ack             uint64 `json:"ack"`
	WantFull        bool   `json:"want_full,omitempty"`
	IntervalSeconds int    `json:"interval_seconds"`
}
