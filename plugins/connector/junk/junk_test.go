package junk

import "testing"

func TestSerial(t *testing.T) {
	for s, want := range map[string]bool{"N/A": true, "n/a": true, " k. A. ": true, "To be filled by O.E.M.": true,
		"0000000000": true, "??": true, "": true, "unbekannt": true, "5CD1234XYZ": false, "PF2ABCDE": false} {
		if got := Serial(s); got != want {
			t.Errorf("Serial(%q) = %v, want %v", s, got, want)
		}
	}
}
