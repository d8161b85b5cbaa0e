package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// Users and their memberships through the AccountStore, as the API's
// /users routes: list, create (with a first membership), name and
// e-mail address, language,
// password (set only; never shown, never put back into a form),
// memberships added and removed, deactivate, reactivate and unlock. The
// store decides whom the caller manages.

func (s *server) adminUserRoutes(h func(string, handler)) {
	h("GET /verwaltung/benutzer", s.userList)
	h("GET /verwaltung/benutzer/neu", s.userNew)
	h("POST /verwaltung/benutzer/neu", s.userNew)
	h("GET /verwaltung/benutzer/{id}", s.userPage)
	h("POST /verwaltung/benutzer/{id}/{action}", s.userAction)
	h("POST /verwaltung/benutzer/{id}/mitgliedschaft/{mid}/loeschen", s.userRemoveMembership)
}

// orgs names the organisations the caller sees, for memberships.
type orgs struct {
	names map[string]string // "school:5" → "Schule: Gymnasium am See"
	opts  []adminOption
}

func (s *server) orgChoices(r *http.Request, rq *request) (*orgs, error) {
	t := rq.tr.T
	o := &orgs{names: map[string]string{}}
	add := func(key, label string) {
		o.names[key] = label
		o.opts = append(o.opts, adminOption{Value: key, Label: label})
	}
	if rq.Scope.Admin {
		add(cmdb.OrgPlatform+":0", t("admin.org.platform"))
	}
	auths, err := s.opts.Tenants.FindAuthorities(r.Context(), rq.Scope)
	if err != nil {
		return nil, err
	}
	for _, a := range auths {
		add(cmdb.OrgAuthority+":"+itoa(a.ID), t("admin.org.authority", "Name", a.Name))
	}
	_, schools, err := s.schoolNames(r, rq)
	if err != nil {
		return nil, err
	}
	for _, sc := range schools {
		add(cmdb.OrgSchool+":"+itoa(sc.ID), t("admin.org.school", "Name", sc.Name))
	}
	provs, err := s.opts.Tenants.FindProviders(r.Context(), rq.Scope)
	if err != nil && cmdb.ErrorCode(err) != cmdb.EFORBIDDEN {
		return nil, err
	}
	for _, p := range provs {
		add(cmdb.OrgProvider+":"+itoa(p.ID), t("admin.org.provider", "Name", p.Name))
	}
	return o, nil
}

func (o *orgs) name(m cmdb.Membership) string {
	if n, ok := o.names[m.OrgKind+":"+itoa(m.OrgID)]; ok {
		return n
	}
	return m.OrgKind + " " + itoa(m.OrgID)
}

func roleOptions(rq *request) []adminOption {
	var opts []adminOption
	for _, role := range cmdb.Roles {
		opts = append(opts, adminOption{Value: role, Label: rq.tr.T("admin.role." + role)})
	}
	return opts
}

// membershipOf reads the role and organisation fields of a form.
func membershipOf(r *http.Request) cmdb.Membership {
	kind, id, _ := strings.Cut(r.PostFormValue("org"), ":")
	n, _ := strconv.ParseInt(id, 10, 64)
	return cmdb.Membership{Role: r.PostFormValue("role"), OrgKind: kind, OrgID: n}
}

// orgAlias puts the membership's errors next to the form's fields.
func orgAlias(f string) string {
	switch {
	case f == "org_kind" || f == "org_id" || strings.HasSuffix(f, ".org_id") || strings.HasSuffix(f, ".org_kind"):
		return "org"
	case strings.HasSuffix(f, ".role"):
		return "role"
	}
	return f
}

func (s *server) userStatus(rq *request, u *cmdb.User) string {
	switch {
	case u.Disabled:
		return rq.tr.T("admin.user.disabled")
	case u.LockedUntil != nil && u.LockedUntil.After(s.opts.Now()):
		return rq.tr.T("admin.user.locked")
	}
	return rq.tr.T("admin.user.active")
}

func (s *server) userList(w http.ResponseWriter, r *http.Request, rq *request) error {
	t := rq.tr.T
	users, err := s.opts.Accounts.FindUsers(r.Context(), rq.Scope)
	if err != nil {
		return err
	}
	o, err := s.orgChoices(r, rq)
	if err != nil {
		return err
	}
	l := &adminList{Caption: t("admin.users.title"), Empty: t("admin.empty"),
		Columns: []string{t("admin.field.name"), t("admin.field.email"), t("admin.field.roles"), t("admin.field.status"), t("admin.field.lastsignin")},
		New:     &adminLink{"/verwaltung/benutzer/neu", t("admin.users.new")}}
	for _, u := range users {
		var roles []string
		for _, m := range u.Memberships {
			roles = append(roles, t("admin.role."+m.Role)+" – "+o.name(m))
		}
		last := "—"
		if u.LastSignInAt != nil {
			last = rq.tr.DateTime(*u.LastSignInAt)
		}
		l.Rows = append(l.Rows, adminRow{Cells: []adminCell{{Text: u.Name, Href: "/verwaltung/benutzer/" + itoa(u.ID)},
			{Text: u.Email}, {Text: strings.Join(roles, "; ")}, {Text: s.userStatus(rq, u)}, {Text: last}}})
	}
	l.exports(r, rq, "benutzer")
	v := &adminView{Heading: t("admin.users.title"), Blocks: []*adminBlock{{ID: "list", List: l}}}
	return s.renderAdmin(w, r, rq, http.StatusOK, "admin.users.title", v)
}

func languageOptions(rq *request) []adminOption {
	return []adminOption{{Value: cmdb.LangDE, Label: "Deutsch"}, {Value: cmdb.LangEN, Label: "English"}}
}

func (s *server) userNew(w http.ResponseWriter, r *http.Request, rq *request) error {
	t := rq.tr.T
	o, err := s.orgChoices(r, rq)
	if err != nil {
		return err
	}
	f := newForm(rq, "user", "/verwaltung/benutzer/neu", t("admin.create"))
	f.text("name", t("admin.field.name"), r.PostFormValue("name")).Autocomplete = "off"
	e := f.text("email", t("admin.field.email"), r.PostFormValue("email"))
	e.Type, e.Autocomplete = "email", "off"
	lang := r.PostFormValue("language")
	if lang == "" {
		lang = cmdb.LangDE
	}
	f.choice("language", t("admin.field.language"), lang, languageOptions(rq))
	pw := f.text("password", t("admin.field.password"), "") // never shown back
	pw.Type, pw.Autocomplete, pw.Hint = "password", "new-password", t("admin.hint.password")
	f.choice("role", t("admin.field.role"), r.PostFormValue("role"), roleOptions(rq))
	f.choice("org", t("admin.field.org"), r.PostFormValue("org"), o.opts)
	status := http.StatusOK
	if r.Method == http.MethodPost {
		u := &cmdb.User{Name: strings.TrimSpace(r.PostFormValue("name")), Email: r.PostFormValue("email"), Language: lang,
			Memberships: []cmdb.Membership{membershipOf(r)}}
		err := s.opts.Accounts.CreateUser(r.Context(), rq.Scope, u, cmdb.Secret(r.PostFormValue("password")))
		if err == nil {
			return done(w, r, "/verwaltung/benutzer/"+itoa(u.ID), "created")
		}
		if err := f.refuse(rq, err, orgAlias); err != nil {
			return err
		}
		status = http.StatusUnprocessableEntity
	}
	v := &adminView{Crumbs: []adminLink{{"/verwaltung/benutzer", t("admin.users.title")}}, Heading: t("admin.users.new"),
		Blocks: []*adminBlock{{ID: "new", Form: f}}}
	return s.renderAdmin(w, r, rq, status, "admin.users.new", v)
}

// userView is a user's page: facts, memberships, language, password and
// the account's state; refused replaces the form that was sent.
func (s *server) userView(r *http.Request, rq *request, id int64, refused *adminForm) (*adminView, error) {
	t := rq.tr.T
	u, err := s.opts.Accounts.FindUserByID(r.Context(), rq.Scope, id)
	if err != nil {
		return nil, err
	}
	o, err := s.orgChoices(r, rq)
	if err != nil {
		return nil, err
	}
	base := "/verwaltung/benutzer/" + itoa(u.ID)
	pick := func(f *adminForm) *adminForm {
		if refused != nil && refused.ID == f.ID {
			return refused
		}
		return f
	}
	last := t("admin.never")
	if u.LastSignInAt != nil {
		last = rq.tr.DateTime(*u.LastSignInAt)
	}
	facts := &adminList{Caption: t("admin.user.facts"), Columns: []string{t("admin.field.what"), t("admin.field.value")},
		Rows: []adminRow{{Cells: []adminCell{{Text: t("admin.field.email")}, {Text: u.Email}}},
			{Cells: []adminCell{{Text: t("admin.field.status")}, {Text: s.userStatus(rq, u)}}},
			{Cells: []adminCell{{Text: t("admin.field.password")}, {Text: setOrNot(rq, u.HasPassword)}}},
			{Cells: []adminCell{{Text: t("admin.field.lastsignin")}, {Text: last}}},
			{Cells: []adminCell{{Text: t("admin.field.created")}, {Text: rq.tr.Date(u.CreatedAt)}}}}}
	ms := &adminList{Caption: t("admin.user.memberships"), Empty: t("admin.user.nomemberships"),
		Columns: []string{t("admin.field.role"), t("admin.field.org"), t("admin.field.source"), t("admin.field.since")}}
	for _, m := range u.Memberships {
		ms.Rows = append(ms.Rows, adminRow{Cells: []adminCell{{Text: t("admin.role." + m.Role)}, {Text: o.name(m)}, {Text: m.Source},
			{Text: rq.tr.Date(m.CreatedAt)}},
			Actions: []adminAction{{Action: base + "/mitgliedschaft/" + itoa(m.ID) + "/loeschen", Label: t("admin.remove"),
				Hidden: t("admin.role."+m.Role) + " – " + o.name(m), Danger: true}}})
	}
	edit := userEditForm(rq, base, u.Name, u.Email)
	add := newForm(rq, "member", base+"/mitgliedschaft", t("admin.user.addmembership"))
	add.choice("role", t("admin.field.role"), "", roleOptions(rq))
	add.choice("org", t("admin.field.org"), "", o.opts)
	lang := newForm(rq, "lang", base+"/sprache", t("admin.save"))
	lang.choice("language", t("admin.field.language"), u.Language, languageOptions(rq))
	pw := newForm(rq, "pw", base+"/passwort", t("admin.user.setpassword"))
	p := pw.text("password", t("admin.field.newpassword"), "")
	p.Type, p.Autocomplete, p.Hint = "password", "new-password", t("admin.hint.newpassword")
	state := newForm(rq, "state", base+"/deaktivieren", t("admin.user.deactivate"))
	state.Danger = true
	if u.Disabled {
		state.Action, state.Submit, state.Danger = base+"/aktivieren", t("admin.user.activate"), false
	}
	blocks := []*adminBlock{{ID: "facts", List: facts},
		{ID: "edit", Heading: t("admin.user.edit"), Intro: t("admin.user.edit.intro"), Form: pick(edit)},
		{ID: "members", Heading: t("admin.user.memberships"), List: ms},
		{ID: "addmember", Heading: t("admin.user.addmembership"), Form: pick(add)},
		{ID: "language", Heading: t("admin.field.language"), Form: pick(lang)},
		{ID: "password", Heading: t("admin.user.setpassword"), Intro: t("admin.user.password.intro"), Form: pick(pw)},
		{ID: "state", Heading: t("admin.user.state"), Form: pick(state)}}
	if u.LockedUntil != nil && u.LockedUntil.After(s.opts.Now()) {
		un := newForm(rq, "unlock", base+"/entsperren", t("admin.user.unlock"))
		blocks = append(blocks, &adminBlock{ID: "unlock", Heading: t("admin.user.locked"), Form: pick(un)})
	}
	return &adminView{Crumbs: []adminLink{{"/verwaltung/benutzer", t("admin.users.title")}}, Heading: u.Name, Blocks: blocks}, nil
}

// userEditForm is the form of a user's name and e-mail address, showing
// name and email.
func userEditForm(rq *request, base, name, email string) *adminForm {
	t := rq.tr.T
	f := newForm(rq, "edit", base+"/bearbeiten", t("admin.save"))
	f.text("name", t("admin.field.name"), name).Autocomplete = "off"
	e := f.text("email", t("admin.field.email"), email)
	e.Type, e.Autocomplete = "email", "off"
	return f
}

func setOrNot(rq *request, set bool) string {
	if set {
		return rq.tr.T("admin.secret.set")
	}
	return rq.tr.T("admin.secret.unset")
}

func (s *server) userPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	v, err := s.userView(r, rq, id, nil)
	if err != nil {
		return err
	}
	return s.renderAdmin(w, r, rq, http.StatusOK, "admin.users.title", v)
}

// userAction takes one of the user page's forms.
func (s *server) userAction(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx, sc, t := r.Context(), rq.Scope, rq.tr.T
	base := "/verwaltung/benutzer/" + itoa(id)
	var form *adminForm
	switch r.PathValue("action") {
	case "bearbeiten":
		name, email := r.PostFormValue("name"), r.PostFormValue("email")
		if _, err = s.opts.Accounts.UpdateUser(ctx, sc, id, cmdb.UserUpdate{Name: &name, Email: &email}); err != nil {
			form = userEditForm(rq, base, name, email)
		}
	case "mitgliedschaft":
		m := membershipOf(r)
		m.UserID = id
		if err = s.opts.Accounts.AddMembership(ctx, sc, &m); err != nil {
			o, oerr := s.orgChoices(r, rq)
			if oerr != nil {
				return oerr
			}
			form = newForm(rq, "member", base+"/mitgliedschaft", t("admin.user.addmembership"))
			form.choice("role", t("admin.field.role"), r.PostFormValue("role"), roleOptions(rq))
			form.choice("org", t("admin.field.org"), r.PostFormValue("org"), o.opts)
		}
	case "sprache":
		if err = s.opts.Accounts.SetUserLanguage(ctx, sc, id, r.PostFormValue("language")); err != nil {
			form = newForm(rq, "lang", base+"/sprache", t("admin.save"))
			form.choice("language", t("admin.field.language"), r.PostFormValue("language"), languageOptions(rq))
		}
	case "passwort":
		// An admin sets another's password: no current password asked.
		if err = s.opts.Accounts.SetPassword(ctx, sc, id, "", cmdb.Secret(r.PostFormValue("password"))); err != nil {
			form = newForm(rq, "pw", base+"/passwort", t("admin.user.setpassword"))
			p := form.text("password", t("admin.field.newpassword"), "")
			p.Type, p.Autocomplete, p.Hint = "password", "new-password", t("admin.hint.newpassword")
		}
	case "deaktivieren", "aktivieren":
		active := r.PathValue("action") == "aktivieren"
		if err = s.opts.Accounts.SetUserActive(ctx, sc, id, active); err != nil {
			form = newForm(rq, "state", r.URL.Path, t("admin.user.deactivate"))
			if active {
				form.Submit = t("admin.user.activate")
			}
		}
	case "entsperren":
		if err = s.opts.Accounts.Unlock(ctx, sc, id); err != nil {
			form = newForm(rq, "unlock", base+"/entsperren", t("admin.user.unlock"))
		}
	default:
		return cmdb.Errorf(cmdb.ENOTFOUND, "no action %q", r.PathValue("action"))
	}
	if err == nil {
		return done(w, r, base, "saved")
	}
	if err := form.refuse(rq, err, orgAlias); err != nil {
		return err
	}
	v, verr := s.userView(r, rq, id, form)
	if verr != nil {
		return verr
	}
	return s.renderAdmin(w, r, rq, http.StatusUnprocessableEntity, "admin.users.title", v)
}

func (s *server) userRemoveMembership(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	mid, err := strconv.ParseInt(r.PathValue("mid"), 10, 64)
	if err != nil {
		return cmdb.Errorf(cmdb.ENOTFOUND, "no membership %q", r.PathValue("mid"))
	}
	// The membership must be this user's, so that the page's address
	// cannot remove another's by a changed number.
	u, err := s.opts.Accounts.FindUserByID(r.Context(), rq.Scope, id)
	if err != nil {
		return err
	}
	found := false
	for _, m := range u.Memberships {
		found = found || m.ID == mid
	}
	if !found {
		return cmdb.Errorf(cmdb.ENOTFOUND, "user %d has no membership %d", id, mid)
	}
	if ok, err := s.confirmed(w, r, rq, "admin.confirm.remove", u.Name+": "+r.PostFormValue("was"), "/verwaltung/benutzer/"+itoa(id)); !ok {
		return err
	}
	if err := s.opts.Accounts.RemoveMembership(r.Context(), rq.Scope, mid); err != nil {
		form := newForm(rq, "member", "/verwaltung/benutzer/"+itoa(id)+"/mitgliedschaft", rq.tr.T("admin.user.addmembership"))
		if err := form.refuse(rq, err, orgAlias); err != nil {
			return err
		}
		v, verr := s.userView(r, rq, id, nil)
		if verr != nil {
			return verr
		}
		v.Blocks[1].Intro = form.Error
		return s.renderAdmin(w, r, rq, http.StatusConflict, "admin.users.title", v)
	}
	return done(w, r, "/verwaltung/benutzer/"+itoa(id), "saved")
}
