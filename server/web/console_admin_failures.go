package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// The repeat-failure rule and the model-pattern rule (FailureStore, as
// /authorities/{id}/repeat-failure-rule and …/pattern-rule), one page
// with a form each, and the monitoring rules (MonitoringStore, as
// /authorities/{id}/monitoring-rules).

func (s *server) adminFailureRoutes(h func(string, handler)) {
	h("GET /verwaltung/wiederholfehler", s.repeatPage)
	h("POST /verwaltung/wiederholfehler", s.repeatPage)
	h("GET /verwaltung/ueberwachung", s.monitoringPage)
	h("POST /verwaltung/ueberwachung", s.monitoringPage)
}

func (s *server) repeatPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	t := rq.tr.T
	if s.opts.Failures == nil {
		return cmdb.Errorf(cmdb.ENOTFOUND, "no failure store")
	}
	auth, all, err := s.authorityChoice(r, rq)
	if err != nil {
		return err
	}
	if auth == nil {
		return s.noAuthority(w, r, rq, "admin.repeat.title")
	}
	cur, err := s.opts.Failures.FindRepeatFailureRule(r.Context(), rq.Scope, auth.ID)
	if err != nil {
		return err
	}
	pr, err := s.opts.Failures.FindPatternRule(r.Context(), rq.Scope, auth.ID)
	if err != nil {
		return err
	}
	// Both forms post here; the pattern form says so (teil=muster), and
	// only the form sent is read and stored.
	sent := r.Method == http.MethodPost
	postPat := sent && r.PostFormValue("teil") == "muster"
	post := sent && !postPat
	f := newForm(rq, "rep", "/verwaltung/wiederholfehler", t("admin.save"))
	f.Hidden = []adminHidden{{"behoerde", itoa(auth.ID)}}
	next := cmdb.RepeatRules{ByClass: map[string]cmdb.RepeatRule{}}
	// num adds a number field; empty stays 0 (no override, or the default).
	num := func(g *adminField, name, label string, stored int, set bool) int {
		val := ""
		if set {
			val = strconv.Itoa(stored)
		}
		if post {
			val = strings.TrimSpace(r.PostFormValue(name))
		}
		fl := &adminField{ID: fieldID("rep", name), Name: name, Type: "number", Value: val, Label: label}
		g.Sub = append(g.Sub, fl)
		if !post || val == "" {
			return 0
		}
		n, err := strconv.Atoi(val)
		if err != nil {
			fl.Error, f.Summary = t("admin.error.number"), t("admin.form.errors")
		}
		return n
	}
	def := cur.For("") // the default, filled in when the authority has none
	g := f.add(&adminField{Type: "group", Label: t("admin.repeat.default")})
	next.Default.Threshold = num(g, "default.threshold", t("admin.field.threshold"), def.Threshold, true)
	next.Default.WindowDays = num(g, "default.window_days", t("admin.field.windowdays"), def.WindowDays, true)
	for _, c := range cmdb.Classes {
		o, has := cur.ByClass[c]
		g := f.add(&adminField{Type: "group", Label: s.className(rq, c)})
		th := num(g, "by_class."+c+".threshold", t("admin.field.threshold"), o.Threshold, has)
		wd := num(g, "by_class."+c+".window_days", t("admin.field.windowdays"), o.WindowDays, has)
		if th != 0 || wd != 0 {
			next.ByClass[c] = cmdb.RepeatRule{Threshold: th, WindowDays: wd}
		}
	}
	pf, nextPat := patternForm(r, rq, auth.ID, pr, postPat)
	status := http.StatusOK
	if post {
		if !f.HasErrors() {
			err := s.opts.Failures.SetRepeatFailureRule(r.Context(), rq.Scope, auth.ID, next)
			if err == nil {
				return done(w, r, "/verwaltung/wiederholfehler?behoerde="+itoa(auth.ID), "saved")
			}
			if err := f.refuse(rq, err, nil); err != nil {
				return err
			}
		}
		status = http.StatusUnprocessableEntity
	}
	if postPat {
		if !pf.HasErrors() {
			err := s.opts.Failures.SetPatternRule(r.Context(), rq.Scope, auth.ID, nextPat)
			if err == nil {
				return done(w, r, "/verwaltung/wiederholfehler?behoerde="+itoa(auth.ID), "saved")
			}
			if err := pf.refuse(rq, err, nil); err != nil {
				return err
			}
		}
		status = http.StatusUnprocessableEntity
	}
	blocks := []*adminBlock{}
	if af := authorityFilter(rq, "/verwaltung/wiederholfehler", auth, all); af != nil {
		blocks = append(blocks, &adminBlock{ID: "pick", Form: af})
	}
	p := cmdb.DefaultPatternRule()
	blocks = append(blocks, &adminBlock{ID: "rep", Heading: auth.Name, Intro: t("admin.repeat.intro"), Form: f},
		&adminBlock{ID: "pattern", Heading: t("admin.pattern.title"), Form: pf,
			Intro: t("admin.pattern.intro", "Alpha", decimalText(rq, p.Alpha), "Incidents", p.MinIncidents, "Devices", p.MinDevices)})
	v := &adminView{Heading: t("admin.repeat.title"), Blocks: blocks}
	return s.renderAdmin(w, r, rq, status, "admin.repeat.title", v)
}

// patternForm is the form of an authority's model-pattern rule: the
// stored rule, or what was sent (post) with the values it could not read
// as numbers refused next to their fields; next is the rule sent.
func patternForm(r *http.Request, rq *request, authority int64, cur cmdb.PatternRule, post bool) (f *adminForm, next cmdb.PatternRule) {
	t := rq.tr.T
	f = newForm(rq, "pat", "/verwaltung/wiederholfehler", t("admin.save"))
	f.Hidden = []adminHidden{{"behoerde", itoa(authority)}, {"teil", "muster"}}
	alpha := f.text("alpha", t("admin.field.alpha"), decimalText(rq, cur.Alpha))
	alpha.Hint, alpha.Autocomplete = t("admin.hint.alpha"), "off"
	inc := f.add(&adminField{ID: fieldID(f.ID, "min_incidents"), Name: "min_incidents", Label: t("admin.field.minincidents"),
		Type: "number", Value: strconv.Itoa(cur.MinIncidents)})
	dev := f.add(&adminField{ID: fieldID(f.ID, "min_devices"), Name: "min_devices", Label: t("admin.field.mindevices"),
		Type: "number", Value: strconv.Itoa(cur.MinDevices)})
	if !post {
		return f, cur
	}
	refuse := func(fl *adminField, msgID string) {
		fl.Error, f.Summary = t(msgID), t("admin.form.errors")
	}
	for _, fl := range []*adminField{alpha, inc, dev} {
		fl.Value = strings.TrimSpace(r.PostFormValue(fl.Name))
		if fl.Value == "" {
			refuse(fl, "admin.rule.required")
		}
	}
	if alpha.Error == "" {
		// A German decimal comma or an English point.
		a, err := strconv.ParseFloat(strings.Replace(alpha.Value, ",", ".", 1), 64)
		if err != nil {
			refuse(alpha, "admin.error.decimal")
		}
		next.Alpha = a
	}
	for _, x := range []struct {
		fl  *adminField
		dst *int
	}{{inc, &next.MinIncidents}, {dev, &next.MinDevices}} {
		if x.fl.Error != "" {
			continue
		}
		n, err := strconv.Atoi(x.fl.Value)
		if err != nil {
			refuse(x.fl, "admin.error.number")
		}
		*x.dst = n
	}
	return f, next
}

// decimalText writes a number as the page's language does (0,01 in
// German).
func decimalText(rq *request, v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if rq.tr.lang == "de" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

func levelOptions(rq *request, id string) []adminOption {
	var opts []adminOption
	for n := 1; n <= 3; n++ {
		opts = append(opts, adminOption{Value: strconv.Itoa(n), Label: rq.tr.T(fmt.Sprintf("%s.%d", id, n))})
	}
	return opts
}

func (s *server) monitoringPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	t := rq.tr.T
	if s.opts.Monitoring == nil {
		return cmdb.Errorf(cmdb.ENOTFOUND, "no monitoring store")
	}
	auth, all, err := s.authorityChoice(r, rq)
	if err != nil {
		return err
	}
	if auth == nil {
		return s.noAuthority(w, r, rq, "admin.monitoring.title")
	}
	rules, err := s.opts.Monitoring.FindMonitoringRules(r.Context(), rq.Scope, auth.ID)
	if err != nil {
		return err
	}
	provs, err := s.opts.Tenants.FindProviders(r.Context(), rq.Scope)
	if err != nil && cmdb.ErrorCode(err) != cmdb.EFORBIDDEN {
		return err
	}
	groups := []adminOption{{Value: "0", Label: t("admin.monitoring.ownit")}}
	for _, p := range provs {
		groups = append(groups, adminOption{Value: itoa(p.ID), Label: p.Name})
	}
	post := r.Method == http.MethodPost
	f := newForm(rq, "mon", "/verwaltung/ueberwachung", t("admin.save"))
	f.Hidden = []adminHidden{{"behoerde", itoa(auth.ID)}}
	var next []cmdb.MonitoringRule
	for i, ru := range rules {
		p := fmt.Sprintf("rules[%d].", i)
		if post {
			ru.OpensTicket = r.PostFormValue(p+"opens_ticket") != ""
			ru.AutoResolve = r.PostFormValue(p+"auto_resolve") != ""
			ru.ProviderID = formID(r, p+"provider_id")
			ru.Level, _ = strconv.Atoi(r.PostFormValue(p + "level"))
			ru.Impact, _ = strconv.Atoi(r.PostFormValue(p + "impact"))
			ru.Urgency, _ = strconv.Atoi(r.PostFormValue(p + "urgency"))
		}
		next = append(next, ru)
		label := t("admin.health." + string(ru.Kind))
		if ru.Default && !post {
			label += " (" + t("admin.category.default") + ")"
		}
		g := f.add(&adminField{Type: "group", Label: label})
		sel := func(name, lbl, val string, opts []adminOption) {
			o := append([]adminOption(nil), opts...)
			for k := range o {
				o[k].Selected = o[k].Value == val
			}
			g.Sub = append(g.Sub, &adminField{ID: fieldID("mon", p+name), Name: p + name, Type: "select", Label: lbl, Value: val, Options: o})
		}
		chk := func(name, lbl string, on bool) {
			g.Sub = append(g.Sub, &adminField{ID: fieldID("mon", p+name), Name: p + name, Type: "checkbox", Label: lbl, Value: "1", Checked: on})
		}
		chk("opens_ticket", t("admin.field.opensticket"), ru.OpensTicket)
		sel("provider_id", t("admin.field.group"), itoa(ru.ProviderID), groups)
		sel("level", t("admin.field.level"), strconv.Itoa(ru.Level), levelOptions(rq, "admin.level"))
		sel("impact", t("admin.field.impact"), strconv.Itoa(ru.Impact), levelOptions(rq, "admin.impact"))
		sel("urgency", t("admin.field.urgency"), strconv.Itoa(ru.Urgency), levelOptions(rq, "admin.urgency"))
		chk("auto_resolve", t("admin.field.autoresolve"), ru.AutoResolve)
	}
	status := http.StatusOK
	if post {
		if _, err := s.opts.Monitoring.SetMonitoringRules(r.Context(), rq.Scope, auth.ID, next); err == nil {
			return done(w, r, "/verwaltung/ueberwachung?behoerde="+itoa(auth.ID), "saved")
		} else if err := f.refuse(rq, err, nil); err != nil {
			return err
		}
		status = http.StatusUnprocessableEntity
	}
	blocks := []*adminBlock{}
	if af := authorityFilter(rq, "/verwaltung/ueberwachung", auth, all); af != nil {
		blocks = append(blocks, &adminBlock{ID: "pick", Form: af})
	}
	blocks = append(blocks, &adminBlock{ID: "mon", Heading: auth.Name, Intro: t("admin.monitoring.intro"), Form: f})
	v := &adminView{Heading: t("admin.monitoring.title"), Blocks: blocks}
	return s.renderAdmin(w, r, rq, status, "admin.monitoring.title", v)
}
