package postgres

import "github.com/prometheus/client_golang/prometheus"

// RegisterSLAMetrics registers db's SLA gauges on reg (tests whose store
// was opened without a registry).
func RegisterSLAMetrics(db *DB, reg prometheus.Registerer) { db.registerSLAMetrics(reg) }
