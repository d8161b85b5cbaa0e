// Package postgrestest gives tests a real PostgreSQL: one fresh database
// per test, created from a migrated template. Without
// CMDB_TEST_DATABASE_URL (a superuser URL) it starts a throwaway private
// cluster from the local PostgreSQL binaries for the test binary.
package postgrestest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq" // the driver
	"github.com/schulit/cmdb/server/pgembed"
	"github.com/schulit/cmdb/server/postgres"
)

var (
	once     sync.Once
	setupErr error
	adminURL string
	tmpl     string
	cluster  *pgembed.Cluster
	tmpDir   string
)

// Main runs the tests of a package and then stops the cluster it started.
// Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	teardown()
	os.Exit(code)
}

func setup() {
	adminURL = os.Getenv("CMDB_TEST_DATABASE_URL")
	if adminURL == "" {
		tmpDir, setupErr = os.MkdirTemp("", "cmdbtest-")
		if setupErr != nil {
			return
		}
		os.Chmod(tmpDir, 0o755)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cluster, setupErr = pgembed.Start(ctx, pgembed.Options{Dir: tmpDir + "/pg", Fast: true})
		if setupErr != nil {
			return
		}
		adminURL = cluster.URL("postgres")
	}
	tmpl = "cmdb_tpl_" + randomHex()
	if setupErr = exec(fmt.Sprintf(`CREATE DATABASE %s`, tmpl)); setupErr != nil {
		return
	}
	ctx := context.Background()
	db, err := postgres.Open(ctx, withDB(adminURL, tmpl), postgres.Options{})
	if err != nil {
		setupErr = err
		return
	}
	defer db.Close()
	setupErr = db.Migrate(ctx)
}

func teardown() {
	if tmpl != "" && setupErr == nil {
		exec(`DROP DATABASE IF EXISTS ` + tmpl)
	}
	if cluster != nil {
		cluster.Stop()
	}
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
}

func exec(q string) error {
	db, err := sql.Open("postgres", adminURL)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(q)
	return err
}

func randomHex() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func withDB(u, name string) string {
	p, err := url.Parse(u)
	if err != nil {
		panic(err)
	}
	p.Path = "/" + name
	return p.String()
}

func newDatabase(tb testing.TB, template string) string {
	tb.Helper()
	once.Do(setup)
	if setupErr != nil {
		tb.Fatalf("test database: %v", setupErr)
	}
	name := "t_" + randomHex()
	if err := exec(fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, template)); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() { exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`) })
	return withDB(adminURL, name)
}

// NewDatabase creates a fresh, migrated database for the test, dropped
// when it ends, and returns its URL.
func NewDatabase(tb testing.TB) string { return newDatabase(tb, tmplName()) }

// NewEmptyDatabase creates a fresh database without any migration, for
// migration tests.
func NewEmptyDatabase(tb testing.TB) string { return newDatabase(tb, "template0") }

func tmplName() string {
	once.Do(setup)
	return tmpl
}

// MustOpenDB opens a store on a fresh migrated database.
func MustOpenDB(tb testing.TB, opts postgres.Options) *postgres.DB {
	tb.Helper()
	u := NewDatabase(tb)
	db, err := postgres.Open(context.Background(), u, opts)
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
