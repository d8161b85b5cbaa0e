package oidc

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// publicTransport is an HTTP transport that connects only to public
// addresses. The check runs on the address actually dialled, after name
// resolution, so a name that resolves to a public address when the issuer
// is saved and to 127.0.0.1 later (DNS rebinding) is refused too. It does
// not use HTTP_PROXY: through a proxy the address dialled would be the
// proxy's, and the check would say nothing about the issuer.
func publicTransport() *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: refuseNonPublic}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = d.DialContext
	return t
}

// refuseNonPublic is a net.Dialer Control that refuses to connect to an
// address that is not on the public internet (cmdb.PublicAddr).
func refuseNonPublic(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("refusing to connect to %q: %w", address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !cmdb.PublicAddr(ip) {
		return fmt.Errorf("refusing to connect to %s: not a public address (the operator may allow private issuers with --oidc-allow-private-issuers)", address)
	}
	return nil
}
