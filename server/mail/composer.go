package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// Composer renders ticket events into outbox mail (cmdb.MailComposer).
// Every mail carries a Message-ID made by cmdb.TicketMessageID and
// references the ticket's thread, so that a reply leads back to the
// ticket by In-Reply-To even when its subject was changed.
type Composer struct {
	// BaseURL is the server's public address; links point to
	// BaseURL/tickets/<number>. Empty: no link.
	BaseURL string
	// Domain is the right-hand side of the Message-IDs, usually the
	// domain of the sender address (Config.MessageDomain).
	Domain string
	// ReplyTo, if set, is where replies go: the intake mailbox, when it
	// is not the sender address.
	ReplyTo string
}

var _ cmdb.MailComposer = Composer{}

// MessageDomain is the domain for Message-IDs: the domain of From.
func (c *Config) MessageDomain() string { return c.fromDomain() }

// ComposeTicketMail implements cmdb.MailComposer.
func (c Composer) ComposeTicketMail(ev cmdb.TicketEvent, lang, to, dedupeKey string) (*cmdb.OutboundMail, error) {
	t := ev.Ticket
	d := Data{TicketNumber: t.Number, Title: t.Title, Status: t.Status, OldStatus: ev.OldStatus,
		Author: ev.Author, Comment: ev.Comment, Due: ev.Due, Target: targetName(ev.Target, lang)}
	if ev.Kind == cmdb.NotifyTicketCreated && d.Comment == "" {
		d.Comment = t.Description
	}
	if c.BaseURL != "" {
		d.URL = strings.TrimRight(c.BaseURL, "/") + "/tickets/" + t.Number
	}
	m, err := Compose(ev.Kind, lang, d, []string{to}, dedupeKey)
	if err != nil {
		return nil, err
	}
	domain := c.Domain
	if domain == "" {
		domain = "localhost"
	}
	m.AuthorityID = t.AuthorityID
	root := "<" + cmdb.TicketMessageID(t.Number, "thread", domain) + ">"
	m.Headers["Message-ID"] = "<" + cmdb.TicketMessageID(t.Number, uniquePart(dedupeKey), domain) + ">"
	m.Headers["In-Reply-To"] = root
	m.Headers["References"] = root
	if c.ReplyTo != "" {
		m.Headers["Reply-To"] = c.ReplyTo
	}
	return m, m.Validate()
}

// uniquePart makes the unique part of a Message-ID from a dedupe key: a
// digest, since a key holds characters a message id must not.
func uniquePart(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:10])
}

var targetNames = map[string]map[string]string{
	cmdb.LangDE: {"first_response": "Erste Reaktion", "resolve": "Lösung"},
	cmdb.LangEN: {"first_response": "first response", "resolve": "resolution"},
}

func targetName(target, lang string) string {
	if n, ok := targetNames[lang][target]; ok {
		return n
	}
	if n, ok := targetNames[cmdb.LangDE][target]; ok {
		return n
	}
	return target
}
