package csv

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/xuri/excelize/v2"
)

// The fields a column can be mapped to. A column mapped to none of them
// becomes an attribute under its own header.
const (
	FieldSerial        = "serial"
	FieldAssetTag      = "asset_tag"
	FieldClass         = "class"
	FieldVendor        = "vendor"
	FieldModel         = "model"
	FieldName          = "name"
	FieldMAC           = "mac"
	FieldHostname      = "hostname"
	FieldHardwareUUID  = "hardware_uuid"
	FieldDeviceID      = "device_id"
	FieldSchoolCode    = "school_code"
	FieldSchoolName    = "school_name"
	FieldBuilding      = "building"
	FieldRoom          = "room"
	FieldStatus        = "status"
	FieldPurchaseDate  = "purchase_date"
	FieldWarrantyUntil = "warranty_until"
	FieldNotes         = "notes"
	FieldOwner         = "owner"
	FieldDeleted       = "deleted"
	FieldIgnore        = "ignore" // drop the column
)

// Fields lists every field a column may be mapped to.
var Fields = []string{FieldSerial, FieldAssetTag, FieldClass, FieldVendor, FieldModel, FieldName, FieldMAC,
	FieldHostname, FieldHardwareUUID, FieldDeviceID, FieldSchoolCode, FieldSchoolName, FieldBuilding, FieldRoom,
	FieldStatus, FieldPurchaseDate, FieldWarrantyUntil, FieldNotes, FieldOwner, FieldDeleted, FieldIgnore}

// DefaultHeaders maps common German and English headers (compared after
// normHeader) to fields.
var DefaultHeaders = map[string]string{
	"seriennummer": FieldSerial, "serien nr": FieldSerial, "seriennr": FieldSerial, "serial": FieldSerial,
	"serial number": FieldSerial, "serialnumber": FieldSerial, "sn": FieldSerial, "s n": FieldSerial,

	"inventarnummer": FieldAssetTag, "inventar nr": FieldAssetTag, "inventarnr": FieldAssetTag, "inventar": FieldAssetTag,
	"inventarisierungsnummer": FieldAssetTag, "asset tag": FieldAssetTag, "asset": FieldAssetTag,
	"asset number": FieldAssetTag, "inventory number": FieldAssetTag,

	"gerätetyp": FieldClass, "geraetetyp": FieldClass, "geräteart": FieldClass, "typ": FieldClass, "type": FieldClass,
	"class": FieldClass, "klasse": FieldClass, "kategorie": FieldClass, "category": FieldClass, "device type": FieldClass,

	"hersteller": FieldVendor, "vendor": FieldVendor, "manufacturer": FieldVendor, "marke": FieldVendor,
	"modell": FieldModel, "model": FieldModel, "modellbezeichnung": FieldModel,
	"name": FieldName, "bezeichnung": FieldName, "gerätename": FieldName, "device name": FieldName,

	"mac": FieldMAC, "mac adresse": FieldMAC, "macadresse": FieldMAC, "mac adressen": FieldMAC,
	"mac address": FieldMAC, "mac addresses": FieldMAC, "wlan mac": FieldMAC, "lan mac": FieldMAC,
	"wifi mac": FieldMAC, "ethernet mac": FieldMAC, "wlan mac adresse": FieldMAC, "lan mac adresse": FieldMAC,
	"hostname": FieldHostname, "rechnername": FieldHostname, "computername": FieldHostname,
	"uuid": FieldHardwareUUID, "hardware uuid": FieldHardwareUUID, "smbios uuid": FieldHardwareUUID,
	"geräte id": FieldDeviceID, "device id": FieldDeviceID, "id": FieldDeviceID,

	"schulnummer": FieldSchoolCode, "schul nr": FieldSchoolCode, "schulnr": FieldSchoolCode,
	"dienststellennummer": FieldSchoolCode, "school code": FieldSchoolCode, "school number": FieldSchoolCode,
	"schule": FieldSchoolName, "schulname": FieldSchoolName, "school": FieldSchoolName, "school name": FieldSchoolName,
	"gebäude": FieldBuilding, "gebaeude": FieldBuilding, "haus": FieldBuilding, "building": FieldBuilding,
	"raum": FieldRoom, "raumnummer": FieldRoom, "raum nr": FieldRoom, "room": FieldRoom, "room number": FieldRoom,

	"status": FieldStatus, "zustand": FieldStatus, "state": FieldStatus,
	"kaufdatum": FieldPurchaseDate, "anschaffungsdatum": FieldPurchaseDate, "anschaffung": FieldPurchaseDate,
	"purchase date": FieldPurchaseDate, "purchased": FieldPurchaseDate,
	"garantie bis": FieldWarrantyUntil, "garantieende": FieldWarrantyUntil, "gewährleistung bis": FieldWarrantyUntil,
	"warranty": FieldWarrantyUntil, "warranty until": FieldWarrantyUntil, "warranty end": FieldWarrantyUntil,
	"bemerkung": FieldNotes, "bemerkungen": FieldNotes, "notiz": FieldNotes, "kommentar": FieldNotes,
	"notes": FieldNotes, "note": FieldNotes, "comment": FieldNotes,
	"besitzer": FieldOwner, "eigentümer": FieldOwner, "owner": FieldOwner,
	"gelöscht": FieldDeleted, "deleted": FieldDeleted,
}

// normHeader makes headers comparable: lower case, no BOM, "-", "_", ".",
// "/" and ":" as spaces, runs of spaces as one.
func normHeader(h string) string {
	h = strings.ToLower(strings.TrimPrefix(h, "\ufeff"))
	h = strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', '.', '/', ':', '\u00a0':
			return ' '
		}
		return r
	}, h)
	return strings.Join(strings.Fields(h), " ")
}

// clean trims a value and folds runs of white space (stray spaces,
// non-breaking spaces, tabs) into one space.
func clean(v string) string {
	return strings.Join(strings.FieldsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || r == '\u00a0' }), " ")
}

// cleanText trims a free text but keeps its line breaks.
func cleanText(v string) string {
	lines := strings.Split(strings.ReplaceAll(v, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = clean(l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// parseMACs reads one or more MAC addresses in any common notation
// (aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff, AABBCCDDEEFF),
// separated by commas, semicolons, slashes or white space, as
// aa:bb:cc:dd:ee:ff. It returns what it could not read apart.
func parseMACs(v string) (macs, bad []string) {
	for _, part := range strings.FieldsFunc(v, func(r rune) bool {
		return r == ',' || r == ';' || r == '/' || r == '|' || unicode.IsSpace(r)
	}) {
		hex := strings.Map(func(r rune) rune {
			switch r {
			case ':', '-', '.':
				return -1
			}
			return unicode.ToLower(r)
		}, part)
		if len(hex) != 12 || strings.Trim(hex, "0123456789abcdef") != "" {
			bad = append(bad, part)
			continue
		}
		var b strings.Builder
		for i := 0; i < 12; i += 2 {
			if i > 0 {
				b.WriteByte(':')
			}
			b.WriteString(hex[i : i+2])
		}
		macs = append(macs, b.String())
	}
	return macs, bad
}

// parseDate reads dd.mm.yyyy (also d.m.yy), yyyy-mm-dd, dd/mm/yyyy and an
// Excel serial day number as YYYY-MM-DD.
func parseDate(v string) (string, error) {
	for _, layout := range []string{"02.01.2006", "2.1.2006", "02.01.06", "2.1.06", "2006-01-02", "02/01/2006", "2006-01-02T15:04:05", "02.01.2006 15:04", "02.01.2006 15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.Format(time.DateOnly), nil
		}
	}
	// XLSX date cells read raw are day numbers since 1899-12-30.
	if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 && f < 2958466 {
		t, err := excelize.ExcelDateToTime(f, false)
		if err == nil {
			return t.Format(time.DateOnly), nil
		}
	}
	return "", fmt.Errorf("%q ist kein Datum (erwartet TT.MM.JJJJ)", v)
}

// parseBool reads the usual German and English yes words.
func parseBool(v string) bool {
	switch strings.ToLower(v) {
	case "1", "x", "ja", "j", "yes", "y", "true", "wahr", "gelöscht", "deleted":
		return true
	}
	return false
}
