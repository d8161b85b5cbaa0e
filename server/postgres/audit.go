package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/cmdb"
)

// audit appends an event to the audit log inside the caller's transaction
// (or directly, with q a *sqlx.DB), so that an action and its record
// commit together.
func audit(ctx context.Context, q sqlx.ExecerContext, s cmdb.Scope, action, target string, authorityID int64, detail map[string]any, at time.Time) error {
	if detail == nil {
		detail = map[string]any{}
	}
	d, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("postgres.audit %s: encode detail: %w", action, err)
	}
	var auth *int64
	if authorityID != 0 {
		auth = &authorityID
	}
	actor := s.Subject
	if actor == "" {
		actor = "anonymous"
	}
	_, err = q.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, target, authority_id, ip, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		at, actor, action, target, auth, s.IP, d)
	return err
}

// FindAudit lists audit events, newest first: admins see all, authority
// IT the events of their authorities. The total is the number of all
// matching events, not of the page.
func (db *DB) FindAudit(ctx context.Context, s cmdb.Scope, f cmdb.AuditFilter) ([]*cmdb.AuditEvent, int, error) {
	if !s.Admin && len(s.Authorities) == 0 {
		return nil, 0, cmdb.Errorf(cmdb.EFORBIDDEN, "Only admins and authority IT may read the audit log.")
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	var w where
	w.scope(s, "authority_id", "")
	if f.AuthorityID != 0 {
		w.add("authority_id = ?", f.AuthorityID)
	}
	if f.Action != "" {
		w.add("action = ?", f.Action)
	}
	type row struct {
		ID          int64     `db:"id"`
		At          time.Time `db:"at"`
		Actor       string    `db:"actor"`
		Action      string    `db:"action"`
		Target      string    `db:"target"`
		AuthorityID *int64    `db:"authority_id"`
		IP          string    `db:"ip"`
		Detail      []byte    `db:"detail"`
	}
	var rows []row
	if err := db.db.SelectContext(ctx, &rows, rebind(`SELECT id, at, actor, action, target, authority_id, ip, detail
		FROM audit_log WHERE `+w.String()+` ORDER BY id DESC LIMIT ? OFFSET ?`), append(w.args, f.Limit, max(f.Offset, 0))...); err != nil {
		return nil, 0, mapErr("postgres.FindAudit", err)
	}
	total := len(rows) + max(f.Offset, 0)
	if len(rows) == f.Limit || (len(rows) == 0 && f.Offset > 0) {
		if err := db.db.GetContext(ctx, &total, rebind(`SELECT count(*) FROM audit_log WHERE `+w.String()), w.args...); err != nil {
			return nil, 0, mapErr("postgres.FindAudit", err)
		}
	}
	out := make([]*cmdb.AuditEvent, len(rows))
	for i, r := range rows {
		e := &cmdb.AuditEvent{ID: r.ID, At: r.At, Actor: r.Actor, Action: r.Action, Target: r.Target, IP: r.IP}
		if r.AuthorityID != nil {
			e.AuthorityID = *r.AuthorityID
		}
		if err := json.Unmarshal(r.Detail, &e.Detail); err != nil {
			return nil, 0, fmt.Errorf("postgres.FindAudit: detail of audit event %d: %w", r.ID, err)
		}
		out[i] = e
	}
	return out, total, nil
}
