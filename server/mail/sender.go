package mail

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/schulit/cmdb/server/cmdb"
)

// Sender delivers outbox messages to the configured relay.
type Sender struct {
	cfg Config
}

// NewSender validates cfg and returns a Sender for it.
func NewSender(cfg Config) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &Sender{cfg: cfg}, nil
}

// SendError is a failed delivery. Permanent ones (the relay answered 5xx,
// or the message is invalid) are not retried. Its text never contains the
// relay password.
type SendError struct {
	Permanent bool
	msg       string
}

// Error implements error.
func (e *SendError) Error() string { return e.msg }

// MessageID returns the stable Message-ID ("<hash@domain>") of the
// outbox message with dedupeKey sent from an address at domain: every
// retry of a message carries the same one, so that a receiver can drop a
// duplicate, and the ticket module can compute it to thread replies.
func MessageID(dedupeKey, domain string) string {
	h := sha256.Sum256([]byte(dedupeKey))
	return "<" + hex.EncodeToString(h[:12]) + ".cmdb@" + domain + ">"
}

// Send delivers one message. It sets From, Date, a Message-ID from the
// dedupe key unless the message has one, Auto-Submitted: auto-generated
// unless given (so that auto-replies do not loop back) and
// Content-Language.
func (s *Sender) Send(ctx context.Context, m *cmdb.OutboundMail) error {
	if err := m.Validate(); err != nil {
		return &SendError{Permanent: true, msg: "invalid message: " + err.Error()}
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return &SendError{Permanent: true, msg: "from: " + err.Error()}
	}
	if err := msg.To(m.To...); err != nil {
		return &SendError{Permanent: true, msg: "to: " + err.Error()}
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	hdr := map[string]string{
		"Message-ID":     MessageID(m.DedupeKey, s.cfg.fromDomain()),
		"Auto-Submitted": "auto-generated",
	}
	for k, v := range m.Headers {
		hdr[k] = v
	}
	for k, v := range hdr {
		if k == "Reply-To" {
			if err := msg.ReplyTo(v); err != nil {
				return &SendError{Permanent: true, msg: "reply-to: " + err.Error()}
			}
			continue
		}
		if k == "Message-ID" {
			msg.SetMessageIDWithValue(strings.Trim(v, "<>"))
			continue
		}
		// Validate refused line breaks, so the values go out as given.
		msg.SetGenHeaderPreformatted(gomail.Header(k), v)
	}
	lang := m.Language
	if lang == "" {
		lang = cmdb.LangDE
	}
	msg.SetGenHeader(gomail.HeaderContentLang, lang)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}

	c, err := s.client()
	if err != nil {
		return s.wrap(err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	return s.wrap(c.DialAndSendWithContext(ctx, msg))
}

func (s *Sender) client() (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithTimeout(s.cfg.Timeout)}
	tc := s.cfg.TLSConfig
	if tc == nil {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		tc = tc.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = s.cfg.Host
	}
	opts = append(opts, gomail.WithTLSConfig(tc))
	switch s.cfg.tlsMode() {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	}
	if s.cfg.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.User), gomail.WithPassword(s.cfg.Password.Reveal()))
	}
	// WithPort after WithSSL/WithTLSPolicy would be reset by them.
	opts = append(opts, gomail.WithPort(s.cfg.port()))
	return gomail.NewClient(s.cfg.Host, opts...)
}

// wrap turns a go-mail error into a SendError whose text carries no
// password (neither plain nor in the base64 forms of SASL PLAIN/LOGIN).
func (s *Sender) wrap(err error) error {
	if err == nil {
		return nil
	}
	permanent := false
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
		permanent = true
	}
	return &SendError{Permanent: permanent, msg: s.scrub(fmt.Sprintf("smtp %s:%d: %v", s.cfg.Host, s.cfg.port(), err))}
}

func (s *Sender) scrub(msg string) string {
	p := s.cfg.Password.Reveal()
	if p == "" {
		return msg
	}
	for _, v := range []string{
		p,
		base64.StdEncoding.EncodeToString([]byte(p)),
		base64.StdEncoding.EncodeToString([]byte("\x00" + s.cfg.User + "\x00" + p)),
	} {
		msg = strings.ReplaceAll(msg, v, "[redacted]")
	}
	return msg
}
