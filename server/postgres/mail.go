package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

var _ cmdb.Outbox = (*DB)(nil)

// mailRow is a mail_outbox row.
type mailRow struct {
	ID            int64          `db:"id"`
	AuthorityID   *int64         `db:"authority_id"`
	DedupeKey     string         `db:"dedupe_key"`
	Recipients    pq.StringArray `db:"recipients"`
	Subject       string         `db:"subject"`
	BodyText      string         `db:"body_text"`
	BodyHTML      string         `db:"body_html"`
	Headers       []byte         `db:"headers"`
	Language      string         `db:"language"`
	Status        string         `db:"status"`
	Attempts      int            `db:"attempts"`
	NextAttemptAt time.Time      `db:"next_attempt_at"`
	LastError     string         `db:"last_error"`
	CreatedAt     time.Time      `db:"created_at"`
	SentAt        *time.Time     `db:"sent_at"`
}

const mailColumns = `id, authority_id, dedupe_key, recipients, subject, body_text, body_html,
	headers, language, status, attempts, next_attempt_at, last_error, created_at, sent_at`

func (r *mailRow) mail() (*cmdb.OutboundMail, error) {
	m := &cmdb.OutboundMail{
		ID: r.ID, DedupeKey: r.DedupeKey, To: []string(r.Recipients), Subject: r.Subject,
		Text: r.BodyText, HTML: r.BodyHTML, Language: r.Language, Status: r.Status,
		Attempts: r.Attempts, NextAttemptAt: r.NextAttemptAt, LastError: r.LastError,
		CreatedAt: r.CreatedAt, SentAt: r.SentAt,
	}
	if r.AuthorityID != nil {
		m.AuthorityID = *r.AuthorityID
	}
	if len(r.Headers) > 0 {
		if err := json.Unmarshal(r.Headers, &m.Headers); err != nil {
			return nil, fmt.Errorf("mail %d headers: %w", r.ID, err)
		}
	}
	return m, nil
}

// EnqueueMail validates m and queues it, due at once. It is idempotent by
// m.DedupeKey: when a message with that key exists (in any status) it
// queues nothing, sets m.ID to the existing message and reports false.
func (db *DB) EnqueueMail(ctx context.Context, m *cmdb.OutboundMail) (bool, error) {
	var added bool
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		added, err = db.enqueueMail(ctx, tx, m)
		return err
	})
	return added, mapErr("postgres.EnqueueMail", err)
}

// enqueueMail is EnqueueMail inside the caller's transaction, so that a
// ticket change and its notifications commit (or roll back) together.
// Store code (tickets) calls it with its *sqlx.Tx.
func (db *DB) enqueueMail(ctx context.Context, tx sqlx.QueryerContext, m *cmdb.OutboundMail) (bool, error) {
	if err := m.Validate(); err != nil {
		return false, err
	}
	if m.Language == "" {
		m.Language = cmdb.LangDE
	}
	hdr, err := json.Marshal(m.Headers)
	if err != nil {
		return false, err
	}
	if m.Headers == nil {
		hdr = []byte("{}")
	}
	var authority *int64
	if m.AuthorityID != 0 {
		authority = &m.AuthorityID
	}
	var r mailRow
	err = sqlx.GetContext(ctx, tx, &r, `INSERT INTO mail_outbox
		(authority_id, dedupe_key, recipients, subject, body_text, body_html, headers, language)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (dedupe_key) DO NOTHING
		RETURNING `+mailColumns,
		authority, m.DedupeKey, pq.Array(m.To), m.Subject, m.Text, m.HTML, hdr, m.Language)
	added := err == nil
	if errors.Is(err, sql.ErrNoRows) {
		err = sqlx.GetContext(ctx, tx, &r, `SELECT `+mailColumns+` FROM mail_outbox WHERE dedupe_key = $1`, m.DedupeKey)
	}
	if err != nil {
		return false, err
	}
	got, err := r.mail()
	if err != nil {
		return false, err
	}
	*m = *got
	return added, nil
}

// ClaimMail hands up to limit due messages (queued ones whose
// next_attempt_at has come, and sending ones whose lease ran out because
// their dispatcher died) to the caller: they become sending, their
// attempts count one up and their lease ends at now+lease. FOR UPDATE
// SKIP LOCKED lets several replicas claim at once without ever handing
// one message to two of them. A message whose lease ran out after its
// last allowed attempt is failed instead of claimed.
func (db *DB) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*cmdb.OutboundMail, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var rows []mailRow
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		rows = nil
		if _, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET status = 'failed',
			last_error = 'Gave up: the sender stopped during the last allowed attempt.'
			WHERE status = 'sending' AND next_attempt_at <= $1 AND attempts >= $2`,
			now, cmdb.MaxMailAttempts); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &rows, `UPDATE mail_outbox SET status = 'sending',
			attempts = attempts + 1, next_attempt_at = $2
			WHERE id IN (SELECT id FROM mail_outbox
				WHERE status IN ('queued', 'sending') AND next_attempt_at <= $1
				ORDER BY next_attempt_at, id LIMIT $3
				FOR UPDATE SKIP LOCKED)
			RETURNING `+mailColumns, now, now.Add(lease), limit)
	})
	if err != nil {
		return nil, mapErr("postgres.ClaimMail", err)
	}
	out := make([]*cmdb.OutboundMail, 0, len(rows))
	for i := range rows {
		m, err := rows[i].mail()
		if err != nil {
			return nil, mapErr("postgres.ClaimMail", err)
		}
		out = append(out, m)
	}
	return out, nil
}

// MarkMailSent records that the relay accepted message id.
func (db *DB) MarkMailSent(ctx context.Context, id int64, now time.Time) error {
	res, err := db.db.ExecContext(ctx, `UPDATE mail_outbox SET status = 'sent', sent_at = $2, last_error = ''
		WHERE id = $1 AND status = 'sending'`, id, now)
	if err == nil {
		if n, _ := res.RowsAffected(); n == 0 {
			err = notFound("outbox mail being sent", id)
		}
	}
	return mapErr("postgres.MarkMailSent", err)
}

// MarkMailFailed records a failed attempt of message id (see
// cmdb.Outbox). reason is stored as last_error, cut to 1000 bytes.
func (db *DB) MarkMailFailed(ctx context.Context, id int64, now time.Time, reason string, permanent bool) error {
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var attempts int
		if err := tx.GetContext(ctx, &attempts, `SELECT attempts FROM mail_outbox
			WHERE id = $1 AND status = 'sending' FOR UPDATE`, id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return notFound("outbox mail", id)
			}
			return err
		}
		status, next := cmdb.MailQueued, now.Add(cmdb.MailBackoff(attempts))
		if permanent || attempts >= cmdb.MaxMailAttempts {
			status, next = cmdb.MailFailed, now
		}
		_, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET status = $2, next_attempt_at = $3, last_error = $4
			WHERE id = $1`, id, status, next, reason)
		return err
	})
	return mapErr("postgres.MarkMailFailed", err)
}

// FindMail lists outbox messages for operators, newest first: admins see
// all, authority IT its authority's; nobody else (the messages carry
// personal data).
func (db *DB) FindMail(ctx context.Context, s cmdb.Scope, f cmdb.MailFilter) ([]*cmdb.OutboundMail, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	if !s.Admin && len(s.Authorities) == 0 {
		return nil, cmdb.Errorf(cmdb.EFORBIDDEN, "Only administrators and authority IT see the mail outbox.")
	}
	if f.AuthorityID != 0 && !s.CanSeeAuthority(f.AuthorityID) {
		return nil, notFound("authority", f.AuthorityID)
	}
	q := `SELECT ` + mailColumns + ` FROM mail_outbox WHERE ($1 = 0 OR authority_id = $1)
		AND ($2 = '' OR status = $2) AND ($3 OR authority_id = ANY($4))
		ORDER BY created_at DESC, id DESC LIMIT $5`
	var rows []mailRow
	if err := db.db.SelectContext(ctx, &rows, q, f.AuthorityID, f.Status, s.Admin, pq.Array(s.Authorities), f.Limit); err != nil {
		return nil, mapErr("postgres.FindMail", err)
	}
	out := make([]*cmdb.OutboundMail, 0, len(rows))
	for i := range rows {
		m, err := rows[i].mail()
		if err != nil {
			return nil, mapErr("postgres.FindMail", err)
		}
		out = append(out, m)
	}
	return out, nil
}
