package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/schulit/cmdb/schema"
	"github.com/schulit/cmdb/server/pgembed"
	"github.com/schulit/cmdb/server/postgres"
)

// restoreArgs takes the dump file of "cmdbd restore FILE [flags]" (or
// "cmdbd restore [flags] FILE") out of args.
func restoreArgs(args []string) (file string, rest []string, err error) {
	for i, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			return "", args, nil
		}
		if !strings.HasPrefix(a, "-") && (i == 0 || !restoreFlagTakesValue(args[i-1])) {
			if file != "" {
				return "", nil, fmt.Errorf("restore: one dump file, not %q and %q", file, a)
			}
			file = a
			continue
		}
		rest = append(rest, a)
	}
	if file == "" {
		return "", nil, errors.New("restore: name the dump file: cmdbd restore FILE [--data-dir DIR]")
	}
	return file, rest, nil
}

// restoreFlagTakesValue says whether a flag given without "=" takes the next argument.
func restoreFlagTakesValue(a string) bool {
	if !strings.HasPrefix(a, "-") || strings.Contains(a, "=") {
		return false
	}
	switch strings.TrimLeft(a, "-") {
	case "db", "data-dir", "log-format", "log-level":
		return true
	}
	return false
}

// backup dumps the database to --out: the private PostgreSQL in --data-dir
// (attached to while the server runs, else started for the dump) or the
// one named by --db.
func (m *Main) backup(ctx context.Context) error {
	out := m.Config.BackupOut
	if url := m.Config.DatabaseURL.Reveal(); url != "" {
		if err := pgembed.BackupURL(ctx, url, out); err != nil {
			return err
		}
	} else {
		dir, err := filepath.Abs(filepath.Join(m.Config.DataDir, "pg"))
		if err != nil {
			return err
		}
		m.cluster, err = pgembed.Start(ctx, pgembed.Options{Dir: dir, Logger: m.log})
		if err != nil {
			return err
		}
		if err := m.cluster.Backup(ctx, "cmdb", out); err != nil {
			return err
		}
	}
	fmt.Fprintln(m.Stdout, "backup written to", out)
	fmt.Fprintln(m.Stdout, "keep the server's secret key with it (CMDB_SECRET_KEY or secret.key in the data directory): "+
		"the stored SNMP and sign-on secrets cannot be read without it")
	return nil
}

// restore loads a dump into a new private PostgreSQL in --data-dir, which
// must not hold a database yet, and migrates it to this version's schema.
func (m *Main) restore(ctx context.Context) error {
	if m.Config.DatabaseURL != "" {
		return errors.New("restore: --db is not supported; restore into an external PostgreSQL with pg_restore " +
			"(pg_restore --no-owner --no-acl --single-transaction -d URL FILE into an empty database)")
	}
	if m.Config.SecretKey == "" {
		if _, err := os.Stat(filepath.Join(m.Config.DataDir, "secret.key")); err != nil {
			return fmt.Errorf("restore: copy the backed-up server's secret.key into %s first (or set CMDB_SECRET_KEY): "+
				"without it the stored SNMP and sign-on secrets cannot be read", m.Config.DataDir)
		}
	}
	dir, err := filepath.Abs(filepath.Join(m.Config.DataDir, "pg"))
	if err != nil {
		return err
	}
	m.cluster, err = pgembed.Restore(ctx, pgembed.Options{Dir: dir, Logger: m.log}, m.Config.RestoreFile)
	if err != nil {
		return err
	}
	key, err := m.secretKey()
	if err != nil {
		return err
	}
	m.db, err = postgres.Open(ctx, m.cluster.URL("cmdb"), postgres.Options{Logger: m.log, SecretKey: key})
	if err != nil {
		return err
	}
	var had int
	if err := m.db.SQL().GetContext(ctx, &had, `SELECT coalesce(max(version), 0) FROM schema_migrations`); err != nil {
		return fmt.Errorf("restore: the dump holds no CMDB database (no schema_migrations): %w", err)
	}
	known, _ := fs.Glob(schema.FS, "*.sql")
	if had > len(known) {
		return fmt.Errorf("restore: the dump is of schema version %d, newer than this cmdbd (%d); restore it with a newer cmdbd",
			had, len(known))
	}
	if err := m.db.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "restored %s into %s (schema version %d, migrated to %d)\n", m.Config.RestoreFile, dir, had, len(known))
	return nil
}
