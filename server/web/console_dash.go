package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// The dashboard (/uebersicht): an authority's figures at a glance, each
// a link to the list behind it — the staff queue (/tickets) and the
// device list (/cis) with those lists' own query names, or a
// list page of its own (/uebersicht/...) with CSV and XLSX export. The
// store decides what the caller sees: authority IT the whole authority,
// a school IT contact their school.

func (s *server) dashRoutes(mux *http.ServeMux) {
	if s.opts.Dashboard == nil {
		return
	}
	mux.Handle("GET /uebersicht", s.staff(notProviders(s.dashboard)))
	mux.Handle("GET /uebersicht/{list}", s.staff(notProviders(s.dashList)))
	mux.Handle("GET /duplikate", s.staff(notProviders(s.duplicates)))
	mux.Handle("GET /duplikate/{id}", s.staff(notProviders(s.duplicate)))
	mux.Handle("POST /duplikate/{id}", s.staff(notProviders(s.duplicateAction)))
}

// notProviders keeps a provider's staff out: their console is the
// tickets assigned to them (the stores would show them nothing anyway).
func notProviders(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		if providerOnly(rq.Scope) {
			return cmdb.Errorf(cmdb.EFORBIDDEN, "the dashboard is the authority's")
		}
		return h(w, r, rq)
	}
}

// link is a figure or a name with where it leads ("" for plain text).
type link struct {
	Text string
	Href string
	N    int
}

// dashChoice is an authority the caller may look at.
type dashChoice struct {
	ID       int64
	Name     string
	Selected bool
}

type dashTicketRow struct {
	School string
	Cells  []link // priorities 1–5
	Total  link
}

type dashPattern struct {
	Model     link // the model's devices in the device list
	Class     string
	Incidents int
	Devices   []link
	Expected  string
}

type dashboardView struct {
	Choices    []dashChoice // the authorities to choose from, when several
	Chosen     bool
	Authority  string
	Priorities []int
	Tickets    []dashTicketRow
	Totals     dashTicketRow
	Breached   link
	DueToday   link
	Repeat     *link
	RepeatTop  []link
	Patterns   []dashPattern
	// ShowPatterns: the caller sees the whole authority (patterns are the
	// authority's).
	ShowPatterns bool
	NotSeen      []link
	NoAgent      link
	AgentDevices int
	Low          link
	Unreachable  link
}

// dashFilter reads ?authority= and ?school= (bad numbers: EINVALID).
func dashFilter(r *http.Request) (cmdb.DashboardFilter, error) {
	var f cmdb.DashboardFilter
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"authority", &f.AuthorityID}, {"school", &f.SchoolID}} {
		if v := r.URL.Query().Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return f, cmdb.Invalid(p.name, "must be a positive id")
			}
			*p.dst = n
		}
	}
	f.Source = r.URL.Query().Get("source")
	return f, nil
}

// href builds path?query from name/value pairs, leaving out empty and
// zero values.
func href(path string, kv ...any) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v := fmt.Sprint(kv[i+1])
		if v != "" && v != "0" {
			q.Set(kv[i].(string), v)
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func (s *server) dashboard(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	f, err := dashFilter(r)
	if err != nil {
		return err
	}
	v := dashboardView{Priorities: []int{1, 2, 3, 4, 5}}
	auths, err := s.opts.Tenants.FindAuthorities(ctx, rq.Scope)
	if err != nil {
		return err
	}
	d, err := s.opts.Dashboard.Dashboard(ctx, rq.Scope, f)
	if cmdb.ErrorField(err) == "authority" && f.AuthorityID == 0 {
		// Several authorities: the caller chooses first.
		for _, a := range auths {
			v.Choices = append(v.Choices, dashChoice{ID: a.ID, Name: a.Name})
		}
		s.render(w, r, rq, http.StatusOK, "console_dash", "dash.title", v)
		return nil
	} else if err != nil {
		return err
	}
	v.Chosen = true
	a := d.AuthorityID
	if len(auths) > 1 {
		for _, x := range auths {
			v.Choices = append(v.Choices, dashChoice{ID: x.ID, Name: x.Name, Selected: x.ID == a})
		}
	}
	for _, x := range auths {
		if x.ID == a {
			v.Authority = x.Name
		}
	}
	schools := map[int64]string{}
	if ss, err := s.opts.Tenants.FindSchools(ctx, rq.Scope, cmdb.TenantFilter{AuthorityID: a}); err == nil {
		for _, sc := range ss {
			schools[sc.ID] = sc.Name
		}
	} else if cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		return err
	}
	sc := f.SchoolID

	// Open tickets: a row per school, a column per priority.
	rows := map[int64]*dashTicketRow{}
	var order []int64
	v.Totals = dashTicketRow{Cells: make([]link, 5)}
	for p := 1; p <= 5; p++ {
		v.Totals.Cells[p-1] = link{Href: href("/tickets", "status", "open", "authority", a, "school", sc, "priority", p)}
	}
	v.Totals.Total.Href = href("/tickets", "status", "open", "authority", a, "school", sc)
	for _, c := range d.OpenTickets {
		row := rows[c.SchoolID]
		if row == nil {
			name := schools[c.SchoolID]
			if c.SchoolID == 0 {
				name = rq.tr.T("dash.tickets.noschool")
			}
			row = &dashTicketRow{School: name, Cells: make([]link, 5)}
			if c.SchoolID != 0 {
				for p := 1; p <= 5; p++ {
					row.Cells[p-1].Href = href("/tickets", "status", "open", "authority", a, "school", c.SchoolID, "priority", p)
				}
				row.Total.Href = href("/tickets", "status", "open", "authority", a, "school", c.SchoolID)
			}
			rows[c.SchoolID] = row
			order = append(order, c.SchoolID)
		}
		if c.Priority >= 1 && c.Priority <= 5 {
			row.Cells[c.Priority-1].N += c.Count
			v.Totals.Cells[c.Priority-1].N += c.Count
		}
		row.Total.N += c.Count
		v.Totals.Total.N += c.Count
	}
	for _, id := range order {
		v.Tickets = append(v.Tickets, *rows[id])
	}
	v.Breached = link{N: d.SLABreached, Href: href("/tickets", "status", "open", "sla", cmdb.SLAFilterBreached, "authority", a, "school", sc)}
	v.DueToday = link{N: d.DueToday, Href: href("/uebersicht/heute-faellig", "authority", a, "school", sc)}
	for _, n := range d.NotSeen {
		v.NotSeen = append(v.NotSeen, link{Text: sourceName(rq, n.Source), N: n.Count,
			Href: href("/uebersicht/nicht-gesehen", "authority", a, "school", sc, "source", n.Source)})
	}
	v.NoAgent = link{N: d.NoAgent, Href: href("/uebersicht/ohne-agent", "authority", a, "school", sc)}
	v.AgentDevices = d.AgentDevices
	v.Low = link{N: d.LowSupplies, Href: href("/uebersicht/verbrauchsmaterial", "authority", a, "school", sc)}
	v.Unreachable = link{N: d.Unreachable, Href: href("/uebersicht/nicht-erreichbar", "authority", a, "school", sc)}

	if s.opts.Failures != nil {
		top, n, err := s.opts.Failures.FindRepeatFailures(ctx, rq.Scope, cmdb.RepeatFailureFilter{AuthorityID: a, SchoolID: sc, Limit: 5})
		if err != nil {
			return err
		}
		v.Repeat = &link{N: n, Href: href("/uebersicht/wiederholt", "authority", a, "school", sc)}
		for _, c := range top {
			txt := c.Name
			if c.RepeatFailure != nil {
				txt = rq.tr.T("dash.repeat.line", "Name", c.Name, "Count", c.RepeatFailure.Count, "Days", c.RepeatFailure.WindowDays)
			}
			v.RepeatTop = append(v.RepeatTop, link{Text: txt, Href: "/cis/" + strconv.FormatInt(c.ID, 10)})
		}
		if rq.Scope.CanSeeAuthority(a) && sc == 0 {
			v.ShowPatterns = true
			ps, err := s.opts.Failures.FindFailurePatterns(ctx, rq.Scope, a)
			if err != nil {
				return err
			}
			for _, p := range ps {
				dp := dashPattern{Class: rq.tr.T("class." + p.Class), Incidents: p.Incidents,
					Expected: decimal(rq, p.Expected, 1),
					Model: link{Text: strings.TrimSpace(p.Vendor + " " + p.Model), N: p.Devices,
						Href: href("/cis", "traeger", a, "klasse", p.Class, "hersteller", p.Vendor, "modell", p.Model)}}
				for _, dev := range p.DeviceList {
					dp.Devices = append(dp.Devices, link{Text: dev.Name, N: dev.Incidents, Href: "/cis/" + strconv.FormatInt(dev.CIID, 10)})
				}
				v.Patterns = append(v.Patterns, dp)
			}
		}
	}
	s.render(w, r, rq, http.StatusOK, "console_dash", "dash.title", v)
	return nil
}

// sourceName names a source as people say it.
func sourceName(rq *request, source string) string {
	if name, ok := strings.CutPrefix(source, cmdb.SourceConnector+":"); ok {
		return rq.tr.T("dash.source.connector", "Name", name)
	}
	switch source {
	case cmdb.SourceAgent, cmdb.SourceSNMP:
		return rq.tr.T("dash.source." + source)
	}
	return source
}
