// Package pjlinktest runs an emulated PJLink projector on 127.0.0.1 for
// tests, in the manner of net/http/httptest. It speaks class 1 and class
// 2, with or without the MD5 password, and can be told to misbehave.
package pjlinktest

import (
	"bufio"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// Projector is the state of the emulated projector and the faults it
// injects. The server copies it at start; it is not changed afterwards.
type Projector struct {
	Class    int    // 1 or 2; 0 means 1
	Password string // "" means no authentication
	Power    int    // 0 off, 1 on, 2 cooling, 3 warm-up
	Lamps    []Lamp // nil: LAMP is answered ERR1, as on a laser projector
	ERST     string // six digits 0/1/2 (fan, lamp, temperature, cover, filter, other); "" means "000000"

	Manufacturer, Model, Name string // INF1, INF2, NAME
	Serial, SoftwareVersion   string // SNUM, SVER (class 2 only)

	// Greeting, when set, is sent verbatim (no CR added) instead of the
	// real greeting. Leave Password empty with it: the server checks a
	// digest against the random number of the greeting it did not send.
	Greeting string
	// RejectAuth answers every digest, right or wrong, with PJLINK ERRA.
	RejectAuth bool
	// Replies replaces the body of the answer to a command, keyed by the
	// four letters: {"LAMP": "ERR3"} answers "%1LAMP=ERR3".
	Replies map[string]string
	// RawReplies replaces the whole answer to a command with these bytes,
	// sent verbatim (no CR added).
	RawReplies map[string]string
	// Silent accepts connections and never sends a byte.
	Silent bool
	// StallAt names a command the projector reads and never answers.
	StallAt string
	// Delay is waited before every answer.
	Delay time.Duration
	// CloseAfter closes the connection after this many answers; 0 never.
	CloseAfter int
}

// Lamp is one lamp of the emulated projector.
type Lamp struct {
	Hours int
	On    bool
}

// Server is a running emulated projector.
type Server struct {
	// Addr is host:port of the listener, e.g. "127.0.0.1:40123".
	Addr string

	p    Projector
	ln   net.Listener
	done chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	accepted int
	received []string
	closed   bool
}

// NewServer starts an emulated projector on 127.0.0.1 with a free port.
// It panics if it cannot listen, like httptest.NewServer. Call Close.
func NewServer(p Projector) *Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("pjlinktest: listen: %v", err))
	}
	if p.Class == 0 {
		p.Class = 1
	}
	if p.ERST == "" {
		p.ERST = "000000"
	}
	s := &Server{Addr: ln.Addr().String(), p: p, ln: ln, done: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.serve()
	return s
}

// Close stops the listener, drops open connections and waits for their
// handlers to return.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	_ = s.ln.Close()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Connections returns how many connections the server has accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Received returns the lines received so far, without the CR and with
// any authentication digest still in front.
func (s *Server) Received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.received...)
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.accepted++
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.handle(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			_ = c.Close()
		}()
	}
}

func (s *Server) handle(c net.Conn) {
	p := &s.p
	if p.Silent {
		_, _ = io.Copy(io.Discard, c) // until the client or Close hangs up
		return
	}
	var random string
	greeting := "PJLINK 0\r"
	if p.Password != "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		random = hex.EncodeToString(b)
		greeting = "PJLINK 1 " + random + "\r"
	}
	if p.Greeting != "" {
		greeting = p.Greeting
	}
	if _, err := io.WriteString(c, greeting); err != nil {
		return
	}

	r := bufio.NewReader(c)
	authed := p.Password == ""
	answers := 0
	for {
		line, err := r.ReadString('\r')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(line, "\r")
		s.mu.Lock()
		s.received = append(s.received, line)
		s.mu.Unlock()

		if !authed {
			sum := md5.Sum([]byte(random + p.Password))
			want := hex.EncodeToString(sum[:])
			if p.RejectAuth || len(line) < len(want) || line[:len(want)] != want {
				_, _ = io.WriteString(c, "PJLINK ERRA\r")
				return
			}
			line = line[len(want):]
			authed = true
		}

		cmd, answer := s.answer(line)
		if cmd != "" && cmd == p.StallAt {
			_, _ = io.Copy(io.Discard, r)
			return
		}
		if p.Delay > 0 {
			select {
			case <-time.After(p.Delay):
			case <-s.done:
				return
			}
		}
		if _, err := io.WriteString(c, answer); err != nil {
			return
		}
		answers++
		if p.CloseAfter > 0 && answers >= p.CloseAfter {
			return
		}
	}
}

// answer returns the command named in line and the full answer to send.
func (s *Server) answer(line string) (cmd, answer string) {
	p := &s.p
	if len(line) < 6 || line[0] != '%' || (line[1] != '1' && line[1] != '2') {
		return "", "%1" + "XXXX" + "=ERR1\r"
	}
	class, cmd, param := line[1], line[2:6], strings.TrimPrefix(line[6:], " ")
	if raw, ok := p.RawReplies[cmd]; ok {
		return cmd, raw
	}
	head := "%" + string(class) + cmd + "="
	if body, ok := p.Replies[cmd]; ok {
		return cmd, head + body + "\r"
	}
	if param != "?" {
		return cmd, head + "ERR2\r"
	}
	return cmd, head + s.body(class, cmd) + "\r"
}

func (s *Server) body(class byte, cmd string) string {
	p := &s.p
	if class == '2' {
		if p.Class < 2 {
			return "ERR1"
		}
		switch cmd {
		case "SNUM":
			return p.Serial
		case "SVER":
			return p.SoftwareVersion
		}
		return "ERR1" // the class 1 commands asked here exist only as %1
	}
	switch cmd {
	case "POWR":
		return fmt.Sprint(p.Power)
	case "LAMP":
		if len(p.Lamps) == 0 {
			return "ERR1"
		}
		parts := make([]string, 0, 2*len(p.Lamps))
		for _, l := range p.Lamps {
			on := "0"
			if l.On {
				on = "1"
			}
			parts = append(parts, fmt.Sprint(l.Hours), on)
		}
		return strings.Join(parts, " ")
	case "ERST":
		return p.ERST
	case "INF1":
		return p.Manufacturer
	case "INF2":
		return p.Model
	case "NAME":
		return p.Name
	case "INFO":
		return "" // other information; nothing to tell
	case "CLSS":
		return fmt.Sprint(p.Class)
	}
	return "ERR1"
}
