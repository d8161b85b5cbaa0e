package postgres

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/cmdb"
)

// maxNotifyRecipients bounds the mails one ticket event queues (a large
// IT team or a crowd of watchers), one mail per person.
const maxNotifyRecipients = 200

// recipient is one person told about a ticket event.
type recipient struct {
	UserID   int64  `db:"user_id"`
	Email    string `db:"email"`
	Language string `db:"language"`
}

// whom says who hears of an event: the reporter (and the watchers, who
// are affected like them), and the assignee group — the assigned person
// when there is one, else every member of the group (the authority's IT
// or the provider's staff).
type whom struct{ reporter, group, everyoneInGroup bool }

var notifyWhom = map[string]whom{
	cmdb.NotifyTicketCreated: {reporter: true, group: true},
	cmdb.NotifyStatusChanged: {reporter: true, group: true},
	cmdb.NotifyPublicComment: {reporter: true, group: true},
	// A warning goes to the whole group even when a person is assigned:
	// the person may be away, and the group answers for the due time.
	cmdb.NotifySLAWarning: {group: true, everyoneInGroup: true},
}

// notifyTicket queues the mails of ev inside tx, one per recipient in
// their language, so that they are sent exactly when the change commits.
// The actor (s.UserID) is not told of their own change, except that a
// reporter gets the confirmation of the ticket they opened. Disabled users
// get nothing; a reporter who is no user (an e-mail sender, kept in
// on_behalf_of as "Name <address>") is written to in German. event makes
// the dedupe key unique per event. Without a composer (no relay) it does
// nothing.
func (db *DB) notifyTicket(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, ev cmdb.TicketEvent, event string) error {
	c := db.opts.Mail
	if c == nil || ev.Ticket == nil {
		return nil
	}
	w, ok := notifyWhom[ev.Kind]
	if !ok {
		return fmt.Errorf("postgres.notifyTicket: unknown kind %q", ev.Kind)
	}
	t := ev.Ticket
	actor := s.UserID
	if ev.Kind == cmdb.NotifyTicketCreated {
		actor = 0
	}
	var rs []recipient
	err := tx.SelectContext(ctx, &rs, `WITH t AS (SELECT id, authority_id, provider_id, assignee_user_id, reporter_user_id FROM tickets WHERE id = $1),
		r AS (
			SELECT reporter_user_id AS uid FROM t WHERE $2
			UNION SELECT w.user_id FROM ticket_watchers w JOIN t ON w.ticket_id = t.id WHERE $2
			UNION SELECT assignee_user_id FROM t WHERE $3
			UNION SELECT m.user_id FROM memberships m JOIN t ON
				(t.provider_id IS NULL AND m.role = 'authority_it' AND m.org_id = t.authority_id)
				OR (t.provider_id IS NOT NULL AND m.role = 'provider' AND m.org_id = t.provider_id)
				WHERE $3 AND ($4 OR t.assignee_user_id IS NULL))
		SELECT u.id AS user_id, u.email, coalesce(u.language, 'de') AS language FROM r JOIN users u ON u.id = r.uid
		WHERE NOT u.disabled AND u.id <> $5 ORDER BY u.email LIMIT $6`,
		t.ID, w.reporter, w.group, w.everyoneInGroup, actor, maxNotifyRecipients)
	if err != nil {
		return err
	}
	if w.reporter && t.ReporterUserID == 0 && t.OnBehalfOf != "" {
		if a, err := mail.ParseAddress(t.OnBehalfOf); err == nil && !strings.EqualFold(a.Address, ev.AuthorAddress) {
			rs = append(rs, recipient{Email: strings.ToLower(a.Address), Language: cmdb.LangDE})
		}
	}
	for _, r := range rs {
		key := fmt.Sprintf("ticket:%d:%s:%s:%s", t.ID, ev.Kind, event, r.Email)
		m, err := c.ComposeTicketMail(ev, r.Language, r.Email, key)
		if err != nil {
			// One unwritable mail (say an address the relay would refuse)
			// must not undo the ticket change; the others still go.
			db.log.Warn("ticket mail not queued", "ticket", t.Number, "kind", ev.Kind, "error", err)
			continue
		}
		if _, err := db.enqueueMail(ctx, tx, m); err != nil {
			return err
		}
	}
	return nil
}

// commentAuthor is the name shown for the author of comment c in mail.
func commentAuthor(ctx context.Context, tx *sqlx.Tx, c *cmdb.TicketComment) (string, error) {
	if c.AuthorUserID == 0 {
		if a, err := mail.ParseAddress(c.Author); err == nil && a.Name != "" {
			return a.Name, nil
		}
		return strings.TrimPrefix(c.Author, "user:"), nil
	}
	var name, email string
	if err := tx.QueryRowxContext(ctx, `SELECT name, email FROM users WHERE id = $1`, c.AuthorUserID).Scan(&name, &email); err != nil {
		return "", err
	}
	if name == "" {
		return email, nil
	}
	return name, nil
}

// notifyComment tells of a public comment c on t; internal comments are
// nobody's mail.
func (db *DB) notifyComment(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, t *cmdb.Ticket, c *cmdb.TicketComment) error {
	if c.Internal || db.opts.Mail == nil {
		return nil
	}
	author, err := commentAuthor(ctx, tx, c)
	if err != nil {
		return err
	}
	ev := cmdb.TicketEvent{Kind: cmdb.NotifyPublicComment, Ticket: t, Author: author, Comment: c.Body}
	if c.AuthorUserID == 0 {
		if a, err := mail.ParseAddress(c.Author); err == nil {
			ev.AuthorAddress = a.Address
		}
	}
	return db.notifyTicket(ctx, tx, s, ev, idText(c.ID))
}
