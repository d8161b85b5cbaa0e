package postgres_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

func TestMergeCIs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	tn := MustCreateTenant(t, db, "MG")
	res := reconcile(t, db,
		cmdb.Observation{Source: "connector:x", SourceKey: "1", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID, Class: "desktop",
			Serial: "CZC1234567", Vendor: "HP", Hostname: "SEK-PC"},
		cmdb.Observation{Source: "connector:x", SourceKey: "2", AuthorityID: tn.Authority.ID, RoomID: tn.Room.ID, Class: "desktop",
			Serial: "CZC123456O", Vendor: "HP", Hostname: "SEK-PC", NICs: []cmdb.NIC{{MAC: "00:11:22:33:44:55"}},
			Attributes: map[string]string{"model": "EliteDesk 800"}},
		cmdb.Observation{Source: "connector:x", SourceKey: "3", AuthorityID: tn.Authority.ID, Class: "switch", Serial: "SW1", Vendor: "Cisco"},
		cmdb.Observation{Source: "agent", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID, Hostname: "sek-pc"},
	)
	keep, rm, sw := res.Items[0].CIID, res.Items[1].CIID, res.Items[2].CIID
	if d := res.Items[3].Duplicates; len(d) != 1 || d[0] != rm {
		t.Fatalf("duplicates of the ambiguous observation = %v, want [%d]", d, rm)
	}
	must(t, db.CreateRelation(ctx, admin, &cmdb.Relation{FromID: rm, ToID: sw, Kind: cmdb.RelConnectedTo}))
	must(t, db.CreateRelation(ctx, admin, &cmdb.Relation{FromID: keep, ToID: rm, Kind: cmdb.RelPartOf}))
	// Installed software, as the agent door writes it: rows and a set per CI.
	for _, q := range []string{
		`INSERT INTO software (id, name, publisher, version) VALUES (901, 'a', '', '1'), (902, 'b', '', '1'), (903, 'c', '', '1')`,
		`INSERT INTO ci_software (ci_id, software_id, first_seen) VALUES ($1, 901, now()), ($1, 902, now()), ($2, 902, now()), ($2, 903, now())`,
		`INSERT INTO ci_software_sets (ci_id, software_ids) VALUES ($1, '{901,902}'), ($2, '{902,903}')`,
	} {
		args := []any{keep, rm}
		if !strings.Contains(q, "$1") {
			args = nil
		}
		_, err := db.SQL().ExecContext(ctx, q, args...)
		must(t, err)
	}
	dups, _, err := db.FindDuplicates(ctx, admin, cmdb.DuplicateFilter{AuthorityID: tn.Authority.ID})
	must(t, err)
	ci, err := db.MergeDuplicate(ctx, admin, dups[0].ID, keep)
	must(t, err)
	var sets string
	must(t, db.SQL().GetContext(ctx, &sets, `SELECT string_agg(ci_id || '=' || software_ids::text, ' ' ORDER BY ci_id) FROM ci_software_sets`))
	if want := strconv.FormatInt(keep, 10) + "={901,902,903}"; sets != want {
		t.Errorf("software sets after the merge = %s, want %s", sets, want)
	}
	if ci.Model != "EliteDesk 800" || ci.RoomID != tn.Room.ID || ci.Serial != "CZC1234567" {
		t.Errorf("kept CI = %+v", ci)
	}
	removed, err := db.FindCIByID(ctx, admin, rm)
	must(t, err)
	if removed.MergedInto != keep {
		t.Fatalf("removed CI merged_into = %d", removed.MergedInto)
	}
	rels, err := db.FindRelations(ctx, admin, keep)
	must(t, err)
	if len(rels) != 1 || rels[0].FromID != keep || rels[0].ToID != sw {
		t.Fatalf("relations = %+v", rels)
	}
	ids, err := db.FindIdentifiers(ctx, admin, keep)
	must(t, err)
	var all []string
	for _, x := range ids {
		all = append(all, x.Kind+"="+x.Value)
	}
	if s := strings.Join(all, " "); !strings.Contains(s, "source_key=connector:x|2") || !strings.Contains(s, "mac=00:11:22:33:44:55") {
		t.Fatalf("identifiers = %s", s)
	}
	hist, err := db.FindHistory(ctx, admin, keep, 0)
	must(t, err)
	var merged, fromRemoved bool
	for _, h := range hist {
		merged = merged || (h.Attr == "merged" && *h.New == "CI "+strconv.FormatInt(rm, 10))
		fromRemoved = fromRemoved || (h.CIID == rm && h.Attr == "serial")
	}
	if !merged || !fromRemoved {
		t.Fatalf("history lacks the merge (%v) or the removed CI's own history (%v)", merged, fromRemoved)
	}
	if _, err := db.MergeCIs(ctx, admin, keep, rm); cmdb.ErrorCode(err) != cmdb.ECONFLICT {
		t.Fatalf("second merge: %v", err)
	}
	if _, err := db.SQL().Exec(`UPDATE ci_history SET new = 'x'`); err == nil {
		t.Fatal("history rows can be changed")
	}
}

// TestMergeCIsPrecedence: merging duplicates follows the precedence of
// reconcile: the agent's model beats the poller's, keep's own value stays
// on equal rank, a hand-edited (locked) attribute of keep never changes,
// and history records each change.
func TestMergeCIsPrecedence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	tn := MustCreateTenant(t, db, "MP")
	res := reconcile(t, db,
		cmdb.Observation{Source: "snmp", AuthorityID: tn.Authority.ID, Class: "desktop", Serial: "CZC0000001", Vendor: "HP",
			Attributes: map[string]string{"model": "HP Desktop (SNMP)"}},
		cmdb.Observation{Source: "agent", SourceKey: "d1", AuthorityID: tn.Authority.ID, Class: "desktop", Serial: "CZC000000I",
			Vendor: "HP", Hostname: "R101-PC1", Attributes: map[string]string{"model": "EliteDesk 800 G6", "os_name": "Windows 11"}},
	)
	keep, rm := res.Items[0].CIID, res.Items[1].CIID
	// Both carry an owner set by the same connector; keep's owner is also
	// set by hand (locked), and its asset tag by the connector.
	reconcile(t, db,
		cmdb.Observation{Source: "connector:x", SourceKey: "k", AuthorityID: tn.Authority.ID, Serial: "CZC0000001", Vendor: "HP",
			AssetTag: "INV-KEEP"},
		cmdb.Observation{Source: "connector:x", SourceKey: "r", AuthorityID: tn.Authority.ID, Serial: "CZC000000I", Vendor: "HP",
			AssetTag: "INV-RM", Attributes: map[string]string{"owner": "Sekretariat"}},
		cmdb.Observation{Source: "user:alice", CIID: keep, Attributes: map[string]string{"owner": "Hausmeister"}},
	)
	if _, err := db.MergeCIs(ctx, admin, keep, rm); err != nil {
		t.Fatal(err)
	}
	ci, err := db.FindCIByID(ctx, admin, keep)
	must(t, err)
	for attr, want := range map[string]string{
		"model":     "EliteDesk 800 G6", // agent outranks snmp
		"hostname":  "R101-PC1",         // keep had none
		"os_name":   "Windows 11",
		"asset_tag": "INV-KEEP",    // equal rank: the survivor's value
		"owner":     "Hausmeister", // locked on keep
		"serial":    "CZC000000I",  // the agent's reading of the firmware outranks the poller's
	} {
		if got := ci.Get(attr); got != want {
			t.Errorf("%s = %q, want %q", attr, got, want)
		}
	}
	if p := ci.Provenance["model"]; p.Source != "agent" {
		t.Errorf("provenance of model = %+v, want agent", p)
	}
	hist, err := db.FindHistory(ctx, admin, keep, 100)
	must(t, err)
	var sawModel bool
	for _, h := range hist {
		if h.Attr == "model" && h.Old != nil && *h.Old == "HP Desktop (SNMP)" && h.New != nil && *h.New == "EliteDesk 800 G6" && h.CIID == keep {
			sawModel = true
		}
	}
	if !sawModel {
		t.Errorf("history has no model change from the merge: %+v", hist)
	}
}
