package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

func testMail(key string, authority int64) *cmdb.OutboundMail {
	return &cmdb.OutboundMail{AuthorityID: authority, DedupeKey: key, To: []string{"a@schule.example"},
		Subject: "[#1] Test", Text: "Hallo", Headers: map[string]string{"Auto-Submitted": "auto-generated"}}
}

func TestEnqueueMailRefusesInvalidAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	m := testMail("k", 0)
	m.Headers["In-Reply-To"] = "<x@y>\r\nBcc: evil@x.example"
	_, err := db.EnqueueMail(ctx, m)
	var ce *cmdb.Error
	if !errors.As(err, &ce) || ce.Code != cmdb.EINVALID || ce.Field != "headers.In-Reply-To" {
		t.Fatalf("got %v, want EINVALID on headers.In-Reply-To", err)
	}
	ms, err := db.FindMail(ctx, admin, cmdb.MailFilter{})
	if err != nil || len(ms) != 0 {
		t.Fatalf("outbox holds %d (%v), want none", len(ms), err)
	}
}

func TestEnqueueMailIdempotentAndRoundTrips(t *testing.T) {
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	tn := MustCreateTenant(t, db, "MO")
	m := testMail("ticket:1:created", tn.Authority.ID)
	if added, err := db.EnqueueMail(ctx, m); err != nil || !added || m.ID == 0 || m.Status != cmdb.MailQueued || m.Language != cmdb.LangDE {
		t.Fatalf("first enqueue added=%v err=%v %+v", added, err, m)
	}
	dup := testMail("ticket:1:created", tn.Authority.ID)
	dup.Subject = "other"
	if added, err := db.EnqueueMail(ctx, dup); err != nil || added || dup.ID != m.ID || dup.Subject != "[#1] Test" {
		t.Fatalf("duplicate: added=%v err=%v %+v, want the first message back", added, err, dup)
	}
	ms, err := db.FindMail(ctx, admin, cmdb.MailFilter{})
	if err != nil || len(ms) != 1 || ms[0].Headers["Auto-Submitted"] != "auto-generated" || ms[0].AuthorityID != tn.Authority.ID {
		t.Fatalf("outbox %+v %v", ms, err)
	}
}

func TestFindMailScope(t *testing.T) {
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	a := MustCreateTenant(t, db, "MA")
	b := MustCreateTenant(t, db, "MB")
	for _, m := range []*cmdb.OutboundMail{testMail("a1", a.Authority.ID), testMail("b1", b.Authority.ID), testMail("none", 0)} {
		if _, err := db.EnqueueMail(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	authIT := cmdb.Scope{Subject: "user:1", Authorities: []int64{a.Authority.ID}}
	ms, err := db.FindMail(ctx, authIT, cmdb.MailFilter{})
	if err != nil || len(ms) != 1 || ms[0].DedupeKey != "a1" {
		t.Fatalf("authority IT sees %v (%v), want only its own", ms, err)
	}
	if _, err := db.FindMail(ctx, authIT, cmdb.MailFilter{AuthorityID: b.Authority.ID}); err == nil {
		t.Fatal("authority IT listed another authority's mail")
	}
	teacher := cmdb.Scope{Subject: "user:2", ReadSchools: []int64{a.School.ID}}
	var ce *cmdb.Error
	if _, err := db.FindMail(ctx, teacher, cmdb.MailFilter{}); !errors.As(err, &ce) || ce.Code != cmdb.EFORBIDDEN {
		t.Fatalf("teacher: got %v, want forbidden", err)
	}
	if ms, _ := db.FindMail(ctx, admin, cmdb.MailFilter{}); len(ms) != 3 {
		t.Fatalf("admin sees %d, want 3", len(ms))
	}
}

func TestEnqueueMailInCallersTransaction(t *testing.T) {
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	for _, commit := range []bool{false, true} {
		tx, err := db.SQL().BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := postgres.EnqueueMailTx(ctx, db, tx, testMail("tx", 0)); err != nil {
			t.Fatal(err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
		ms, err := db.FindMail(ctx, admin, cmdb.MailFilter{})
		if want := map[bool]int{false: 0, true: 1}[commit]; err != nil || len(ms) != want {
			t.Fatalf("commit=%v: outbox holds %d (%v), want %d", commit, len(ms), err, want)
		}
	}
}

func TestClaimMailGivesUpOnMessagesWhoseSenderKeepsDying(t *testing.T) {
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	m := testMail("crashy", 0)
	if _, err := db.EnqueueMail(ctx, m); err != nil {
		t.Fatal(err)
	}
	now := m.NextAttemptAt.Add(time.Second)
	for i := 1; i <= cmdb.MaxMailAttempts; i++ {
		ms, err := db.ClaimMail(ctx, now, time.Minute, 10)
		if err != nil || len(ms) != 1 || ms[0].Attempts != i {
			t.Fatalf("claim %d: %v %v", i, ms, err)
		}
		if again, _ := db.ClaimMail(ctx, now, time.Minute, 10); len(again) != 0 {
			t.Fatalf("claim %d handed out twice within the lease", i)
		}
		now = now.Add(time.Minute) // the lease runs out: the sender died
	}
	if ms, err := db.ClaimMail(ctx, now, time.Minute, 10); err != nil || len(ms) != 0 {
		t.Fatalf("claimed after the last attempt: %v %v", ms, err)
	}
	ms, _ := db.FindMail(ctx, admin, cmdb.MailFilter{Status: cmdb.MailFailed})
	if len(ms) != 1 || ms[0].LastError == "" {
		t.Fatalf("failed mails %+v, want the crashy one with a reason", ms)
	}
}
