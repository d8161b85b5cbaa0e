package demo

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// The demo's printers, copiers and projectors answer SNMP for real: each
// is a recording of the simulator, made from one of the sample
// recordings (copies of testdata/snmp, embedded so that the binary needs
// no files) with the device's own identity — serial, MAC, name, vendor,
// model — and a state of its own: page counter, supply levels, a jam or
// an open door here and there. Because the recordings carry the serials
// and MACs of the inventory export, polling them updates the demo's CIs
// instead of creating new ones.

//go:embed snmprec/*.snmprec
var recordings embed.FS

// Recording returns an embedded sample recording by file name, such as
// "canon-c5535.snmprec".
func Recording(name string) ([]byte, error) { return recordings.ReadFile("snmprec/" + name) }

// SNMPCredentialName names the credential profile Load gives each demo
// school.
const SNMPCredentialName = "Drucker und Beamer (SNMP v2c)"

// Community returns the read community of a demo school's devices.
func Community(schoolCode string) string {
	for _, s := range schools {
		if s.Code == schoolCode {
			return "ro-" + strings.ToLower(s.Short)
		}
	}
	return ""
}

// SimDevice is a demo device that a simulator stands in for.
type SimDevice struct {
	// School is the code of its school.
	School string
	// Address is its SNMP target in the school, such as 10.41.20.11: the
	// address the device would have in the school network. Whoever runs
	// the simulator routes it there.
	Address string
	// Community is the school's read community; the device answers no
	// other.
	Community string
	// Class, Vendor, Serial and MAC are what the device says of itself;
	// Serial is empty for devices whose firmware reports none.
	Class, Vendor, Serial, MAC string
	// Recording is the device in the snmprec format of the simulator.
	Recording []byte
}

// SimDevices returns the demo's printers, copiers and projectors that are
// in use, in a fixed order, each with its recording. It is
// deterministic: every call returns the same devices.
func SimDevices() []SimDevice {
	p := buildPlan()
	r := rand.New(rand.NewSource(seed + 1))
	var out []SimDevice
	for _, d := range p.Devices {
		if !d.SNMP {
			continue
		}
		sd := SimDevice{School: d.School.Code, Address: d.IP, Community: Community(d.School.Code), Class: d.Class,
			Vendor: d.Model.Vendor, MAC: d.MACs[0]}
		if d.Twin == nil {
			sd.Serial = d.Serial // the twin's firmware reports no serial
		}
		sd.Recording = render(d, sd.Serial, r)
		out = append(out, sd)
	}
	return out
}

// snmpAddresses gives each SNMP device an address in its school's
// printer network, 10.<net>.20.<11…>.
func snmpAddresses(p *plan) {
	next := map[string]int{}
	for _, d := range p.Devices {
		if d.SNMP {
			next[d.School.Code]++
			d.IP = fmt.Sprintf("10.%d.20.%d", d.School.Net, 10+next[d.School.Code])
		}
	}
}

// sysObjectIDs are the sysObjectID values of the demo's vendors; the
// poller takes the vendor from their enterprise number. BenQ's is the
// sample recording's (the vendor comes from sysDescr).
var sysObjectIDs = map[string]string{
	"HP": "1.3.6.1.4.1.11.2.3.9.1", "Brother": "1.3.6.1.4.1.2435.2.3.9.1", "Lexmark": "1.3.6.1.4.1.641.6.1.1.1",
	"Kyocera": "1.3.6.1.4.1.1347.41", "Canon": "1.3.6.1.4.1.1602.4.7", "Ricoh": "1.3.6.1.4.1.367.1.1",
	"Epson": "1.3.6.1.4.1.1248.4.1", "NEC": "1.3.6.1.4.1.119.2.3.192", "BenQ": "1.3.6.1.4.1.10211.4",
}

// OIDs the recordings are varied at.
const (
	oidSysDescr     = "1.3.6.1.2.1.1.1.0"
	oidSysObjectID  = "1.3.6.1.2.1.1.2.0"
	oidSysUpTime    = "1.3.6.1.2.1.1.3.0"
	oidSysContact   = "1.3.6.1.2.1.1.4.0"
	oidSysName      = "1.3.6.1.2.1.1.5.0"
	oidSysLocation  = "1.3.6.1.2.1.1.6.0"
	oidIfPhysAddr2  = "1.3.6.1.2.1.2.2.1.6.2"
	oidHrDevDescr1  = "1.3.6.1.2.1.25.3.2.1.3.1"
	oidHrPrtStatus  = "1.3.6.1.2.1.25.3.5.1.1.1"
	oidHrPrtErrors  = "1.3.6.1.2.1.25.3.5.1.2.1"
	oidPrtSerial    = "1.3.6.1.2.1.43.5.1.1.17.1"
	oidPrtLifeCount = "1.3.6.1.2.1.43.10.2.1.4.1.1"
	oidPrtSupplies  = "1.3.6.1.2.1.43.11.1.1."  // .<column>.1.<index>
	oidPrtAlerts    = "1.3.6.1.2.1.43.18.1.1."  // .<column>.1.<index>
	oidEntPhysical  = "1.3.6.1.2.1.47.1.1.1.1." // .<column>.1
)

// Bits of hrPrinterDetectedErrorState's first octet (RFC 3805).
const (
	bitNoPaper  = 0x40
	bitLowToner = 0x20
	bitNoToner  = 0x10
	bitDoorOpen = 0x08
	bitJammed   = 0x04
)

// render makes the recording of one device.
func render(d *device, serial string, r *rand.Rand) []byte {
	m := d.Model
	tmpl := "lexmark-ms521.snmprec"
	switch {
	case d.Class == cmdb.ClassProjector:
		tmpl = "benq-mw560.snmprec"
	case m.Color:
		tmpl = "canon-c5535.snmprec"
	}
	b, err := Recording(tmpl)
	if err != nil {
		panic("demo: " + err.Error()) // embedded at build time
	}
	rec := parseRecording(b)
	mac := strings.ReplaceAll(d.MACs[0], ":", "")
	descr := m.Vendor + " " + m.Name
	if d.Class == cmdb.ClassProjector {
		descr = m.Vendor + " Projector " + m.Name
	}
	location := d.School.Name
	if room := roomName(d); room != "" {
		location += ", " + room
	}
	rec.set(oidSysDescr, "4", descr)
	rec.set(oidSysObjectID, "6", sysObjectIDs[m.Vendor])
	rec.set(oidSysUpTime, "67", strconv.Itoa(100*(3600+r.Intn(30*24*3600))))
	rec.set(oidSysContact, "4", "it-service@landkreis-musterstadt.example")
	rec.set(oidSysName, "4", snmpHost(m.Vendor, mac))
	rec.set(oidSysLocation, "4", location)
	rec.set(oidIfPhysAddr2, "4x", mac)
	if d.Class == cmdb.ClassProjector {
		// The projector tells its serial and model in ENTITY-MIB.
		rec.set(oidEntPhysical+"5.1", "2", "3") // chassis
		rec.set(oidEntPhysical+"13.1", "4", m.Name)
		if serial != "" {
			rec.set(oidEntPhysical+"11.1", "4", serial)
		}
		return rec.bytes()
	}

	rec.set(oidHrDevDescr1, "4", descr)
	rec.del(oidPrtSerial)
	if serial != "" {
		rec.set(oidPrtSerial, "4", serial)
	}
	rec.set(oidPrtLifeCount, "65", strconv.Itoa(2000+r.Intn(180000)))

	var bits byte
	var alerts [][4]string // severity, group, code, description
	toner := func(i int, name string) {
		col := func(c int) string { return oidPrtSupplies + strconv.Itoa(c) + ".1." + strconv.Itoa(i) }
		if m.Vendor == "Canon" {
			// Canon reports toner as some-remaining (-3) until it is
			// empty, as the sample does: no percentages to chart.
			level := "-3"
			if r.Float64() < 0.12 {
				level, bits = "0", bits|bitNoToner
				alerts = append(alerts, [4]string{"3", "11", "1101", name + " is empty"})
			}
			rec.set(col(9), "2", level)
			return
		}
		level := 11 + r.Intn(90)
		switch f := r.Float64(); {
		case f < 0.05:
			level, bits = 0, bits|bitNoToner
			alerts = append(alerts, [4]string{"3", "11", "1101", name + " is empty"})
		case f < 0.15:
			level, bits = 2+r.Intn(9), bits|bitLowToner
			alerts = append(alerts, [4]string{"4", "11", "1104", name + " is low"})
		}
		rec.set(col(6), "4", name)
		rec.set(col(7), "2", "19") // percent
		rec.set(col(8), "2", "100")
		rec.set(col(9), "2", strconv.Itoa(level))
	}
	if m.Color {
		for i, c := range []string{"Black", "Cyan", "Magenta", "Yellow"} {
			toner(i+1, c+" Toner")
		}
	} else {
		toner(1, "Black Toner")
		rec.set(oidPrtSupplies+"9.1.2", "2", strconv.Itoa(60000*(15+r.Intn(86))/100)) // imaging unit
	}
	status := "3" // idle
	switch f := r.Float64(); {
	case f < 0.05:
		bits |= bitJammed
		alerts = append(alerts, [4]string{"3", "13", "8", "Paper jam"})
	case f < 0.09:
		bits |= bitDoorOpen
		alerts = append(alerts, [4]string{"3", "6", "501", "Front door open"})
	case f < 0.12:
		bits |= bitNoPaper
		alerts = append(alerts, [4]string{"4", "8", "808", "Tray 2 empty"})
	case f < 0.35:
		status = "4" // printing
	}
	rec.set(oidHrPrtStatus, "2", status)
	rec.set(oidHrPrtErrors, "4x", fmt.Sprintf("%02x00", bits))
	rec.del(oidPrtAlerts)
	for i, a := range alerts {
		idx := ".1." + strconv.Itoa(i+1)
		rec.set(oidPrtAlerts+"2"+idx, "2", a[0])
		rec.set(oidPrtAlerts+"4"+idx, "2", a[1])
		rec.set(oidPrtAlerts+"7"+idx, "2", a[2])
		rec.set(oidPrtAlerts+"8"+idx, "4", a[3])
	}
	return rec.bytes()
}

// snmpHost is the name a device's network card gives itself.
func snmpHost(vendor, mac string) string {
	mac = strings.ToUpper(mac)
	switch vendor {
	case "HP":
		return "NPI" + mac[6:]
	case "Brother":
		return "BRN" + mac
	case "Kyocera":
		return "KM" + mac[6:]
	case "Lexmark":
		return "ET" + mac
	case "Ricoh":
		return "RNP" + mac
	case "Canon":
		return "CNB" + mac[6:]
	}
	return strings.ToUpper(vendor) + "-" + mac[6:]
}

func roomName(d *device) string {
	for _, b := range d.School.Buildings {
		if b.Code != d.Building {
			continue
		}
		for _, r := range b.Rooms {
			if r.Code == d.Room {
				return r.Name
			}
		}
	}
	return ""
}

// recording is an snmprec file as lines, by OID.
type recording struct {
	oids  []string
	lines map[string]string // OID → "TYPE|VALUE"
}

func parseRecording(b []byte) *recording {
	rec := &recording{lines: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if oid, rest, ok := strings.Cut(line, "|"); ok {
			rec.set(oid, "", rest)
		}
	}
	return rec
}

// set sets oid to a value of the snmprec type typ ("" when value holds
// both, as "TYPE|VALUE").
func (r *recording) set(oid, typ, value string) {
	if typ != "" {
		value = typ + "|" + value
	}
	if _, ok := r.lines[oid]; !ok {
		r.oids = append(r.oids, oid)
	}
	r.lines[oid] = value
}

// del removes oid and every OID under it, when it ends in a dot.
func (r *recording) del(oid string) {
	r.oids = slices.DeleteFunc(r.oids, func(o string) bool {
		if o == oid || strings.HasSuffix(oid, ".") && strings.HasPrefix(o, oid) {
			delete(r.lines, o)
			return true
		}
		return false
	})
}

func (r *recording) bytes() []byte {
	var b bytes.Buffer
	for _, oid := range r.oids {
		b.WriteString(oid + "|" + r.lines[oid] + "\n")
	}
	return b.Bytes()
}

// ensureSNMP gives every demo school its credential profile and a target
// per simulated device, creating only what is missing.
func ensureSNMP(ctx context.Context, s Store, scope cmdb.Scope, ids *tenantIDs, sum *Summary) error {
	devs := SimDevices()
	for _, sd := range schools {
		id, err := ids.school(sd.Code)
		if err != nil {
			return err
		}
		have, err := s.FindSNMPCredentials(ctx, scope, id)
		if err != nil {
			return fmt.Errorf("demo: SNMP credentials of %s: %w", sd.Code, err)
		}
		if !slices.ContainsFunc(have, func(c *cmdb.SNMPCredential) bool { return c.Name == SNMPCredentialName }) {
			c := &cmdb.SNMPCredential{Name: SNMPCredentialName, Version: "2c", Community: cmdb.Secret(Community(sd.Code))}
			if err := s.CreateSNMPCredential(ctx, scope, id, c); err != nil {
				return fmt.Errorf("demo: SNMP credential of %s: %w", sd.Code, err)
			}
		}
	}
	for _, d := range devs {
		id, err := ids.school(d.School)
		if err != nil {
			return err
		}
		t := &cmdb.SNMPTarget{SchoolID: id, Address: d.Address, Kind: cmdb.TargetSNMP}
		if err := s.CreateSNMPTarget(ctx, scope, t); err != nil && cmdb.ErrorCode(err) != cmdb.ECONFLICT {
			return fmt.Errorf("demo: SNMP target %s: %w", d.Address, err)
		}
		sum.Targets++
	}
	return nil
}
