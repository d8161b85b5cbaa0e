package connsync

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/server/cmdb"
)

// builtinClasses are the German and English words inventories use for
// classes; an instance's mapping comes first. Keys are folded (fold).
var builtinClasses = map[string]string{
	"laptop": cmdb.ClassLaptop, "notebook": cmdb.ClassLaptop, "schülerlaptop": cmdb.ClassLaptop,
	"desktop": cmdb.ClassDesktop, "pc": cmdb.ClassDesktop, "rechner": cmdb.ClassDesktop, "arbeitsplatzrechner": cmdb.ClassDesktop,
	"tablet": cmdb.ClassTablet, "ipad": cmdb.ClassTablet,
	"drucker": cmdb.ClassPrinter, "printer": cmdb.ClassPrinter, "laserdrucker": cmdb.ClassPrinter,
	"multifunktionsgerät": cmdb.ClassMFP, "mfp": cmdb.ClassMFP, "kopierer": cmdb.ClassMFP, "mfg": cmdb.ClassMFP,
	"beamer": cmdb.ClassProjector, "projektor": cmdb.ClassProjector, "projector": cmdb.ClassProjector,
	"interaktives display": cmdb.ClassDisplay, "interactive display": cmdb.ClassDisplay, "display": cmdb.ClassDisplay,
	"smartboard": cmdb.ClassDisplay, "whiteboard": cmdb.ClassDisplay, "interaktive tafel": cmdb.ClassDisplay,
	"dokumentenkamera": cmdb.ClassDocumentCamera, "document camera": cmdb.ClassDocumentCamera, "visualizer": cmdb.ClassDocumentCamera,
	"access point": cmdb.ClassAccessPoint, "accesspoint": cmdb.ClassAccessPoint, "wlan-ap": cmdb.ClassAccessPoint, "ap": cmdb.ClassAccessPoint,
	"switch": cmdb.ClassSwitch, "sonstiges": cmdb.ClassOther, "other": cmdb.ClassOther,
}

// builtinStatuses are the usual status words.
var builtinStatuses = map[string]string{
	"geplant": cmdb.StatusPlanned, "bestellt": cmdb.StatusPlanned, "planned": cmdb.StatusPlanned,
	"lager": cmdb.StatusInStock, "auf lager": cmdb.StatusInStock, "im lager": cmdb.StatusInStock, "in stock": cmdb.StatusInStock,
	"in betrieb": cmdb.StatusInUse, "aktiv": cmdb.StatusInUse, "im einsatz": cmdb.StatusInUse, "in use": cmdb.StatusInUse, "active": cmdb.StatusInUse,
	"reparatur": cmdb.StatusInRepair, "in reparatur": cmdb.StatusInRepair, "defekt": cmdb.StatusInRepair, "in repair": cmdb.StatusInRepair,
	"ausgesondert": cmdb.StatusRetired, "ausgemustert": cmdb.StatusRetired, "außer betrieb": cmdb.StatusRetired, "retired": cmdb.StatusRetired,
	"entsorgt": cmdb.StatusDisposed, "verschrottet": cmdb.StatusDisposed, "disposed": cmdb.StatusDisposed,
}

// builtinFields are the connector attribute names that differ from the
// CI's.
var builtinFields = map[string]string{
	connector.AttrWarrantyUntil: cmdb.AttrWarrantyEnd,
}

func fold(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// lookup finds v in a mapping (keys folded), then in the built-in words,
// then as the target word itself.
func lookup(m map[string]string, builtin map[string]string, valid []string, v string) (string, bool) {
	f := fold(v)
	for k, t := range m {
		if fold(k) == f {
			return t, true
		}
	}
	if t, ok := builtin[f]; ok {
		return t, true
	}
	for _, t := range valid {
		if t == f || strings.ReplaceAll(f, " ", "_") == t {
			return t, true
		}
	}
	return "", false
}

type memoHit struct {
	v  string
	ok bool
}

// lookup is lookup, remembered per kind and value: a source has few
// distinct words, and folding them costs more than the rest of a record.
func (p *places) lookup(kind string, m, builtin map[string]string, valid []string, v string) (string, bool) {
	k := [2]string{kind, v}
	if h, ok := p.memo[k]; ok {
		return h.v, h.ok
	}
	t, ok := lookup(m, builtin, valid, v)
	p.memo[k] = memoHit{t, ok}
	return t, ok
}

// places are the authority's schools and rooms, by folded code and name.
type places struct {
	names   map[string]string // source field → attribute name (attrName)
	memo    map[[2]string]memoHit
	schoolM map[connector.Location]*cmdb.School
	schools map[string]*cmdb.School
	rooms   map[int64]map[string]*cmdb.Room // school id → code/name → room
}

func newPlaces(schools []*cmdb.School, rooms []*cmdb.Room) *places {
	p := &places{names: map[string]string{}, memo: map[[2]string]memoHit{}, schoolM: map[connector.Location]*cmdb.School{}, schools: map[string]*cmdb.School{}, rooms: map[int64]map[string]*cmdb.Room{}}
	for _, s := range schools {
		p.schools[fold(s.Name)] = s
	}
	for _, s := range schools { // codes win over names
		p.schools[fold(s.Code)] = s
	}
	for _, r := range rooms {
		p.addRoom(r)
	}
	return p
}

// room finds a school's room by code or name.
func (p *places) room(school int64, name string) *cmdb.Room {
	m := p.rooms[school]
	if r, ok := m[name]; ok {
		return r
	}
	return m[fold(name)]
}

func (p *places) addRoom(r *cmdb.Room) {
	m := p.rooms[r.SchoolID]
	if m == nil {
		m = map[string]*cmdb.Room{}
		p.rooms[r.SchoolID] = m
	}
	if _, ok := m[fold(r.Name)]; !ok {
		m[fold(r.Name)] = r
	}
	m[fold(r.Code)] = r
}

// mapped is one record turned into an observation, or the reason it
// cannot be.
type mapped struct {
	obs cmdb.Observation
	err *cmdb.RunError
	// newRoom is a room the record needs and the sync may create.
	newRoom *roomWish
}

type roomWish struct {
	school   *cmdb.School
	building string
	room     string
}

// mapRecord turns a connector record into an observation by the
// instance's mapping. Values that break a rule make the record an error
// that names its origin, the field and the rule.
func mapRecord(inst *cmdb.ConnectorInstance, p *places, rec *connector.Record) mapped {
	m := &inst.Mapping
	fail := func(field, rule, format string, args ...any) mapped {
		return mapped{err: &cmdb.RunError{Origin: origin(rec), SourceKey: rec.SourceKey, Field: field, Rule: rule,
			Message: fmt.Sprintf(format, args...)}}
	}
	if len(rec.Problems) > 0 {
		pr := rec.Problems[0]
		return fail(pr.Field, pr.Rule, "%s", pr.Message)
	}
	if rec.SourceKey == "" {
		return fail("source_key", "required", "Der Datensatz hat keinen Schlüssel der Quelle.")
	}
	id := rec.Identifiers
	o := cmdb.Observation{Serial: id.Serial, AssetTag: id.AssetTag, Hostname: id.Hostname, HardwareUUID: id.HardwareUUID}
	for _, mac := range id.MACs {
		o.NICs = append(o.NICs, cmdb.NIC{MAC: mac})
	}
	if rec.ClassHint != "" && m.Allows(cmdb.AttrClass) {
		c, ok := p.lookup("class", m.Classes, builtinClasses, cmdb.Classes, rec.ClassHint)
		if !ok {
			return fail("class", "value_mapping", "Gerätetyp %q ist keiner Klasse zugeordnet (Wertezuordnung mapping.classes).", rec.ClassHint)
		}
		o.Class = c
	}
	if rec.Status != "" && m.Allows(cmdb.AttrStatus) {
		st, ok := p.lookup("status", m.Statuses, builtinStatuses, cmdb.Statuses, rec.Status)
		if !ok {
			return fail("status", "value_mapping", "Status %q ist keinem Status zugeordnet (Wertezuordnung mapping.statuses).", rec.Status)
		}
		o.Status = st
	}
	attrs := map[string]string{}
	if id.SourceDeviceID != "" {
		attrs[cmdb.AttrSourceDeviceID] = id.SourceDeviceID
	}
	for k, v := range rec.Attributes {
		attrs[k] = v
	}
	for k, v := range attrs {
		target, ok := m.Fields[k]
		if !ok {
			if t, ok := builtinFields[k]; ok {
				target = t
			} else {
				target = p.attrName(k)
			}
		}
		if target == "" {
			continue
		}
		// A field mapped to an identifier identifies the device, whatever
		// allowed says (as the record's own identifiers do); the mapping,
		// being said explicitly, wins over the connector's own value.
		if idf := identifier(&o, target); idf != nil {
			*idf = v
			continue
		}
		if !m.Allows(target) {
			continue
		}
		if target == cmdb.AttrVendor {
			o.Vendor = v
			continue
		}
		if err := cmdb.ValidateAttrValue(k, target, v); err != nil {
			return fail(k, "format", "%s", cmdb.ErrorMessage(err))
		}
		if o.Attributes == nil {
			o.Attributes = map[string]string{}
		}
		o.Attributes[target] = v
	}
	var wish *roomWish
	if loc := rec.Location; (loc.SchoolCode != "" || loc.SchoolName != "") && m.Allows(cmdb.AttrSchool) {
		school := p.school(m, loc)
		if school == nil {
			field, v := "school_code", loc.SchoolCode
			if v == "" {
				field, v = "school_name", loc.SchoolName
			}
			return fail(field, "unknown_school", "Schule %q gibt es in diesem Schulträger nicht (Schulzuordnung mapping.schools).", v)
		}
		o.SchoolID = school.ID
		if loc.Room != "" && m.Allows(cmdb.AttrRoom) {
			if r := p.room(school.ID, loc.Room); r != nil {
				o.RoomID = r.ID
			} else if m.CreateRooms {
				wish = &roomWish{school: school, building: loc.Building, room: loc.Room}
			} else {
				return fail("room", "unknown_room", "Raum %q gibt es in %s nicht; legen Sie ihn an oder erlauben Sie das Anlegen von Räumen (create_rooms).", loc.Room, school.Name)
			}
		}
	}
	return mapped{obs: o, newRoom: wish}
}

// identifier returns the observation's field of an identifier target,
// nil for any other attribute.
func identifier(o *cmdb.Observation, target string) *string {
	switch target {
	case cmdb.AttrSerial:
		return &o.Serial
	case cmdb.AttrAssetTag:
		return &o.AssetTag
	case cmdb.AttrHostname:
		return &o.Hostname
	case cmdb.AttrHardwareUUID:
		return &o.HardwareUUID
	}
	return nil
}

// validate checks a changed record's observation as reconcile will, so
// that a bad record is found here and never costs its batch a retry. An
// unchanged record needs no check: only valid records are stored with
// their hash.
func validate(m *mapped, inst *cmdb.ConnectorInstance, rec *connector.Record) {
	c := m.obs
	c.Source, c.AuthorityID, c.SourceKey = inst.Source(), inst.AuthorityID, "k"
	if err := c.Validate(); err != nil {
		m.err = &cmdb.RunError{Origin: origin(rec), SourceKey: rec.SourceKey, Field: cmdb.ErrorField(err),
			Rule: cmdb.ErrorCode(err), Message: cmdb.ErrorMessage(err)}
	}
}

func (p *places) school(m *cmdb.ConnectorMapping, loc connector.Location) *cmdb.School {
	key := connector.Location{SchoolCode: loc.SchoolCode, SchoolName: loc.SchoolName}
	if s, ok := p.schoolM[key]; ok {
		return s
	}
	s := p.findSchool(m, loc)
	p.schoolM[key] = s
	return s
}

func (p *places) findSchool(m *cmdb.ConnectorMapping, loc connector.Location) *cmdb.School {
	for _, v := range []string{loc.SchoolCode, loc.SchoolName} {
		if v == "" {
			continue
		}
		if code, ok := lookup(m.Schools, nil, nil, v); ok {
			v = code
		}
		if s := p.schools[fold(v)]; s != nil {
			return s
		}
	}
	return nil
}

func origin(rec *connector.Record) string {
	if rec.Origin != "" {
		return rec.Origin
	}
	return rec.SourceKey
}

// attrName is attrName, remembered per field.
func (p *places) attrName(k string) string {
	n, ok := p.names[k]
	if !ok {
		n = attrName(k)
		p.names[k] = n
	}
	return n
}

// attrName makes a CI attribute name of a source's own field name that is
// none ("Raum-Nr." → "inventory.raum_nr"): lower case, umlauts spelt out,
// under inventory.*, which ranks the connector first.
func attrName(k string) string {
	if cmdb.ValidAttrName("", k) == nil {
		return k
	}
	var b strings.Builder
	for _, r := range strings.ToLower(k) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == 'ä':
			b.WriteString("ae")
		case r == 'ö':
			b.WriteString("oe")
		case r == 'ü':
			b.WriteString("ue")
		case r == 'ß':
			b.WriteString("ss")
		default:
			if s := b.String(); s != "" && !strings.HasSuffix(s, "_") {
				b.WriteByte('_')
			}
		}
	}
	s := strings.Trim(b.String(), "_")
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		s = "f" + s
	}
	if len(s) > cmdb.MaxAttrNameLen-len("inventory.") {
		s = s[:cmdb.MaxAttrNameLen-len("inventory.")]
	}
	return "inventory." + strings.TrimRight(s, "_")
}

// hash is the content hash of a mapped record: equal hashes mean the
// record maps to the same observation as last time, so it needs no
// reconcile. 0 is kept for "not applied". The encoding is canonical
// (attributes sorted) and hand-written: a JSON encoding costs more than
// the rest of an unchanged record's way together.
func hash(m *mapped) int64 {
	o := &m.obs
	h := fnv.New64a()
	buf := make([]byte, 0, 256)
	put := func(s string) { buf = append(append(buf, s...), 0) }
	put(o.Class)
	put(o.Status)
	buf = strconv.AppendInt(buf, o.SchoolID, 10)
	buf = append(buf, 0)
	buf = strconv.AppendInt(buf, o.RoomID, 10)
	buf = append(buf, 0)
	for _, v := range []string{o.Serial, o.Vendor, o.HardwareUUID, o.Hostname, o.AssetTag} {
		put(v)
	}
	for _, n := range o.NICs {
		put(n.MAC)
		put(n.Kind)
	}
	buf = append(buf, 1)
	keys := make([]string, 0, len(o.Attributes))
	for k := range o.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		put(k)
		put(o.Attributes[k])
	}
	if m.newRoom != nil {
		put(m.newRoom.building)
		put(m.newRoom.room)
	}
	h.Write(buf)
	v := int64(h.Sum64())
	if v == 0 {
		v = 1
	}
	return v
}
