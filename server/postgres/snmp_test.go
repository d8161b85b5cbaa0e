package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

func TestSNMPStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	tn := MustCreateTenant(t, db, "SN")

	// Credentials: checked, encrypted at rest, never shown, tried in order.
	for _, tt := range []struct {
		c     cmdb.SNMPCredential
		field string
	}{
		{cmdb.SNMPCredential{Name: "x", Version: "2c"}, "community"},
		{cmdb.SNMPCredential{Name: "x", Version: "3", User: "u", AuthProto: "MD4", AuthPass: "12345678"}, "auth_proto"},
		{cmdb.SNMPCredential{Name: "x", Version: "3", User: "u", AuthProto: "SHA", AuthPass: "12345678", PrivProto: "DES", PrivPass: "12345678"}, "priv_proto"},
		{cmdb.SNMPCredential{Name: "x", Version: "4"}, "version"},
	} {
		if err := db.CreateSNMPCredential(ctx, admin, tn.School.ID, &tt.c); cmdb.ErrorField(err) != tt.field {
			t.Errorf("%+v: %v, want error on %s", tt.c, err, tt.field)
		}
	}
	must(t, db.CreateSNMPCredential(ctx, admin, tn.School.ID, &cmdb.SNMPCredential{Name: "Drucker", Version: "2c", Community: "geheim-community"}))
	must(t, db.CreateSNMPCredential(ctx, admin, tn.School.ID, &cmdb.SNMPCredential{Name: "v3", Version: "3", User: "poller",
		AuthProto: "SHA256", AuthPass: "auth-pass-123", PrivProto: "AES", PrivPass: "priv-pass-123"}))
	var raw string
	must(t, db.SQL().Get(&raw, `SELECT string_agg(encode(secrets_enc, 'escape'), '') FROM snmp_credentials`))
	if strings.Contains(raw, "geheim-community") || strings.Contains(raw, "auth-pass-123") {
		t.Fatal("SNMP secrets are stored in plain text")
	}
	listed, err := db.FindSNMPCredentials(ctx, admin, tn.School.ID)
	must(t, err)
	if len(listed) != 2 || listed[0].Community != "" || listed[1].AuthPass != "" {
		t.Fatalf("listed credentials = %+v", listed)
	}
	creds, err := db.PollCredentials(ctx, tn.School.ID)
	must(t, err)
	if creds[0].Community.Reveal() != "geheim-community" || creds[1].PrivPass.Reveal() != "priv-pass-123" || creds[1].User != "poller" {
		t.Fatalf("poll credentials = %+v", creds)
	}

	// Ranges: at most a /22.
	if err := db.CreateSNMPRange(ctx, admin, &cmdb.SNMPRange{SchoolID: tn.School.ID, CIDR: "10.1.0.0/21"}); cmdb.ErrorField(err) != "cidr" {
		t.Fatalf("/21: %v", err)
	}
	if err := db.CreateSNMPRange(ctx, admin, &cmdb.SNMPRange{SchoolID: tn.School.ID, CIDR: "10.1.2.300/24"}); cmdb.ErrorField(err) != "cidr" {
		t.Fatalf("bad CIDR: %v", err)
	}
	r := &cmdb.SNMPRange{SchoolID: tn.School.ID, CIDR: "10.1.4.7/22"}
	must(t, db.CreateSNMPRange(ctx, admin, r))
	if r.CIDR != "10.1.4.0/22" {
		t.Fatalf("range stored as %s", r.CIDR)
	}

	// Targets and a polling round: one answers, one misses until unreachable.
	if err := db.CreateSNMPTarget(ctx, admin, &cmdb.SNMPTarget{SchoolID: tn.School.ID, Address: "http://x"}); cmdb.ErrorField(err) != "address" {
		t.Fatalf("bad address: %v", err)
	}
	ok := &cmdb.SNMPTarget{SchoolID: tn.School.ID, Address: "127.0.0.1:1161"}
	gone := &cmdb.SNMPTarget{SchoolID: tn.School.ID, Address: "printer-2.schule.local"}
	must(t, db.CreateSNMPTarget(ctx, admin, ok))
	must(t, db.CreateSNMPTarget(ctx, admin, gone))
	locked := &cmdb.SNMPTarget{SchoolID: tn.School.ID, Address: "printer-3.schule.local"}
	must(t, db.CreateSNMPTarget(ctx, admin, locked))
	pages := int64(801234)
	res := &cmdb.PollResult{Target: ok.Address, Reachable: true, Class: "printer", Vendor: "Canon", Model: "iR-ADV C5535", Serial: "XLF01234", PageCount: &pages}
	obs := cmdb.Observation{Source: "snmp", AuthorityID: tn.Authority.ID, SchoolID: tn.School.ID, Class: "printer", Serial: "XLF01234", Vendor: "Canon"}
	for round := 0; round < 3; round++ {
		must(t, db.RecordPolls(ctx, []*cmdb.PollRecord{
			{Target: ok, Result: res, Observation: &obs, Metrics: map[string]float64{"counter.pages": float64(pages) + float64(round)},
				Events: []cmdb.HealthEvent{{Kind: "door_open", Open: round == 0}}},
			{Target: gone, Result: &cmdb.PollResult{Target: gone.Address, Failure: cmdb.PollTimeout}},
			{Target: locked, Failure: cmdb.PollCredentialsUnreadable}, // not polled
		}, 3))
	}
	targets, err := db.FindSNMPTargets(ctx, admin, tn.School.ID)
	must(t, err)
	for _, tg := range targets {
		switch tg.Address {
		case ok.Address:
			if tg.CIID == 0 || tg.Unreachable || tg.Misses != 0 || tg.LastOKAt == nil || tg.LastErrorReason != "" {
				t.Errorf("answering target = %+v", tg)
			}
		case gone.Address:
			if !tg.Unreachable || tg.Misses != 3 || tg.LastErrorReason != cmdb.PollTimeout || tg.LastErrorAt == nil {
				t.Errorf("silent target = %+v", tg)
			}
		case locked.Address:
			if tg.Unreachable || tg.Misses != 0 || tg.LastPollAt != nil || tg.LastErrorReason != cmdb.PollCredentialsUnreadable || tg.LastErrorAt == nil {
				t.Errorf("target not polled = %+v", tg)
			}
		}
	}
	ms, err := db.FindMetrics(ctx, admin, ok.CIID, "counter.pages", 0)
	must(t, err)
	if len(ms) == 0 {
		t.Fatal("no page counter series")
	}
}
