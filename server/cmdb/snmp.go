package cmdb

import (
	"context"
	"encoding/json"
	"time"
	"unicode"
)

// What the SNMP poller understands of a device. The poller fills these
// from SNMPv2-MIB, IF-MIB, Host-Resources-MIB (RFC 2790), Printer-MIB
// (RFC 3805) and ENTITY-MIB; the server turns them into an Observation
// plus metrics.

// PollResult is one poll of one device.
type PollResult struct {
	Target      string    `json:"target"`
	Reachable   bool      `json:"reachable"`
	PolledAt    time.Time `json:"polled_at"`
	Class       string    `json:"class,omitempty"` // a CI class: printer, mfp, projector, …
	Vendor      string    `json:"vendor,omitempty"`
	Model       string    `json:"model,omitempty"`
	Serial      string    `json:"serial,omitempty"`
	MAC         string    `json:"mac,omitempty"`
	SysName     string    `json:"sys_name,omitempty"`
	SysDescr    string    `json:"sys_descr,omitempty"`
	SysObjectID string    `json:"sys_object_id,omitempty"`
	SysLocation string    `json:"sys_location,omitempty"`
	UptimeSecs  int64     `json:"uptime_seconds,omitempty"`
	// PageCount is prtMarkerLifeCount of the first marker; nil when unknown.
	PageCount *int64   `json:"page_count,omitempty"`
	Supplies  []Supply `json:"supplies,omitempty"`
	// Status is hrPrinterStatus by name: other, unknown, idle, printing, warmup.
	Status string `json:"status,omitempty"`
	// Errors names the bits set in hrPrinterDetectedErrorState (RFC 3805):
	// lowPaper, noPaper, lowToner, noToner, doorOpen, jammed, offline,
	// serviceRequested, inputTrayMissing, outputTrayMissing,
	// markerSupplyMissing, outputNearFull, outputFull, inputTrayEmpty,
	// overduePreventMaint. For a projector read over PJLink, the parts its
	// error status reports in warning or error: lampWarning, lampError,
	// filterWarning, filterError, fanWarning, fanError,
	// temperatureWarning, temperatureError, coverWarning, coverError,
	// otherWarning, otherError.
	Errors []string `json:"errors,omitempty"`
	Alerts []Alert  `json:"alerts,omitempty"`
	// Failure says why the poll got no usable answer when Reachable is
	// false, or, with Reachable true, what the answer lacked
	// (PollNoPrinterMIB); "" for a full answer.
	Failure PollFailure `json:"failure,omitempty"`
}

// PollFailure says why polling a target failed.
type PollFailure string

// Reasons a poll fails.
const (
	// PollTimeout: no answer in time. The device is off, the address is
	// wrong or filtered — or, for SNMP v1/v2c, the community is wrong:
	// agents drop requests with a wrong community without a word.
	PollTimeout PollFailure = "timeout"
	// PollWrongCredentials: the device refused the credentials: SNMPv3
	// report PDUs (usmStatsUnknownUserNames, usmStatsWrongDigests,
	// usmStatsDecryptionErrors, unsupported security level), or a PJLink
	// projector refused every password.
	PollWrongCredentials PollFailure = "wrong_credentials"
	// PollRefused: the port is closed (TCP reset, or ICMP port
	// unreachable for SNMP over UDP).
	PollRefused PollFailure = "refused"
	// PollNetwork: the address cannot be reached: no route, or a host
	// name that does not resolve.
	PollNetwork PollFailure = "network"
	// PollProtocol: something answered, but not understandably (not SNMP
	// or PJLink, or an SNMP agent without the system group).
	PollProtocol PollFailure = "protocol"
	// PollNoPrinterMIB: the device answers SNMP but has no Printer-MIB
	// (no page counter, no supplies): it is not a printer. It is still
	// reachable.
	PollNoPrinterMIB PollFailure = "no_printer_mib"
	// PollCredentialsUnreadable: the school's credential profiles could
	// not be decrypted (the server's secret key changed); the target was
	// not polled.
	PollCredentialsUnreadable PollFailure = "credentials_unreadable"
	// PollOther: any other error.
	PollOther PollFailure = "other"
)

// PollFailures lists every PollFailure.
var PollFailures = []PollFailure{PollTimeout, PollWrongCredentials, PollRefused, PollNetwork, PollProtocol,
	PollNoPrinterMIB, PollCredentialsUnreadable, PollOther}

// Describe says in a sentence what a failure means for the person who
// polls; "" for "".
func (f PollFailure) Describe() string {
	switch f {
	case "":
		return ""
	case PollTimeout:
		return "no answer in time: the device is off, the address or port is wrong or filtered, or (SNMP v1/v2c) the community is wrong"
	case PollWrongCredentials:
		return "the device refused the credentials (SNMPv3 user, pass phrases or security level; PJLink password)"
	case PollRefused:
		return "the port is closed on that address (connection refused)"
	case PollNetwork:
		return "the address cannot be reached (no route, or the host name does not resolve)"
	case PollProtocol:
		return "something answered, but not a usable SNMP or PJLink answer"
	case PollNoPrinterMIB:
		return "the device answers SNMP but has no Printer-MIB: it is not a printer"
	case PollCredentialsUnreadable:
		return "the school's credential profiles cannot be decrypted; not polled"
	}
	return "the poll failed"
}

// Supply levels that are not numbers (RFC 3805 prtMarkerSuppliesLevel).
const (
	SupplyOther         = "other"          // -1
	SupplyUnknown       = "unknown"        // -2
	SupplySomeRemaining = "some-remaining" // -3
	SupplyEmpty         = "empty"          // 0
	SupplyOK            = "ok"             // a level that is a number
)

// Supply is one row of prtMarkerSuppliesTable. Percent is set only when
// the level is a real quantity (State "ok"): the level itself when the
// unit is percent, else level / max × 100 when max is positive.
type Supply struct {
	Index       int      `json:"index"`
	Description string   `json:"description"`
	Colorant    string   `json:"colorant,omitempty"`
	Type        string   `json:"type,omitempty"` // toner, ink, drum, wasteToner, fuser, …
	Unit        string   `json:"unit,omitempty"` // percent, impressions, tenthsOfGrams, …
	Level       int      `json:"level"`
	Max         int      `json:"max"`
	State       string   `json:"state"`
	Percent     *float64 `json:"percent,omitempty"`
}

// Alert is one row of prtAlertTable.
type Alert struct {
	Index       int    `json:"index"`
	Severity    string `json:"severity"` // other, critical, warning, warningBinaryChangeEvent
	Group       string `json:"group,omitempty"`
	Code        string `json:"code,omitempty"`
	Description string `json:"description,omitempty"`
}

// SNMP protocol versions and v3 protocols the poller speaks.
var (
	SNMPVersions      = []string{"1", "2c", "3"}
	SNMPAuthProtocols = []string{"SHA", "SHA224", "SHA256", "SHA384", "SHA512"}
	SNMPPrivProtocols = []string{"AES", "AES192", "AES256"}
)

// CredentialPJLink is the Version of a credential profile that holds a
// PJLink projector password (in AuthPass) instead of an SNMP credential.
// The poller tries a school's PJLink passwords in order on its pjlink
// targets, and its SNMP profiles on its snmp targets.
const CredentialPJLink = "pjlink"

// MaxPJLinkPassword is the longest password PJLink allows, in bytes.
const MaxPJLinkPassword = 32

// SNMPCredential is one credential profile; a school's profiles are tried
// in order. Secrets are encrypted at rest and never shown.
type SNMPCredential struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	Community Secret `json:"community,omitempty"`
	User      string `json:"user,omitempty"`
	AuthProto string `json:"auth_proto,omitempty"`
	AuthPass  Secret `json:"auth_pass,omitempty"`
	PrivProto string `json:"priv_proto,omitempty"`
	PrivPass  Secret `json:"priv_pass,omitempty"`
}

// Validate checks a credential: a known version; a non-empty community
// for v1/v2c and none of the v3 fields; for v3 a user, known auth and
// priv protocols and their passphrases (at least 8 characters, as SNMPv3
// demands) and no community; for pjlink a password (auth_pass) of 1 to
// 32 printable ASCII characters and none of the SNMP fields. No secret
// or user name may hold a control character (a NUL, a newline, …): no
// device is configured with one, and it is a sign of a pasting error.
// Errors are EINVALID naming the field; they never contain a secret.
func (c *SNMPCredential) Validate() error {
	for _, f := range []struct{ name, v string }{{"community", c.Community.Reveal()}, {"user", c.User},
		{"auth_pass", c.AuthPass.Reveal()}, {"priv_pass", c.PrivPass.Reveal()}} {
		if hasControl(f.v) {
			return Invalid(f.name, "must not contain control characters (such as NUL or a line break)")
		}
	}
	switch c.Version {
	case CredentialPJLink:
		pw := c.AuthPass.Reveal()
		if pw == "" || len(pw) > MaxPJLinkPassword {
			return Invalid("auth_pass", "is the PJLink password: 1 to %d characters", MaxPJLinkPassword)
		}
		for i := 0; i < len(pw); i++ {
			if pw[i] < 0x21 || pw[i] > 0x7e {
				return Invalid("auth_pass", "the PJLink password must be printable ASCII without spaces")
			}
		}
		for _, f := range []struct{ name, v string }{{"community", c.Community.Reveal()}, {"user", c.User},
			{"auth_proto", c.AuthProto}, {"priv_proto", c.PrivProto}, {"priv_pass", c.PrivPass.Reveal()}} {
			if f.v != "" {
				return Invalid(f.name, "is not used by PJLink; give the password as auth_pass")
			}
		}
	case "1", "2c":
		if c.Community == "" {
			return Invalid("community", "is required for SNMP v%s and must not be empty", c.Version)
		}
		for _, f := range []struct{ name, v string }{{"user", c.User}, {"auth_proto", c.AuthProto},
			{"auth_pass", c.AuthPass.Reveal()}, {"priv_proto", c.PrivProto}, {"priv_pass", c.PrivPass.Reveal()}} {
			if f.v != "" {
				return Invalid(f.name, "is an SNMPv3 field and not used by SNMP v%s; give the community only", c.Version)
			}
		}
	case "3":
		if c.Community != "" {
			return Invalid("community", "is not used by SNMPv3; give user, auth_proto/auth_pass and priv_proto/priv_pass")
		}
		if c.User == "" {
			return Invalid("user", "is required for SNMPv3")
		}
		if c.AuthProto != "" && !contains(SNMPAuthProtocols, c.AuthProto) {
			return Invalid("auth_proto", "must be one of %v", SNMPAuthProtocols)
		}
		if c.PrivProto != "" && !contains(SNMPPrivProtocols, c.PrivProto) {
			return Invalid("priv_proto", "must be one of %v", SNMPPrivProtocols)
		}
		if c.PrivProto != "" && c.AuthProto == "" {
			return Invalid("auth_proto", "is required when priv_proto is set")
		}
		if c.AuthProto != "" && len(c.AuthPass.Reveal()) < 8 {
			return Invalid("auth_pass", "must be at least 8 characters")
		}
		if c.PrivProto != "" && len(c.PrivPass.Reveal()) < 8 {
			return Invalid("priv_pass", "must be at least 8 characters")
		}
	default:
		return Invalid("version", "must be one of 1, 2c, 3 (SNMP) or pjlink (a PJLink password)")
	}
	return nil
}

// hasControl reports whether s holds an ASCII or Unicode control
// character.
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// SNMP target kinds: an SNMP agent, or a projector speaking PJLink.
const (
	TargetSNMP   = "snmp"
	TargetPJLink = "pjlink"
)

// SNMPTarget is a device address the poller reads, in one school.
type SNMPTarget struct {
	ID          int64      `json:"id"`
	AuthorityID int64      `json:"authority_id"`
	SchoolID    int64      `json:"school_id"`
	Address     string     `json:"address"` // host or host:port
	Kind        string     `json:"kind"`
	CIID        int64      `json:"ci_id,omitempty"`
	Misses      int        `json:"misses"`
	Unreachable bool       `json:"unreachable"`
	LastPollAt  *time.Time `json:"last_poll_at,omitempty"`
	LastOKAt    *time.Time `json:"last_ok_at,omitempty"`
	// LastErrorReason is why the latest failed poll failed, kept after
	// the device answers again (compare LastErrorAt with LastOKAt).
	LastErrorReason PollFailure `json:"last_error_reason,omitempty"`
	LastErrorAt     *time.Time  `json:"last_error_at,omitempty"`
}

// SNMPRange is a discovery range of a school: a CIDR of at most /22.
type SNMPRange struct {
	ID          int64  `json:"id"`
	AuthorityID int64  `json:"authority_id"`
	SchoolID    int64  `json:"school_id"`
	CIDR        string `json:"cidr"`
}

// MaxRangeAddresses is the size of a /22: discovery ranges are no larger.
const MaxRangeAddresses = 1024

// Metric is one value of a CI's time series: a raw value as polled, or
// an aggregate of the values of one hour or day (At is the start of the
// bucket, UTC; Value is then the average and Min, Max, Last and Count
// describe the bucket).
type Metric struct {
	Name  string    `json:"name"`
	At    time.Time `json:"at"`
	Value float64   `json:"value"`
	Min   *float64  `json:"min,omitempty"`
	Max   *float64  `json:"max,omitempty"`
	Last  *float64  `json:"last,omitempty"`
	Count int       `json:"count,omitempty"`
}

// Resolutions of a metric series.
const (
	MetricRaw    = "raw"  // values as polled
	MetricHourly = "hour" // one aggregate per hour
	MetricDaily  = "day"  // one aggregate per day (UTC)
	MetricAuto   = "auto" // the finest resolution still kept for the range's start
)

// MetricQuery selects values of a CI's time series.
type MetricQuery struct {
	// Name selects one metric; empty selects all.
	Name string
	// From and To bound At (From <= At < To); zero means unbounded.
	From, To time.Time
	// Resolution is MetricRaw, MetricHourly, MetricDaily or MetricAuto
	// (also for empty): raw while From is within the raw retention (or
	// zero), else hourly while within the hourly retention, else daily.
	Resolution string
	// Limit bounds the answer; 0 or more than 10000 means 1000.
	Limit int
}

// Check validates the query; errors name the field.
func (q *MetricQuery) Check() error {
	switch q.Resolution {
	case "", MetricAuto, MetricRaw, MetricHourly, MetricDaily:
	default:
		return Invalid("resolution", "must be auto, raw, hour or day")
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return Invalid("to", "must be after from")
	}
	if q.Limit < 0 {
		return Invalid("limit", "must not be negative")
	}
	return nil
}

// MetricSeries is the answer to a MetricQuery: values newest first (then
// by name), at the resolution they were taken from.
type MetricSeries struct {
	Resolution string
	Items      []*Metric
}

// PollRecord is the outcome of polling one target, ready to be stored.
type PollRecord struct {
	Target *SNMPTarget
	// Result of the poll; nil when the target was not polled (see
	// Failure).
	Result *PollResult
	// Failure, when Result is nil, says why the target was not polled
	// (PollCredentialsUnreadable); its misses are not counted.
	Failure PollFailure
	// Observation of a reachable device; nil when it did not answer.
	Observation *Observation
	// Metrics to keep as time series (page counter, supply levels, …).
	Metrics map[string]float64
	// HealthState is the debounce state to keep for the next poll; nil
	// keeps the stored one.
	HealthState json.RawMessage
	// Events opened or cleared by this poll.
	Events []HealthEvent
}

// PollStore is what a polling round reads and writes. It acts as the
// system: no scope limits it, so only the poller may use it.
type PollStore interface {
	// FindSNMPTargets lists targets (see SNMPStore).
	FindSNMPTargets(ctx context.Context, s Scope, schoolID int64) ([]*SNMPTarget, error)
	// FindSNMPRanges lists discovery ranges (see SNMPStore).
	FindSNMPRanges(ctx context.Context, s Scope, schoolID int64) ([]*SNMPRange, error)
	// CreateSNMPTarget adds a discovered target; ECONFLICT when the
	// address is a target of the school already.
	CreateSNMPTarget(ctx context.Context, s Scope, t *SNMPTarget) error
	// PollCredentials returns a school's credential profiles with their
	// secrets, in the order they are tried. An error that is not the
	// context's means they cannot be read (EINTERNAL); none are returned
	// then.
	PollCredentials(ctx context.Context, schoolID int64) ([]SNMPCredential, error)
	// HealthStates returns the debounce state kept for each target.
	HealthStates(ctx context.Context, ids []int64) (map[int64]json.RawMessage, error)
	// RecordPolls writes a round in one transaction: observations through
	// reconcile (setting Target.CIID), metrics, events, the targets'
	// misses (unreachable after missLimit in a row) and failure reasons.
	RecordPolls(ctx context.Context, recs []*PollRecord, missLimit int) error
}

// SNMPStore keeps what the poller needs and finds, scoped like the CMDB.
type SNMPStore interface {
	CreateSNMPCredential(ctx context.Context, s Scope, schoolID int64, c *SNMPCredential) error
	FindSNMPCredentials(ctx context.Context, s Scope, schoolID int64) ([]*SNMPCredential, error)
	DeleteSNMPCredential(ctx context.Context, s Scope, id int64) error
	// UpdateSNMPCredential changes a profile: name, version, user and
	// protocols as given; a secret given empty keeps the stored one when
	// the version stays (a new version needs its secrets anew). The
	// secrets are cleared from c afterwards. EINVALID naming the field
	// (never holding a secret), ENOTFOUND for a profile outside the
	// scope, EFORBIDDEN for one the scope sees but may not change.
	UpdateSNMPCredential(ctx context.Context, s Scope, id int64, c *SNMPCredential) error
	CreateSNMPTarget(ctx context.Context, s Scope, t *SNMPTarget) error
	FindSNMPTargets(ctx context.Context, s Scope, schoolID int64) ([]*SNMPTarget, error)
	DeleteSNMPTarget(ctx context.Context, s Scope, id int64) error
	CreateSNMPRange(ctx context.Context, s Scope, r *SNMPRange) error
	FindSNMPRanges(ctx context.Context, s Scope, schoolID int64) ([]*SNMPRange, error)
	DeleteSNMPRange(ctx context.Context, s Scope, id int64) error
	FindMetrics(ctx context.Context, s Scope, ciID int64, name string, limit int) ([]*Metric, error)
	FindMetricSeries(ctx context.Context, s Scope, ciID int64, q MetricQuery) (*MetricSeries, error)
	FindHealthEvents(ctx context.Context, s Scope, ciID int64) ([]*HealthEvent, error)
}
