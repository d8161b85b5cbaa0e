// Package mailtest runs real mail servers on loopback for tests: an SMTP
// relay (emersion/go-smtp) that records what it accepts, and an IMAP
// server (go-imap's in-memory server) to poll. Both use TLS with a
// certificate made for the test.
package mailtest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/schulit/cmdb/internal/testcert"
)

// Received is one message the relay accepted; Data has LF line ends.
type Received struct {
	From string
	To   []string
	Data string
}

// Relay is an SMTP server on loopback that requires STARTTLS (or runs
// implicit TLS) and AUTH PLAIN, and records what it accepts.
type Relay struct {
	Addr string
	Port int
	CAs  *x509.CertPool

	user, pass string
	mu         sync.Mutex
	msgs       []Received
	fail       int
	reject     bool
	authFails  int
}

// Messages returns what the relay accepted so far.
func (r *Relay) Messages() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Received(nil), r.msgs...)
}

// SetFail makes the next n DATA commands answer 451 (try again later).
func (r *Relay) SetFail(n int) { r.mu.Lock(); r.fail = n; r.mu.Unlock() }

// SetReject makes RCPT answer 550 (no such user) while on.
func (r *Relay) SetReject(on bool) { r.mu.Lock(); r.reject = on; r.mu.Unlock() }

// AuthFails counts the failed AUTH attempts.
func (r *Relay) AuthFails() int { r.mu.Lock(); defer r.mu.Unlock(); return r.authFails }

// TLS returns a client TLS configuration that trusts the relay.
func (r *Relay) TLS() *tls.Config { return &tls.Config{RootCAs: r.CAs, MinVersion: tls.VersionTLS12} }

// StartRelay starts a relay taking user and pass; implicit selects TLS
// from the first byte instead of STARTTLS. It stops when the test ends.
func StartRelay(t testing.TB, user, pass string, implicit bool) *Relay {
	t.Helper()
	cert, pool := testcert.New(t)
	r := &Relay{CAs: pool, user: user, pass: pass}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{r: r}, nil
	}))
	s.Domain = "localhost"
	s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s.AllowInsecureAuth = false // AUTH only after TLS
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicit {
		l = tls.NewListener(l, s.TLSConfig)
	}
	r.Addr = "127.0.0.1"
	r.Port = l.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() { s.Serve(l); close(done) }()
	// Close the listener too: Close before Serve registered it would not.
	t.Cleanup(func() { s.Close(); l.Close(); <-done })
	return r
}

type session struct {
	r      *Relay
	authed bool
	cur    Received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.r.user || password != s.r.pass {
			s.r.mu.Lock()
			s.r.authFails++
			s.r.mu.Unlock()
			return errors.New("invalid username or password")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.cur = Received{From: from}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.mu.Lock()
	reject := s.r.reject
	s.r.mu.Unlock()
	if reject {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *session) Data(rd io.Reader) error {
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.fail > 0 {
		s.r.fail--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.cur.Data = strings.ReplaceAll(string(b), "\r\n", "\n")
	s.r.msgs = append(s.r.msgs, s.cur)
	return nil
}

func (s *session) Reset()        { s.cur = Received{} }
func (s *session) Logout() error { return nil }

// ClosedPort returns a loopback port nobody listens on: a relay that is down.
func ClosedPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}
