package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/cmdb"
)

// Throttling of sign-ins by client address, across replicas.
const (
	addressWindow   = 15 * time.Minute
	addressFailures = 20
)

// errSignIn is the one answer to every failed sign-in, so that nobody
// learns whether an account exists, is disabled or is locked.
func errSignIn() error {
	return cmdb.Errorf(cmdb.EUNAUTHORIZED, "E-mail address or password is wrong, or the account is temporarily locked.")
}

func newSecret(prefix string) (cmdb.Secret, []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	tok := prefix + base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(tok))
	return cmdb.Secret(tok), h[:]
}

func secretHash(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// SessionMaxAge is the absolute lifetime of a browser session.
func (db *DB) SessionMaxAge() time.Duration { return db.opts.SessionMax }

// SignIn checks an e-mail address and password and starts a session. It
// locks an account after repeated failures and throttles addresses that
// fail often; every failure takes as long and answers the same.
func (db *DB) SignIn(ctx context.Context, email string, password cmdb.Secret, meta cmdb.RequestMeta) (*cmdb.User, cmdb.Secret, error) {
	now := db.now()
	actor := cmdb.Scope{Subject: "anonymous", IP: meta.IP}
	email, _ = cmdb.NormalizeEmail("email", email)
	var u struct {
		ID          int64      `db:"id"`
		Hash        *string    `db:"password_hash"`
		Disabled    bool       `db:"disabled"`
		LockedUntil *time.Time `db:"locked_until"`
	}
	err := db.db.GetContext(ctx, &u, `SELECT id, password_hash, disabled, locked_until FROM users WHERE email = $1`, email)
	if err != nil && cmdb.ErrorCode(mapErr("", err)) != cmdb.ENOTFOUND {
		return nil, "", mapErr("postgres.SignIn", err)
	}
	// Exactly one Argon2 run on every path (unknown, SSO-only, disabled,
	// locked, throttled, wrong or right password), so that the time taken
	// tells nothing about the account.
	// (A malformed or empty hash, as an unknown address once left, is
	// verified as dummyHash: see verifyPassword.)
	hash := dummyHash
	if u.ID != 0 && u.Hash != nil {
		hash = *u.Hash
	}
	ok := verifyPassword(hash, password.Reveal(), db.verifyHook) && u.ID != 0 && u.Hash != nil
	var addrLocked bool
	if err := db.db.GetContext(ctx, &addrLocked, `SELECT coalesce(locked_until > $2, false) FROM sign_in_throttle WHERE ip = $1`,
		meta.IP, now); err != nil && cmdb.ErrorCode(mapErr("", err)) != cmdb.ENOTFOUND {
		return nil, "", mapErr("postgres.SignIn", err)
	}
	locked := u.LockedUntil != nil && u.LockedUntil.After(now)
	if !ok || u.Disabled || locked || addrLocked {
		reason := map[bool]string{true: "wrong password"}[!ok]
		switch {
		case u.ID == 0:
			reason = "unknown user"
		case u.Disabled:
			reason = "disabled"
		case locked:
			reason = "account locked"
		case addrLocked:
			reason = "address throttled"
		}
		if err := db.signInFailed(ctx, actor, u.ID, !ok && u.ID != 0 && !locked, meta, now, email, reason); err != nil {
			return nil, "", err
		}
		return nil, "", errSignIn()
	}
	var tok cmdb.Secret
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_sign_ins = 0, locked_until = NULL, last_sign_in_at = $2 WHERE id = $1`, u.ID, now); err != nil {
			return err
		}
		var err error
		if tok, err = db.startSession(ctx, tx, u.ID, meta, now); err != nil {
			return err
		}
		actor.Subject = "user:" + itoa(u.ID)
		return audit(ctx, tx, actor, cmdb.AuditSignIn, "user:"+itoa(u.ID), 0, map[string]any{"method": "password"}, now)
	})
	if err != nil {
		return nil, "", mapErr("postgres.SignIn", err)
	}
	user, err := db.FindUserByID(ctx, cmdb.AdminScope("system"), u.ID)
	return user, tok, err
}

// signInFailed records a failure: the account's count (locking it at the
// limit), the address's count, and the audit log.
func (db *DB) signInFailed(ctx context.Context, actor cmdb.Scope, userID int64, countUser bool, meta cmdb.RequestMeta, now time.Time, email, reason string) error {
	return mapErr("postgres.SignIn", db.inTx(ctx, func(tx *sqlx.Tx) error {
		// Also for unknown accounts (user id 0 matches no row): failures
		// of both kinds run the same statements.
		var auth int64
		if err := tx.GetContext(ctx, &auth, `SELECT coalesce(min(authority_id), 0) FROM memberships WHERE user_id = $1`, userID); err != nil {
			return err
		}
		if countUser {
			var lockedNow bool
			if err := tx.GetContext(ctx, &lockedNow, `UPDATE users SET
				failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= $2 THEN 0 ELSE failed_sign_ins + 1 END,
				locked_until = CASE WHEN failed_sign_ins + 1 >= $2 THEN $3::timestamptz ELSE locked_until END
				WHERE id = $1 RETURNING failed_sign_ins = 0`, userID, db.opts.LockoutAfter, now.Add(db.opts.LockoutFor)); err != nil {
				return err
			}
			if lockedNow {
				if err := audit(ctx, tx, actor, cmdb.AuditLockedOut, "user:"+itoa(userID), auth, map[string]any{"until": now.Add(db.opts.LockoutFor)}, now); err != nil {
					return err
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sign_in_throttle (ip, failures, window_start) VALUES ($1, 1, $2)
			ON CONFLICT (ip) DO UPDATE SET
				failures = CASE WHEN sign_in_throttle.window_start < $3 THEN 1 ELSE sign_in_throttle.failures + 1 END,
				window_start = CASE WHEN sign_in_throttle.window_start < $3 THEN $2 ELSE sign_in_throttle.window_start END,
				locked_until = CASE WHEN sign_in_throttle.window_start >= $3 AND sign_in_throttle.failures + 1 >= $4
					THEN $5::timestamptz ELSE sign_in_throttle.locked_until END`,
			meta.IP, now, now.Add(-addressWindow), addressFailures, now.Add(addressWindow)); err != nil {
			return err
		}
		target := ""
		if userID != 0 {
			target = "user:" + itoa(userID)
		}
		return audit(ctx, tx, actor, cmdb.AuditSignInFailed, target, auth, map[string]any{"email": email, "reason": reason}, now)
	}))
}

func (db *DB) startSession(ctx context.Context, tx *sqlx.Tx, userID int64, meta cmdb.RequestMeta, now time.Time) (cmdb.Secret, error) {
	tok, hash := newSecret("cmdbs_")
	ua := meta.UserAgent
	if len(ua) > 300 {
		ua = ua[:300]
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES ($1, $2, $3, $3, $4, $5, $6)`, hash, userID, now, now.Add(db.opts.SessionMax), meta.IP, ua)
	return tok, err
}

// Session returns the scope of a browser session; EUNAUTHORIZED when it
// is unknown, revoked, idle too long or past its absolute lifetime.
func (db *DB) Session(ctx context.Context, token cmdb.Secret) (cmdb.Scope, error) {
	var s struct {
		ID       int64      `db:"id"`
		UserID   int64      `db:"user_id"`
		LastSeen time.Time  `db:"last_seen_at"`
		Expires  time.Time  `db:"expires_at"`
		Revoked  *time.Time `db:"revoked_at"`
		Disabled bool       `db:"disabled"`
	}
	err := db.db.GetContext(ctx, &s, `SELECT s.id, s.user_id, s.last_seen_at, s.expires_at, s.revoked_at, u.disabled
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`, secretHash(token.Reveal()))
	now := db.now()
	if err != nil || s.Revoked != nil || s.Disabled || !now.Before(s.Expires) || now.Sub(s.LastSeen) > db.opts.SessionIdle {
		if err != nil && cmdb.ErrorCode(mapErr("", err)) != cmdb.ENOTFOUND {
			return cmdb.Scope{}, mapErr("postgres.Session", err)
		}
		return cmdb.Scope{}, cmdb.Errorf(cmdb.EUNAUTHORIZED, "Your session has ended; please sign in again.")
	}
	if now.Sub(s.LastSeen) > time.Minute {
		if _, err := db.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id = $1`, s.ID, now); err != nil {
			return cmdb.Scope{}, mapErr("postgres.Session", err)
		}
	}
	ms, err := db.memberships(ctx, db.db, s.UserID)
	if err != nil {
		return cmdb.Scope{}, mapErr("postgres.Session", err)
	}
	return scopeFor("user:"+itoa(s.UserID), s.UserID, ms), nil
}

// SignOut ends one session.
func (db *DB) SignOut(ctx context.Context, token cmdb.Secret, meta cmdb.RequestMeta) error {
	return mapErr("postgres.SignOut", db.inTx(ctx, func(tx *sqlx.Tx) error {
		var userID int64
		err := tx.GetContext(ctx, &userID, `UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL RETURNING user_id`,
			secretHash(token.Reveal()), db.now())
		if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		s := cmdb.Scope{Subject: "user:" + itoa(userID), IP: meta.IP}
		return audit(ctx, tx, s, cmdb.AuditSignOut, "user:"+itoa(userID), 0, nil, db.now())
	}))
}

// SignOutEverywhere ends every session of a user (themselves, admins,
// authority IT for users of their authority).
func (db *DB) SignOutEverywhere(ctx context.Context, s cmdb.Scope, userID int64, meta cmdb.RequestMeta) error {
	u, err := db.manages(ctx, s, userID)
	if err != nil {
		return err
	}
	return mapErr("postgres.SignOutEverywhere", db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`, userID, db.now())
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		return audit(ctx, tx, s, cmdb.AuditSignOutAll, "user:"+itoa(userID), firstAuthority(u.Memberships), map[string]any{"sessions": n}, db.now())
	}))
}
