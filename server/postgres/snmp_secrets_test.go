package postgres_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestPollCredentialsUndecryptable opens the store with another secret
// key than the one that sealed a school's profiles: the poller gets an
// error naming the profile, not a profile with an empty community, and
// the error holds no secret.
func TestPollCredentialsUndecryptable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := postgrestest.NewDatabase(t)
	db1, err := postgres.Open(ctx, url, postgres.Options{SecretKey: bytes.Repeat([]byte{1}, 32)})
	must(t, err)
	defer db1.Close()
	tn := MustCreateTenant(t, db1, "DK")
	must(t, db1.CreateSNMPCredential(ctx, admin, tn.School.ID, &cmdb.SNMPCredential{Name: "Drucker", Version: "2c", Community: "geheim-community"}))
	if creds, err := db1.PollCredentials(ctx, tn.School.ID); err != nil || len(creds) != 1 || creds[0].Community.Reveal() != "geheim-community" {
		t.Fatalf("PollCredentials with the sealing key = %v, %v", creds, err)
	}

	db2, err := postgres.Open(ctx, url, postgres.Options{SecretKey: bytes.Repeat([]byte{2}, 32)})
	must(t, err)
	defer db2.Close()
	creds, err := db2.PollCredentials(ctx, tn.School.ID)
	if err == nil || creds != nil {
		t.Fatalf("PollCredentials with another key = %v, %v; want an error and no profiles", creds, err)
	}
	if !strings.Contains(err.Error(), `"Drucker"`) || strings.Contains(err.Error(), "geheim") {
		t.Fatalf("error %q should name the profile and hide its secret", err)
	}
}

// TestFindAuditBadDetail reads an audit event whose stored detail is not
// an object: an error, not an event with its detail silently dropped.
func TestFindAuditBadDetail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	// The log is append-only; a row written by an older or foreign tool.
	if _, err := db.SQL().Exec(`INSERT INTO audit_log (at, actor, action, detail) VALUES (now(), 'tool', 'imported', '[1, 2]')`); err != nil {
		t.Fatal(err)
	}
	if evs, _, err := db.FindAudit(ctx, admin, cmdb.AuditFilter{}); err == nil {
		t.Fatalf("FindAudit = %d events, nil; want an error for the bad detail", len(evs))
	}
}
