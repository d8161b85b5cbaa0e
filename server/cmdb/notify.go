package cmdb

import (
	"fmt"
	"time"
)

// Kinds of ticket notification mail. Each is a template per language in
// the mail package.
const (
	NotifyTicketCreated = "ticket_created"
	NotifyStatusChanged = "status_changed"
	NotifyPublicComment = "public_comment"
	NotifySLAWarning    = "sla_warning"
)

// TicketEvent is what happened to a ticket that people are told about by
// mail: its kind (Notify*), the ticket as it is now, and what the kind
// needs besides.
type TicketEvent struct {
	Kind   string
	Ticket *Ticket
	// OldStatus is the status before a status change.
	OldStatus string
	// Author and Comment are the author's name and the text of a public
	// comment.
	Author  string
	Comment string
	// AuthorAddress is the address of an author who is no user (an e-mail
	// sender): they are not sent their own comment back.
	AuthorAddress string
	// Target ("first_response" or "resolve") and Due are the due time an
	// SLA warning is about.
	Target string
	Due    time.Time
}

// MailComposer turns a ticket event into the mail for one recipient in
// their language (LangDE or LangEN), ready to be queued in the outbox
// with dedupeKey. The store calls it inside the transaction of the change,
// so that the mail is queued exactly when the change commits; it must not
// block or do I/O. The mail package provides one.
type MailComposer interface {
	ComposeTicketMail(ev TicketEvent, lang, to, dedupeKey string) (*OutboundMail, error)
}

// ValidateLanguage checks a person's mail language; "" means German.
func ValidateLanguage(field, lang string) (string, error) {
	switch lang {
	case "":
		return LangDE, nil
	case LangDE, LangEN:
		return lang, nil
	}
	return "", Invalid(field, "Must be %q or %q.", LangDE, LangEN)
}

// MailFromName is the address line of a sender who is not a user, kept in
// a ticket's on_behalf_of: "Name <address>", or the bare address.
func MailFromName(name, address string) string {
	if name == "" {
		return address
	}
	return fmt.Sprintf("%s <%s>", name, address)
}
