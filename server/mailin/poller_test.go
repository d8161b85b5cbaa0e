package mailin

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"golang.org/x/oauth2"

	"github.com/schulit/cmdb/internal/mailtest"
	"github.com/schulit/cmdb/internal/syncbuf"
	"github.com/schulit/cmdb/server/cmdb"
)

const (
	testUser     = "support@lkp.example"
	testPassword = "imap-pa55-Geheim!"
	testToken    = "m365-access-token-XYZ"
)

// testServer is the in-memory IMAP server of internal/mailtest.
type testServer struct {
	*mailtest.IMAP
}

type serverOpts struct {
	implicitTLS bool
	rev1Only    bool // no MOVE: the client falls back to COPY+EXPUNGE
	xoauth2     bool // accept SASL XOAUTH2 with testToken
}

func startServer(t *testing.T, o serverOpts) *testServer {
	t.Helper()
	opts := mailtest.IMAPOptions{ImplicitTLS: o.implicitTLS, Rev1Only: o.rev1Only}
	if o.xoauth2 {
		opts.Wrap = func(s imapserver.Session, u *imapmemserver.User) imapserver.Session {
			return &xoauth2Session{Session: s, user: u}
		}
	}
	return &testServer{mailtest.StartIMAP(t, testUser, testPassword, opts)}
}

func (s *testServer) config() Config {
	return Config{
		Addr: s.Addr, Security: SecurityStartTLS, TLSConfig: s.TLS(),
		Username: testUser, Password: cmdb.Secret(testPassword),
	}
}

func (s *testServer) appendMail(t *testing.T, raw []byte, flags ...imap.Flag) {
	t.Helper()
	s.Append(t, raw, flags...)
}

func (s *testServer) count(t *testing.T, folder string) (total, unseen uint32) {
	t.Helper()
	return s.Count(t, folder)
}

// recorder is a MailIntake that records mail and answers per ticket.
type recorder struct {
	mu     sync.Mutex
	got    []*cmdb.InboundMail
	closed map[string]bool // ticket numbers that are closed
	fail   error           // returned for every mail when set
}

func (r *recorder) Intake(_ context.Context, m *cmdb.InboundMail) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, m)
	if m.Class.Kind == cmdb.MailReply && r.closed[m.Class.TicketNumber] {
		return cmdb.Errorf(cmdb.ECONFLICT, "ticket %s is closed", m.Class.TicketNumber)
	}
	if len(m.Attachments) > 0 && m.Attachments[0].ContentType == "application/zip" {
		return cmdb.Invalid("attachments[0]", "must be an image or a PDF")
	}
	return nil
}

func (r *recorder) subjects() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.got {
		out = append(out, m.Subject)
	}
	return out
}

func testLogger() (*slog.Logger, *syncbuf.Buffer) {
	buf := &syncbuf.Buffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func TestPollFilesEveryMail(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	fixtures := []string{"plain.eml", "photo_pdf.eml", "html_only.eml", "umlauts.eml", "reply_msgid.eml",
		"reply_subject.eml", "outlook_autoreply.eml", "postfix_bounce.eml", "bulk.eml", "loop.eml", "malformed.eml"}
	for _, f := range fixtures {
		srv.appendMail(t, readFixture(t, f))
	}
	// A mail somebody already read stays where it is.
	srv.appendMail(t, []byte("From: x@schule.example\r\nSubject: read\r\n\r\nread\r\n"), imap.FlagSeen)

	rec := &recorder{closed: map[string]bool{"LKP-2026-00043": true}}
	logger, logs := testLogger()
	p, err := NewPoller(srv.config(), rec, logger)
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Poll(context.Background())
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	if want := (Stats{Processed: 5, Dropped: 5, Failed: 1}); st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}

	wantSubjects := []string{"Drucker im Lehrerzimmer druckt nicht", "Beamer Raum 204 zeigt kein Bild", "Laptop startet nicht",
		"Grüße aus Raum 102: WLAN gestört", "Re: Ihr Anliegen", "AW: [LKP-2026-00043] Beamer Raum 204"}
	if got := rec.subjects(); !slices.Equal(got, wantSubjects) {
		t.Errorf("intake got %q\nwant %q", got, wantSubjects)
	}
	if m := rec.got[1]; len(m.Attachments) != 2 || m.Attachments[1].ContentType != "application/pdf" {
		t.Errorf("photo mail attachments = %+v", m.Attachments)
	}
	if m := rec.got[4]; m.Class.Kind != cmdb.MailReply || m.Class.TicketNumber != "LKP-2026-00042" {
		t.Errorf("reply class = %+v", m.Class)
	}

	for folder, want := range map[string]uint32{"INBOX": 1, "cmdb/processed": 5, "cmdb/dropped": 5, "cmdb/failed": 1} {
		total, unseen := srv.count(t, folder)
		if total != want || unseen != 0 {
			t.Errorf("%s holds %d mails (%d unseen), want %d, all seen", folder, total, unseen, want)
		}
	}
	for _, want := range []string{"reason=auto_reply", "reason=bounce", "reason=loop", "reason=closed", "malformed mail kept aside"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs.String(), testPassword) || strings.Contains(srv.Logs.String(), testPassword) {
		t.Errorf("password in the logs:\n%s", logs)
	}

	// The next poll finds nothing new and hands nothing in again.
	if st, err := p.Poll(context.Background()); err != nil || st != (Stats{}) {
		t.Errorf("second poll = %+v, %v; want nothing", st, err)
	}
	if n := len(rec.subjects()); n != len(wantSubjects) {
		t.Errorf("intake called %d times after the second poll, want %d", n, len(wantSubjects))
	}
}

func TestPollFailingIntakeKeepsMailForNextPoll(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{rev1Only: true})
	srv.appendMail(t, readFixture(t, "plain.eml"))
	rec := &recorder{fail: errors.New("database unreachable")}
	logger, logs := testLogger()
	p, err := NewPoller(srv.config(), rec, logger)
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Poll(context.Background())
	if err != nil || st != (Stats{Retry: 1}) {
		t.Fatalf("poll with failing intake = %+v, %v; want one retry", st, err)
	}
	if total, unseen := srv.count(t, "INBOX"); total != 1 || unseen != 1 {
		t.Fatalf("INBOX holds %d (%d unseen), want the mail still unseen", total, unseen)
	}
	if !strings.Contains(logs.String(), "retried next poll") {
		t.Errorf("log lacks the failed intake:\n%s", logs)
	}

	rec.mu.Lock()
	rec.fail = nil
	rec.mu.Unlock()
	if st, err := p.Poll(context.Background()); err != nil || st != (Stats{Processed: 1}) {
		t.Fatalf("second poll = %+v, %v; want the mail processed", st, err)
	}
	if total, _ := srv.count(t, "INBOX"); total != 0 {
		t.Errorf("INBOX still holds %d mails", total)
	}
	if total, unseen := srv.count(t, "cmdb/processed"); total != 1 || unseen != 0 {
		t.Errorf("processed holds %d (%d unseen), want 1 seen", total, unseen)
	}
}

func TestPollInvalidMailKeptAside(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	zip := "From: a@schule.example\r\nSubject: zip\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n" +
		"Content-Type: text/plain\r\n\r\nsee zip\r\n--B\r\nContent-Type: application/pdf\r\n" +
		"Content-Disposition: attachment; filename=\"fake.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"UEsDBAoAAAAAAAAAIQAAAAAAAAAAAAAAAAAAAAAA\r\n--B--\r\n"
	srv.appendMail(t, []byte(zip))
	p, err := NewPoller(srv.config(), &recorder{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := p.Poll(context.Background()); err != nil || st != (Stats{Failed: 1}) {
		t.Fatalf("poll = %+v, %v; want the zip named .pdf refused", st, err)
	}
	if total, _ := srv.count(t, "cmdb/failed"); total != 1 {
		t.Errorf("failed holds %d, want 1", total)
	}
}

func TestPollWrongPasswordNeverShowsIt(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	cfg := srv.config()
	const wrong = "Falsches-Passwort-42"
	cfg.Password = cmdb.Secret(wrong)
	logger, logs := testLogger()
	p, err := NewPoller(cfg, &recorder{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// Run logs the failed poll and stops when ctx ends.
	go func() { done <- p.Run(ctx, time.Hour) }()
	deadline := time.After(time.Minute)
	for !strings.Contains(logs.String(), "mail poll failed") {
		select {
		case <-deadline:
			t.Fatal("no failed poll logged")
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
	_, perr := p.Poll(context.Background())
	if perr == nil || !strings.Contains(perr.Error(), "sign in as "+testUser) {
		t.Fatalf("Poll error = %v, want a sign-in failure", perr)
	}
	for _, s := range []string{perr.Error(), logs.String(), srv.Logs.String()} {
		if strings.Contains(s, wrong) {
			t.Errorf("password shown: %s", s)
		}
	}
}

func TestPollXOAUTH2OverImplicitTLS(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{implicitTLS: true, xoauth2: true, rev1Only: true})
	srv.appendMail(t, readFixture(t, "umlauts.eml"))
	cfg := srv.config()
	cfg.Security, cfg.Auth, cfg.Password = SecurityTLS, AuthXOAUTH2, ""
	cfg.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken})
	rec := &recorder{}
	logger, logs := testLogger()
	p, err := NewPoller(cfg, rec, logger)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := p.Poll(context.Background()); err != nil || st != (Stats{Processed: 1}) {
		t.Fatalf("poll = %+v, %v\n%s", st, err, srv.Logs)
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("token in the log:\n%s", logs)
	}

	cfg.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "expired"})
	p, _ = NewPoller(cfg, rec, logger)
	if _, err := p.Poll(context.Background()); err == nil || strings.Contains(err.Error(), "expired") {
		t.Errorf("poll with a bad token = %v, want a sign-in error without the token", err)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Addr: "imap.example:993", Security: SecurityTLS, Username: "u@x", Password: "p"}
	for field, c := range map[string]Config{
		"addr":         {Security: SecurityTLS, Username: "u", Password: "p"},
		"security":     {Addr: ok.Addr, Username: "u", Password: "p"},
		"username":     {Addr: ok.Addr, Security: SecurityTLS, Password: "p"},
		"password":     {Addr: ok.Addr, Security: SecurityTLS, Username: "u"},
		"token_source": {Addr: ok.Addr, Security: SecurityTLS, Username: "u", Auth: AuthXOAUTH2},
	} {
		if err := c.Validate(); cmdb.ErrorField(err) != field {
			t.Errorf("Validate %+v = %v, want field %s", c, err, field)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

// xoauth2Session adds SASL XOAUTH2 to the in-memory server's session, as
// Microsoft 365 offers it. It hides the IMAP4rev2 methods of the wrapped
// session, so the server must advertise IMAP4rev1 only.
type xoauth2Session struct {
	imapserver.Session
	user *imapmemserver.User
}

func (s *xoauth2Session) AuthenticateMechanisms() []string { return []string{"XOAUTH2"} }

func (s *xoauth2Session) Authenticate(mech string) (sasl.Server, error) {
	if mech != "XOAUTH2" {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "unsupported"}
	}
	return &xoauth2Server{sess: s}, nil
}

type xoauth2Server struct {
	sess   *xoauth2Session
	failed bool
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if x.failed {
		return nil, true, imapserver.ErrAuthFailed
	}
	if string(resp) != "user="+testUser+"\x01auth=Bearer "+testToken+"\x01\x01" {
		x.failed = true
		return []byte(`{"status":"401"}`), false, nil
	}
	// Sign the wrapped in-memory session in as the user.
	if err := x.sess.Login(testUser, testPassword); err != nil {
		return nil, true, err
	}
	return nil, true, nil
}

func TestPollIsBoundedAndStopsOnContext(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	for range 3 {
		srv.appendMail(t, readFixture(t, "plain.eml"))
	}
	cfg := srv.config()
	cfg.MaxPerPoll = 2
	rec := &recorder{}
	p, err := NewPoller(cfg, rec, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := p.Poll(context.Background()); err != nil || st != (Stats{Processed: 2}) {
		t.Fatalf("first poll = %+v, %v; want 2 of 3", st, err)
	}
	if total, unseen := srv.count(t, "INBOX"); total != 1 || unseen != 1 {
		t.Errorf("INBOX holds %d (%d unseen), want the third mail left", total, unseen)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Poll(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("poll with an ended context = %v, want context.Canceled", err)
	}
	if total, _ := srv.count(t, "INBOX"); total != 1 {
		t.Errorf("INBOX holds %d after a cancelled poll, want 1", total)
	}
}

func TestPollOfSilentServerStopsOnContext(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// Greet, read the client's STARTTLS, then fall silent: the client
		// now waits on the server, and only the end of ctx can stop it.
		io.WriteString(c, "* OK [CAPABILITY IMAP4rev1 STARTTLS] hello\r\n")
		if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.Contains(line, "STARTTLS") {
			t.Errorf("client sent %q, %v; want STARTTLS", line, err)
		}
		cancel()
		io.Copy(io.Discard, c)
	}()
	cfg := Config{Addr: ln.Addr().String(), Security: SecurityStartTLS, Username: testUser, Password: cmdb.Secret(testPassword)}
	p, err := NewPoller(cfg, &recorder{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Poll(ctx)
	if err == nil || !strings.Contains(err.Error(), "context canceled") || strings.Contains(err.Error(), testPassword) {
		t.Errorf("poll of a silent server = %v, want it ended by the context", err)
	}
}
