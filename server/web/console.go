package web

import (
	"net/http"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// The staff console shares the portal's foundation (sessions, CSRF,
// languages, layout, assets) and adds a second navigation for the people
// who work the tickets and the inventory: authority IT, school IT
// contacts, providers and admins. Teachers never see it.

// isStaff reports whether the scope works in the console.
func isStaff(sc cmdb.Scope) bool {
	return sc.Admin || len(sc.Authorities) > 0 || len(sc.Schools) > 0 || len(sc.Providers) > 0
}

// providerOnly reports whether the scope is a provider's staff and
// nothing more: they see their tickets and those tickets' devices only.
func providerOnly(sc cmdb.Scope) bool {
	return len(sc.Providers) > 0 && !sc.Admin && len(sc.Authorities) == 0 && len(sc.Schools) == 0
}

// staff serves console pages: signed-in staff only; a teacher gets a
// plain "not for you" page. The stores still decide what each caller
// sees: this only keeps the console's pages from teachers.
func (s *server) staff(h handler) http.Handler {
	return s.private(func(w http.ResponseWriter, r *http.Request, rq *request) error {
		if !isStaff(rq.Scope) {
			return cmdb.Errorf(cmdb.EFORBIDDEN, "the console is for IT staff")
		}
		return h(w, r, rq)
	})
}

// consoleLink is one entry of the console's navigation.
type consoleLink struct {
	Href, Label string
	Current     bool
}

// ConsoleNav lists the console's sections for the caller (none for a
// teacher; tickets only for a provider), the current one marked.
func (p *page) ConsoleNav() []consoleLink {
	if p.User == nil || !isStaff(p.scope) {
		return nil
	}
	sections := []struct{ href, id string }{
		{"/tickets", "console.nav.tickets"},
		{"/cis", "console.nav.devices"},
		{"/uebersicht", "console.nav.dashboard"},
		{"/duplikate", "console.nav.duplicates"},
		{"/verwaltung", "console.nav.admin"},
	}
	if providerOnly(p.scope) {
		sections = sections[:1]
	}
	links := make([]consoleLink, 0, len(sections))
	for _, sec := range sections {
		links = append(links, consoleLink{Href: sec.href, Label: p.T(sec.id),
			Current: p.Path == sec.href || strings.HasPrefix(p.Path, sec.href+"/") || strings.HasPrefix(p.Path, sec.href+"?")})
	}
	return links
}

// Wide reports whether the page is one of the console's: those get the
// width of a desk screen for their tables.
func (p *page) Wide() bool {
	for _, l := range p.ConsoleNav() {
		if l.Current {
			return true
		}
	}
	return false
}
