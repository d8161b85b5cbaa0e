package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// Ticket categories (CatalogueStore, as /ticket-categories) and the
// priority matrix (TicketStore, as /authorities/{id}/priority-matrix),
// per authority.

func (s *server) adminTicketRoutes(h func(string, handler)) {
	h("GET /verwaltung/kategorien", s.categoryList)
	h("GET /verwaltung/kategorien/neu", s.categoryNew)
	h("POST /verwaltung/kategorien/neu", s.categoryNew)
	h("GET /verwaltung/kategorien/{id}", s.categoryEdit)
	h("POST /verwaltung/kategorien/{id}", s.categoryEdit)
	h("POST /verwaltung/kategorien/{id}/loeschen", s.categoryDelete)
	h("GET /verwaltung/prioritaeten", s.matrixPage)
	h("POST /verwaltung/prioritaeten", s.matrixPage)
}

func (s *server) className(rq *request, class string) string {
	if class == "general" {
		return rq.tr.T("admin.class.general")
	}
	return rq.tr.T("class." + class)
}

func (s *server) classOptions(rq *request, general bool) []adminOption {
	var opts []adminOption
	if general {
		opts = append(opts, adminOption{Value: "general", Label: rq.tr.T("admin.class.general")})
	}
	for _, c := range cmdb.Classes {
		opts = append(opts, adminOption{Value: c, Label: s.className(rq, c)})
	}
	return opts
}

// authorityCategories lists the categories the authority uses: the
// platform's defaults (not hidden) and its own.
func (s *server) authorityCategories(r *http.Request, rq *request, auth int64) ([]*cmdb.TicketCategory, error) {
	all, err := s.opts.Tickets.FindTicketCategories(r.Context(), rq.Scope, "")
	if err != nil {
		return nil, err
	}
	var out []*cmdb.TicketCategory
	for _, c := range all {
		if c.AuthorityID == 0 || c.AuthorityID == auth {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *server) categoryList(w http.ResponseWriter, r *http.Request, rq *request) error {
	t := rq.tr.T
	auth, all, err := s.authorityChoice(r, rq)
	if err != nil {
		return err
	}
	if auth == nil {
		return s.noAuthority(w, r, rq, "admin.categories.title")
	}
	cats, err := s.authorityCategories(r, rq, auth.ID)
	if err != nil {
		return err
	}
	q := "?behoerde=" + itoa(auth.ID)
	l := &adminList{Caption: t("admin.categories.caption", "Authority", auth.Name), Empty: t("admin.empty"),
		Columns: []string{t("admin.field.name"), t("admin.field.class"), t("admin.field.position"), t("admin.field.origin")},
		New:     &adminLink{"/verwaltung/kategorien/neu" + q, t("admin.categories.new")},
		Filter:  authorityFilter(rq, "/verwaltung/kategorien", auth, all)}
	for _, c := range cats {
		origin := t("admin.category.default")
		if c.AuthorityID != 0 {
			origin = t("admin.category.own")
		}
		l.Rows = append(l.Rows, adminRow{Cells: []adminCell{{Text: c.Name, Href: "/verwaltung/kategorien/" + itoa(c.ID) + q},
			{Text: s.className(rq, c.Class)}, {Text: strconv.Itoa(c.Position)}, {Text: origin}}})
	}
	l.exports(r, rq, "kategorien")
	v := &adminView{Heading: t("admin.categories.title"), Intro: t("admin.categories.intro"), Blocks: []*adminBlock{{ID: "list", List: l}}}
	return s.renderAdmin(w, r, rq, http.StatusOK, "admin.categories.title", v)
}

func (s *server) categoryNew(w http.ResponseWriter, r *http.Request, rq *request) error {
	t := rq.tr.T
	auth, all, err := s.authorityChoice(r, rq)
	if err != nil {
		return err
	}
	if auth == nil {
		return s.noAuthority(w, r, rq, "admin.categories.title")
	}
	f := newForm(rq, "cat", "/verwaltung/kategorien/neu", t("admin.create"))
	f.choice("behoerde", t("admin.field.authority"), itoa(auth.ID), authorityOptions(all))
	f.choice("class", t("admin.field.class"), r.PostFormValue("class"), s.classOptions(rq, true))
	f.text("name", t("admin.field.name"), r.PostFormValue("name"))
	pos := f.text("position", t("admin.field.position"), r.PostFormValue("position"))
	pos.Type, pos.Hint = "number", t("admin.hint.position")
	status := http.StatusOK
	if r.Method == http.MethodPost {
		name := strings.TrimSpace(r.PostFormValue("name"))
		in := cmdb.TicketCategoryInput{AuthorityID: auth.ID, Class: r.PostFormValue("class"), Name: &name}
		if p := strings.TrimSpace(r.PostFormValue("position")); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil {
				f.bad(rq, "position", t("admin.error.number"))
			}
			in.Position = &n
		}
		if !f.HasErrors() {
			c, err := s.opts.Catalogue.CreateTicketCategory(r.Context(), rq.Scope, in)
			if err == nil {
				return done(w, r, "/verwaltung/kategorien/"+itoa(c.ID)+"?behoerde="+itoa(auth.ID), "created")
			}
			if err := f.refuse(rq, err, func(f string) string {
				if f == "authority_id" {
					return "behoerde"
				}
				return f
			}); err != nil {
				return err
			}
		}
		status = http.StatusUnprocessableEntity
	}
	v := &adminView{Crumbs: []adminLink{{"/verwaltung/kategorien", t("admin.categories.title")}}, Heading: t("admin.categories.new"),
		Blocks: []*adminBlock{{ID: "new", Form: f}}}
	return s.renderAdmin(w, r, rq, status, "admin.categories.new", v)
}

// category finds one of the authority's categories.
func (s *server) category(r *http.Request, rq *request) (*cmdb.Authority, *cmdb.TicketCategory, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, nil, err
	}
	auth, _, err := s.authorityChoice(r, rq)
	if err != nil {
		return nil, nil, err
	}
	if auth == nil {
		return nil, nil, cmdb.Errorf(cmdb.ENOTFOUND, "no authority")
	}
	cats, err := s.authorityCategories(r, rq, auth.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range cats {
		if c.ID == id {
			return auth, c, nil
		}
	}
	return nil, nil, cmdb.Errorf(cmdb.ENOTFOUND, "no category %d", id)
}

func (s *server) categoryView(rq *request, auth *cmdb.Authority, c *cmdb.TicketCategory, f, del *adminForm) *adminView {
	t := rq.tr.T
	q := "?behoerde=" + itoa(auth.ID)
	base := "/verwaltung/kategorien/" + itoa(c.ID)
	if del == nil {
		del = newForm(rq, "del", base+"/loeschen"+q, t("admin.category.hide"))
		del.Danger = true
	}
	blocks := []*adminBlock{}
	if c.AuthorityID != 0 {
		if f == nil {
			f = newForm(rq, "cat", base+q, t("admin.save"))
			f.text("name", t("admin.field.name"), c.Name)
			p := f.text("position", t("admin.field.position"), strconv.Itoa(c.Position))
			p.Type, p.Hint = "number", t("admin.hint.position")
		}
		blocks = append(blocks, &adminBlock{ID: "edit", Heading: t("admin.edit"), Form: f})
	}
	blocks = append(blocks, &adminBlock{ID: "delete", Heading: t("admin.category.hide"), Intro: t("admin.category.hide.hint"), Form: del})
	intro := s.className(rq, c.Class) + " · " + t("admin.category.own")
	if c.AuthorityID == 0 {
		intro = s.className(rq, c.Class) + " · " + t("admin.category.default") + " — " + t("admin.category.default.hint")
	}
	return &adminView{Crumbs: []adminLink{{"/verwaltung/kategorien" + q, t("admin.categories.title")}}, Heading: c.Name, Intro: intro, Blocks: blocks}
}

func (s *server) categoryEdit(w http.ResponseWriter, r *http.Request, rq *request) error {
	auth, c, err := s.category(r, rq)
	if err != nil {
		return err
	}
	if r.Method != http.MethodPost {
		return s.renderAdmin(w, r, rq, http.StatusOK, "admin.categories.title", s.categoryView(rq, auth, c, nil, nil))
	}
	t := rq.tr.T
	f := newForm(rq, "cat", "/verwaltung/kategorien/"+itoa(c.ID)+"?behoerde="+itoa(auth.ID), t("admin.save"))
	f.text("name", t("admin.field.name"), r.PostFormValue("name"))
	p := f.text("position", t("admin.field.position"), r.PostFormValue("position"))
	p.Type, p.Hint = "number", t("admin.hint.position")
	name := strings.TrimSpace(r.PostFormValue("name"))
	in := cmdb.TicketCategoryInput{Name: &name}
	n, perr := strconv.Atoi(strings.TrimSpace(r.PostFormValue("position")))
	if perr != nil {
		f.bad(rq, "position", t("admin.error.number"))
	} else {
		in.Position = &n
		_, err := s.opts.Catalogue.UpdateTicketCategory(r.Context(), rq.Scope, c.ID, auth.ID, in)
		if err == nil {
			return done(w, r, "/verwaltung/kategorien/"+itoa(c.ID)+"?behoerde="+itoa(auth.ID), "saved")
		}
		if err := f.refuse(rq, err, nil); err != nil {
			return err
		}
	}
	return s.renderAdmin(w, r, rq, http.StatusUnprocessableEntity, "admin.categories.title", s.categoryView(rq, auth, c, f, nil))
}

// categoryDelete deactivates the authority's own category or hides a
// default for it, as DELETE /ticket-categories/{id}: tickets keep it.
func (s *server) categoryDelete(w http.ResponseWriter, r *http.Request, rq *request) error {
	auth, c, err := s.category(r, rq)
	if err != nil {
		return err
	}
	if ok, err := s.confirmed(w, r, rq, "admin.confirm.hide", s.className(rq, c.Class)+": "+c.Name,
		"/verwaltung/kategorien/"+itoa(c.ID)+"?behoerde="+itoa(auth.ID)); !ok {
		return err
	}
	off := false
	if _, err := s.opts.Catalogue.UpdateTicketCategory(r.Context(), rq.Scope, c.ID, auth.ID, cmdb.TicketCategoryInput{Active: &off}); err != nil {
		del := newForm(rq, "del", r.URL.RequestURI(), rq.tr.T("admin.category.hide"))
		del.Danger = true
		if err := del.refuse(rq, err, nil); err != nil {
			return err
		}
		return s.renderAdmin(w, r, rq, http.StatusConflict, "admin.categories.title", s.categoryView(rq, auth, c, nil, del))
	}
	return done(w, r, "/verwaltung/kategorien?behoerde="+itoa(auth.ID), "hidden")
}

// matrixPage shows and stores the authority's priority matrix: impact
// (rows) × urgency (columns), each cell a priority 1–5.
func (s *server) matrixPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	t := rq.tr.T
	auth, all, err := s.authorityChoice(r, rq)
	if err != nil {
		return err
	}
	if auth == nil {
		return s.noAuthority(w, r, rq, "admin.matrix.title")
	}
	m, err := s.opts.Tickets.FindPriorityMatrix(r.Context(), rq.Scope, auth.ID)
	if err != nil {
		return err
	}
	post := r.Method == http.MethodPost
	f := newForm(rq, "matrix", "/verwaltung/prioritaeten", t("admin.save"))
	f.Hidden = []adminHidden{{"behoerde", itoa(auth.ID)}}
	var prios []adminOption
	for p := 1; p <= 5; p++ {
		prios = append(prios, adminOption{Value: strconv.Itoa(p), Label: t("admin.priority", "Priority", p)})
	}
	for i := range 3 {
		g := f.add(&adminField{Type: "group", Label: t(fmt.Sprintf("admin.impact.%d", i+1))})
		for j := range 3 {
			name := fmt.Sprintf("matrix[%d][%d]", i, j)
			val := strconv.Itoa(m[i][j])
			if post {
				val = r.PostFormValue(name)
				m[i][j], _ = strconv.Atoi(val)
			}
			opts := append([]adminOption(nil), prios...)
			for k := range opts {
				opts[k].Selected = opts[k].Value == val
			}
			g.Sub = append(g.Sub, &adminField{ID: fieldID("matrix", name), Name: name, Type: "select", Value: val, Options: opts,
				Label: t(fmt.Sprintf("admin.urgency.%d", j+1))})
		}
	}
	status := http.StatusOK
	if post {
		if err := s.opts.Tickets.SetPriorityMatrix(r.Context(), rq.Scope, auth.ID, m); err == nil {
			return done(w, r, "/verwaltung/prioritaeten?behoerde="+itoa(auth.ID), "saved")
		} else if err := f.refuse(rq, err, nil); err != nil {
			return err
		}
		status = http.StatusUnprocessableEntity
	}
	blocks := []*adminBlock{}
	if af := authorityFilter(rq, "/verwaltung/prioritaeten", auth, all); af != nil {
		blocks = append(blocks, &adminBlock{ID: "pick", Form: af})
	}
	blocks = append(blocks, &adminBlock{ID: "matrix", Heading: auth.Name, Intro: t("admin.matrix.intro"), Form: f})
	v := &adminView{Heading: t("admin.matrix.title"), Blocks: blocks}
	return s.renderAdmin(w, r, rq, status, "admin.matrix.title", v)
}
