package api

import (
	"context"
	"net/http"

	"github.com/schulit/cmdb/server/cmdb"
)

// setting is one setting of an authority under /authorities/{id}/…, kept
// by the store as T and shown in the API as body B. GET answers what is
// stored (or the default); PUT decodes a B, turns it into a T (checks
// that name the body's fields), stores it and answers what is stored
// then, defaults filled in.
type setting[T, B any] struct {
	find func(ctx context.Context, sc cmdb.Scope, authority int64) (T, error)
	set  func(ctx context.Context, sc cmdb.Scope, authority int64, v T) error
	in   func(B) (T, error)
	out  func(T) B
	// setErr renames the field of a store error to the body's; nil: as is.
	setErr func(error) error
}

func (st setting[T, B]) get(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := st.find(r.Context(), sc, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st.out(v))
	return nil
}

func (st setting[T, B]) put(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body B
	if err := decode(w, r, maxBody, &body); err != nil {
		return err
	}
	v, err := st.in(body)
	if err != nil {
		return err
	}
	if err := st.set(r.Context(), sc, id, v); err != nil {
		if st.setErr != nil {
			err = st.setErr(err)
		}
		return err
	}
	return st.get(w, r, sc)
}

// same is the identity, for a setting whose body is its store type.
func same[T any](v T) (T, error) { return v, nil }

// shown is the identity, for a setting shown as the store keeps it.
func shown[T any](v T) T { return v }

// settings returns the authority settings' handlers by path suffix.
func (s *Server) settings() map[string][2]handlerFunc {
	pair := func(get, put handlerFunc) [2]handlerFunc { return [2]handlerFunc{get, put} }
	matrix := setting[cmdb.PriorityMatrix, PriorityMatrixBody]{
		find: func(ctx context.Context, sc cmdb.Scope, id int64) (cmdb.PriorityMatrix, error) {
			return s.opts.Tickets.FindPriorityMatrix(ctx, sc, id)
		},
		set: func(ctx context.Context, sc cmdb.Scope, id int64, m cmdb.PriorityMatrix) error {
			return s.opts.Tickets.SetPriorityMatrix(ctx, sc, id, m)
		},
		in: PriorityMatrixBody.matrix, out: matrixBody,
	}
	repeat := setting[cmdb.RepeatRules, cmdb.RepeatRules]{
		find: func(ctx context.Context, sc cmdb.Scope, id int64) (cmdb.RepeatRules, error) {
			return s.opts.Failures.FindRepeatFailureRule(ctx, sc, id)
		},
		set: func(ctx context.Context, sc cmdb.Scope, id int64, v cmdb.RepeatRules) error {
			return s.opts.Failures.SetRepeatFailureRule(ctx, sc, id, v)
		},
		in: same[cmdb.RepeatRules], out: shown[cmdb.RepeatRules],
	}
	pattern := setting[cmdb.PatternRule, cmdb.PatternRule]{
		find: func(ctx context.Context, sc cmdb.Scope, id int64) (cmdb.PatternRule, error) {
			return s.opts.Failures.FindPatternRule(ctx, sc, id)
		},
		set: func(ctx context.Context, sc cmdb.Scope, id int64, v cmdb.PatternRule) error {
			return s.opts.Failures.SetPatternRule(ctx, sc, id, v)
		},
		in: same[cmdb.PatternRule], out: shown[cmdb.PatternRule],
	}
	monitoring := setting[[]cmdb.MonitoringRule, MonitoringRulesBody]{
		find: func(ctx context.Context, sc cmdb.Scope, id int64) ([]cmdb.MonitoringRule, error) {
			ms, err := s.monitoring()
			if err != nil {
				return nil, err
			}
			return ms.FindMonitoringRules(ctx, sc, id)
		},
		set: func(ctx context.Context, sc cmdb.Scope, id int64, rules []cmdb.MonitoringRule) error {
			ms, err := s.monitoring()
			if err != nil {
				return err
			}
			_, err = ms.SetMonitoringRules(ctx, sc, id, rules)
			return err
		},
		in:  MonitoringRulesBody.rules,
		out: func(rules []cmdb.MonitoringRule) MonitoringRulesBody { return MonitoringRulesBody{Rules: rules} },
	}
	calendar := setting[cmdb.Calendar, CalendarBody]{
		find: func(ctx context.Context, sc cmdb.Scope, id int64) (cmdb.Calendar, error) {
			st, err := s.sla()
			if err != nil {
				return cmdb.Calendar{}, err
			}
			return st.FindCalendar(ctx, sc, id)
		},
		set: func(ctx context.Context, sc cmdb.Scope, id int64, c cmdb.Calendar) error {
			st, err := s.sla()
			if err != nil {
				return err
			}
			return st.SetCalendar(ctx, sc, id, c)
		},
		in: CalendarBody.calendar, out: calendarBody, setErr: calendarField,
	}
	targets := setting[cmdb.SLATargets, SLATargetsBody]{
		find: func(ctx context.Context, sc cmdb.Scope, id int64) (cmdb.SLATargets, error) {
			st, err := s.sla()
			if err != nil {
				return cmdb.SLATargets{}, err
			}
			return st.FindSLATargets(ctx, sc, id)
		},
		set: func(ctx context.Context, sc cmdb.Scope, id int64, t cmdb.SLATargets) error {
			st, err := s.sla()
			if err != nil {
				return err
			}
			return st.SetSLATargets(ctx, sc, id, t)
		},
		in: SLATargetsBody.targets, out: slaTargetsBody, setErr: targetsField,
	}
	return map[string][2]handlerFunc{
		"priority-matrix":     pair(matrix.get, matrix.put),
		"repeat-failure-rule": pair(repeat.get, repeat.put),
		"pattern-rule":        pair(pattern.get, pattern.put),
		"monitoring-rules":    pair(monitoring.get, monitoring.put),
		"calendar":            pair(calendar.get, calendar.put),
		"sla-targets":         pair(targets.get, targets.put),
	}
}
