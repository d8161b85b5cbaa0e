// Package mail delivers the notification mail of the outbox (cmdb.Outbox)
// by SMTP and renders its German and English texts. A Dispatcher claims
// due messages, hands them to a Sender and marks them sent, or queued
// again with a backoff, or failed.
//
// Delivery is at least once: a replica that crashes after the relay
// accepted a message but before MarkMailSent leaves it "sending"; when its
// lease runs out another dispatcher sends it again — at most once more per
// crash, with the same Message-ID, so that receivers can drop the
// duplicate. Nothing else sends a message twice: claims use FOR UPDATE
// SKIP LOCKED and a lease longer than a send may take.
package mail

import (
	"crypto/tls"
	"net/mail"
	"strings"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// TLS modes of the relay connection.
const (
	// TLSNone: plain SMTP (only for a relay on the same host or network).
	TLSNone = "none"
	// TLSStartTLS: plain connection upgraded by STARTTLS, which is required.
	TLSStartTLS = "starttls"
	// TLSImplicit: TLS from the first byte ("SMTPS", port 465).
	TLSImplicit = "tls"
)

// Config are the relay settings.
type Config struct {
	Host string
	// Port 0 means the mode's usual port: 25 (none), 587 (starttls), 465 (tls).
	Port int
	// TLS is none, starttls or tls; empty means starttls.
	TLS      string
	User     string
	Password cmdb.Secret
	// From is the sender address, e.g. "Schul-IT <it@landkreis.example>".
	From string
	// Timeout bounds connecting and one SMTP exchange; 0 means 30 s.
	Timeout time.Duration
	// TLSConfig overrides the TLS settings (tests: a private root CA).
	// ServerName defaults to Host.
	TLSConfig *tls.Config
}

// Validate checks the settings and names the offending field. A password
// over a connection without TLS is refused: it would cross the wire in
// clear text.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.Host) == "" {
		return cmdb.Invalid("smtp.host", "The relay host is required.")
	}
	if strings.ContainsAny(c.Host, " \t\r\n/") {
		return cmdb.Invalid("smtp.host", "A host name or address, without spaces or slashes.")
	}
	if c.Port < 0 || c.Port > 65535 {
		return cmdb.Invalid("smtp.port", "Between 1 and 65535 (0: the mode's usual port).")
	}
	switch c.TLS {
	case "", TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return cmdb.Invalid("smtp.tls", "Must be none, starttls or tls.")
	}
	if (c.User == "") != (c.Password == "") {
		return cmdb.Invalid("smtp.user", "User and password are given together or not at all.")
	}
	if c.Password != "" && c.TLS == TLSNone {
		return cmdb.Invalid("smtp.tls", "A password is only sent over TLS (starttls or tls).")
	}
	if c.From == "" {
		return cmdb.Invalid("smtp.from", "The sender address is required.")
	}
	if strings.ContainsAny(c.From, "\r\n") {
		return cmdb.Invalid("smtp.from", "No line breaks allowed.")
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return cmdb.Invalid("smtp.from", "Not an e-mail address: %q.", c.From)
	}
	if c.Timeout < 0 {
		return cmdb.Invalid("smtp.timeout", "Must not be negative.")
	}
	return nil
}

func (c *Config) tlsMode() string {
	if c.TLS == "" {
		return TLSStartTLS
	}
	return c.TLS
}

func (c *Config) port() int {
	if c.Port != 0 {
		return c.Port
	}
	switch c.tlsMode() {
	case TLSNone:
		return 25
	case TLSImplicit:
		return 465
	}
	return 587
}

// fromDomain is the domain part of From, for Message-IDs.
func (c *Config) fromDomain() string {
	a, err := mail.ParseAddress(c.From)
	if err != nil {
		return "localhost"
	}
	if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
		return a.Address[i+1:]
	}
	return "localhost"
}
