package postgres

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

// serviceYearsSQL is a CI's time in service within [$2, $3) in years of
// 365.2425 days: from its purchase date (else when it was first seen)
// until it was retired or disposed (ret.at, from the history; its last
// change if the history does not say) or the period's end. It needs the
// join "LEFT JOIN ret ON ret.ci_id = c.id" (patternRetiredSQL) rather
// than a subquery per CI, whose estimated cost would make PostgreSQL
// JIT-compile the query at a cost of seconds. Planned devices and merged
// CIs are left out by the queries.
const serviceYearsSQL = `greatest(0, date_part('epoch',
		least(coalesce(CASE WHEN c.status IN ('retired', 'disposed') THEN coalesce(ret.at, c.updated_at) END, $3), $3)
		- greatest(coalesce(c.purchase_date::timestamp AT TIME ZONE 'UTC', c.created_at), $2))) / 31556952.0::float8`

// patternRetiredSQL finds when the authority's retired and disposed CIs
// left service.
const patternRetiredSQL = `SELECT h.ci_id, max(h.at) AS at FROM cis c JOIN ci_history h ON h.ci_id = c.id
	WHERE c.authority_id = $1 AND c.status IN ('retired', 'disposed') AND h.attr = 'status' AND h.new IN ('retired', 'disposed')
	GROUP BY h.ci_id`

// patternIncidentsSQL counts each CI's incidents opened in [$2, $3): a
// duplicate merged into another ticket is not counted, the ticket it was
// merged into (which got its CIs) is.
const patternIncidentsSQL = `SELECT x.ci_id, count(*) AS k FROM tickets t JOIN ticket_cis x ON x.ticket_id = t.id
	WHERE t.authority_id = $1 AND t.type = 'incident' AND t.merged_into_id IS NULL AND t.created_at >= $2 AND t.created_at < $3
	GROUP BY x.ci_id`

// patternRule loads an authority's model-pattern rule, the default when
// it has none.
func patternRule(ctx context.Context, q sqlx.QueryerContext, authority int64) (cmdb.PatternRule, error) {
	var r cmdb.PatternRule
	err := q.QueryRowxContext(ctx, `SELECT alpha, min_incidents, min_devices FROM pattern_rules WHERE authority_id = $1`, authority).
		Scan(&r.Alpha, &r.MinIncidents, &r.MinDevices)
	if err == sql.ErrNoRows {
		return cmdb.DefaultPatternRule(), nil
	}
	return r, err
}

// FindPatternRule returns an authority's model-pattern rule; see
// cmdb.FailureStore.
func (db *DB) FindPatternRule(ctx context.Context, s cmdb.Scope, authority int64) (cmdb.PatternRule, error) {
	if err := db.authorityExists(ctx, s, authority); err != nil {
		return cmdb.PatternRule{}, err
	}
	r, err := patternRule(ctx, db.db, authority)
	return r, mapErr("postgres.FindPatternRule", err)
}

// SetPatternRule stores an authority's model-pattern rule; see
// cmdb.FailureStore.
func (db *DB) SetPatternRule(ctx context.Context, s cmdb.Scope, authority int64, r cmdb.PatternRule) error {
	if err := db.authorityExists(ctx, s, authority); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	return mapErr("postgres.SetPatternRule", db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := db.now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO pattern_rules (authority_id, alpha, min_incidents, min_devices, updated_at, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (authority_id) DO UPDATE
			SET alpha = $2, min_incidents = $3, min_devices = $4, updated_at = $5, updated_by = $6`,
			authority, r.Alpha, r.MinIncidents, r.MinDevices, now, s.Source()); err != nil {
			return err
		}
		return audit(ctx, tx, s, cmdb.AuditPatternRuleSet, "authority:"+itoa(authority), authority, map[string]any{"rule": r}, now)
	}))
}

// FindFailurePatterns runs the model-pattern test; see cmdb.FailureStore.
// The database sums devices per class, vendor and model as stored (one
// pass over the authority's CIs and the year's incidents); the domain
// joins spellings of one model and runs the test (cmdb.
// FindModelPatternsInGroups); a second query lists the devices of the
// models found that had an incident (a model of thousands of devices
// would otherwise list them all).
func (db *DB) FindFailurePatterns(ctx context.Context, s cmdb.Scope, authority int64) ([]*cmdb.FailurePattern, error) {
	if authority == 0 {
		switch {
		case len(s.Authorities) == 1 && !s.Admin:
			authority = s.Authorities[0]
		case len(s.Authorities) == 0 && !s.Admin:
			return []*cmdb.FailurePattern{}, nil // patterns are the authority's, not a school's
		default:
			return nil, cmdb.Invalid("authority_id", "is required: you see several authorities")
		}
	}
	if err := db.authorityExists(ctx, s, authority); err != nil {
		return nil, err
	}
	rule, err := patternRule(ctx, db.db, authority)
	if err != nil {
		return nil, mapErr("postgres.FindFailurePatterns", err)
	}
	to := db.now()
	from := to.AddDate(0, 0, -cmdb.PatternWindowDays)
	var sums []struct {
		Class     string  `db:"class"`
		Vendor    string  `db:"vendor"`
		Model     string  `db:"model"`
		Incidents int     `db:"incidents"`
		Years     float64 `db:"years"`
		Devices   int     `db:"devices"`
		Affected  int     `db:"affected"`
	}
	err = db.db.SelectContext(ctx, &sums, `WITH inc AS (`+patternIncidentsSQL+`), ret AS (`+patternRetiredSQL+`),
		dev AS (SELECT c.class, c.vendor, c.model, coalesce(inc.k, 0) AS k, `+serviceYearsSQL+` AS years
			FROM cis c LEFT JOIN inc ON inc.ci_id = c.id LEFT JOIN ret ON ret.ci_id = c.id
			WHERE c.authority_id = $1 AND c.merged_into IS NULL AND c.status <> 'planned')
		SELECT class, vendor, model, sum(k)::int AS incidents, sum(years)::float8 AS years, count(*)::int AS devices,
			(count(*) FILTER (WHERE k > 0))::int AS affected
		FROM dev GROUP BY class, vendor, model`, authority, from, to)
	if err != nil {
		return nil, mapErr("postgres.FindFailurePatterns", err)
	}
	groups := make([]cmdb.PatternGroup, len(sums))
	for i, g := range sums {
		groups[i] = cmdb.PatternGroup{Class: g.Class, Vendor: g.Vendor, Model: g.Model, Incidents: g.Incidents, Years: g.Years,
			Devices: g.Devices, Affected: g.Affected}
	}
	found := cmdb.FindModelPatternsInGroups(groups, rule)
	out := make([]*cmdb.FailurePattern, 0, len(found))
	if len(found) == 0 {
		return out, nil
	}
	// The stored spellings of each model found, to list its devices.
	byKey := map[[3]string]*cmdb.FailurePattern{}
	for _, m := range found {
		p := &cmdb.FailurePattern{ModelPattern: m, AuthorityID: authority, From: from, To: to, DeviceList: []cmdb.FailurePatternDevice{}}
		p.CIIDs = []string{}
		byKey[patternKey(m.Class, m.Vendor, m.Model)] = p
		out = append(out, p)
	}
	var classes, vendors, models []string
	for _, g := range sums {
		if byKey[patternKey(g.Class, g.Vendor, g.Model)] != nil {
			classes, vendors, models = append(classes, g.Class), append(vendors, g.Vendor), append(models, g.Model)
		}
	}
	var devs []struct {
		cmdb.FailurePatternDevice
		Class  string `db:"class"`
		Vendor string `db:"vendor"`
		Model  string `db:"model"`
	}
	// The models' devices first, then only their tickets: the authority's
	// whole year of incidents was counted once already.
	err = db.db.SelectContext(ctx, &devs, `WITH m AS (SELECT * FROM unnest($4::text[], $5::text[], $6::text[]) AS m(class, vendor, model)),
		d AS (SELECT c.* FROM cis c JOIN m ON (m.class, m.vendor, m.model) = (c.class, c.vendor, c.model)
			WHERE c.authority_id = $1 AND c.merged_into IS NULL AND c.status <> 'planned'),
		inc AS (SELECT x.ci_id, count(*) AS k FROM d JOIN ticket_cis x ON x.ci_id = d.id JOIN tickets t ON t.id = x.ticket_id
			WHERE t.type = 'incident' AND t.merged_into_id IS NULL AND t.created_at >= $2 AND t.created_at < $3 GROUP BY x.ci_id),
		ret AS (`+patternRetiredSQL+`)
		SELECT c.id AS ci_id, c.name, coalesce(c.school_id, 0) AS school_id, inc.k AS incidents,
			`+serviceYearsSQL+` AS years, c.class, c.vendor, c.model
		FROM d c JOIN inc ON inc.ci_id = c.id LEFT JOIN ret ON ret.ci_id = c.id
		ORDER BY incidents DESC, c.name, c.id`, authority, from, to, pq.Array(classes), pq.Array(vendors), pq.Array(models))
	if err != nil {
		return nil, mapErr("postgres.FindFailurePatterns", err)
	}
	for _, d := range devs {
		if p := byKey[patternKey(d.Class, d.Vendor, d.Model)]; p != nil {
			p.DeviceList = append(p.DeviceList, d.FailurePatternDevice)
			p.CIIDs = append(p.CIIDs, strconv.FormatInt(d.CIID, 10))
		}
	}
	return out, nil
}

// patternKey is how cmdb.FindModelPatternsInGroups tells models apart.
func patternKey(class, vendor, model string) [3]string {
	return [3]string{class, cmdb.VendorKey(strings.TrimSpace(vendor)), strings.ToLower(strings.Join(strings.Fields(model), " "))}
}
