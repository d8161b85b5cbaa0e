package sim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// BER tags of SNMP values; the snmprec format numbers types by them.
const (
	tagInteger        = 0x02
	tagOctetString    = 0x04
	tagNull           = 0x05
	tagOID            = 0x06
	tagSequence       = 0x30
	tagIPAddress      = 0x40
	tagCounter32      = 0x41
	tagGauge32        = 0x42
	tagTimeTicks      = 0x43
	tagOpaque         = 0x44
	tagCounter64      = 0x46
	tagNoSuchObject   = 0x80
	tagNoSuchInstance = 0x81
	tagEndOfMibView   = 0x82
)

// maxSubIDs is the longest OID SNMP allows (RFC 2578 §7.1.3).
const maxSubIDs = 128

// LineError is a malformed line of a data file.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// varyKind says how a record changes for device N of a NAME@N community.
type varyKind uint8

const (
	varyNone   varyKind = iota
	varySuffix          // OCTET STRING: append "-N"
	varyMAC             // 6-byte OCTET STRING: add N to the last 3 bytes
)

// record is one OID and its value, encoded once at load time.
type record struct {
	oid   []uint32
	tag   byte
	value []byte // BER content octets of the value
	// vb is the whole encoded varbind, SEQUENCE { name, value }; its name
	// TLV is vb[nameOff:valOff] and its value TLV vb[valOff:].
	vb      []byte
	nameOff int
	valOff  int
	vary    varyKind
	line    int
}

// name returns the encoded OID TLV of the record.
func (r *record) name() []byte { return r.vb[r.nameOff:r.valOff] }

// parseSnmprec reads the records of one data file, sorted by OID. file
// names it in errors. Every malformed line, and every repeated OID, gives
// a *LineError in bad; those lines are left out of recs. err is only for
// a failure to read.
func parseSnmprec(r io.Reader, file string) (recs []record, bad []error, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		rec, perr := parseLine(line)
		if perr != nil {
			bad = append(bad, &LineError{File: file, Line: lineNo, Err: perr})
			continue
		}
		rec.line = lineNo
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, bad, fmt.Errorf("%s: line %d: %w", file, lineNo+1, err)
	}
	slices.SortStableFunc(recs, func(a, b record) int { return compareOID(a.oid, b.oid) })
	out := recs[:0]
	for i := range recs {
		if len(out) > 0 && compareOID(out[len(out)-1].oid, recs[i].oid) == 0 {
			bad = append(bad, &LineError{File: file, Line: recs[i].line,
				Err: fmt.Errorf("OID %s repeats line %d", formatOID(recs[i].oid), out[len(out)-1].line)})
			continue
		}
		out = append(out, recs[i])
	}
	slices.SortFunc(bad, func(a, b error) int {
		var x, y *LineError
		errors.As(a, &x)
		errors.As(b, &y)
		return x.Line - y.Line
	})
	return out, bad, nil
}

// parseLine parses one "OID|TYPE|VALUE" line.
func parseLine(line string) (record, error) {
	fields := strings.SplitN(line, "|", 3)
	if len(fields) != 3 {
		return record{}, errors.New("want OID|TYPE|VALUE")
	}
	oid, err := parseOID(fields[0])
	if err != nil {
		return record{}, fmt.Errorf("OID %q: %w", fields[0], err)
	}
	typ := fields[1]
	if strings.Contains(typ, ":") {
		return record{}, fmt.Errorf("type %q: snmpsim variation modules are not supported", typ)
	}
	var enc byte
	if n := len(typ); n > 0 && (typ[n-1] == 'x' || typ[n-1] == 'e') {
		enc, typ = typ[n-1], typ[:n-1]
	}
	num, err := strconv.ParseUint(typ, 10, 8)
	if err != nil || !knownTag(byte(num)) {
		return record{}, fmt.Errorf("unknown type %q", fields[1])
	}
	tag := byte(num)
	value, err := parseValue(tag, enc, fields[2])
	if err != nil {
		return record{}, fmt.Errorf("type %s value %q: %w", fields[1], abbrev(fields[2]), err)
	}
	return newRecord(oid, tag, value), nil
}

func knownTag(t byte) bool {
	switch t {
	case tagInteger, tagOctetString, tagNull, tagOID, tagIPAddress, tagCounter32, tagGauge32,
		tagTimeTicks, tagOpaque, tagCounter64, tagNoSuchObject, tagNoSuchInstance, tagEndOfMibView:
		return true
	}
	return false
}

func abbrev(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// newRecord encodes the varbind of oid and a value's content octets.
func newRecord(oid []uint32, tag byte, value []byte) record {
	name := appendOIDContent(nil, oid)
	content := 1 + lenLen(len(name)) + len(name) + 1 + lenLen(len(value)) + len(value)
	vb := make([]byte, 0, 1+lenLen(content)+content)
	vb = appendHeader(vb, tagSequence, content)
	nameOff := len(vb)
	vb = appendHeader(vb, tagOID, len(name))
	vb = append(vb, name...)
	valOff := len(vb)
	vb = appendHeader(vb, tag, len(value))
	vb = append(vb, value...)
	r := record{oid: oid, tag: tag, value: vb[len(vb)-len(value):], vb: vb, nameOff: nameOff, valOff: valOff}
	r.vary = varyOf(oid, tag, value)
	return r
}

// OIDs whose values identify a device; see the package doc.
var (
	oidPrtGeneralSerialNumber = []uint32{1, 3, 6, 1, 2, 1, 43, 5, 1, 1, 17}
	oidEntPhysicalSerialNum   = []uint32{1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 11}
	oidSysName0               = []uint32{1, 3, 6, 1, 2, 1, 1, 5, 0}
	oidIfPhysAddress          = []uint32{1, 3, 6, 1, 2, 1, 2, 2, 1, 6}
)

func varyOf(oid []uint32, tag byte, value []byte) varyKind {
	if tag != tagOctetString || len(value) == 0 {
		return varyNone
	}
	switch {
	case hasPrefix(oid, oidIfPhysAddress) && len(oid) > len(oidIfPhysAddress):
		if len(value) == 6 {
			return varyMAC
		}
	case hasPrefix(oid, oidPrtGeneralSerialNumber) && len(oid) > len(oidPrtGeneralSerialNumber),
		hasPrefix(oid, oidEntPhysicalSerialNum) && len(oid) > len(oidEntPhysicalSerialNum),
		compareOID(oid, oidSysName0) == 0:
		return varySuffix
	}
	return varyNone
}

// parseOID parses a dotted OID such as 1.3.6.1.2.1.1.1.0 (a leading dot
// is allowed).
func parseOID(s string) ([]uint32, error) {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return nil, errors.New("empty")
	}
	oid := make([]uint32, 0, strings.Count(s, ".")+1)
	for part := range strings.SplitSeq(s, ".") {
		n, err := strconv.ParseUint(part, 10, 32)
		if err != nil || part[0] == '+' {
			return nil, fmt.Errorf("bad sub-identifier %q", part)
		}
		oid = append(oid, uint32(n))
	}
	switch {
	case len(oid) < 2:
		return nil, errors.New("needs at least two sub-identifiers")
	case len(oid) > maxSubIDs:
		return nil, fmt.Errorf("longer than %d sub-identifiers", maxSubIDs)
	case oid[0] > 2:
		return nil, errors.New("first sub-identifier must be 0, 1 or 2")
	case oid[0] < 2 && oid[1] > 39:
		return nil, errors.New("second sub-identifier must be below 40 under 0 and 1")
	case oid[0] == 2 && oid[1] > 0xffffffff-80:
		return nil, errors.New("second sub-identifier too large")
	}
	return oid, nil
}

// parseValue turns the VALUE field into the BER content octets of tag.
// enc is 0, 'x' (hex) or 'e' (backslash escapes).
func parseValue(tag, enc byte, text string) ([]byte, error) {
	switch enc {
	case 'x':
		if tag != tagOctetString && tag != tagOpaque && tag != tagIPAddress {
			return nil, errors.New("hex (x) only for types 4, 64 and 68")
		}
		b, err := parseHex(text)
		if err != nil {
			return nil, err
		}
		if tag == tagIPAddress && len(b) != 4 {
			return nil, errors.New("IpAddress needs 4 bytes")
		}
		return b, nil
	case 'e':
		if tag != tagOctetString && tag != tagOpaque {
			return nil, errors.New("escapes (e) only for types 4 and 68")
		}
		return unescape(text)
	}
	switch tag {
	case tagOctetString, tagOpaque:
		return []byte(text), nil
	case tagNull, tagNoSuchObject, tagNoSuchInstance, tagEndOfMibView:
		if text != "" {
			return nil, errors.New("must be empty")
		}
		return []byte{}, nil
	case tagInteger:
		n, err := strconv.ParseInt(text, 10, 32)
		if err != nil {
			return nil, errors.New("not a 32-bit integer")
		}
		return appendIntContent(nil, n), nil
	case tagCounter32, tagGauge32, tagTimeTicks:
		n, err := strconv.ParseUint(text, 10, 32)
		if err != nil || text[0] == '+' {
			return nil, errors.New("not an unsigned 32-bit number")
		}
		return appendUintContent(nil, n), nil
	case tagCounter64:
		n, err := strconv.ParseUint(text, 10, 64)
		if err != nil || text[0] == '+' {
			return nil, errors.New("not an unsigned 64-bit number")
		}
		return appendUintContent(nil, n), nil
	case tagOID:
		oid, err := parseOID(text)
		if err != nil {
			return nil, err
		}
		return appendOIDContent(nil, oid), nil
	case tagIPAddress:
		a, err := netip.ParseAddr(text)
		if err != nil || !a.Is4() {
			return nil, errors.New("not a dotted IPv4 address")
		}
		b := a.As4()
		return b[:], nil
	}
	return nil, errors.New("unknown type")
}

func parseHex(s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, errors.New("odd number of hex digits")
	}
	b := make([]byte, len(s)/2)
	for i := range b {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("bad hex digit at %d", 2*i)
		}
		b[i] = hi<<4 | lo
	}
	return b, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unescape decodes the Python-style escapes snmpsim writes for type "4e".
func unescape(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i == len(s) {
			return nil, errors.New("trailing backslash")
		}
		switch s[i] {
		case '\\', '\'', '"':
			out = append(out, s[i])
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 'f':
			out = append(out, 12)
		case 'n':
			out = append(out, 10)
		case 'r':
			out = append(out, 13)
		case 't':
			out = append(out, 9)
		case 'v':
			out = append(out, 11)
		case 'x':
			if i+2 >= len(s) {
				return nil, errors.New(`short \x escape`)
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return nil, errors.New(`bad \x escape`)
			}
			out = append(out, hi<<4|lo)
			i += 2
		default:
			return nil, fmt.Errorf(`unknown escape \%c`, s[i])
		}
	}
	return out, nil
}

// compareOID orders OIDs numerically, component by component; a prefix
// sorts first.
func compareOID(a, b []uint32) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}

func hasPrefix(oid, prefix []uint32) bool {
	return len(oid) >= len(prefix) && compareOID(oid[:len(prefix)], prefix) == 0
}

func formatOID(oid []uint32) string {
	var b strings.Builder
	for i, n := range oid {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(uint64(n), 10))
	}
	return b.String()
}
