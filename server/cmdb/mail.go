package cmdb

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Mail status values of an outbox message.
const (
	// MailQueued: waiting to be sent (again) at NextAttemptAt.
	MailQueued = "queued"
	// MailSending: claimed by a dispatcher whose lease ends at
	// NextAttemptAt; past that lease it is due again.
	MailSending = "sending"
	// MailSent: accepted by the relay.
	MailSent = "sent"
	// MailFailed: given up after MaxMailAttempts or a permanent refusal.
	MailFailed = "failed"
)

// Mail languages. German is the default and the fallback.
const (
	LangDE = "de"
	LangEN = "en"
)

// Bounds of an outbound mail.
const (
	MaxMailRecipients = 50
	MaxMailSubject    = 998 // RFC 5322 line length
	MaxMailBody       = 1 << 20
	MaxMailDedupeKey  = 200
	MaxMailHeader     = 2000
	// MaxMailAttempts is how often a message is tried before it is failed.
	MaxMailAttempts = 10
	// MailBackoffFirst and MailBackoffMax bound the retry delay: the first
	// retry waits MailBackoffFirst, each further one twice as long, never
	// more than MailBackoffMax.
	MailBackoffFirst = time.Minute
	MailBackoffMax   = 6 * time.Hour
)

// allowedMailHeaders are the extra headers a caller may set. Everything
// else (From, To, Date, MIME headers) is the sender's business.
var allowedMailHeaders = map[string]bool{
	"Message-ID":               true,
	"In-Reply-To":              true,
	"References":               true,
	"Auto-Submitted":           true,
	"Precedence":               true,
	"Reply-To":                 true,
	"X-Auto-Response-Suppress": true,
}

// OutboundMail is one notification mail to be sent through the outbox.
// DedupeKey makes enqueueing idempotent: a second message with the same
// key is not queued again (e.g. "ticket:42:status:7:user:9").
type OutboundMail struct {
	ID          int64  `json:"id"`
	AuthorityID int64  `json:"authority_id,omitempty"` // 0: none
	DedupeKey   string `json:"dedupe_key"`
	// To are addresses as net/mail parses them ("Name <a@b.de>" or "a@b.de").
	To       []string `json:"to"`
	Subject  string   `json:"subject"`
	Text     string   `json:"text"`
	HTML     string   `json:"html,omitempty"`
	Language string   `json:"language"`
	// Headers are extra headers; allowed are Message-ID, In-Reply-To,
	// References, Auto-Submitted, Precedence, Reply-To and
	// X-Auto-Response-Suppress. The sender sets a stable Message-ID from
	// the message's id when none is given.
	Headers map[string]string `json:"headers,omitempty"`

	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	SentAt        *time.Time `json:"sent_at,omitempty"`
}

// hasCRLF reports whether s contains a line break (or NUL), which in a
// header would let the value inject further headers.
func hasCRLF(s string) bool { return strings.ContainsAny(s, "\r\n\x00") }

// Validate checks the mail before it is queued and names the offending
// field: at least one recipient, each a parseable address; subject,
// headers and dedupe key free of line breaks; a text body; a known
// language (empty means German).
func (m *OutboundMail) Validate() error {
	if m.DedupeKey == "" {
		return Invalid("dedupe_key", "A dedupe key is required.")
	}
	if len(m.DedupeKey) > MaxMailDedupeKey || hasCRLF(m.DedupeKey) {
		return Invalid("dedupe_key", "At most %d characters, no line breaks.", MaxMailDedupeKey)
	}
	if len(m.To) == 0 {
		return Invalid("to", "At least one recipient is required.")
	}
	if len(m.To) > MaxMailRecipients {
		return Invalid("to", "At most %d recipients.", MaxMailRecipients)
	}
	for i, a := range m.To {
		f := fmt.Sprintf("to[%d]", i)
		if hasCRLF(a) {
			return Invalid(f, "No line breaks allowed in an address.")
		}
		if _, err := mail.ParseAddress(a); err != nil {
			return Invalid(f, "Not an e-mail address: %q.", a)
		}
	}
	if strings.TrimSpace(m.Subject) == "" {
		return Invalid("subject", "A subject is required.")
	}
	if hasCRLF(m.Subject) {
		return Invalid("subject", "No line breaks allowed in the subject.")
	}
	if len(m.Subject) > MaxMailSubject {
		return Invalid("subject", "At most %d bytes.", MaxMailSubject)
	}
	if strings.TrimSpace(m.Text) == "" {
		return Invalid("text", "A text body is required.")
	}
	if len(m.Text) > MaxMailBody {
		return Invalid("text", "At most %d bytes.", MaxMailBody)
	}
	if len(m.HTML) > MaxMailBody {
		return Invalid("html", "At most %d bytes.", MaxMailBody)
	}
	switch m.Language {
	case "", LangDE, LangEN:
	default:
		return Invalid("language", "Must be de or en.")
	}
	for k, v := range m.Headers {
		f := "headers." + k
		if !allowedMailHeaders[k] {
			return Invalid(f, "Header not allowed; allowed are Message-ID, In-Reply-To, References, Auto-Submitted, Precedence, Reply-To, X-Auto-Response-Suppress.")
		}
		if hasCRLF(v) {
			return Invalid(f, "No line breaks allowed in a header (header injection).")
		}
		if len(v) > MaxMailHeader {
			return Invalid(f, "At most %d bytes.", MaxMailHeader)
		}
	}
	return nil
}

// MailBackoff returns how long to wait before the next try after the
// given number of failed attempts (1 after the first failure): one
// minute, doubling, at most six hours.
func MailBackoff(attempts int) time.Duration {
	d := MailBackoffFirst
	for i := 1; i < attempts; i++ {
		d *= 2
		if d >= MailBackoffMax {
			return MailBackoffMax
		}
	}
	return d
}

// MailFilter selects outbox messages for operators.
type MailFilter struct {
	AuthorityID int64  // 0: all the scope may see
	Status      string // "": every status
	Limit       int    // 0: 100
}

// Outbox is the durable queue of outbound mail. Enqueue is idempotent by
// DedupeKey: a message whose key is already queued (in any status) is not
// queued again and Enqueue reports false. Claim hands due messages to one
// dispatcher only, marking them sending with a lease until now+lease; a
// message whose lease ran out is due again (the sender crashed).
type Outbox interface {
	EnqueueMail(ctx context.Context, m *OutboundMail) (bool, error)
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*OutboundMail, error)
	MarkMailSent(ctx context.Context, id int64, now time.Time) error
	// MarkMailFailed records a failed attempt: queued again after
	// MailBackoff(attempts), or failed for good when permanent is set or
	// the attempts reach MaxMailAttempts. reason must carry no secrets.
	MarkMailFailed(ctx context.Context, id int64, now time.Time, reason string, permanent bool) error
	FindMail(ctx context.Context, s Scope, f MailFilter) ([]*OutboundMail, error)
}
