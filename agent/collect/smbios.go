package collect

import (
	"encoding/binary"
	"fmt"
)

// ParseSMBIOS reads the system (type 1) and chassis (type 3) structures
// of a raw SMBIOS structure table, as Windows returns it from
// GetSystemFirmwareTable('RSMB') after its 8-byte header. Malformed data
// yields what could be read before it.
func ParseSMBIOS(table []byte) DMI {
	var d DMI
	for len(table) >= 4 {
		typ, length := table[0], int(table[1])
		if length < 4 || length > len(table) {
			break
		}
		formatted := table[:length]
		// The string set follows the formatted area and ends with two NULs.
		end := length
		for end+1 < len(table) && (table[end] != 0 || table[end+1] != 0) {
			end++
		}
		strs := splitStrings(table[length:min(end, len(table))])
		str := func(off int) string {
			if off >= len(formatted) {
				return ""
			}
			i := int(formatted[off])
			if i == 0 || i > len(strs) {
				return ""
			}
			return CleanDMI(strs[i-1])
		}
		switch typ {
		case 1:
			d.Vendor, d.Model, d.Serial = str(4), str(5), str(7)
			if length >= 0x18 {
				d.UUID = smbiosUUID(formatted[8:24])
			}
		case 3:
			if length > 5 {
				d.Chassis = ChassisKind(int(formatted[5] & 0x7f))
			}
		case 127:
			return d
		}
		table = table[min(end+2, len(table)):]
	}
	return d
}

func splitStrings(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == 0 {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	if start < len(b) {
		out = append(out, string(b[start:]))
	}
	return out
}

// smbiosUUID formats an SMBIOS UUID; the first three fields are little
// endian (SMBIOS 2.6 and later). All-zero and all-FF mean "not set".
func smbiosUUID(b []byte) string {
	s := fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]),
		binary.LittleEndian.Uint16(b[6:8]), b[8:10], b[10:16])
	return CleanDMI(s)
}
