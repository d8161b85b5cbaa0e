package postgres_test

import (
	"context"
	"slices"
	"sort"
	"testing"

	"github.com/schulit/cmdb/plugins/connector/junk"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// junkMigration is the version of the migration that adds the German
// placeholders to the junk list (the lead renumbers it at merge).
const junkMigration = 8

// TestUp_0008 checks that the placeholders land on the junk list, also
// where an operator had already added one of them by hand.
func TestUp_0008(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := migratedTo(t, junkMigration-1)
	_, err := db.SQL().ExecContext(ctx, `INSERT INTO junk_identifiers (kind, value) VALUES ('serial', 'keine')`)
	must(t, err)
	must(t, db.MigrateTo(ctx, junkMigration))
	var n int
	must(t, db.SQL().GetContext(ctx, &n, `SELECT count(*) FROM junk_identifiers WHERE kind = 'serial'
		AND value IN ('unbekannt', 'k.A.', 'keine', 'ohne', '-', 'nicht vorhanden')`))
	if n != 6 {
		t.Fatalf("placeholders on the junk list after %d: %d, want 6", junkMigration, n)
	}
}

// TestJunkSeedIsTheContractsList: the junk serials a fresh database is
// seeded with are the list connectors judge keys by (junk.Serials), so a
// csv row is never keyed by a serial the server would drop.
func TestJunkSeedIsTheContractsList(t *testing.T) {
	t.Parallel()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	var seeded []string
	must(t, db.SQL().SelectContext(context.Background(), &seeded, `SELECT value FROM junk_identifiers WHERE kind = 'serial' ORDER BY value`))
	want := append([]string(nil), junk.Serials...)
	sort.Strings(want)
	if !slices.Equal(seeded, want) {
		t.Fatalf("seeded junk serials\n%q\nbut junk.Serials is\n%q", seeded, want)
	}
}
