package connector

import (
	"fmt"
	"strings"
)

// NormalizeMAC reads a MAC address in any common notation (aa:bb:…,
// AA-BB-…, aabb.ccdd.eeff, AABBCCDDEEFF) and returns it as
// aa:bb:cc:dd:ee:ff, the notation of Identifiers.MACs. The all-zero
// address, which sources send for "none", is not one.
func NormalizeMAC(v string) (string, bool) {
	var hex []byte
	for _, c := range strings.TrimSpace(v) {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			hex = append(hex, byte(c))
		case c >= 'A' && c <= 'F':
			hex = append(hex, byte(c-'A'+'a'))
		case c == ':' || c == '-' || c == '.':
		default:
			return "", false
		}
	}
	if len(hex) != 12 || string(hex) == "000000000000" {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < 12; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.Write(hex[i : i+2])
	}
	return b.String(), true
}

// AddMAC adds the source field's MAC address to the record's identifiers
// (once), or names the field as a problem when it holds none. An empty
// value adds nothing.
func (r *Record) AddMAC(field, v string) {
	v = strings.Join(strings.Fields(v), " ")
	if v == "" {
		return
	}
	mac, ok := NormalizeMAC(v)
	if !ok {
		r.Problems = append(r.Problems, Problem{Field: field, Rule: "mac", Message: fmt.Sprintf("%q ist keine MAC-Adresse.", v)})
		return
	}
	for _, have := range r.Identifiers.MACs {
		if have == mac {
			return
		}
	}
	r.Identifiers.MACs = append(r.Identifiers.MACs, mac)
}
