package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/cmdb"
)

const monitoringRuleColumns = `kind, opens_ticket, coalesce(provider_id, 0), level, impact, urgency, auto_resolve`

func scanMonitoringRule(sc interface{ Scan(...any) error }) (cmdb.MonitoringRule, error) {
	var r cmdb.MonitoringRule
	err := sc.Scan(&r.Kind, &r.OpensTicket, &r.ProviderID, &r.Level, &r.Impact, &r.Urgency, &r.AutoResolve)
	return r, err
}

// monitoringRuleQuery selects the authority's own rule of a kind.
const monitoringRuleQuery = `SELECT ` + monitoringRuleColumns + ` FROM monitoring_rules WHERE authority_id = $1 AND kind = $2`

// monitoringRuleTx is the authority's rule for kind (the default when it
// has none), read in tx with the statement prepared: the monitoring
// sink's hot path.
func (db *DB) monitoringRuleTx(ctx context.Context, tx *sqlx.Tx, authority int64, kind cmdb.HealthKind) (cmdb.MonitoringRule, error) {
	st, err := db.txStmt(ctx, tx, monitoringRuleQuery)
	if err != nil {
		return cmdb.MonitoringRule{}, err
	}
	r, err := scanMonitoringRule(st.QueryRowxContext(ctx, authority, kind))
	return ruleOrDefault(kind, r, err)
}

// ruleOrDefault is the rule read, or the kind's default when the
// authority has none of its own.
func ruleOrDefault(kind cmdb.HealthKind, r cmdb.MonitoringRule, err error) (cmdb.MonitoringRule, error) {
	if err == sql.ErrNoRows {
		return cmdb.DefaultMonitoringRules[kind], nil
	}
	return r, err
}

// monitoringRules lists the rule of every kind, defaults filled in.
func monitoringRules(ctx context.Context, q sqlx.QueryerContext, authority int64) ([]cmdb.MonitoringRule, error) {
	rows, err := q.QueryxContext(ctx, `SELECT `+monitoringRuleColumns+` FROM monitoring_rules WHERE authority_id = $1`, authority)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	own := map[cmdb.HealthKind]cmdb.MonitoringRule{}
	for rows.Next() {
		r, err := scanMonitoringRule(rows)
		if err != nil {
			return nil, err
		}
		own[r.Kind] = r
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]cmdb.MonitoringRule, 0, len(cmdb.HealthKinds))
	for _, k := range cmdb.HealthKinds {
		if r, ok := own[k]; ok {
			out = append(out, r)
		} else {
			out = append(out, cmdb.DefaultMonitoringRules[k])
		}
	}
	return out, nil
}

// checkRuleAuthority answers ENOTFOUND unless the scope sees the whole
// authority and it exists.
func (db *DB) checkRuleAuthority(ctx context.Context, q sqlx.QueryerContext, s cmdb.Scope, authority int64) error {
	if !s.CanSeeAuthority(authority) {
		return notFound("authority", authority)
	}
	var ok bool
	if err := sqlx.GetContext(ctx, q, &ok, `SELECT EXISTS (SELECT 1 FROM authorities WHERE id = $1)`, authority); err != nil {
		return err
	} else if !ok {
		return notFound("authority", authority)
	}
	return nil
}

// FindMonitoringRules returns an authority's rules; see
// cmdb.MonitoringStore.
func (db *DB) FindMonitoringRules(ctx context.Context, s cmdb.Scope, authority int64) ([]cmdb.MonitoringRule, error) {
	if err := db.checkRuleAuthority(ctx, db.db, s, authority); err != nil {
		return nil, mapErr("postgres.FindMonitoringRules", err)
	}
	out, err := monitoringRules(ctx, db.db, authority)
	return out, mapErr("postgres.FindMonitoringRules", err)
}

// SetMonitoringRules replaces an authority's rules; see
// cmdb.MonitoringStore.
func (db *DB) SetMonitoringRules(ctx context.Context, s cmdb.Scope, authority int64, rules []cmdb.MonitoringRule) ([]cmdb.MonitoringRule, error) {
	if !s.CanSeeAuthority(authority) {
		return nil, notFound("authority", authority)
	}
	if err := cmdb.ValidateMonitoringRules(rules); err != nil {
		return nil, err
	}
	var out []cmdb.MonitoringRule
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := db.checkRuleAuthority(ctx, tx, s, authority); err != nil {
			return err
		}
		for i, r := range rules {
			if r.ProviderID == 0 {
				continue
			}
			var ok bool
			if err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM provider_contracts WHERE provider_id = $1 AND authority_id = $2)`,
				r.ProviderID, authority); err != nil {
				return err
			} else if !ok {
				return unknownRef(fmt.Sprintf("rules[%d].provider_id", i), "provider with a contract for this authority", r.ProviderID)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM monitoring_rules WHERE authority_id = $1`, authority); err != nil {
			return err
		}
		now := db.now()
		for _, r := range rules {
			if _, err := tx.ExecContext(ctx, `INSERT INTO monitoring_rules (authority_id, kind, opens_ticket, provider_id, level, impact,
				urgency, auto_resolve, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
				authority, r.Kind, r.OpensTicket, nullID(r.ProviderID), r.Level, r.Impact, r.Urgency, r.AutoResolve, now, s.Source()); err != nil {
				return err
			}
		}
		var err error
		out, err = monitoringRules(ctx, tx, authority)
		return err
	})
	return out, mapErr("postgres.SetMonitoringRules", err)
}
