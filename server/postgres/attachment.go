package postgres

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/cmdb"
)

var _ cmdb.AttachmentStore = (*DB)(nil)

const attachmentColumns = `id, ticket_id, coalesce(comment_id, 0), file_name, media_type, size, sha256, internal,
	created_by, coalesce(author_user_id, 0), channel, created_at`

func scanAttachment(sc interface{ Scan(...any) error }, extra ...any) (*cmdb.Attachment, error) {
	var a cmdb.Attachment
	dst := append([]any{&a.ID, &a.TicketID, &a.CommentID, &a.FileName, &a.MediaType, &a.Size, &a.SHA256, &a.Internal,
		&a.CreatedBy, &a.AuthorUserID, &a.Channel, &a.CreatedAt}, extra...)
	if err := sc.Scan(dst...); err != nil {
		return nil, err
	}
	return &a, nil
}

// attachmentLimits are the store's limits, the defaults filled in.
func (db *DB) attachmentLimits() cmdb.AttachmentLimits {
	return db.opts.AttachmentLimits.WithDefaults()
}

// AddTicketAttachment stores a photo or PDF on a ticket; see
// cmdb.AttachmentStore.
func (db *DB) AddTicketAttachment(ctx context.Context, s cmdb.Scope, a *cmdb.Attachment, data []byte) error {
	// Type and per-file size first: a refused file costs no transaction.
	if err := a.Prepare(data, db.attachmentLimits()); err != nil {
		return err
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		// The row lock serialises uploads to one ticket, so that two in
		// parallel cannot both pass the per-ticket limit.
		t, err := findTicket(ctx, tx, s, a.TicketID, true)
		if err != nil {
			return err
		}
		if a.Internal && !staffOf(s, t) {
			return &cmdb.Error{Code: cmdb.EFORBIDDEN, Field: "internal", Message: "Only IT staff and the assigned provider add internal attachments."}
		}
		if t.Status == cmdb.StatusClosed {
			return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "status", Message: "The ticket is closed; attachments are no longer taken. Open a new ticket."}
		}
		return db.addAttachmentTx(ctx, tx, s, t, a, data)
	})
	return mapErr("postgres.AddTicketAttachment", err)
}

// addAttachmentTx stores data as an attachment of ticket t inside tx and
// records it in the ticket's history. It is the in-transaction door for
// every path that attaches files (the API through AddTicketAttachment,
// the e-mail intake for the files of a mail): the caller has loaded t in
// tx with a row lock (findTicket(…, true)) or created it in tx, and has
// decided whether s may attach to it at all (closed ticket, internal).
//
// It checks the file (type from content, per-file size), the comment
// (a.CommentID of the same ticket, visible to s; an internal comment makes
// the attachment internal) and the per-ticket limits before it writes
// anything, so a refusal (EINVALID naming "file" or "comment_id") leaves
// tx usable: the intake may skip a file and go on.
func (db *DB) addAttachmentTx(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, t *cmdb.Ticket, a *cmdb.Attachment, data []byte) error {
	l := db.attachmentLimits()
	a.TicketID = t.ID
	if err := a.Prepare(data, l); err != nil {
		return err
	}
	staff := staffOf(s, t)
	if a.CommentID != 0 {
		var internal bool
		err := tx.GetContext(ctx, &internal, `SELECT internal FROM ticket_comments WHERE id = $1 AND ticket_id = $2`, a.CommentID, t.ID)
		if err == sql.ErrNoRows || (err == nil && internal && !staff) {
			return unknownRef("comment_id", "comment of this ticket", a.CommentID)
		} else if err != nil {
			return err
		}
		a.Internal = a.Internal || internal
	}
	var n int
	var total int64
	if err := tx.QueryRowxContext(ctx, `SELECT count(*), coalesce(sum(size), 0) FROM ticket_attachments WHERE ticket_id = $1`,
		t.ID).Scan(&n, &total); err != nil {
		return err
	}
	switch {
	case n >= l.MaxFiles:
		return cmdb.Invalid("file", "a ticket takes at most %d attachments; this one has %d already", l.MaxFiles, n)
	case total+a.Size > l.MaxTicketSize:
		return cmdb.Invalid("file", "the attachments of a ticket must be at most %s together; this one holds %s already and this file has %s",
			cmdb.FormatBytes(l.MaxTicketSize), cmdb.FormatBytes(total), cmdb.FormatBytes(a.Size))
	}
	now := db.now()
	a.CreatedBy, a.AuthorUserID, a.CreatedAt = s.Source(), s.UserID, now
	if err := tx.GetContext(ctx, &a.ID, `INSERT INTO ticket_attachments (ticket_id, comment_id, file_name, media_type, size, sha256, data,
			internal, created_by, author_user_id, channel, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		t.ID, nullID(a.CommentID), a.FileName, a.MediaType, a.Size, a.SHA256, data, a.Internal, a.CreatedBy,
		nullID(a.AuthorUserID), a.Channel, now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE tickets SET updated_at = $2 WHERE id = $1`, t.ID, now); err != nil {
		return err
	}
	field := "attachment"
	if a.Internal {
		field = "internal_attachment" // hidden from teachers like internal comments
	}
	return addTicketHistory(ctx, tx, t.ID, now, s, a.Channel, []change{{field, "", idText(a.ID) + " " + a.FileName}})
}

// FindTicketAttachments lists a ticket's attachments without their bytes;
// see cmdb.AttachmentStore.
func (db *DB) FindTicketAttachments(ctx context.Context, s cmdb.Scope, ticketID int64) ([]*cmdb.Attachment, error) {
	t, err := findTicket(ctx, db.db, s, ticketID, false)
	if err != nil {
		return nil, err
	}
	rows, err := db.db.QueryxContext(ctx, `SELECT `+attachmentColumns+` FROM ticket_attachments
		WHERE ticket_id = $1 AND (NOT internal OR $2) ORDER BY id`, t.ID, staffOf(s, t))
	if err != nil {
		return nil, mapErr("postgres.FindTicketAttachments", err)
	}
	defer rows.Close()
	out := []*cmdb.Attachment{}
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return nil, mapErr("postgres.FindTicketAttachments", err)
		}
		out = append(out, a)
	}
	return out, mapErr("postgres.FindTicketAttachments", rows.Err())
}

// OpenTicketAttachment returns one attachment with its bytes; see
// cmdb.AttachmentStore.
func (db *DB) OpenTicketAttachment(ctx context.Context, s cmdb.Scope, ticketID, id int64) (*cmdb.Attachment, []byte, error) {
	t, err := findTicket(ctx, db.db, s, ticketID, false)
	if err != nil {
		return nil, nil, err
	}
	var data []byte
	a, err := scanAttachment(db.db.QueryRowxContext(ctx, `SELECT `+attachmentColumns+`, data FROM ticket_attachments
		WHERE id = $1 AND ticket_id = $2 AND (NOT internal OR $3)`, id, t.ID, staffOf(s, t)), &data)
	if err == sql.ErrNoRows {
		return nil, nil, notFound("attachment", id)
	}
	if err != nil {
		return nil, nil, mapErr("postgres.OpenTicketAttachment", err)
	}
	return a, data, nil
}
