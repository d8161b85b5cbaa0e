package cmdb

import "testing"

func TestMACFragment(t *testing.T) {
	for _, tt := range []struct {
		q, want string
		ok      bool
	}{
		{"3c:d9:2b", "3cd92b", true},
		{"3c-d9-2b", "3cd92b", true},
		{"3c.d9.2b", "3cd92b", true},
		{"3CD92B", "3cd92b", true},
		{" 3cd9.2b01 ", "3cd92b01", true},
		{"3c d9 2b", "3cd92b", true},
		{"3c:d9:2b:01:02:03", "3cd92b010203", true},
		{"3c", "", false},            // too short to mean a MAC
		{"3c:d", "", false},          // three digits
		{"epson", "", false},         // not hex
		{"3c_d9_2b", "", false},      // not a MAC separator
		{"3cd92b0102030", "", false}, // longer than a MAC
	} {
		got, ok := MACFragment(tt.q)
		if got != tt.want || ok != tt.ok {
			t.Errorf("MACFragment(%q) = %q, %v; want %q, %v", tt.q, got, ok, tt.want, tt.ok)
		}
	}
}
