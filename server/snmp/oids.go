package snmp

// OIDs the decoder understands, without a leading dot.
const (
	oidSystem         = "1.3.6.1.2.1.1"
	oidSysDescr       = "1.3.6.1.2.1.1.1.0"
	oidSysObjectID    = "1.3.6.1.2.1.1.2.0"
	oidSysUpTime      = "1.3.6.1.2.1.1.3.0"
	oidSysName        = "1.3.6.1.2.1.1.5.0"
	oidSysLocation    = "1.3.6.1.2.1.1.6.0"
	oidEnterprises    = "1.3.6.1.4.1"
	oidIfDescr        = "1.3.6.1.2.1.2.2.1.2"
	oidIfType         = "1.3.6.1.2.1.2.2.1.3"
	oidIfPhysAddress  = "1.3.6.1.2.1.2.2.1.6"
	oidHrDeviceType   = "1.3.6.1.2.1.25.3.2.1.2"
	oidHrDeviceDescr  = "1.3.6.1.2.1.25.3.2.1.3"
	oidHrPrinterStat  = "1.3.6.1.2.1.25.3.5.1.1"
	oidHrPrinterError = "1.3.6.1.2.1.25.3.5.1.2"
	// hrDevicePrinter, the hrDeviceType of a printer (HOST-RESOURCES-TYPES).
	oidHrDevicePrinter = "1.3.6.1.2.1.25.3.1.5"

	oidPrinterMIB             = "1.3.6.1.2.1.43"
	oidPrtGeneralSerialNumber = "1.3.6.1.2.1.43.5.1.1.17"
	oidPrtMarkerLifeCount     = "1.3.6.1.2.1.43.10.2.1.4"
	oidPrtMarkerSupplies      = "1.3.6.1.2.1.43.11.1.1" // prtMarkerSuppliesEntry
	oidPrtMarkerColorantValue = "1.3.6.1.2.1.43.12.1.1.4"
	oidPrtAlert               = "1.3.6.1.2.1.43.18.1.1" // prtAlertEntry

	oidEntPhysicalClass     = "1.3.6.1.2.1.47.1.1.1.1.5"
	oidEntPhysicalSerialNum = "1.3.6.1.2.1.47.1.1.1.1.11"
	oidEntPhysicalModelName = "1.3.6.1.2.1.47.1.1.1.1.13"
)

// Columns of prtMarkerSuppliesEntry and prtAlertEntry.
const (
	colSupplyColorant = 3
	colSupplyClass    = 4
	colSupplyType     = 5
	colSupplyDescr    = 6
	colSupplyUnit     = 7
	colSupplyMax      = 8
	colSupplyLevel    = 9

	colAlertSeverity = 2
	colAlertGroup    = 4
	colAlertCode     = 7
	colAlertDescr    = 8
)

// systemOIDs are read from every device first, with each credential in
// turn: the answer tells whether the credential works and which profile
// applies.
var systemOIDs = []string{oidSysDescr, oidSysObjectID, oidSysUpTime, oidSysName, oidSysLocation}

// oidNames are the names a profile may use instead of numeric OIDs.
var oidNames = map[string]string{
	"system":                      oidSystem,
	"sysDescr":                    oidSysDescr,
	"sysObjectID":                 oidSysObjectID,
	"sysUpTime":                   oidSysUpTime,
	"sysName":                     oidSysName,
	"sysLocation":                 oidSysLocation,
	"ifDescr":                     oidIfDescr,
	"ifType":                      oidIfType,
	"ifPhysAddress":               oidIfPhysAddress,
	"hrDeviceType":                oidHrDeviceType,
	"hrDeviceDescr":               oidHrDeviceDescr,
	"hrPrinterStatus":             oidHrPrinterStat,
	"hrPrinterDetectedErrorState": oidHrPrinterError,
	"prtGeneralSerialNumber":      oidPrtGeneralSerialNumber,
	"prtMarkerLifeCount":          oidPrtMarkerLifeCount,
	"prtMarkerSuppliesTable":      oidPrtMarkerSupplies,
	"prtMarkerColorantValue":      oidPrtMarkerColorantValue,
	"prtAlertTable":               oidPrtAlert,
	"entPhysicalClass":            oidEntPhysicalClass,
	"entPhysicalSerialNum":        oidEntPhysicalSerialNum,
	"entPhysicalModelName":        oidEntPhysicalModelName,
}
