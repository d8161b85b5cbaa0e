package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/cmdb"
)

// mailSubject is the history and audit subject of what the intake does
// for a sender who is not a user.
const mailSubject = "system:mail"

// MailIntake returns the intake of an authority's mailbox: mail that the
// IMAP poller classified as a new ticket or a reply becomes a ticket or a
// comment of that authority. See cmdb.MailIntake.
func (db *DB) MailIntake(authority int64) cmdb.MailIntake {
	return &mailIntake{db: db, authority: authority}
}

type mailIntake struct {
	db        *DB
	authority int64
}

// sender is who wrote an inbound mail, as the ticket module sees them.
type sender struct {
	// scope is the user's, when the address is a user with a role in the
	// authority (not a provider); else zero.
	scope  cmdb.Scope
	school int64 // a school of the user in the authority, 0: none or authority IT
	known  bool
	// name is the sender as "Name <address>", kept in on_behalf_of.
	name string
}

// Intake implements cmdb.MailIntake. Everything a mail does (the ticket or
// comment, its attachments, the record that it was taken) is one
// transaction: a mail is taken whole or not at all, and a mail handed in
// again finds its record and does nothing.
func (in *mailIntake) Intake(ctx context.Context, m *cmdb.InboundMail) error {
	if m.MessageID == "" {
		return cmdb.Invalid("message_id", "A mail without a message id cannot be taken.")
	}
	db := in.db
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		// Two pollers handing in the same mail wait for each other.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 8))`,
			fmt.Sprintf("mail|%d|%s", in.authority, m.MessageID)); err != nil {
			return err
		}
		var outcome string
		err := tx.GetContext(ctx, &outcome, `SELECT outcome FROM mail_intake WHERE authority_id = $1 AND message_id = $2`,
			in.authority, m.MessageID)
		if err == nil {
			return nil // taken before
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		from, err := in.sender(ctx, tx, m)
		if err != nil {
			return err
		}
		if m.Class.Kind == cmdb.MailReply && m.Class.TicketNumber != "" {
			var id int64
			err := tx.GetContext(ctx, &id, `SELECT id FROM tickets WHERE authority_id = $1 AND number = $2`, in.authority, m.Class.TicketNumber)
			if err == nil {
				return in.reply(ctx, tx, m, from, id)
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			// A reply to a ticket we do not know (another system's number,
			// or a typo): it opens a ticket, so nothing is lost.
		}
		return in.open(ctx, tx, m, from)
	})
	return mapErr("postgres.MailIntake", err)
}

// sender finds who wrote m: a user with a role in the authority (their
// scope, and their school when they have one there), else a stranger.
func (in *mailIntake) sender(ctx context.Context, tx *sqlx.Tx, m *cmdb.InboundMail) (sender, error) {
	name := strings.Map(func(r rune) rune {
		if strings.ContainsRune("<>\"", r) {
			return -1
		}
		return r
	}, m.FromName)
	s := sender{name: cmdb.MailFromName(strings.TrimSpace(name), m.FromAddress)}
	if r := []rune(s.name); len(r) > 200 {
		s.name = string(r[:200])
	}
	var id int64
	err := tx.GetContext(ctx, &id, `SELECT id FROM users WHERE email = $1 AND NOT disabled`, strings.ToLower(m.FromAddress))
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	} else if err != nil {
		return s, err
	}
	ms, err := in.db.memberships(ctx, tx, id)
	if err != nil {
		return s, err
	}
	var mine []cmdb.Membership
	for _, x := range ms {
		if x.AuthorityID == in.authority && x.Role != cmdb.RoleProvider {
			mine = append(mine, x)
			if (x.Role == cmdb.RoleTeacher || x.Role == cmdb.RoleSchoolIT) && s.school == 0 {
				s.school = x.OrgID
			}
			if x.Role == cmdb.RoleAuthorityIT {
				s.school = -1 // the authority's own: no school to guess
			}
		}
	}
	if len(mine) == 0 {
		return s, nil // a user of another authority writes like a stranger here
	}
	if s.school < 0 {
		s.school = 0
	}
	s.known = true
	s.scope = scopeFor("user:"+itoa(id), id, mine)
	return s, nil
}

// open makes a ticket of m: a user's own ticket (of their school), or for
// a stranger one of the authority with the sender in on_behalf_of, in the
// 1st-level queue, category "Sonstiges" (general).
func (in *mailIntake) open(ctx context.Context, tx *sqlx.Tx, m *cmdb.InboundMail, from sender) error {
	db := in.db
	var category int64
	err := tx.GetContext(ctx, &category, `SELECT id FROM ticket_categories WHERE class = 'general' AND name = 'Sonstiges' AND active
		AND (authority_id = $1 OR authority_id IS NULL) ORDER BY authority_id NULLS LAST LIMIT 1`, in.authority)
	if err != nil {
		return err
	}
	title := strings.Join(strings.Fields(m.Subject), " ")
	if title == "" {
		title = "(ohne Betreff)"
	}
	if r := []rune(title); len(r) > 200 {
		title = string(r[:199]) + "…"
	}
	desc := m.Text
	if r := []rune(desc); len(r) > 20000 {
		desc = string(r[:19990]) + "\n[gekürzt]"
	}
	t := &cmdb.Ticket{Type: cmdb.TicketIncident, Title: title, Description: desc, CategoryID: category,
		Impact: 3, Urgency: 3, Channel: cmdb.ChannelEmail}
	s := from.scope
	if from.known {
		if from.school != 0 {
			t.SchoolID = from.school
		} else {
			t.AuthorityID = in.authority
		}
	} else {
		s = cmdb.AdminScope(mailSubject)
		t.AuthorityID, t.OnBehalfOf = in.authority, from.name
	}
	if _, err := db.createTicket(ctx, tx, s, t, ""); err != nil {
		return err
	}
	if err := in.attach(ctx, tx, s, t, m, 0); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO mail_intake (authority_id, message_id, ticket_id, outcome, at) VALUES ($1, $2, $3, 'ticket', $4)`,
		in.authority, m.MessageID, t.ID, db.now())
	return err
}

// reply adds m as a comment to ticket id. A user who may see the ticket
// writes a public comment as themselves; the stranger who opened it (its
// on_behalf_of address) writes a public one under their name; anyone else
// lands in an internal note for IT to judge, so that a stranger cannot
// publish into a ticket by naming its number. A closed ticket takes no
// comment: ECONFLICT, and the mail is filed unanswered.
func (in *mailIntake) reply(ctx context.Context, tx *sqlx.Tx, m *cmdb.InboundMail, from sender, id int64) error {
	db := in.db
	t, err := findTicket(ctx, tx, cmdb.AdminScope(mailSubject), id, true)
	if err != nil {
		return err
	}
	if t.Status == cmdb.StatusClosed {
		return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "status", Message: "The ticket " + t.Number + " is closed; the reply is filed unanswered."}
	}
	body := strings.TrimSpace(m.Text)
	if body == "" {
		body = "(leere Nachricht)"
	}
	if r := []rune(body); len(r) > 20000 {
		body = string(r[:19990]) + "\n[gekürzt]"
	}
	c := &cmdb.TicketComment{TicketID: t.ID, Body: body, Channel: cmdb.ChannelEmail}
	s, author := cmdb.Scope{Subject: mailSubject}, from.name
	var seen bool
	if from.known {
		if _, err := findTicket(ctx, tx, from.scope, id, false); err == nil {
			seen = true
		} else if cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			return err
		}
	}
	switch {
	case seen:
		s, author = from.scope, from.scope.Source()
	case t.ReporterUserID == 0 && sameAddress(t.OnBehalfOf, m.FromAddress):
		// the stranger who opened it: public, and not IT's first response
	default:
		s = cmdb.AdminScope(mailSubject)
		c.Internal = true
		c.Body = fmt.Sprintf("E-Mail von %s, der/die das Ticket nicht sehen darf (nicht veröffentlicht):\n\n%s", from.name, body)
		if r := []rune(c.Body); len(r) > 20000 {
			c.Body = string(r[:20000])
		}
	}
	if err := db.addComment(ctx, tx, s, t, c, author); err != nil {
		return err
	}
	if err := in.attach(ctx, tx, s, t, m, c.ID); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO mail_intake (authority_id, message_id, ticket_id, comment_id, outcome, at)
		VALUES ($1, $2, $3, $4, 'comment', $5)`, in.authority, m.MessageID, t.ID, c.ID, db.now())
	return err
}

// attach keeps the mail's attachments on t (with comment, when not 0).
// A file the ticket cannot take (too large, neither photo nor PDF, over
// the ticket's limits) is left out and named in an internal note, so that
// a signature logo or a Word file does not cost the whole mail.
func (in *mailIntake) attach(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, t *cmdb.Ticket, m *cmdb.InboundMail, comment int64) error {
	var left []string
	for _, f := range m.Attachments {
		a := &cmdb.Attachment{FileName: f.Name, CommentID: comment, Channel: cmdb.ChannelEmail}
		err := in.db.addAttachmentTx(ctx, tx, s, t, a, f.Data)
		if cmdb.ErrorCode(err) == cmdb.EINVALID {
			var e *cmdb.Error
			errors.As(err, &e)
			left = append(left, fmt.Sprintf("%s: %s", f.Name, e.Message))
			continue
		} else if err != nil {
			return err
		}
	}
	if len(left) == 0 {
		return nil
	}
	note := &cmdb.TicketComment{TicketID: t.ID, Internal: true, Channel: cmdb.ChannelEmail,
		Body: "Nicht übernommene Anhänge der E-Mail:\n- " + strings.Join(left, "\n- ")}
	return in.db.addComment(ctx, tx, cmdb.AdminScope(mailSubject), t, note, cmdb.AdminScope(mailSubject).Source())
}

// sameAddress reports whether on_behalf_of ("Name <address>" or an
// address) names address.
func sameAddress(onBehalfOf, address string) bool {
	if address == "" {
		return false
	}
	a := onBehalfOf
	if i := strings.LastIndexByte(a, '<'); i >= 0 {
		a = strings.TrimSuffix(a[i+1:], ">")
	}
	return strings.EqualFold(strings.TrimSpace(a), address)
}
