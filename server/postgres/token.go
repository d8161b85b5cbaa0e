package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// tokenPrefix marks our bearer tokens so that secret scanners find them.
const tokenPrefix = "cmdb_"

// CreateAdminToken creates an admin API token and returns it; only its
// SHA-256 is stored, so it cannot be shown again. ttl 0 means no expiry.
func (db *DB) CreateAdminToken(ctx context.Context, name string, ttl time.Duration) (cmdb.Secret, error) {
	if err := cmdb.ValidateName("name", name); err != nil {
		return "", err
	}
	b := make([]byte, 32)
	rand.Read(b)
	tok := tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(tok))
	var exp *time.Time
	if ttl > 0 {
		t := db.now().Add(ttl)
		exp = &t
	}
	if _, err := db.db.ExecContext(ctx, `INSERT INTO api_tokens (name, token_hash, admin, expires_at) VALUES ($1, $2, true, $3)`,
		name, h[:], exp); err != nil {
		return "", mapErr("postgres.CreateAdminToken", err)
	}
	return cmdb.Secret(tok), nil
}

// Authenticate returns the scope of a bearer token; EUNAUTHORIZED for an
// unknown, expired or revoked token.
func (db *DB) Authenticate(ctx context.Context, token string) (cmdb.Scope, error) {
	unauth := cmdb.Errorf(cmdb.EUNAUTHORIZED, "Invalid or expired token.")
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 200 {
		return cmdb.Scope{}, unauth
	}
	h := sha256.Sum256([]byte(token))
	var t struct {
		ID        int64      `db:"id"`
		Admin     bool       `db:"admin"`
		ExpiresAt *time.Time `db:"expires_at"`
		RevokedAt *time.Time `db:"revoked_at"`
	}
	// The lookup is by hash, an index probe: timing reveals nothing about the token.
	err := db.db.GetContext(ctx, &t, `SELECT id, admin, expires_at, revoked_at FROM api_tokens WHERE token_hash = $1`, h[:])
	if err != nil {
		if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
			return cmdb.Scope{}, unauth
		}
		return cmdb.Scope{}, mapErr("postgres.Authenticate", err)
	}
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !db.now().Before(*t.ExpiresAt)) {
		return cmdb.Scope{}, unauth
	}
	return cmdb.Scope{Subject: "token:" + itoa(t.ID), Admin: t.Admin}, nil
}
