package cmdb_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// stored is a CI in the index of TestIdentify, as its source last saw it.
type stored struct {
	obs cmdb.Observation
	age time.Duration // since its source last saw it
}

// TestIdentify runs each identify rule, the contradictions that stop a
// weaker rule, several matches and the live-key rule over an index built
// from stored CIs (ids 1, 2, ... in order).
func TestIdentify(t *testing.T) {
	now := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	quiet := 40 * 24 * time.Hour // past every default stale period
	nic := func(macs ...string) []cmdb.NIC {
		var out []cmdb.NIC
		for _, m := range macs {
			out = append(out, cmdb.NIC{MAC: m, Kind: cmdb.NICPhysical})
		}
		return out
	}
	const uuidA, uuidB = "4c4c4544-0042-3510-8052-b4c04f4e3732", "4c4c4544-0042-3510-8052-b4c04f4e3733"
	agent := func(key, serial, uuid, host string, macs ...string) cmdb.Observation {
		return cmdb.Observation{Source: "agent", SourceKey: key, Serial: serial, Vendor: "Dell Inc.", HardwareUUID: uuid,
			Hostname: host, SchoolID: 1, NICs: nic(macs...)}
	}
	conn := func(key, serial string) cmdb.Observation {
		return cmdb.Observation{Source: "connector:schulamt", SourceKey: key, Serial: serial, Vendor: "Epson"}
	}
	tests := []struct {
		name         string
		index        []stored
		obs          cmdb.Observation
		school       int64 // of obs; 1 when 0
		want         int64
		rule         string
		others       []int64
		contradicted []int64
		cloned       bool
	}{
		{name: "nothing known: new", obs: agent("k1", "SER1", "", "pc-1"), rule: cmdb.RuleNew},
		{name: "source key", index: []stored{{obs: agent("k1", "SER1", "", "pc-1")}},
			obs: agent("k1", "SER2", "", "pc-2"), want: 1, rule: cmdb.RuleSourceKey},
		{name: "serial and vendor, folded and aliased", index: []stored{{obs: agent("k1", "ser 1", "", "")}},
			obs: cmdb.Observation{Source: "snmp", Serial: " SER1 ", Vendor: "Dell"}, want: 1, rule: cmdb.RuleSerial},
		{name: "serial of another vendor is another device", index: []stored{{obs: agent("k1", "SER1", "", "")}},
			obs: cmdb.Observation{Source: "snmp", Serial: "SER1", Vendor: "HP"}, rule: cmdb.RuleNew},
		{name: "hardware UUID", index: []stored{{obs: agent("k1", "", uuidA, "")}},
			obs: cmdb.Observation{Source: "snmp", HardwareUUID: uuidA}, want: 1, rule: cmdb.RuleUUID},
		{name: "UUID does not match across a different valid serial", index: []stored{{obs: agent("k1", "SER1", uuidA, "")}},
			obs: cmdb.Observation{Source: "snmp", Serial: "SER2", Vendor: "Dell", HardwareUUID: uuidA}, rule: cmdb.RuleNew, cloned: true},
		{name: "MAC in any notation", index: []stored{{obs: agent("k1", "", "", "", "a4:bb:6d:00:00:01")}},
			obs: cmdb.Observation{Source: "snmp", NICs: []cmdb.NIC{{MAC: "A4BB.6D00.0001"}}}, want: 1, rule: cmdb.RuleMAC},
		{name: "MAC does not match across a different serial", index: []stored{{obs: agent("k1", "SER1", "", "", "a4:bb:6d:00:00:01")}},
			obs: cmdb.Observation{Source: "snmp", Serial: "SER2", NICs: nic("a4:bb:6d:00:00:01")}, rule: cmdb.RuleNew},
		{name: "MAC does not match across a different UUID", index: []stored{{obs: agent("k1", "", uuidA, "", "a4:bb:6d:00:00:01")}},
			obs: cmdb.Observation{Source: "snmp", HardwareUUID: uuidB, NICs: nic("a4:bb:6d:00:00:01")}, rule: cmdb.RuleNew},
		{name: "dock and multicast MACs do not match", index: []stored{{obs: cmdb.Observation{Source: "agent", SourceKey: "k1",
			NICs: []cmdb.NIC{{MAC: "d0:c6:37:aa:bb:cc", Kind: cmdb.NICDock}, {MAC: "01:00:5e:00:00:fb"}}}}},
			obs: cmdb.Observation{Source: "snmp", NICs: nic("d0:c6:37:aa:bb:cc", "01:00:5e:00:00:fb")}, rule: cmdb.RuleNew},
		{name: "hostname within the school", index: []stored{{obs: agent("k1", "", "", "PC-1.schule.local")}},
			obs: cmdb.Observation{Source: "snmp", Hostname: "pc-1"}, want: 1, rule: cmdb.RuleHostname},
		{name: "hostname never across schools", index: []stored{{obs: agent("k1", "", "", "pc-1")}},
			obs: cmdb.Observation{Source: "snmp", Hostname: "pc-1"}, school: 2, rule: cmdb.RuleNew},
		{name: "a stronger rule wins over a weaker one", index: []stored{{obs: agent("k1", "", "", "pc-1")}, {obs: agent("k2", "SER1", "", "")}},
			obs: cmdb.Observation{Source: "snmp", Serial: "SER1", Vendor: "Dell", Hostname: "pc-1"}, want: 2, rule: cmdb.RuleSerial},
		{name: "junk serials do not match", index: []stored{{obs: agent("k1", "To Be Filled By O.E.M.", "", "")}},
			obs: cmdb.Observation{Source: "snmp", Serial: "To Be Filled By O.E.M.", Vendor: "Dell"}, rule: cmdb.RuleNew},
		{name: "several matches: best (most shared identifiers) with the others as candidates",
			index: []stored{{obs: agent("k1", "", "", "", "a4:bb:6d:00:00:01")}, {obs: agent("k2", "", "", "", "a4:bb:6d:00:00:01", "a4:bb:6d:00:00:02")}},
			obs:   cmdb.Observation{Source: "snmp", NICs: nic("a4:bb:6d:00:00:01", "a4:bb:6d:00:00:02")}, want: 2, rule: cmdb.RuleMAC, others: []int64{1}},
		{name: "several matches, equal: the oldest, others as candidates",
			index: []stored{{obs: agent("k1", "SER1", "", "")}, {obs: agent("k2", "SER1", "", "")}},
			obs:   cmdb.Observation{Source: "snmp", Serial: "SER1"}, want: 1, rule: cmdb.RuleSerial, others: []int64{2}},
		{name: "live key: a connector's second live key with the same serial is a new CI",
			index: []stored{{obs: conn("INV-1", "X7K2M9Q4")}},
			obs:   conn("INV-2", "X7K2M9Q4"), rule: cmdb.RuleNew, contradicted: []int64{1}},
		{name: "live key: a connector's key gone quiet lets the new key merge",
			index: []stored{{obs: conn("INV-1", "X7K2M9Q4"), age: quiet}},
			obs:   conn("INV-2", "X7K2M9Q4"), want: 1, rule: cmdb.RuleSerial},
		{name: "live key: another source's key is no contradiction",
			index: []stored{{obs: conn("INV-1", "X7K2M9Q4")}},
			obs:   cmdb.Observation{Source: "connector:medien", SourceKey: "M-1", Serial: "X7K2M9Q4", Vendor: "Epson"}, want: 1, rule: cmdb.RuleSerial},
		{name: "live key: a second live agent with a MAC is a new CI",
			index: []stored{{obs: agent("k1", "", "", "nb-a", "d0:c6:37:aa:bb:cc")}},
			obs:   agent("k2", "", "", "nb-b", "d0:c6:37:aa:bb:cc"), rule: cmdb.RuleNew, contradicted: []int64{1}},
		{name: "live key: a quiet agent's MAC still matches (reinstall)",
			index: []stored{{obs: agent("k1", "", "", "nb-a", "d0:c6:37:aa:bb:cc"), age: quiet}},
			obs:   agent("k2", "", "", "nb-a", "d0:c6:37:aa:bb:cc"), want: 1, rule: cmdb.RuleMAC},
		{name: "live key: an agent's firmware serial matches while the old key is live (reinstall, dual boot)",
			index: []stored{{obs: agent("k1", "SER1", uuidA, "")}},
			obs:   agent("k2", "SER1", uuidA, ""), want: 1, rule: cmdb.RuleSerial},
		{name: "live key: an agent's serial on another board (other UUID) is a new CI",
			index: []stored{{obs: agent("k1", "SER1", uuidA, "")}},
			obs:   agent("k2", "SER1", uuidB, ""), rule: cmdb.RuleNew, contradicted: []int64{1}},
		{name: "live key: the contradicted CI is a candidate beside the match of a weaker rule",
			index: []stored{{obs: conn("INV-1", "X7K2M9Q4")}, {obs: cmdb.Observation{Source: "snmp", NICs: nic("a4:bb:6d:00:00:09")}}},
			obs: cmdb.Observation{Source: "connector:schulamt", SourceKey: "INV-2", Serial: "X7K2M9Q4", Vendor: "Epson",
				NICs: nic("a4:bb:6d:00:00:09")}, want: 2, rule: cmdb.RuleMAC, contradicted: []int64{1}},
	}
	junk := &cmdb.Junk{}
	junk.AddSerial("To Be Filled By O.E.M.")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := cmdb.NewIdentityIndex(junk)
			ix.Now, ix.StaleAfter = now, cmdb.DefaultPolicy().StaleAfter
			for i, s := range tt.index {
				id := int64(i + 1)
				ix.CIs[id] = &cmdb.CI{ID: id, Vendor: cmdb.NormalizeVendor(s.obs.Vendor), Serial: s.obs.Serial, HardwareUUID: s.obs.HardwareUUID}
				ident := junk.Identity(&s.obs, s.obs.SchoolID)
				for _, x := range ident.Identifiers(s.obs.Source) {
					ix.Add(id, x)
				}
				ix.Seen(id, s.obs.Source, now.Add(-s.age))
			}
			school := tt.school
			if school == 0 {
				school = 1
			}
			id := junk.Identity(&tt.obs, school)
			m := ix.Identify(&id)
			var contra []int64
			for _, c := range m.Contradicted {
				contra = append(contra, c.CIID)
			}
			if m.CIID != tt.want || m.Rule != tt.rule || fmt.Sprint(m.Others) != fmt.Sprint(tt.others) ||
				fmt.Sprint(contra) != fmt.Sprint(tt.contradicted) || (m.ClonedUUID != "") != tt.cloned {
				t.Errorf("Identify = CI %d by %s, others %v, contradicted %v, cloned %q; want CI %d by %s, others %v, contradicted %v, cloned %v",
					m.CIID, m.Rule, m.Others, contra, m.ClonedUUID, tt.want, tt.rule, tt.others, tt.contradicted, tt.cloned)
			}
		})
	}
}

// TestJunkPlaceholders: German and other placeholders are junk in any
// spelling once on the list; real serials are not.
func TestJunkPlaceholders(t *testing.T) {
	j := &cmdb.Junk{}
	for _, v := range []string{"unbekannt", "k.A.", "keine", "ohne", "-", "n/a", "nicht vorhanden"} {
		j.AddSerial(v)
	}
	for s, junk := range map[string]bool{"unbekannt": true, "UNBEKANNT": true, "k.A.": true, "K.A.": true, "k. A.": true,
		"KA": true, "keine": true, "Ohne": true, "-": true, "---": true, "?": true, "???": true, "N/A": true, "n.a.": true,
		"nicht vorhanden": true, "Nicht-Vorhanden": true, "X7K2M9Q4": false, "KA-4711": false, "unbekannt2": false} {
		if got := j.JunkSerial(cmdb.NormalizeSerial(s)); got != junk {
			t.Errorf("JunkSerial(%q) = %v, want %v", s, got, junk)
		}
	}
}

// TestMergeCI: folding a duplicate into the survivor follows precedence.
func TestMergeCI(t *testing.T) {
	now := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	fresh, stale := now.Add(-time.Hour), now.Add(-60*24*time.Hour)
	prov := func(src string, at time.Time) cmdb.Provenance { return cmdb.Provenance{Source: src, At: at} }
	keep := &cmdb.CI{ID: 1, SchoolID: 1, RoomID: 10, Model: "snmp model", AssetTag: "INV-KEEP", Owner: "Hausmeister",
		OSName: "old os", Attributes: map[string]string{},
		Provenance: map[string]cmdb.Provenance{"model": prov("snmp", fresh), "asset_tag": prov("connector:x", fresh),
			"owner": prov("user:alice", fresh), "os_name": prov("agent", stale)}}
	rm := &cmdb.CI{ID: 2, SchoolID: 2, RoomID: 20, Model: "agent model", AssetTag: "INV-RM", Owner: "Sekretariat",
		OSName: "Windows 11", Hostname: "pc-1", Attributes: map[string]string{"cpu.model": "i5"},
		Provenance: map[string]cmdb.Provenance{"model": prov("agent", fresh), "asset_tag": prov("connector:x", fresh),
			"owner": prov("connector:x", fresh), "os_name": prov("snmp", fresh), "hostname": prov("agent", fresh),
			"cpu.model": prov("agent", fresh), "school": prov("agent", fresh), "room": prov("agent", fresh)}}
	changes := cmdb.DefaultPolicy().MergeCI(keep, rm, cmdb.MergeInput{Now: now, Locked: map[string]bool{"owner": true}})
	for attr, want := range map[string]string{
		"model":     "agent model", // agent outranks snmp
		"asset_tag": "INV-KEEP",    // equal rank: the survivor's
		"owner":     "Hausmeister", // locked on keep
		"os_name":   "Windows 11",  // keep's agent went stale, rm's source is fresh
		"hostname":  "pc-1",        // keep had none
		"cpu.model": "i5",
		"school":    "1", // agent does not rank for location: keep's school stays
		"room":      "10",
	} {
		if got := keep.Get(attr); got != want {
			t.Errorf("%s = %q, want %q", attr, got, want)
		}
	}
	if p := keep.Provenance["model"]; p.Source != "agent" {
		t.Errorf("provenance of model = %+v", p)
	}
	if len(changes) != 4 {
		t.Errorf("changes = %+v, want model, hostname, os_name, cpu.model", changes)
	}
}

// TestMergeCIRoomFollowsSchool: when the survivor takes the duplicate's
// school, it takes its room too; otherwise a room of another school never
// comes over.
func TestMergeCIRoomFollowsSchool(t *testing.T) {
	now := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	p := cmdb.Provenance{Source: "connector:x", At: now}
	for _, tt := range []struct {
		name             string
		keepProv         map[string]cmdb.Provenance
		wantSchool, room string
	}{
		{"keep's school is the poller's: the connector's school and room win", map[string]cmdb.Provenance{
			"school": {Source: "snmp", At: now}, "room": {Source: "snmp", At: now}}, "2", "20"},
		{"keep's school is the connector's too: keep's school and room stay", map[string]cmdb.Provenance{"school": p, "room": p}, "1", "10"},
	} {
		keep := &cmdb.CI{ID: 1, SchoolID: 1, RoomID: 10, Attributes: map[string]string{}, Provenance: tt.keepProv}
		rm := &cmdb.CI{ID: 2, SchoolID: 2, RoomID: 20, Attributes: map[string]string{}, Provenance: map[string]cmdb.Provenance{"school": p, "room": p}}
		cmdb.DefaultPolicy().MergeCI(keep, rm, cmdb.MergeInput{Now: now})
		if keep.Get("school") != tt.wantSchool || keep.Get("room") != tt.room {
			t.Errorf("%s: school %s room %s, want %s %s", tt.name, keep.Get("school"), keep.Get("room"), tt.wantSchool, tt.room)
		}
	}
}
