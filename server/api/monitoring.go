package api

import (
	"github.com/schulit/cmdb/server/cmdb"
)

// MonitoringRulesBody is the body of GET and PUT
// /authorities/{id}/monitoring-rules: one rule per health kind. A PUT
// replaces the authority's rules; kinds it leaves out take the default.
type MonitoringRulesBody struct {
	Rules []cmdb.MonitoringRule `json:"rules"`
}

// rules checks that the body holds a list of rules.
func (b MonitoringRulesBody) rules() ([]cmdb.MonitoringRule, error) {
	if b.Rules == nil {
		return nil, cmdb.Invalid("rules", "is required: a list of rules, one per health kind ([] for the defaults)")
	}
	return b.Rules, nil
}

func (s *Server) monitoring() (cmdb.MonitoringStore, error) {
	if s.opts.Monitoring == nil {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "Monitoring rules are not offered by this server.")
	}
	return s.opts.Monitoring, nil
}
