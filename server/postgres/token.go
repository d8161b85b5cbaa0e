package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

// tokenPrefix marks our API tokens so that secret scanners find them.
const tokenPrefix = "cmdb_"

// Token lifetimes for tokens made through the API.
const (
	DefaultTokenTTL = 90 * 24 * time.Hour
	MaxTokenTTL     = 366 * 24 * time.Hour
)

// CreateAdminToken creates a platform admin token for bootstrapping from
// the shell and returns it; only its SHA-256 is stored. ttl 0: no expiry.
func (db *DB) CreateAdminToken(ctx context.Context, name string, ttl time.Duration) (cmdb.Secret, error) {
	t := &cmdb.APIToken{Name: name, Role: cmdb.RoleAdmin}
	if ttl > 0 {
		exp := db.now().Add(ttl)
		t.ExpiresAt = &exp
	}
	return db.createToken(ctx, cmdb.AdminScope("cli"), t, false)
}

// CreateToken creates an API token scoped to one role in one organisation.
// With t.UserID equal to the caller's user, the caller must hold that role
// there; with t.UserID 0 it is an integration's token, which admins and
// (below admin and provider) authority IT of that authority may create.
// Expiry defaults to 90 days and may be at most a year.
func (db *DB) CreateToken(ctx context.Context, s cmdb.Scope, t *cmdb.APIToken) (cmdb.Secret, error) {
	return db.createToken(ctx, s, t, true)
}

func (db *DB) createToken(ctx context.Context, s cmdb.Scope, t *cmdb.APIToken, bounded bool) (cmdb.Secret, error) {
	if s.ViaToken && !s.Admin {
		// Otherwise a token could renew itself for ever.
		return "", cmdb.Errorf(cmdb.EFORBIDDEN, "Tokens are made by people who signed in, not by other tokens.")
	}
	if err := cmdb.ValidateName("name", t.Name); err != nil {
		return "", err
	}
	m := cmdb.Membership{Role: t.Role, OrgKind: t.OrgKind, OrgID: t.OrgID}
	if err := m.Validate(); err != nil {
		return "", err
	}
	if t.UserID != 0 && t.UserID == s.UserID && (!holds(ctx, db, s.UserID, m) || !s.Grants(m)) {
		// Checked before the organisation is looked up, so that the answer
		// says nothing about which organisations exist.
		return "", &cmdb.Error{Code: cmdb.EFORBIDDEN, Field: "role", Message: "you do not hold this role there"}
	} else if t.UserID != 0 && t.UserID != s.UserID {
		return "", cmdb.Invalid("user_id", "tokens are made for yourself or for an integration")
	} else if t.UserID == 0 && !s.Admin && (m.Role == cmdb.RoleAdmin || m.Role == cmdb.RoleProvider || len(s.Authorities) == 0) {
		// Also before the lookup: whether a provider exists is not told.
		return "", &cmdb.Error{Code: cmdb.EFORBIDDEN, Field: "role", Message: "you may not create integration tokens with this role"}
	}
	t.OrgKind, t.OrgID = m.OrgKind, m.OrgID
	now := db.now()
	if bounded {
		if t.ExpiresAt == nil {
			exp := now.Add(DefaultTokenTTL)
			t.ExpiresAt = &exp
		} else if !t.ExpiresAt.After(now) || t.ExpiresAt.Sub(now) > MaxTokenTTL {
			return "", cmdb.Invalid("expires_at", "must lie in the future and at most a year ahead")
		}
	}
	authority, err := db.orgAuthority(ctx, m)
	if err != nil && !s.Admin && cmdb.ErrorCode(err) == cmdb.EINVALID {
		return "", cmdb.Invalid("org_id", "%s %d is not in your authority", m.OrgKind, m.OrgID)
	} else if err != nil {
		return "", err
	}
	switch {
	case t.UserID != 0 && (!holds(ctx, db, s.UserID, m) || !s.Grants(m)):
		// The user must hold the role, and the caller's own credential
		// (a token may be narrower than its user) must carry it too.
		return "", &cmdb.Error{Code: cmdb.EFORBIDDEN, Field: "role", Message: "you do not hold this role there"}
	case t.UserID == 0 && !s.Admin && !s.CanSeeAuthority(authority):
		return "", cmdb.Invalid("org_id", "%s %d is not in your authority", m.OrgKind, m.OrgID)
	}
	tok, hash := newSecret(tokenPrefix)
	var user, auth *int64
	if t.UserID != 0 {
		user = &t.UserID
	}
	if authority != 0 {
		auth = &authority
	}
	t.CreatedBy = s.Subject
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.QueryRowxContext(ctx, `INSERT INTO api_tokens (name, token_hash, user_id, role, org_kind, org_id, authority_id,
			created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id, created_at`,
			t.Name, hash, user, t.Role, t.OrgKind, t.OrgID, auth, t.CreatedBy, now, t.ExpiresAt).Scan(&t.ID, &t.CreatedAt); err != nil {
			return err
		}
		return audit(ctx, tx, s, cmdb.AuditTokenCreated, "token:"+itoa(t.ID), authority,
			map[string]any{"name": t.Name, "role": t.Role, "org_kind": t.OrgKind, "org_id": t.OrgID}, now)
	})
	if err != nil {
		return "", mapErr("postgres.CreateToken", err)
	}
	return tok, nil
}

// orgAuthority returns the authority an organisation lies in (0 for
// providers and the platform); EINVALID if it does not exist.
func (db *DB) orgAuthority(ctx context.Context, m cmdb.Membership) (int64, error) {
	var a int64
	var err error
	switch m.OrgKind {
	case cmdb.OrgSchool:
		err = db.db.GetContext(ctx, &a, `SELECT authority_id FROM schools WHERE id = $1`, m.OrgID)
	case cmdb.OrgAuthority:
		err = db.db.GetContext(ctx, &a, `SELECT id FROM authorities WHERE id = $1`, m.OrgID)
	case cmdb.OrgProvider:
		err = db.db.GetContext(ctx, new(int64), `SELECT id FROM providers WHERE id = $1`, m.OrgID)
	}
	if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
		return 0, cmdb.Invalid("org_id", "there is no %s %d", m.OrgKind, m.OrgID)
	}
	return a, mapErr("postgres.orgAuthority", err)
}

// holds reports whether the user has the membership.
func holds(ctx context.Context, db *DB, userID int64, m cmdb.Membership) bool {
	var n int
	db.db.GetContext(ctx, &n, `SELECT count(*) FROM memberships WHERE user_id = $1 AND role = $2 AND org_kind = $3 AND org_id = $4`,
		userID, m.Role, m.OrgKind, m.OrgID)
	return n > 0
}

const tokenColumns = `t.id, t.name, coalesce(t.user_id, 0) AS userid, t.role, t.org_kind AS orgkind, t.org_id AS orgid,
	t.created_by AS createdby, t.created_at AS createdat, t.expires_at AS expiresat, t.revoked_at AS revokedat, t.last_used_at AS lastused`

// tokenVisible: your own tokens; admins all; authority IT those of their authorities.
func tokenVisible(w *where, s cmdb.Scope) {
	if !s.Admin {
		w.add("(t.user_id = ? OR t.authority_id = ANY(?))", s.UserID, pq.Array(s.Authorities))
	}
}

// FindTokens lists the visible tokens (never their secrets).
func (db *DB) FindTokens(ctx context.Context, s cmdb.Scope) ([]*cmdb.APIToken, error) {
	var w where
	tokenVisible(&w, s)
	out := []*cmdb.APIToken{}
	err := db.db.SelectContext(ctx, &out, rebind(`SELECT `+tokenColumns+` FROM api_tokens t WHERE `+w.String()+` ORDER BY t.id`), w.args...)
	return out, mapErr("postgres.FindTokens", err)
}

// RevokeToken revokes a visible token at once.
func (db *DB) RevokeToken(ctx context.Context, s cmdb.Scope, id int64) error {
	var w where
	tokenVisible(&w, s)
	w.add("t.id = ?", id)
	var auth int64
	err := db.db.GetContext(ctx, &auth, rebind(`SELECT coalesce(t.authority_id, 0) FROM api_tokens t WHERE `+w.String()), w.args...)
	if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
		return notFound("token", id)
	} else if err != nil {
		return mapErr("postgres.RevokeToken", err)
	}
	return mapErr("postgres.RevokeToken", db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`, id, db.now()); err != nil {
			return err
		}
		return audit(ctx, tx, s, cmdb.AuditTokenRevoked, "token:"+itoa(id), auth, nil, db.now())
	}))
}

// Authenticate returns the scope of an API token: the role it was made
// for, as long as its user still holds that role. EUNAUTHORIZED for an
// unknown, malformed, expired or revoked token.
func (db *DB) Authenticate(ctx context.Context, token string) (cmdb.Scope, error) {
	unauth := cmdb.Errorf(cmdb.EUNAUTHORIZED, "Invalid, expired or revoked token.")
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 200 {
		return cmdb.Scope{}, unauth
	}
	var t struct {
		cmdb.APIToken
		Disabled bool `db:"disabled"`
	}
	// The lookup is by hash, an index probe: its timing says nothing about the token.
	err := db.db.GetContext(ctx, &t, `SELECT `+tokenColumns+`, coalesce(u.disabled, false) AS disabled
		FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1`, secretHash(token))
	if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
		return cmdb.Scope{}, unauth
	} else if err != nil {
		return cmdb.Scope{}, mapErr("postgres.Authenticate", err)
	}
	now := db.now()
	m := cmdb.Membership{Role: t.Role, OrgKind: t.OrgKind, OrgID: t.OrgID}
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) || t.Disabled ||
		(t.UserID != 0 && !holds(ctx, db, t.UserID, m)) {
		return cmdb.Scope{}, unauth
	}
	if t.LastUsed == nil || now.Sub(*t.LastUsed) > time.Minute {
		db.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1`, t.ID, now)
	}
	s := scopeFor("token:"+itoa(t.ID), t.UserID, []cmdb.Membership{m})
	s.ViaToken = true
	return s, nil
}
