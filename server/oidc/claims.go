package oidc

import "github.com/schulit/cmdb/server/cmdb"

// MapClaims turns ID token claims into memberships with an authority's
// rules. A rule matches when its claim is a string equal to the rule's
// value or an array holding that string; each matching rule grants
// Membership{Role, OrgKind: cmdb.RoleOrgKind(Role), OrgID, Source: issuer}.
// Two rules granting the same role in the same organisation give one
// membership. Rules for unknown roles and for the platform-wide admin role
// never match: an authority's provider cannot make platform admins.
func MapClaims(rules []cmdb.ClaimRule, issuer string, claims map[string]any) []cmdb.Membership {
	var ms []cmdb.Membership
	type key struct {
		role string
		org  int64
	}
	seen := map[key]bool{}
	for _, rule := range rules {
		kind := cmdb.RoleOrgKind(rule.Role)
		if rule.Claim == "" || kind == "" || kind == cmdb.OrgPlatform {
			continue
		}
		if !claimHolds(claims[rule.Claim], rule.Value) {
			continue
		}
		k := key{rule.Role, rule.OrgID}
		if seen[k] {
			continue
		}
		seen[k] = true
		ms = append(ms, cmdb.Membership{Role: rule.Role, OrgKind: kind, OrgID: rule.OrgID, Source: issuer})
	}
	return ms
}

// claimHolds reports whether a claim value is the string want or an array
// containing it.
func claimHolds(v any, want string) bool {
	switch c := v.(type) {
	case string:
		return c == want
	case []string:
		for _, s := range c {
			if s == want {
				return true
			}
		}
	case []any:
		for _, e := range c {
			if s, ok := e.(string); ok && s == want {
				return true
			}
		}
	}
	return false
}
