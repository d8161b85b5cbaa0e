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
// of standard input. Without a password the user is refused, unless
// --sso-only says that they sign in only by single sign-on.
func (m *Main) userAdd(ctx context.Context) error {
	pw, err := m.userPassword()
	if err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	u := &cmdb.User{Email: m.Config.UserEmail, Name: m.Config.UserName,
		Memberships: []cmdb.Membership{{Role: m.Config.TokenRole, OrgID: m.Config.TokenOrg}}}
	if err := m.db.CreateUser(ctx, cmdb.AdminScope("cli"), u, cmdb.Secret(pw)); err != nil {
		return fmt.Errorf("user add: %s%s", fieldPrefix(err), cmdb.ErrorMessage(err))
	}
	how := "signs in with a password"
	if pw == "" {
		how = "signs in only by single sign-on"
	}
	fmt.Fprintf(m.Stdout, "user %d created: %s (%s)\n", u.ID, u.Email, how)
	return nil
}

// userPassword finds the new user's password, or none for --sso-only.
func (m *Main) userPassword() (string, error) {
	env := os.Getenv("CMDB_PASSWORD")
	if m.Config.UserSSOOnly {
		if env != "" {
			return "", errors.New("--sso-only: the user gets no password, but CMDB_PASSWORD is set")
		}
		return "", nil
	}
	if env != "" {
		return env, nil
	}
	if f, ok := m.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(m.Stderr, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(m.Stderr)
		if err != nil {
			return "", err
		}
		if len(b) > 0 {
			return string(b), nil
		}
	} else if m.Stdin != nil {
		line, _ := bufio.NewReader(m.Stdin).ReadString('\n')
		if pw := strings.TrimRight(line, "\r\n"); pw != "" {
			return pw, nil
		}
	}
	return "", errors.New("no password: set CMDB_PASSWORD, type it on a terminal or give it as the first line of standard input;" +
		" --sso-only for a user who signs in only by single sign-on")
}
