// Package pjlink reads the state of a projector over PJLink (TCP port
// 4352), class 1 and class 2, with or without the MD5 password.
//
// Query opens one connection, authenticates if the projector asks for it
// (the first command carries md5hex(random + password)), and asks, in
// order: CLSS, POWR, ERST, LAMP, INF1, INF2, NAME and, for class 2
// projectors, SNUM and SVER. A projector that closes the connection
// between commands is reconnected to, once per command.
package pjlink

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"time"
)

// DefaultPort is the PJLink TCP port.
const DefaultPort = "4352"

// DefaultTimeout bounds a whole Query when Options.Timeout is zero.
const DefaultTimeout = 3 * time.Second

// Options configure a Query.
type Options struct {
	// Password is the PJLink password; empty when the projector has none.
	// It is never logged: Options redacts it in String, GoString and
	// LogValue, and no error message contains it.
	Password string
	// Timeout bounds the whole exchange, connection included. Zero means
	// DefaultTimeout. The context's own deadline still applies.
	Timeout time.Duration
}

// String implements fmt.Stringer without revealing the password.
func (o Options) String() string {
	pw := ""
	if o.Password != "" {
		pw = "[REDACTED]"
	}
	return fmt.Sprintf("{Password:%s Timeout:%s}", pw, o.Timeout)
}

// GoString implements fmt.GoStringer without revealing the password.
func (o Options) GoString() string { return "pjlink.Options" + o.String() }

// LogValue implements slog.LogValuer without revealing the password.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("password_set", o.Password != ""),
		slog.Duration("timeout", o.Timeout),
	)
}

// Status is what a projector reported. Fields whose command the projector
// refused (see CommandErrors) or does not have keep their zero value.
type Status struct {
	Manufacturer    string `json:"manufacturer,omitempty"`     // INF1
	Model           string `json:"model,omitempty"`            // INF2
	Name            string `json:"name,omitempty"`             // NAME
	Serial          string `json:"serial,omitempty"`           // SNUM, class 2
	SoftwareVersion string `json:"software_version,omitempty"` // SVER, class 2
	// Class is the PJLink class (1 or 2); 0 when the projector refused CLSS.
	Class int `json:"class,omitempty"`
	// Power is off, on, cooling, warmup or unknown.
	Power string `json:"power"`
	// Lamps lists the lamps in projector order; nil when the projector
	// refused LAMP, as lamp-less (laser, LED) projectors do with ERR1.
	Lamps []Lamp `json:"lamps,omitempty"`
	// Errors maps fan, lamp, temperature, cover, filter and other to ok,
	// warning or error; nil when the projector refused ERST.
	Errors map[string]string `json:"errors,omitempty"`
	// CommandErrors lists the commands the projector answered with
	// ERR1–ERR4, in the order asked.
	CommandErrors []*CommandError `json:"command_errors,omitempty"`
}

// Lamp is one lamp: its hours of use and whether it is lit.
type Lamp struct {
	Hours int  `json:"hours"`
	On    bool `json:"on"`
}

// Query connects to the projector at addr (host or host:port; the port
// defaults to 4352) and reads its status.
//
// Errors: ErrUnreachable when no connection can be made; ErrAuth for a
// wrong or missing password; ErrProtocol for a reply that is not PJLink;
// context.DeadlineExceeded or context.Canceled when the exchange did not
// finish in time. Errors after the greeting name the command, e.g.
// "pjlink.Query 10.1.2.3:4352: LAMP: protocol error: …". A projector's
// ERR1–ERR4 replies are not errors of Query: see Status.CommandErrors.
func Query(ctx context.Context, addr string, opts Options) (*Status, error) {
	var d net.Dialer
	return query(ctx, addr, opts, d.DialContext)
}

// dialFunc opens a connection; tests swap in in-memory pipes.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

func query(ctx context.Context, addr string, opts Options, dial dialFunc) (*Status, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	addr = withPort(addr)
	s := &session{ctx: ctx, addr: addr, password: opts.Password, dial: dial}
	defer s.close()
	if err := s.connect(); err != nil {
		return nil, fmt.Errorf("pjlink.Query %s: %w", addr, err)
	}

	st := &Status{Power: PowerUnknown}
	// get asks one command; ok is false when the projector refused it.
	get := func(class byte, cmd string) (body string, ok bool, err error) {
		body, err = s.ask(class, cmd)
		var ce *CommandError
		if errors.As(err, &ce) {
			st.CommandErrors = append(st.CommandErrors, ce)
			return "", false, nil
		} else if err != nil {
			return "", false, fmt.Errorf("pjlink.Query %s: %s: %w", addr, cmd, err)
		}
		return body, true, nil
	}
	// decode wraps a body decoding error with the command.
	decode := func(cmd string, err error) error {
		if err != nil {
			return fmt.Errorf("pjlink.Query %s: %s: %w", addr, cmd, err)
		}
		return nil
	}

	body, ok, err := get('1', "CLSS")
	if err != nil {
		return nil, err
	} else if ok {
		if st.Class, err = parseClass(body); err != nil {
			return nil, decode("CLSS", err)
		}
	}
	if body, ok, err = get('1', "POWR"); err != nil {
		return nil, err
	} else if ok {
		if st.Power, err = parsePower(body); err != nil {
			return nil, decode("POWR", err)
		}
	}
	if body, ok, err = get('1', "ERST"); err != nil {
		return nil, err
	} else if ok {
		if st.Errors, err = parseErrors(body); err != nil {
			return nil, decode("ERST", err)
		}
	}
	if body, ok, err = get('1', "LAMP"); err != nil {
		return nil, err
	} else if ok {
		if st.Lamps, err = parseLamps(body); err != nil {
			return nil, decode("LAMP", err)
		}
	}

	texts := []struct {
		class byte
		cmd   string
		dst   *string
	}{
		{'1', "INF1", &st.Manufacturer},
		{'1', "INF2", &st.Model},
		{'1', "NAME", &st.Name},
		{'2', "SNUM", &st.Serial},
		{'2', "SVER", &st.SoftwareVersion},
	}
	for _, t := range texts {
		if t.class == '2' && st.Class < 2 {
			continue
		}
		if body, ok, err = get(t.class, t.cmd); err != nil {
			return nil, err
		} else if ok {
			*t.dst = cleanText(body)
		}
	}
	return st, nil
}

// withPort adds DefaultPort to an address without one, bracketing bare
// IPv6 literals.
func withPort(addr string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	return net.JoinHostPort(strings.Trim(addr, "[]"), DefaultPort)
}

// session is one Query's connection to one projector.
type session struct {
	ctx      context.Context
	addr     string
	password string
	dial     dialFunc

	conn     net.Conn
	r        *bufio.Reader
	stop     func() bool // detaches the cancellation hook from conn
	digest   string      // prefixed to the next command, after an auth greeting
	answered int         // replies read on this connection
	line     []byte
}

// connect dials and reads the greeting.
func (s *session) connect() error {
	conn, err := s.dial(s.ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnreachable, s.netErr(err))
	}
	s.conn, s.answered, s.digest = conn, 0, ""
	s.r = bufio.NewReader(conn)
	if dl, ok := s.ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// A past deadline unblocks pending reads and writes on cancellation.
	s.stop = context.AfterFunc(s.ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })

	line, err := s.readLine()
	if err != nil {
		return fmt.Errorf("greeting: %w", s.netErr(err))
	}
	auth, random, err := parseGreeting(line)
	if err != nil {
		return err
	}
	if auth {
		if s.password == "" {
			return fmt.Errorf("%w: the projector requires a password", ErrAuth)
		}
		sum := md5.Sum([]byte(random + s.password))
		s.digest = hex.EncodeToString(sum[:])
	}
	return nil
}

func (s *session) close() {
	if s.conn == nil {
		return
	}
	s.stop()
	_ = s.conn.Close()
	s.conn = nil
}

// ask sends "%<class><cmd> ?" and returns the reply body. A *CommandError
// is returned for ERR1–ERR4. When the projector closed the connection
// after an earlier reply, ask reconnects once and asks again.
func (s *session) ask(class byte, cmd string) (string, error) {
	for retried := false; ; retried = true {
		if s.conn == nil {
			if err := s.connect(); err != nil {
				return "", err
			}
		}
		line, err := s.roundTrip(class, cmd)
		if err != nil {
			if !retried && s.answered > 0 && s.ctx.Err() == nil && closedByPeer(err) {
				s.close()
				continue
			}
			return "", s.netErr(err)
		}
		s.answered++

		rep, err := parseReply(line)
		if err != nil {
			return "", err
		}
		if rep.cmd != cmd {
			return "", protocolErr("reply for "+cmd, line)
		}
		if err := bodyError(cmd, rep.body); err != nil {
			return "", err
		}
		return rep.body, nil
	}
}

func (s *session) roundTrip(class byte, cmd string) (string, error) {
	msg := s.digest + "%" + string(class) + cmd + " ?\r"
	s.digest = ""
	if _, err := io.WriteString(s.conn, msg); err != nil {
		return "", err
	}
	return s.readLine()
}

// readLine reads up to a CR (or LF, for sloppy firmware), skipping empty
// lines such as the LF of a CR LF pair. io.EOF means the peer closed the
// connection before sending anything.
func (s *session) readLine() (string, error) {
	s.line = s.line[:0]
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			if err == io.EOF && len(s.line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		if c == '\r' || c == '\n' {
			if len(s.line) == 0 {
				continue
			}
			return string(s.line), nil
		}
		if len(s.line) >= maxLine {
			return "", protocolErr("line (too long)", string(s.line))
		}
		s.line = append(s.line, c)
	}
}

// netErr makes timeouts and cancellation recognisable with errors.Is
// (context.DeadlineExceeded, context.Canceled); the only deadline set on
// the connection is the context's.
func (s *session) netErr(err error) error {
	if cerr := s.ctx.Err(); cerr != nil {
		if errors.Is(err, cerr) {
			return err
		}
		return fmt.Errorf("%w: %w", cerr, err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return err
}

func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrClosedPipe)
}
