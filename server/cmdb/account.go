package cmdb

import (
	"context"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Roles a user holds in an organisation.
const (
	// RoleTeacher reports problems and sees the CIs of their school.
	RoleTeacher = "teacher"
	// RoleSchoolIT keeps rooms and devices of one school right.
	RoleSchoolIT = "school_it"
	// RoleAuthorityIT (1st level) sees and changes everything of an authority.
	RoleAuthorityIT = "authority_it"
	// RoleProvider (2nd/3rd level) sees only what is assigned to their provider.
	RoleProvider = "provider"
	// RoleAdmin runs the platform: tenants, users, credentials, plugins.
	RoleAdmin = "admin"
)

// Roles lists the roles, least powerful first.
var Roles = []string{RoleTeacher, RoleSchoolIT, RoleAuthorityIT, RoleProvider, RoleAdmin}

// Organisation kinds a membership names.
const (
	OrgPlatform  = "platform" // only for admins; OrgID is 0
	OrgAuthority = "authority"
	OrgSchool    = "school"
	OrgProvider  = "provider"
)

// RoleOrgKind returns the kind of organisation a role is held in.
func RoleOrgKind(role string) string {
	switch role {
	case RoleTeacher, RoleSchoolIT:
		return OrgSchool
	case RoleAuthorityIT:
		return OrgAuthority
	case RoleProvider:
		return OrgProvider
	case RoleAdmin:
		return OrgPlatform
	}
	return ""
}

// User is a person who signs in, locally or through OpenID Connect.
type User struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	// Language is the language the user chose (de or en), for the portal
	// and their mail; empty when they never chose: the portal then follows
	// their browser, and mail is German.
	Language     string       `json:"language,omitempty"`
	Disabled     bool         `json:"disabled"`
	HasPassword  bool         `json:"has_password"`
	CreatedAt    time.Time    `json:"created_at"`
	LastSignInAt *time.Time   `json:"last_sign_in_at,omitempty"`
	LockedUntil  *time.Time   `json:"locked_until,omitempty"`
	Memberships  []Membership `json:"memberships"`
}

// UserUpdate is a change of a user's name and e-mail address; a nil
// field stays as it is.
type UserUpdate struct {
	// Name is the display name, 1 to MaxNameLen characters (trimmed).
	Name *string `json:"name,omitempty"`
	// Email is folded to lower case (see NormalizeEmail) and must be
	// unique.
	Email *string `json:"email,omitempty"`
}

// Validate checks the update, trims the name and folds the address.
func (u *UserUpdate) Validate() error {
	if u.Name != nil {
		n := strings.TrimSpace(*u.Name)
		if err := ValidateName("name", n); err != nil {
			return err
		}
		u.Name = &n
	}
	if u.Email != nil {
		e, err := NormalizeEmail("email", *u.Email)
		if err != nil {
			return err
		}
		u.Email = &e
	}
	return nil
}

// Membership gives a user a role in an organisation. The organisation kind
// follows from the role (see RoleOrgKind). AuthorityID is the authority the
// organisation belongs to (0 for providers and the platform).
type Membership struct {
	ID          int64     `json:"id"`
	UserID      int64     `json:"user_id"`
	Role        string    `json:"role"`
	OrgKind     string    `json:"org_kind"`
	OrgID       int64     `json:"org_id"`
	AuthorityID int64     `json:"authority_id,omitempty"`
	Source      string    `json:"source"` // "local" or the OIDC issuer that granted it
	CreatedAt   time.Time `json:"created_at"`
}

// Validate checks the role and that the organisation kind fits it.
func (m *Membership) Validate() error {
	if !contains(Roles, m.Role) {
		return Invalid("role", "must be one of %s", strings.Join(Roles, ", "))
	}
	kind := RoleOrgKind(m.Role)
	if m.OrgKind == "" {
		m.OrgKind = kind
	}
	if m.OrgKind != kind {
		return Invalid("org_kind", "role %s is held in a %s, not a %s", m.Role, kind, m.OrgKind)
	}
	if kind == OrgPlatform {
		m.OrgID = 0
	} else if m.OrgID <= 0 {
		return Invalid("org_id", "is required for role %s", m.Role)
	}
	return nil
}

// SessionCookie is the name of the browser session cookie that the JSON
// API, single sign-on and the web portal all set and read.
const SessionCookie = "cmdb_session"

// Password policy.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

var commonPasswords = map[string]bool{"password1234": true, "passwort1234": true, "123456789012": true,
	"qwertzuiop12": true, "qwertyuiop12": true, "schule123456": true, "hallo1234567": true, "letmein12345": true,
	"administrator": true, "passwortpasswort": true, "passwordpassword": true, "willkommen123": true}

// ValidatePassword checks the password policy: 12 to 256 characters, not
// mostly one character, not a well-known password, not the e-mail address.
func ValidatePassword(field string, p Secret, email string) error {
	pw := p.Reveal()
	n := utf8.RuneCountInString(pw)
	lower := strings.ToLower(pw)
	distinct := map[rune]bool{}
	for _, r := range pw {
		distinct[r] = true
	}
	switch {
	case n < MinPasswordLen:
		return Invalid(field, "must be at least %d characters", MinPasswordLen)
	case n > MaxPasswordLen:
		return Invalid(field, "must be at most %d characters", MaxPasswordLen)
	case len(distinct) < 5:
		return Invalid(field, "must use at least 5 different characters")
	case commonPasswords[lower]:
		return Invalid(field, "is a well-known password")
	case email != "" && strings.Contains(lower, strings.ToLower(strings.SplitN(email, "@", 2)[0])):
		return Invalid(field, "must not contain the e-mail address")
	}
	return nil
}

// NormalizeEmail checks an e-mail address and folds it to lower case.
func NormalizeEmail(field, email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || len(e) > 254 {
		return "", Invalid(field, "must be an e-mail address such as name@schule.de")
	}
	return e, nil
}

// APIToken is a bearer token for the API, scoped to one organisation and
// role. The secret is shown once, at creation; only its hash is stored.
type APIToken struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	UserID    int64      `json:"user_id,omitempty"` // 0: an integration's token
	Role      string     `json:"role"`
	OrgKind   string     `json:"org_kind"`
	OrgID     int64      `json:"org_id"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	LastUsed  *time.Time `json:"last_used_at,omitempty"`
}

// AuditEvent records who did what, when and from where.
type AuditEvent struct {
	ID          int64          `json:"id"`
	At          time.Time      `json:"at"`
	Actor       string         `json:"actor"`
	Action      string         `json:"action"`
	Target      string         `json:"target,omitempty"`
	AuthorityID int64          `json:"authority_id,omitempty"`
	IP          string         `json:"ip,omitempty"`
	Detail      map[string]any `json:"detail,omitempty"`
}

// Audit actions.
const (
	AuditSignIn           = "sign_in"
	AuditSignInFailed     = "sign_in_failed"
	AuditSignOut          = "sign_out"
	AuditSignOutAll       = "sign_out_everywhere"
	AuditLockedOut        = "locked_out"
	AuditUnlocked         = "unlocked"
	AuditUserCreated      = "user_created"
	AuditUserUpdated      = "user_updated"
	AuditPasswordChanged  = "password_changed"
	AuditMembershipAdded  = "membership_added"
	AuditMembershipRemove = "membership_removed"
	AuditTokenCreated     = "token_created"
	AuditTokenRevoked     = "token_revoked"
	AuditMerge            = "ci_merged"
	AuditLockReleased     = "lock_released"
	AuditLockSet          = "lock_set"
	AuditOIDCConfigured   = "oidc_configured"
	AuditUserDeactivated  = "user_deactivated"
	AuditUserActivated    = "user_activated"
	AuditOrgRenamed       = "org_renamed" // a school, building or room
	AuditOrgDeleted       = "org_deleted"
)

// RequestMeta says where a request came from, for audit and rate limits.
type RequestMeta struct {
	IP        string
	UserAgent string
}

// OIDCConfig is an authority's OpenID Connect sign-in: the provider, the
// client and how claims map to memberships.
type OIDCConfig struct {
	AuthorityID  int64       `json:"authority_id"`
	Issuer       string      `json:"issuer"`
	ClientID     string      `json:"client_id"`
	ClientSecret Secret      `json:"client_secret"`
	Scopes       []string    `json:"scopes,omitempty"`
	Rules        []ClaimRule `json:"rules"`
}

// OIDCSettings is an authority's sign-in configuration as shown to
// people: the client secret is never shown, ClientSecretSet says whether
// one is stored.
type OIDCSettings struct {
	AuthorityID     int64       `json:"authority_id"`
	Issuer          string      `json:"issuer"`
	ClientID        string      `json:"client_id"`
	ClientSecretSet bool        `json:"client_secret_set"`
	Scopes          []string    `json:"scopes"`
	Rules           []ClaimRule `json:"rules"`
	UpdatedAt       time.Time   `json:"updated_at"`
}

// ClaimRule grants a role in an organisation to users whose ID token claim
// Claim holds Value (a string claim equal to it, or an array claim
// containing it).
type ClaimRule struct {
	Claim string `json:"claim"`
	Value string `json:"value"`
	Role  string `json:"role"`
	OrgID int64  `json:"org_id"`
}

// ExternalIdentity is a user as an OpenID provider vouched for them, with
// the memberships the authority's claim rules grant.
type ExternalIdentity struct {
	AuthorityID   int64
	Issuer        string
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	Memberships   []Membership
}

// AccountStore manages users, memberships, sessions, tokens and audit.
// Sign-in methods answer EUNAUTHORIZED with one message for every failure
// (unknown user, wrong password, disabled, locked), so nothing is learned
// about which accounts exist.
type AccountStore interface {
	CreateUser(ctx context.Context, s Scope, u *User, password Secret) error
	FindUsers(ctx context.Context, s Scope) ([]*User, error)
	FindUserByID(ctx context.Context, s Scope, id int64) (*User, error)
	SetPassword(ctx context.Context, s Scope, id int64, current, password Secret) error
	AddMembership(ctx context.Context, s Scope, m *Membership) error
	RemoveMembership(ctx context.Context, s Scope, id int64) error
	Unlock(ctx context.Context, s Scope, userID int64) error
	// SetUserActive deactivates (active false) or reactivates a user the
	// scope manages. While deactivated, the user's sign-ins fail like a
	// wrong password, their sessions are ended and their personal tokens
	// refused. ENOTFOUND for a user the scope does not see, EFORBIDDEN for
	// one it may not manage and for the caller themselves.
	SetUserActive(ctx context.Context, s Scope, userID int64, active bool) error
	// SetUserLanguage sets the language of a user's mail (de or en):
	// everyone their own, and who manages the user (see SetPassword).
	SetUserLanguage(ctx context.Context, s Scope, userID int64, lang string) error
	// UpdateUser changes a user's name and e-mail address and returns the
	// user as stored then. Whoever may create the user may: admins
	// anyone, authority IT a user whose every membership (at least one)
	// lies in their authorities and is neither admin nor provider.
	// ENOTFOUND for a user the scope does not see, EFORBIDDEN for one it
	// may not create (school IT, teachers and providers: every user, also
	// themselves), EINVALID naming "name" or "email", ECONFLICT naming
	// "email" for an address another user has. Nothing is written unless
	// all of it is.
	UpdateUser(ctx context.Context, s Scope, userID int64, upd UserUpdate) (*User, error)

	SignIn(ctx context.Context, email string, password Secret, meta RequestMeta) (*User, Secret, error)
	SignInExternal(ctx context.Context, id ExternalIdentity, meta RequestMeta) (*User, Secret, error)
	Session(ctx context.Context, token Secret) (Scope, error)
	SignOut(ctx context.Context, token Secret, meta RequestMeta) error
	SignOutEverywhere(ctx context.Context, s Scope, userID int64, meta RequestMeta) error

	CreateToken(ctx context.Context, s Scope, t *APIToken) (Secret, error)
	FindTokens(ctx context.Context, s Scope) ([]*APIToken, error)
	RevokeToken(ctx context.Context, s Scope, id int64) error
	Authenticate(ctx context.Context, token string) (Scope, error)

	// FindAudit returns a page of matching events and how many match in all.
	FindAudit(ctx context.Context, s Scope, f AuditFilter) ([]*AuditEvent, int, error)

	SetOIDCConfig(ctx context.Context, s Scope, c *OIDCConfig) error
	// FindOIDCSettings returns an authority's sign-in configuration as its
	// IT may read it (admins and the authority's IT), without the client
	// secret; ENOTFOUND for an authority outside the scope or without one.
	FindOIDCSettings(ctx context.Context, s Scope, authorityID int64) (*OIDCSettings, error)
	FindOIDCConfig(ctx context.Context, authorityCode string) (*OIDCConfig, error)
	// FindSignInChoices lists the authorities whose people sign in by
	// single sign-on, for the sign-in page (no caller yet: public names).
	FindSignInChoices(ctx context.Context) ([]SignInChoice, error)
}

// SignInChoice is an authority with single sign-on, as the sign-in page
// offers it: its code (for /auth/oidc/{code}/login) and its name.
type SignInChoice struct {
	Code string `db:"code" json:"code"`
	Name string `db:"name" json:"name"`
}

// AuditFilter selects audit events, newest first.
type AuditFilter struct {
	AuthorityID int64
	Action      string
	Limit       int
	// Offset skips that many of the newest matching events (paging).
	Offset int
}
