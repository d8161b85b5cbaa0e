package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	cmdbmail "github.com/schulit/cmdb/server/mail"
	"github.com/schulit/cmdb/server/mailin"
	"github.com/schulit/cmdb/server/scheduler"
)

// MailConfig is the mail of serve and demo: the relay that notifications
// go out through, and one intake mailbox whose mail becomes tickets of an
// authority. Both are off until configured (CMDB_SMTP_HOST,
// CMDB_IMAP_ADDR).
type MailConfig struct {
	// SMTP is the relay; nil: no notifications are queued at all (an
	// outbox nobody empties would only grow).
	SMTP *cmdbmail.Config
	// IMAP is the intake mailbox of the authority with code IMAPAuthority,
	// polled every IMAPEvery on the elected replica; nil: no intake.
	IMAP          *mailin.Config
	IMAPAuthority string
	IMAPEvery     time.Duration
	// SendEvery is how often the outbox is looked at; 0: 10 s.
	SendEvery time.Duration
	// OAuth2 client credentials for an IMAP mailbox at Microsoft 365.
	oauthTenant, oauthClient string
	oauthSecret              cmdb.Secret
}

// mailEnv is the help text of the mail settings.
const mailEnv = `Mail (serve, demo), from the environment:
  CMDB_SMTP_HOST, CMDB_SMTP_PORT, CMDB_SMTP_TLS (starttls, tls or none),
  CMDB_SMTP_USER, CMDB_SMTP_PASSWORD, CMDB_SMTP_FROM ("Schul-IT <it@kreis.example>")
      the relay for ticket notifications; without CMDB_SMTP_HOST none are sent.
  CMDB_IMAP_ADDR (host:port), CMDB_IMAP_SECURITY (tls or starttls), CMDB_IMAP_USERNAME,
  CMDB_IMAP_PASSWORD, CMDB_IMAP_AUTHORITY (the authority's code), CMDB_IMAP_INTERVAL (1m)
      an intake mailbox whose mail opens tickets; for Microsoft 365 give
      CMDB_IMAP_OAUTH_TENANT, CMDB_IMAP_OAUTH_CLIENT_ID and CMDB_IMAP_OAUTH_CLIENT_SECRET
      instead of the password.
`

// mailConfigFromEnv reads the mail settings. A wrong one is an error that
// names its variable and the rule.
func mailConfigFromEnv(getenv func(string) string) (MailConfig, error) {
	var c MailConfig
	if host := getenv("CMDB_SMTP_HOST"); host != "" {
		s := &cmdbmail.Config{Host: host, TLS: getenv("CMDB_SMTP_TLS"), User: getenv("CMDB_SMTP_USER"),
			Password: cmdb.Secret(getenv("CMDB_SMTP_PASSWORD")), From: getenv("CMDB_SMTP_FROM")}
		if v := getenv("CMDB_SMTP_PORT"); v != "" {
			p, err := strconv.Atoi(v)
			if err != nil {
				return c, fmt.Errorf("CMDB_SMTP_PORT: must be a port number, not %q", v)
			}
			s.Port = p
		}
		if err := s.Validate(); err != nil {
			return c, envError("CMDB_", err)
		}
		c.SMTP = s
	}
	if addr := getenv("CMDB_IMAP_ADDR"); addr != "" {
		security := getenv("CMDB_IMAP_SECURITY")
		if security == "" {
			security = string(mailin.SecurityTLS)
		}
		in := &mailin.Config{Addr: addr, Security: mailin.Security(security), Username: getenv("CMDB_IMAP_USERNAME"),
			Password: cmdb.Secret(getenv("CMDB_IMAP_PASSWORD"))}
		c.oauthTenant, c.oauthClient = getenv("CMDB_IMAP_OAUTH_TENANT"), getenv("CMDB_IMAP_OAUTH_CLIENT_ID")
		c.oauthSecret = cmdb.Secret(getenv("CMDB_IMAP_OAUTH_CLIENT_SECRET"))
		if c.oauthTenant != "" || c.oauthClient != "" || c.oauthSecret != "" {
			if c.oauthTenant == "" || c.oauthClient == "" || c.oauthSecret == "" {
				return c, fmt.Errorf("CMDB_IMAP_OAUTH_TENANT, CMDB_IMAP_OAUTH_CLIENT_ID and CMDB_IMAP_OAUTH_CLIENT_SECRET: give all three or none")
			}
			in.Auth = mailin.AuthXOAUTH2
		}
		c.IMAPAuthority = getenv("CMDB_IMAP_AUTHORITY")
		if c.IMAPAuthority == "" {
			return c, fmt.Errorf("CMDB_IMAP_AUTHORITY: the code of the authority whose tickets the mailbox opens is required")
		}
		c.IMAPEvery = time.Minute
		if v := getenv("CMDB_IMAP_INTERVAL"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Second {
				return c, fmt.Errorf("CMDB_IMAP_INTERVAL: must be a duration of at least 1s such as 1m, not %q", v)
			}
			c.IMAPEvery = d
		}
		if in.Auth != mailin.AuthXOAUTH2 {
			if err := in.Validate(); err != nil {
				return c, envError("CMDB_IMAP_", err)
			}
		}
		c.IMAP = in
	}
	return c, nil
}

// envError names the environment variable of a settings error: field
// "smtp.host" with prefix "CMDB_" is CMDB_SMTP_HOST.
func envError(prefix string, err error) error {
	name := prefix + strings.ToUpper(strings.NewReplacer(".", "_").Replace(cmdb.ErrorField(err)))
	return fmt.Errorf("%s: %s", name, cmdb.ErrorMessage(err))
}

// composer returns what the store needs to queue notifications, nil
// without a relay.
func (m *Main) composer() cmdb.MailComposer {
	s := m.Config.Mail.SMTP
	if s == nil {
		return nil
	}
	base := strings.TrimRight(m.Config.PublicURL, "/")
	if base == "" && m.ln != nil {
		base = "http://" + m.ln.Addr().String()
	}
	c := cmdbmail.Composer{BaseURL: base, Domain: s.MessageDomain()}
	if in := m.Config.Mail.IMAP; in != nil && strings.Contains(in.Username, "@") {
		c.ReplyTo = in.Username // replies reach the intake even when From is another address
	}
	return c
}

// startMail starts the outbox dispatcher (on every replica: claims never
// hand one message to two) and schedules the intake mailbox's poll on s
// (the elected replica only).
func (m *Main) startMail(ctx context.Context, s *scheduler.Scheduler) error {
	c := &m.Config.Mail
	if c.SMTP != nil {
		sender, err := cmdbmail.NewSender(*c.SMTP)
		if err != nil {
			return envError("CMDB_", err)
		}
		dctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		d := &cmdbmail.Dispatcher{Outbox: m.db, Sender: sender, Log: m.log, Interval: c.SendEvery}
		go func() { defer wg.Done(); d.Run(dctx) }()
		m.stopMail = func() { cancel(); wg.Wait() }
		m.log.Info("mail notifications on", "relay", c.SMTP.Host)
	}
	if c.IMAP == nil {
		return nil
	}
	var authority *cmdb.Authority
	as, err := m.db.FindAuthorities(ctx, cmdb.AdminScope("mail"))
	if err != nil {
		return err
	}
	for _, a := range as {
		if strings.EqualFold(a.Code, c.IMAPAuthority) {
			authority = a
		}
	}
	if authority == nil {
		return fmt.Errorf("CMDB_IMAP_AUTHORITY: no authority has the code %q", c.IMAPAuthority)
	}
	cfg := *c.IMAP
	if cfg.Auth == mailin.AuthXOAUTH2 {
		ts, err := mailin.ClientCredentialsTokenSource(context.Background(), mailin.MicrosoftTokenURL(c.oauthTenant), c.oauthClient,
			c.oauthSecret, "https://outlook.office365.com/.default")
		if err != nil {
			return fmt.Errorf("CMDB_IMAP_OAUTH_*: %w", err)
		}
		cfg.TokenSource = ts
	}
	p, err := mailin.NewPoller(cfg, m.db.MailIntake(authority.ID), m.log)
	if err != nil {
		return envError("CMDB_IMAP_", err)
	}
	m.log.Info("mail intake on", "mailbox", cfg.Username, "authority", authority.Code, "every", c.IMAPEvery)
	return s.Every("mail-intake", c.IMAPEvery, func(ctx context.Context) {
		st, err := p.Poll(ctx)
		if err != nil {
			m.log.Error("mail intake", "err", err)
		} else if st != (mailin.Stats{}) {
			m.log.Info("mail intake", "processed", st.Processed, "dropped", st.Dropped, "failed", st.Failed, "retry", st.Retry)
		}
	})
}
