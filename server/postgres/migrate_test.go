package postgres_test

import (
	"context"
	"crypto/sha256"
	"strings"
	"sync"
	"testing"

	"github.com/schulit/cmdb/schema"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestMigrateConcurrently: replicas starting at once on an empty database
// apply each migration exactly once, and migrating again changes nothing.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := postgrestest.NewEmptyDatabase(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(ctx, url, postgres.Options{})
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			errs <- db.Migrate(ctx)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db, err := postgres.Open(ctx, url, postgres.Options{})
	must(t, err)
	defer db.Close()
	must(t, db.Migrate(ctx))
	files, _ := schema.FS.ReadDir(".")
	var sqlFiles, rows int
	for _, f := range files {
		if f.Name() != "embed.go" {
			sqlFiles++
		}
	}
	must(t, db.SQL().Get(&rows, `SELECT count(*) FROM schema_migrations`))
	if rows != sqlFiles {
		t.Fatalf("schema_migrations has %d rows, want %d", rows, sqlFiles)
	}
	must(t, db.Ping(ctx))
}

// migratedTo opens a fresh database migrated up to version, for tests
// of what later migrations do with existing data.
func migratedTo(t *testing.T, version int) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), postgrestest.NewEmptyDatabase(t), postgres.Options{})
	must(t, err)
	t.Cleanup(func() { db.Close() })
	must(t, db.MigrateTo(context.Background(), version))
	return db
}

// TestMigrateToStopsAtVersion: MigrateTo leaves later migrations for later,
// which is what data-reshaping migration tests build on.
func TestMigrateToStopsAtVersion(t *testing.T) {
	t.Parallel()
	db := migratedTo(t, 1)
	var v int
	must(t, db.SQL().Get(&v, `SELECT max(version) FROM schema_migrations`))
	if v != 1 {
		t.Fatalf("version = %d", v)
	}
	// The junk list is seeded as data.
	var n int
	must(t, db.SQL().Get(&n, `SELECT count(*) FROM junk_identifiers WHERE kind = 'serial' AND value = 'To Be Filled By O.E.M.'`))
	if n != 1 {
		t.Fatal("junk serial list not seeded")
	}
}

// TestUp_0002 checks the reshaping of api_tokens: admin tokens made
// before accounts existed stay valid as platform admin tokens; any other
// token of the old shape is revoked.
func TestUp_0002(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := migratedTo(t, 1)
	old := "cmdb_oldadmintoken0000000000000000000000000000"
	sum := sha256.Sum256([]byte(old))
	_, err := db.SQL().Exec(`INSERT INTO api_tokens (name, token_hash, admin) VALUES ('old admin', $1, true), ('old other', $2, false)`,
		sum[:], []byte("x"))
	must(t, err)
	must(t, db.MigrateTo(ctx, 2))
	var rows []struct {
		Name    string `db:"name"`
		Role    string `db:"role"`
		OrgKind string `db:"org_kind"`
		Revoked bool   `db:"revoked"`
	}
	must(t, db.SQL().Select(&rows, `SELECT name, role, org_kind, revoked_at IS NOT NULL AS revoked FROM api_tokens ORDER BY id`))
	if len(rows) != 2 || rows[0].Role != "admin" || rows[0].OrgKind != "platform" || rows[0].Revoked || !rows[1].Revoked {
		t.Fatalf("tokens after 0002: %+v", rows)
	}
	s, err := db.Authenticate(ctx, old)
	must(t, err)
	if !s.Admin {
		t.Fatalf("old admin token scope = %+v", s)
	}
}

// TestUp_0006 checks that the software sets are filled from the installed
// software of CIs made before them.
func TestUp_0006(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := migratedTo(t, 5)
	for _, q := range []string{
		`INSERT INTO authorities (id, code, name) VALUES (1, 'A', 'A')`,
		`INSERT INTO cis (id, authority_id, class, status, name) VALUES (1, 1, 'laptop', 'in_use', 'a'), (2, 1, 'laptop', 'in_use', 'b'), (3, 1, 'laptop', 'in_use', 'c')`,
		`INSERT INTO software (id, name, publisher, version) VALUES (7, 'x', '', '1'), (5, 'y', '', '1')`,
		`INSERT INTO ci_software (ci_id, software_id, first_seen) VALUES (1, 7, now()), (1, 5, now()), (2, 5, now())`,
	} {
		_, err := db.SQL().ExecContext(ctx, q)
		must(t, err)
	}
	must(t, db.MigrateTo(ctx, 6))
	var sets string
	must(t, db.SQL().GetContext(ctx, &sets, `SELECT string_agg(ci_id || '=' || software_ids::text, ' ' ORDER BY ci_id) FROM ci_software_sets`))
	if sets != "1={5,7} 2={5}" {
		t.Fatalf("software sets after 0006: %s", sets)
	}
}

// TestOpenTurnsJITOff: the store's connections run without PostgreSQL's
// JIT compiler (it cost more than the queries), unless the URL asks.
func TestOpenTurnsJITOff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := postgrestest.NewEmptyDatabase(t)
	for _, tc := range []struct{ url, want string }{{url, "off"}, {url + withParam(url, "jit=on"), "on"}} {
		db, err := postgres.Open(ctx, tc.url, postgres.Options{})
		must(t, err)
		var jit string
		must(t, db.SQL().Get(&jit, `SHOW jit`))
		db.Close()
		if jit != tc.want {
			t.Errorf("Open(%q): jit = %s, want %s", tc.url, jit, tc.want)
		}
	}
}

// withParam is what appends param to a URL or key=value DSN.
func withParam(url, param string) string {
	if strings.Contains(url, "://") {
		if strings.Contains(url, "?") {
			return "&" + param
		}
		return "?" + param
	}
	return " " + param
}
