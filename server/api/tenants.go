package api

import (
	"context"
	"net/http"

	"github.com/schulit/cmdb/server/cmdb"
)

// list is the JSON shape of list responses.
type list[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Limit  int `json:"limit,omitempty"`
	Offset int `json:"offset,omitempty"`
}

// getOne serves GET …/{id} from a store finder, given as a method
// expression so that a Server can be built before its stores are.
func getOne[S, T any](store S, find func(S, context.Context, cmdb.Scope, int64) (T, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		v, err := find(store, r.Context(), sc, id)
		if err != nil {
			return err
		}
		writeJSON(w, 200, v)
		return nil
	}
}

// listAll serves a whole list from a store finder.
func listAll[S, T any](store S, find func(S, context.Context, cmdb.Scope) ([]T, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
		out, err := find(store, r.Context(), sc)
		if err != nil {
			return err
		}
		writeJSON(w, 200, list[T]{Items: out, Total: len(out)})
		return nil
	}
}

// listTenants serves a tenant list filtered by ?authority, ?school, ?building.
func listTenants[S, T any](store S, find func(S, context.Context, cmdb.Scope, cmdb.TenantFilter) ([]T, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
		f, err := tenantFilter(r)
		if err != nil {
			return err
		}
		out, err := find(store, r.Context(), sc, f)
		if err != nil {
			return err
		}
		writeJSON(w, 200, list[T]{Items: out, Total: len(out)})
		return nil
	}
}

// listOfCI serves a list that belongs to the CI named by {id}.
func listOfCI[S, T any](store S, find func(S, context.Context, cmdb.Scope, int64) ([]T, error)) handlerFunc {
	return getOne(store, func(store S, ctx context.Context, sc cmdb.Scope, id int64) (list[T], error) {
		out, err := find(store, ctx, sc, id)
		return list[T]{Items: out, Total: len(out)}, err
	})
}

func tenantFilter(r *http.Request) (cmdb.TenantFilter, error) {
	var f cmdb.TenantFilter
	var err error
	if f.AuthorityID, err = queryInt(r, "authority"); err != nil {
		return f, err
	} else if f.SchoolID, err = queryInt(r, "school"); err != nil {
		return f, err
	} else if f.BuildingID, err = queryInt(r, "building"); err != nil {
		return f, err
	}
	return f, nil
}

func (s *Server) createAuthority(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in struct {
		Code string `json:"code"`
		Name string `json:"name"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	a := &cmdb.Authority{Code: in.Code, Name: in.Name}
	if err := s.opts.Tenants.CreateAuthority(r.Context(), sc, a); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a)
	return nil
}

// Tree is an authority with its schools, buildings and rooms.
type Tree struct {
	*cmdb.Authority
	Schools []*TreeSchool `json:"schools"`
}

// TreeSchool is a school within a Tree.
type TreeSchool struct {
	*cmdb.School
	Buildings []*TreeBuilding `json:"buildings"`
}

// TreeBuilding is a building within a Tree.
type TreeBuilding struct {
	*cmdb.Building
	Rooms []*cmdb.Room `json:"rooms"`
}

func (s *Server) getTree(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	a, err := s.opts.Tenants.FindAuthorityByID(ctx, sc, id)
	if err != nil {
		return err
	}
	f := cmdb.TenantFilter{AuthorityID: id}
	schools, err := s.opts.Tenants.FindSchools(ctx, sc, f)
	if err != nil {
		return err
	}
	buildings, err := s.opts.Tenants.FindBuildings(ctx, sc, f)
	if err != nil {
		return err
	}
	rooms, err := s.opts.Tenants.FindRooms(ctx, sc, f)
	if err != nil {
		return err
	}
	tree := &Tree{Authority: a, Schools: []*TreeSchool{}}
	bySchool := map[int64]*TreeSchool{}
	for _, sch := range schools {
		ts := &TreeSchool{School: sch, Buildings: []*TreeBuilding{}}
		bySchool[sch.ID] = ts
		tree.Schools = append(tree.Schools, ts)
	}
	byBuilding := map[int64]*TreeBuilding{}
	for _, b := range buildings {
		tb := &TreeBuilding{Building: b, Rooms: []*cmdb.Room{}}
		byBuilding[b.ID] = tb
		if ts := bySchool[b.SchoolID]; ts != nil {
			ts.Buildings = append(ts.Buildings, tb)
		}
	}
	for _, rm := range rooms {
		if tb := byBuilding[rm.BuildingID]; tb != nil {
			tb.Rooms = append(tb.Rooms, rm)
		}
	}
	writeJSON(w, 200, tree)
	return nil
}

func (s *Server) createSchool(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in struct {
		AuthorityID int64  `json:"authority_id"`
		Code        string `json:"code"`
		Name        string `json:"name"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	v := &cmdb.School{AuthorityID: in.AuthorityID, Code: in.Code, Name: in.Name}
	if err := s.opts.Tenants.CreateSchool(r.Context(), sc, v); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) createBuilding(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in struct {
		SchoolID int64  `json:"school_id"`
		Code     string `json:"code"`
		Name     string `json:"name"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	v := &cmdb.Building{SchoolID: in.SchoolID, Code: in.Code, Name: in.Name}
	if err := s.opts.Tenants.CreateBuilding(r.Context(), sc, v); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) createRoom(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in struct {
		BuildingID int64  `json:"building_id"`
		Code       string `json:"code"`
		Name       string `json:"name"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	v := &cmdb.Room{BuildingID: in.BuildingID, Code: in.Code, Name: in.Name}
	if err := s.opts.Tenants.CreateRoom(r.Context(), sc, v); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) createProvider(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in struct {
		Code        string  `json:"code"`
		Name        string  `json:"name"`
		Authorities []int64 `json:"authority_ids"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	v := &cmdb.Provider{Code: in.Code, Name: in.Name, Authorities: in.Authorities}
	if v.Authorities == nil {
		v.Authorities = []int64{}
	}
	if err := s.opts.Tenants.CreateProvider(r.Context(), sc, v); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) addContract(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		AuthorityID int64 `json:"authority_id"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	} else if in.AuthorityID <= 0 {
		return cmdb.Invalid("authority_id", "is required")
	}
	if err := s.opts.Tenants.AddContract(r.Context(), sc, id, in.AuthorityID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// renameInput is the body of PATCH /schools/{id}, /buildings/{id} and
// /rooms/{id}: omitted fields stay.
type renameInput struct {
	Code *string `json:"code"`
	Name *string `json:"name"`
}

// rename serves PATCH of a school, building or room.
func rename[S, T any](store S, update func(S, context.Context, cmdb.Scope, int64, cmdb.TenantUpdate) (T, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var in renameInput
		if err := decode(w, r, maxBody, &in); err != nil {
			return err
		}
		v, err := update(store, r.Context(), sc, id, cmdb.TenantUpdate{Code: in.Code, Name: in.Name})
		if err != nil {
			return err
		}
		writeJSON(w, 200, v)
		return nil
	}
}

func (s *Server) getOIDC(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.opts.Accounts.FindOIDCSettings(r.Context(), sc, id)
	if err != nil {
		return err
	}
	writeJSON(w, 200, c)
	return nil
}
