package postgres

import (
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

// SetOIDCConfig sets an authority's OpenID Connect sign-in (admins and the
// authority's IT). An empty client secret keeps the stored one.
func (db *DB) SetOIDCConfig(ctx context.Context, s cmdb.Scope, c *cmdb.OIDCConfig) error {
	if _, err := db.FindAuthorityByID(ctx, s, c.AuthorityID); err != nil {
		return err
	}
	if err := db.checkIssuer(ctx, c.Issuer); err != nil {
		return err
	} else if err := cmdb.ValidateName("client_id", c.ClientID); err != nil {
		return err
	} else if err := cmdb.ValidateText("client_secret", c.ClientSecret.Reveal(), cmdb.MaxTextLen); err != nil {
		return err
	}
	for i, sc := range c.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \t\n") {
			return cmdb.Invalid("scopes["+itoa(int64(i))+"]", "must be a single word")
		}
	}
	for i, r := range c.Rules {
		f := "rules[" + itoa(int64(i)) + "]"
		m := cmdb.Membership{Role: r.Role, OrgID: r.OrgID}
		if r.Claim == "" || r.Value == "" {
			return cmdb.Invalid(f+".claim", "claim and value are required")
		} else if err := m.Validate(); err != nil {
			return cmdb.WithFieldPrefix(err, f)
		} else if m.Role == cmdb.RoleAdmin || m.Role == cmdb.RoleProvider {
			return cmdb.Invalid(f+".role", "an authority's sign-in cannot grant %s", m.Role)
		}
		// A missing organisation answers like another authority's: the
		// answer must not tell which ids exist elsewhere.
		if a, err := db.orgAuthority(ctx, m); err != nil && cmdb.ErrorCode(err) != cmdb.EINVALID {
			return err
		} else if err != nil || a != c.AuthorityID {
			return cmdb.Invalid(f+".org_id", "%s %d is not in authority %d", m.OrgKind, m.OrgID, c.AuthorityID)
		}
	}
	if c.Scopes == nil {
		c.Scopes = []string{}
	}
	if c.Rules == nil {
		c.Rules = []cmdb.ClaimRule{}
	}
	rules, _ := json.Marshal(c.Rules)
	return mapErr("postgres.SetOIDCConfig", db.inTx(ctx, func(tx *sqlx.Tx) error {
		var sealed []byte
		if c.ClientSecret != "" {
			sealed = db.seal.seal([]byte(c.ClientSecret.Reveal()))
		} else if err := tx.GetContext(ctx, &sealed, `SELECT client_secret_enc FROM oidc_configs WHERE authority_id = $1`, c.AuthorityID); err != nil {
			if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
				return cmdb.Invalid("client_secret", "is required")
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_configs (authority_id, issuer, client_id, client_secret_enc, scopes, rules, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (authority_id) DO UPDATE SET issuer = EXCLUDED.issuer,
			client_id = EXCLUDED.client_id, client_secret_enc = EXCLUDED.client_secret_enc, scopes = EXCLUDED.scopes,
			rules = EXCLUDED.rules, updated_at = EXCLUDED.updated_at`,
			c.AuthorityID, c.Issuer, c.ClientID, sealed, pq.Array(c.Scopes), rules, db.now()); err != nil {
			return err
		}
		return audit(ctx, tx, s, cmdb.AuditOIDCConfigured, "authority:"+itoa(c.AuthorityID), c.AuthorityID,
			map[string]any{"issuer": c.Issuer, "client_id": c.ClientID, "rules": len(c.Rules)}, db.now())
	}))
}

// issuerLookupWait bounds the DNS lookup of an issuer's host name.
const issuerLookupWait = 3 * time.Second

// checkIssuer checks an OpenID issuer URL: https on a host that is not
// loopback, private or otherwise non-public (by its address, or by what
// its name resolves to now), unless the operator allows private issuers.
// A name that does not resolve now is accepted; the sign-in refuses to
// connect to non-public addresses anyway, whatever the name resolves to
// then.
func (db *DB) checkIssuer(ctx context.Context, issuer string) error {
	const allow = " (the operator may allow it with --oidc-allow-private-issuers)"
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return cmdb.Invalid("issuer", "must be an https URL such as https://login.example.org/realms/schule")
	}
	if db.opts.AllowPrivateIssuers {
		return nil
	}
	if u.Scheme != "https" {
		return cmdb.Invalid("issuer", "must be an https URL, not plain http"+allow)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		if !cmdb.PublicAddr(ip) {
			return cmdb.Invalid("issuer", "must be on a public address, not %s"+allow, ip)
		}
		return nil
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return cmdb.Invalid("issuer", "must be on a public address, not %s"+allow, host)
	}
	lctx, cancel := context.WithTimeout(ctx, issuerLookupWait)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(lctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, ip := range ips {
		if !cmdb.PublicAddr(ip) {
			return cmdb.Invalid("issuer", "must be on a public address, but %s resolves to %s"+allow, host, ip.Unmap())
		}
	}
	return nil
}

// FindOIDCConfig returns the sign-in configuration of the authority with
// the code, client secret decrypted; ENOTFOUND when there is none.
func (db *DB) FindOIDCConfig(ctx context.Context, authorityCode string) (*cmdb.OIDCConfig, error) {
	var row struct {
		AuthorityID int64          `db:"authority_id"`
		Issuer      string         `db:"issuer"`
		ClientID    string         `db:"client_id"`
		Sealed      []byte         `db:"client_secret_enc"`
		Scopes      pq.StringArray `db:"scopes"`
		Rules       []byte         `db:"rules"`
	}
	err := db.db.GetContext(ctx, &row, `SELECT o.authority_id, o.issuer, o.client_id, o.client_secret_enc, o.scopes, o.rules
		FROM oidc_configs o JOIN authorities a ON a.id = o.authority_id WHERE a.code = $1`, authorityCode)
	if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "No single sign-on is set up for %q.", authorityCode)
	} else if err != nil {
		return nil, mapErr("postgres.FindOIDCConfig", err)
	}
	secret, err := db.seal.open(row.Sealed)
	if err != nil {
		return nil, mapErr("postgres.FindOIDCConfig", err)
	}
	c := &cmdb.OIDCConfig{AuthorityID: row.AuthorityID, Issuer: row.Issuer, ClientID: row.ClientID,
		ClientSecret: cmdb.Secret(secret), Scopes: row.Scopes}
	return c, mapErr("postgres.FindOIDCConfig", json.Unmarshal(row.Rules, &c.Rules))
}

// FindOIDCSettings returns an authority's sign-in configuration for
// admins and the authority's IT; the client secret is not even decrypted.
func (db *DB) FindOIDCSettings(ctx context.Context, s cmdb.Scope, authorityID int64) (*cmdb.OIDCSettings, error) {
	if _, err := db.FindAuthorityByID(ctx, s, authorityID); err != nil {
		return nil, err
	}
	var row struct {
		Issuer    string         `db:"issuer"`
		ClientID  string         `db:"client_id"`
		SecretSet bool           `db:"secret_set"`
		Scopes    pq.StringArray `db:"scopes"`
		Rules     []byte         `db:"rules"`
		UpdatedAt time.Time      `db:"updated_at"`
	}
	err := db.db.GetContext(ctx, &row, `SELECT issuer, client_id, length(client_secret_enc) > 0 AS secret_set, scopes, rules, updated_at
		FROM oidc_configs WHERE authority_id = $1`, authorityID)
	if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "No single sign-on is set up for authority %d.", authorityID)
	} else if err != nil {
		return nil, mapErr("postgres.FindOIDCSettings", err)
	}
	c := &cmdb.OIDCSettings{AuthorityID: authorityID, Issuer: row.Issuer, ClientID: row.ClientID, ClientSecretSet: row.SecretSet,
		Scopes: append([]string{}, row.Scopes...), Rules: []cmdb.ClaimRule{}, UpdatedAt: row.UpdatedAt}
	if err := json.Unmarshal(row.Rules, &c.Rules); err != nil {
		return nil, mapErr("postgres.FindOIDCSettings", err)
	}
	return c, nil
}

// SignInExternal signs in a user vouched for by an authority's OpenID
// provider: it finds them by issuer and subject (or links a local account
// with the same, verified e-mail address), creates them if new, replaces
// the memberships that issuer granted with id.Memberships, and starts a
// session.
func (db *DB) SignInExternal(ctx context.Context, id cmdb.ExternalIdentity, meta cmdb.RequestMeta) (*cmdb.User, cmdb.Secret, error) {
	email, err := cmdb.NormalizeEmail("email", id.Email)
	if err != nil || id.Issuer == "" || id.Subject == "" {
		return nil, "", cmdb.Errorf(cmdb.EUNAUTHORIZED, "The identity provider did not give a usable e-mail address.")
	}
	now := db.now()
	var userID int64
	var tok cmdb.Secret
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &userID, `SELECT user_id FROM user_identities WHERE issuer = $1 AND subject = $2`, id.Issuer, id.Subject)
		if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
			err = tx.GetContext(ctx, &userID, `SELECT id FROM users WHERE email = $1`, email)
			switch {
			case err == nil && !id.EmailVerified:
				return cmdb.Errorf(cmdb.EUNAUTHORIZED, "An account with this e-mail address exists; sign in with its password.")
			case cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND:
				if err := tx.GetContext(ctx, &userID, `INSERT INTO users (email, name, created_at) VALUES ($1, $2, $3) RETURNING id`,
					email, truncateName(id.Name), now); err != nil {
					return err
				}
				if err := audit(ctx, tx, cmdb.Scope{Subject: id.Issuer, IP: meta.IP}, cmdb.AuditUserCreated, "user:"+itoa(userID),
					id.AuthorityID, map[string]any{"email": email, "issuer": id.Issuer}, now); err != nil {
					return err
				}
			case err != nil:
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO user_identities (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4)`,
				id.Issuer, id.Subject, userID, now); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		var disabled bool
		if err := tx.GetContext(ctx, &disabled, `UPDATE users SET name = CASE WHEN $2 = '' THEN name ELSE $2 END, last_sign_in_at = $3
			WHERE id = $1 RETURNING disabled`, userID, truncateName(id.Name), now); err != nil {
			return err
		} else if disabled {
			return cmdb.Errorf(cmdb.EUNAUTHORIZED, "This account is disabled.")
		}
		if err := db.syncMemberships(ctx, tx, userID, id, meta, now); err != nil {
			return err
		}
		if tok, err = db.startSession(ctx, tx, userID, meta, now); err != nil {
			return err
		}
		return audit(ctx, tx, cmdb.Scope{Subject: "user:" + itoa(userID), IP: meta.IP}, cmdb.AuditSignIn, "user:"+itoa(userID),
			id.AuthorityID, map[string]any{"method": "oidc", "issuer": id.Issuer}, now)
	})
	if err != nil {
		return nil, "", mapErr("postgres.SignInExternal", err)
	}
	u, err := db.FindUserByID(ctx, cmdb.AdminScope("system"), userID)
	return u, tok, err
}

// syncMemberships makes the memberships granted by the issuer equal to
// id.Memberships; memberships granted by hand stay.
func (db *DB) syncMemberships(ctx context.Context, tx *sqlx.Tx, userID int64, id cmdb.ExternalIdentity, meta cmdb.RequestMeta, now time.Time) error {
	have, err := db.memberships(ctx, tx, userID)
	if err != nil {
		return err
	}
	key := func(m cmdb.Membership) string { return m.Role + "|" + m.OrgKind + "|" + itoa(m.OrgID) }
	want := map[string]cmdb.Membership{}
	for _, m := range id.Memberships {
		want[key(m)] = m
	}
	actor := cmdb.Scope{Subject: id.Issuer, IP: meta.IP, Authorities: []int64{id.AuthorityID}}
	for _, m := range have {
		if _, ok := want[key(m)]; ok {
			delete(want, key(m))
		} else if m.Source == id.Issuer && m.AuthorityID == id.AuthorityID {
			if _, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE id = $1`, m.ID); err != nil {
				return err
			}
			if err := audit(ctx, tx, actor, cmdb.AuditMembershipRemove, "user:"+itoa(userID), m.AuthorityID,
				map[string]any{"role": m.Role, "org_kind": m.OrgKind, "org_id": m.OrgID, "source": id.Issuer}, now); err != nil {
				return err
			}
		}
	}
	for _, m := range want {
		m.UserID, m.Source = userID, id.Issuer
		if err := db.addMembership(ctx, tx, actor, &m); err != nil {
			return err
		}
	}
	return nil
}

func truncateName(n string) string {
	r := []rune(strings.TrimSpace(n))
	if len(r) > cmdb.MaxNameLen {
		r = r[:cmdb.MaxNameLen]
	}
	return string(r)
}

// FindSignInChoices lists the authorities with single sign-on by name;
// see cmdb.AccountStore.
func (db *DB) FindSignInChoices(ctx context.Context) ([]cmdb.SignInChoice, error) {
	out := []cmdb.SignInChoice{}
	err := db.db.SelectContext(ctx, &out, `SELECT a.code, a.name FROM oidc_configs o JOIN authorities a ON a.id = o.authority_id
		ORDER BY a.name, a.code`)
	return out, mapErr("postgres.FindSignInChoices", err)
}
