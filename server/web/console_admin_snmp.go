package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// SNMP targets, discovery ranges and credential profiles (SNMPStore, as
// /snmp-targets, /snmp-ranges and /schools/{id}/snmp-credentials), and
// agent enrolment tokens (AgentStore, as /enrolment-tokens). Secrets are
// write-only: a form never shows one, not even the one just typed into a
// refused form; lists say "gesetzt" or "nicht gesetzt". An enrolment
// token is shown once, on the page that answers its creation.

func (s *server) adminSNMPRoutes(h func(string, handler)) {
	h("GET /verwaltung/snmp-ziele", s.snmpTargets)
	h("POST /verwaltung/snmp-ziele", s.snmpTargets)
	h("POST /verwaltung/snmp-ziele/{id}/loeschen", s.snmpDelete("snmp-ziele", func(s *server) func(r *http.Request, sc cmdb.Scope, id int64) error {
		return func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.SNMP.DeleteSNMPTarget(r.Context(), sc, id)
		}
	}))
	h("GET /verwaltung/snmp-bereiche", s.snmpRanges)
	h("POST /verwaltung/snmp-bereiche", s.snmpRanges)
	h("POST /verwaltung/snmp-bereiche/{id}/loeschen", s.snmpDelete("snmp-bereiche", func(s *server) func(r *http.Request, sc cmdb.Scope, id int64) error {
		return func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.SNMP.DeleteSNMPRange(r.Context(), sc, id)
		}
	}))
	h("GET /verwaltung/snmp-zugaenge", s.snmpCreds)
	h("POST /verwaltung/snmp-zugaenge", s.snmpCreds)
	h("GET /verwaltung/snmp-zugaenge/{id}", s.snmpCredEdit)
	h("POST /verwaltung/snmp-zugaenge/{id}", s.snmpCredEdit)
	h("POST /verwaltung/snmp-zugaenge/{id}/loeschen", s.snmpDelete("snmp-zugaenge", func(s *server) func(r *http.Request, sc cmdb.Scope, id int64) error {
		return func(r *http.Request, sc cmdb.Scope, id int64) error {
			return s.opts.SNMP.DeleteSNMPCredential(r.Context(), sc, id)
		}
	}))
}

func (s *server) adminAgentRoutes(h func(string, handler)) {
	h("GET /verwaltung/anmeldetokens", s.enrolTokens)
	h("POST /verwaltung/anmeldetokens", s.enrolTokens)
	h("POST /verwaltung/anmeldetokens/{id}/widerrufen", s.enrolRevoke)
}

// schoolChoice is the school a per-school page shows: ?schule= (or the
// form's), else the first the caller sees; required says whether "all"
// is a choice.
func (s *server) schoolChoice(r *http.Request, rq *request, required bool) (int64, []*cmdb.School, map[int64]string, error) {
	names, schools, err := s.schoolNames(r, rq)
	if err != nil {
		return 0, nil, nil, err
	}
	want := queryID(r, "schule")
	if r.Method == http.MethodPost {
		want = formID(r, "school_id")
	}
	if _, ok := names[want]; ok {
		return want, schools, names, nil
	}
	if required && len(schools) > 0 {
		return schools[0].ID, schools, names, nil
	}
	return 0, schools, names, nil
}

// schoolFilter is the GET form that narrows a list to one school.
func schoolFilter(rq *request, action string, school int64, schools []*cmdb.School, all bool) *adminForm {
	if len(schools) < 2 {
		return nil
	}
	f := newForm(rq, "filter", action, rq.tr.T("admin.filter.show"))
	f.Get = true
	cur := ""
	if school != 0 {
		cur = itoa(school)
	}
	f.choice("schule", rq.tr.T("admin.field.school"), cur, schoolOptions(rq, schools, all))
	return f
}

func (s *server) needSNMP() error {
	if s.opts.SNMP == nil {
		return cmdb.Errorf(cmdb.ENOTFOUND, "no SNMP store")
	}
	return nil
}

func (s *server) snmpTargets(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := s.needSNMP(); err != nil {
		return err
	}
	t := rq.tr.T
	school, schools, names, err := s.schoolChoice(r, rq, false)
	if err != nil {
		return err
	}
	post := r.Method == http.MethodPost
	f := newForm(rq, "new", "/verwaltung/snmp-ziele", t("admin.create"))
	f.choice("school_id", t("admin.field.school"), r.PostFormValue("school_id"), schoolOptions(rq, schools, false))
	a := f.text("address", t("admin.field.address"), r.PostFormValue("address"))
	a.Hint = t("admin.hint.address")
	kind := r.PostFormValue("kind")
	f.choice("kind", t("admin.field.kind"), kind, []adminOption{{Value: cmdb.TargetSNMP, Label: "SNMP"}, {Value: cmdb.TargetPJLink, Label: "PJLink"}})
	status := http.StatusOK
	if post {
		tg := &cmdb.SNMPTarget{SchoolID: formID(r, "school_id"), Address: strings.TrimSpace(r.PostFormValue("address")), Kind: kind}
		err := s.opts.SNMP.CreateSNMPTarget(r.Context(), rq.Scope, tg)
		if err == nil {
			return done(w, r, "/verwaltung/snmp-ziele?schule="+itoa(tg.SchoolID), "created")
		}
		if err := f.refuse(rq, err, nil); err != nil {
			return err
		}
		status = http.StatusUnprocessableEntity
	}
	targets, err := s.opts.SNMP.FindSNMPTargets(r.Context(), rq.Scope, school)
	if err != nil {
		return err
	}
	l := &adminList{Caption: t("admin.snmptargets.title"), Empty: t("admin.empty"), Filter: schoolFilter(rq, "/verwaltung/snmp-ziele", school, schools, true),
		Columns: []string{t("admin.field.address"), t("admin.field.kind"), t("admin.field.school"), t("admin.field.reachable"), t("admin.field.lastpoll")}}
	for _, tg := range targets {
		reach := t("admin.yes")
		if tg.Unreachable {
			reach = t("admin.snmp.unreachable")
		}
		last := "—"
		if tg.LastPollAt != nil {
			last = rq.tr.DateTime(*tg.LastPollAt)
		}
		l.Rows = append(l.Rows, adminRow{Cells: []adminCell{{Text: tg.Address}, {Text: strings.ToUpper(tg.Kind)}, {Text: names[tg.SchoolID]}, {Text: reach}, {Text: last}},
			Actions: []adminAction{{Action: "/verwaltung/snmp-ziele/" + itoa(tg.ID) + "/loeschen", Label: t("admin.delete"), Hidden: tg.Address, Danger: true}}})
	}
	l.exports(r, rq, "snmp-ziele")
	v := &adminView{Heading: t("admin.snmptargets.title"), Intro: t("admin.snmptargets.intro"),
		Blocks: []*adminBlock{{ID: "list", List: l}, {ID: "new", Heading: t("admin.snmptargets.new"), Form: f}}}
	return s.renderAdmin(w, r, rq, status, "admin.snmptargets.title", v)
}

func (s *server) snmpRanges(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := s.needSNMP(); err != nil {
		return err
	}
	t := rq.tr.T
	school, schools, names, err := s.schoolChoice(r, rq, false)
	if err != nil {
		return err
	}
	f := newForm(rq, "new", "/verwaltung/snmp-bereiche", t("admin.create"))
	f.choice("school_id", t("admin.field.school"), r.PostFormValue("school_id"), schoolOptions(rq, schools, false))
	c := f.text("cidr", t("admin.field.cidr"), r.PostFormValue("cidr"))
	c.Hint = t("admin.hint.cidr")
	status := http.StatusOK
	if r.Method == http.MethodPost {
		rg := &cmdb.SNMPRange{SchoolID: formID(r, "school_id"), CIDR: strings.TrimSpace(r.PostFormValue("cidr"))}
		err := s.opts.SNMP.CreateSNMPRange(r.Context(), rq.Scope, rg)
		if err == nil {
			return done(w, r, "/verwaltung/snmp-bereiche?schule="+itoa(rg.SchoolID), "created")
		}
		if err := f.refuse(rq, err, nil); err != nil {
			return err
		}
		status = http.StatusUnprocessableEntity
	}
	ranges, err := s.opts.SNMP.FindSNMPRanges(r.Context(), rq.Scope, school)
	if err != nil {
		return err
	}
	l := &adminList{Caption: t("admin.snmpranges.title"), Empty: t("admin.empty"), Filter: schoolFilter(rq, "/verwaltung/snmp-bereiche", school, schools, true),
		Columns: []string{t("admin.field.cidr"), t("admin.field.school")}}
	for _, rg := range ranges {
		l.Rows = append(l.Rows, adminRow{Cells: []adminCell{{Text: rg.CIDR}, {Text: names[rg.SchoolID]}},
			Actions: []adminAction{{Action: "/verwaltung/snmp-bereiche/" + itoa(rg.ID) + "/loeschen", Label: t("admin.delete"), Hidden: rg.CIDR, Danger: true}}})
	}
	l.exports(r, rq, "snmp-bereiche")
	v := &adminView{Heading: t("admin.snmpranges.title"), Intro: t("admin.snmpranges.intro"),
		Blocks: []*adminBlock{{ID: "list", List: l}, {ID: "new", Heading: t("admin.snmpranges.new"), Form: f}}}
	return s.renderAdmin(w, r, rq, status, "admin.snmpranges.title", v)
}

// secretField is a write-only input: empty whatever was stored or typed.
func secretField(f *adminForm, name, label, hint string) {
	fl := f.text(name, label, "")
	fl.Type, fl.Autocomplete, fl.Hint = "password", "new-password", hint
}

func (s *server) snmpCreds(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := s.needSNMP(); err != nil {
		return err
	}
	t := rq.tr.T
	school, schools, names, err := s.schoolChoice(r, rq, true)
	if err != nil {
		return err
	}
	if school == 0 {
		v := &adminView{Heading: t("admin.snmpcreds.title"), Intro: t("admin.noschool")}
		return s.renderAdmin(w, r, rq, http.StatusOK, "admin.snmpcreds.title", v)
	}
	post := r.Method == http.MethodPost
	f := newForm(rq, "new", "/verwaltung/snmp-zugaenge?schule="+itoa(school), t("admin.create"))
	f.Hidden = []adminHidden{{"school_id", itoa(school)}}
	f.text("name", t("admin.field.name"), r.PostFormValue("name"))
	f.choice("version", t("admin.field.snmpversion"), r.PostFormValue("version"), versionOptions())
	hint := t("admin.hint.secret")
	if post {
		hint = t("admin.hint.secret.again")
	}
	credFields(rq, f, r.PostFormValue("user"), r.PostFormValue("auth_proto"), r.PostFormValue("priv_proto"), [3]string{hint, hint, hint})
	status := http.StatusOK
	if post {
		c := &cmdb.SNMPCredential{Name: strings.TrimSpace(r.PostFormValue("name")), Version: r.PostFormValue("version"),
			Community: cmdb.Secret(r.PostFormValue("community")), User: strings.TrimSpace(r.PostFormValue("user")),
			AuthProto: r.PostFormValue("auth_proto"), AuthPass: cmdb.Secret(r.PostFormValue("auth_pass")),
			PrivProto: r.PostFormValue("priv_proto"), PrivPass: cmdb.Secret(r.PostFormValue("priv_pass"))}
		err := s.opts.SNMP.CreateSNMPCredential(r.Context(), rq.Scope, school, c)
		if err == nil {
			return done(w, r, "/verwaltung/snmp-zugaenge?schule="+itoa(school), "created")
		}
		if err := f.refuse(rq, err, nil); err != nil {
			return err
		}
		status = http.StatusUnprocessableEntity
	}
	creds, err := s.opts.SNMP.FindSNMPCredentials(r.Context(), rq.Scope, school)
	if err != nil {
		return err
	}
	l := &adminList{Caption: t("admin.snmpcreds.caption", "School", names[school]), Empty: t("admin.empty"),
		Filter:  schoolFilter(rq, "/verwaltung/snmp-zugaenge", school, schools, false),
		Columns: []string{t("admin.field.name"), t("admin.field.snmpversion"), t("admin.field.snmpuser"), t("admin.field.community"), t("admin.field.authpass"), t("admin.field.privpass")}}
	for _, c := range creds {
		community, auth, priv := credSecrets(c)
		l.Rows = append(l.Rows, adminRow{Cells: []adminCell{{Text: c.Name, Href: "/verwaltung/snmp-zugaenge/" + itoa(c.ID) + "?schule=" + itoa(school)}, {Text: c.Version}, {Text: c.User},
			{Text: setOrNot(rq, community)}, {Text: setOrNot(rq, auth)}, {Text: setOrNot(rq, priv)}},
			Actions: []adminAction{{Action: "/verwaltung/snmp-zugaenge/" + itoa(c.ID) + "/loeschen?schule=" + itoa(school), Label: t("admin.delete"), Hidden: c.Name, Danger: true}}})
	}
	l.exports(r, rq, "snmp-zugaenge")
	v := &adminView{Heading: t("admin.snmpcreds.title"), Intro: t("admin.snmpcreds.intro"),
		Blocks: []*adminBlock{{ID: "list", List: l}, {ID: "new", Heading: t("admin.snmpcreds.new"), Intro: t("admin.snmpcreds.new.intro"), Form: f}}}
	return s.renderAdmin(w, r, rq, status, "admin.snmpcreds.title", v)
}

// credFields adds a profile's user, protocols and write-only secrets;
// hints say of each secret whether one is stored.
func credFields(rq *request, f *adminForm, user, auth, priv string, hints [3]string) {
	t := rq.tr.T
	secretField(f, "community", t("admin.field.community"), hints[0])
	f.text("user", t("admin.field.snmpuser"), user).Autocomplete = "off"
	protos := func(list []string) []adminOption {
		opts := []adminOption{{Value: "", Label: t("admin.snmp.noproto")}}
		for _, p := range list {
			opts = append(opts, adminOption{Value: p, Label: p})
		}
		return opts
	}
	f.choice("auth_proto", t("admin.field.authproto"), auth, protos(cmdb.SNMPAuthProtocols))
	secretField(f, "auth_pass", t("admin.field.authpass"), hints[1])
	f.choice("priv_proto", t("admin.field.privproto"), priv, protos(cmdb.SNMPPrivProtocols))
	secretField(f, "priv_pass", t("admin.field.privpass"), hints[2])
}

// credSecrets says which of a profile's secrets are stored; they follow
// from the version (Validate demands them), the values never leave the
// store.
func credSecrets(c *cmdb.SNMPCredential) (community, auth, priv bool) {
	switch c.Version {
	case "1", "2c":
		community = true
	case "3":
		auth, priv = c.AuthProto != "", c.PrivProto != ""
	case "pjlink":
		auth = true
	}
	return
}

func versionOptions() []adminOption {
	return []adminOption{{Value: "2c", Label: "SNMP v2c"}, {Value: "1", Label: "SNMP v1"}, {Value: "3", Label: "SNMP v3"}, {Value: "pjlink", Label: "PJLink"}}
}

// snmpCredEdit changes a profile; each secret shows "gesetzt" or "nicht
// gesetzt" and a field to replace it (empty: it stays).
func (s *server) snmpCredEdit(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := s.needSNMP(); err != nil {
		return err
	}
	t := rq.tr.T
	id, err := pathID(r)
	if err != nil {
		return err
	}
	school := queryID(r, "schule")
	creds, err := s.opts.SNMP.FindSNMPCredentials(r.Context(), rq.Scope, school)
	if err != nil {
		return err
	}
	var c *cmdb.SNMPCredential
	for _, x := range creds {
		if x.ID == id {
			c = x
		}
	}
	if c == nil {
		return cmdb.Errorf(cmdb.ENOTFOUND, "no credential profile %d in school %d", id, school)
	}
	post := r.Method == http.MethodPost
	name, version, user, auth, priv := c.Name, c.Version, c.User, c.AuthProto, c.PrivProto
	if post {
		name, version, user = r.PostFormValue("name"), r.PostFormValue("version"), r.PostFormValue("user")
		auth, priv = r.PostFormValue("auth_proto"), r.PostFormValue("priv_proto")
	}
	action := "/verwaltung/snmp-zugaenge/" + itoa(id) + "?schule=" + itoa(school)
	f := newForm(rq, "cred", action, t("admin.save"))
	f.text("name", t("admin.field.name"), name)
	f.choice("version", t("admin.field.snmpversion"), version, versionOptions())
	hasC, hasA, hasP := credSecrets(c)
	hint := func(set bool) string {
		return t("admin.hint.secret.replace", "State", setOrNot(rq, set))
	}
	credFields(rq, f, user, auth, priv, [3]string{hint(hasC), hint(hasA), hint(hasP)})
	status := http.StatusOK
	if post {
		in := &cmdb.SNMPCredential{Name: strings.TrimSpace(name), Version: version, User: strings.TrimSpace(user), AuthProto: auth, PrivProto: priv,
			Community: cmdb.Secret(r.PostFormValue("community")), AuthPass: cmdb.Secret(r.PostFormValue("auth_pass")), PrivPass: cmdb.Secret(r.PostFormValue("priv_pass"))}
		err := s.opts.SNMP.UpdateSNMPCredential(r.Context(), rq.Scope, id, in)
		if err == nil {
			return done(w, r, action, "saved")
		}
		if err := f.refuse(rq, err, nil); err != nil {
			return err
		}
		status = http.StatusUnprocessableEntity
	}
	del := newForm(rq, "del", "/verwaltung/snmp-zugaenge/"+itoa(id)+"/loeschen?schule="+itoa(school), t("admin.delete"))
	del.Danger = true
	v := &adminView{Crumbs: []adminLink{{"/verwaltung/snmp-zugaenge?schule=" + itoa(school), t("admin.snmpcreds.title")}}, Heading: c.Name,
		Intro:  t("admin.snmpcreds.edit.intro"),
		Blocks: []*adminBlock{{ID: "edit", Heading: t("admin.edit"), Form: f}, {ID: "delete", Heading: t("admin.delete"), Form: del}}}
	return s.renderAdmin(w, r, rq, status, "admin.snmpcreds.title", v)
}

// snmpDelete deletes a target, range or profile and goes back to its list.
func (s *server) snmpDelete(page string, del func(*server) func(r *http.Request, sc cmdb.Scope, id int64) error) handler {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		if err := s.needSNMP(); err != nil {
			return err
		}
		id, err := pathID(r)
		if err != nil {
			return err
		}
		back := "/verwaltung/" + page
		if sc := queryID(r, "schule"); sc != 0 {
			back += "?schule=" + itoa(sc)
		}
		if ok, err := s.confirmed(w, r, rq, "admin.confirm.delete", r.PostFormValue("was"), back); !ok {
			return err
		}
		if err := del(s)(r, rq.Scope, id); err != nil {
			return err
		}
		return done(w, r, back, "deleted")
	}
}

func (s *server) enrolStatus(rq *request, tk *cmdb.EnrolmentToken) string {
	switch {
	case tk.RevokedAt != nil:
		return rq.tr.T("admin.enrol.revoked")
	case !tk.ExpiresAt.After(s.opts.Now()):
		return rq.tr.T("admin.enrol.expired")
	case tk.Uses >= tk.MaxUses:
		return rq.tr.T("admin.enrol.usedup")
	}
	return rq.tr.T("admin.enrol.valid")
}

func (s *server) enrolTokens(w http.ResponseWriter, r *http.Request, rq *request) error {
	if s.opts.Agents == nil {
		return cmdb.Errorf(cmdb.ENOTFOUND, "no agent store")
	}
	t := rq.tr.T
	school, schools, names, err := s.schoolChoice(r, rq, false)
	if err != nil {
		return err
	}
	post := r.Method == http.MethodPost
	v := &adminView{Heading: t("admin.enrol.title"), Intro: t("admin.enrol.intro")}
	f := newForm(rq, "new", "/verwaltung/anmeldetokens", t("admin.create"))
	f.choice("school_id", t("admin.field.school"), r.PostFormValue("school_id"), schoolOptions(rq, schools, false))
	f.text("name", t("admin.field.name"), r.PostFormValue("name")).Hint = t("admin.hint.enrolname")
	mu := f.text("max_uses", t("admin.field.maxuses"), r.PostFormValue("max_uses"))
	mu.Type, mu.Hint = "number", t("admin.hint.maxuses")
	ex := f.text("expires_at", t("admin.field.expires"), r.PostFormValue("expires_at"))
	ex.Type, ex.Hint = "date", t("admin.hint.expires")
	status := http.StatusOK
	if post {
		tk := &cmdb.EnrolmentToken{SchoolID: formID(r, "school_id"), Name: strings.TrimSpace(r.PostFormValue("name"))}
		if v := strings.TrimSpace(r.PostFormValue("max_uses")); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				f.bad(rq, "max_uses", t("admin.error.number"))
			}
			tk.MaxUses = n
		}
		if v := strings.TrimSpace(r.PostFormValue("expires_at")); v != "" {
			d, err := time.ParseInLocation("2006-01-02", v, berlin)
			if err != nil {
				f.bad(rq, "expires_at", t("admin.error.date"))
			}
			tk.ExpiresAt = d.Add(24*time.Hour - time.Second) // valid through that day
		}
		if !f.HasErrors() {
			secret, err := s.opts.Agents.CreateEnrolmentToken(r.Context(), rq.Scope, tk)
			if err == nil {
				// The only time the token is shown: on this answer, never
				// in a redirect's address, never again.
				v.Secret = &adminSecret{Label: t("admin.enrol.secret", "Name", tk.Name), Value: secret.Reveal(), Hint: t("admin.enrol.secret.hint")}
				f = newForm(rq, "new", "/verwaltung/anmeldetokens", t("admin.create"))
				f.choice("school_id", t("admin.field.school"), itoa(tk.SchoolID), schoolOptions(rq, schools, false))
				f.text("name", t("admin.field.name"), "").Hint = t("admin.hint.enrolname")
				mu := f.text("max_uses", t("admin.field.maxuses"), "")
				mu.Type, mu.Hint = "number", t("admin.hint.maxuses")
				ex := f.text("expires_at", t("admin.field.expires"), "")
				ex.Type, ex.Hint = "date", t("admin.hint.expires")
				status = http.StatusCreated
			} else if err := f.refuse(rq, err, nil); err != nil {
				return err
			}
		}
		if v.Secret == nil {
			status = http.StatusUnprocessableEntity
		}
		school = 0
	}
	tokens, err := s.opts.Agents.FindEnrolmentTokens(r.Context(), rq.Scope, school)
	if err != nil {
		return err
	}
	l := &adminList{Caption: t("admin.enrol.title"), Empty: t("admin.empty"), Filter: schoolFilter(rq, "/verwaltung/anmeldetokens", school, schools, true),
		Columns: []string{t("admin.field.name"), t("admin.field.school"), t("admin.field.uses"), t("admin.field.expires"), t("admin.field.status"), t("admin.field.createdby")}}
	for _, tk := range tokens {
		row := adminRow{Cells: []adminCell{{Text: tk.Name}, {Text: names[tk.SchoolID]}, {Text: t("admin.enrol.uses", "Uses", tk.Uses, "Max", tk.MaxUses)},
			{Text: rq.tr.Date(tk.ExpiresAt)}, {Text: s.enrolStatus(rq, tk)}, {Text: tk.CreatedBy}}}
		if tk.RevokedAt == nil {
			row.Actions = []adminAction{{Action: "/verwaltung/anmeldetokens/" + itoa(tk.ID) + "/widerrufen", Label: t("admin.enrol.revoke"), Hidden: tk.Name, Danger: true}}
		}
		l.Rows = append(l.Rows, row)
	}
	l.exports(r, rq, "anmeldetokens")
	v.Blocks = []*adminBlock{{ID: "list", List: l}, {ID: "new", Heading: t("admin.enrol.new"), Form: f}}
	return s.renderAdmin(w, r, rq, status, "admin.enrol.title", v)
}

func (s *server) enrolRevoke(w http.ResponseWriter, r *http.Request, rq *request) error {
	if s.opts.Agents == nil {
		return cmdb.Errorf(cmdb.ENOTFOUND, "no agent store")
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if ok, err := s.confirmed(w, r, rq, "admin.confirm.revoke", r.PostFormValue("was"), "/verwaltung/anmeldetokens"); !ok {
		return err
	}
	if err := s.opts.Agents.RevokeEnrolmentToken(r.Context(), rq.Scope, id); err != nil {
		return err
	}
	return done(w, r, "/verwaltung/anmeldetokens", "revoked")
}
