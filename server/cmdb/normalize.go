package cmdb

import (
	"net"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/plugins/connector/junk"
)

// NormalizeSerial trims a serial number, drops inner spaces and folds it
// to upper case, so that " cnd 1234x " and "CND1234X" match.
func NormalizeSerial(s string) string { return junk.Normalize(s) }

// vendorAliases maps folded vendor spellings to one canonical name.
var vendorAliases = map[string]string{
	"dell": "Dell", "dell inc": "Dell", "dell computer corporation": "Dell",
	"hp": "HP", "hewlett-packard": "HP", "hewlett packard": "HP", "hp inc": "HP", "hpe": "HPE",
	"hewlett packard enterprise": "HPE",
	"lenovo":                     "Lenovo", "ibm": "IBM",
	"apple": "Apple", "apple inc": "Apple", "apple computer, inc": "Apple",
	"microsoft": "Microsoft", "microsoft corporation": "Microsoft",
	"acer": "Acer", "asus": "ASUS", "asustek computer inc": "ASUS", "asustek computer": "ASUS",
	"fujitsu": "Fujitsu", "fujitsu client computing limited": "Fujitsu", "fujitsu siemens": "Fujitsu",
	"toshiba": "Toshiba", "dynabook": "Dynabook", "samsung": "Samsung", "samsung electronics co": "Samsung",
	"brother": "Brother", "brother industries": "Brother", "canon": "Canon", "canon inc": "Canon",
	"kyocera": "Kyocera", "kyocera document solutions": "Kyocera", "kyocera mita": "Kyocera",
	"ricoh": "Ricoh", "ricoh company": "Ricoh", "lexmark": "Lexmark", "lexmark international": "Lexmark",
	"xerox": "Xerox", "konica minolta": "Konica Minolta", "sharp": "Sharp", "epson": "Epson",
	"seiko epson": "Epson", "seiko epson corporation": "Epson", "benq": "BenQ", "nec": "NEC",
	"sharp nec display solutions": "NEC", "optoma": "Optoma", "panasonic": "Panasonic", "sony": "Sony",
	"promethean": "Promethean", "smart technologies": "SMART", "smart": "SMART", "cisco": "Cisco",
	"cisco systems": "Cisco", "ubiquiti": "Ubiquiti", "ubiquiti inc": "Ubiquiti", "ubiquiti networks": "Ubiquiti",
	"lancom": "LANCOM", "lancom systems": "LANCOM", "aruba": "Aruba", "hp aruba": "Aruba",
	"ipevo": "IPEVO", "elmo": "ELMO", "qemu": "QEMU", "vmware": "VMware", "vmware, inc": "VMware",
	"innotek gmbh": "VirtualBox", "medion": "Medion", "terra": "TERRA", "wortmann": "TERRA", "wortmann ag": "TERRA",
}

// NormalizeVendor returns the canonical vendor name: known aliases such as
// "Dell Inc." or "Hewlett-Packard" map to "Dell" and "HP"; other names are
// trimmed with legal suffixes left as given.
func NormalizeVendor(v string) string {
	t := strings.Join(strings.Fields(v), " ")
	k := strings.ToLower(strings.TrimRight(t, ". "))
	for _, suf := range []string{" gmbh", " ltd", " co., ltd", " corp", " corporation", " inc", " ag"} {
		if c, ok := vendorAliases[k]; ok {
			return c
		}
		k2 := strings.TrimRight(strings.TrimSuffix(k, suf), ",. ")
		if c, ok := vendorAliases[k2]; ok {
			return c
		}
	}
	return t
}

// VendorKey returns the folded form of a vendor used for matching.
func VendorKey(v string) string { return strings.ToLower(NormalizeVendor(v)) }

// NormalizeMAC parses a MAC address in any common notation
// (aa:bb:…, AA-BB-…, aabb.ccdd.eeff, aabbccddeeff) and returns it as
// lower-case colon-separated hex. ok is false if it is not a 48-bit MAC.
func NormalizeMAC(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 12 {
		if _, err := strconv.ParseUint(s, 16, 64); err == nil {
			var b strings.Builder
			for i := 0; i < 12; i += 2 {
				if i > 0 {
					b.WriteByte(':')
				}
				b.WriteString(strings.ToLower(s[i : i+2]))
			}
			return b.String(), true
		}
	}
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return "", false
	}
	return hw.String(), true
}

// MACFragment reads a search text as a part of a MAC address written in
// any usual notation (3c:d9:2b, 3c-d9-2b, 3c.d9.2b, 3CD92B, 3cd9.2b01):
// hex digits with optional ':', '-', '.' or space between them. It
// returns the lower-case hex digits, and false when the text is anything
// else or has fewer than 4 hex digits (too short to mean a MAC).
func MACFragment(q string) (string, bool) {
	q = strings.TrimSpace(q)
	var b strings.Builder
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'f':
			b.WriteRune(r)
		case r >= 'A' && r <= 'F':
			b.WriteRune(r + 'a' - 'A')
		case r == ':', r == '-', r == '.', r == ' ':
		default:
			return "", false
		}
	}
	if b.Len() < 4 || b.Len() > 12 {
		return "", false
	}
	return b.String(), true
}

// JunkMAC reports whether a normalised MAC cannot identify a device:
// all zeros, broadcast, or multicast.
func JunkMAC(mac string) bool {
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		return true
	}
	return mac == "00:00:00:00:00:00" || mac == "ff:ff:ff:ff:ff:ff" || hw[0]&1 == 1
}

var uuidNoise = strings.NewReplacer("-", "", "{", "", "}", "", " ", "")

// NormalizeUUID parses a hardware UUID with or without dashes or braces
// and returns it in lower-case 8-4-4-4-12 form; ok is false if it is not
// 32 hex digits.
func NormalizeUUID(s string) (string, bool) {
	h := strings.ToLower(uuidNoise.Replace(s))
	if len(h) != 32 {
		return "", false
	}
	for _, r := range h {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return "", false
		}
	}
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}

// NormalizeHostname folds a hostname to lower case and drops the domain,
// so that "PC-12.schule.local" and "pc-12" match.
func NormalizeHostname(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexByte(s, '.'); i > 0 {
		s = s[:i]
	}
	return s
}

// Junk holds identifier values that do not identify anything: serials such
// as "To Be Filled By O.E.M." and UUIDs such as all zeros. It is data,
// loaded from the store (table junk_identifiers, seeded by the schema).
type Junk struct {
	Serials map[string]bool // normalised (NormalizeSerial)
	UUIDs   map[string]bool // normalised (NormalizeUUID)
}

// JunkSerial reports whether a normalised serial cannot identify a device:
// empty, on the junk list (compared also without punctuation, so that
// "k. A.", "K.A" and "ka" are the list's "k.A."), shorter than 3
// characters, without any letter or digit ("???", "---"), or a single
// repeated character ("0000000000", "XXXX").
func (j *Junk) JunkSerial(norm string) bool {
	return junk.Placeholder(norm) || j.Serials[norm] || j.Serials[JunkKey(norm)]
}

// JunkKey folds a serial to its letters and digits in upper case: the
// form in which junk list entries match ("N/A" = "NA", "k. A." = "KA").
func JunkKey(s string) string { return junk.Key(s) }

// AddSerial puts a serial, as reported, on the junk list.
func (j *Junk) AddSerial(v string) {
	if j.Serials == nil {
		j.Serials = map[string]bool{}
	}
	j.Serials[NormalizeSerial(v)] = true
	if k := JunkKey(v); k != "" {
		j.Serials[k] = true
	}
}

// JunkUUID reports whether a normalised UUID is on the junk list or made
// of one repeated hex digit (all zeros, all ones, all Fs).
func (j *Junk) JunkUUID(norm string) bool {
	if norm == "" || j.UUIDs[norm] {
		return true
	}
	h := strings.ReplaceAll(norm, "-", "")
	return strings.Trim(h, h[:1]) == ""
}

func idString(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

func parseID(s string) int64 {
	id, _ := strconv.ParseInt(s, 10, 64)
	return id
}
