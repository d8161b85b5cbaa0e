package oidc_test

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/oidc"
)

// countingListener is a loopback port that counts the connections made
// to it and closes them at once.
func countingListener(t *testing.T) (port string, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = &atomic.Int64{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), accepted
}

// TestPrivateIssuersRefusedByDefault: without AllowPrivateIssuers an
// anonymous visit to the sign-on URL never makes the server connect to a
// loopback port, whether the issuer names it by address, by a name that
// resolves to it (what DNS rebinding does), or over plain http; and the
// answer is the one of an unknown authority.
func TestPrivateIssuersRefusedByDefault(t *testing.T) {
	e := newEnv(t, func(o *oidc.Options) { o.AllowPrivateIssuers = false })
	port, accepted := countingListener(t)
	for code, issuer := range map[string]string{
		"byaddress": "https://127.0.0.1:" + port + "/realms/x",
		"byname":    "https://localhost:" + port + "/realms/x",
		"plainhttp": "http://127.0.0.1:" + port,
	} {
		e.store.configs[code] = &cmdb.OIDCConfig{AuthorityID: 9, Issuer: issuer, ClientID: clientID, ClientSecret: clientSecret, Rules: rules}
	}
	unknown := e.get(e.client(), e.srv.URL+"/auth/oidc/nope/login")
	wantError(t, unknown, http.StatusNotFound, cmdb.ENOTFOUND)
	for _, code := range []string{"byaddress", "byname", "plainhttp", "schule"} {
		r := e.get(e.client(), e.srv.URL+"/auth/oidc/"+code+"/login")
		if r.resp.StatusCode != unknown.resp.StatusCode || r.body != unknown.body {
			t.Errorf("%s: %d %s; want the unknown authority's %d %s", code, r.resp.StatusCode, r.body, unknown.resp.StatusCode, unknown.body)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("the server connected %d times to a loopback port named by an issuer", n)
	}
}

// TestUnreachableProviderAnswersLikeUnknownAuthority: an authority whose
// provider cannot be reached answers exactly like a code that does not
// exist, so the sign-on URL tells nobody which authority codes exist.
func TestUnreachableProviderAnswersLikeUnknownAuthority(t *testing.T) {
	e := newEnv(t)
	port, _ := countingListener(t) // closes every connection: discovery fails
	e.store.configs["dead"] = &cmdb.OIDCConfig{AuthorityID: 9, Issuer: "http://127.0.0.1:" + port, ClientID: clientID,
		ClientSecret: clientSecret, Rules: rules}
	unknown := e.get(e.client(), e.srv.URL+"/auth/oidc/nope/login")
	dead := e.get(e.client(), e.srv.URL+"/auth/oidc/dead/login")
	if unknown.resp.StatusCode != dead.resp.StatusCode || unknown.body != dead.body {
		t.Fatalf("unknown code: %d %s; authority without working SSO: %d %s",
			unknown.resp.StatusCode, unknown.body, dead.resp.StatusCode, dead.body)
	}
	// The operator still learns why.
	if !strings.Contains(e.logs.String(), "provider discovery failed") {
		t.Errorf("log: %s", e.logs.String())
	}
}
