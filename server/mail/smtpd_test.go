package mail_test

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

// received is one message the test relay accepted.
type received struct {
	From string
	To   []string
	Data string
}

// relay is a real SMTP server on loopback (emersion/go-smtp) that
// requires STARTTLS (or runs implicit TLS) and AUTH PLAIN, and records
// what it accepts. fail, while > 0, makes DATA answer 451 and counts down;
// reject makes RCPT answer 550.
type relay struct {
	Addr string
	Port int
	CAs  *x509.CertPool

	user, pass string
	mu         sync.Mutex
	msgs       []received
	fail       int
	reject     bool
	authFails  int
}

func (r *relay) messages() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.msgs...)
}

func (r *relay) setFail(n int) { r.mu.Lock(); r.fail = n; r.mu.Unlock() }

// startRelay starts the relay; implicit selects TLS from the first byte
// instead of STARTTLS.
func startRelay(t *testing.T, user, pass string, implicit bool) *relay {
	t.Helper()
	cert, pool := testcert.New(t)
	r := &relay{CAs: pool, user: user, pass: pass}
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
	r      *relay
	authed bool
	cur    received
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
	s.cur = received{From: from}
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

func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }

// closedPort returns a loopback port nobody listens on: a relay that is down.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}
