package snmp

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/schulit/cmdb/server/cmdb"
	"go.yaml.in/yaml/v3"
)

//go:embed defaults/*.yaml
var defaultFiles embed.FS

// Catalog is the poller's knowledge as data: which vendor an enterprise
// number stands for, how to tell a device's class, and what to read from
// which device family. It is read from YAML files, each of which may hold
// any of the four sections:
//
//	vendors:        # enterprise number → vendor
//	  - {enterprise: 641, vendor: Lexmark, source: iana}
//	descr_vendors:  # sysDescr pattern → vendor, for borrowed or unknown numbers
//	  - {pattern: '(?i)^benq\b', vendor: BenQ}
//	class_rules:    # first rule whose conditions all hold gives the class
//	  - {class: printer, printer: true}
//	profiles:       # first profile that matches says what to read
//	  - name: printer
//	    match: {enterprises: [641]}
//	    walk: [prtMarkerSuppliesTable]
//
// A Catalog is safe for concurrent use; it must not be modified once
// loaded (DefaultCatalog's is shared).
type Catalog struct {
	Vendors      []Vendor
	DescrVendors []DescrVendor
	ClassRules   []ClassRule
	Profiles     []Profile

	byEnterprise map[int]Vendor
}

// Vendor names the maker behind a private enterprise number
// (1.3.6.1.4.1.<n>, the IANA registry).
type Vendor struct {
	Enterprise int    `yaml:"enterprise"`
	Vendor     string `yaml:"vendor"`
	// Generic marks numbers of SNMP agent software that many makers
	// embed (net-snmp, UCD): the number does not name the maker, so the
	// vendor is taken from sysDescr instead.
	Generic bool `yaml:"generic"`
	// Source says how the number was checked: "iana" (against the IANA
	// enterprise-numbers registry) or "unverified".
	Source string `yaml:"source"`
	Note   string `yaml:"note"`
}

// DescrVendor names the vendor of a device whose enterprise number is
// unknown or generic, by a regular expression over sysDescr and model.
type DescrVendor struct {
	Pattern string `yaml:"pattern"`
	Vendor  string `yaml:"vendor"`
	Note    string `yaml:"note"`

	re *regexp.Regexp
}

// ClassRule gives a class to devices for which all of its set conditions
// hold; a rule without conditions matches every device.
type ClassRule struct {
	Class string `yaml:"class"`
	// Printer, when set, requires that the Printer-MIB (or a Host-
	// Resources printer device) answered, or that it did not.
	Printer *bool `yaml:"printer"`
	// Enterprises requires one of these enterprise numbers.
	Enterprises []int `yaml:"enterprises"`
	// Text requires one of these regular expressions to match sysDescr,
	// the model or an hrDeviceDescr.
	Text []string `yaml:"text"`
	// OIDs requires a value under one of these OIDs (or names).
	OIDs []string `yaml:"oids"`
	// IfTypes requires an interface of one of these IANAifTypes.
	IfTypes []int `yaml:"if_types"`
	// MinEthernetPorts requires at least this many Ethernet interfaces.
	MinEthernetPorts int    `yaml:"min_ethernet_ports"`
	Note             string `yaml:"note"`

	res  []*regexp.Regexp
	oids []string
}

// Profile says what to read from one device family, in the spirit of
// snmp_exporter's modules. The system group is always read first.
type Profile struct {
	Name  string       `yaml:"name"`
	Match ProfileMatch `yaml:"match"`
	// Get lists scalar OIDs (numeric, or names such as sysName) to read.
	Get []string `yaml:"get"`
	// Walk lists tables or columns to walk (numeric, or names such as
	// prtMarkerSuppliesTable).
	Walk []string `yaml:"walk"`
	Note string   `yaml:"note"`

	getOIDs, walkOIDs []string
	res               []*regexp.Regexp
}

// ProfileMatch selects the devices a profile is for: any one criterion
// that holds selects it. A profile with no criteria is a fallback, used
// only when no other profile matches.
type ProfileMatch struct {
	Enterprises []int    `yaml:"enterprises"`
	SysObjectID []string `yaml:"sys_object_id"` // OID prefixes
	SysDescr    []string `yaml:"sys_descr"`     // regular expressions
}

// GetOIDs returns the profile's scalar OIDs, resolved to numbers.
func (p *Profile) GetOIDs() []string { return slices.Clone(p.getOIDs) }

// WalkOIDs returns the profile's table OIDs, resolved to numbers.
func (p *Profile) WalkOIDs() []string { return slices.Clone(p.walkOIDs) }

func (p *Profile) fallback() bool {
	return len(p.Match.Enterprises) == 0 && len(p.Match.SysObjectID) == 0 && len(p.Match.SysDescr) == 0
}

func (p *Profile) matches(sysObjectID, sysDescr string) bool {
	if n := enterprise(sysObjectID); n != 0 && slices.Contains(p.Match.Enterprises, n) {
		return true
	}
	for _, prefix := range p.Match.SysObjectID {
		if sysObjectID == prefix || strings.HasPrefix(sysObjectID, prefix+".") {
			return true
		}
	}
	for _, re := range p.res {
		if re.MatchString(sysDescr) {
			return true
		}
	}
	return false
}

// catalogFile is the YAML shape of one file.
type catalogFile struct {
	Vendors      []Vendor      `yaml:"vendors"`
	DescrVendors []DescrVendor `yaml:"descr_vendors"`
	ClassRules   []ClassRule   `yaml:"class_rules"`
	Profiles     []Profile     `yaml:"profiles"`
}

var defaultCatalog = sync.OnceValues(func() (*Catalog, error) { return LoadCatalog("") })

// DefaultCatalog returns the embedded catalog. It panics only if the
// embedded files are broken, which the package's tests rule out.
func DefaultCatalog() *Catalog {
	c, err := defaultCatalog()
	if err != nil {
		panic("snmp: embedded catalog: " + err.Error())
	}
	return c
}

// LoadCatalog returns the embedded defaults extended by the operator's
// *.yaml and *.yml files in dir (none when dir is ""), read in name
// order. The operator's class rules, sysDescr vendors and profiles are
// tried before the defaults; a profile with the name of a default one
// replaces it; a vendor entry replaces the default for its number.
// A file with an unknown key, a bad pattern, OID or class fails with an
// EINVALID error naming the file and the field.
func LoadCatalog(dir string) (*Catalog, error) {
	defaults, err := readFiles(defaultFiles, "defaults", "embedded:")
	if err != nil {
		return nil, err
	}
	var operator []namedFile
	if dir != "" {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, cmdb.Invalid("profiles", "profile directory %s: %v", dir, errors.Unwrap(err))
		} else if !st.IsDir() {
			return nil, cmdb.Invalid("profiles", "%s is not a directory", dir)
		}
		if operator, err = readFiles(os.DirFS(dir), ".", dir+string(filepath.Separator)); err != nil {
			return nil, err
		}
	}
	c := &Catalog{byEnterprise: map[int]Vendor{}}
	seen := map[string]string{} // profile name → file
	for _, f := range slices.Concat(operator, defaults) {
		for _, v := range f.Vendors {
			if _, dup := c.byEnterprise[v.Enterprise]; !dup {
				c.byEnterprise[v.Enterprise] = v
			}
		}
		c.DescrVendors = append(c.DescrVendors, f.DescrVendors...)
		c.ClassRules = append(c.ClassRules, f.ClassRules...)
		for _, p := range f.Profiles {
			if prev, dup := seen[p.Name]; dup {
				if isOperator(prev) && !isOperator(f.name) {
					continue // the operator's profile replaces the default
				}
				return nil, cmdb.Invalid("profiles", "%s: profile %q is defined again (first in %s)", f.name, p.Name, prev)
			}
			seen[p.Name] = f.name
			c.Profiles = append(c.Profiles, p)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(c.byEnterprise)) {
		c.Vendors = append(c.Vendors, c.byEnterprise[n])
	}
	// Fallback profiles go last, keeping their order.
	sort.SliceStable(c.Profiles, func(i, j int) bool { return !c.Profiles[i].fallback() && c.Profiles[j].fallback() })
	if len(c.Profiles) == 0 || !c.Profiles[len(c.Profiles)-1].fallback() {
		return nil, cmdb.Invalid("profiles", "no fallback profile (one without match) is defined")
	}
	return c, nil
}

func isOperator(file string) bool { return !strings.HasPrefix(file, "embedded:") }

type namedFile struct {
	name string
	catalogFile
}

// readFiles reads and checks every *.yaml and *.yml file of dir in fsys.
func readFiles(fsys fs.FS, dir, label string) ([]namedFile, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, cmdb.Invalid("profiles", "profile directory %s: %v", strings.TrimSuffix(label, "/"), err)
	}
	var files []namedFile
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if e.IsDir() || ext != ".yaml" && ext != ".yml" {
			continue
		}
		name := label + e.Name()
		data, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, cmdb.Invalid("profiles", "%s: %v", name, err)
		}
		f, err := parseCatalogFile(name, data)
		if err != nil {
			return nil, err
		}
		files = append(files, namedFile{name: name, catalogFile: *f})
	}
	return files, nil
}

var unknownFieldRE = regexp.MustCompile(`line (\d+): field (\S+) not found in type \S+`)

// parseCatalogFile decodes and checks one catalog YAML file; name is used
// in errors only. Unknown keys are errors, so that a typo does not
// silently turn a setting off.
func parseCatalogFile(name string, data []byte) (*catalogFile, error) {
	var f catalogFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			msgs := make([]string, len(te.Errors))
			for i, m := range te.Errors {
				msgs[i] = unknownFieldRE.ReplaceAllString(m, `line $1: unknown key "$2"`)
			}
			return nil, cmdb.Invalid("profiles", "%s: %s", name, strings.Join(msgs, "; "))
		}
		return nil, cmdb.Invalid("profiles", "%s: %v", name, err)
	}
	if err := f.check(name); err != nil {
		return nil, err
	}
	return &f, nil
}

func (f *catalogFile) check(name string) error {
	bad := func(field, format string, args ...any) error {
		return cmdb.Invalid(field, "%s: %s", name, fmt.Sprintf(format, args...))
	}
	for i := range f.Vendors {
		v := &f.Vendors[i]
		field := "vendors[" + strconv.Itoa(i) + "]"
		if v.Enterprise <= 0 {
			return bad(field+".enterprise", "must be a positive enterprise number")
		}
		if v.Vendor == "" && !v.Generic {
			return bad(field+".vendor", "is required unless generic is true")
		}
		if v.Source != "" && v.Source != "iana" && v.Source != "unverified" {
			return bad(field+".source", "must be iana or unverified")
		}
	}
	for i := range f.DescrVendors {
		d := &f.DescrVendors[i]
		field := "descr_vendors[" + strconv.Itoa(i) + "]"
		if d.Vendor == "" {
			return bad(field+".vendor", "is required")
		}
		re, err := compile(d.Pattern)
		if err != nil {
			return bad(field+".pattern", "%v", err)
		}
		d.re = re
	}
	for i := range f.ClassRules {
		r := &f.ClassRules[i]
		field := "class_rules[" + strconv.Itoa(i) + "]"
		if !slices.Contains(cmdb.Classes, r.Class) {
			return bad(field+".class", "must be one of %s", strings.Join(cmdb.Classes, ", "))
		}
		for j, t := range r.Text {
			re, err := compile(t)
			if err != nil {
				return bad(field+".text["+strconv.Itoa(j)+"]", "%v", err)
			}
			r.res = append(r.res, re)
		}
		for j, o := range r.OIDs {
			oid, err := resolveOID(o)
			if err != nil {
				return bad(field+".oids["+strconv.Itoa(j)+"]", "%v", err)
			}
			r.oids = append(r.oids, oid)
		}
		if r.MinEthernetPorts < 0 {
			return bad(field+".min_ethernet_ports", "must not be negative")
		}
	}
	names := map[string]bool{}
	for i := range f.Profiles {
		p := &f.Profiles[i]
		field := "profiles[" + strconv.Itoa(i) + "]"
		if p.Name == "" {
			return bad(field+".name", "is required")
		} else if names[p.Name] {
			return bad(field+".name", "profile %q is defined twice", p.Name)
		}
		names[p.Name] = true
		for j, n := range p.Match.Enterprises {
			if n <= 0 {
				return bad(field+".match.enterprises["+strconv.Itoa(j)+"]", "must be a positive enterprise number")
			}
		}
		for j, o := range p.Match.SysObjectID {
			oid, err := resolveOID(o)
			if err != nil {
				return bad(field+".match.sys_object_id["+strconv.Itoa(j)+"]", "%v", err)
			}
			p.Match.SysObjectID[j] = oid
		}
		for j, t := range p.Match.SysDescr {
			re, err := compile(t)
			if err != nil {
				return bad(field+".match.sys_descr["+strconv.Itoa(j)+"]", "%v", err)
			}
			p.res = append(p.res, re)
		}
		for j, o := range p.Get {
			oid, err := resolveOID(o)
			if err != nil {
				return bad(field+".get["+strconv.Itoa(j)+"]", "%v", err)
			}
			p.getOIDs = append(p.getOIDs, oid)
		}
		for j, o := range p.Walk {
			oid, err := resolveOID(o)
			if err != nil {
				return bad(field+".walk["+strconv.Itoa(j)+"]", "%v", err)
			}
			p.walkOIDs = append(p.walkOIDs, oid)
		}
	}
	return nil
}

func compile(pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		return nil, errors.New("must not be empty")
	}
	return regexp.Compile(pattern)
}

// resolveOID turns a known name or a numeric OID (with or without a
// leading dot) into a numeric OID without the dot.
func resolveOID(s string) (string, error) {
	if oid, ok := oidNames[s]; ok {
		return oid, nil
	}
	oid := strings.TrimPrefix(s, ".")
	if _, ok := parseArcs(oid); !ok || !strings.Contains(oid, ".") {
		return "", fmt.Errorf("%q is neither a numeric OID nor one of the names %s", s, strings.Join(slices.Sorted(maps.Keys(oidNames)), ", "))
	}
	return oid, nil
}

// Profile returns the profile for a device: the first whose match holds,
// else the first fallback.
func (c *Catalog) Profile(sysObjectID, sysDescr string) *Profile {
	sysObjectID = strings.TrimPrefix(sysObjectID, ".")
	for i := range c.Profiles {
		p := &c.Profiles[i]
		if p.fallback() || p.matches(sysObjectID, sysDescr) {
			return p
		}
	}
	return nil // LoadCatalog guarantees a fallback
}

// Vendor returns the vendor of a device: from the enterprise number of
// its sysObjectID unless that number is unknown or generic, else from the
// first sysDescr pattern that matches sysDescr or model; "" if none does.
func (c *Catalog) Vendor(sysObjectID, sysDescr, model string) string {
	if v, ok := c.byEnterprise[enterprise(sysObjectID)]; ok && !v.Generic {
		return v.Vendor
	}
	for _, d := range c.DescrVendors {
		if d.re.MatchString(sysDescr) || model != "" && d.re.MatchString(model) {
			return d.Vendor
		}
	}
	return ""
}
