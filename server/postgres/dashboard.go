package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

// The dashboard's figures and the lists behind them (cmdb.DashboardStore).
// Each figure is one query over partial or per-CI indexes, so that a large
// authority (thousands of devices, hundreds of thousands of tickets, most
// of them closed) answers in the time of a few index scans.

// berlin is the time zone "due today" ends in: the schools are German.
var berlin = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return l
	}
	return time.UTC
}()

// dashTenant is the part of the tree a dashboard covers: one authority,
// whole or only some of its schools, maybe narrowed to one school.
type dashTenant struct {
	authority int64
	schools   []int64 // nil: the whole authority
	school    int64   // the filter's school, 0: none
	none      bool    // the scope sees nothing here (teachers, providers)
}

// cond adds the tenant's condition on the columns a (authority) and sc
// (school).
func (t dashTenant) cond(w *where, a, sc string) {
	if t.none {
		w.add("FALSE")
		return
	}
	w.add(a+" = ?", t.authority)
	if t.schools != nil {
		w.add(sc+" = ANY(?)", pq.Array(t.schools))
	}
	if t.school != 0 {
		w.add(sc+" = ?", t.school)
	}
}

// dashTenantOf decides what the scope's dashboard covers. Authority IT
// and admins see whole authorities, school IT their schools; teachers
// and providers none (their dashboard is empty, not an error).
func (db *DB) dashTenantOf(ctx context.Context, s cmdb.Scope, f *cmdb.DashboardFilter) (dashTenant, error) {
	if err := f.Validate(); err != nil {
		return dashTenant{}, err
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	st := staffOnly(s)
	if !st.Admin && len(st.Authorities) == 0 && len(st.Schools) == 0 {
		return dashTenant{none: true}, nil
	}
	t := dashTenant{authority: f.AuthorityID, school: f.SchoolID}
	if t.authority == 0 {
		// The authorities the scope works in: its own, and those of its
		// schools.
		var auths []int64
		if !st.Admin {
			err := db.db.SelectContext(ctx, &auths, `SELECT DISTINCT authority_id FROM schools WHERE id = ANY($1)
				UNION SELECT unnest($2::bigint[])`, pq.Array(st.Schools), pq.Array(st.Authorities))
			if err != nil {
				return t, mapErr("postgres.Dashboard", err)
			}
		}
		if len(auths) != 1 {
			return t, cmdb.Invalid("authority", "is required: you see several authorities")
		}
		t.authority = auths[0]
	}
	if st.CanSeeAuthority(t.authority) {
		return t, db.authorityExists(ctx, st, t.authority)
	}
	t.schools = []int64{}
	err := db.db.SelectContext(ctx, &t.schools, `SELECT id FROM schools WHERE authority_id = $1 AND id = ANY($2) ORDER BY id`,
		t.authority, pq.Array(st.Schools))
	if err != nil {
		return t, mapErr("postgres.Dashboard", err)
	} else if len(t.schools) == 0 {
		return t, notFound("authority", t.authority)
	}
	if t.school != 0 && !slices.Contains(t.schools, t.school) {
		return t, notFound("school", t.school)
	}
	return t, nil
}

// endOfDay is the next midnight in Berlin after now.
func endOfDay(now time.Time) time.Time {
	l := now.In(berlin)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, berlin)
}

// Devices that count: neither merged away nor out of service.
const dashLiveCI = `c.merged_into IS NULL AND c.status NOT IN ('retired', 'disposed')`

// Sources that see devices (hand edits and merges do not).
const dashSeeingSource = `split_part(s.source, ':', 1) IN ('agent', 'snmp', 'connector')`

// Laptops and desktops an agent belongs on, and whether one reports.
const (
	dashAgentCI  = `c.merged_into IS NULL AND c.class IN ('laptop', 'desktop') AND c.status IN ('in_use', 'in_stock')`
	dashHasAgent = `(EXISTS (SELECT 1 FROM devices d WHERE d.ci_id = c.id AND d.revoked_at IS NULL)
		OR EXISTS (SELECT 1 FROM ci_sources a WHERE a.ci_id = c.id AND a.source = 'agent'))`
)

// Dashboard returns the figures; see cmdb.DashboardStore.
func (db *DB) Dashboard(ctx context.Context, s cmdb.Scope, f cmdb.DashboardFilter) (*cmdb.Dashboard, error) {
	t, err := db.dashTenantOf(ctx, s, &f)
	if err != nil {
		return nil, err
	}
	now := db.now()
	d := &cmdb.Dashboard{AuthorityID: t.authority, SchoolID: t.school, At: now,
		OpenTickets: []cmdb.TicketCount{}, NotSeen: []cmdb.SourceCount{}}
	if t.none {
		return d, nil
	}
	var w where
	t.cond(&w, "t.authority_id", "t.school_id")
	// The open statuses literally, so that the partial queue index serves.
	err = db.db.SelectContext(ctx, &d.OpenTickets, rebind(`SELECT coalesce(t.school_id, 0) AS school_id, t.priority, count(*) AS n
		FROM tickets t WHERE t.status IN `+openStatuses+` AND `+w.String()+` GROUP BY 1, 2 ORDER BY 1, 2`), w.args...)
	if err != nil {
		return nil, mapErr("postgres.Dashboard", err)
	}
	// Breached as the queue's sla=breached counts it; due today: later
	// today, not yet breached.
	err = db.db.QueryRowxContext(ctx, rebind(`SELECT count(*) FILTER (WHERE t.sla_deadline <= ?), count(*) FILTER (WHERE t.sla_deadline > ?)
		FROM tickets t WHERE t.status IN `+openStatuses+` AND t.sla_deadline IS NOT NULL AND t.sla_deadline < ? AND `+w.String()),
		append([]any{now, now, endOfDay(now)}, w.args...)...).Scan(&d.SLABreached, &d.DueToday)
	if err != nil {
		return nil, mapErr("postgres.Dashboard", err)
	}
	var cw where
	t.cond(&cw, "c.authority_id", "c.school_id")
	err = db.db.SelectContext(ctx, &d.NotSeen, rebind(`SELECT s.source, count(*) AS n FROM cis c JOIN ci_sources s ON s.ci_id = c.id
		WHERE `+dashLiveCI+` AND `+dashSeeingSource+` AND s.last_seen < ? AND `+cw.String()+` GROUP BY s.source ORDER BY s.source`),
		append([]any{now.AddDate(0, 0, -cmdb.StaleDays)}, cw.args...)...)
	if err != nil {
		return nil, mapErr("postgres.Dashboard", err)
	}
	err = db.db.QueryRowxContext(ctx, rebind(`SELECT count(*), count(*) FILTER (WHERE NOT `+dashHasAgent+`)
		FROM cis c WHERE `+dashAgentCI+` AND `+cw.String()), cw.args...).Scan(&d.AgentDevices, &d.NoAgent)
	if err != nil {
		return nil, mapErr("postgres.Dashboard", err)
	}
	q, args := db.lowSuppliesQuery(t, now)
	if err := db.db.GetContext(ctx, &d.LowSupplies, `SELECT count(*) FROM (`+q+`) low`, args...); err != nil {
		return nil, mapErr("postgres.Dashboard", err)
	}
	var tw where
	t.cond(&tw, "t.authority_id", "t.school_id")
	err = db.db.GetContext(ctx, &d.Unreachable, rebind(`SELECT count(*) FROM snmp_targets t WHERE t.unreachable AND `+tw.String()), tw.args...)
	return d, mapErr("postgres.Dashboard", err)
}

// dashDeviceColumns are a cmdb.DeviceLine's columns of CI c, with its
// school sc and room r joined (dashDeviceJoins).
const (
	dashDeviceColumns = `c.id AS ci_id, c.name, c.class, c.vendor, c.model, c.serial, coalesce(c.school_id, 0) AS school_id,
		coalesce(sc.name, '') AS school, coalesce(r.name, '') AS room`
	dashDeviceJoins = ` LEFT JOIN schools sc ON sc.id = c.school_id LEFT JOIN rooms r ON r.id = c.room_id`
)

// FindNotSeen lists devices not seen for StaleDays; see cmdb.DashboardStore.
func (db *DB) FindNotSeen(ctx context.Context, s cmdb.Scope, f cmdb.DashboardFilter) ([]*cmdb.DeviceLine, int, error) {
	t, err := db.dashTenantOf(ctx, s, &f)
	if err != nil {
		return nil, 0, err
	}
	var w where
	t.cond(&w, "c.authority_id", "c.school_id")
	if f.Source != "" {
		w.add("s.source = ?", f.Source)
	}
	type row struct {
		cmdb.DeviceLine
		Total int `db:"total"`
	}
	var rows []row
	err = db.db.SelectContext(ctx, &rows, rebind(`SELECT `+dashDeviceColumns+`, s.source, s.last_seen, count(*) OVER () AS total
		FROM cis c JOIN ci_sources s ON s.ci_id = c.id`+dashDeviceJoins+`
		WHERE `+dashLiveCI+` AND `+dashSeeingSource+` AND s.last_seen < ? AND `+w.String()+`
		ORDER BY s.last_seen, c.id, s.source LIMIT ? OFFSET ?`),
		append(append([]any{db.now().AddDate(0, 0, -cmdb.StaleDays)}, w.args...), f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, mapErr("postgres.FindNotSeen", err)
	}
	return linesOf(rows, func(r row) (*cmdb.DeviceLine, int) { return &r.DeviceLine, r.Total })
}

// FindNoAgent lists laptops and desktops without an agent; see
// cmdb.DashboardStore.
func (db *DB) FindNoAgent(ctx context.Context, s cmdb.Scope, f cmdb.DashboardFilter) ([]*cmdb.DeviceLine, int, error) {
	t, err := db.dashTenantOf(ctx, s, &f)
	if err != nil {
		return nil, 0, err
	}
	var w where
	t.cond(&w, "c.authority_id", "c.school_id")
	type row struct {
		cmdb.DeviceLine
		Total int `db:"total"`
	}
	var rows []row
	err = db.db.SelectContext(ctx, &rows, rebind(`SELECT `+dashDeviceColumns+`, '' AS source,
		coalesce((SELECT max(s.last_seen) FROM ci_sources s WHERE s.ci_id = c.id AND `+dashSeeingSource+`), '0001-01-01T00:00:00Z') AS last_seen,
		count(*) OVER () AS total
		FROM cis c`+dashDeviceJoins+` WHERE `+dashAgentCI+` AND NOT `+dashHasAgent+` AND `+w.String()+`
		ORDER BY sc.name, r.name, c.name, c.id LIMIT ? OFFSET ?`), append(w.args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, mapErr("postgres.FindNoAgent", err)
	}
	return linesOf(rows, func(r row) (*cmdb.DeviceLine, int) { return &r.DeviceLine, r.Total })
}

// maxSupplies bounds the supply numbers (supply.1 … supply.16) of one
// device the dashboard looks at. Printers and copiers report one to eight
// (toners, drums, waste box, fuser); the poller keeps up to 40, but a
// bound this small keeps the planner's estimate for a large authority
// below the JIT threshold.
const maxSupplies = 16

// lowSuppliesQuery selects the supplies at or below LowSupplyPercent: for
// each supply a printer or copier reports (its supply.<n>.level
// attribute), the newest value of its series supply.<n>.percent within
// SupplyFreshDays (one backward step of the series' primary key each).
func (db *DB) lowSuppliesQuery(t dashTenant, now time.Time) (string, []any) {
	var w where
	t.cond(&w, "c.authority_id", "c.school_id")
	args := append([]any{maxSupplies, now.AddDate(0, 0, -cmdb.SupplyFreshDays), cmdb.LowSupplyPercent}, w.args...)
	// generate_series rather than jsonb_object_keys: the planner knows how
	// many rows it gives, so a large authority's estimate stays below the
	// JIT threshold (whose compile time would cost more than the query).
	return rebind(`SELECT c.id, 'supply.' || k.n || '.percent' AS metric, coalesce(c.attributes ->> ('supply.' || k.n || '.name'), '') AS supply,
			m.value AS percent, m.at
		FROM cis c
		CROSS JOIN generate_series(1, ?::int) AS k(n)
		CROSS JOIN LATERAL (SELECT x.value, x.at FROM ci_metrics x WHERE x.ci_id = c.id AND x.name = 'supply.' || k.n || '.percent'
			ORDER BY x.at DESC LIMIT 1) m
		WHERE c.attributes ->> ('supply.' || k.n || '.level') IS NOT NULL AND c.class IN ('printer', 'mfp') AND ` + dashLiveCI + `
			AND m.at >= ? AND m.value <= ? AND ` + w.String()), args
}

// FindLowSupplies lists supplies running low with their forecast; see
// cmdb.DashboardStore. The page is chosen first (lowest level first), so
// that the forecast reads the series of its rows only: the use per day is
// the least-squares slope of the levels since the last refill within
// SupplyUseDays. A level only falls between refills, so the last refill
// is after the last value clearly below today's (by more than 2 points,
// for jitter): two passes over one series' month, without sorting it.
func (db *DB) FindLowSupplies(ctx context.Context, s cmdb.Scope, f cmdb.DashboardFilter) ([]*cmdb.SupplyLine, int, error) {
	t, err := db.dashTenantOf(ctx, s, &f)
	if err != nil {
		return nil, 0, err
	}
	if t.none {
		return []*cmdb.SupplyLine{}, 0, nil
	}
	q, args := db.lowSuppliesQuery(t, db.now())
	type row struct {
		cmdb.SupplyLine
		Total int `db:"total"`
	}
	var rows []row
	p := func(i int) string { return "$" + itoa(int64(len(args)+i)) }
	// Only a real use (more than a hundredth of a point a day) gives days
	// left.
	err = db.db.SelectContext(ctx, &rows, `WITH page AS (SELECT low.*, count(*) OVER () AS total FROM (`+q+`) low
			ORDER BY low.percent, low.id, low.metric LIMIT `+p(1)+` OFFSET `+p(2)+`)
		SELECT `+dashDeviceColumns+`, page.metric, page.supply, page.percent, page.at, page.total,
			CASE WHEN use.per_day > 0.01 THEN use.per_day END AS per_day,
			CASE WHEN use.per_day > 0.01 THEN page.percent / use.per_day END AS days_left
		FROM page JOIN cis c ON c.id = page.id`+dashDeviceJoins+`
		CROSS JOIN LATERAL (SELECT coalesce(max(x.at), '-infinity') AS at FROM ci_metrics x
			WHERE x.ci_id = page.id AND x.name = page.metric AND x.at >= `+p(3)+` AND x.at <= page.at AND x.value < page.percent - 2) since
		CROSS JOIN LATERAL (SELECT -regr_slope(x.value, date_part('epoch', x.at)) * 86400 AS per_day FROM ci_metrics x
			WHERE x.ci_id = page.id AND x.name = page.metric AND x.at >= `+p(3)+` AND x.at > since.at AND x.at <= page.at) use
		ORDER BY page.percent, page.id, page.metric`,
		append(args, f.Limit, f.Offset, db.now().AddDate(0, 0, -cmdb.SupplyUseDays))...)
	if err != nil {
		return nil, 0, mapErr("postgres.FindLowSupplies", err)
	}
	return linesOf(rows, func(r row) (*cmdb.SupplyLine, int) { return &r.SupplyLine, r.Total })
}

// FindUnreachable lists unreachable poll targets; see cmdb.DashboardStore.
func (db *DB) FindUnreachable(ctx context.Context, s cmdb.Scope, f cmdb.DashboardFilter) ([]*cmdb.TargetLine, int, error) {
	t, err := db.dashTenantOf(ctx, s, &f)
	if err != nil {
		return nil, 0, err
	}
	var w where
	t.cond(&w, "t.authority_id", "t.school_id")
	type row struct {
		cmdb.TargetLine
		Total int `db:"total"`
	}
	var rows []row
	err = db.db.SelectContext(ctx, &rows, rebind(`SELECT t.id, t.address, t.kind, t.school_id, sc.name AS school,
			coalesce(t.ci_id, 0) AS ci_id, coalesce(c.name, '') AS name, t.misses, t.last_ok_at,
			coalesce(t.last_error_reason, '') AS reason, count(*) OVER () AS total
		FROM snmp_targets t JOIN schools sc ON sc.id = t.school_id LEFT JOIN cis c ON c.id = t.ci_id
		WHERE t.unreachable AND `+w.String()+` ORDER BY sc.name, t.address, t.id LIMIT ? OFFSET ?`), append(w.args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, mapErr("postgres.FindUnreachable", err)
	}
	return linesOf(rows, func(r row) (*cmdb.TargetLine, int) { return &r.TargetLine, r.Total })
}

// FindDueToday lists open tickets due later today; see cmdb.DashboardStore.
func (db *DB) FindDueToday(ctx context.Context, s cmdb.Scope, f cmdb.DashboardFilter) ([]*cmdb.DueTicket, int, error) {
	t, err := db.dashTenantOf(ctx, s, &f)
	if err != nil {
		return nil, 0, err
	}
	var w where
	t.cond(&w, "t.authority_id", "t.school_id")
	now := db.now()
	type row struct {
		cmdb.DueTicket
		Total int `db:"total"`
	}
	var rows []row
	err = db.db.SelectContext(ctx, &rows, rebind(`SELECT t.id, t.number, t.title, t.status, t.priority, coalesce(t.school_id, 0) AS school_id,
			coalesce(sc.name, '') AS school, t.sla_deadline AS due, count(*) OVER () AS total
		FROM tickets t LEFT JOIN schools sc ON sc.id = t.school_id
		WHERE t.status IN `+openStatuses+` AND t.sla_deadline > ? AND t.sla_deadline < ? AND `+w.String()+`
		ORDER BY t.sla_deadline, t.id LIMIT ? OFFSET ?`), append(append([]any{now, endOfDay(now)}, w.args...), f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, mapErr("postgres.FindDueToday", err)
	}
	return linesOf(rows, func(r row) (*cmdb.DueTicket, int) { return &r.DueTicket, r.Total })
}

// FindCISources says when each source last saw a CI; see
// cmdb.DashboardStore.
func (db *DB) FindCISources(ctx context.Context, s cmdb.Scope, ciID int64) ([]cmdb.SourceSeen, error) {
	if _, err := findCI(ctx, db.db, s, ciID); err != nil {
		return nil, err
	}
	out := []cmdb.SourceSeen{}
	err := db.db.SelectContext(ctx, &out, `SELECT source, last_seen FROM ci_sources WHERE ci_id = $1 ORDER BY last_seen DESC, source`, ciID)
	return out, mapErr("postgres.FindCISources", err)
}

// FindDuplicateCandidate returns one candidate; see cmdb.DashboardStore.
func (db *DB) FindDuplicateCandidate(ctx context.Context, s cmdb.Scope, id int64) (*cmdb.DuplicateCandidate, error) {
	var w where
	w.scope(s, "d.authority_id", "")
	w.add("d.id = ?", id)
	var d cmdb.DuplicateCandidate
	err := db.db.GetContext(ctx, &d, rebind(`SELECT d.id, d.authority_id AS authorityid, d.ci_a AS cia, d.ci_b AS cib,
		d.rule, d.detail, d.status, d.created_at AS createdat, coalesce(d.resolved_by, '') AS resolvedby, d.resolved_at AS resolvedat
		FROM duplicate_candidates d WHERE `+w.String()), w.args...)
	if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
		return nil, notFound("duplicate candidate", id)
	}
	return &d, mapErr("postgres.FindDuplicateCandidate", err)
}

// linesOf turns a page's rows (each with the total of all matches) into
// the lines and the total.
func linesOf[R, L any](rows []R, split func(R) (*L, int)) ([]*L, int, error) {
	out := make([]*L, len(rows))
	total := 0
	for i, r := range rows {
		out[i], total = split(r)
	}
	return out, total, nil
}
