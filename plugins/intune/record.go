package intune

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/schulit/cmdb/plugins/connector"
)

// managedDevice is the part of Graph's managedDevice (v1.0) the
// connector reads; managedDeviceSelect asks for exactly these fields.
// Nothing about the device's user is read: pupils' names stay in Intune.
type managedDevice struct {
	ID                 string `json:"id"`
	DeviceName         string `json:"deviceName"`
	SerialNumber       string `json:"serialNumber"`
	Manufacturer       string `json:"manufacturer"`
	Model              string `json:"model"`
	OperatingSystem    string `json:"operatingSystem"`
	OSVersion          string `json:"osVersion"`
	ComplianceState    string `json:"complianceState"`
	LastSyncDateTime   string `json:"lastSyncDateTime"`
	AzureADDeviceID    string `json:"azureADDeviceId"`
	WiFiMacAddress     string `json:"wiFiMacAddress"`
	EthernetMacAddress string `json:"ethernetMacAddress"`
}

const managedDeviceSelect = "id,deviceName,serialNumber,manufacturer,model,operatingSystem,osVersion," +
	"complianceState,lastSyncDateTime,azureADDeviceId,wiFiMacAddress,ethernetMacAddress"

// autopilotDevice is Graph's windowsAutopilotDeviceIdentity (v1.0).
type autopilotDevice struct {
	ID                           string `json:"id"`
	GroupTag                     string `json:"groupTag"`
	PurchaseOrderIdentifier      string `json:"purchaseOrderIdentifier"`
	SerialNumber                 string `json:"serialNumber"`
	Manufacturer                 string `json:"manufacturer"`
	Model                        string `json:"model"`
	EnrollmentState              string `json:"enrollmentState"`
	AzureActiveDirectoryDeviceID string `json:"azureActiveDirectoryDeviceId"`
	ManagedDeviceID              string `json:"managedDeviceId"`
	DisplayName                  string `json:"displayName"`

	joined bool // a managed device has the same serial or names it
	taken  bool // its key went to a managed device
}

// Attribute keys beyond the contract's well-known ones.
const (
	AttrGroupTag        = "group_tag"
	AttrPurchaseOrder   = "purchase_order"
	AttrEnrollmentState = "enrollment_state"
	AttrLastSync        = "last_sync" // YYYY-MM-DD (UTC)
	AttrCompliance      = "compliance_state"
	AttrOS              = "os"
	AttrOSVersion       = "os_version"
	AttrIntuneID        = "intune_device_id"
	AttrAutopilotID     = "autopilot_id"
)

// autopilotIndex holds every Autopilot identity of the tenant for the
// join: the one side of the join that has to be in memory (some hundred
// bytes a device), while managed devices stream past it.
type autopilotIndex struct {
	all       []*autopilotDevice
	bySerial  map[string]*autopilotDevice
	byManaged map[string]*autopilotDevice // managedDeviceId → identity
}

func newAutopilotIndex() *autopilotIndex {
	return &autopilotIndex{bySerial: map[string]*autopilotDevice{}, byManaged: map[string]*autopilotDevice{}}
}

func (x *autopilotIndex) add(a autopilotDevice) {
	p := &a
	x.all = append(x.all, p)
	if s := serialKey(a.SerialNumber); s != "" {
		if _, dup := x.bySerial[s]; !dup {
			x.bySerial[s] = p
		}
	}
	if id := realID(a.ManagedDeviceID); id != "" {
		x.byManaged[id] = p
	}
}

// match finds the Autopilot identity of a managed device and says whether
// the record takes its key. The identity's own managedDeviceId names the
// current enrolment; a second managed device with the same serial (an
// old enrolment Intune has not cleaned up yet) gets the identity's
// attributes but keeps its own key, so that keys stay unique.
func (x *autopilotIndex) match(d managedDevice) (a *autopilotDevice, takesKey bool) {
	if a = x.byManaged[d.ID]; a == nil {
		a = x.bySerial[serialKey(d.SerialNumber)]
	}
	if a == nil {
		return nil, false
	}
	a.joined = true
	owner := realID(a.ManagedDeviceID)
	if !a.taken && (owner == "" || owner == d.ID) {
		a.taken = true
		return a, true
	}
	return a, false
}

// serialKey compares serials: case and all white space ignored.
func serialKey(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToUpper(r)
	}, s)
}

// realID drops Graph's empty GUID, which stands for "none".
func realID(id string) string {
	id = strings.TrimSpace(id)
	if id == "" || id == "00000000-0000-0000-0000-000000000000" {
		return ""
	}
	return id
}

// managedRecord builds the record of a managed device, joined with its
// Autopilot identity a (or nil). The key is the Autopilot id when the
// record takes it: it stays the same when a registered laptop enrols and
// when it is wiped and enrolled again (which gives a new managed device
// id), so the host does not see the device vanish and reappear.
func managedRecord(d managedDevice, a *autopilotDevice, takesKey bool) connector.Record {
	r := connector.Record{
		SourceKey: d.ID,
		ClassHint: clean(d.OperatingSystem),
		Status:    "enrolled",
		Origin:    "Intune-Gerät " + d.ID,
		Identifiers: connector.Identifiers{
			Serial:         clean(d.SerialNumber),
			SourceDeviceID: realID(d.AzureADDeviceID),
			Hostname:       clean(d.DeviceName),
		},
		Attributes: map[string]string{},
	}
	set(r.Attributes, connector.AttrName, d.DeviceName)
	set(r.Attributes, connector.AttrVendor, d.Manufacturer)
	set(r.Attributes, connector.AttrModel, d.Model)
	set(r.Attributes, AttrCompliance, d.ComplianceState)
	set(r.Attributes, AttrOS, d.OperatingSystem)
	set(r.Attributes, AttrOSVersion, d.OSVersion)
	set(r.Attributes, AttrIntuneID, d.ID)
	r.AddMAC("wiFiMacAddress", d.WiFiMacAddress)
	r.AddMAC("ethernetMacAddress", d.EthernetMacAddress)
	if day, ok := dateOf(d.LastSyncDateTime); ok {
		set(r.Attributes, AttrLastSync, day)
	} else if clean(d.LastSyncDateTime) != "" {
		r.Problems = append(r.Problems, connector.Problem{Field: "lastSyncDateTime", Rule: "date",
			Message: fmt.Sprintf("%q ist kein Zeitpunkt.", d.LastSyncDateTime)})
	}
	if a != nil {
		if takesKey {
			r.SourceKey = a.ID
		}
		autopilotAttributes(&r, a)
	}
	return r
}

// autopilotRecord builds the record of a device that is registered in
// Autopilot but not (yet) enrolled in Intune.
func autopilotRecord(a *autopilotDevice) connector.Record {
	r := connector.Record{
		SourceKey: a.ID,
		ClassHint: "Windows", // Autopilot registers Windows devices only
		Status:    clean(a.EnrollmentState),
		Origin:    "Autopilot-Gerät " + a.ID,
		Identifiers: connector.Identifiers{
			Serial:         clean(a.SerialNumber),
			SourceDeviceID: realID(a.AzureActiveDirectoryDeviceID),
		},
		Attributes: map[string]string{},
	}
	set(r.Attributes, connector.AttrName, a.DisplayName)
	set(r.Attributes, connector.AttrVendor, a.Manufacturer)
	set(r.Attributes, connector.AttrModel, a.Model)
	autopilotAttributes(&r, a)
	return r
}

func autopilotAttributes(r *connector.Record, a *autopilotDevice) {
	set(r.Attributes, AttrGroupTag, a.GroupTag)
	set(r.Attributes, AttrPurchaseOrder, a.PurchaseOrderIdentifier)
	set(r.Attributes, AttrEnrollmentState, a.EnrollmentState)
	set(r.Attributes, AttrAutopilotID, a.ID)
	// Intune's own inventory wins; Autopilot fills what it lacks.
	if _, ok := r.Attributes[connector.AttrVendor]; !ok {
		set(r.Attributes, connector.AttrVendor, a.Manufacturer)
	}
	if _, ok := r.Attributes[connector.AttrModel]; !ok {
		set(r.Attributes, connector.AttrModel, a.Model)
	}
	if r.Identifiers.Serial == "" {
		r.Identifiers.Serial = clean(a.SerialNumber)
	}
	if r.Identifiers.SourceDeviceID == "" {
		r.Identifiers.SourceDeviceID = realID(a.AzureActiveDirectoryDeviceID)
	}
}

func set(m map[string]string, k, v string) {
	if v = clean(v); v != "" {
		m[k] = v
	}
}

// clean trims a value and folds runs of white space into one space.
func clean(v string) string { return strings.Join(strings.Fields(v), " ") }

// dateOf turns a Graph timestamp into its UTC day, YYYY-MM-DD. Graph's
// "0001-01-01T00:00:00Z" means never and gives nothing. A day, not the
// instant: a device that synced twice since the last run is unchanged
// for the CMDB, which keeps unchanged records cheap.
func dateOf(ts string) (string, bool) {
	ts = strings.TrimSpace(ts)
	if ts == "" {
		return "", false
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return "", false
	}
	if t.Year() <= 1 {
		return "", true
	}
	return t.UTC().Format(time.DateOnly), true
}
