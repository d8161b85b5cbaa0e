package mailtest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"log"
	"net"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/schulit/cmdb/internal/syncbuf"
	"github.com/schulit/cmdb/internal/testcert"
)

// IMAP is go-imap's in-memory IMAP server on loopback with one user and
// an INBOX.
type IMAP struct {
	Addr string
	User *imapmemserver.User
	CAs  *x509.CertPool
	// Logs holds the server's log, to check that no secret reached it.
	Logs *syncbuf.Buffer
}

// IMAPOptions vary the server.
type IMAPOptions struct {
	ImplicitTLS bool // TLS from the first byte (993) instead of STARTTLS
	Rev1Only    bool // IMAP4rev1 only (no MOVE): clients fall back to COPY+EXPUNGE
	// Wrap, if set, wraps each session (e.g. to add a SASL mechanism).
	Wrap func(s imapserver.Session, u *imapmemserver.User) imapserver.Session
}

// StartIMAP starts the server for user with password; it stops when the
// test ends.
func StartIMAP(t testing.TB, user, password string, o IMAPOptions) *IMAP {
	t.Helper()
	cert, pool := testcert.New(t)
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(user, password)
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	caps := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}
	if o.Rev1Only {
		caps = imap.CapSet{imap.CapIMAP4rev1: {}}
	}
	logs := &syncbuf.Buffer{}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			s := imapserver.Session(mem.NewSession())
			if o.Wrap != nil {
				s = o.Wrap(s, u)
			}
			return s, nil, nil
		},
		Caps:      caps,
		TLSConfig: tlsConfig,
		Logger:    log.New(logs, "imapserver: ", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.ImplicitTLS {
		ln = tls.NewListener(ln, tlsConfig)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &IMAP{Addr: ln.Addr().String(), User: u, CAs: pool, Logs: logs}
}

// TLS returns a client TLS configuration that trusts the server.
func (s *IMAP) TLS() *tls.Config { return &tls.Config{RootCAs: s.CAs} }

type literal struct {
	*bytes.Reader
	n int64
}

func (l literal) Size() int64 { return l.n }

// Append puts a raw mail into the INBOX.
func (s *IMAP) Append(t testing.TB, raw []byte, flags ...imap.Flag) {
	t.Helper()
	if _, err := s.User.Append("INBOX", literal{bytes.NewReader(raw), int64(len(raw))}, &imap.AppendOptions{Flags: flags}); err != nil {
		t.Fatal(err)
	}
}

// Count returns the messages and the unseen messages of a folder.
func (s *IMAP) Count(t testing.TB, folder string) (total, unseen uint32) {
	t.Helper()
	st, err := s.User.Status(folder, &imap.StatusOptions{NumMessages: true, NumUnseen: true})
	if err != nil {
		t.Fatalf("status %s: %v", folder, err)
	}
	return *st.NumMessages, *st.NumUnseen
}
