package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
	"golang.org/x/term"
)

// secretKey returns the 32-byte key that encrypts secrets at rest:
// CMDB_SECRET_KEY (base64), else DATA-DIR/secret.key, created on first use
// with mode 0600.
func (m *Main) secretKey() ([]byte, error) {
	if m.Config.SecretKey != "" {
		k, err := base64.StdEncoding.DecodeString(m.Config.SecretKey.Reveal())
		if err != nil || len(k) != 32 {
			return nil, errors.New("CMDB_SECRET_KEY must be 32 bytes in base64 (e.g. from: head -c32 /dev/urandom | base64)")
		}
		return k, nil
	}
	if m.Config.DataDir == "" {
		return nil, nil
	}
	path := filepath.Join(m.Config.DataDir, "secret.key")
	if b, err := os.ReadFile(path); err == nil {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("%s does not hold a 32-byte base64 key", path)
		}
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k := make([]byte, 32)
	rand.Read(k)
	if err := os.MkdirAll(m.Config.DataDir, 0o755); err != nil {
		return nil, err
	}
	// Write a whole key beside it, then link it into place: a process
	// starting at the same moment sees no key or a complete one.
	tmp, err := os.CreateTemp(m.Config.DataDir, ".secret.key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, err
	}
	if _, err := fmt.Fprintln(tmp, base64.StdEncoding.EncodeToString(k)); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return m.secretKey() // another process made it first
	} else if err != nil {
		return nil, err
	}
	return k, nil
}

// userAdd creates a user from the shell; the password comes from
// CMDB_PASSWORD, or is asked for on a terminal, or read as the first line
// of standard input. An empty password makes a single-sign-on-only user.
func (m *Main) userAdd(ctx context.Context) error {
	pw := os.Getenv("CMDB_PASSWORD")
	if pw == "" {
		if term.IsTerminal(int(os.Stdin.Fd())) {
			fmt.Fprint(m.Stderr, "Password (empty: single sign-on only): ")
			b, err := term.ReadPassword(int(os.Stdin.Fd()))
			fmt.Fprintln(m.Stderr)
			if err != nil {
				return err
			}
			pw = string(b)
		} else if m.Stdin != nil {
			line, _ := bufio.NewReader(m.Stdin).ReadString('\n')
			pw = strings.TrimRight(line, "\r\n")
		}
	}
	u := &cmdb.User{Email: m.Config.UserEmail, Name: m.Config.UserName,
		Memberships: []cmdb.Membership{{Role: m.Config.TokenRole, OrgID: m.Config.TokenOrg}}}
	if err := m.db.CreateUser(ctx, cmdb.AdminScope("cli"), u, cmdb.Secret(pw)); err != nil {
		return fmt.Errorf("user add: %s%s", fieldPrefix(err), cmdb.ErrorMessage(err))
	}
	fmt.Fprintf(m.Stdout, "user %d created: %s\n", u.ID, u.Email)
	return nil
}

// fieldPrefix names the offending field of an application error as a flag.
func fieldPrefix(err error) string {
	if f := cmdb.ErrorField(err); f != "" {
		return "--" + strings.NewReplacer("memberships[0].", "", "org_id", "org", "_", "-").Replace(f) + ": "
	}
	return ""
}
