package cmdb

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Authority is a school authority (Schulträger): the root of a tenant tree.
// Every CI, ticket and credential belongs to exactly one authority.
type Authority struct {
	ID        int64     `json:"id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// School belongs to one authority. Code is its stable short code, usually
// the official school number; it is unique within the authority.
type School struct {
	ID          int64  `json:"id"`
	AuthorityID int64  `json:"authority_id"`
	Code        string `json:"code"`
	Name        string `json:"name"`
}

// Building belongs to one school; Code is unique within the school.
type Building struct {
	ID       int64  `json:"id"`
	SchoolID int64  `json:"school_id"`
	Code     string `json:"code"`
	Name     string `json:"name"`
}

// Room belongs to one building; Code is unique within the building.
// SchoolID and AuthorityID are read-only and follow from the building.
type Room struct {
	ID          int64  `json:"id"`
	BuildingID  int64  `json:"building_id"`
	SchoolID    int64  `json:"school_id"`
	AuthorityID int64  `json:"authority_id"`
	Code        string `json:"code"`
	Name        string `json:"name"`
}

// Provider is a service organisation (2nd/3rd level support) with
// contracts to zero or more authorities.
type Provider struct {
	ID          int64   `json:"id"`
	Code        string  `json:"code"`
	Name        string  `json:"name"`
	Authorities []int64 `json:"authority_ids"`
}

// Scope is what a caller may see and change. Every store method takes one
// and filters by it in the store itself. The zero Scope sees nothing.
// It is made from the caller's memberships (or API token) by the account
// store.
type Scope struct {
	// Subject names the caller for history and audit, e.g. "user:42" or
	// "token:7". Hand edits are recorded with Source().
	Subject string
	// UserID is the signed-in user, 0 for integration tokens.
	UserID int64
	// Admin callers (platform admins) see and change every tenant.
	Admin bool
	// Authorities the caller sees and changes completely (authority IT).
	Authorities []int64
	// Schools whose rooms and devices the caller sees and changes (school IT).
	Schools []int64
	// ReadSchools whose devices the caller sees (teachers).
	ReadSchools []int64
	// Providers the caller works for; they see what is assigned to them.
	Providers []int64
	// IP is the caller's address, for the audit log.
	IP string
	// ViaToken is set when the caller authenticated with an API token
	// rather than by signing in; such callers cannot change credentials.
	ViaToken bool
}

// Grants reports whether the scope itself carries the membership's
// power, so that a token made by this caller never exceeds it.
func (s Scope) Grants(m Membership) bool {
	switch m.Role {
	case RoleAdmin:
		return s.Admin
	case RoleAuthorityIT:
		return slices.Contains(s.Authorities, m.OrgID)
	case RoleSchoolIT:
		return slices.Contains(s.Schools, m.OrgID)
	case RoleTeacher:
		return slices.Contains(s.Schools, m.OrgID) || slices.Contains(s.ReadSchools, m.OrgID)
	case RoleProvider:
		return slices.Contains(s.Providers, m.OrgID)
	}
	return false
}

// CanSeeAuthority reports whether the whole authority is visible, and
// changeable: authority IT and admins.
func (s Scope) CanSeeAuthority(id int64) bool {
	return s.Admin || slices.Contains(s.Authorities, id)
}

// CanSee reports whether an object of the authority (and optional school)
// is visible to the scope.
func (s Scope) CanSee(authorityID, schoolID int64) bool {
	return s.CanWrite(authorityID, schoolID) || (schoolID != 0 && slices.Contains(s.ReadSchools, schoolID))
}

// CanWrite reports whether the scope may change an object of the
// authority (and optional school).
func (s Scope) CanWrite(authorityID, schoolID int64) bool {
	return s.CanSeeAuthority(authorityID) || (schoolID != 0 && slices.Contains(s.Schools, schoolID))
}

// VisibleSchools lists the schools seen through school memberships.
func (s Scope) VisibleSchools() []int64 {
	return append(append([]int64{}, s.Schools...), s.ReadSchools...)
}

// Source is the source name of hand edits and other changes the caller
// makes: "user:" and the subject with characters outside the source
// alphabet replaced by '-', at most 64 of them.
func (s Scope) Source() string {
	id := []rune(s.Subject)
	if len(id) == 0 {
		return "user:system"
	}
	if len(id) > 64 {
		id = id[:64]
	}
	for i, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r)) {
			id[i] = '-'
		}
	}
	return "user:" + string(id)
}

// AdminScope returns a scope that sees everything, for bootstrapping,
// the demo loader and tests.
func AdminScope(subject string) Scope { return Scope{Subject: subject, Admin: true} }

// TenantFilter selects tenant objects; zero fields do not filter.
type TenantFilter struct {
	AuthorityID int64
	SchoolID    int64
	BuildingID  int64
}

// TenantStore manages the tenant tree. Methods return ENOTFOUND for
// objects outside the scope (so that nothing leaks), EINVALID for bad
// input and ECONFLICT for a duplicate code. Creating authorities and
// providers and adding contracts is for platform admins: EFORBIDDEN.
type TenantStore interface {
	CreateAuthority(ctx context.Context, s Scope, a *Authority) error
	FindAuthorities(ctx context.Context, s Scope) ([]*Authority, error)
	FindAuthorityByID(ctx context.Context, s Scope, id int64) (*Authority, error)
	CreateSchool(ctx context.Context, s Scope, v *School) error
	FindSchools(ctx context.Context, s Scope, f TenantFilter) ([]*School, error)
	FindSchoolByID(ctx context.Context, s Scope, id int64) (*School, error)
	CreateBuilding(ctx context.Context, s Scope, v *Building) error
	FindBuildings(ctx context.Context, s Scope, f TenantFilter) ([]*Building, error)
	CreateRoom(ctx context.Context, s Scope, v *Room) error
	FindRooms(ctx context.Context, s Scope, f TenantFilter) ([]*Room, error)
	FindRoomByID(ctx context.Context, s Scope, id int64) (*Room, error)
	FindBuildingByID(ctx context.Context, s Scope, id int64) (*Building, error)

	// UpdateSchool, UpdateBuilding and UpdateRoom rename an object and
	// return it as it is now: EINVALID for a bad code or name (or an
	// empty update), ECONFLICT for a code taken by a sibling, EFORBIDDEN
	// for a caller who sees it but may not change it (schools: authority
	// IT; buildings and rooms: school IT too).
	UpdateSchool(ctx context.Context, s Scope, id int64, u TenantUpdate) (*School, error)
	UpdateBuilding(ctx context.Context, s Scope, id int64, u TenantUpdate) (*Building, error)
	UpdateRoom(ctx context.Context, s Scope, id int64, u TenantUpdate) (*Room, error)
	// DeleteSchool, DeleteBuilding and DeleteRoom delete an empty object;
	// ECONFLICT, naming what is still in it, while CIs, devices, child
	// buildings or rooms, memberships or other objects refer to it.
	DeleteSchool(ctx context.Context, s Scope, id int64) error
	DeleteBuilding(ctx context.Context, s Scope, id int64) error
	DeleteRoom(ctx context.Context, s Scope, id int64) error
	CreateProvider(ctx context.Context, s Scope, v *Provider) error
	FindProviders(ctx context.Context, s Scope) ([]*Provider, error)
	AddContract(ctx context.Context, s Scope, providerID, authorityID int64) error
}

// Limits on text fields, enforced by Validate and by the schema.
const (
	MaxCodeLen = 32
	MaxNameLen = 200
	MaxTextLen = 1000
)

var codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// ValidateCode checks a short code: 1–32 characters of letters, digits,
// dot, dash and underscore, starting with a letter or digit.
func ValidateCode(field, code string) error {
	if code == "" {
		return Invalid(field, "is required")
	} else if len(code) > MaxCodeLen {
		return Invalid(field, "must be at most %d characters", MaxCodeLen)
	} else if !codeRE.MatchString(code) {
		return Invalid(field, "may contain only letters, digits, '.', '-' and '_' and must start with a letter or digit")
	}
	return nil
}

// ValidateName checks a display name: required, at most MaxNameLen characters.
func ValidateName(field, name string) error {
	if strings.TrimSpace(name) == "" {
		return Invalid(field, "is required")
	}
	return ValidateText(field, name, MaxNameLen)
}

// ValidateText checks an optional text for valid UTF-8, no NUL and a maximum length in characters.
func ValidateText(field, v string, max int) error {
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return Invalid(field, "must be valid UTF-8 text without NUL characters")
	} else if utf8.RuneCountInString(v) > max {
		return Invalid(field, "must be at most %d characters", max)
	}
	return nil
}

// Validate checks an authority before it is created.
func (a *Authority) Validate() error {
	if err := ValidateCode("code", a.Code); err != nil {
		return err
	}
	return ValidateName("name", a.Name)
}

// Validate checks a school before it is created.
func (v *School) Validate() error {
	if v.AuthorityID <= 0 {
		return Invalid("authority_id", "is required")
	} else if err := ValidateCode("code", v.Code); err != nil {
		return err
	}
	return ValidateName("name", v.Name)
}

// Validate checks a building before it is created.
func (v *Building) Validate() error {
	if v.SchoolID <= 0 {
		return Invalid("school_id", "is required")
	} else if err := ValidateCode("code", v.Code); err != nil {
		return err
	}
	return ValidateName("name", v.Name)
}

// Validate checks a room before it is created.
func (v *Room) Validate() error {
	if v.BuildingID <= 0 {
		return Invalid("building_id", "is required")
	} else if err := ValidateCode("code", v.Code); err != nil {
		return err
	}
	return ValidateName("name", v.Name)
}

// TenantUpdate renames a school, building or room; nil fields stay.
type TenantUpdate struct {
	Code *string
	Name *string
}

// Validate checks an update: at least one field, each valid.
func (u TenantUpdate) Validate() error {
	if u.Code == nil && u.Name == nil {
		return Invalid("body", "must change code or name")
	} else if u.Code != nil {
		if err := ValidateCode("code", *u.Code); err != nil {
			return err
		}
	}
	if u.Name != nil {
		return ValidateName("name", *u.Name)
	}
	return nil
}

// Validate checks a provider before it is created.
func (v *Provider) Validate() error {
	if err := ValidateCode("code", v.Code); err != nil {
		return err
	}
	return ValidateName("name", v.Name)
}
