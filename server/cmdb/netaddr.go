package cmdb

import "net/netip"

// nonPublic are address blocks that are not the public internet although
// netip does not flag them: "this network", shared address space (CGNAT),
// IETF protocol assignments, documentation and benchmarking ranges,
// reserved space, NAT64 and discard prefixes.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// PublicAddr reports whether ip is an address on the public internet: a
// global unicast address outside the private (RFC 1918, unique local),
// loopback, link-local, CGNAT, documentation and reserved blocks. An
// IPv4-mapped IPv6 address is judged by its IPv4 address. The server
// refuses to call addresses that are not public on behalf of a tenant
// (an OpenID issuer, say) unless the operator allows it.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}
