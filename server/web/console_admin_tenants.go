package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// Schools, buildings and rooms: list (with export), create, rename and
// delete, through the TenantStore as the API's /schools, /buildings and
// /rooms routes do. The three differ only in their parent, so one set of
// handlers serves them, each kind described by a tenantKind.

// tenantKind describes one level of the tenant tree for its pages.
type tenantKind struct {
	path   string // under /verwaltung/
	msg    string // message prefix: admin.schools, …
	export string
	// parent is the form field naming the parent (authority_id, …).
	parent string
	// parents lists the choices of parent for the caller.
	parents func(r *http.Request, rq *request) ([]adminOption, error)
	// list returns the rows of the list page (filtered by ?schule=).
	list   func(r *http.Request, rq *request, school int64) ([]adminRow, error)
	create func(ctx context.Context, sc cmdb.Scope, parent int64, code, name string) (int64, error)
	// find returns the object's code and name and where it is.
	find   func(ctx context.Context, sc cmdb.Scope, id int64) (code, name, where string, err error)
	update func(ctx context.Context, sc cmdb.Scope, id int64, u cmdb.TenantUpdate) error
	delete func(ctx context.Context, sc cmdb.Scope, id int64) error
	// filter: the list can be narrowed to a school.
	filter bool
}

func (s *server) adminTenantRoutes(h func(string, handler)) {
	for _, k := range s.tenantKinds() {
		base := "/verwaltung/" + k.path
		h("GET "+base, s.tenantList(k))
		h("GET "+base+"/neu", s.tenantNew(k))
		h("POST "+base+"/neu", s.tenantNew(k))
		h("GET "+base+"/{id}", s.tenantEdit(k))
		h("POST "+base+"/{id}", s.tenantEdit(k))
		h("POST "+base+"/{id}/loeschen", s.tenantDelete(k))
	}
}

func (s *server) tenantKinds() []tenantKind {
	ts := s.opts.Tenants
	school := tenantKind{path: "schulen", msg: "admin.schools", export: "schulen", parent: "authority_id",
		parents: func(r *http.Request, rq *request) ([]adminOption, error) {
			all, err := ts.FindAuthorities(r.Context(), rq.Scope)
			return authorityOptions(all), err
		},
		list: func(r *http.Request, rq *request, _ int64) ([]adminRow, error) {
			auths, err := ts.FindAuthorities(r.Context(), rq.Scope)
			if err != nil {
				return nil, err
			}
			names := map[int64]string{}
			for _, a := range auths {
				names[a.ID] = a.Name
			}
			schools, err := ts.FindSchools(r.Context(), rq.Scope, cmdb.TenantFilter{})
			if err != nil {
				return nil, err
			}
			var rows []adminRow
			for _, sc := range schools {
				rows = append(rows, adminRow{Cells: []adminCell{{Text: sc.Name, Href: "/verwaltung/schulen/" + itoa(sc.ID)},
					{Text: sc.Code}, {Text: names[sc.AuthorityID]}, {Text: rq.tr.T("admin.buildings.title"), Href: "/verwaltung/gebaeude?schule=" + itoa(sc.ID)}}})
			}
			return rows, nil
		},
		create: func(ctx context.Context, sc cmdb.Scope, parent int64, code, name string) (int64, error) {
			v := &cmdb.School{AuthorityID: parent, Code: code, Name: name}
			err := ts.CreateSchool(ctx, sc, v)
			return v.ID, err
		},
		find: func(ctx context.Context, sc cmdb.Scope, id int64) (string, string, string, error) {
			v, err := ts.FindSchoolByID(ctx, sc, id)
			if err != nil {
				return "", "", "", err
			}
			a, err := ts.FindAuthorityByID(ctx, sc, v.AuthorityID)
			where := ""
			if err == nil {
				where = a.Name
			}
			return v.Code, v.Name, where, nil
		},
		update: func(ctx context.Context, sc cmdb.Scope, id int64, u cmdb.TenantUpdate) error {
			_, err := ts.UpdateSchool(ctx, sc, id, u)
			return err
		},
		delete: func(ctx context.Context, sc cmdb.Scope, id int64) error { return ts.DeleteSchool(ctx, sc, id) },
	}
	building := tenantKind{path: "gebaeude", msg: "admin.buildings", export: "gebaeude", parent: "school_id", filter: true,
		parents: func(r *http.Request, rq *request) ([]adminOption, error) {
			_, schools, err := s.schoolNames(r, rq)
			return schoolOptions(rq, schools, false), err
		},
		list: func(r *http.Request, rq *request, school int64) ([]adminRow, error) {
			names, _, err := s.schoolNames(r, rq)
			if err != nil {
				return nil, err
			}
			bs, err := ts.FindBuildings(r.Context(), rq.Scope, cmdb.TenantFilter{SchoolID: school})
			if err != nil {
				return nil, err
			}
			var rows []adminRow
			for _, b := range bs {
				rows = append(rows, adminRow{Cells: []adminCell{{Text: b.Name, Href: "/verwaltung/gebaeude/" + itoa(b.ID)},
					{Text: b.Code}, {Text: names[b.SchoolID]}, {Text: rq.tr.T("admin.rooms.title"), Href: "/verwaltung/raeume?gebaeude=" + itoa(b.ID)}}})
			}
			return rows, nil
		},
		create: func(ctx context.Context, sc cmdb.Scope, parent int64, code, name string) (int64, error) {
			v := &cmdb.Building{SchoolID: parent, Code: code, Name: name}
			err := ts.CreateBuilding(ctx, sc, v)
			return v.ID, err
		},
		find: func(ctx context.Context, sc cmdb.Scope, id int64) (string, string, string, error) {
			v, err := ts.FindBuildingByID(ctx, sc, id)
			if err != nil {
				return "", "", "", err
			}
			where := ""
			if sch, err := ts.FindSchoolByID(ctx, sc, v.SchoolID); err == nil {
				where = sch.Name
			}
			return v.Code, v.Name, where, nil
		},
		update: func(ctx context.Context, sc cmdb.Scope, id int64, u cmdb.TenantUpdate) error {
			_, err := ts.UpdateBuilding(ctx, sc, id, u)
			return err
		},
		delete: func(ctx context.Context, sc cmdb.Scope, id int64) error { return ts.DeleteBuilding(ctx, sc, id) },
	}
	room := tenantKind{path: "raeume", msg: "admin.rooms", export: "raeume", parent: "building_id", filter: true,
		parents: func(r *http.Request, rq *request) ([]adminOption, error) {
			names, _, err := s.schoolNames(r, rq)
			if err != nil {
				return nil, err
			}
			bs, err := ts.FindBuildings(r.Context(), rq.Scope, cmdb.TenantFilter{})
			var opts []adminOption
			for _, b := range bs {
				opts = append(opts, adminOption{Value: itoa(b.ID), Label: names[b.SchoolID] + " – " + b.Name})
			}
			return opts, err
		},
		list: func(r *http.Request, rq *request, school int64) ([]adminRow, error) {
			names, _, err := s.schoolNames(r, rq)
			if err != nil {
				return nil, err
			}
			bs, err := ts.FindBuildings(r.Context(), rq.Scope, cmdb.TenantFilter{SchoolID: school})
			if err != nil {
				return nil, err
			}
			bnames := map[int64]string{}
			for _, b := range bs {
				bnames[b.ID] = b.Name
			}
			rooms, err := ts.FindRooms(r.Context(), rq.Scope, cmdb.TenantFilter{SchoolID: school, BuildingID: queryID(r, "gebaeude")})
			if err != nil {
				return nil, err
			}
			var rows []adminRow
			for _, rm := range rooms {
				rows = append(rows, adminRow{Cells: []adminCell{{Text: rm.Name, Href: "/verwaltung/raeume/" + itoa(rm.ID)},
					{Text: rm.Code}, {Text: bnames[rm.BuildingID]}, {Text: names[rm.SchoolID]}}})
			}
			return rows, nil
		},
		create: func(ctx context.Context, sc cmdb.Scope, parent int64, code, name string) (int64, error) {
			v := &cmdb.Room{BuildingID: parent, Code: code, Name: name}
			err := ts.CreateRoom(ctx, sc, v)
			return v.ID, err
		},
		find: func(ctx context.Context, sc cmdb.Scope, id int64) (string, string, string, error) {
			v, err := ts.FindRoomByID(ctx, sc, id)
			if err != nil {
				return "", "", "", err
			}
			where := ""
			if b, err := ts.FindBuildingByID(ctx, sc, v.BuildingID); err == nil {
				where = b.Name
			}
			if sch, err := ts.FindSchoolByID(ctx, sc, v.SchoolID); err == nil {
				where = sch.Name + " – " + where
			}
			return v.Code, v.Name, where, nil
		},
		update: func(ctx context.Context, sc cmdb.Scope, id int64, u cmdb.TenantUpdate) error {
			_, err := ts.UpdateRoom(ctx, sc, id, u)
			return err
		},
		delete: func(ctx context.Context, sc cmdb.Scope, id int64) error { return ts.DeleteRoom(ctx, sc, id) },
	}
	return []tenantKind{school, building, room}
}

func (k tenantKind) base() string { return "/verwaltung/" + k.path }

func (s *server) tenantList(k tenantKind) handler {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		t := rq.tr.T
		school := queryID(r, "schule")
		rows, err := k.list(r, rq, school)
		if err != nil {
			return err
		}
		cols := []string{t("admin.field.name"), t("admin.field.code"), t("admin.field.authority"), ""}
		switch k.path {
		case "gebaeude":
			cols = []string{t("admin.field.name"), t("admin.field.code"), t("admin.field.school"), ""}
		case "raeume":
			cols = []string{t("admin.field.name"), t("admin.field.code"), t("admin.field.building"), t("admin.field.school")}
		}
		if cols[3] == "" {
			cols[3] = t("admin.field.contents")
		}
		l := &adminList{Caption: t(k.msg + ".title"), Columns: cols, Rows: rows, Empty: t("admin.empty"),
			New: &adminLink{k.base() + "/neu", t(k.msg + ".new")}}
		if k.path != "raeume" {
			l.exportCols = 3 // the last column links to the contents
		}
		// A new building of the school shown, a new room of the building.
		if k.path == "gebaeude" && school != 0 {
			l.New.Href += "?school_id=" + itoa(school)
		} else if b := queryID(r, "gebaeude"); k.path == "raeume" && b != 0 {
			l.New.Href += "?building_id=" + itoa(b)
		}
		if k.filter {
			_, schools, err := s.schoolNames(r, rq)
			if err != nil {
				return err
			}
			if len(schools) > 1 {
				f := newForm(rq, "filter", k.base(), t("admin.filter.show"))
				f.Get = true
				f.choice("schule", t("admin.field.school"), r.URL.Query().Get("schule"), schoolOptions(rq, schools, true))
				l.Filter = f
			}
		}
		l.exports(r, rq, k.export)
		v := &adminView{Heading: t(k.msg + ".title"), Blocks: []*adminBlock{{ID: "list", List: l}}}
		return s.renderAdmin(w, r, rq, http.StatusOK, k.msg+".title", v)
	}
}

// tenantForm is the new or edit form with what was typed (or stored).
func (s *server) tenantForm(r *http.Request, rq *request, k tenantKind, action string, isNew bool, code, name string) (*adminForm, error) {
	t := rq.tr.T
	f := newForm(rq, "obj", action, t("admin.save"))
	if isNew {
		f.Submit = t("admin.create")
		opts, err := k.parents(r, rq)
		if err != nil {
			return nil, err
		}
		want := r.PostFormValue(k.parent)
		if want == "" {
			want = r.URL.Query().Get(k.parent)
		}
		label := map[string]string{"authority_id": "admin.field.authority", "school_id": "admin.field.school", "building_id": "admin.field.building"}[k.parent]
		f.choice(k.parent, t(label), want, opts)
	}
	c := f.text("code", t("admin.field.code"), code)
	c.Hint = t("admin.hint.code")
	f.text("name", t("admin.field.name"), name)
	return f, nil
}

func (s *server) tenantNew(k tenantKind) handler {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		code, name := strings.TrimSpace(r.PostFormValue("code")), strings.TrimSpace(r.PostFormValue("name"))
		f, err := s.tenantForm(r, rq, k, k.base()+"/neu", true, code, name)
		if err != nil {
			return err
		}
		status := http.StatusOK
		if r.Method == http.MethodPost {
			id, err := k.create(r.Context(), rq.Scope, formID(r, k.parent), code, name)
			if err == nil {
				return done(w, r, k.base()+"/"+itoa(id), "created")
			}
			if err := f.refuse(rq, err, nil); err != nil {
				return err
			}
			status = http.StatusUnprocessableEntity
		}
		v := &adminView{Crumbs: []adminLink{{k.base(), rq.tr.T(k.msg + ".title")}}, Heading: rq.tr.T(k.msg + ".new"),
			Blocks: []*adminBlock{{ID: "new", Form: f}}}
		return s.renderAdmin(w, r, rq, status, k.msg+".new", v)
	}
}

func (s *server) tenantEdit(k tenantKind) handler {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		code, name, where, err := k.find(r.Context(), rq.Scope, id)
		if err != nil {
			return err
		}
		action := k.base() + "/" + itoa(id)
		status := http.StatusOK
		heading := name
		if r.Method == http.MethodPost {
			code, name = strings.TrimSpace(r.PostFormValue("code")), strings.TrimSpace(r.PostFormValue("name"))
		}
		f, err := s.tenantForm(r, rq, k, action, false, code, name)
		if err != nil {
			return err
		}
		if r.Method == http.MethodPost {
			err := k.update(r.Context(), rq.Scope, id, cmdb.TenantUpdate{Code: &code, Name: &name})
			if err == nil {
				return done(w, r, action, "saved")
			}
			if err := f.refuse(rq, err, nil); err != nil {
				return err
			}
			status = http.StatusUnprocessableEntity
		}
		del := newForm(rq, "del", action+"/loeschen", rq.tr.T("admin.delete"))
		del.Danger = true
		v := &adminView{Crumbs: []adminLink{{k.base(), rq.tr.T(k.msg + ".title")}}, Heading: heading, Intro: where,
			Blocks: []*adminBlock{{ID: "edit", Heading: rq.tr.T("admin.edit"), Form: f},
				{ID: "delete", Heading: rq.tr.T("admin.delete"), Intro: rq.tr.T("admin.delete.hint"), Form: del}}}
		return s.renderAdmin(w, r, rq, status, k.msg+".title", v)
	}
}

func (s *server) tenantDelete(k tenantKind) handler {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		_, name, where, err := k.find(r.Context(), rq.Scope, id)
		if err != nil {
			return err
		}
		if ok, err := s.confirmed(w, r, rq, "admin.confirm.delete", strings.TrimPrefix(where+" – "+name, " – "), k.base()+"/"+itoa(id)); !ok {
			return err
		}
		err = k.delete(r.Context(), rq.Scope, id)
		if err == nil {
			return done(w, r, k.base(), "deleted")
		}
		// Still in use (or not allowed): the edit page with the reason at
		// the delete button.
		code, name, where, ferr := k.find(r.Context(), rq.Scope, id)
		if ferr != nil {
			return ferr
		}
		action := k.base() + "/" + itoa(id)
		f, ferr := s.tenantForm(r, rq, k, action, false, code, name)
		if ferr != nil {
			return ferr
		}
		del := newForm(rq, "del", action+"/loeschen", rq.tr.T("admin.delete"))
		del.Danger = true
		if err := del.refuse(rq, err, nil); err != nil {
			return err
		}
		v := &adminView{Crumbs: []adminLink{{k.base(), rq.tr.T(k.msg + ".title")}}, Heading: name, Intro: where,
			Blocks: []*adminBlock{{ID: "edit", Heading: rq.tr.T("admin.edit"), Form: f},
				{ID: "delete", Heading: rq.tr.T("admin.delete"), Intro: rq.tr.T("admin.delete.hint"), Form: del}}}
		return s.renderAdmin(w, r, rq, http.StatusConflict, k.msg+".title", v)
	}
}
