package cmdb_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

func TestNormalizeMAC(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"00:1A:2B:3C:4D:5E", "00:1a:2b:3c:4d:5e", true},
		{"00-1a-2b-3c-4d-5e", "00:1a:2b:3c:4d:5e", true},
		{"001a.2b3c.4d5e", "00:1a:2b:3c:4d:5e", true},
		{"001A2B3C4D5E", "00:1a:2b:3c:4d:5e", true},
		{" 00:1a:2b:3c:4d:5e ", "00:1a:2b:3c:4d:5e", true},
		{"00:1a:2b:3c:4d", "", false},
		{"00:1a:2b:3c:4d:5e:6f:70", "", false}, // EUI-64 is not a NIC MAC
		{"zz:1a:2b:3c:4d:5e", "", false},
		{"", "", false},
	} {
		got, ok := cmdb.NormalizeMAC(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeMAC(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	for mac, junk := range map[string]bool{"00:00:00:00:00:00": true, "ff:ff:ff:ff:ff:ff": true, "01:00:5e:00:00:01": true, "3c:d9:2b:01:02:03": false} {
		if cmdb.JunkMAC(mac) != junk {
			t.Errorf("JunkMAC(%s) = %v", mac, !junk)
		}
	}
}

func TestNormalizeIdentifiers(t *testing.T) {
	if u, ok := cmdb.NormalizeUUID("{4C4C4544-0042-3510-8052-B4C04F4E3732}"); !ok || u != "4c4c4544-0042-3510-8052-b4c04f4e3732" {
		t.Errorf("uuid = %q %v", u, ok)
	}
	if _, ok := cmdb.NormalizeUUID("4c4c4544"); ok {
		t.Error("short uuid accepted")
	}
	if s := cmdb.NormalizeSerial(" cnd 1234x "); s != "CND1234X" {
		t.Errorf("serial = %q", s)
	}
	if h := cmdb.NormalizeHostname("PC-12.schule.local"); h != "pc-12" {
		t.Errorf("hostname = %q", h)
	}
	for in, want := range map[string]string{"Dell Inc.": "Dell", "DELL": "Dell", "Hewlett-Packard": "HP", "HP Inc.": "HP",
		"LENOVO": "Lenovo", "Seiko Epson Corporation": "Epson", "KYOCERA Document Solutions Inc.": "Kyocera",
		"Acme Schulmöbel GmbH": "Acme Schulmöbel GmbH"} {
		if got := cmdb.NormalizeVendor(in); got != want {
			t.Errorf("NormalizeVendor(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJunk(t *testing.T) {
	j := &cmdb.Junk{Serials: map[string]bool{cmdb.NormalizeSerial("To Be Filled By O.E.M."): true, "SYSTEMSERIALNUMBER": true},
		UUIDs: map[string]bool{"03000200-0400-0500-0006-000700080009": true}}
	for s, junk := range map[string]bool{"To Be Filled By O.E.M.": true, "to be filled by o.e.m.": true, "0000000000": true,
		"": true, "0": true, "XX": true, "System Serial Number": true, "5CD1234XYZ": false, "PF2ABCDE": false} {
		if got := j.JunkSerial(cmdb.NormalizeSerial(s)); got != junk {
			t.Errorf("JunkSerial(%q) = %v", s, got)
		}
	}
	for u, junk := range map[string]bool{"00000000-0000-0000-0000-000000000000": true, "ffffffff-ffff-ffff-ffff-ffffffffffff": true,
		"03000200-0400-0500-0006-000700080009": true, "4c4c4544-0042-3510-8052-b4c04f4e3732": false} {
		if got := j.JunkUUID(u); got != junk {
			t.Errorf("JunkUUID(%q) = %v", u, got)
		}
	}
}

// TestMergePrecedence checks who may overwrite whom.
func TestMergePrecedence(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	p := cmdb.DefaultPolicy()
	tests := []struct {
		name      string
		attr      string
		curSource string
		curAge    time.Duration // how long ago the current source last saw the CI
		locked    bool
		source    string
		want      bool // value replaced
	}{
		{"higher over lower", "model", "snmp", 0, false, "agent", true},
		{"lower under higher", "model", "agent", 0, false, "snmp", false},
		{"lower over stale higher", "model", "agent", 31 * 24 * time.Hour, false, "snmp", true},
		{"same source", "model", "snmp", 0, false, "snmp", true},
		{"connector over agent for location", "room", "agent", 0, false, "connector:x", true},
		{"agent under connector for location", "room", "connector:x", 0, false, "agent", false},
		{"locked against everyone but users", "room", "user:a", 0, true, "connector:x", false},
		{"user over locked", "room", "user:a", 0, true, "user:b", true},
		{"user over anything", "model", "agent", 0, false, "user:b", true},
		{"unlocked user value is taken over", "asset_tag", "user:a", 0, false, "connector:x", true},
		{"snmp owns counters", "counter.pages", "snmp", 0, false, "agent", false},
		{"free hardware attribute", "cpu.model", "agent", 0, false, "connector:x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ci := &cmdb.CI{Attributes: map[string]string{}, Provenance: map[string]cmdb.Provenance{}}
			ci.Set(tt.attr, "1")
			ci.Provenance[tt.attr] = cmdb.Provenance{Source: tt.curSource, At: now.Add(-tt.curAge)}
			changes, locks := p.Merge(ci, cmdb.MergeInput{Source: tt.source, Now: now, Values: []cmdb.AttrValue{{Attr: tt.attr, Value: "2"}},
				Locked:   map[string]bool{tt.attr: tt.locked},
				LastSeen: map[string]time.Time{tt.curSource: now.Add(-tt.curAge)}})
			if got := ci.Get(tt.attr) == "2"; got != tt.want || (len(changes) == 1) != tt.want {
				t.Fatalf("replaced = %v (changes %v), want %v", got, changes, tt.want)
			}
			if user := cmdb.SourceKind(tt.source) == cmdb.SourceUser; user != (len(locks) == 1) {
				t.Fatalf("locks = %v", locks)
			}
		})
	}
}

func TestMergeKeepsUnknownValues(t *testing.T) {
	ci := &cmdb.CI{Model: "X", Provenance: map[string]cmdb.Provenance{"model": {Source: "agent"}}}
	changes, _ := cmdb.DefaultPolicy().Merge(ci, cmdb.MergeInput{Source: "agent", Now: time.Now(), Values: []cmdb.AttrValue{{Attr: "model", Value: ""}}})
	if ci.Model != "X" || len(changes) != 0 {
		t.Fatalf("an empty value cleared the model: %q %v", ci.Model, changes)
	}
}

func TestObservationValidate(t *testing.T) {
	ok := cmdb.Observation{Source: "agent", AuthorityID: 1}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		field string
		o     cmdb.Observation
	}{
		{"source", cmdb.Observation{Source: "mail", AuthorityID: 1}},
		{"source", cmdb.Observation{Source: "connector:", AuthorityID: 1}},
		{"authority_id", cmdb.Observation{Source: "agent"}},
		{"class", cmdb.Observation{Source: "agent", AuthorityID: 1, Class: "toaster"}},
		{"nics[1].mac", cmdb.Observation{Source: "agent", AuthorityID: 1, NICs: []cmdb.NIC{{MAC: "00:11:22:33:44:55"}, {MAC: "x"}}}},
		{"nics[0].kind", cmdb.Observation{Source: "agent", AuthorityID: 1, NICs: []cmdb.NIC{{MAC: "00:11:22:33:44:55", Kind: "wifi6"}}}},
		{"attributes.serial", cmdb.Observation{Source: "agent", AuthorityID: 1, Attributes: map[string]string{"serial": "x"}}},
		{"attributes.purchase_date", cmdb.Observation{Source: "agent", AuthorityID: 1, Attributes: map[string]string{"purchase_date": "2024-13-01"}}},
		{"clear", cmdb.Observation{Source: "agent", AuthorityID: 1, Clear: []string{"model"}}},
		{"hostname", cmdb.Observation{Source: "agent", AuthorityID: 1, Hostname: string([]byte{0xff})}},
	} {
		err := tt.o.Validate()
		if cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != tt.field {
			t.Errorf("%+v: err %v, want EINVALID on %s", tt.o, err, tt.field)
		}
	}
}

func TestSecretRedacts(t *testing.T) {
	s := cmdb.Secret("hunter2")
	js, _ := json.Marshal(struct{ Password cmdb.Secret }{s})
	for _, got := range []string{fmt.Sprint(s), fmt.Sprintf("%+v %#v %s", s, s, s), string(js), s.LogValue().String()} {
		if got == "" || strings.Contains(got, "hunter2") {
			t.Fatalf("secret leaked: %q", got)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Fatal("Reveal")
	}
}
