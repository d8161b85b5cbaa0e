package demo

import (
	"context"
	"fmt"
	"slices"

	"github.com/schulit/cmdb/server/cmdb"
)

// Password is the demo people's password when Options.Password is empty
// (tests); cmdbd demo gives its own, from CMDB_DEMO_PASSWORD or random.
const Password cmdb.Secret = "Demo-Schule-2026!"

// EmailDomain is the domain of the demo people's addresses (example.
// never delivers mail).
const EmailDomain = "lk-demo.example"

// providerDef is a service provider with a contract for the demo
// authority and the CI classes it looks after.
type providerDef struct {
	Code, Name string
	Classes    []string
}

// providers of the demo: printing and projection are outsourced, the
// rest is the authority's own IT.
var providers = []providerDef{
	{Code: "SYSTEMHAUS-RHEIN", Name: "Systemhaus Rhein GmbH", Classes: []string{cmdb.ClassPrinter, cmdb.ClassMFP}},
	{Code: "MEDIENTECHNIK-WEST", Name: "Medientechnik West", Classes: []string{cmdb.ClassProjector, cmdb.ClassDisplay, cmdb.ClassDocumentCamera}},
}

// personDef is a demo person: a role in the authority, a school (by
// code) or a provider (by code).
type personDef struct {
	Local, Name string // Local is the e-mail address before the @
	Role        string
	Org         string // school or provider code; "" for authority IT
	Language    string
}

// people of the demo: two of the authority's IT (1st level), one IT
// contact per school, teachers in every school and staff of both
// providers; a few read their mail in English.
var people = []personDef{
	{"katrin.vogel", "Katrin Vogel", cmdb.RoleAuthorityIT, "", "de"},
	{"jonas.becker", "Jonas Becker", cmdb.RoleAuthorityIT, "", "de"},

	{"thomas.wagner", "Thomas Wagner", cmdb.RoleSchoolIT, "40123", "de"},
	{"sabine.krueger", "Sabine Krüger", cmdb.RoleSchoolIT, "40456", "de"},
	{"michael.hoffmann", "Michael Hoffmann", cmdb.RoleSchoolIT, "40789", "de"},
	{"petra.schulz", "Petra Schulz", cmdb.RoleSchoolIT, "41012", "de"},
	{"andreas.neumann", "Andreas Neumann", cmdb.RoleSchoolIT, "40987", "de"},

	{"anna.schmidt", "Anna Schmidt", cmdb.RoleTeacher, "40123", "de"},
	{"lukas.meyer", "Lukas Meyer", cmdb.RoleTeacher, "40123", "de"},
	{"claudia.fischer", "Claudia Fischer", cmdb.RoleTeacher, "40123", "de"},
	{"julia.weber", "Julia Weber", cmdb.RoleTeacher, "40456", "de"},
	{"monika.schaefer", "Monika Schäfer", cmdb.RoleTeacher, "40456", "de"},
	{"frank.zimmermann", "Frank Zimmermann", cmdb.RoleTeacher, "40789", "de"},
	{"birgit.lange", "Birgit Lange", cmdb.RoleTeacher, "40789", "de"},
	{"stefan.koch", "Stefan Koch", cmdb.RoleTeacher, "40789", "de"},
	{"sarah.miller", "Sarah Miller", cmdb.RoleTeacher, "41012", "en"},
	{"tobias.hartmann", "Tobias Hartmann", cmdb.RoleTeacher, "41012", "de"},
	{"nicole.wolf", "Nicole Wolf", cmdb.RoleTeacher, "41012", "de"},
	{"heike.schroeder", "Heike Schröder", cmdb.RoleTeacher, "40987", "de"},
	{"jan.peters", "Jan Peters", cmdb.RoleTeacher, "40987", "de"},

	{"markus.braun", "Markus Braun", cmdb.RoleProvider, "SYSTEMHAUS-RHEIN", "de"},
	{"elif.yilmaz", "Elif Yilmaz", cmdb.RoleProvider, "SYSTEMHAUS-RHEIN", "de"},
	{"stefan.richter", "Stefan Richter", cmdb.RoleProvider, "MEDIENTECHNIK-WEST", "de"},
	{"olivia.bennett", "Olivia Bennett", cmdb.RoleProvider, "MEDIENTECHNIK-WEST", "en"},
}

// Email returns a demo person's address.
func (p personDef) Email() string { return p.Local + "@" + EmailDomain }

// person is a demo person in the store, with the scope they act in.
type person struct {
	def   personDef
	id    int64
	scope cmdb.Scope
}

// cast is who is who in the demo, found or created.
type cast struct {
	authority int64
	byLocal   map[string]*person
	providers map[string]int64 // code → id
	// teachers and schoolIT by school id.
	teachers map[int64][]*person
	schoolIT map[int64]*person
	// authIT are the authority's IT; staff the providers' by provider id.
	authIT []*person
	staff  map[int64][]*person
	// providerOf maps a CI class to the provider looking after it.
	providerOf map[string]int64
}

// ensurePeople finds the demo providers by code and the demo people by
// e-mail address and creates those that are missing, with their
// memberships and the shared password (Options.Password, else Password);
// people found already get Options.Password when one is given.
func ensurePeople(ctx context.Context, s Store, scope cmdb.Scope, ids *tenantIDs, sum *Summary, opts Options) (*cast, error) {
	password, resetPassword := opts.Password, opts.Password != ""
	if password == "" {
		password = Password
	}
	c := &cast{authority: ids.authority, byLocal: map[string]*person{}, providers: map[string]int64{},
		teachers: map[int64][]*person{}, schoolIT: map[int64]*person{}, staff: map[int64][]*person{}, providerOf: map[string]int64{}}

	findProviders := func() (map[string]*cmdb.Provider, error) {
		list, err := s.FindProviders(ctx, scope)
		m := map[string]*cmdb.Provider{}
		for _, v := range list {
			m[v.Code] = v
		}
		return m, err
	}
	have, err := findProviders()
	if err != nil {
		return nil, fmt.Errorf("demo: find providers: %w", err)
	}
	for _, pd := range providers {
		v := have[pd.Code]
		if v == nil {
			v = &cmdb.Provider{Code: pd.Code, Name: pd.Name}
			err := s.CreateProvider(ctx, scope, v)
			if v.ID, err = create(err, v.ID, func() (int64, error) {
				m, err := findProviders()
				if m[pd.Code] == nil {
					return 0, err
				}
				return m[pd.Code].ID, err
			}); err != nil {
				return nil, fmt.Errorf("demo: provider %s: %w", pd.Code, err)
			}
		}
		if !slices.Contains(v.Authorities, ids.authority) {
			if err := s.AddContract(ctx, scope, v.ID, ids.authority); err != nil {
				return nil, fmt.Errorf("demo: contract of %s: %w", pd.Code, err)
			}
		}
		c.providers[pd.Code] = v.ID
		for _, cl := range pd.Classes {
			c.providerOf[cl] = v.ID
		}
		sum.Providers++
	}

	users, err := s.FindUsers(ctx, scope)
	if err != nil {
		return nil, fmt.Errorf("demo: find users: %w", err)
	}
	byEmail := map[string]*cmdb.User{}
	for _, u := range users {
		byEmail[u.Email] = u
	}
	for _, pd := range people {
		m := cmdb.Membership{Role: pd.Role}
		switch pd.Role {
		case cmdb.RoleAuthorityIT:
			m.OrgID = ids.authority
		case cmdb.RoleProvider:
			m.OrgID = c.providers[pd.Org]
		default:
			if m.OrgID, err = ids.school(pd.Org); err != nil {
				return nil, err
			}
		}
		u := byEmail[pd.Email()]
		if u == nil {
			u = &cmdb.User{Email: pd.Email(), Name: pd.Name, Language: pd.Language, Memberships: []cmdb.Membership{m}}
			if err := s.CreateUser(ctx, scope, u, password); err != nil {
				return nil, fmt.Errorf("demo: user %s: %w", pd.Email(), err)
			}
			sum.PeopleCreated++
		} else if resetPassword {
			// The demo of this start signs in with this start's password.
			if err := s.SetPassword(ctx, scope, u.ID, "", password); err != nil {
				return nil, fmt.Errorf("demo: password of %s: %w", pd.Email(), err)
			}
		}
		p := &person{def: pd, id: u.ID, scope: scopeOf(u.ID, m)}
		c.byLocal[pd.Local] = p
		switch pd.Role {
		case cmdb.RoleAuthorityIT:
			c.authIT = append(c.authIT, p)
		case cmdb.RoleProvider:
			c.staff[m.OrgID] = append(c.staff[m.OrgID], p)
		case cmdb.RoleSchoolIT:
			c.schoolIT[m.OrgID] = p
		case cmdb.RoleTeacher:
			c.teachers[m.OrgID] = append(c.teachers[m.OrgID], p)
		}
		sum.People++
	}
	return c, nil
}

// scopeOf is the scope a demo person acts in, as their session would
// have it: the loader writes tickets and comments as the people who
// would, so that their history reads like a real one.
func scopeOf(userID int64, m cmdb.Membership) cmdb.Scope {
	s := cmdb.Scope{Subject: fmt.Sprintf("user:%d", userID), UserID: userID}
	switch m.Role {
	case cmdb.RoleAuthorityIT:
		s.Authorities = []int64{m.OrgID}
	case cmdb.RoleSchoolIT:
		s.Schools = []int64{m.OrgID}
	case cmdb.RoleTeacher:
		s.ReadSchools = []int64{m.OrgID}
	case cmdb.RoleProvider:
		s.Providers = []int64{m.OrgID}
	}
	return s
}
