package cmdb

import (
	"strings"
	"testing"
)

func TestShortCodeRoundTripsAndAvoidsLookAlikes(t *testing.T) {
	seen := map[string]int64{}
	ids := []int64{1, 2, 3, 12, 54, 999, 1 << 20, 805306367, 805306368, 805306369, 1 << 40}
	for i := int64(1); i <= 20000; i++ {
		ids = append(ids, i)
	}
	for _, id := range ids {
		c := ShortCode(id)
		if prev, ok := seen[c]; ok && prev != id {
			t.Fatalf("ids %d and %d share the code %s", prev, id, c)
		}
		seen[c] = id
		if len(c) < 6 || strings.ContainsAny(c, "01IOl") || !strings.ContainsRune(codeLetters, rune(c[0])) {
			t.Fatalf("code %q of %d: want ≥ 6 characters, a letter first, no 0/O/1/I/l", c, id)
		}
		got, err := ParseShortCode("code", strings.ToLower(c[:3])+"-"+c[3:])
		if err != nil || got != id {
			t.Fatalf("ParseShortCode(%s) = %d, %v; want %d", c, got, err, id)
		}
	}
	if a, b := ShortCode(1), ShortCode(2); a[:4] == b[:4] {
		t.Errorf("consecutive ids give alike codes %s and %s", a, b)
	}
	if n := len(ShortCode(805306368)); n != 6 {
		t.Errorf("the last six-character id has a code of %d characters", n)
	}
	if n := len(ShortCode(805306369)); n != 7 {
		t.Errorf("past the six-character space a code has %d characters, want 7", n)
	}
}

func TestParseShortCodeNamesTheField(t *testing.T) {
	for _, in := range []string{"", "ABC", "0BCDEF", "ABCDE0", "ABCDEI", "2BCDEF", "ABCDEFGHJKLMN"} {
		_, err := ParseShortCode("code", in)
		if ErrorCode(err) != EINVALID || ErrorField(err) != "code" {
			t.Errorf("ParseShortCode(%q) = %v, want EINVALID on code", in, err)
		}
	}
}
