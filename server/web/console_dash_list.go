package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// The dashboard's own lists (/uebersicht/<list>): those the ticket queue
// and the device list do not have. Each shows the rows behind one figure
// a page at a time and exports all of them (?format=csv|xlsx).

// dashPageSize is the rows of one page of a list.
const dashPageSize = 100

type dashListView struct {
	Heading, Intro string
	Back           string
	Header         []string
	Rows           [][]link
	Total          int
	From, To       int
	Prev, Next     string
	CSV, XLSX      string
}

// dashListDef is one list: its title, columns and rows.
type dashListDef struct {
	title, intro string
	header       []string // message ids
	rows         func(ctx context.Context, rq *request, f cmdb.DashboardFilter) ([][]link, int, error)
}

func (s *server) dashLists() map[string]dashListDef {
	st := s.opts.Dashboard
	ciLink := func(id int64, name string) link {
		if name == "" {
			name = "#" + strconv.FormatInt(id, 10)
		}
		return link{Text: name, Href: "/cis/" + strconv.FormatInt(id, 10)}
	}
	device := func(rq *request, d *cmdb.DeviceLine) []link {
		return []link{ciLink(d.CIID, d.Name), {Text: rq.tr.T("class." + d.Class)}, {Text: strings.TrimSpace(d.Vendor + " " + d.Model)},
			{Text: d.Serial}, {Text: d.School}, {Text: d.Room}}
	}
	deviceHeader := []string{"dash.col.device", "dash.col.class", "dash.col.model", "dash.col.serial", "dash.col.school", "dash.col.room"}
	return map[string]dashListDef{
		"heute-faellig": {title: "dash.due.title", intro: "dash.due.intro",
			header: []string{"dash.col.number", "dash.col.title", "dash.col.status", "dash.col.priority", "dash.col.school", "dash.col.due"},
			rows: func(ctx context.Context, rq *request, f cmdb.DashboardFilter) ([][]link, int, error) {
				ts, n, err := st.FindDueToday(ctx, rq.Scope, f)
				out := make([][]link, len(ts))
				for i, t := range ts {
					out[i] = []link{{Text: t.Number, Href: "/tickets/" + t.Number}, {Text: t.Title}, {Text: rq.tr.T("status." + t.Status)},
						{Text: strconv.Itoa(t.Priority)}, {Text: t.School}, {Text: rq.tr.DateTime(t.Due)}}
				}
				return out, n, err
			}},
		"nicht-gesehen": {title: "dash.notseen.title", intro: "dash.notseen.intro",
			header: append(append([]string{}, deviceHeader...), "dash.col.source", "dash.col.lastseen"),
			rows: func(ctx context.Context, rq *request, f cmdb.DashboardFilter) ([][]link, int, error) {
				ds, n, err := st.FindNotSeen(ctx, rq.Scope, f)
				out := make([][]link, len(ds))
				for i, d := range ds {
					out[i] = append(device(rq, d), link{Text: sourceName(rq, d.Source)}, link{Text: rq.tr.Date(d.LastSeen)})
				}
				return out, n, err
			}},
		"ohne-agent": {title: "dash.noagent.title", intro: "dash.noagent.intro",
			header: append(append([]string{}, deviceHeader...), "dash.col.lastseen"),
			rows: func(ctx context.Context, rq *request, f cmdb.DashboardFilter) ([][]link, int, error) {
				ds, n, err := st.FindNoAgent(ctx, rq.Scope, f)
				out := make([][]link, len(ds))
				for i, d := range ds {
					seen := rq.tr.T("dash.never")
					if !d.LastSeen.IsZero() {
						seen = rq.tr.Date(d.LastSeen)
					}
					out[i] = append(device(rq, d), link{Text: seen})
				}
				return out, n, err
			}},
		"verbrauchsmaterial": {title: "dash.low.title", intro: "dash.low.intro",
			header: []string{"dash.col.device", "dash.col.model", "dash.col.school", "dash.col.room", "dash.col.supply",
				"dash.col.level", "dash.col.perday", "dash.col.daysleft", "dash.col.measured"},
			rows: func(ctx context.Context, rq *request, f cmdb.DashboardFilter) ([][]link, int, error) {
				ls, n, err := st.FindLowSupplies(ctx, rq.Scope, f)
				out := make([][]link, len(ls))
				for i, l := range ls {
					supply := l.Supply
					if supply == "" {
						supply = rq.tr.T("dash.supply.n", "N", strings.TrimSuffix(strings.TrimPrefix(l.Metric, "supply."), ".percent"))
					}
					perDay, left := rq.tr.T("dash.nouse"), rq.tr.T("dash.nouse")
					if l.PerDay != nil && l.DaysLeft != nil {
						perDay = rq.tr.T("dash.perday", "N", decimal(rq, *l.PerDay, 1))
						left = rq.tr.T("dash.days", "Count", int(*l.DaysLeft), "N", decimal(rq, *l.DaysLeft, 0))
					}
					out[i] = []link{ciLink(l.CIID, l.Name), {Text: strings.TrimSpace(l.Vendor + " " + l.Model)}, {Text: l.School}, {Text: l.Room},
						{Text: supply}, {Text: decimal(rq, l.Percent, 0) + " %"}, {Text: perDay}, {Text: left}, {Text: rq.tr.DateTime(l.At)}}
				}
				return out, n, err
			}},
		"nicht-erreichbar": {title: "dash.unreach.title", intro: "dash.unreach.intro",
			header: []string{"dash.col.address", "dash.col.kind", "dash.col.device", "dash.col.school", "dash.col.misses", "dash.col.lastok", "dash.col.reason"},
			rows: func(ctx context.Context, rq *request, f cmdb.DashboardFilter) ([][]link, int, error) {
				ts, n, err := st.FindUnreachable(ctx, rq.Scope, f)
				out := make([][]link, len(ts))
				for i, t := range ts {
					dev := link{Text: "–"}
					if t.CIID != 0 {
						dev = ciLink(t.CIID, t.Name)
					}
					ok := rq.tr.T("dash.never")
					if t.LastOKAt != nil {
						ok = rq.tr.DateTime(*t.LastOKAt)
					}
					out[i] = []link{{Text: t.Address}, {Text: strings.ToUpper(t.Kind)}, dev, {Text: t.School}, {Text: strconv.Itoa(t.Misses)},
						{Text: ok}, {Text: t.Reason}}
				}
				return out, n, err
			}},
		"wiederholt": {title: "dash.repeat.title", intro: "dash.repeat.intro",
			header: append(append([]string{}, deviceHeader[:4]...), "dash.col.incidents", "dash.col.tickets", "dash.col.since"),
			rows: func(ctx context.Context, rq *request, f cmdb.DashboardFilter) ([][]link, int, error) {
				if s.opts.Failures == nil {
					return nil, 0, cmdb.Errorf(cmdb.ENOTFOUND, "no repeat failures here")
				}
				cs, n, err := s.opts.Failures.FindRepeatFailures(ctx, rq.Scope, cmdb.RepeatFailureFilter{AuthorityID: f.AuthorityID,
					SchoolID: f.SchoolID, Limit: f.Limit, Offset: f.Offset})
				out := make([][]link, len(cs))
				for i, c := range cs {
					row := []link{ciLink(c.ID, c.Name), {Text: rq.tr.T("class." + c.Class)}, {Text: strings.TrimSpace(c.Vendor + " " + c.Model)}, {Text: c.Serial}}
					if rf := c.RepeatFailure; rf != nil {
						row = append(row, link{Text: rq.tr.T("dash.repeat.count", "Count", rf.Count, "Days", rf.WindowDays)},
							link{Text: strings.Join(rf.Tickets, ", ")}, link{Text: rq.tr.Date(rf.Since)})
					} else {
						row = append(row, link{}, link{}, link{})
					}
					out[i] = row
				}
				return out, n, err
			}},
	}
}

// decimal formats x with digits decimals in the page's language.
func decimal(rq *request, x float64, digits int) string {
	s := strconv.FormatFloat(x, 'f', digits, 64)
	if rq.Lang == cmdb.LangDE {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

func (s *server) dashList(w http.ResponseWriter, r *http.Request, rq *request) error {
	def, ok := s.dashLists()[r.PathValue("list")]
	if !ok {
		return cmdb.Errorf(cmdb.ENOTFOUND, "no list %s", r.PathValue("list"))
	}
	f, err := dashFilter(r)
	if err != nil {
		return err
	}
	header := make([]string, len(def.header))
	for i, id := range def.header {
		header[i] = rq.tr.T(id)
	}
	if format := exportFormat(r); format != "" {
		// Every row, not just one page.
		var all [][]string
		f.Limit = 1000
		for {
			rows, total, err := def.rows(r.Context(), rq, f)
			if err != nil {
				return err
			}
			for _, row := range rows {
				cells := make([]string, len(row))
				for i, c := range row {
					cells[i] = c.Text
				}
				all = append(all, cells)
			}
			f.Offset += len(rows)
			if len(rows) == 0 || f.Offset >= total {
				break
			}
		}
		return export(w, format, r.PathValue("list"), header, all)
	}
	page := 1
	if p := r.URL.Query().Get("page"); p != "" {
		if page, err = strconv.Atoi(p); err != nil || page < 1 || page > 1<<20 {
			return cmdb.Invalid("page", "must be a page number")
		}
	}
	f.Limit, f.Offset = dashPageSize, (page-1)*dashPageSize
	rows, total, err := def.rows(r.Context(), rq, f)
	if err != nil {
		return err
	}
	v := dashListView{Heading: rq.tr.T(def.title), Intro: rq.tr.T(def.intro), Header: header, Rows: rows, Total: total,
		Back: href("/uebersicht", "authority", f.AuthorityID, "school", f.SchoolID)}
	if len(rows) > 0 {
		v.From, v.To = f.Offset+1, f.Offset+len(rows)
	}
	at := func(q string, val string) string {
		u := *r.URL
		qs := u.Query()
		qs.Set(q, val)
		if q == "format" {
			qs.Del("page")
		}
		u.RawQuery = qs.Encode()
		return u.Path + "?" + u.RawQuery
	}
	if page > 1 {
		v.Prev = at("page", strconv.Itoa(page-1))
	}
	if f.Offset+len(rows) < total {
		v.Next = at("page", strconv.Itoa(page+1))
	}
	v.CSV, v.XLSX = at("format", "csv"), at("format", "xlsx")
	s.render(w, r, rq, http.StatusOK, "console_dash_list", def.title, v)
	return nil
}
