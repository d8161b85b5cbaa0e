package web

import (
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// Knowledge-base editing (KBStore, as /kb-articles): search, create,
// edit, delete; public or internal; Markdown. The web package may import
// only the domain, so the preview is what the portal shows too: the
// store's rendered and sanitised BodyHTML of the saved article, under the
// form on its page.

func (s *server) adminKBRoutes(h func(string, handler)) {
	h("GET /verwaltung/wissen", s.kbList)
	h("GET /verwaltung/wissen/neu", s.kbNew)
	h("POST /verwaltung/wissen/neu", s.kbNew)
	h("GET /verwaltung/wissen/{id}", s.kbEdit)
	h("POST /verwaltung/wissen/{id}", s.kbEdit)
	h("POST /verwaltung/wissen/{id}/loeschen", s.kbDelete)
}

const kbPage = 50

func (s *server) kbList(w http.ResponseWriter, r *http.Request, rq *request) error {
	t := rq.tr.T
	if s.opts.KB == nil {
		return cmdb.Errorf(cmdb.ENOTFOUND, "no knowledge base")
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	page := max(int(queryID(r, "seite")), 1)
	fl := cmdb.KBFilter{Query: q, Limit: kbPage, Offset: (page - 1) * kbPage}
	var arts []*cmdb.KBArticle
	var total int
	if exportFormat(r) != "" {
		// The export holds every page.
		fl.Limit, fl.Offset = 200, 0
		for range 100 {
			got, n, err := s.opts.KB.FindKBArticles(r.Context(), rq.Scope, fl)
			if err != nil {
				return err
			}
			arts, total = append(arts, got...), n
			if len(got) < fl.Limit || len(arts) >= n {
				break
			}
			fl.Offset += fl.Limit
		}
	} else {
		var err error
		if arts, total, err = s.opts.KB.FindKBArticles(r.Context(), rq.Scope, fl); err != nil {
			return err
		}
	}
	search := newForm(rq, "search", "/verwaltung/wissen", t("admin.kb.search"))
	search.Get = true
	sf := search.text("q", t("admin.kb.query"), q)
	sf.Type = "search"
	l := &adminList{Caption: t("admin.kb.title"), Empty: t("admin.kb.none"), Filter: search,
		Columns: []string{t("admin.field.title"), t("admin.field.visibility"), t("admin.field.classes"), t("admin.field.version"), t("admin.field.changed")},
		New:     &adminLink{"/verwaltung/wissen/neu", t("admin.kb.new")}}
	for _, a := range arts {
		var classes []string
		for _, c := range a.Classes {
			classes = append(classes, s.className(rq, c))
		}
		l.Rows = append(l.Rows, adminRow{Cells: []adminCell{{Text: a.Title, Href: "/verwaltung/wissen/" + itoa(a.ID)},
			{Text: visibility(rq, a.Public)}, {Text: strings.Join(classes, ", ")}, {Text: strconv.Itoa(a.Version)}, {Text: rq.tr.Date(a.UpdatedAt)}}})
	}
	l.Pager = pager(r, rq, page, kbPage, total)
	l.exports(r, rq, "wissen")
	v := &adminView{Heading: t("admin.kb.title"), Blocks: []*adminBlock{{ID: "list", List: l}}}
	return s.renderAdmin(w, r, rq, http.StatusOK, "admin.kb.title", v)
}

// pager links the pages of a list (?seite=), keeping the filters.
func pager(r *http.Request, rq *request, page, size, total int) *adminPager {
	if total <= size && page == 1 {
		return nil
	}
	last := max((total+size-1)/size, 1)
	p := &adminPager{Info: rq.tr.T("admin.pager.info", "Page", page, "Pages", last, "Count", total)}
	link := func(n int) string {
		q := r.URL.Query()
		q.Del("ok")
		q.Set("seite", strconv.Itoa(n))
		return r.URL.Path + "?" + q.Encode()
	}
	if page > 1 {
		p.Prev = link(page - 1)
	}
	if page < last {
		p.Next = link(page + 1)
	}
	return p
}

func visibility(rq *request, public bool) string {
	if public {
		return rq.tr.T("admin.kb.public")
	}
	return rq.tr.T("admin.kb.internal")
}

// kbForm is the article's form with the given values.
func (s *server) kbForm(r *http.Request, rq *request, action string, a *cmdb.KBArticle, auths []*cmdb.Authority) (*adminForm, error) {
	t := rq.tr.T
	f := newForm(rq, "kb", action, t("admin.save"))
	if a.ID == 0 {
		f.Submit = t("admin.create")
		if len(auths) > 1 {
			f.choice("authority_id", t("admin.field.authority"), itoa(a.AuthorityID), authorityOptions(auths))
		}
	} else {
		f.Hidden = []adminHidden{{"version", strconv.Itoa(a.Version)}}
	}
	f.text("title", t("admin.field.title"), a.Title)
	f.add(&adminField{ID: "kb-body", Name: "body_md", Type: "textarea", Value: a.BodyMD, Label: t("admin.field.body"), Hint: t("admin.hint.markdown"), Rows: 14})
	f.check("public", t("admin.kb.publicfield"), a.Public).Hint = t("admin.hint.public")
	var opts []adminOption
	for _, o := range s.classOptions(rq, false) {
		o.Selected = slices.Contains(a.Classes, o.Value)
		opts = append(opts, o)
	}
	f.add(&adminField{ID: "kb-classes", Name: "classes", Type: "checkboxes", Label: t("admin.field.classes"), Hint: t("admin.hint.classes"), Options: opts})
	f.add(&adminField{ID: "kb-models", Name: "models", Type: "textarea", Value: strings.Join(a.Models, "\n"), Label: t("admin.field.models"), Hint: t("admin.hint.models"), Rows: 3})
	cats, err := s.authorityCategories(r, rq, a.AuthorityID)
	if err != nil {
		return nil, err
	}
	var copts []adminOption
	for _, c := range cats {
		copts = append(copts, adminOption{Value: itoa(c.ID), Label: s.className(rq, c.Class) + ": " + c.Name, Selected: slices.Contains(a.CategoryIDs, c.ID)})
	}
	f.add(&adminField{ID: "kb-categories", Name: "category_ids", Type: "checkboxes", Label: t("admin.field.kbcategories"), Hint: t("admin.hint.kbcategories"), Options: copts})
	return f, nil
}

// kbTyped reads the article's fields from the form.
func kbTyped(r *http.Request, a *cmdb.KBArticle) {
	a.Title = strings.TrimSpace(r.PostFormValue("title"))
	a.BodyMD = r.PostFormValue("body_md")
	a.Public = r.PostFormValue("public") != ""
	a.Classes = r.PostForm["classes"]
	a.CategoryIDs = nil
	for _, v := range r.PostForm["category_ids"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			a.CategoryIDs = append(a.CategoryIDs, id)
		}
	}
	a.Models = nil
	for _, m := range strings.Split(r.PostFormValue("models"), "\n") {
		if m = strings.TrimSpace(m); m != "" {
			a.Models = append(a.Models, m)
		}
	}
}

// kbAlias puts a tag's error next to its list.
func kbAlias(f string) string {
	for _, p := range []string{"classes", "models", "category_ids"} {
		if strings.HasPrefix(f, p) {
			return p
		}
	}
	return f
}

func (s *server) kbNew(w http.ResponseWriter, r *http.Request, rq *request) error {
	t := rq.tr.T
	if s.opts.KB == nil {
		return cmdb.Errorf(cmdb.ENOTFOUND, "no knowledge base")
	}
	auth, all, err := s.authorityChoice(r, rq)
	if err != nil {
		return err
	}
	if auth == nil {
		return s.noAuthority(w, r, rq, "admin.kb.title")
	}
	a := &cmdb.KBArticle{AuthorityID: auth.ID}
	status := http.StatusOK
	var f *adminForm
	if r.Method == http.MethodPost {
		kbTyped(r, a)
		if id := formID(r, "authority_id"); id != 0 {
			a.AuthorityID = id
		}
		cerr := s.opts.KB.CreateKBArticle(r.Context(), rq.Scope, a)
		if cerr == nil {
			return done(w, r, "/verwaltung/wissen/"+itoa(a.ID), "created")
		}
		a.ID = 0
		if f, err = s.kbForm(r, rq, "/verwaltung/wissen/neu", a, all); err != nil {
			return err
		}
		if err := f.refuse(rq, cerr, kbAlias); err != nil {
			return err
		}
		status = http.StatusUnprocessableEntity
	} else if f, err = s.kbForm(r, rq, "/verwaltung/wissen/neu", a, all); err != nil {
		return err
	}
	v := &adminView{Crumbs: []adminLink{{"/verwaltung/wissen", t("admin.kb.title")}}, Heading: t("admin.kb.new"),
		Blocks: []*adminBlock{{ID: "new", Form: f}}}
	return s.renderAdmin(w, r, rq, status, "admin.kb.new", v)
}

func (s *server) kbView(rq *request, stored *cmdb.KBArticle, f, del *adminForm) *adminView {
	t := rq.tr.T
	base := "/verwaltung/wissen/" + itoa(stored.ID)
	if del == nil {
		del = newForm(rq, "del", base+"/loeschen", t("admin.delete"))
		del.Danger = true
	}
	// BodyHTML is the store's Markdown rendered and sanitised at saving
	// (see cmdb.KBArticle), as the portal shows it: safe as it is.
	preview := template.HTML(stored.BodyHTML)
	return &adminView{Crumbs: []adminLink{{"/verwaltung/wissen", t("admin.kb.title")}}, Heading: stored.Title,
		Intro: visibility(rq, stored.Public) + " · " + t("admin.kb.versioninfo", "Version", stored.Version, "Date", rq.tr.DateTime(stored.UpdatedAt)),
		Blocks: []*adminBlock{{ID: "edit", Heading: t("admin.edit"), Form: f},
			{ID: "preview", Heading: t("admin.kb.preview"), Intro: t("admin.kb.preview.hint"), HTML: preview},
			{ID: "delete", Heading: t("admin.delete"), Form: del}}}
}

func (s *server) kbEdit(w http.ResponseWriter, r *http.Request, rq *request) error {
	if s.opts.KB == nil {
		return cmdb.Errorf(cmdb.ENOTFOUND, "no knowledge base")
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	stored, err := s.opts.KB.FindKBArticleByID(r.Context(), rq.Scope, id)
	if err != nil {
		return err
	}
	action := "/verwaltung/wissen/" + itoa(id)
	if r.Method != http.MethodPost {
		f, err := s.kbForm(r, rq, action, stored, nil)
		if err != nil {
			return err
		}
		return s.renderAdmin(w, r, rq, http.StatusOK, "admin.kb.title", s.kbView(rq, stored, f, nil))
	}
	typed := *stored
	kbTyped(r, &typed)
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	if typed.CategoryIDs == nil {
		typed.CategoryIDs = []int64{}
	}
	u := cmdb.KBArticleUpdate{Title: &typed.Title, BodyMD: &typed.BodyMD, Public: &typed.Public, Classes: &typed.Classes,
		Models: &typed.Models, CategoryIDs: &typed.CategoryIDs, Version: &version}
	if typed.Classes == nil {
		empty := []string{}
		u.Classes = &empty
	}
	if typed.Models == nil {
		empty := []string{}
		u.Models = &empty
	}
	if _, err := s.opts.KB.UpdateKBArticle(r.Context(), rq.Scope, id, u); err != nil {
		typed.Version = version
		f, ferr := s.kbForm(r, rq, action, &typed, nil)
		if ferr != nil {
			return ferr
		}
		if err := f.refuse(rq, err, kbAlias); err != nil {
			return err
		}
		if cmdb.ErrorCode(err) == cmdb.ECONFLICT && cmdb.ErrorField(err) == "version" {
			// Someone saved in between: say so, keep what was typed, and
			// let a second save overwrite knowingly.
			f.Error = rq.tr.T("admin.kb.stale", "Version", stored.Version)
			f.Hidden = []adminHidden{{"version", strconv.Itoa(stored.Version)}}
		}
		return s.renderAdmin(w, r, rq, http.StatusUnprocessableEntity, "admin.kb.title", s.kbView(rq, stored, f, nil))
	}
	return done(w, r, action, "saved")
}

func (s *server) kbDelete(w http.ResponseWriter, r *http.Request, rq *request) error {
	if s.opts.KB == nil {
		return cmdb.Errorf(cmdb.ENOTFOUND, "no knowledge base")
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	art, err := s.opts.KB.FindKBArticleByID(r.Context(), rq.Scope, id)
	if err != nil {
		return err
	}
	if ok, err := s.confirmed(w, r, rq, "admin.confirm.delete", art.Title, "/verwaltung/wissen/"+itoa(id)); !ok {
		return err
	}
	if err := s.opts.KB.DeleteKBArticle(r.Context(), rq.Scope, id); err != nil {
		stored, ferr := s.opts.KB.FindKBArticleByID(r.Context(), rq.Scope, id)
		if ferr != nil {
			return ferr
		}
		del := newForm(rq, "del", r.URL.Path, rq.tr.T("admin.delete"))
		del.Danger = true
		if err := del.refuse(rq, err, nil); err != nil {
			return err
		}
		f, ferr := s.kbForm(r, rq, "/verwaltung/wissen/"+itoa(id), stored, nil)
		if ferr != nil {
			return ferr
		}
		v := s.kbView(rq, stored, f, del)
		return s.renderAdmin(w, r, rq, http.StatusConflict, "admin.kb.title", v)
	}
	return done(w, r, "/verwaltung/wissen", "deleted")
}
