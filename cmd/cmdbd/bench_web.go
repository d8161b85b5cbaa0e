package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/web"
)

// benchWeb is a signed-in authority IT person on the web handler over a
// bench's store, without the network: the benches of the portal, the
// queue and the device page time its pages as the server renders them.
type benchWeb struct {
	h    http.Handler
	tok  cmdb.Secret
	user *cmdb.User
}

// newBenchWeb makes the person (email, authority IT of authority), signs
// them in with a real session and builds the web handler with the stores
// serve gives it.
func newBenchWeb(ctx context.Context, db *postgres.DB, email string, authority int64) (*benchWeb, error) {
	pw := cmdb.Secret("Gruene-Wiese-2026!")
	u := &cmdb.User{Email: email, Name: "Bench", Memberships: []cmdb.Membership{{Role: cmdb.RoleAuthorityIT, OrgID: authority}}}
	if err := db.CreateUser(ctx, cmdb.AdminScope("bench"), u, pw); err != nil {
		return nil, err
	}
	_, tok, err := db.SignIn(ctx, u.Email, pw, cmdb.RequestMeta{IP: "127.0.0.1"})
	if err != nil {
		return nil, err
	}
	h := web.New(web.Options{Accounts: db, Tickets: db, CIs: db, Tenants: db, KB: db, Catalogue: db, Attachments: db,
		Agents: db, SNMP: db, SLA: db, Failures: db, Monitoring: db, Dashboard: db, Queue: db, Problems: db})
	return &benchWeb{h: h, tok: tok, user: u}, nil
}

// get renders path for the person; a status other than ok (default 200)
// is an error.
func (b *benchWeb) get(ctx context.Context, path string, ok ...int) (*httptest.ResponseRecorder, error) {
	if len(ok) == 0 {
		ok = []int{http.StatusOK}
	}
	req := httptest.NewRequestWithContext(ctx, "GET", path, nil)
	req.AddCookie(&http.Cookie{Name: cmdb.SessionCookie, Value: b.tok.Reveal()})
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	if !slices.Contains(ok, rec.Code) {
		return nil, fmt.Errorf("GET %s: %d", path, rec.Code)
	}
	return rec, nil
}
