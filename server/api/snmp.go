package api

import (
	"net/http"

	"github.com/schulit/cmdb/server/cmdb"
)

// schoolList serves a list of a school-owned kind, filtered by ?school=.
func schoolList[T any](find func(*http.Request, cmdb.Scope, int64) ([]T, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
		school, err := queryInt(r, "school")
		if err != nil {
			return err
		}
		out, err := find(r, sc, school)
		if err != nil {
			return err
		}
		writeJSON(w, 200, list[T]{Items: out, Total: len(out)})
		return nil
	}
}

func (s *Server) createSNMPCredential(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Name      string      `json:"name"`
		Version   string      `json:"version"`
		Community cmdb.Secret `json:"community"`
		User      string      `json:"user"`
		AuthProto string      `json:"auth_proto"`
		AuthPass  cmdb.Secret `json:"auth_pass"`
		PrivProto string      `json:"priv_proto"`
		PrivPass  cmdb.Secret `json:"priv_pass"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	c := &cmdb.SNMPCredential{Name: in.Name, Version: in.Version, Community: in.Community, User: in.User,
		AuthProto: in.AuthProto, AuthPass: in.AuthPass, PrivProto: in.PrivProto, PrivPass: in.PrivPass}
	if err := s.opts.SNMP.CreateSNMPCredential(r.Context(), sc, id, c); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c) // secrets cleared by the store
	return nil
}

func (s *Server) createSNMPTarget(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in struct {
		SchoolID int64  `json:"school_id"`
		Address  string `json:"address"`
		Kind     string `json:"kind"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	t := &cmdb.SNMPTarget{SchoolID: in.SchoolID, Address: in.Address, Kind: in.Kind}
	if err := s.opts.SNMP.CreateSNMPTarget(r.Context(), sc, t); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) createSNMPRange(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in struct {
		SchoolID int64  `json:"school_id"`
		CIDR     string `json:"cidr"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	rg := &cmdb.SNMPRange{SchoolID: in.SchoolID, CIDR: in.CIDR}
	if err := s.opts.SNMP.CreateSNMPRange(r.Context(), sc, rg); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rg)
	return nil
}

func (s *Server) listMetrics(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	out, err := s.opts.SNMP.FindMetrics(r.Context(), sc, id, r.URL.Query().Get("name"), int(limit))
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.Metric]{Items: out, Total: len(out)})
	return nil
}
