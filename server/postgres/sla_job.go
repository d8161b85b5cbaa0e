package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/schulit/cmdb/server/cmdb"
)

// SLA warnings of the due times (first_response, resolve), with the
// columns that hold the warn time and the warned mark.
var slaWarnings = []struct{ which, warn, warned, extra string }{
	{"first_response", "first_response_warn", "first_response_warned_at", " AND first_response_at IS NULL"},
	{"resolve", "resolve_warn", "resolve_warned_at", ""},
}

// slaWarnBatch is how many tickets one transaction of WarnSLA warns.
const slaWarnBatch = 200

// WarnSLA warns the assignee groups of open tickets whose warn time has
// passed and that were not warned for that due time yet: it marks each
// warned, records "sla_warning" in its history (subject "system:sla") and
// queues the mail, in one transaction per batch. It returns how many
// warnings it gave. Rows another replica is warning are skipped, so it is
// safe to run on several at once; each warning is given once.
func (db *DB) WarnSLA(ctx context.Context) (int, error) {
	total := 0
	for _, k := range slaWarnings {
		for {
			n, err := db.warnSLABatch(ctx, k.which, k.warn, k.warned, k.extra)
			total += n
			if err != nil {
				return total, mapErr("postgres.WarnSLA", err)
			}
			if n < slaWarnBatch {
				break
			}
		}
	}
	return total, nil
}

func (db *DB) warnSLABatch(ctx context.Context, which, warn, warned, extra string) (int, error) {
	n := 0
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		n = 0
		now := db.now()
		var ids []int64
		// The column names are constants of slaWarnings, never input.
		if err := tx.SelectContext(ctx, &ids, `SELECT id FROM tickets WHERE status IN `+openStatuses+` AND `+warned+` IS NULL`+extra+`
			AND `+warn+` <= $1 ORDER BY `+warn+` LIMIT $2 FOR UPDATE SKIP LOCKED`, now, slaWarnBatch); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE tickets SET `+warned+` = $2 WHERE id = $1`, id, now); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_history (ticket_id, at, subject, channel, field, old_value, new_value)
				VALUES ($1, $2, 'system:sla', 'api', 'sla_warning', '', $3)`, id, now, which); err != nil {
				return err
			}
			t, err := findTicket(ctx, tx, cmdb.AdminScope("system:sla"), id, false)
			if err != nil {
				return err
			}
			if err := db.notifySLAWarning(ctx, tx, t, which); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}

// slaCollector exports, at each scrape, the open tickets whose SLA is
// breached or due soon, per authority (its code) and priority. One
// grouped query over the partial index of open tickets' deadlines.
type slaCollector struct {
	db                *DB
	breached, dueSoon *prometheus.Desc
}

func (db *DB) registerSLAMetrics(reg prometheus.Registerer) {
	if reg == nil {
		return
	}
	c := &slaCollector{db: db,
		breached: prometheus.NewDesc("cmdb_tickets_sla_breached", "Open tickets whose SLA due time has passed, by authority and priority.",
			[]string{"authority", "priority"}, nil),
		dueSoon: prometheus.NewDesc("cmdb_tickets_sla_due_soon", "Open tickets with an SLA due time within the next hour, by authority and priority.",
			[]string{"authority", "priority"}, nil),
	}
	// A second DB on the same registry (tests, the demo) leaves the first's.
	var are prometheus.AlreadyRegisteredError
	if err := reg.Register(c); err != nil && !errors.As(err, &are) {
		db.log.Warn("SLA metrics not registered", "err", err)
	}
}

func (c *slaCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.breached; ch <- c.dueSoon }

func (c *slaCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := c.db.now()
	rows, err := c.db.db.QueryxContext(ctx, `SELECT a.code, p.p::text, count(t.id) FILTER (WHERE t.sla_deadline <= $1),
			count(t.id) FILTER (WHERE t.sla_deadline > $1)
		FROM authorities a CROSS JOIN generate_series(1, 5) AS p(p)
		LEFT JOIN tickets t ON t.authority_id = a.id AND t.priority = p.p AND t.status IN `+openStatuses+`
			AND t.sla_deadline IS NOT NULL AND t.sla_deadline <= $2
		GROUP BY a.code, p.p`, now, now.Add(cmdb.DueSoonWindow))
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.breached, err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var code, prio string
		var breached, soon float64
		if err := rows.Scan(&code, &prio, &breached, &soon); err != nil {
			ch <- prometheus.NewInvalidMetric(c.breached, err)
			return
		}
		ch <- prometheus.MustNewConstMetric(c.breached, prometheus.GaugeValue, breached, code, prio)
		ch <- prometheus.MustNewConstMetric(c.dueSoon, prometheus.GaugeValue, soon, code, prio)
	}
	if err := rows.Err(); err != nil {
		ch <- prometheus.NewInvalidMetric(c.breached, err)
	}
}
