package api

import (
	"net/http"

	"github.com/schulit/cmdb/server/cmdb"
)

// MonitoringRulesBody is the body of GET and PUT
// /authorities/{id}/monitoring-rules: one rule per health kind. A PUT
// replaces the authority's rules; kinds it leaves out take the default.
type MonitoringRulesBody struct {
	Rules []cmdb.MonitoringRule `json:"rules"`
}

func (s *Server) monitoring() (cmdb.MonitoringStore, error) {
	if s.opts.Monitoring == nil {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "Monitoring rules are not offered by this server.")
	}
	return s.opts.Monitoring, nil
}

func (s *Server) getMonitoringRules(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ms, err := s.monitoring()
	if err != nil {
		return err
	}
	rules, err := ms.FindMonitoringRules(r.Context(), sc, id)
	if err != nil {
		return err
	}
	writeJSON(w, 200, MonitoringRulesBody{Rules: rules})
	return nil
}

func (s *Server) setMonitoringRules(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ms, err := s.monitoring()
	if err != nil {
		return err
	}
	var in MonitoringRulesBody
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	if in.Rules == nil {
		return cmdb.Invalid("rules", "is required: a list of rules, one per health kind ([] for the defaults)")
	}
	rules, err := ms.SetMonitoringRules(r.Context(), sc, id, in.Rules)
	if err != nil {
		return err
	}
	writeJSON(w, 200, MonitoringRulesBody{Rules: rules})
	return nil
}
