package collect

import (
	"bytes"
	"regexp"
	"strings"
)

// PlistString returns the string value of key in an XML property list
// (the form of most Info.plist files), or "" when the key is missing or
// the list is binary.
func PlistString(data []byte, key string) string {
	if bytes.HasPrefix(data, []byte("bplist")) {
		return ""
	}
	k := []byte("<key>" + key + "</key>")
	i := bytes.Index(data, k)
	if i < 0 {
		return ""
	}
	rest := data[i+len(k):]
	open := bytes.Index(rest, []byte("<string>"))
	if open < 0 || len(bytes.TrimSpace(rest[:open])) > 0 {
		return "" // the value is not a string
	}
	rest = rest[open+len("<string>"):]
	end := bytes.Index(rest, []byte("</string>"))
	if end < 0 {
		return ""
	}
	return xmlUnescape(strings.TrimSpace(string(rest[:end])))
}

var xmlEntities = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'")

func xmlUnescape(s string) string { return xmlEntities.Replace(s) }

var ioregLine = regexp.MustCompile(`"([A-Za-z-]+)" = <?"([^"]*)"`)

// ParseIoreg reads `ioreg -rd1 -c IOPlatformExpertDevice` output: serial,
// hardware UUID, model and vendor of a Mac. Macs whose model name
// contains "Book" are laptops, the rest desktops.
func ParseIoreg(out []byte) DMI {
	var d DMI
	for _, m := range ioregLine.FindAllSubmatch(out, -1) {
		v := CleanDMI(string(m[2]))
		switch string(m[1]) {
		case "IOPlatformSerialNumber":
			d.Serial = v
		case "IOPlatformUUID":
			d.UUID = strings.ToLower(v)
		case "model":
			d.Model = v
		case "manufacturer":
			d.Vendor = v
		}
	}
	if d.Model != "" {
		d.Chassis = ChassisDesktop
		if strings.Contains(d.Model, "Book") {
			d.Chassis = ChassisLaptop
		}
	}
	return d
}
