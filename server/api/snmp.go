package api

import (
	"net/http"
	"time"

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
	q := cmdb.MetricQuery{Name: r.URL.Query().Get("name"), Resolution: r.URL.Query().Get("resolution"), Limit: int(limit)}
	if q.From, err = queryTime(r, "from"); err != nil {
		return err
	}
	if q.To, err = queryTime(r, "to"); err != nil {
		return err
	}
	out, err := s.opts.SNMP.FindMetricSeries(r.Context(), sc, id, q)
	if err != nil {
		return err
	}
	writeJSON(w, 200, struct {
		list[*cmdb.Metric]
		Resolution string `json:"resolution"`
	}{list[*cmdb.Metric]{Items: out.Items, Total: len(out.Items)}, out.Resolution})
	return nil
}

// queryTime parses an RFC 3339 time from the query; zero when absent.
func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, cmdb.Invalid(name, "must be a time in RFC 3339 form, e.g. 2026-01-31T00:00:00Z")
	}
	return t, nil
}
