package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

var _ cmdb.AccountStore = (*DB)(nil)

// userColumns selects a users row into userRow.
const userColumns = `u.id, u.email, u.name, coalesce(u.language, '') AS language, u.disabled, u.password_hash IS NOT NULL AS has_password, u.created_at,
	u.last_sign_in_at, u.locked_until`

type userRow struct {
	ID           int64      `db:"id"`
	Email        string     `db:"email"`
	Name         string     `db:"name"`
	Language     string     `db:"language"`
	Disabled     bool       `db:"disabled"`
	HasPassword  bool       `db:"has_password"`
	CreatedAt    time.Time  `db:"created_at"`
	LastSignInAt *time.Time `db:"last_sign_in_at"`
	LockedUntil  *time.Time `db:"locked_until"`
}

func (r userRow) user() *cmdb.User {
	return &cmdb.User{ID: r.ID, Email: r.Email, Name: r.Name, Language: r.Language, Disabled: r.Disabled, HasPassword: r.HasPassword,
		CreatedAt: r.CreatedAt, LastSignInAt: r.LastSignInAt, LockedUntil: r.LockedUntil, Memberships: []cmdb.Membership{}}
}

const membershipColumns = `m.id, m.user_id AS userid, m.role, m.org_kind AS orgkind, m.org_id AS orgid,
	coalesce(m.authority_id, 0) AS authorityid, m.source, m.created_at AS createdat`

// userVisible adds the condition that the scope may see user rows u:
// admins all, authority IT those with a membership in their authority,
// everyone themselves.
func userVisible(w *where, s cmdb.Scope) {
	if s.Admin {
		return
	}
	w.add(`(u.id = ? OR EXISTS (SELECT 1 FROM memberships vm WHERE vm.user_id = u.id AND vm.authority_id = ANY(?)))`,
		s.UserID, pq.Array(s.Authorities))
}

// FindUsers lists the users visible to the scope with their memberships.
func (db *DB) FindUsers(ctx context.Context, s cmdb.Scope) ([]*cmdb.User, error) {
	return db.findUsers(ctx, db.db, s, 0)
}

// FindUserByID returns one visible user; ENOTFOUND otherwise.
func (db *DB) FindUserByID(ctx context.Context, s cmdb.Scope, id int64) (*cmdb.User, error) {
	us, err := db.findUsers(ctx, db.db, s, id)
	if err != nil {
		return nil, err
	} else if len(us) == 0 {
		return nil, notFound("user", id)
	}
	return us[0], nil
}

func (db *DB) findUsers(ctx context.Context, q sqlx.QueryerContext, s cmdb.Scope, id int64) ([]*cmdb.User, error) {
	var w where
	userVisible(&w, s)
	if id != 0 {
		w.add("u.id = ?", id)
	}
	var rows []userRow
	if err := sqlx.SelectContext(ctx, q, &rows, rebind(`SELECT `+userColumns+` FROM users u WHERE `+w.String()+` ORDER BY u.email`), w.args...); err != nil {
		return nil, mapErr("postgres.FindUsers", err)
	}
	out := make([]*cmdb.User, len(rows))
	byID := map[int64]*cmdb.User{}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.user()
		byID[r.ID], ids[i] = out[i], r.ID
	}
	var ms []cmdb.Membership
	if err := sqlx.SelectContext(ctx, q, &ms, `SELECT `+membershipColumns+` FROM memberships m WHERE m.user_id = ANY($1) ORDER BY m.id`,
		pq.Array(ids)); err != nil {
		return nil, mapErr("postgres.FindUsers", err)
	}
	for _, m := range ms {
		// Others' roles outside the caller's authorities are not theirs to see.
		if s.Admin || m.UserID == s.UserID || (m.AuthorityID != 0 && s.CanSeeAuthority(m.AuthorityID)) {
			byID[m.UserID].Memberships = append(byID[m.UserID].Memberships, m)
		}
	}
	return out, nil
}

// CreateUser creates a user with their memberships. Admins may create
// anyone; authority IT users with memberships in their own authorities.
// An empty password makes an account that signs in only through OIDC.
func (db *DB) CreateUser(ctx context.Context, s cmdb.Scope, u *cmdb.User, password cmdb.Secret) error {
	email, err := cmdb.NormalizeEmail("email", u.Email)
	if err != nil {
		return err
	} else if err := cmdb.ValidateText("name", u.Name, cmdb.MaxNameLen); err != nil {
		return err
	}
	u.Email = email
	if u.Language != "" { // none: the portal follows the browser, mail is German
		if u.Language, err = cmdb.ValidateLanguage("language", u.Language); err != nil {
			return err
		}
	}
	var hash *string
	if password != "" {
		if err := cmdb.ValidatePassword("password", password, email); err != nil {
			return err
		}
		h := hashPassword(password.Reveal())
		hash = &h
	}
	if !s.Admin && len(u.Memberships) == 0 {
		return cmdb.Invalid("memberships", "must hold at least one membership in your authority")
	}
	return mapErr("postgres.CreateUser", db.inTx(ctx, func(tx *sqlx.Tx) error {
		// Every membership is checked before the address is: a caller who
		// may not make this user must not learn whether the address is
		// taken (409) from a different answer than for a free one.
		for i := range u.Memberships {
			if _, err := db.grantable(ctx, tx, s, &u.Memberships[i]); err != nil {
				return cmdb.WithFieldPrefix(err, fmt.Sprintf("memberships[%d]", i))
			}
		}
		err := tx.QueryRowxContext(ctx, `INSERT INTO users (email, name, password_hash, created_at, language) VALUES ($1, $2, $3, $4, $5)
			RETURNING id, created_at`, email, u.Name, hash, db.now(), nullIfEmptyLang(u.Language)).Scan(&u.ID, &u.CreatedAt)
		if ErrorIsUnique(err) {
			return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "email", Message: "a user with this e-mail address already exists"}
		} else if err != nil {
			return err
		}
		u.HasPassword = hash != nil
		ms := u.Memberships
		u.Memberships = []cmdb.Membership{}
		for i := range ms {
			ms[i].UserID, ms[i].Source = u.ID, "local"
			if err := db.addMembership(ctx, tx, s, &ms[i]); err != nil {
				return cmdb.WithFieldPrefix(err, fmt.Sprintf("memberships[%d]", i))
			}
			u.Memberships = append(u.Memberships, ms[i])
		}
		return audit(ctx, tx, s, cmdb.AuditUserCreated, "user:"+itoa(u.ID), firstAuthority(u.Memberships), map[string]any{"email": email}, db.now())
	}))
}

func firstAuthority(ms []cmdb.Membership) int64 {
	for _, m := range ms {
		if m.AuthorityID != 0 {
			return m.AuthorityID
		}
	}
	return 0
}

// AddMembership gives a visible user a role in an organisation.
func (db *DB) AddMembership(ctx context.Context, s cmdb.Scope, m *cmdb.Membership) error {
	if _, err := db.FindUserByID(ctx, s, m.UserID); err != nil {
		return err
	}
	m.Source = "local"
	return mapErr("postgres.AddMembership", db.inTx(ctx, func(tx *sqlx.Tx) error { return db.addMembership(ctx, tx, s, m) }))
}

// addMembership checks the organisation exists and lies where the scope
// may grant roles, then inserts the membership and audits it.
func (db *DB) addMembership(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, m *cmdb.Membership) error {
	authority, err := db.grantable(ctx, tx, s, m)
	if err != nil {
		return err
	}
	var school, provider *int64
	switch m.OrgKind {
	case cmdb.OrgSchool:
		school = &m.OrgID
	case cmdb.OrgProvider:
		provider = &m.OrgID
	}
	var auth *int64
	if authority != 0 {
		auth = &authority
	}
	m.AuthorityID = authority
	err = tx.QueryRowxContext(ctx, `INSERT INTO memberships (user_id, role, org_kind, org_id, authority_id, school_id, provider_id, source, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, created_at`,
		m.UserID, m.Role, m.OrgKind, m.OrgID, auth, school, provider, m.Source, db.now()).Scan(&m.ID, &m.CreatedAt)
	if ErrorIsUnique(err) {
		return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "role", Message: "the user already has this role there"}
	} else if err != nil {
		return err
	}
	return audit(ctx, tx, s, cmdb.AuditMembershipAdded, "user:"+itoa(m.UserID), authority,
		map[string]any{"role": m.Role, "org_kind": m.OrgKind, "org_id": m.OrgID, "source": m.Source}, db.now())
}

// grantable validates m (filling its OrgKind) and checks that its
// organisation exists and lies where the scope may grant the role; it
// returns the organisation's authority (0 for providers). To non-admins a
// missing organisation answers exactly like another authority's.
func (db *DB) grantable(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, m *cmdb.Membership) (int64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	} else if !s.Admin && (m.Role == cmdb.RoleAdmin || m.Role == cmdb.RoleProvider) {
		// Refused before the organisation is looked up: the answer must
		// not tell which providers exist.
		return 0, &cmdb.Error{Code: cmdb.EFORBIDDEN, Field: "role", Message: "only platform admins may grant the role " + m.Role}
	}
	var authority int64
	var err error
	switch m.OrgKind {
	case cmdb.OrgSchool:
		err = tx.GetContext(ctx, &authority, `SELECT authority_id FROM schools WHERE id = $1`, m.OrgID)
	case cmdb.OrgAuthority:
		err = tx.GetContext(ctx, &authority, `SELECT id FROM authorities WHERE id = $1`, m.OrgID)
	case cmdb.OrgProvider:
		err = tx.GetContext(ctx, new(int64), `SELECT id FROM providers WHERE id = $1`, m.OrgID)
	}
	if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
		if !s.Admin {
			// The same answer as for another authority's organisation.
			return 0, cmdb.Invalid("org_id", "%s %d is not in your authority", m.OrgKind, m.OrgID)
		}
		return 0, cmdb.Invalid("org_id", "there is no %s %d", m.OrgKind, m.OrgID)
	} else if err != nil {
		return 0, err
	}
	if !s.Admin && !s.CanSeeAuthority(authority) {
		return 0, cmdb.Invalid("org_id", "%s %d is not in your authority", m.OrgKind, m.OrgID)
	}
	return authority, nil
}

// RemoveMembership takes a role away; the same rules as granting it apply.
func (db *DB) RemoveMembership(ctx context.Context, s cmdb.Scope, id int64) error {
	var m cmdb.Membership
	err := db.db.GetContext(ctx, &m, `SELECT `+membershipColumns+` FROM memberships m WHERE m.id = $1`, id)
	if err != nil {
		if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
			return notFound("membership", id)
		}
		return mapErr("postgres.RemoveMembership", err)
	}
	if _, err := db.FindUserByID(ctx, s, m.UserID); err != nil {
		return notFound("membership", id)
	}
	if !s.Admin && (m.Role == cmdb.RoleAdmin || m.Role == cmdb.RoleProvider || !s.CanSeeAuthority(m.AuthorityID)) {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "You may not take this role away.")
	}
	return mapErr("postgres.RemoveMembership", db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE id = $1`, id); err != nil {
			return err
		}
		return audit(ctx, tx, s, cmdb.AuditMembershipRemove, "user:"+itoa(m.UserID), m.AuthorityID,
			map[string]any{"role": m.Role, "org_kind": m.OrgKind, "org_id": m.OrgID}, db.now())
	}))
}

// manages returns a (visible) user the scope may manage: admins anyone,
// users themselves, and for authority
// IT a user whose every membership lies in their authorities — never one
// who also holds roles elsewhere, at a provider or on the platform.
func (db *DB) manages(ctx context.Context, s cmdb.Scope, id int64) (*cmdb.User, error) {
	u, err := db.FindUserByID(ctx, s, id)
	if err != nil {
		return nil, err
	}
	if s.Admin {
		return u, nil
	}
	if s.UserID == id {
		return u, nil
	}
	// All memberships, also those the caller is not shown.
	all, err := db.memberships(ctx, db.db, id)
	if err != nil {
		return nil, mapErr("postgres.manages", err)
	}
	if !grantsAll(s, all) {
		return nil, cmdb.Errorf(cmdb.EFORBIDDEN, "This user also holds roles outside your authority; ask a platform admin.")
	}
	return u, nil
}

// grantsAll reports whether a non-admin scope may grant every one of
// the memberships, as grantable decides for CreateUser: each lies in one
// of its authorities and is neither admin nor provider.
func grantsAll(s cmdb.Scope, ms []cmdb.Membership) bool {
	for _, m := range ms {
		if m.AuthorityID == 0 || !s.CanSeeAuthority(m.AuthorityID) || m.Role == cmdb.RoleAdmin || m.Role == cmdb.RoleProvider {
			return false
		}
	}
	return true
}

// UpdateUser changes a user's name and e-mail address; see
// cmdb.AccountStore. The rule is CreateUser's: who could make the user
// as they are may change them, so unlike manages there is no exception
// for the caller themselves (school IT cannot rename even their own
// account; authority IT can, holding only their authority's role).
func (db *DB) UpdateUser(ctx context.Context, s cmdb.Scope, id int64, upd cmdb.UserUpdate) (*cmdb.User, error) {
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	u, err := db.FindUserByID(ctx, s, id)
	if err != nil {
		return nil, err
	}
	if !s.Admin {
		// Checked before the address is written: a caller who may not
		// change the user must not learn whether an address is taken.
		// All memberships, also those the caller is not shown; CreateUser
		// demands at least one of a non-admin.
		all, err := db.memberships(ctx, db.db, id)
		if err != nil {
			return nil, mapErr("postgres.UpdateUser", err)
		}
		if len(all) == 0 || !grantsAll(s, all) {
			return nil, cmdb.Errorf(cmdb.EFORBIDDEN, "Only who may create this user may change their name or e-mail address: a platform admin, or the IT of the authority that holds all of their roles.")
		}
	}
	changed := map[string]any{}
	if upd.Name != nil && *upd.Name != u.Name {
		changed["name"] = map[string]string{"old": u.Name, "new": *upd.Name}
	}
	if upd.Email != nil && *upd.Email != u.Email {
		changed["email"] = map[string]string{"old": u.Email, "new": *upd.Email}
	}
	if len(changed) == 0 {
		return u, nil
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE users SET name = coalesce($2, name), email = coalesce($3, email) WHERE id = $1`,
			id, upd.Name, upd.Email)
		if ErrorIsUnique(err) {
			return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "email", Message: "a user with this e-mail address already exists"}
		} else if err != nil {
			return err
		}
		return audit(ctx, tx, s, cmdb.AuditUserUpdated, "user:"+itoa(id), firstAuthority(u.Memberships), changed, db.now())
	})
	if err != nil {
		return nil, mapErr("postgres.UpdateUser", err)
	}
	return db.FindUserByID(ctx, s, id)
}

// SetPassword sets a user's password (themselves, with their current
// password; admins; authority IT over users of their authority) and ends
// all the user's sessions.
func (db *DB) SetPassword(ctx context.Context, s cmdb.Scope, id int64, current, password cmdb.Secret) error {
	u, err := db.manages(ctx, s, id)
	if err != nil {
		return err
	} else if s.ViaToken && s.UserID == id {
		// A token may be narrower than its user: it must not buy a password.
		return cmdb.Errorf(cmdb.EFORBIDDEN, "Change your password signed in, not with an API token.")
	} else if err := cmdb.ValidatePassword("password", password, u.Email); err != nil {
		return err
	}
	if s.UserID == id {
		var hash *string
		if err := db.db.GetContext(ctx, &hash, `SELECT password_hash FROM users WHERE id = $1`, id); err != nil {
			return mapErr("postgres.SetPassword", err)
		}
		if hash != nil && !verifyPassword(*hash, current.Reveal(), db.verifyHook) {
			return cmdb.Invalid("current_password", "is not your current password")
		}
	}
	return mapErr("postgres.SetPassword", db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, id, hashPassword(password.Reveal())); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`, id, db.now()); err != nil {
			return err
		}
		return audit(ctx, tx, s, cmdb.AuditPasswordChanged, "user:"+itoa(id), firstAuthority(u.Memberships), nil, db.now())
	}))
}

// SetUserLanguage sets the language of a user's mail; see
// cmdb.AccountStore. A user may set their own (who else sees them is
// checked by manages for everyone else).
func (db *DB) SetUserLanguage(ctx context.Context, s cmdb.Scope, userID int64, lang string) error {
	lang, err := cmdb.ValidateLanguage("language", lang)
	if err != nil {
		return err
	}
	if _, err := db.manages(ctx, s, userID); err != nil {
		return err
	}
	_, err = db.db.ExecContext(ctx, `UPDATE users SET language = $2 WHERE id = $1`, userID, lang)
	return mapErr("postgres.SetUserLanguage", err)
}

// Unlock lifts a sign-in lockout early (admins and authority IT).
func (db *DB) Unlock(ctx context.Context, s cmdb.Scope, userID int64) error {
	u, err := db.manages(ctx, s, userID)
	if err != nil {
		return err
	} else if s.UserID == userID && !s.Admin {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "You cannot unlock yourself.")
	}
	return mapErr("postgres.Unlock", db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET locked_until = NULL, failed_sign_ins = 0 WHERE id = $1`, userID); err != nil {
			return err
		}
		return audit(ctx, tx, s, cmdb.AuditUnlocked, "user:"+itoa(userID), firstAuthority(u.Memberships), nil, db.now())
	}))
}

// SetUserActive deactivates or reactivates a user (admins, and authority
// IT over users whose every role lies in their authorities). Deactivating
// ends the user's sessions; their personal tokens are refused while the
// user stays deactivated (Authenticate checks) and work again after
// reactivation unless revoked or expired.
func (db *DB) SetUserActive(ctx context.Context, s cmdb.Scope, userID int64, active bool) error {
	u, err := db.manages(ctx, s, userID)
	if err != nil {
		return err
	} else if s.UserID == userID {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "You cannot deactivate or reactivate yourself.")
	}
	action := cmdb.AuditUserActivated
	if !active {
		action = cmdb.AuditUserDeactivated
	}
	return mapErr("postgres.SetUserActive", db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET disabled = $2 WHERE id = $1 AND disabled = $3`, userID, !active, active)
		if err != nil {
			return err
		} else if n, _ := res.RowsAffected(); n == 0 {
			return nil // already so: nothing to record
		}
		if !active {
			if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`, userID, db.now()); err != nil {
				return err
			}
		}
		return audit(ctx, tx, s, action, "user:"+itoa(userID), firstAuthority(u.Memberships), nil, db.now())
	}))
}

// scopeFor makes the scope of a user from their memberships.
func scopeFor(subject string, userID int64, ms []cmdb.Membership) cmdb.Scope {
	s := cmdb.Scope{Subject: subject, UserID: userID}
	for _, m := range ms {
		switch m.Role {
		case cmdb.RoleAdmin:
			s.Admin = true
		case cmdb.RoleAuthorityIT:
			s.Authorities = append(s.Authorities, m.OrgID)
		case cmdb.RoleSchoolIT:
			s.Schools = append(s.Schools, m.OrgID)
		case cmdb.RoleTeacher:
			s.ReadSchools = append(s.ReadSchools, m.OrgID)
		case cmdb.RoleProvider:
			s.Providers = append(s.Providers, m.OrgID)
		}
	}
	return s
}

func (db *DB) memberships(ctx context.Context, q sqlx.QueryerContext, userID int64) ([]cmdb.Membership, error) {
	var ms []cmdb.Membership
	err := sqlx.SelectContext(ctx, q, &ms, `SELECT `+membershipColumns+` FROM memberships m WHERE m.user_id = $1 ORDER BY m.id`, userID)
	return ms, err
}

// ErrorIsUnique reports whether err is a unique-constraint violation.
func ErrorIsUnique(err error) bool {
	pe, ok := err.(*pq.Error)
	return ok && pe.Code == "23505"
}

// nullIfEmptyLang stores a language not chosen as NULL.
func nullIfEmptyLang(lang string) *string {
	if lang == "" {
		return nil
	}
	return &lang
}
