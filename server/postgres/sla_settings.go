package postgres

import (
	"context"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/cmdb"
)

// The authorities' SLA settings, read and changed by whoever sees the
// whole authority (authority IT, admins), like its other rules.

// FindCalendar returns an authority's calendar; see cmdb.SLAStore.
func (db *DB) FindCalendar(ctx context.Context, s cmdb.Scope, authority int64) (cmdb.Calendar, error) {
	if err := db.authorityExists(ctx, s, authority); err != nil {
		return cmdb.Calendar{}, err
	}
	c, err := loadCalendar(ctx, db.db, authority)
	return c, mapErr("postgres.FindCalendar", err)
}

// SetCalendar stores an authority's calendar; see cmdb.SLAStore.
func (db *DB) SetCalendar(ctx context.Context, s cmdb.Scope, authority int64, c cmdb.Calendar) error {
	if err := db.authorityExists(ctx, s, authority); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if c.TimeZone == "" {
		c.TimeZone = cmdb.DefaultTimeZone
	}
	for d := range c.Week {
		if c.Week[d] == nil {
			c.Week[d] = []cmdb.OpeningHours{}
		}
	}
	return mapErr("postgres.SetCalendar", db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := db.now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO sla_calendars (authority_id, calendar, updated_at, updated_by) VALUES ($1, $2, $3, $4)
			ON CONFLICT (authority_id) DO UPDATE SET calendar = $2, updated_at = $3, updated_by = $4`,
			authority, mustJSON(c), now, s.Source()); err != nil {
			return err
		}
		if err := audit(ctx, tx, s, cmdb.AuditCalendarSet, "authority:"+itoa(authority), authority, map[string]any{"calendar": c}, now); err != nil {
			return err
		}
		return recomputeOpenSLA(ctx, tx, authority)
	}))
}

// FindSLATargets returns an authority's targets; see cmdb.SLAStore.
func (db *DB) FindSLATargets(ctx context.Context, s cmdb.Scope, authority int64) (cmdb.SLATargets, error) {
	if err := db.authorityExists(ctx, s, authority); err != nil {
		return cmdb.SLATargets{}, err
	}
	t, err := loadTargets(ctx, db.db, authority)
	if t.WarnFraction == 0 {
		t.WarnFraction = cmdb.DefaultWarnFraction // say what applies
	}
	return t, mapErr("postgres.FindSLATargets", err)
}

// SetSLATargets stores an authority's targets; see cmdb.SLAStore.
func (db *DB) SetSLATargets(ctx context.Context, s cmdb.Scope, authority int64, t cmdb.SLATargets) error {
	if err := db.authorityExists(ctx, s, authority); err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	if t.WarnFraction == 0 {
		t.WarnFraction = cmdb.DefaultWarnFraction
	}
	return mapErr("postgres.SetSLATargets", db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := db.now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO sla_targets (authority_id, targets, updated_at, updated_by) VALUES ($1, $2, $3, $4)
			ON CONFLICT (authority_id) DO UPDATE SET targets = $2, updated_at = $3, updated_by = $4`,
			authority, mustJSON(t), now, s.Source()); err != nil {
			return err
		}
		if err := audit(ctx, tx, s, cmdb.AuditSLATargetsSet, "authority:"+itoa(authority), authority, map[string]any{"targets": t}, now); err != nil {
			return err
		}
		return recomputeOpenSLA(ctx, tx, authority)
	}))
}

// FindCalendarDays lists the closed days of an authority's calendar in a
// year; see cmdb.SLAStore.
func (db *DB) FindCalendarDays(ctx context.Context, s cmdb.Scope, authority int64, year int) ([]cmdb.CalendarDay, error) {
	if year < cmdb.MinHolidayYear || year > cmdb.MaxHolidayYear {
		return nil, cmdb.Invalid("year", "must be a year between %d and %d, not %d", cmdb.MinHolidayYear, cmdb.MaxHolidayYear, year)
	}
	c, err := db.FindCalendar(ctx, s, authority)
	if err != nil {
		return nil, err
	}
	out := []cmdb.CalendarDay{}
	if c.State != "" {
		hs, err := cmdb.Holidays(c.State, year)
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			out = append(out, cmdb.CalendarDay{Date: h.Date, Name: h.Name, Kind: "holiday"})
		}
	}
	first, last := cmdb.Date{Year: year, Month: 1, Day: 1}, cmdb.Date{Year: year, Month: 12, Day: 31}
	seen := map[cmdb.Date]bool{}
	for _, h := range out {
		seen[h.Date] = true
	}
	for _, r := range c.Closed {
		from, to := r.From, r.To
		if from.Before(first) {
			from = first
		}
		if last.Before(to) {
			to = last
		}
		name := r.Name
		if name == "" {
			name = "geschlossen"
		}
		for d := from; !to.Before(d); d = d.AddDays(1) { // at most a year
			if !seen[d] {
				seen[d] = true
				out = append(out, cmdb.CalendarDay{Date: d, Name: name, Kind: "closed"})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b cmdb.CalendarDay) int {
		switch {
		case a.Date.Before(b.Date):
			return -1
		case b.Date.Before(a.Date):
			return 1
		}
		return 0
	})
	return out, nil
}
