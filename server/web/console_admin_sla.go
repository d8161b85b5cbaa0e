package web

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// The authority's business calendar and SLA targets (SLAStore, as
// /authorities/{id}/calendar and /sla-targets). Opening hours are typed
// per weekday as "07:30–16:00" (several spans with commas), extra closed
// days one range a line; both are shown back as typed when refused.

func (s *server) adminSLARoutes(h func(string, handler)) {
	h("GET /verwaltung/kalender", s.calendarPage)
	h("POST /verwaltung/kalender", s.calendarPage)
	h("GET /verwaltung/sla-ziele", s.targetsPage)
	h("POST /verwaltung/sla-ziele", s.targetsPage)
}

// weekOrder is Monday first, as German calendars are.
var weekOrder = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

func spansText(spans []cmdb.OpeningHours) string {
	var parts []string
	for _, sp := range spans {
		parts = append(parts, sp.Open.String()+"–"+sp.Close.String())
	}
	return strings.Join(parts, ", ")
}

var spanRE = regexp.MustCompile(`^(\d{2}:\d{2})\s*[-–]\s*(\d{2}:\d{2})$`)

// parseSpans reads "07:30–12:00, 13:00–16:00"; empty is a closed day.
func parseSpans(field, v string) ([]cmdb.OpeningHours, error) {
	var out []cmdb.OpeningHours
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		m := spanRE.FindStringSubmatch(part)
		if m == nil {
			return nil, cmdb.Invalid(field, "%q", part)
		}
		open, err := cmdb.ParseTimeOfDay(field, m[1])
		if err != nil {
			return nil, err
		}
		cl, err := cmdb.ParseTimeOfDay(field, m[2])
		if err != nil {
			return nil, err
		}
		out = append(out, cmdb.OpeningHours{Open: open, Close: cl})
	}
	return out, nil
}

func germanDate(d cmdb.Date) string {
	return fmt.Sprintf("%02d.%02d.%04d", d.Day, int(d.Month), d.Year)
}

var closedRE = regexp.MustCompile(`^(\d{1,2}\.\d{1,2}\.\d{4}|\d{4}-\d{2}-\d{2})(?:\s*[-–]\s*(\d{1,2}\.\d{1,2}\.\d{4}|\d{4}-\d{2}-\d{2}))?\s*(.*)$`)

func parseDay(v string) (cmdb.Date, bool) {
	if t, err := time.Parse("2.1.2006", v); err == nil {
		return cmdb.DateOf(t), true
	}
	if d, err := cmdb.ParseDate("date", v); err == nil {
		return d, true
	}
	return cmdb.Date{}, false
}

// parseClosed reads one range a line: "24.12.2026 – 06.01.2027 Name";
// the number of a bad line is returned.
func parseClosed(v string) ([]cmdb.ClosedDays, int) {
	var out []cmdb.ClosedDays
	for i, line := range strings.Split(v, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		m := closedRE.FindStringSubmatch(line)
		if m == nil {
			return nil, i + 1
		}
		from, ok := parseDay(m[1])
		to := from
		if ok && m[2] != "" {
			to, ok = parseDay(m[2])
		}
		if !ok {
			return nil, i + 1
		}
		out = append(out, cmdb.ClosedDays{From: from, To: to, Name: strings.TrimSpace(m[3])})
	}
	return out, 0
}

func closedText(c []cmdb.ClosedDays) string {
	var lines []string
	for _, r := range c {
		l := germanDate(r.From)
		if r.To != r.From {
			l += " – " + germanDate(r.To)
		}
		if r.Name != "" {
			l += " " + r.Name
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

func (s *server) stateOptions(rq *request) []adminOption {
	opts := []adminOption{{Value: "", Label: rq.tr.T("admin.state.none")}}
	for _, st := range cmdb.GermanStates {
		opts = append(opts, adminOption{Value: string(st), Label: rq.tr.T("admin.state." + string(st))})
	}
	return opts
}

func (s *server) calendarPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	t := rq.tr.T
	if s.opts.SLA == nil {
		return cmdb.Errorf(cmdb.ENOTFOUND, "no SLA store")
	}
	auth, all, err := s.authorityChoice(r, rq)
	if err != nil {
		return err
	}
	if auth == nil {
		return s.noAuthority(w, r, rq, "admin.calendar.title")
	}
	c, err := s.opts.SLA.FindCalendar(r.Context(), rq.Scope, auth.ID)
	if err != nil {
		return err
	}
	post := r.Method == http.MethodPost
	f := newForm(rq, "cal", "/verwaltung/kalender", t("admin.save"))
	f.Hidden = []adminHidden{{"behoerde", itoa(auth.ID)}}
	state := string(c.State)
	if post {
		state = r.PostFormValue("state")
	}
	st := f.choice("state", t("admin.field.state"), state, s.stateOptions(rq))
	st.Hint = t("admin.hint.state")
	hours := f.add(&adminField{Type: "group", Label: t("admin.field.hours"), Hint: t("admin.hint.hours")})
	next := c
	next.State, next.Week = cmdb.GermanState(state), [7][]cmdb.OpeningHours{}
	for _, d := range weekOrder {
		name := fmt.Sprintf("week[%d]", d)
		val := spansText(c.Week[d])
		if post {
			val = r.PostFormValue(name)
		}
		fl := &adminField{ID: fieldID("cal", name), Name: name, Type: "text", Value: val, Label: t("weekday." + strconv.Itoa(int(d)))}
		hours.Sub = append(hours.Sub, fl)
		if post {
			spans, err := parseSpans(name, val)
			if err != nil {
				fl.Error, f.Summary = t("admin.error.hours"), t("admin.form.errors")
			}
			next.Week[d] = spans
		}
	}
	closedVal := closedText(c.Closed)
	if post {
		closedVal = r.PostFormValue("closed")
	}
	cl := f.add(&adminField{ID: "cal-closed", Name: "closed", Type: "textarea", Value: closedVal, Label: t("admin.field.closed"), Hint: t("admin.hint.closed"), Rows: 6})
	status := http.StatusOK
	if post {
		days, bad := parseClosed(closedVal)
		if bad != 0 {
			cl.Error, f.Summary = t("admin.error.closedline", "Line", bad), t("admin.form.errors")
		}
		next.Closed = days
		if !f.HasErrors() {
			err := s.opts.SLA.SetCalendar(r.Context(), rq.Scope, auth.ID, next)
			if err == nil {
				return done(w, r, "/verwaltung/kalender?behoerde="+itoa(auth.ID), "saved")
			}
			if err := f.refuse(rq, err, calendarAlias); err != nil {
				return err
			}
		}
		status = http.StatusUnprocessableEntity
	}
	blocks := []*adminBlock{}
	if af := authorityFilter(rq, "/verwaltung/kalender", auth, all); af != nil {
		blocks = append(blocks, &adminBlock{ID: "pick", Form: af})
	}
	tz := c.TimeZone
	if tz == "" {
		tz = cmdb.DefaultTimeZone
	}
	blocks = append(blocks, &adminBlock{ID: "cal", Heading: auth.Name, Intro: t("admin.calendar.intro", "Zone", tz), Form: f})
	// The closed days of this year as the clock counts them.
	year := s.opts.Now().In(berlin).Year()
	if days, err := s.opts.SLA.FindCalendarDays(r.Context(), rq.Scope, auth.ID, year); err == nil {
		l := &adminList{Caption: t("admin.calendar.days", "Year", year), Empty: t("admin.empty"),
			Columns: []string{t("admin.field.date"), t("admin.field.name")}}
		for _, d := range days {
			l.Rows = append(l.Rows, adminRow{Cells: []adminCell{{Text: germanDate(d.Date)}, {Text: d.Name}}})
		}
		l.exports(r, rq, "geschlossene-tage")
		blocks = append(blocks, &adminBlock{ID: "days", Heading: t("admin.calendar.days", "Year", year), List: l})
	}
	v := &adminView{Heading: t("admin.calendar.title"), Blocks: blocks}
	return s.renderAdmin(w, r, rq, status, "admin.calendar.title", v)
}

var weekFieldRE = regexp.MustCompile(`^week\[\d\]`)

// calendarAlias puts the calendar's errors next to the day or the
// closed days they name.
func calendarAlias(f string) string {
	switch {
	case weekFieldRE.MatchString(f):
		return weekFieldRE.FindString(f)
	case strings.HasPrefix(f, "closed"):
		return "closed"
	}
	return f
}

func (s *server) targetsPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	t := rq.tr.T
	if s.opts.SLA == nil {
		return cmdb.Errorf(cmdb.ENOTFOUND, "no SLA store")
	}
	auth, all, err := s.authorityChoice(r, rq)
	if err != nil {
		return err
	}
	if auth == nil {
		return s.noAuthority(w, r, rq, "admin.targets.title")
	}
	cur, err := s.opts.SLA.FindSLATargets(r.Context(), rq.Scope, auth.ID)
	if err != nil {
		return err
	}
	post := r.Method == http.MethodPost
	f := newForm(rq, "sla", "/verwaltung/sla-ziele", t("admin.save"))
	f.Hidden = []adminHidden{{"behoerde", itoa(auth.ID)}}
	next := cur
	minutes := func(name string, d time.Duration, g *adminField, label string) *time.Duration {
		val := strconv.FormatInt(int64(d/time.Minute), 10)
		if post {
			val = strings.TrimSpace(r.PostFormValue(name))
		}
		fl := &adminField{ID: fieldID("sla", name), Name: name, Type: "number", Value: val, Label: label}
		g.Sub = append(g.Sub, fl)
		out := d
		if post {
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				fl.Error, f.Summary = t("admin.error.number"), t("admin.form.errors")
			}
			out = time.Duration(n) * time.Minute
		}
		return &out
	}
	for i := range cur.Priority {
		g := f.add(&adminField{Type: "group", Label: t("admin.priority", "Priority", i+1)})
		p := fmt.Sprintf("priority[%d]", i+1)
		next.Priority[i].FirstResponse = *minutes(p+".first_response", cur.Priority[i].FirstResponse, g, t("admin.field.firstresponse"))
		next.Priority[i].Resolve = *minutes(p+".resolve", cur.Priority[i].Resolve, g, t("admin.field.resolve"))
	}
	warn := strconv.Itoa(int(cur.WarnFraction*100 + 0.5))
	if post {
		warn = strings.TrimSpace(r.PostFormValue("warn_fraction"))
	}
	wf := f.text("warn_fraction", t("admin.field.warn"), warn)
	wf.Type, wf.Hint = "number", t("admin.hint.warn")
	status := http.StatusOK
	if post {
		n, err := strconv.ParseFloat(strings.Replace(warn, ",", ".", 1), 64)
		if err != nil {
			f.bad(rq, "warn_fraction", t("admin.error.number"))
		}
		next.WarnFraction = n / 100
		if !f.HasErrors() {
			err := s.opts.SLA.SetSLATargets(r.Context(), rq.Scope, auth.ID, next)
			if err == nil {
				return done(w, r, "/verwaltung/sla-ziele?behoerde="+itoa(auth.ID), "saved")
			}
			if err := f.refuse(rq, err, nil); err != nil {
				return err
			}
		}
		status = http.StatusUnprocessableEntity
	}
	blocks := []*adminBlock{}
	if af := authorityFilter(rq, "/verwaltung/sla-ziele", auth, all); af != nil {
		blocks = append(blocks, &adminBlock{ID: "pick", Form: af})
	}
	blocks = append(blocks, &adminBlock{ID: "sla", Heading: auth.Name, Intro: t("admin.targets.intro"), Form: f})
	v := &adminView{Heading: t("admin.targets.title"), Blocks: blocks}
	return s.renderAdmin(w, r, rq, status, "admin.targets.title", v)
}
