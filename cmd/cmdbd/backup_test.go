package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/demo"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// privateDataDir is a data directory the postgres user can reach.
func privateDataDir(t *testing.T) string {
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755)
	os.Chmod(dir, 0o755)
	return dir
}

// tableSums returns, per table and sequence, its row count and an md5 of
// its rows in a fixed order (sequences: their last value).
func tableSums(t *testing.T, db *sqlx.DB) map[string]string {
	t.Helper()
	var tables, seqs []string
	if err := db.Select(&tables, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	if err := db.Select(&seqs, `SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tb := range tables {
		var n int
		var sum string
		if err := db.QueryRow(`SELECT count(*), coalesce(md5(string_agg(t::text, E'\n' ORDER BY t::text)), '') FROM `+tb+` t`).
			Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		out[tb] = fmt.Sprintf("%d rows, md5 %s", n, sum)
	}
	for _, s := range seqs {
		var v string
		if err := db.Get(&v, `SELECT coalesce(last_value::text, '') FROM pg_sequences WHERE sequencename = $1`, s); err != nil {
			t.Fatal(err)
		}
		out["sequence "+s] = v
	}
	return out
}

// runMainErr runs a command that is expected to fail and returns its error.
func runMainErr(t *testing.T, args ...string) error {
	t.Helper()
	m := NewMain()
	m.Stdout, m.Stderr = &strings.Builder{}, &strings.Builder{}
	if err := m.ParseFlags(args); err != nil {
		return err
	}
	err := m.Run(context.Background())
	m.Close()
	return err
}

// TestBackupAndRestoreRoundTripTheDemo backs up the private PostgreSQL of
// a demo authority while it runs, restores it into a fresh data directory
// and compares every table; the restored server serves the old token.
func TestBackupAndRestoreRoundTripTheDemo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := privateDataDir(t)
	m1 := NewMain()
	m1.Config.DataDir = src
	m1.log = slog.New(slog.DiscardHandler)
	if err := m1.openDB(ctx, "", src); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m1.Close() })
	if _, err := demo.Load(ctx, m1.db, cmdb.AdminScope("demo"), demo.Options{}); err != nil {
		t.Fatal(err)
	}
	_, tok, _ := runMain(t, "token", "create", "--admin", "--data-dir", src)
	if _, err := m1.db.SQL().Exec(`INSERT INTO ci_metrics (ci_id, name, at, value)
		SELECT id, 'counter.pages', now() - g * interval '15 minutes', g FROM cis, generate_series(1, 3) g`); err != nil {
		t.Fatal(err)
	}
	photoTicket, photo := attachDemoPhoto(t, m1)
	want := tableSums(t, m1.db.SQL())
	if len(want) < 20 || strings.HasPrefix(want["cis"], "0 rows") || strings.HasPrefix(want["ci_metrics"], "0 rows") ||
		strings.HasPrefix(want["ticket_attachments"], "0 rows") {
		t.Fatalf("nothing to back up: %v", want)
	}

	// The backup attaches to the running cluster of m1.
	dump := filepath.Join(t.TempDir(), "cmdb.dump")
	_, out, _ := runMain(t, "backup", "--out", dump, "--data-dir", src)
	if !strings.Contains(out, "backup written to "+dump) {
		t.Fatalf("backup printed %q", out)
	}
	if fi, err := os.Stat(dump); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("dump file: %v %v", fi, err)
	}

	dst := privateDataDir(t)
	if err := runMainErr(t, "restore", dump, "--data-dir", dst); err == nil || !strings.Contains(err.Error(), "secret.key") {
		t.Fatalf("restore without the secret key: %v", err)
	}
	key, err := os.ReadFile(filepath.Join(src, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "secret.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	_, out, _ = runMain(t, "restore", "--data-dir", dst, dump)
	if !strings.Contains(out, "restored") {
		t.Fatalf("restore printed %q", out)
	}
	if err := runMainErr(t, "restore", dump, "--data-dir", dst); err == nil || !strings.Contains(err.Error(), "already holds a database") {
		t.Fatalf("restore over a database: %v", err)
	}

	m2, _, _ := runMain(t, "serve", "--listen", "127.0.0.1:0", "--data-dir", dst)
	got := tableSums(t, m2.db.SQL())
	for tb, w := range want {
		if got[tb] != w {
			t.Errorf("%s: restored %s, backed up %s", tb, got[tb], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("restored %d tables and sequences, backed up %d", len(got), len(want))
	}
	c := &client{t: t, base: "http://" + m2.Addr(), token: strings.TrimSpace(tok)}
	if n := c.must(200, "GET", "/api/v1/cis?limit=1", nil)["total"].(float64); n < 300 {
		t.Errorf("restored server lists %v CIs", n)
	}
	// Attachments live in the database: the backup holds them.
	if code, _, _, raw := c.upload("GET", fmt.Sprintf("/api/v1/tickets/%d/attachments/%d", photoTicket, photo.ID), nil); code != 200 ||
		fmt.Sprintf("%x", sha256.Sum256(raw)) != photo.SHA256 {
		t.Errorf("restored attachment: %d, %d bytes", code, len(raw))
	}
}

// attachDemoPhoto opens a ticket on a demo printer with a photo attached.
func attachDemoPhoto(t *testing.T, m *Main) (int64, *cmdb.Attachment) {
	t.Helper()
	ctx, s := context.Background(), cmdb.AdminScope("test")
	var printer int64
	if err := m.db.SQL().Get(&printer, `SELECT id FROM cis WHERE class = 'printer' AND merged_into IS NULL ORDER BY id LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	cats, err := m.db.FindTicketCategories(ctx, s, "printer")
	if err != nil || len(cats) == 0 {
		t.Fatal(cats, err)
	}
	tk := &cmdb.Ticket{Type: cmdb.TicketIncident, Title: "Papierstau, Foto anbei", CategoryID: cats[0].ID, Impact: 3, Urgency: 2, CIIDs: []int64{printer}}
	if _, err := m.db.CreateTicket(ctx, s, tk, ""); err != nil {
		t.Fatal(err)
	}
	a := &cmdb.Attachment{TicketID: tk.ID, FileName: "papierstau.png"}
	if err := m.db.AddTicketAttachment(ctx, s, a, testPNG(t, 64<<10)); err != nil {
		t.Fatal(err)
	}
	return tk.ID, a
}

// TestBackupOfAnExternalDatabase dumps a database named by --db without
// printing its password.
func TestBackupOfAnExternalDatabase(t *testing.T) {
	t.Parallel()
	url := postgrestest.NewDatabase(t)
	dump := filepath.Join(t.TempDir(), "ext.dump")
	_, out, logs := runMain(t, "backup", "--out", dump, "--db", url)
	if fi, err := os.Stat(dump); err != nil || fi.Size() == 0 {
		t.Fatalf("dump: %v %v", fi, err)
	}
	if pw, ok := pqPassword(url); ok && (strings.Contains(out, pw) || strings.Contains(logs.String(), pw)) {
		t.Fatal("the backup printed the database password")
	}
	if err := runMainErr(t, "backup", "--out", filepath.Join(t.TempDir(), "x.dump"), "--db", "postgres://nobody:s3cr3t-pw@127.0.0.1:1/cmdb?sslmode=disable"); err == nil ||
		strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Fatalf("failed backup: %v", err)
	}
}

func pqPassword(u string) (string, bool) {
	p, err := neturl.Parse(u)
	if err != nil || p.User == nil {
		return "", false
	}
	return p.User.Password()
}
