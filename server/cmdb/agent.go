package cmdb

import (
	"encoding/json"

	"github.com/schulit/cmdb/agentproto"
)

// The agent protocol lives in package agentproto (standard library only),
// so that the agent imports no server code. The domain names its types
// here, as aliases, because reports and enrolments are domain input too.

// Inventory sections; see agentproto.
const (
	SectionSystem   = agentproto.SectionSystem
	SectionHardware = agentproto.SectionHardware
	SectionNetwork  = agentproto.SectionNetwork
	SectionSoftware = agentproto.SectionSoftware
)

// Sections lists the inventory sections in report order.
var Sections = agentproto.Sections

// Aliases of the protocol's types; see agentproto for their contracts.
type (
	Inventory         = agentproto.Inventory
	InventorySystem   = agentproto.InventorySystem
	InventoryHardware = agentproto.InventoryHardware
	InventoryDisk     = agentproto.InventoryDisk
	Battery           = agentproto.Battery
	InventoryNIC      = agentproto.InventoryNIC
	SoftwareItem      = agentproto.SoftwareItem
	EnrollRequest     = agentproto.EnrollRequest
	EnrollResponse    = agentproto.EnrollResponse
	Report            = agentproto.Report
	ReportResponse    = agentproto.ReportResponse
)

// SectionHash is the content hash of a section; see agentproto.SectionHash.
func SectionHash(data json.RawMessage) string { return agentproto.SectionHash(data) }
