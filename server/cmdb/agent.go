package cmdb

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// The agent protocol: what cmdb-agent sends and the server answers. Both
// sides import these types, so they cannot drift apart.

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

// EnrollRequest trades a per-school enrolment token for a device
// credential. The identifiers let a reinstalled machine land on its CI.
type EnrollRequest struct {
	Token  Secret          `json:"token"`
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

// Report is what the agent sends on each run. Seq rises by one per
// report; a report with a Seq the server already acknowledged is applied
// once. Hashes names the hash of every section the agent has now;
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
