package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/schulit/cmdb/server/api"
)

// The access matrix: every route of the router's own route table, asked
// by every role (and anonymously) about the caller's own tenant and about
// another authority's. A route without an entry here fails the test, and
// so does an entry whose route is gone.
//
// Roles, all held in the "own" authority: teacher and school_it of its
// school, authority_it of the authority, provider of a provider with a
// contract to it, and a platform admin. Every caller uses a personal bearer
// token made for themselves after signing in.
//
// Expectations: an allowed request answers 2xx. A denied one answers 401
// (anonymous), 403 or 404 on the own tenant (400 too where the body names
// an organisation the caller may not use). On the other tenant a non-admin
// never learns that an object exists: 404, or 400 for a body naming
// another authority's organisation; 403 only where the route is closed to
// the role everywhere (roleGate).
// Lists answer 200 to every allowed role and must not hold anything of the
// other tenant.

// accRoles are the callers of the matrix.
var accRoles = []string{"anonymous", "teacher", "school_it", "authority_it", "provider", "admin"}

// accessRule is what one route allows.
type accessRule struct {
	// allow lists the roles besides admin that may use the route on their
	// own tenant. Admins may everywhere, anonymous callers nowhere (except
	// public routes).
	allow []string
	// public routes (Auth=false) answer 2xx to everyone.
	public bool
	// global routes name no tenant object: asked once, not per tenant.
	global bool
	// list: the route lists objects of kind; allowed roles get 200 on both
	// tenants, and a non-admin's list holds nothing of the other tenant.
	list bool
	// sees lists the roles (besides admin) whose list must hold something
	// of their own tenant.
	sees []string
	// blind lists the allowed roles whose list must hold nothing of their
	// own tenant either: they may ask, but are shown only what they may
	// change, which is nothing.
	blind []string
	// kind of the objects listed or created (for the list checks).
	kind string
	// create: the body names an organisation; a caller who may not use it
	// is told it does not exist (400).
	create bool
	// roleGate: the route is closed to every role outside allow whatever
	// the tenant (an action the role cannot do at all), so 403 is right
	// for them on both tenants. Roles in allow are still held to 404/400 on
	// the other tenant.
	roleGate bool
	// req builds the request for a tenant; fixtures that the request
	// destroys are made fresh inside it.
	req func(x *accEnv, tn *accTenant, role string) (path string, body any)
}

// accStaff are the roles that see a school's rooms and devices.
var accStaff = []string{"teacher", "school_it", "authority_it"}

// accCIReaders read the tenant's printer: its school's staff, and the
// provider, because the fixture ticket assigned to it links the printer.
var accCIReaders = []string{"teacher", "school_it", "authority_it", "provider"}

// accPlaceReaders read the tenant's school and first room by id: its
// staff, and the provider, because the fixture ticket assigned to it links
// the printer standing there (a technician must know where to go); no
// other place (TestTicketScopePerRole).
var accPlaceReaders = []string{"teacher", "school_it", "authority_it", "provider"}

func accPath(format string, a ...any) func(*accEnv, *accTenant, string) (string, any) {
	return func(*accEnv, *accTenant, string) (string, any) { return fmt.Sprintf(format, a...), nil }
}

// accessMatrix is keyed by "METHOD PATTERN" as in api.Server.Routes.
var accessMatrix = map[string]accessRule{
	// Public.
	"GET /healthz": {public: true, req: accPath("/healthz")},
	"GET /readyz":  {public: true, req: accPath("/readyz")},
	"POST /auth/login": {public: true, req: func(x *accEnv, _ *accTenant, role string) (string, any) {
		if role == "anonymous" {
			role = "teacher"
		}
		return "/auth/login", map[string]any{"email": x.email[role], "password": accPassword}
	}},
	"POST /auth/logout":        {public: true, req: accPath("/auth/logout")},
	"GET /api/v1/openapi.yaml": {public: true, req: accPath("/api/v1/openapi.yaml")},

	// The caller themselves.
	"POST /auth/logout-everywhere": {global: true, allow: []string{"teacher", "school_it", "authority_it", "provider"}, req: accPath("/auth/logout-everywhere")},
	"GET /auth/me":                 {global: true, allow: []string{"teacher", "school_it", "authority_it", "provider"}, req: accPath("/auth/me")},

	// Users and memberships: admins, and authority IT within their authority.
	"GET /api/v1/users": {global: true, list: true, kind: "user", allow: []string{"teacher", "school_it", "authority_it", "provider"},
		sees: []string{"teacher", "school_it", "authority_it", "provider"}, req: accPath("/api/v1/users")},
	"POST /api/v1/users": {create: true, kind: "user", allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return "/api/v1/users", map[string]any{"email": fmt.Sprintf("new%d@%s.example", x.next(), tn.name), "name": "Neu",
			"memberships": []map[string]any{{"role": "teacher", "org_id": tn.school}}}
	}},
	"GET /api/v1/users/{id}": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/users/%d", tn.user), nil
	}},
	// Renaming: who may create the user (authority IT, for a user of its school).
	"PATCH /api/v1/users/{id}": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		u, _ := x.freshUser(tn)
		return fmt.Sprintf("/api/v1/users/%d", u), map[string]any{"name": "Umbenannt", "email": fmt.Sprintf("umbenannt%d@%s.example", x.next(), tn.name)}
	}},
	"PUT /api/v1/users/{id}/password": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/users/%d/password", tn.user), map[string]any{"password": "Ganz-Anderes-Geheimnis-0815"}
	}},
	"PUT /api/v1/users/{id}/language": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/users/%d/language", tn.user), map[string]any{"language": "en"}
	}},
	"POST /api/v1/users/{id}/memberships": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		u, _ := x.freshUser(tn)
		return fmt.Sprintf("/api/v1/users/%d/memberships", u), map[string]any{"role": "school_it", "org_id": tn.school}
	}},
	"POST /api/v1/users/{id}/unlock": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/users/%d/unlock", tn.user), nil
	}},
	"POST /api/v1/users/{id}/deactivate": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		u, _ := x.freshUser(tn)
		return fmt.Sprintf("/api/v1/users/%d/deactivate", u), nil
	}},
	"POST /api/v1/users/{id}/activate": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		u, _ := x.freshUser(tn)
		x.must(204, "POST", fmt.Sprintf("/api/v1/users/%d/deactivate", u), nil)
		return fmt.Sprintf("/api/v1/users/%d/activate", u), nil
	}},
	"POST /api/v1/users/{id}/sign-out-everywhere": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/users/%d/sign-out-everywhere", tn.user), nil
	}},
	"DELETE /api/v1/memberships/{id}": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		_, m := x.freshUser(tn)
		return fmt.Sprintf("/api/v1/memberships/%d", m), nil
	}},

	// Tokens: everyone lists their own; integration tokens are made and
	// revoked by admins and authority IT.
	"GET /api/v1/tokens": {global: true, list: true, kind: "token", allow: []string{"teacher", "school_it", "authority_it", "provider"},
		sees: []string{"teacher", "school_it", "authority_it", "provider"}, req: accPath("/api/v1/tokens")},
	// Integration tokens are closed to teachers, school IT and providers
	// (403 anywhere); authority IT naming another authority's school must
	// be told it does not exist, like every other create.
	// Tokens are made by people who signed in; through a token, only admins (the bootstrap token) may.
	"POST /api/v1/tokens": {create: true, roleGate: true, kind: "token", allow: []string{}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return "/api/v1/tokens", map[string]any{"name": "Inventar-Import", "role": "teacher", "org_id": tn.school, "integration": true}
	}},
	"DELETE /api/v1/tokens/{id}": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/tokens/%d", x.freshToken(tn)), nil
	}},

	// Audit: admins and authority IT only.
	"GET /api/v1/audit": {list: true, kind: "audit", roleGate: true, allow: []string{"authority_it"}, sees: []string{"authority_it"},
		req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/audit?authority=%d", tn.auth), nil
		}},

	// Enrolment tokens: of the schools the caller may change (school IT of
	// the school, authority IT, admins). Everyone may list, but teachers and
	// providers see none, not even their own school's.
	"GET /api/v1/enrolment-tokens": {list: true, kind: "enrolment_token", allow: []string{"teacher", "school_it", "authority_it", "provider"},
		sees: []string{"school_it", "authority_it"}, blind: []string{"teacher", "provider"},
		req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/enrolment-tokens?school=%d", tn.school), nil
		}},
	"POST /api/v1/enrolment-tokens": {create: true, kind: "enrolment_token", allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return "/api/v1/enrolment-tokens", map[string]any{"school_id": tn.school, "name": fmt.Sprintf("Schuljahr %d", x.next()), "max_uses": 50}
	}},
	"DELETE /api/v1/enrolment-tokens/{id}": {allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/enrolment-tokens/%d", x.freshEnrolmentToken(tn)), nil
	}},

	// Authorities.
	"PUT /api/v1/authorities/{id}/oidc": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/authorities/%d/oidc", tn.auth), map[string]any{"issuer": "https://login." + tn.name + ".example",
			"client_id": "cmdb", "client_secret": "oidc-client-secret", "scopes": []string{"openid", "email"},
			"rules": []map[string]any{{"claim": "groups", "value": "schul-it", "role": "school_it", "org_id": tn.school}}}
	}},
	"GET /api/v1/authorities/{id}/oidc": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		x.freshOIDC(tn)
		return fmt.Sprintf("/api/v1/authorities/%d/oidc", tn.auth), nil
	}},
	"GET /api/v1/authorities": {global: true, list: true, kind: "authority", allow: []string{"teacher", "school_it", "authority_it", "provider"},
		sees: []string{"authority_it"}, req: accPath("/api/v1/authorities")},
	"POST /api/v1/authorities": {global: true, roleGate: true, req: func(x *accEnv, _ *accTenant, _ string) (string, any) {
		return "/api/v1/authorities", map[string]any{"code": fmt.Sprintf("NEU%d", x.next()), "name": "Neuer Schulträger"}
	}},
	"GET /api/v1/authorities/{id}": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/authorities/%d", tn.auth), nil
	}},
	"GET /api/v1/authorities/{id}/tree": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/authorities/%d/tree", tn.auth), nil
	}},

	// Schools, buildings, rooms.
	"GET /api/v1/schools": {list: true, kind: "school", allow: []string{"teacher", "school_it", "authority_it", "provider"}, sees: accStaff,
		req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/schools?authority=%d", tn.auth), nil
		}},
	"POST /api/v1/schools": {create: true, kind: "school", allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return "/api/v1/schools", map[string]any{"authority_id": tn.auth, "code": fmt.Sprintf("S%d", x.next()), "name": "Neue Schule"}
	}},
	"GET /api/v1/schools/{id}": {allow: accPlaceReaders, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/schools/%d", tn.school), nil
	}},
	"GET /api/v1/schools/{id}/labels": {allow: accPlaceReaders, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/schools/%d/labels", tn.school), nil
	}},
	// Renaming and deleting: schools by authority IT, buildings and rooms
	// by those who create them. Deletes take a fresh, empty object.
	"PATCH /api/v1/schools/{id}": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/schools/%d", tn.school), map[string]any{"name": fmt.Sprintf("Gymnasium am See %d", x.next())}
	}},
	"DELETE /api/v1/schools/{id}": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		sch := id(x.must(201, "POST", "/api/v1/schools", map[string]any{"authority_id": tn.auth, "code": fmt.Sprintf("D%d", x.next()), "name": "Leer"}))
		return fmt.Sprintf("/api/v1/schools/%d", sch), nil
	}},
	"GET /api/v1/buildings/{id}": {allow: accStaff, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/buildings/%d", tn.building), nil
	}},
	"PATCH /api/v1/buildings/{id}": {allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/buildings/%d", tn.building), map[string]any{"name": fmt.Sprintf("Haus A %d", x.next())}
	}},
	"DELETE /api/v1/buildings/{id}": {allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		b := id(x.must(201, "POST", "/api/v1/buildings", map[string]any{"school_id": tn.school, "code": fmt.Sprintf("D%d", x.next()), "name": "Leer"}))
		return fmt.Sprintf("/api/v1/buildings/%d", b), nil
	}},
	"PATCH /api/v1/rooms/{id}": {allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/rooms/%d", tn.room2), map[string]any{"name": fmt.Sprintf("Lehrerzimmer %d", x.next())}
	}},
	"DELETE /api/v1/rooms/{id}": {allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		r := id(x.must(201, "POST", "/api/v1/rooms", map[string]any{"building_id": tn.building, "code": fmt.Sprintf("D%d", x.next()), "name": "Leer"}))
		return fmt.Sprintf("/api/v1/rooms/%d", r), nil
	}},
	"GET /api/v1/buildings": {list: true, kind: "building", allow: []string{"teacher", "school_it", "authority_it", "provider"}, sees: accStaff,
		req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/buildings?authority=%d", tn.auth), nil
		}},
	"POST /api/v1/buildings": {create: true, kind: "building", allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return "/api/v1/buildings", map[string]any{"school_id": tn.school, "code": fmt.Sprintf("B%d", x.next()), "name": "Neubau"}
	}},
	"GET /api/v1/rooms": {list: true, kind: "room", allow: []string{"teacher", "school_it", "authority_it", "provider"}, sees: accStaff,
		req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/rooms?authority=%d", tn.auth), nil
		}},
	"POST /api/v1/rooms": {create: true, kind: "room", allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return "/api/v1/rooms", map[string]any{"building_id": tn.building, "code": fmt.Sprintf("R%d", x.next()), "name": "Neuer Raum"}
	}},
	"GET /api/v1/rooms/{id}": {allow: accPlaceReaders, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/rooms/%d", tn.room1), nil
	}},
	"GET /api/v1/rooms/{id}/labels": {allow: accPlaceReaders, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/rooms/%d/labels", tn.room1), nil
	}},

	// Providers: the platform's business.
	"GET /api/v1/providers": {global: true, list: true, kind: "provider", allow: []string{"teacher", "school_it", "authority_it", "provider"},
		sees: []string{"authority_it"}, req: accPath("/api/v1/providers")},
	"POST /api/v1/providers": {roleGate: true, kind: "provider", req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return "/api/v1/providers", map[string]any{"code": fmt.Sprintf("P%d", x.next()), "name": "Neuer Dienstleister", "authority_ids": []int64{tn.auth}}
	}},
	"POST /api/v1/providers/{id}/contracts": {roleGate: true, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/providers/%d/contracts", tn.provider), map[string]any{"authority_id": tn.auth}
	}},

	// CIs: accStaff of the school read them, a provider those its tickets
	// link; school IT and authority IT change them.
	"GET /api/v1/cis": {list: true, kind: "ci", allow: []string{"teacher", "school_it", "authority_it", "provider"}, sees: accCIReaders,
		req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/cis?authority=%d", tn.auth), nil
		}},
	"POST /api/v1/cis": {create: true, kind: "ci", allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return "/api/v1/cis", x.ciBody(tn)
	}},
	"GET /api/v1/cis/{id}": {allow: accCIReaders, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/cis/%d", tn.ci), nil
	}},
	"PATCH /api/v1/cis/{id}": {allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/cis/%d", tn.ci), map[string]any{"name": fmt.Sprintf("Drucker %d", x.next())}
	}},
	"GET /api/v1/cis/{id}/identifiers": {allow: accCIReaders, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/cis/%d/identifiers", tn.ci), nil
	}},
	"GET /api/v1/cis/{id}/provenance": {allow: accCIReaders, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/cis/%d/provenance", tn.ci), nil
	}},
	"GET /api/v1/cis/{id}/locks": {allow: accCIReaders, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/cis/%d/locks", tn.ci), nil
	}},
	"DELETE /api/v1/cis/{id}/locks/{attr}": {allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/cis/%d/locks/%s", tn.ci, x.freshLock(tn)), nil
	}},
	"GET /api/v1/cis/{id}/history": {allow: accCIReaders, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/cis/%d/history", tn.ci), nil
	}},
	"GET /api/v1/cis/{id}/relations": {allow: accCIReaders, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/cis/%d/relations", tn.ci), nil
	}},
	"GET /api/v1/cis/{id}/software": {allow: accCIReaders, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/cis/%d/software", tn.ci), nil
	}},
	"GET /api/v1/cis/{id}/metrics": {allow: accCIReaders, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/cis/%d/metrics?name=counter.pages&limit=100", tn.ci), nil
	}},
	"GET /api/v1/cis/{id}/health-events": {allow: accCIReaders, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/cis/%d/health-events", tn.ci), nil
	}},
	// Merging is authority IT's: duplicates span the schools of an authority.
	"POST /api/v1/cis/{id}/merge": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		keep, remove := x.freshCI(tn), x.freshCI(tn)
		return fmt.Sprintf("/api/v1/cis/%d/merge", keep), map[string]any{"other": remove}
	}},
	"GET /api/v1/locks": {global: true, list: true, kind: "lock", allow: []string{"teacher", "school_it", "authority_it", "provider"}, sees: accStaff,
		req: accPath("/api/v1/locks")},
	"POST /api/v1/relations": {create: true, allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return "/api/v1/relations", map[string]any{"from_ci_id": tn.ci, "to_ci_id": x.freshCI(tn), "kind": "connected_to"}
	}},
	"DELETE /api/v1/relations/{id}": {allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		rel := x.must(201, "POST", "/api/v1/relations", map[string]any{"from_ci_id": tn.ci, "to_ci_id": x.freshCI(tn), "kind": "connected_to"})
		return fmt.Sprintf("/api/v1/relations/%d", id(rel)), nil
	}},

	// Duplicates: authority IT.
	"GET /api/v1/duplicates": {list: true, kind: "duplicate", allow: []string{"teacher", "school_it", "authority_it", "provider"},
		sees: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/duplicates?authority=%d", tn.auth), nil
		}},
	"POST /api/v1/duplicates/{id}/merge": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		d, keep := x.freshDuplicate(tn)
		return fmt.Sprintf("/api/v1/duplicates/%d/merge", d), map[string]any{"keep": keep}
	}},
	"POST /api/v1/duplicates/{id}/dismiss": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		d, _ := x.freshDuplicate(tn)
		return fmt.Sprintf("/api/v1/duplicates/%d/dismiss", d), nil
	}},

	// SNMP polling: credential profiles are for those who change the school
	// (school IT, authority IT), not even readable by its teachers (403);
	// targets and ranges are seen like the school's devices and changed by
	// school IT and authority IT. Creates name the school in the body (a
	// school the caller does not see is 400 on school_id) or, for
	// credentials, in the path (404).
	"GET /api/v1/schools/{id}/snmp-credentials": {allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/schools/%d/snmp-credentials", tn.school), nil
	}},
	"POST /api/v1/schools/{id}/snmp-credentials": {kind: "snmp_credential", allow: []string{"school_it", "authority_it"},
		req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/schools/%d/snmp-credentials", tn.school), x.snmpCredentialBody()
		}},
	"DELETE /api/v1/snmp-credentials/{id}": {allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/snmp-credentials/%d", x.freshSNMPCredential(tn)), nil
	}},
	"GET /api/v1/snmp-targets": {list: true, kind: "snmp_target", allow: []string{"teacher", "school_it", "authority_it", "provider"},
		sees: accStaff, blind: []string{"provider"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/snmp-targets?school=%d", tn.school), nil
		}},
	"POST /api/v1/snmp-targets": {create: true, kind: "snmp_target", allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return "/api/v1/snmp-targets", x.snmpTargetBody(tn)
	}},
	"DELETE /api/v1/snmp-targets/{id}": {allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/snmp-targets/%d", x.freshSNMPTarget(tn)), nil
	}},
	"GET /api/v1/snmp-ranges": {list: true, kind: "snmp_range", allow: []string{"teacher", "school_it", "authority_it", "provider"},
		sees: accStaff, blind: []string{"provider"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/snmp-ranges?school=%d", tn.school), nil
		}},
	"POST /api/v1/snmp-ranges": {create: true, kind: "snmp_range", allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return "/api/v1/snmp-ranges", x.snmpRangeBody(tn)
	}},
	"DELETE /api/v1/snmp-ranges/{id}": {allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/snmp-ranges/%d", x.freshSNMPRange(tn)), nil
	}},

	// Observations speak for a whole authority: authority IT (and integrations).
	"POST /api/v1/observations": {create: true, kind: "ci", allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return "/api/v1/observations", map[string]any{"observations": []map[string]any{{"source": "agent", "authority_id": tn.auth,
			"school_id": tn.school, "class": "desktop", "vendor": "Dell", "serial": fmt.Sprintf("OBS%s%05d", strings.ToUpper(tn.name), x.next())}}}
	}},

	// Tickets: teachers, school IT and authority IT open them on devices of
	// their school; providers see and work only the tickets assigned to
	// them (the fixture ticket is assigned to the tenant's provider), and
	// cannot open tickets on CIs they do not see.
	"GET /api/v1/tickets": {list: true, kind: "ticket", allow: []string{"teacher", "school_it", "authority_it", "provider"},
		sees: []string{"teacher", "school_it", "authority_it", "provider"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/tickets?authority=%d", tn.auth), nil
		}},
	"POST /api/v1/tickets": {create: true, kind: "ticket", allow: accStaff, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return "/api/v1/tickets", x.ticketBody(tn)
	}},
	"GET /api/v1/tickets/{id}": {allow: []string{"teacher", "school_it", "authority_it", "provider"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/tickets/%d", tn.ticket), nil
	}},
	"PATCH /api/v1/tickets/{id}": {allow: []string{"school_it", "authority_it", "provider"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/tickets/%d", tn.ticket), map[string]any{"title": fmt.Sprintf("Drucker zieht kein Papier %d", x.next())}
	}},
	"GET /api/v1/tickets/{id}/comments": {allow: []string{"teacher", "school_it", "authority_it", "provider"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/tickets/%d/comments", tn.ticket), nil
	}},
	"POST /api/v1/tickets/{id}/comments": {allow: []string{"teacher", "school_it", "authority_it", "provider"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/tickets/%d/comments", tn.ticket), map[string]any{"body": "Tritt weiterhin auf."}
	}},
	"POST /api/v1/tickets/{id}/watchers": {allow: []string{"teacher", "school_it", "authority_it", "provider"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/tickets/%d/watchers", tn.ticket), nil
	}},
	"GET /api/v1/tickets/{id}/history": {allow: []string{"teacher", "school_it", "authority_it", "provider"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/tickets/%d/history", tn.ticket), nil
	}},
	// Attachments: whoever sees the ticket (the provider while assigned).
	"GET /api/v1/tickets/{id}/attachments": {allow: []string{"teacher", "school_it", "authority_it", "provider"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/tickets/%d/attachments", tn.ticket), nil
	}},
	"POST /api/v1/tickets/{id}/attachments": {allow: []string{"teacher", "school_it", "authority_it", "provider"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/tickets/%d/attachments", tn.ticket), newForm(x.t, "foto.png", testPNG(x.t, 0))
	}},
	"GET /api/v1/tickets/{id}/attachments/{aid}": {allow: []string{"teacher", "school_it", "authority_it", "provider"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/tickets/%d/attachments/%d", tn.ticket, x.ticketAttachment(tn)), nil
	}},
	// The provider sees the printer while a ticket of theirs links it,
	// and of its tickets only theirs.
	"GET /api/v1/cis/{id}/tickets": {allow: accCIReaders, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/cis/%d/tickets", tn.ci), nil
	}},
	"GET /api/v1/authorities/{id}/priority-matrix": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/authorities/%d/priority-matrix", tn.auth), nil
	}},
	"PUT /api/v1/authorities/{id}/priority-matrix": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/authorities/%d/priority-matrix", tn.auth), map[string]any{"matrix": [][]int{{1, 1, 2}, {2, 3, 4}, {3, 4, 5}}}
	}},
	// Merging needs two fresh open tickets each time (a merged one is closed for good).
	"POST /api/v1/tickets/{id}/merge": {allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		dup := id(x.must(201, "POST", "/api/v1/tickets", x.ticketBody(tn)))
		into := id(x.must(201, "POST", "/api/v1/tickets", x.ticketBody(tn)))
		tn.add("ticket", dup)
		tn.add("ticket", into)
		return fmt.Sprintf("/api/v1/tickets/%d/merge", dup), map[string]any{"into": into}
	}},
	"GET /api/v1/authorities/{id}/repeat-failure-rule": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/authorities/%d/repeat-failure-rule", tn.auth), nil
	}},
	"PUT /api/v1/authorities/{id}/repeat-failure-rule": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/authorities/%d/repeat-failure-rule", tn.auth),
			map[string]any{"default": map[string]any{"threshold": 3, "window_days": 365}, "by_class": map[string]any{"printer": map[string]any{"threshold": 4, "window_days": 180}}}
	}},
	"GET /api/v1/authorities/{id}/pattern-rule": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/authorities/%d/pattern-rule", tn.auth), nil
	}},
	"PUT /api/v1/authorities/{id}/pattern-rule": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/authorities/%d/pattern-rule", tn.auth), map[string]any{"alpha": 0.05, "min_incidents": 4, "min_devices": 2}
	}},
	// Flags are for IT staff; teachers and providers may ask and see none.
	"GET /api/v1/repeat-failures": {list: true, kind: "ci", allow: []string{"teacher", "school_it", "authority_it", "provider"},
		blind: []string{"teacher", "provider"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/repeat-failures?authority_id=%d", tn.auth), nil
		}},
	"GET /api/v1/failure-patterns": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/failure-patterns?authority_id=%d", tn.auth), nil
	}},
	"GET /api/v1/authorities/{id}/monitoring-rules": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/authorities/%d/monitoring-rules", tn.auth), nil
	}},
	"PUT /api/v1/authorities/{id}/monitoring-rules": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/authorities/%d/monitoring-rules", tn.auth), map[string]any{"rules": []map[string]any{
			{"kind": "supply_empty", "opens_ticket": true, "provider_id": tn.provider, "level": 2, "impact": 3, "urgency": 2, "auto_resolve": true}}}
	}},
	// The SLA settings: like the repeat-failure rule, the authority's IT's.
	"GET /api/v1/authorities/{id}/calendar": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/authorities/%d/calendar", tn.auth), nil
	}},
	"PUT /api/v1/authorities/{id}/calendar": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/authorities/%d/calendar", tn.auth), map[string]any{"state": "NW",
			"hours":  map[string]any{"monday": []map[string]string{{"open": "07:30", "close": "16:00"}}},
			"closed": []map[string]string{{"from": "2027-07-19", "to": "2027-08-31", "name": "Sommerferien"}}}
	}},
	"GET /api/v1/authorities/{id}/sla-targets": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/authorities/%d/sla-targets", tn.auth), nil
	}},
	"PUT /api/v1/authorities/{id}/sla-targets": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		var ts []map[string]int
		for p := 1; p <= 5; p++ {
			ts = append(ts, map[string]int{"priority": p, "first_response_minutes": 30 * p, "resolve_minutes": 240 * p})
		}
		return fmt.Sprintf("/api/v1/authorities/%d/sla-targets", tn.auth), map[string]any{"targets": ts}
	}},
	"GET /api/v1/authorities/{id}/holidays": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/authorities/%d/holidays?year=2027", tn.auth), nil
	}},
	// The default categories are the platform's, shared by every tenant.
	"GET /api/v1/ticket-categories": {global: true, allow: []string{"teacher", "school_it", "authority_it", "provider"},
		req: accPath("/api/v1/ticket-categories?class=printer")},
	// The authority's own categories and its service catalogue: its IT
	// changes them; every member reads the active services, providers none.
	"POST /api/v1/ticket-categories": {create: true, kind: "category", allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return "/api/v1/ticket-categories", map[string]any{"authority_id": tn.auth, "class": "general", "name": fmt.Sprintf("Tablet-Koffer %d", x.next())}
	}},
	"PATCH /api/v1/ticket-categories/{id}": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/ticket-categories/%d", tn.category), map[string]any{"name": fmt.Sprintf("Dokumentenkamera %d", x.next())}
	}},
	"DELETE /api/v1/ticket-categories/{id}": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/ticket-categories/%d", x.freshCategory(tn)), nil
	}},
	"GET /api/v1/services": {list: true, kind: "service", allow: []string{"teacher", "school_it", "authority_it", "provider"},
		sees: accStaff, blind: []string{"provider"}, req: accPath("/api/v1/services")},
	"POST /api/v1/services": {create: true, kind: "service", allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return "/api/v1/services", x.serviceBody(tn)
	}},
	"GET /api/v1/services/{id}": {allow: accStaff, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/services/%d", tn.service), nil
	}},
	"PATCH /api/v1/services/{id}": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/services/%d", tn.service), map[string]any{"description": fmt.Sprintf("Stand %d", x.next())}
	}},
	"DELETE /api/v1/services/{id}": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/services/%d", id(x.must(201, "POST", "/api/v1/services", x.serviceBody(tn)))), nil
	}},

	// The knowledge base: the authority's IT writes; its school IT and
	// contracted providers read every article, teachers the public ones
	// (the fixture's kbPublic; its kbInternal is hidden from them). Only
	// authority IT write, so the others are refused anywhere (403).
	"GET /api/v1/kb-articles": {list: true, kind: "kb_article", allow: []string{"teacher", "school_it", "authority_it", "provider"},
		sees: []string{"teacher", "school_it", "authority_it", "provider"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/kb-articles?authority_id=%d", tn.auth), nil
		}},
	"POST /api/v1/kb-articles": {create: true, roleGate: true, kind: "kb_article", allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return "/api/v1/kb-articles", x.kbBody(tn, true)
	}},
	"GET /api/v1/kb-articles/{id}": {allow: []string{"teacher", "school_it", "authority_it", "provider"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/kb-articles/%d", tn.kbPublic), nil
	}},
	"PATCH /api/v1/kb-articles/{id}": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/kb-articles/%d", tn.kbPublic), map[string]any{"body_md": fmt.Sprintf("Eingang prüfen (Stand %d).", x.next())}
	}},
	"DELETE /api/v1/kb-articles/{id}": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/kb-articles/%d", id(x.must(201, "POST", "/api/v1/kb-articles", x.kbBody(tn, false)))), nil
	}},
	"POST /api/v1/tickets/{id}/kb-draft": {kind: "kb_article", allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/tickets/%d/kb-draft", tn.resolved), nil
	}},

	// Problems: the authority's IT; school IT reads those grouping a
	// ticket of its school (the fixture's groups the tenant's ticket);
	// teachers and providers see none (404, an empty list), and cannot
	// open any anywhere (403).
	"GET /api/v1/problems": {list: true, kind: "problem", allow: []string{"teacher", "school_it", "authority_it", "provider"},
		sees: []string{"school_it", "authority_it"}, blind: []string{"teacher", "provider"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/problems?authority_id=%d", tn.auth), nil
		}},
	"POST /api/v1/problems": {create: true, roleGate: true, kind: "problem", allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return "/api/v1/problems", map[string]any{"authority_id": tn.auth, "title": fmt.Sprintf("Papierstau-Serie %d", x.next())}
	}},
	"GET /api/v1/problems/{id}": {allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/problems/%d", tn.problem), nil
	}},
	"PATCH /api/v1/problems/{id}": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/problems/%d", tn.problem), map[string]any{"workaround": fmt.Sprintf("Papier fächern (Stand %d).", x.next())}
	}},
	"GET /api/v1/problems/{id}/history": {allow: []string{"school_it", "authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/problems/%d/history", tn.problem), nil
	}},
	"PUT /api/v1/problems/{id}/tickets/{ticket_id}": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		return fmt.Sprintf("/api/v1/problems/%d/tickets/%d", tn.problem, x.freshTicket(tn)), nil
	}},
	"DELETE /api/v1/problems/{id}/tickets/{ticket_id}": {allow: []string{"authority_it"}, req: func(x *accEnv, tn *accTenant, _ string) (string, any) {
		p := fmt.Sprintf("/api/v1/problems/%d/tickets/%d", tn.problem, x.freshTicket(tn))
		x.must(200, "PUT", p, nil)
		return p, nil
	}},
}

const accPassword = "Matrix-Geheimnis-4711"

// accTenant is one authority's fixtures.
type accTenant struct {
	name                    string
	auth, school, building  int64
	room1, room2            int64
	ci, ci2                 int64 // a printer (with locks and a relation) and a switch, in room1
	relation, dup, provider int64
	user, token             int64 // a teacher of the school and an integration token, not matrix callers
	enrolment               int64 // an enrolment token of the school
	snmpCred, snmpTarget    int64 // an SNMP credential profile and an SNMP target of the school
	snmpRange               int64 // an SNMP discovery range of the school
	ticket                  int64 // a ticket on ci, assigned to provider
	service, category       int64 // a catalogue service and an own ticket category of the authority
	kbPublic, kbInternal    int64 // a public and an internal knowledge-base article of the authority
	resolved                int64 // a resolved ticket with a public comment (its solution)
	problem                 int64 // a problem grouping the tenant's ticket
	connector, connectorRun int64 // a csv connector instance of the authority and a run of it (connector_api_test.go)
	ids                     map[string]map[int64]bool
}

func (tn *accTenant) add(kind string, id int64) {
	if tn.ids[kind] == nil {
		tn.ids[kind] = map[int64]bool{}
	}
	tn.ids[kind][id] = true
}

// owns reports whether a list item of kind belongs to the tenant.
func (tn *accTenant) owns(kind string, item map[string]any) bool {
	num := func(v any) int64 { f, _ := v.(float64); return int64(f) }
	switch kind {
	case "authority":
		return num(item["id"]) == tn.auth
	case "school", "room", "ci", "duplicate", "audit", "enrolment_token", "snmp_target", "snmp_range", "service", "category",
		"kb_article", "problem":
		return num(item["authority_id"]) == tn.auth
	case "lock":
		return tn.ids["ci"][num(item["ci_id"])]
	case "provider":
		for _, a := range asSlice(item["authority_ids"]) {
			if num(a) == tn.auth {
				return true
			}
		}
	case "user":
		for _, m := range asSlice(item["memberships"]) {
			if mm, _ := m.(map[string]any); mm != nil && num(mm["authority_id"]) == tn.auth {
				return true
			}
		}
	}
	return tn.ids[kind][num(item["id"])]
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// accEnv is the server with its fixtures and callers.
type accEnv struct {
	t          *testing.T
	base       string
	adminToken string
	seq        int
	own, other *accTenant
	token      map[string]string // role → personal bearer token
	email      map[string]string // role → e-mail address
	paperJam   int64             // the id of the printer category Papierstau
}

func (x *accEnv) next() int { x.seq++; return x.seq }

type accResp struct {
	code int
	body map[string]any
	raw  string
	hdr  http.Header
}

// message is the error message of a response, for mismatch reports.
func (r accResp) message() string {
	if e, ok := r.body["error"].(map[string]any); ok {
		return fmt.Sprint(e["message"])
	}
	return ""
}

func (x *accEnv) call(token, cookie, method, p string, body any) accResp {
	x.t.Helper()
	var rd io.Reader
	form, isForm := body.(formBody)
	if isForm {
		rd = bytes.NewReader(form.data)
	} else if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, x.base+p, rd)
	if err != nil {
		x.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if isForm {
		req.Header.Set("Content-Type", form.contentType)
	} else if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	cl := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		x.t.Fatalf("%s %s: %v", method, p, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := accResp{code: resp.StatusCode, raw: string(raw), hdr: resp.Header}
	json.Unmarshal(raw, &out.body)
	return out
}

// must performs a request as the platform admin and fails unless the status is want.
func (x *accEnv) must(want int, method, p string, body any) map[string]any {
	x.t.Helper()
	r := x.call(x.adminToken, "", method, p, body)
	if r.code != want {
		x.t.Fatalf("fixture %s %s: status %d, want %d: %s", method, p, r.code, want, r.raw)
	}
	return r.body
}

func (x *accEnv) ciBody(tn *accTenant) map[string]any {
	return map[string]any{"authority_id": tn.auth, "school_id": tn.school, "class": "laptop", "vendor": "Lenovo",
		"serial": fmt.Sprintf("PF%s%05d", strings.ToUpper(tn.name), x.next())}
}

// freshCI makes a laptop in the tenant's school.
func (x *accEnv) freshCI(tn *accTenant) int64 {
	x.t.Helper()
	ci := id(x.must(201, "POST", "/api/v1/cis", x.ciBody(tn)))
	tn.add("ci", ci)
	return ci
}

// freshUser makes an SSO-only teacher of the tenant's school and returns
// the user and membership ids.
// ticketBody opens a paper-jam ticket on the tenant's printer.
func (x *accEnv) ticketBody(tn *accTenant) map[string]any {
	x.t.Helper()
	if x.paperJam == 0 {
		for _, c := range asSlice(x.must(200, "GET", "/api/v1/ticket-categories?class=printer", nil)["items"]) {
			if m := c.(map[string]any); m["name"] == "Papierstau" {
				x.paperJam = id(m)
			}
		}
	}
	return map[string]any{"type": "incident", "title": fmt.Sprintf("Papierstau %d", x.next()), "category_id": x.paperJam,
		"impact": 3, "urgency": 2, "ci_ids": []int64{tn.ci}}
}

func (x *accEnv) freshUser(tn *accTenant) (user, membership int64) {
	x.t.Helper()
	u := x.must(201, "POST", "/api/v1/users", map[string]any{"email": fmt.Sprintf("u%d@%s.example", x.next(), tn.name),
		"memberships": []map[string]any{{"role": "teacher", "org_id": tn.school}}})
	tn.add("user", id(u))
	return id(u), id(asSlice(u["memberships"])[0].(map[string]any))
}

// freshToken makes an integration token of the tenant.
func (x *accEnv) freshToken(tn *accTenant) int64 {
	x.t.Helper()
	tok := id(x.must(201, "POST", "/api/v1/tokens", map[string]any{"name": "Fixture", "role": "teacher", "org_id": tn.school, "integration": true}))
	tn.add("token", tok)
	return tok
}

// freshEnrolmentToken makes an enrolment token for the tenant's school.
func (x *accEnv) freshEnrolmentToken(tn *accTenant) int64 {
	x.t.Helper()
	e := id(x.must(201, "POST", "/api/v1/enrolment-tokens", map[string]any{"school_id": tn.school, "name": fmt.Sprintf("Fixture %d", x.next())}))
	tn.add("enrolment_token", e)
	return e
}

func (x *accEnv) snmpCredentialBody() map[string]any {
	return map[string]any{"name": fmt.Sprintf("Drucker v2c %d", x.next()), "version": "2c", "community": "matrix-community"}
}

func (x *accEnv) snmpTargetBody(tn *accTenant) map[string]any {
	return map[string]any{"school_id": tn.school, "address": fmt.Sprintf("drucker-%d.%s.example:161", x.next(), tn.name), "kind": "snmp"}
}

func (x *accEnv) snmpRangeBody(tn *accTenant) map[string]any {
	n := x.next()
	return map[string]any{"school_id": tn.school, "cidr": fmt.Sprintf("10.%d.%d.0/24", n/256, n%256)}
}

// freshSNMPCredential makes an SNMP credential profile of the tenant's
// school; the answer must not carry the community.
func (x *accEnv) freshSNMPCredential(tn *accTenant) int64 {
	x.t.Helper()
	c := x.must(201, "POST", fmt.Sprintf("/api/v1/schools/%d/snmp-credentials", tn.school), x.snmpCredentialBody())
	for _, f := range []string{"community", "auth_pass", "priv_pass"} {
		if v, ok := c[f]; ok {
			x.t.Fatalf("fixture SNMP credential: the answer carries %s %q", f, v)
		}
	}
	tn.add("snmp_credential", id(c))
	return id(c)
}

// freshSNMPTarget makes an SNMP target in the tenant's school.
func (x *accEnv) freshSNMPTarget(tn *accTenant) int64 {
	x.t.Helper()
	t := id(x.must(201, "POST", "/api/v1/snmp-targets", x.snmpTargetBody(tn)))
	tn.add("snmp_target", t)
	return t
}

// freshSNMPRange makes an SNMP discovery range in the tenant's school.
func (x *accEnv) freshSNMPRange(tn *accTenant) int64 {
	x.t.Helper()
	r := id(x.must(201, "POST", "/api/v1/snmp-ranges", x.snmpRangeBody(tn)))
	tn.add("snmp_range", r)
	return r
}

// freshOIDC makes sure the tenant's authority has a single sign-on set up.
func (x *accEnv) freshOIDC(tn *accTenant) {
	x.t.Helper()
	x.must(200, "PUT", fmt.Sprintf("/api/v1/authorities/%d/oidc", tn.auth), map[string]any{"issuer": "https://login." + tn.name + ".example",
		"client_id": "cmdb", "client_secret": "oidc-client-secret", "rules": []map[string]any{}})
}

// freshLock makes sure the tenant's CI has a lock on owner (a hand edit
// locks what it changes) and returns the attribute.
func (x *accEnv) freshLock(tn *accTenant) string {
	x.t.Helper()
	x.must(200, "PATCH", fmt.Sprintf("/api/v1/cis/%d", tn.ci), map[string]any{"owner": fmt.Sprintf("Hausmeister %d", x.next())})
	return "owner"
}

// freshDuplicate makes two CIs with one hostname and different serials and
// an observation of only that hostname, which makes them a duplicate
// candidate. It returns the candidate and one of its CIs.
func (x *accEnv) freshDuplicate(tn *accTenant) (dup, ci int64) {
	x.t.Helper()
	n := x.next()
	host := fmt.Sprintf("PC-%s-%d", strings.ToUpper(tn.name), n)
	obs := func(m map[string]any) map[string]any {
		m["authority_id"], m["school_id"] = tn.auth, tn.school
		return m
	}
	r := x.must(200, "POST", "/api/v1/observations", map[string]any{"observations": []map[string]any{
		obs(map[string]any{"source": "connector:matrix", "source_key": fmt.Sprintf("%d-a", n), "class": "desktop",
			"serial": fmt.Sprintf("CZC%05dA", n), "vendor": "HP", "hostname": host}),
		obs(map[string]any{"source": "connector:matrix", "source_key": fmt.Sprintf("%d-b", n), "class": "desktop",
			"serial": fmt.Sprintf("CZC%05dB", n), "vendor": "HP", "hostname": host}),
		obs(map[string]any{"source": "agent", "hostname": strings.ToLower(host)}),
	}})
	items := asSlice(r["items"])
	a := int64(items[0].(map[string]any)["ci_id"].(float64))
	b := int64(items[1].(map[string]any)["ci_id"].(float64))
	tn.add("ci", a)
	tn.add("ci", b)
	l := x.must(200, "GET", fmt.Sprintf("/api/v1/duplicates?ci=%d", a), nil)
	ds := asSlice(l["items"])
	if len(ds) != 1 {
		x.t.Fatalf("fixture duplicate of CIs %d and %d: %v", a, b, l)
	}
	return id(ds[0].(map[string]any)), a
}

// newTenant makes an authority with a school, a building, two rooms, a
// printer and a switch with a relation and locks, a duplicate candidate, a
// provider with a contract, a teacher, an integration token, an
// enrolment token, and an SNMP credential profile, target and range.
func (x *accEnv) newTenant(name, code string) *accTenant {
	x.t.Helper()
	tn := &accTenant{name: name, ids: map[string]map[int64]bool{}}
	tn.auth = id(x.must(201, "POST", "/api/v1/authorities", map[string]any{"code": code, "name": "Stadt " + code}))
	tn.school = id(x.must(201, "POST", "/api/v1/schools", map[string]any{"authority_id": tn.auth, "code": "40123", "name": "Gymnasium am See"}))
	tn.building = id(x.must(201, "POST", "/api/v1/buildings", map[string]any{"school_id": tn.school, "code": "A", "name": "Haus A"}))
	tn.add("building", tn.building)
	tn.room1 = id(x.must(201, "POST", "/api/v1/rooms", map[string]any{"building_id": tn.building, "code": "1.12", "name": "Raum 1.12"}))
	tn.room2 = id(x.must(201, "POST", "/api/v1/rooms", map[string]any{"building_id": tn.building, "code": "LZ", "name": "Lehrerzimmer"}))
	// Created by hand, the printer's attributes are locked.
	tn.ci = id(x.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": tn.auth, "room_id": tn.room1, "class": "printer",
		"vendor": "HP", "model": "LaserJet M404dn", "serial": code + "-CNB1R12345", "macs": []string{"3c:d9:2b:01:02:03"}}))
	tn.ci2 = id(x.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": tn.auth, "room_id": tn.room1, "class": "switch",
		"vendor": "LANCOM", "serial": code + "-LC4711"}))
	tn.add("ci", tn.ci)
	tn.add("ci", tn.ci2)
	tn.relation = id(x.must(201, "POST", "/api/v1/relations", map[string]any{"from_ci_id": tn.ci, "to_ci_id": tn.ci2, "kind": "connected_to"}))
	tn.dup, _ = x.freshDuplicate(tn)
	tn.provider = id(x.must(201, "POST", "/api/v1/providers", map[string]any{"code": "IT-" + code, "name": "Systemhaus " + code,
		"authority_ids": []int64{tn.auth}}))
	tn.add("provider", tn.provider)
	tn.user, _ = x.freshUser(tn)
	tn.token = x.freshToken(tn)
	tn.enrolment = x.freshEnrolmentToken(tn)
	tn.snmpCred = x.freshSNMPCredential(tn)
	tn.snmpTarget = x.freshSNMPTarget(tn)
	tn.snmpRange = x.freshSNMPRange(tn)
	body := x.ticketBody(tn)
	body["provider_id"] = tn.provider
	tn.ticket = id(x.must(201, "POST", "/api/v1/tickets", body))
	tn.add("ticket", tn.ticket)
	tn.service = id(x.must(201, "POST", "/api/v1/services", x.serviceBody(tn)))
	tn.category = x.freshCategory(tn)
	tn.kbPublic = id(x.must(201, "POST", "/api/v1/kb-articles", x.kbBody(tn, true)))
	tn.kbInternal = id(x.must(201, "POST", "/api/v1/kb-articles", x.kbBody(tn, false)))
	tn.resolved = x.freshTicket(tn)
	x.must(201, "POST", fmt.Sprintf("/api/v1/tickets/%d/comments", tn.resolved), map[string]any{"body": "Papier neu eingelegt, Einzug gereinigt."})
	x.must(200, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", tn.resolved), map[string]any{"status": "resolved"})
	tn.problem = id(x.must(201, "POST", "/api/v1/problems", map[string]any{"authority_id": tn.auth, "title": "Papierstau im Raum 1.12",
		"ticket_ids": []int64{tn.ticket}}))
	x.connectorFixtures(tn)
	return tn
}

// kbBody is a new knowledge-base article of the tenant's authority.
func (x *accEnv) kbBody(tn *accTenant, public bool) map[string]any {
	return map[string]any{"authority_id": tn.auth, "title": fmt.Sprintf("Papierstau beheben %d", x.next()), "public": public,
		"body_md": "Fach herausziehen, **Papier fächern**, wieder einlegen.", "classes": []string{"printer"}}
}

// freshTicket opens a paper-jam ticket on the tenant's printer.
func (x *accEnv) freshTicket(tn *accTenant) int64 {
	x.t.Helper()
	tk := id(x.must(201, "POST", "/api/v1/tickets", x.ticketBody(tn)))
	tn.add("ticket", tk)
	return tk
}

// signIn makes a user with one role, signs them in and has them make a
// personal token for that role with their session cookie.
func (x *accEnv) signIn(role string, org int64) {
	x.t.Helper()
	email := role + "@matrix.example"
	u := x.must(201, "POST", "/api/v1/users", map[string]any{"email": email, "name": role, "password": accPassword,
		"memberships": []map[string]any{{"role": role, "org_id": org}}})
	x.own.add("user", id(u))
	r := x.login(email)
	var cookie string
	for _, c := range (&http.Response{Header: r.hdr}).Cookies() {
		if c.Name == api.SessionCookie && c.Value != "" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if r.code != 200 || cookie == "" {
		x.t.Fatalf("sign-in of %s: %d %s", email, r.code, r.raw)
	}
	tr := x.call("", cookie, "POST", "/api/v1/tokens", map[string]any{"name": "matrix", "role": role, "org_id": org})
	if tr.code != 201 {
		x.t.Fatalf("personal token of %s: %d %s", email, tr.code, tr.raw)
	}
	x.own.add("token", id(tr.body))
	x.token[role], x.email[role] = tr.body["token"].(string), email
}

// login signs in, waiting out the per-address rate limit.
func (x *accEnv) login(email string) accResp {
	x.t.Helper()
	for i := 0; ; i++ {
		r := x.call("", "", "POST", "/auth/login", map[string]any{"email": email, "password": accPassword})
		if r.code != http.StatusTooManyRequests || i == 10 {
			return r
		}
		time.Sleep(2100 * time.Millisecond)
	}
}

// expect returns whether the role may use the route on the tenant, and
// else the statuses a denial may answer with.
func (r accessRule) expect(role, tenant string) (allowed bool, deny []int) {
	switch {
	case r.public:
		return true, nil
	case role == "anonymous":
		return false, []int{401}
	case role == "admin":
		return true, nil
	}
	permitted := slices.Contains(r.allow, role)
	if tenant != "other" {
		if permitted {
			return true, nil
		}
		if r.roleGate {
			return false, []int{403}
		}
		if r.create {
			return false, []int{400, 403, 404}
		}
		return false, []int{403, 404}
	}
	switch {
	case r.list && permitted:
		return true, nil
	case r.roleGate && !permitted:
		return false, []int{403}
	case r.create:
		return false, []int{400, 404}
	}
	return false, []int{404}
}

type accMismatch struct{ route, role, tenant, got, want, msg string }

func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c, _ := startServerWith(t, "--connector-dir", csvConnectorDir(t), "--import-dir", os.TempDir()) // connector_api_test.go
	x := &accEnv{t: t, base: c.base, adminToken: c.token, token: map[string]string{}, email: map[string]string{}}
	x.own = x.newTenant("own", "OWN")
	x.other = x.newTenant("other", "OTH")
	x.signIn("teacher", x.own.school)
	x.signIn("school_it", x.own.school)
	x.signIn("authority_it", x.own.auth)
	x.signIn("provider", x.own.provider)
	x.signIn("admin", 0)
	t.Logf("fixtures ready in %v", time.Since(start).Round(time.Millisecond))

	routes := api.New(api.Options{}).Routes()
	var bad []accMismatch
	seen := map[string]bool{}
	observed := map[string]map[string]string{} // route → role → codes
	for _, rt := range routes {
		key := rt.Method + " " + rt.Pattern
		seen[key] = true
		rule, ok := accessMatrix[key]
		if !ok {
			t.Errorf("route %s is not in the access matrix: add it to the access matrix", key)
			continue
		}
		if rule.public == rt.Auth {
			t.Errorf("route %s: Auth=%v, but the access matrix says public=%v", key, rt.Auth, rule.public)
		}
		tenants := []string{"own", "other"}
		if rule.global || rule.public {
			tenants = []string{"-"}
		}
		observed[key] = map[string]string{}
		for _, role := range accRoles {
			var codes []string
			for _, tenant := range tenants {
				tn := x.own
				if tenant == "other" {
					tn = x.other
				}
				p, body := rule.req(x, tn, role)
				var r accResp
				if rt.Pattern == "/auth/login" {
					r = x.login(body.(map[string]any)["email"].(string))
				} else {
					r = x.call(x.token[role], "", rt.Method, p, body)
				}
				codes = append(codes, fmt.Sprint(r.code))
				allowed, deny := rule.expect(role, tenant)
				got, want := fmt.Sprint(r.code), "2xx"
				if !allowed {
					want = joinInts(deny)
				}
				switch {
				case allowed && (r.code < 200 || r.code > 299):
					bad = append(bad, accMismatch{key, role, tenant, got, want, r.message()})
				case !allowed && !slices.Contains(deny, r.code):
					bad = append(bad, accMismatch{key, role, tenant, got, want, r.message()})
				case allowed && r.code/100 == 2:
					if kind := rule.kind; kind != "" && rt.Method == "POST" && r.body["id"] != nil {
						tn.add(kind, id(r.body))
					}
					if !rule.list {
						break
					}
					items := asSlice(r.body["items"])
					if role != "admin" {
						var leaked []string
						for _, it := range items {
							if m, _ := it.(map[string]any); m != nil && x.other.owns(rule.kind, m) {
								leaked = append(leaked, fmt.Sprint(cmpOr(m["id"], m["ci_id"])))
							}
						}
						if len(leaked) > 0 {
							bad = append(bad, accMismatch{key, role, tenant, got + " with the other tenant's " + rule.kind + " " + strings.Join(leaked, ","),
								"200 without them", ""})
						}
					}
					if tenant != "other" && (role == "admin" || slices.Contains(rule.sees, role)) &&
						!slices.ContainsFunc(items, func(it any) bool { m, _ := it.(map[string]any); return m != nil && x.own.owns(rule.kind, m) }) {
						bad = append(bad, accMismatch{key, role, tenant, got + " without any own " + rule.kind, "200 with the own tenant's", ""})
					}
					if tenant != "other" && slices.Contains(rule.blind, role) {
						var shown []string
						for _, it := range items {
							if m, _ := it.(map[string]any); m != nil && x.own.owns(rule.kind, m) {
								shown = append(shown, fmt.Sprint(m["id"]))
							}
						}
						if len(shown) > 0 {
							bad = append(bad, accMismatch{key, role, tenant, got + " with the own tenant's " + rule.kind + " " + strings.Join(shown, ","),
								"200 without them", ""})
						}
					}
				}
			}
			observed[key][role] = strings.Join(codes, "/")
		}
	}
	for key := range accessMatrix {
		if !seen[key] {
			t.Errorf("the access matrix has an entry for %s, which is not a route any more: remove it", key)
		}
	}

	// The observed matrix, for the curious (go test -v).
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "route\t"+strings.Join(accRoles, "\t")+"\t(own/other)")
	for _, rt := range routes {
		key := rt.Method + " " + rt.Pattern
		if observed[key] == nil {
			continue
		}
		fmt.Fprint(tw, key)
		for _, role := range accRoles {
			fmt.Fprint(tw, "\t"+observed[key][role])
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	t.Logf("observed statuses:\n%s", sb.String())

	if len(bad) > 0 {
		sort.SliceStable(bad, func(i, j int) bool { return bad[i].route < bad[j].route })
		var sb strings.Builder
		tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "route\trole\ttenant\tgot\twant\tmessage")
		for _, m := range bad {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.route, m.role, m.tenant, m.got, m.want, m.msg)
		}
		tw.Flush()
		t.Errorf("%d access mismatches:\n%s", len(bad), sb.String())
	}
	t.Logf("access matrix of %d routes in %v", len(routes), time.Since(start).Round(time.Millisecond))
}

// cmpOr returns the first non-nil value.
func cmpOr(v ...any) any {
	for _, x := range v {
		if x != nil {
			return x
		}
	}
	return nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, "|")
}

// serviceBody is a new catalogue service of the tenant's authority.
func (x *accEnv) serviceBody(tn *accTenant) map[string]any {
	return map[string]any{"authority_id": tn.auth, "name": fmt.Sprintf("Neues Benutzerkonto %d", x.next()),
		"form": []map[string]any{{"key": "name", "label": "Name", "type": "text", "required": true}}}
}

// freshCategory makes an own general ticket category of the tenant's authority.
func (x *accEnv) freshCategory(tn *accTenant) int64 {
	x.t.Helper()
	return id(x.must(201, "POST", "/api/v1/ticket-categories", map[string]any{"authority_id": tn.auth, "class": "general",
		"name": fmt.Sprintf("Schulserver %d", x.next())}))
}
