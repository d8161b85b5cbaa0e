// Package junk judges serial numbers that identify nothing — "N/A",
// "To Be Filled By O.E.M.", "0000000000", "k.A." — for both sides of the
// connector contract: the server, which drops them before it identifies
// a device, and connectors, which must not key a record by one. It
// imports only the standard library, so that the server's domain package
// and every connector can use it.
package junk

import (
	"strings"
	"unicode"
)

// Serials are the built-in placeholders that sources put where a serial
// belongs, as reported. The server keeps its list as data (the table
// junk_identifiers, seeded with these, that operators extend); a test in
// server/postgres keeps the seed and this list the same.
var Serials = []string{
	"0", "N/A", "NA", "None", "NULL", "Unknown", "Default", "Default string",
	"To Be Filled By O.E.M.", "System Serial Number", "Not Specified", "Not Available",
	"123456789", "1234567890", "0123456789", "Chassis Serial Number", "Invalid", "SerialNumber",
	"System Serial#", "OEM", "O.E.M.", "Type1ProductConfigId", "Base Board Serial Number", "empty", "none",
	"unbekannt", "k.A.", "keine", "kein", "ohne", "-", "--", "?", "n/a",
	"nicht vorhanden", "nicht bekannt", "nicht lesbar", "fehlt", "leer", "siehe oben", "diverse",
	"ohne Nummer", "keine Angabe", "keine Seriennummer", "unknown serial", "TBD", "xxx",
}

// Normalize trims a serial number, drops inner spaces and folds it to
// upper case, so that " cnd 1234x " and "CND1234X" match.
func Normalize(s string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s))
}

// Key folds a serial to its letters and digits in upper case: the form in
// which list entries match ("N/A" = "NA", "k. A." = "KA").
func Key(s string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s))
}

// Placeholder reports whether a normalised serial is junk by its form
// alone: shorter than 3 characters, without any letter or digit ("???",
// "---"), or one repeated character ("0000000000", "XXXX").
func Placeholder(norm string) bool {
	if len(norm) < 3 || Key(norm) == "" {
		return true
	}
	return strings.Trim(norm, norm[:1]) == ""
}

var builtin = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range Serials {
		m[Normalize(s)] = true
		if k := Key(s); k != "" {
			m[k] = true
		}
	}
	return m
}()

// Serial reports whether a serial, as reported, identifies nothing by the
// built-in list and Placeholder. (The server also consults its own list.)
func Serial(s string) bool {
	n := Normalize(s)
	return Placeholder(n) || builtin[n] || builtin[Key(n)]
}
