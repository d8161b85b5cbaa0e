package postgres

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/schulit/cmdb/server/cmdb"
)

// reconcileMetrics count what reconcile did, by source.
type reconcileMetrics struct {
	observations *prometheus.CounterVec // source, outcome
	duplicates   *prometheus.CounterVec // source, rule
	dropped      *prometheus.CounterVec // source, reason
}

func newReconcileMetrics(reg prometheus.Registerer) *reconcileMetrics {
	m := &reconcileMetrics{
		observations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cmdb_reconcile_observations_total",
			Help: "Observations reconciled, by source and outcome (created, updated, unchanged)."}, []string{"source", "outcome"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cmdb_reconcile_duplicate_candidates_total",
			Help: "Duplicate candidates named by reconciled observations, by source and identify rule."}, []string{"source", "rule"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cmdb_reconcile_dropped_identifiers_total",
			Help: "Identifiers ignored because they identify nothing, by source and reason."}, []string{"source", "reason"}),
	}
	if reg == nil {
		return m
	}
	for _, c := range []**prometheus.CounterVec{&m.observations, &m.duplicates, &m.dropped} {
		// A second DB on the same registry counts into the same series.
		var are prometheus.AlreadyRegisteredError
		if err := reg.Register(*c); errors.As(err, &are) {
			*c = are.ExistingCollector.(*prometheus.CounterVec)
		}
	}
	return m
}

// metricSource is the source label: the source, with hand edits
// ("user:<id>") folded into "user" so that the label stays bounded.
func metricSource(source string) string {
	if cmdb.SourceKind(source) == cmdb.SourceUser {
		return cmdb.SourceUser
	}
	return source
}

// count records a reconciled batch. It runs when reconcile succeeded in
// its transaction; a transaction that is rolled back later (a deadlock
// retry) is counted again when retried.
func (m *reconcileMetrics) count(obs []cmdb.Observation, res *cmdb.ReconcileResult) {
	if m == nil || res == nil {
		return
	}
	for i := range res.Items {
		it, src := &res.Items[i], metricSource(obs[i].Source)
		m.observations.WithLabelValues(src, it.Outcome).Inc()
		if n := len(it.Duplicates); n > 0 {
			m.duplicates.WithLabelValues(src, it.Rule).Add(float64(n))
		}
		for _, d := range it.Dropped {
			m.dropped.WithLabelValues(src, d.Reason).Inc()
		}
	}
}
