package cmdb

import (
	"context"
	"strconv"
	"time"
)

// EnrolmentToken lets agents of one school enrol. It expires, can be
// revoked and has a maximum number of uses; only its hash is stored.
type EnrolmentToken struct {
	ID          int64      `json:"id"`
	AuthorityID int64      `json:"authority_id"`
	SchoolID    int64      `json:"school_id"`
	Name        string     `json:"name"`
	MaxUses     int        `json:"max_uses"`
	Uses        int        `json:"uses"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// Device is an enrolled agent: its id, where it belongs, its CI and the
// state of its reports.
type Device struct {
	ID              string            `json:"id"`
	AuthorityID     int64             `json:"authority_id"`
	SchoolID        int64             `json:"school_id"`
	CIID            int64             `json:"ci_id"`
	LastSeq         uint64            `json:"last_seq"`
	Hashes          map[string]string `json:"hashes"`
	IntervalSeconds int               `json:"interval_seconds"`
}

// ApplyReport moves the device's report state on by r and says how to
// answer it: a seq not above LastSeq was applied before and is answered
// with LastSeq; otherwise the hashes of the sections sent are taken over,
// and the agent is asked for a full report if it names a hash for a
// section it did not send that differs from the one kept (the server
// lacks what the agent thinks it has).
func (d *Device) ApplyReport(r *Report) ReportResult {
	if r.Seq <= d.LastSeq {
		return ReportResult{Ack: d.LastSeq}
	}
	res := ReportResult{Ack: r.Seq, Applied: true, WantFull: d.LacksSection(r)}
	if d.Hashes == nil {
		d.Hashes = map[string]string{}
	}
	for name, h := range r.Hashes {
		if _, sent := r.Sections[name]; sent {
			d.Hashes[name] = h
		}
	}
	d.LastSeq = r.Seq
	return res
}

// LacksSection reports whether r names a hash for a section it does not
// send that differs from the device's: see ApplyReport.
func (d *Device) LacksSection(r *Report) bool {
	for name, h := range r.Hashes {
		if _, sent := r.Sections[name]; !sent && d.Hashes[name] != h {
			return true
		}
	}
	return false
}

// ReportItem is one validated agent report with its sections decoded;
// nil sections were not sent.
type ReportItem struct {
	Device   *Device
	Report   *Report
	System   *InventorySystem
	Hardware *InventoryHardware
	Network  *[]InventoryNIC
	Software *[]SoftwareItem
}

// ReportResult is the outcome of one report: the sequence number
// acknowledged, whether the server wants a full report next, and whether
// this report was applied (false for a retried, already applied one).
type ReportResult struct {
	Ack      uint64
	WantFull bool
	Applied  bool
}

// AgentStore keeps enrolment tokens and devices and applies reports.
type AgentStore interface {
	CreateEnrolmentToken(ctx context.Context, s Scope, t *EnrolmentToken) (Secret, error)
	FindEnrolmentTokens(ctx context.Context, s Scope, schoolID int64) ([]*EnrolmentToken, error)
	RevokeEnrolmentToken(ctx context.Context, s Scope, id int64) error
	// Enroll trades an enrolment token for a device credential; the
	// machine's identifiers lead a reinstalled machine to its CI.
	// EUNAUTHORIZED for an unknown, expired, revoked or used-up token.
	Enroll(ctx context.Context, token Secret, req *EnrollRequest, meta RequestMeta) (*EnrollResponse, error)
	// CheckEnrolmentToken answers nil for a token that may enrol now,
	// EUNAUTHORIZED otherwise, without using it up: the agent door asks
	// before it reads a request's body.
	CheckEnrolmentToken(ctx context.Context, token Secret) error
	// DeviceByCredential authenticates an agent; EUNAUTHORIZED otherwise.
	DeviceByCredential(ctx context.Context, credential string) (*Device, error)
	// ApplyReports applies reports in one transaction: all or none commit.
	ApplyReports(ctx context.Context, items []*ReportItem) ([]ReportResult, error)
	// FindSoftware lists the software installed on a visible CI.
	FindSoftware(ctx context.Context, s Scope, ciID int64) ([]*SoftwareItem, error)
}

// ChassisClass maps an agent's chassis to a CI class.
func ChassisClass(chassis string) string {
	switch chassis {
	case "laptop":
		return ClassLaptop
	case "desktop":
		return ClassDesktop
	case "tablet":
		return ClassTablet
	}
	return ClassOther
}

// Limits on what a report may carry.
const (
	MaxSoftwareItems = 20000
	MaxDisks         = 64
)

// Validate checks the decoded sections of a report: text lengths and
// counts, naming the field ("sections.software[12].name").
func (it *ReportItem) Validate() error {
	if s := it.System; s != nil {
		for _, f := range []struct{ name, v string }{{"hostname", s.Hostname}, {"vendor", s.Vendor}, {"model", s.Model},
			{"serial", s.Serial}, {"chassis", s.Chassis}, {"os_name", s.OSName}, {"os_version", s.OSVersion},
			{"os_build", s.OSBuild}, {"kernel", s.Kernel}, {"arch", s.Arch}} {
			if err := ValidateText("sections.system."+f.name, f.v, MaxNameLen); err != nil {
				return err
			}
		}
		if s.HardwareUUID != "" {
			if _, ok := NormalizeUUID(s.HardwareUUID); !ok {
				return Invalid("sections.system.hardware_uuid", "must be a UUID of 32 hex digits")
			}
		}
		if t := s.BootTime; !t.IsZero() && (t.Before(minBootTime) || t.After(time.Now().Add(MaxClockAhead))) {
			return Invalid("sections.system.boot_time", "must be between %s and %s from now", minBootTime.Format("2006-01-02"), MaxClockAhead)
		}
	}
	if h := it.Hardware; h != nil {
		if err := ValidateText("sections.hardware.cpu_model", h.CPUModel, MaxNameLen); err != nil {
			return err
		} else if len(h.Disks) > MaxDisks {
			return Invalid("sections.hardware.disks", "must have at most %d entries", MaxDisks)
		} else if err := validateHardware(h); err != nil {
			return err
		}
	}
	if it.Network != nil {
		if len(*it.Network) > MaxNICs {
			return Invalid("sections.network", "must have at most %d entries", MaxNICs)
		}
		for i, n := range *it.Network {
			f := fmtIndex("sections.network", i)
			if n.MAC != "" {
				if _, ok := NormalizeMAC(n.MAC); !ok {
					return Invalid(f+".mac", "must be a 48-bit MAC address")
				}
			}
			if n.Kind != "" && !contains([]string{NICPhysical, NICVirtual, NICDock, NICUSB}, n.Kind) {
				return Invalid(f+".kind", "must be physical, virtual, dock or usb")
			}
		}
	}
	if it.Software != nil {
		if len(*it.Software) > MaxSoftwareItems {
			return Invalid("sections.software", "must have at most %d entries", MaxSoftwareItems)
		}
		for i, sw := range *it.Software {
			f := fmtIndex("sections.software", i)
			if sw.Name == "" {
				return Invalid(f+".name", "is required")
			} else if err := ValidateText(f+".name", sw.Name, 300); err != nil {
				return err
			} else if err := ValidateText(f+".publisher", sw.Publisher, 300); err != nil {
				return err
			} else if err := ValidateText(f+".version", sw.Version, MaxNameLen); err != nil {
				return err
			}
		}
	}
	return nil
}

// Bounds of the numbers an agent reports: generous for any machine a
// school has, tight enough that nonsense (a negative core count, a
// wrapped-around memory size) is refused instead of stored.
const (
	MaxCPUCores    = 4096
	MaxCPUThreads  = 8 * MaxCPUCores
	MaxMemoryBytes = 1 << 46 // 64 TiB
	MaxDiskBytes   = 1 << 60 // 1 EiB
	MaxBatteryWh   = 10000
	// MaxHealthPercent allows a new battery to read above its design.
	MaxHealthPercent = 200
	// MaxClockAhead is how far ahead of the server's clock a machine's
	// time may be: a report from the future is a wrong clock.
	MaxClockAhead = 24 * time.Hour
	// MaxReportAge is how old a spooled report's time may be.
	MaxReportAge = 366 * 24 * time.Hour
)

// minBootTime is before any machine still in service booted.
var minBootTime = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// validateHardware checks the numbers of a hardware section.
func validateHardware(h *InventoryHardware) error {
	const f = "sections.hardware."
	switch {
	case h.CPUCores < 0 || h.CPUCores > MaxCPUCores:
		return Invalid(f+"cpu_cores", "must be 0 (unknown) to %d", MaxCPUCores)
	case h.CPUThreads < 0 || h.CPUThreads > MaxCPUThreads:
		return Invalid(f+"cpu_threads", "must be 0 (unknown) to %d", MaxCPUThreads)
	case h.MemoryBytes > MaxMemoryBytes:
		return Invalid(f+"memory_bytes", "must be at most %d (64 TiB)", uint64(MaxMemoryBytes))
	}
	for i, d := range h.Disks {
		df := fmtIndex(f+"disks", i)
		switch {
		case d.SizeBytes > MaxDiskBytes:
			return Invalid(df+".size_bytes", "must be at most %d (1 EiB)", uint64(MaxDiskBytes))
		case d.FreeBytes > MaxDiskBytes:
			return Invalid(df+".free_bytes", "must be at most %d (1 EiB)", uint64(MaxDiskBytes))
		}
	}
	if b := h.Battery; b != nil {
		for _, v := range []struct {
			name string
			v    float64
			max  float64
		}{{"design_wh", b.DesignWh, MaxBatteryWh}, {"full_wh", b.FullWh, MaxBatteryWh}, {"health_percent", b.HealthPercent, MaxHealthPercent}} {
			if !(v.v >= 0 && v.v <= v.max) { // also refuses NaN
				return Invalid(f+"battery."+v.name, "must be 0 to %g", v.max)
			}
		}
	}
	return nil
}

// ValidateTime checks a time a client sent: zero (not given), or within
// [now − maxAge, now + MaxClockAhead].
func ValidateTime(field string, t, now time.Time, maxAge time.Duration) error {
	if t.IsZero() {
		return nil
	}
	if t.Before(now.Add(-maxAge)) || t.After(now.Add(MaxClockAhead)) {
		return Invalid(field, "must be within %d days before and %s after the server's time", int(maxAge/(24*time.Hour)), MaxClockAhead)
	}
	return nil
}

func fmtIndex(prefix string, i int) string { return prefix + "[" + strconv.Itoa(i) + "]" }

// Observation turns a report into what reconcile takes. A report without
// sections (a heartbeat) gives an observation with only the device's key.
func (it *ReportItem) Observation(now time.Time) Observation {
	d := it.Device
	o := Observation{Source: SourceAgent, SourceKey: d.ID, AuthorityID: d.AuthorityID, SchoolID: d.SchoolID,
		Attributes: map[string]string{}, ObservedAt: now}
	if t := it.Report.SentAt; !t.IsZero() && t.Before(now) && now.Sub(t) < 30*24*time.Hour {
		o.ObservedAt = t // a spooled report says when it was true
	}
	set := func(k, v string) {
		if v != "" {
			o.Attributes[k] = v
		}
	}
	if s := it.System; s != nil {
		o.Class, o.Serial, o.Vendor, o.HardwareUUID, o.Hostname = ChassisClass(s.Chassis), s.Serial, s.Vendor, s.HardwareUUID, s.Hostname
		set(AttrModel, s.Model)
		set(AttrOSName, s.OSName)
		set(AttrOSVersion, s.OSVersion)
		set("os.build", s.OSBuild)
		set("os.kernel", s.Kernel)
		set("os.arch", s.Arch)
	}
	if h := it.Hardware; h != nil {
		set("cpu.model", h.CPUModel)
		if h.CPUCores > 0 {
			set("cpu.cores", idString(int64(h.CPUCores)))
		}
		if h.MemoryBytes > 0 {
			set("memory.total_mb", idString(int64(h.MemoryBytes>>20)))
		}
		var total uint64
		for _, dk := range h.Disks {
			total += dk.SizeBytes
		}
		if total > 0 {
			set("disk.total_gb", idString(int64(total>>30)))
		}
		if b := h.Battery; b != nil && b.HealthPercent > 0 {
			set("battery.health_percent", idString(int64(b.HealthPercent+0.5)))
		}
	}
	if it.Network != nil {
		for _, n := range *it.Network {
			if n.MAC != "" {
				o.NICs = append(o.NICs, NIC{MAC: n.MAC, Kind: n.Kind})
			}
		}
	}
	if it.Software != nil {
		set("software.count", idString(int64(len(*it.Software))))
	}
	return o
}
