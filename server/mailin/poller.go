package mailin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"golang.org/x/oauth2"

	"github.com/schulit/cmdb/server/cmdb"
)

// Security is how the connection to the IMAP server is protected.
type Security string

// Connection security modes.
const (
	// SecurityTLS: implicit TLS (port 993).
	SecurityTLS Security = "tls"
	// SecurityStartTLS: plain connection upgraded with STARTTLS (port 143);
	// the poll fails when the server does not offer it.
	SecurityStartTLS Security = "starttls"
)

// Auth is how the poller signs in.
type Auth string

// Sign-in methods.
const (
	// AuthPassword: LOGIN with Username and Password.
	AuthPassword Auth = "password"
	// AuthXOAUTH2: SASL XOAUTH2 with Username and an access token from
	// TokenSource (Microsoft 365, Google Workspace).
	AuthXOAUTH2 Auth = "xoauth2"
)

// Default folders mail is filed into; "/" is replaced by the server's
// hierarchy delimiter.
const (
	DefaultProcessedFolder = "cmdb/processed"
	DefaultDroppedFolder   = "cmdb/dropped"
	DefaultFailedFolder    = "cmdb/failed"
	DefaultMaxPerPoll      = 50
)

// Config is one intake mailbox.
type Config struct {
	// Addr is host:port of the IMAP server.
	Addr     string
	Security Security
	// TLSConfig is optional; ServerName defaults to Addr's host.
	TLSConfig *tls.Config
	Auth      Auth
	Username  string
	// Password is used with AuthPassword; never logged.
	Password cmdb.Secret
	// TokenSource yields access tokens for AuthXOAUTH2 (e.g. an
	// oauth2/clientcredentials Config's TokenSource for Microsoft 365).
	TokenSource oauth2.TokenSource
	// Mailbox is the folder polled; default INBOX.
	Mailbox string
	// Folders for filed mail; defaults are the Default*Folder constants.
	ProcessedFolder, DroppedFolder, FailedFolder string
	// OwnAddresses are the addresses of this mailbox; mail from them is a
	// loop. Default: Username when it is an address.
	OwnAddresses []string
	// MaxPerPoll bounds the messages handled in one poll; default 50.
	MaxPerPoll int
	// Timeout bounds dialling and the TLS handshake; default 30 s. Each
	// later server response is bounded by go-imap (30 s) and by ctx.
	Timeout time.Duration
}

// Validate reports the first missing or wrong setting as EINVALID naming
// the field.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return cmdb.Invalid("addr", "must be host:port")
	}
	switch c.Security {
	case SecurityTLS, SecurityStartTLS:
	default:
		return cmdb.Invalid("security", "must be tls or starttls")
	}
	if c.Username == "" {
		return cmdb.Invalid("username", "is required")
	}
	switch c.Auth {
	case AuthPassword, "":
		if c.Password.Reveal() == "" {
			return cmdb.Invalid("password", "is required for password sign-in")
		}
	case AuthXOAUTH2:
		if c.TokenSource == nil {
			return cmdb.Invalid("token_source", "is required for xoauth2 sign-in")
		}
	default:
		return cmdb.Invalid("auth", "must be password or xoauth2")
	}
	if c.MaxPerPoll < 0 {
		return cmdb.Invalid("max_per_poll", "must not be negative")
	}
	return nil
}

func (c Config) withDefaults() Config {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&c.Mailbox, "INBOX")
	def(&c.ProcessedFolder, DefaultProcessedFolder)
	def(&c.DroppedFolder, DefaultDroppedFolder)
	def(&c.FailedFolder, DefaultFailedFolder)
	if c.Auth == "" {
		c.Auth = AuthPassword
	}
	if c.MaxPerPoll == 0 {
		c.MaxPerPoll = DefaultMaxPerPoll
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if len(c.OwnAddresses) == 0 && strings.Contains(c.Username, "@") {
		c.OwnAddresses = []string{c.Username}
	}
	for i, a := range c.OwnAddresses {
		c.OwnAddresses[i] = strings.ToLower(a)
	}
	return c
}

// Poller reads one intake mailbox.
type Poller struct {
	cfg    Config
	intake cmdb.MailIntake
	log    *slog.Logger
}

// NewPoller returns a poller for cfg that hands mail to intake. It returns
// EINVALID when cfg is incomplete.
func NewPoller(cfg Config, intake cmdb.MailIntake, log *slog.Logger) (*Poller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	cfg.OwnAddresses = append([]string(nil), cfg.OwnAddresses...)
	return &Poller{cfg: cfg.withDefaults(), intake: intake, log: log.With("mailbox", cfg.Username)}, nil
}

// Stats counts what one poll did.
type Stats struct {
	// Processed: taken by MailIntake and filed as processed.
	Processed int
	// Dropped: auto-replies, bounces, loops and replies to closed tickets.
	Dropped int
	// Failed: malformed or refused as invalid; kept aside in the failed
	// folder.
	Failed int
	// Retry: MailIntake failed; left unseen in the mailbox.
	Retry int
}

// Run polls every interval until ctx ends, logging failed polls, and
// returns ctx's error.
func (p *Poller) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if st, err := p.Poll(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.log.Error("mail poll failed", "err", err)
		} else if st != (Stats{}) {
			p.log.Info("mail poll", "processed", st.Processed, "dropped", st.Dropped, "failed", st.Failed, "retry", st.Retry)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Poll connects once, handles up to MaxPerPoll unseen messages of the
// mailbox, files each one (marked \Seen and moved to its folder) and
// disconnects. A message whose intake failed stays unseen in the mailbox.
// The error reports a failure to talk to the server; it never contains the
// password or token.
func (p *Poller) Poll(ctx context.Context) (Stats, error) {
	var st Stats
	c, stop, err := p.connect(ctx)
	if err != nil {
		return st, err
	}
	defer func() {
		stop()
		c.Logout().Wait()
		c.Close()
	}()

	folders, err := p.ensureFolders(c)
	if err != nil {
		return st, err
	}
	if _, err := c.Select(p.cfg.Mailbox, nil).Wait(); err != nil {
		return st, fmt.Errorf("mailin: select %s: %w", p.cfg.Mailbox, err)
	}
	data, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil {
		return st, fmt.Errorf("mailin: search unseen: %w", err)
	}
	uids := data.AllUIDs()
	if len(uids) > p.cfg.MaxPerPoll {
		uids = uids[:p.cfg.MaxPerPoll]
	}
	for _, uid := range uids {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if err := p.handle(ctx, c, uid, folders, &st); err != nil {
			return st, err
		}
	}
	return st, nil
}

// handle reads, classifies and files one message. Its error is a failure
// of the connection; a failing intake only counts as Retry.
func (p *Poller) handle(ctx context.Context, c *imapclient.Client, uid imap.UID, folders map[string]string, st *Stats) error {
	log := p.log.With("uid", uid)
	// Ask the size first, so that an oversized mail is never downloaded.
	msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{RFC822Size: true}).Collect()
	if err != nil {
		return fmt.Errorf("mailin: fetch size of uid %d: %w", uid, err)
	}
	if len(msgs) == 0 {
		return nil // expunged meanwhile
	}
	if size := msgs[0].RFC822Size; size > MaxMailBytes {
		log.Warn("malformed mail kept aside", "folder", p.cfg.FailedFolder, "err", fmt.Sprintf("message of %d bytes, more than %d", size, MaxMailBytes))
		st.Failed++
		return p.file(c, uid, folders[p.cfg.FailedFolder])
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err = c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return fmt.Errorf("mailin: fetch uid %d: %w", uid, err)
	}
	if len(msgs) == 0 {
		return nil
	}
	raw := msgs[0].FindBodySection(section)
	m, perr := Parse(raw, Options{OwnAddresses: p.cfg.OwnAddresses})
	log = log.With("message_id", m.MessageID, "from", m.FromAddress)
	var folder string
	switch {
	case perr != nil:
		log.Warn("malformed mail kept aside", "folder", p.cfg.FailedFolder, "err", perr)
		folder, st.Failed = p.cfg.FailedFolder, st.Failed+1
	case m.Class.Kind == cmdb.MailDrop:
		log.Info("mail dropped", "reason", m.Class.DropReason, "detail", m.Class.Detail)
		folder, st.Dropped = p.cfg.DroppedFolder, st.Dropped+1
	default:
		err := p.intake.Intake(ctx, m)
		switch cmdb.ErrorCode(err) {
		case "":
			log.Info("mail taken", "kind", m.Class.Kind, "ticket", m.Class.TicketNumber)
			folder, st.Processed = p.cfg.ProcessedFolder, st.Processed+1
		case cmdb.ECONFLICT:
			log.Info("mail dropped", "reason", cmdb.DropClosed, "ticket", m.Class.TicketNumber)
			folder, st.Dropped = p.cfg.DroppedFolder, st.Dropped+1
		case cmdb.EINVALID:
			log.Warn("mail refused, kept aside", "folder", p.cfg.FailedFolder, "field", cmdb.ErrorField(err), "err", cmdb.ErrorMessage(err))
			folder, st.Failed = p.cfg.FailedFolder, st.Failed+1
		default:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			log.Error("mail intake failed, retried next poll", "err", err)
			st.Retry++
			return nil
		}
	}
	return p.file(c, uid, folders[folder])
}

// file marks a message seen and moves it into folder.
func (p *Poller) file(c *imapclient.Client, uid imap.UID, folder string) error {
	set := imap.UIDSetNum(uid)
	if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		return fmt.Errorf("mailin: mark uid %d seen: %w", uid, err)
	}
	if _, err := c.Move(set, folder).Wait(); err != nil {
		return fmt.Errorf("mailin: move uid %d to %s: %w", uid, folder, err)
	}
	return nil
}

// ensureFolders creates the filing folders that are missing and returns
// the configured names mapped to the server's spelling (its hierarchy
// delimiter in place of "/").
func (p *Poller) ensureFolders(c *imapclient.Client) (map[string]string, error) {
	delim := '/'
	if l, err := c.List("", "", nil).Collect(); err == nil && len(l) > 0 && l[0].Delim != 0 {
		delim = l[0].Delim
	}
	out := make(map[string]string)
	for _, name := range []string{p.cfg.ProcessedFolder, p.cfg.DroppedFolder, p.cfg.FailedFolder} {
		server := strings.ReplaceAll(name, "/", string(delim))
		out[name] = server
		l, err := c.List("", server, nil).Collect()
		if err != nil {
			return nil, fmt.Errorf("mailin: list %s: %w", server, err)
		}
		if len(l) > 0 {
			continue
		}
		err = c.Create(server, nil).Wait()
		var ierr *imap.Error
		if err != nil && !(errors.As(err, &ierr) && ierr.Code == imap.ResponseCodeAlreadyExists) {
			return nil, fmt.Errorf("mailin: create %s: %w", server, err)
		}
	}
	return out, nil
}

// connect dials, secures and signs in. The IMAP client has no context:
// until stop is called, the end of ctx closes the connection, which
// unblocks whatever waits on the server. Each server response is bounded
// by go-imap's own read timeout (30 s).
func (p *Poller) connect(ctx context.Context) (c *imapclient.Client, stop func() bool, err error) {
	host, _, _ := net.SplitHostPort(p.cfg.Addr)
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if p.cfg.TLSConfig != nil {
		tlsConfig = p.cfg.TLSConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = host
	}
	dctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(dctx, "tcp", p.cfg.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("mailin: dial %s: %w", p.cfg.Addr, err)
	}
	stopClose := context.AfterFunc(ctx, func() { conn.Close() })
	defer func() {
		if err != nil {
			stopClose()
			err = fmt.Errorf("%w%s", err, ctxSuffix(ctx))
		}
	}()
	opts := &imapclient.Options{TLSConfig: tlsConfig}
	switch p.cfg.Security {
	case SecurityTLS:
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(dctx); err != nil {
			conn.Close()
			return nil, nil, fmt.Errorf("mailin: tls %s: %w", p.cfg.Addr, err)
		}
		c = imapclient.New(tc, opts)
	default:
		c, err = imapclient.NewStartTLS(conn, opts)
		if err != nil {
			conn.Close()
			return nil, nil, fmt.Errorf("mailin: starttls %s: %w", p.cfg.Addr, err)
		}
	}
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("mailin: greeting %s: %w", p.cfg.Addr, err)
	}
	switch p.cfg.Auth {
	case AuthXOAUTH2:
		tok, terr := p.cfg.TokenSource.Token()
		if terr != nil {
			c.Close()
			return nil, nil, fmt.Errorf("mailin: oauth2 token for %s: %w", p.cfg.Username, terr)
		}
		err = c.Authenticate(&xoauth2{user: p.cfg.Username, token: tok.AccessToken})
	default:
		err = c.Login(p.cfg.Username, p.cfg.Password.Reveal()).Wait()
	}
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("mailin: sign in as %s: %w", p.cfg.Username, err)
	}
	return c, stopClose, nil
}

// xoauth2 is the SASL XOAUTH2 mechanism (Google's and Microsoft's IMAP
// OAuth2 sign-in): one initial response carrying user and bearer token.
type xoauth2 struct{ user, token string }

func (x *xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

// Next answers the server's error challenge (a JSON status) with an empty
// response, after which the server fails the command.
func (x *xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }

// ctxSuffix names the end of ctx, so that a poll stopped by shutdown reads
// as such and not as a server failure.
func ctxSuffix(ctx context.Context) string {
	if err := ctx.Err(); err != nil {
		return " (" + err.Error() + ")"
	}
	return ""
}
