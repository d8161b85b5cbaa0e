package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// Administration (/verwaltung): the tenant tree, users, categories and
// settings, the knowledge base, SNMP, enrolment tokens and the audit log,
// for authority IT and admins (school IT contacts get what the stores let
// them have). Every page is one view, console_admin, built from a few
// blocks — lists with their exports, forms with their errors — so that
// each section is a handler of Go and no template of its own. The
// handlers call the same store methods as the JSON API's routes; the
// stores decide what each caller sees and may change.

// adminRoutes adds the administration's pages.
func (s *server) adminRoutes(mux *http.ServeMux) {
	h := func(pattern string, fn handler) { mux.Handle(pattern, s.adminOnly(fn)) }
	h("GET /verwaltung", s.adminStart)
	s.adminTenantRoutes(h)
	s.adminUserRoutes(h)
	s.adminTicketRoutes(h)
	s.adminSLARoutes(h)
	s.adminKBRoutes(h)
	s.adminAuditRoutes(h)
	s.adminSNMPRoutes(h)
	s.adminAgentRoutes(h)
	s.adminFailureRoutes(h)
}

// adminOnly serves administration pages: staff who are more than a
// provider's (providers and teachers get "not allowed").
func (s *server) adminOnly(h handler) http.Handler {
	return s.staff(func(w http.ResponseWriter, r *http.Request, rq *request) error {
		if providerOnly(rq.Scope) {
			return cmdb.Errorf(cmdb.EFORBIDDEN, "the administration is for authority and school IT")
		}
		return h(w, r, rq)
	})
}

// adminView is the one view of the administration: a heading, then
// blocks (lists, forms, a preview) in order.
type adminView struct {
	Crumbs  []adminLink
	Heading string
	Intro   string
	Notice  string
	// Secret is shown once, right after it was made (an enrolment token).
	Secret *adminSecret
	Start  []adminSection
	Blocks []*adminBlock
}

type adminLink struct{ Href, Label string }

type adminSecret struct{ Label, Value, Hint string }

// adminSection is one entry of the start page.
type adminSection struct {
	Heading string
	Links   []adminLink
}

// adminBlock is a list, a form or trusted HTML (a KB article as the store
// rendered and sanitised it), each with an optional heading.
type adminBlock struct {
	ID      string
	Heading string
	Intro   string
	List    *adminList
	Form    *adminForm
	HTML    template.HTML
	// Back is a way out after the form (a confirmation's "Abbrechen").
	Back *adminLink
}

// adminList is a table; what it shows is what its export holds.
type adminList struct {
	Caption string
	Columns []string
	Rows    []adminRow
	Empty   string
	New     *adminLink
	Exports []adminLink
	Pager   *adminPager
	// Filter is a GET form above the table.
	Filter *adminForm
	// export names the file of ?format=csv|xlsx; "" offers none.
	export string
	// exportCols, when not 0, is how many leading columns the export
	// holds (the others are links, not data).
	exportCols int
}

type adminRow struct {
	Cells   []adminCell
	Actions []adminAction
}

type adminCell struct {
	Text, Href string
}

// adminAction is a button in a row that posts to Action; Hidden names the
// row's object for screen readers ("Löschen" is not enough in a table).
type adminAction struct {
	Action, Label, Hidden string
	Danger                bool
}

type adminPager struct {
	Info       string
	Prev, Next string
}

// adminForm is a form; Fields carry what was typed and their errors.
type adminForm struct {
	ID     string
	Action string
	Get    bool
	Submit string
	Error  string
	// Summary says at the top that fields below are refused; ErrWord
	// starts each field's message for screen readers ("Fehler").
	Summary, ErrWord string
	Danger           bool
	Hidden           []adminHidden
	Fields           []*adminField
}

type adminHidden struct{ Name, Value string }

// adminField is one input. Type is text, email, password, number, date,
// select, textarea, checkbox, checkboxes or group (a fieldset of Sub).
type adminField struct {
	ID, Name, Label, Type, Value, Hint, Error string
	Autocomplete                              string
	Required, Checked                         bool
	Options                                   []adminOption
	Sub                                       []*adminField
	Rows                                      int
}

type adminOption struct {
	Value, Label string
	Selected     bool
}

// HasError reports whether the field or one of its parts is refused.
func (f *adminField) HasError() bool {
	if f.Error != "" {
		return true
	}
	for _, s := range f.Sub {
		if s.HasError() {
			return true
		}
	}
	return false
}

// HasErrors reports whether any field of the form is refused.
func (f *adminForm) HasErrors() bool {
	for _, fl := range f.Fields {
		if fl.HasError() {
			return true
		}
	}
	return false
}

// names lists the form's field names (for rq.storeError).
func (f *adminForm) names() []string {
	var out []string
	var walk func([]*adminField)
	walk = func(fs []*adminField) {
		for _, fl := range fs {
			out = append(out, fl.Name)
			walk(fl.Sub)
		}
	}
	walk(f.Fields)
	return out
}

// field returns the form's field by name, nil if it has none.
func (f *adminForm) field(name string) *adminField {
	var find func([]*adminField) *adminField
	find = func(fs []*adminField) *adminField {
		for _, fl := range fs {
			if fl.Name == name {
				return fl
			}
			if x := find(fl.Sub); x != nil {
				return x
			}
		}
		return nil
	}
	return find(f.Fields)
}

// refuse puts a store's error next to its field (alias maps a store
// field to the form's), or at the top of the form; an internal error
// goes up to the error page.
func (f *adminForm) refuse(rq *request, err error, alias func(field string) string) error {
	var e *cmdb.Error
	if alias != nil && errors.As(err, &e) {
		err = &cmdb.Error{Code: e.Code, Field: alias(e.Field), Message: e.Message}
	}
	if field, msg, ok := ruleText(rq, err); ok {
		if f.field(field) == nil && field != "" {
			msg = field + ": " + msg
		}
		f.bad(rq, field, msg)
		return nil
	}
	fe, err := rq.storeError(err, f.names()...)
	if err != nil {
		return err
	}
	for k, msg := range fe {
		f.bad(rq, k, msg)
	}
	return nil
}

// bad puts msg next to the field name (the top of the form when it has
// no such field).
func (f *adminForm) bad(rq *request, name, msg string) {
	if fl := f.field(name); fl != nil && name != "form" {
		fl.Error = msg
		f.Summary = rq.tr.T("admin.form.errors")
	} else {
		f.Error = msg
	}
}

// newForm starts a form that posts to action.
func newForm(rq *request, id, action, submit string) *adminForm {
	return &adminForm{ID: id, Action: action, Submit: submit, ErrWord: rq.tr.T("form.error")}
}

// ID of a field: the form's id and the name, so that two forms on a page
// never share one.
func (f *adminForm) add(fl *adminField) *adminField {
	f.Fields = append(f.Fields, fl)
	return fl
}

// fieldID makes an id from a form id and a field name.
func fieldID(form, name string) string {
	r := strings.NewReplacer("[", "-", "]", "", ".", "-", "_", "-")
	return form + "-" + r.Replace(name)
}

// text and friends make fields; value is what the form shows.
func (f *adminForm) text(name, label, value string) *adminField {
	return f.add(&adminField{ID: fieldID(f.ID, name), Name: name, Label: label, Type: "text", Value: value})
}

func (f *adminForm) choice(name, label, value string, opts []adminOption) *adminField {
	for i := range opts {
		opts[i].Selected = opts[i].Value == value
	}
	return f.add(&adminField{ID: fieldID(f.ID, name), Name: name, Label: label, Type: "select", Value: value, Options: opts})
}

func (f *adminForm) check(name, label string, on bool) *adminField {
	return f.add(&adminField{ID: fieldID(f.ID, name), Name: name, Label: label, Type: "checkbox", Checked: on, Value: "1"})
}

// renderAdmin renders the view, or the export of its first exporting
// list when the request asks for one.
func (s *server) renderAdmin(w http.ResponseWriter, r *http.Request, rq *request, status int, titleID string, v *adminView) error {
	if f := exportFormat(r); f != "" {
		for _, b := range v.Blocks {
			if b.List != nil && b.List.export != "" {
				cols := b.List.Columns
				if n := b.List.exportCols; n > 0 && n < len(cols) {
					cols = cols[:n]
				}
				rows := make([][]string, len(b.List.Rows))
				for i, row := range b.List.Rows {
					for _, c := range row.Cells[:min(len(cols), len(row.Cells))] {
						rows[i] = append(rows[i], c.Text)
					}
				}
				return export(w, f, b.List.export, cols, rows)
			}
		}
		return cmdb.Errorf(cmdb.ENOTFOUND, "no list to export on %s", r.URL.Path)
	}
	if v.Notice == "" {
		if ok := r.URL.Query().Get("ok"); ok != "" {
			if msg, found := rq.tr.lookup("admin.notice." + ok); found {
				v.Notice = msg
			}
		}
	}
	v.Crumbs = append([]adminLink{{"/verwaltung", rq.tr.T("admin.title")}}, v.Crumbs...)
	if r.URL.Path == "/verwaltung" {
		v.Crumbs = nil
	}
	s.render(w, r, rq, status, "console_admin", titleID, v)
	return nil
}

// exports offers the list as CSV and XLSX with the page's own filters.
func (l *adminList) exports(r *http.Request, rq *request, name string) {
	l.export = name
	for _, f := range []string{"csv", "xlsx"} {
		q := r.URL.Query()
		q.Del("ok")
		q.Del("seite")
		q.Set("format", f)
		l.Exports = append(l.Exports, adminLink{r.URL.Path + "?" + q.Encode(), rq.tr.T("admin.export." + f)})
	}
}

// done sends the browser on after a change (POST, redirect, GET).
func done(w http.ResponseWriter, r *http.Request, path, ok string) error {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	http.Redirect(w, r, path+sep+"ok="+url.QueryEscape(ok), http.StatusSeeOther)
	return nil
}

// pathID reads the {id} of the path; a bad one is not found.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, cmdb.Errorf(cmdb.ENOTFOUND, "no object %q", r.PathValue("id"))
	}
	return id, nil
}

// queryID reads a numeric query parameter; anything else is 0.
func queryID(r *http.Request, name string) int64 {
	id, _ := strconv.ParseInt(r.URL.Query().Get(name), 10, 64)
	return max(id, 0)
}

// formID reads a numeric form field; anything else is 0.
func formID(r *http.Request, name string) int64 {
	id, _ := strconv.ParseInt(strings.TrimSpace(r.PostFormValue(name)), 10, 64)
	return max(id, 0)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// adminStart is the start page: the sections, each with its pages.
func (s *server) adminStart(w http.ResponseWriter, r *http.Request, rq *request) error {
	t := rq.tr.T
	v := &adminView{Heading: t("admin.title"), Intro: t("admin.intro")}
	v.Start = []adminSection{
		{t("admin.section.tenants"), []adminLink{{"/verwaltung/schulen", t("admin.schools.title")},
			{"/verwaltung/gebaeude", t("admin.buildings.title")}, {"/verwaltung/raeume", t("admin.rooms.title")}}},
		{t("admin.section.people"), []adminLink{{"/verwaltung/benutzer", t("admin.users.title")}}},
		{t("admin.section.tickets"), []adminLink{{"/verwaltung/kategorien", t("admin.categories.title")},
			{"/verwaltung/prioritaeten", t("admin.matrix.title")}, {"/verwaltung/kalender", t("admin.calendar.title")},
			{"/verwaltung/sla-ziele", t("admin.targets.title")}}},
		{t("admin.section.rules"), []adminLink{{"/verwaltung/wiederholfehler", t("admin.repeat.title")},
			{"/verwaltung/ueberwachung", t("admin.monitoring.title")}}},
		{t("admin.section.kb"), []adminLink{{"/verwaltung/wissen", t("admin.kb.title")}}},
		{t("admin.section.devices"), []adminLink{{"/verwaltung/snmp-ziele", t("admin.snmptargets.title")},
			{"/verwaltung/snmp-bereiche", t("admin.snmpranges.title")}, {"/verwaltung/snmp-zugaenge", t("admin.snmpcreds.title")},
			{"/verwaltung/anmeldetokens", t("admin.enrol.title")}}},
		{t("admin.section.audit"), []adminLink{{"/verwaltung/protokoll", t("admin.audit.title")}}},
	}
	return s.renderAdmin(w, r, rq, http.StatusOK, "admin.title", v)
}

// authorityChoice is the authority a settings page shows: ?behoerde= if
// the caller sees it, else the first the caller sees; nil when the caller
// sees none (school IT: the settings are the authority's).
func (s *server) authorityChoice(r *http.Request, rq *request) (*cmdb.Authority, []*cmdb.Authority, error) {
	all, err := s.opts.Tenants.FindAuthorities(r.Context(), rq.Scope)
	if err != nil {
		return nil, nil, err
	}
	var mine []*cmdb.Authority
	for _, a := range all {
		if rq.Scope.CanSeeAuthority(a.ID) {
			mine = append(mine, a)
		}
	}
	if len(mine) == 0 {
		return nil, nil, nil
	}
	want := queryID(r, "behoerde")
	if r.Method == http.MethodPost {
		if id := formID(r, "behoerde"); id != 0 {
			want = id
		}
	}
	for _, a := range mine {
		if a.ID == want {
			return a, mine, nil
		}
	}
	return mine[0], mine, nil
}

// authorityFilter is the GET form that switches a settings page to
// another authority (shown only to callers with more than one).
func authorityFilter(rq *request, action string, cur *cmdb.Authority, all []*cmdb.Authority) *adminForm {
	if len(all) < 2 {
		return nil
	}
	f := newForm(rq, "filter", action, rq.tr.T("admin.filter.show"))
	f.Get = true
	f.choice("behoerde", rq.tr.T("admin.field.authority"), itoa(cur.ID), authorityOptions(all))
	return f
}

func authorityOptions(all []*cmdb.Authority) []adminOption {
	var opts []adminOption
	for _, a := range all {
		opts = append(opts, adminOption{Value: itoa(a.ID), Label: a.Name})
	}
	return opts
}

// noAuthority is the page of a settings section for a caller who sees no
// authority as a whole.
func (s *server) noAuthority(w http.ResponseWriter, r *http.Request, rq *request, titleID string) error {
	v := &adminView{Heading: rq.tr.T(titleID), Intro: rq.tr.T("admin.noauthority")}
	return s.renderAdmin(w, r, rq, http.StatusOK, titleID, v)
}

// schoolNames maps the schools the caller sees to their names.
func (s *server) schoolNames(r *http.Request, rq *request) (map[int64]string, []*cmdb.School, error) {
	schools, err := s.opts.Tenants.FindSchools(r.Context(), rq.Scope, cmdb.TenantFilter{})
	if err != nil {
		return nil, nil, err
	}
	names := map[int64]string{}
	for _, sc := range schools {
		names[sc.ID] = sc.Name
	}
	sort.SliceStable(schools, func(i, j int) bool { return schools[i].Name < schools[j].Name })
	return names, schools, nil
}

func schoolOptions(rq *request, schools []*cmdb.School, blank bool) []adminOption {
	var opts []adminOption
	if blank {
		opts = append(opts, adminOption{Value: "", Label: rq.tr.T("admin.filter.all")})
	}
	for _, sc := range schools {
		opts = append(opts, adminOption{Value: itoa(sc.ID), Label: sc.Name + " (" + sc.Code + ")"})
	}
	return opts
}

// confirmed reports whether a destructive form was confirmed. If not, it
// shows the question (questionID, with what it is about) and a button
// that sends the same form again, confirmed, and a way back: one click
// in a table never deletes.
func (s *server) confirmed(w http.ResponseWriter, r *http.Request, rq *request, questionID, what, back string) (bool, error) {
	if r.PostFormValue("bestaetigt") == "1" {
		return true, nil
	}
	t := rq.tr.T
	f := newForm(rq, "confirm", r.URL.RequestURI(), t(questionID+".yes"))
	f.Danger = true
	f.Hidden = []adminHidden{{"bestaetigt", "1"}}
	v := &adminView{Heading: t(questionID), Intro: what,
		Blocks: []*adminBlock{{ID: "confirm", Form: f, Back: &adminLink{back, t("admin.confirm.back")}}}}
	return false, s.renderAdmin(w, r, rq, http.StatusOK, questionID, v)
}
