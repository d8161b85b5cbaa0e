package sim

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		line  string
		oid   string
		tag   byte
		value string // hex of the BER content octets
		vary  varyKind
	}{
		{"1.3.6.1.2.1.1.1.0|4|Canon iR-ADV C5535 /P", "1.3.6.1.2.1.1.1.0", tagOctetString, hex.EncodeToString([]byte("Canon iR-ADV C5535 /P")), varyNone},
		{"1.3.6.1.2.1.1.1.0|4|a|b|c", "1.3.6.1.2.1.1.1.0", tagOctetString, hex.EncodeToString([]byte("a|b|c")), varyNone},
		{"1.3.6.1.2.1.1.6.0|4|", "1.3.6.1.2.1.1.6.0", tagOctetString, "", varyNone},
		{".1.3.6.1.2.1.1.6.0|4|leading dot", "1.3.6.1.2.1.1.6.0", tagOctetString, hex.EncodeToString([]byte("leading dot")), varyNone},
		{"1.3.6.1.2.1.2.2.1.6.2|4x|001e8faabbcc", "1.3.6.1.2.1.2.2.1.6.2", tagOctetString, "001e8faabbcc", varyMAC},
		{"1.3.6.1.2.1.2.2.1.6.2|4x|001E8FAABBCC", "1.3.6.1.2.1.2.2.1.6.2", tagOctetString, "001e8faabbcc", varyMAC},
		{"1.3.6.1.2.1.2.2.1.6.1|4|", "1.3.6.1.2.1.2.2.1.6.1", tagOctetString, "", varyNone},
		{"1.3.6.1.2.1.2.2.1.6.3|4x|0011", "1.3.6.1.2.1.2.2.1.6.3", tagOctetString, "0011", varyNone},
		{"1.3.6.1.2.1.1.5.0|4e|a\\tb\\x41\\n\\\\\\'\\\"", "1.3.6.1.2.1.1.5.0", tagOctetString, hex.EncodeToString([]byte("a\tbA\n\\'\"")), varySuffix},
		{"1.3.6.1.2.1.43.5.1.1.17.1|4|XLF01234", "1.3.6.1.2.1.43.5.1.1.17.1", tagOctetString, hex.EncodeToString([]byte("XLF01234")), varySuffix},
		{"1.3.6.1.2.1.47.1.1.1.1.11.1|4|SN1", "1.3.6.1.2.1.47.1.1.1.1.11.1", tagOctetString, hex.EncodeToString([]byte("SN1")), varySuffix},
		{"1.3.6.1.2.1.43.5.1.1.17.1|4|", "1.3.6.1.2.1.43.5.1.1.17.1", tagOctetString, "", varyNone},
		{"1.3.6.1.2.1.43.11.1.1.9.1.1|2|-3", "1.3.6.1.2.1.43.11.1.1.9.1.1", tagInteger, "fd", varyNone},
		{"1.3.6.1.2.1.1.7.0|2|0", "1.3.6.1.2.1.1.7.0", tagInteger, "00", varyNone},
		{"1.3.6.1.2.1.1.7.0|2|127", "1.3.6.1.2.1.1.7.0", tagInteger, "7f", varyNone},
		{"1.3.6.1.2.1.1.7.0|2|128", "1.3.6.1.2.1.1.7.0", tagInteger, "0080", varyNone},
		{"1.3.6.1.2.1.1.7.0|2|-128", "1.3.6.1.2.1.1.7.0", tagInteger, "80", varyNone},
		{"1.3.6.1.2.1.1.7.0|2|-129", "1.3.6.1.2.1.1.7.0", tagInteger, "ff7f", varyNone},
		{"1.3.6.1.2.1.1.7.0|2|60000", "1.3.6.1.2.1.1.7.0", tagInteger, "00ea60", varyNone},
		{"1.3.6.1.2.1.1.7.0|2|2147483647", "1.3.6.1.2.1.1.7.0", tagInteger, "7fffffff", varyNone},
		{"1.3.6.1.2.1.1.7.0|2|-2147483648", "1.3.6.1.2.1.1.7.0", tagInteger, "80000000", varyNone},
		{"1.3.6.1.2.1.1.9.0|5|", "1.3.6.1.2.1.1.9.0", tagNull, "", varyNone},
		{"1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.1602.4.7", "1.3.6.1.2.1.1.2.0", tagOID, "2b060104018c420407", varyNone},
		{"1.3.6.1.2.1.1.2.0|6|0.0", "1.3.6.1.2.1.1.2.0", tagOID, "00", varyNone},
		{"1.3.6.1.2.1.1.2.0|6|2.999.3", "1.3.6.1.2.1.1.2.0", tagOID, "883703", varyNone},
		{"1.3.6.1.2.1.4.20.1.1.10.0.0.1|64|10.0.0.1", "1.3.6.1.2.1.4.20.1.1.10.0.0.1", tagIPAddress, "0a000001", varyNone},
		{"1.3.6.1.2.1.4.22.1.3.2.192.21.54.7|64x|c3dafe61", "1.3.6.1.2.1.4.22.1.3.2.192.21.54.7", tagIPAddress, "c3dafe61", varyNone},
		{"1.3.6.1.2.1.43.10.2.1.4.1.1|65|801234", "1.3.6.1.2.1.43.10.2.1.4.1.1", tagCounter32, "0c39d2", varyNone},
		{"1.3.6.1.2.1.2.2.1.10.1|65|4294967295", "1.3.6.1.2.1.2.2.1.10.1", tagCounter32, "00ffffffff", varyNone},
		{"1.3.6.1.2.1.2.2.1.5.1|66|128", "1.3.6.1.2.1.2.2.1.5.1", tagGauge32, "0080", varyNone},
		{"1.3.6.1.2.1.1.3.0|67|88000000", "1.3.6.1.2.1.1.3.0", tagTimeTicks, "053ec600", varyNone},
		{"1.3.6.1.2.1.1.3.0|67|0", "1.3.6.1.2.1.1.3.0", tagTimeTicks, "00", varyNone},
		{"1.3.6.1.2.1.99.1.0|68x|9f780441200000", "1.3.6.1.2.1.99.1.0", tagOpaque, "9f780441200000", varyNone},
		{"1.3.6.1.2.1.99.1.0|68|raw", "1.3.6.1.2.1.99.1.0", tagOpaque, hex.EncodeToString([]byte("raw")), varyNone},
		{"1.3.6.1.2.1.31.1.1.1.6.1|70|18446744073709551615", "1.3.6.1.2.1.31.1.1.1.6.1", tagCounter64, "00ffffffffffffffff", varyNone},
		{"1.3.6.1.2.1.31.1.1.1.6.1|70|1", "1.3.6.1.2.1.31.1.1.1.6.1", tagCounter64, "01", varyNone},
		{"1.3.6.1.2.1.99.3.0|128|", "1.3.6.1.2.1.99.3.0", tagNoSuchObject, "", varyNone},
		{"1.3.6.1.2.1.99.4.0|129|", "1.3.6.1.2.1.99.4.0", tagNoSuchInstance, "", varyNone},
		{"1.3.6.1.2.1.99.5.0|130|", "1.3.6.1.2.1.99.5.0", tagEndOfMibView, "", varyNone},
		{"1.3.6.1.4.1.4294967295.1|2|1", "1.3.6.1.4.1.4294967295.1", tagInteger, "01", varyNone},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			rec, err := parseLine(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if got := formatOID(rec.oid); got != tt.oid {
				t.Errorf("oid %s, want %s", got, tt.oid)
			}
			if rec.tag != tt.tag || hex.EncodeToString(rec.value) != tt.value || rec.vary != tt.vary {
				t.Errorf("tag %#x value %x vary %d, want %#x %s %d", rec.tag, rec.value, rec.vary, tt.tag, tt.value, tt.vary)
			}
			// The pre-encoded varbind decodes back to the same OID and value.
			tag, vb, rest, ok := readTLV(rec.vb)
			if !ok || tag != tagSequence || len(rest) != 0 {
				t.Fatalf("varbind %x is not one SEQUENCE", rec.vb)
			}
			tag, name, val, ok := readTLV(vb)
			if !ok || tag != tagOID {
				t.Fatalf("varbind %x has no name", rec.vb)
			}
			oid, ok := decodeOID(nil, name)
			if !ok || compareOID(oid, rec.oid) != 0 {
				t.Errorf("name decodes to %v, want %v", oid, rec.oid)
			}
			tag, content, rest, ok := readTLV(val)
			if !ok || tag != tt.tag || hex.EncodeToString(content) != tt.value || len(rest) != 0 {
				t.Errorf("value TLV %x", val)
			}
			if !bytes.Equal(rec.name(), rec.vb[len(rec.vb)-len(vb):len(rec.vb)-len(val)]) {
				t.Errorf("name() %x", rec.name())
			}
		})
	}
}

func TestParseLineMalformed(t *testing.T) {
	tests := []struct{ line, want string }{
		{"1.3.6.1.2.1.1.1.0|4", "want OID|TYPE|VALUE"},
		{"1.3.6.1.2.1.1.1.0", "want OID|TYPE|VALUE"},
		{"|4|x", "OID"},
		{"1.3.6.x.1|4|x", "bad sub-identifier"},
		{"1.3..6|4|x", "bad sub-identifier"},
		{"1.3.6.|4|x", "bad sub-identifier"},
		{"1|4|x", "at least two"},
		{"3.1|4|x", "first sub-identifier"},
		{"1.40|4|x", "second sub-identifier"},
		{"1.3.6.1.4294967296|4|x", "bad sub-identifier"},
		{"1.3.-6|4|x", "bad sub-identifier"},
		{"1.3." + strings.Repeat("1.", 130) + "1|4|x", "longer than 128"},
		{"1.3.6|3|x", "unknown type"},
		{"1.3.6|69|x", "unknown type"},
		{"1.3.6|256|x", "unknown type"},
		{"1.3.6||x", "unknown type"},
		{"1.3.6|four|x", "unknown type"},
		{"1.3.6|2:numeric|rate=3", "variation modules"},
		{"1.3.6|2|abc", "32-bit integer"},
		{"1.3.6|2|2147483648", "32-bit integer"},
		{"1.3.6|2|-2147483649", "32-bit integer"},
		{"1.3.6|2|", "32-bit integer"},
		{"1.3.6|2|1.5", "32-bit integer"},
		{"1.3.6|2x|01", "hex (x) only"},
		{"1.3.6|65|-1", "unsigned 32-bit"},
		{"1.3.6|65|4294967296", "unsigned 32-bit"},
		{"1.3.6|66|+5", "unsigned 32-bit"},
		{"1.3.6|67|", "unsigned 32-bit"},
		{"1.3.6|70|18446744073709551616", "unsigned 64-bit"},
		{"1.3.6|70|-1", "unsigned 64-bit"},
		{"1.3.6|4x|0", "odd number"},
		{"1.3.6|4x|zz", "bad hex"},
		{"1.3.6|4x|00 11", "odd number"},
		{"1.3.6|4e|bad\\q", "unknown escape"},
		{"1.3.6|4e|trailing\\", "trailing backslash"},
		{"1.3.6|4e|\\x4", "short \\x"},
		{"1.3.6|4e|\\xzz", "bad \\x"},
		{"1.3.6|2e|1", "escapes (e) only"},
		{"1.3.6|5|x", "must be empty"},
		{"1.3.6|128|x", "must be empty"},
		{"1.3.6|6|1", "at least two"},
		{"1.3.6|6|", "empty"},
		{"1.3.6|64|10.0.0", "IPv4"},
		{"1.3.6|64|::1", "IPv4"},
		{"1.3.6|64x|0a0000", "4 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			_, err := parseLine(tt.line)
			if err == nil {
				t.Fatal("parsed")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestParseSnmprecSortsAndReports(t *testing.T) {
	const data = "# a comment\n" +
		"1.3.6.1.2.1.10.1|2|10\n" +
		"\n" +
		"  1.3.6.1.2.1.9.1|2|9  \r\n" +
		"1.3.6.1.2.1.9|2|8\n" +
		"1.3.6.1.2.1.9.1|2|99\n" + // repeats line 4
		"1.3.6.1.2.1.100|2|100\n" +
		"garbage\n" +
		"1.3.6.1.2.1.2|2|2"
	recs, bad, err := parseSnmprec(strings.NewReader(data), "dev.snmprec")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, formatOID(r.oid))
	}
	want := []string{"1.3.6.1.2.1.2", "1.3.6.1.2.1.9", "1.3.6.1.2.1.9.1", "1.3.6.1.2.1.10.1", "1.3.6.1.2.1.100"}
	if !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	if v := recs[2].value; len(v) != 1 || v[0] != 9 {
		t.Errorf("the first of two repeated OIDs should win, got %x", v)
	}
	var msgs []string
	for _, e := range bad {
		msgs = append(msgs, e.Error())
		var le *LineError
		if !errors.As(e, &le) || le.File != "dev.snmprec" {
			t.Errorf("%v is not a *LineError of dev.snmprec", e)
		}
	}
	wantBad := []string{"dev.snmprec:6: OID 1.3.6.1.2.1.9.1 repeats line 4", "dev.snmprec:8: want OID|TYPE|VALUE"}
	if !slices.Equal(msgs, wantBad) {
		t.Errorf("errors %q, want %q", msgs, wantBad)
	}
}

func TestLoadDirErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("good.snmprec", "1.3.6.1.2.1.1.1.0|4|fine\n")
	write("bad.snmprec", "1.3.6.1.2.1.1.1.0|4|fine\n1.3.6.1.2.1.1.2.0|2|x\n1.3.6.1.2.1.1.3.0|67|-5\n")
	write("notes.txt", "not data")
	if err := os.Mkdir(filepath.Join(dir, "sub.snmprec"), 0o755); err != nil {
		t.Fatal(err)
	}

	_, err := Start(t.Context(), Options{DataDir: dir})
	if err == nil {
		t.Fatal("started with malformed data")
	}
	bad := filepath.Join(dir, "bad.snmprec")
	for _, want := range []string{bad + ":2: type 2 value \"x\"", bad + ":3: type 67 value \"-5\"", "lenient"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}

	s, err := Start(t.Context(), Options{DataDir: dir, Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Communities(); !slices.Equal(got, []string{"bad", "good"}) {
		t.Errorf("communities %v", got)
	}
	if n := len(s.data["bad"].recs); n != 1 {
		t.Errorf("lenient load kept %d records of bad, want 1", n)
	}

	if _, err := Start(t.Context(), Options{DataDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no *.snmprec files") {
		t.Errorf("empty directory: %v", err)
	}
	if _, err := Start(t.Context(), Options{DataDir: filepath.Join(dir, "missing")}); err == nil {
		t.Error("missing directory: no error")
	}
	if _, err := Start(t.Context(), Options{DataDir: dir, Lenient: true, MaxMessageSize: 100}); err == nil {
		t.Error("max message size 100: no error")
	}
}

func TestLoadDirCapsErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.snmprec"), []byte(strings.Repeat("junk\n", 80)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Start(t.Context(), Options{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "… and 30 more") {
		t.Errorf("error %v", err)
	}
}
