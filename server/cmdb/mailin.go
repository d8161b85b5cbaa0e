package cmdb

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// InboundMail is one e-mail read from an intake mailbox, parsed and
// classified. Header values are decoded (RFC 2047 words, charsets); the
// text body is plain text even when the sender wrote only HTML.
type InboundMail struct {
	// MessageID is the Message-ID without angle brackets. A mail without
	// one gets "sha256-<hash of the raw mail>@mailin.invalid", so that it
	// is never empty and the same mail always has the same id.
	MessageID string
	// InReplyTo and References are message ids without angle brackets.
	InReplyTo  []string
	References []string
	// FromAddress is the sender's address, lower-cased; FromName its
	// display name ("" when none).
	FromAddress string
	FromName    string
	// To holds the recipient addresses (To and Cc), lower-cased.
	To      []string
	Subject string
	// Date is the Date header; zero when missing or unreadable.
	Date time.Time
	// Text is the plain-text body.
	Text        string
	Attachments []MailAttachment
	// Class says what the mail is: a new ticket, a reply or to be dropped.
	Class MailClass
}

// MailAttachment is a file attached to an inbound mail. ContentType is
// detected from the bytes (net/http.DetectContentType), never taken from
// the file name or the sender's declared type.
type MailAttachment struct {
	Name        string
	ContentType string
	Data        []byte
	Size        int
}

// MailKind is what an inbound mail is to the ticket module.
type MailKind string

// Kinds of inbound mail.
const (
	// MailNewTicket: a mail that opens a ticket.
	MailNewTicket MailKind = "new_ticket"
	// MailReply: a mail that becomes a comment on an existing ticket.
	MailReply MailKind = "reply"
	// MailDrop: a mail that is never turned into a ticket or comment and
	// never answered; DropReason says why.
	MailDrop MailKind = "drop"
)

// Reasons a mail is dropped.
const (
	// DropAutoReply: an automatic answer (out of office, auto-responder,
	// mailing-list or bulk mail): Auto-Submitted other than "no",
	// Precedence bulk/junk/list, X-Autoreply, X-Autorespond.
	DropAutoReply = "auto_reply"
	// DropBounce: a delivery-status report or a mail from the null sender
	// or MAILER-DAEMON.
	DropBounce = "bounce"
	// DropLoop: a mail we sent ourselves (From is the intake address or
	// it carries our X-Loop header).
	DropLoop = "loop"
	// DropMalformed: a mail that cannot be read; it is kept aside.
	DropMalformed = "malformed"
	// DropClosed: a reply to a closed ticket, as reported by MailIntake.
	// It is filed and never answered, so that two systems cannot loop.
	DropClosed = "closed"
)

// MailClass is the result of classifying an inbound mail.
type MailClass struct {
	Kind MailKind
	// TicketNumber is set for a reply matched by its subject or by a
	// reference to a message id of ours (e.g. "LKP-2026-00042").
	TicketNumber string
	// RefMessageID is the referenced message id (one of ours, see
	// TicketMessageID) that matched, "" when the subject matched.
	RefMessageID string
	// DropReason is one of the Drop* constants for MailDrop.
	DropReason string
	// Detail explains a drop for the log ("Auto-Submitted: auto-replied").
	Detail string
}

// MailIntake takes classified mail into the ticket module. The IMAP poller
// calls it once per mail of kind MailNewTicket or MailReply; dropped mail
// never reaches it.
type MailIntake interface {
	// Intake opens a ticket (channel e-mail; the sender matched to a user,
	// unknown senders to the 1st-level queue) or adds the mail as a public
	// comment, with its attachments. It must be idempotent on
	// mail.MessageID: the poller may hand in the same mail again when it
	// failed to file it after a successful Intake. A reply whose ticket
	// cannot be found opens a new ticket. It returns
	//   - nil: taken; the poller files the mail as processed;
	//   - ECONFLICT: the reply is to a closed ticket; the poller files the
	//     mail as dropped (DropClosed) and nothing answers it;
	//   - EINVALID: the mail cannot become a ticket (e.g. an attachment too
	//     large or not an image/PDF); the poller keeps it aside as failed
	//     and logs the message;
	//   - any other error: not taken; the mail stays unseen in the inbox
	//     and is tried again on the next poll.
	Intake(ctx context.Context, mail *InboundMail) error
}

// ticketNumberPattern matches a readable ticket number: an authority code,
// the year and a serial number, e.g. "LKP-2026-00042".
var ticketNumberPattern = regexp.MustCompile(`\b([A-Z][A-Z0-9]{1,9}-[0-9]{4}-[0-9]{5,})\b`)

// ticketMessageIDPattern matches the message ids of ticket mails, see
// TicketMessageID.
var ticketMessageIDPattern = regexp.MustCompile(`^ticket-([A-Z][A-Z0-9]{1,9}-[0-9]{4}-[0-9]{5,})\.[A-Za-z0-9._-]+@[^@\s]+$`)

// TicketMessageID returns the Message-ID (without angle brackets) that
// outgoing mail about ticket number carries, so that a reply's
// In-Reply-To/References lead back to the ticket:
// "ticket-LKP-2026-00042.<unique>@<host>". unique makes each mail's id
// distinct (the outbox row id, say) and may hold letters, digits, '.', '_'
// and '-'; host is the server's mail domain.
func TicketMessageID(number, unique, host string) string {
	return fmt.Sprintf("ticket-%s.%s@%s", number, unique, host)
}

// TicketNumberFromMessageID returns the ticket number of a message id made
// by TicketMessageID (angle brackets allowed) and whether it was one.
func TicketNumberFromMessageID(id string) (string, bool) {
	id = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
	m := ticketMessageIDPattern.FindStringSubmatch(id)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// TicketNumberInSubject returns the first ticket number in a subject,
// bracketed ("[LKP-2026-00042]") or bare, and whether there was one.
func TicketNumberInSubject(subject string) (string, bool) {
	m := ticketNumberPattern.FindStringSubmatch(subject)
	if m == nil {
		return "", false
	}
	return m[1], true
}
