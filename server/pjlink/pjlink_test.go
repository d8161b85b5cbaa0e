package pjlink_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/pjlink"
	"github.com/schulit/cmdb/server/pjlink/pjlinktest"
)

// epson is a class 1 projector with two lamps and a warning.
var epson = pjlinktest.Projector{
	Class:        1,
	Power:        1,
	Lamps:        []pjlinktest.Lamp{{Hours: 1234, On: true}, {Hours: 99999, On: false}},
	ERST:         "010200",
	Manufacturer: "EPSON",
	Model:        "EB-685W",
	Name:         "Raum 104",
}

// sony is a class 2 laser projector: no lamp.
var sony = pjlinktest.Projector{
	Class:           2,
	Power:           3,
	ERST:            "000021",
	Manufacturer:    "SONY",
	Model:           "VPL-PHZ61",
	Name:            "Aula",
	Serial:          "7012345",
	SoftwareVersion: "1.200",
}

func start(t *testing.T, p pjlinktest.Projector) *pjlinktest.Server {
	t.Helper()
	s := pjlinktest.NewServer(p)
	t.Cleanup(s.Close)
	return s
}

func withPassword(p pjlinktest.Projector, pw string) pjlinktest.Projector {
	p.Password = pw
	return p
}

func TestQuery(t *testing.T) {
	t.Parallel()
	wantEpson := &pjlink.Status{
		Manufacturer: "EPSON", Model: "EB-685W", Name: "Raum 104", Class: 1, Power: "on",
		Lamps:  []pjlink.Lamp{{Hours: 1234, On: true}, {Hours: 99999, On: false}},
		Errors: map[string]string{"fan": "ok", "lamp": "warning", "temperature": "ok", "cover": "error", "filter": "ok", "other": "ok"},
	}
	wantSony := &pjlink.Status{
		Manufacturer: "SONY", Model: "VPL-PHZ61", Name: "Aula", Serial: "7012345", SoftwareVersion: "1.200",
		Class: 2, Power: "warmup",
		Errors:        map[string]string{"fan": "ok", "lamp": "ok", "temperature": "ok", "cover": "ok", "filter": "error", "other": "warning"},
		CommandErrors: []*pjlink.CommandError{{Command: "LAMP", Code: "ERR1"}},
	}
	tests := []struct {
		name      string
		projector pjlinktest.Projector
		password  string
		want      *pjlink.Status
	}{
		{"class 1, no password", epson, "", wantEpson},
		{"class 1, password", withPassword(epson, "geheim"), "geheim", wantEpson},
		{"class 1, password configured but projector open", epson, "unused", wantEpson},
		{"class 2, no password", sony, "", wantSony},
		{"class 2, password", withPassword(sony, "JBMIAProjectorLink"), "JBMIAProjectorLink", wantSony},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, tt.projector)
			got, err := pjlink.Query(t.Context(), s.Addr, pjlink.Options{Password: tt.password})
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Query =\n%+v\nwant\n%+v", got, tt.want)
			}

			// One connection; the digest rides on the first command only.
			if n := s.Connections(); n != 1 {
				t.Errorf("connections = %d, want 1", n)
			}
			lines := s.Received()
			for i, l := range lines {
				hasDigest := !strings.HasPrefix(l, "%")
				if want := i == 0 && tt.projector.Password != ""; hasDigest != want {
					t.Errorf("line %d %q: digest present = %v, want %v", i, l, hasDigest, want)
				}
			}
			wantCmds := "CLSS POWR ERST LAMP INF1 INF2 NAME"
			if tt.want.Class == 2 {
				wantCmds += " SNUM SVER"
			}
			var cmds []string
			for _, l := range lines {
				cmds = append(cmds, l[strings.IndexByte(l, '%')+2:][:4])
			}
			if got := strings.Join(cmds, " "); got != wantCmds {
				t.Errorf("commands = %s, want %s", got, wantCmds)
			}
		})
	}
}

func TestQueryAuthFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		projector pjlinktest.Projector
		password  string
	}{
		{"wrong password", withPassword(epson, "geheim"), "falsch"},
		{"no password configured", withPassword(epson, "geheim"), ""},
		{"projector rejects any digest", func() pjlinktest.Projector {
			p := withPassword(sony, "geheim")
			p.RejectAuth = true
			return p
		}(), "geheim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, tt.projector)
			st, err := pjlink.Query(t.Context(), s.Addr, pjlink.Options{Password: tt.password})
			if !errors.Is(err, pjlink.ErrAuth) {
				t.Fatalf("Query = %+v, %v; want ErrAuth", st, err)
			}
			if tt.password != "" && strings.Contains(err.Error(), tt.password) {
				t.Errorf("error %q reveals the password", err)
			}
		})
	}
}

func TestQueryCommandErrors(t *testing.T) {
	t.Parallel()
	p := epson
	p.Replies = map[string]string{"POWR": "ERR3", "LAMP": "ERR4", "ERST": "ERR2", "NAME": "ERR1"}
	s := start(t, p)
	st, err := pjlink.Query(t.Context(), s.Addr, pjlink.Options{})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	want := &pjlink.Status{
		Manufacturer: "EPSON", Model: "EB-685W", Class: 1, Power: "unknown",
		CommandErrors: []*pjlink.CommandError{
			{Command: "POWR", Code: "ERR3"}, {Command: "ERST", Code: "ERR2"},
			{Command: "LAMP", Code: "ERR4"}, {Command: "NAME", Code: "ERR1"},
		},
	}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("Query =\n%+v\nwant\n%+v", st, want)
	}
	sentinels := []error{pjlink.ErrUnavailableTime, pjlink.ErrOutOfParameter, pjlink.ErrProjectorFailure, pjlink.ErrUndefinedCommand}
	names := []string{"POWR: unavailable time (ERR3)", "ERST: out of parameter (ERR2)", "LAMP: projector failure (ERR4)", "NAME: undefined command (ERR1)"}
	for i, ce := range st.CommandErrors {
		if i < len(sentinels) && !errors.Is(ce, sentinels[i]) {
			t.Errorf("%v is not %v", ce, sentinels[i])
		}
		if i < len(names) && ce.Error() != names[i] {
			t.Errorf("Error() = %q, want %q", ce.Error(), names[i])
		}
	}
}

func TestQueryTimeout(t *testing.T) {
	t.Parallel()
	stalled := epson
	stalled.StallAt = "LAMP"
	slow := epson
	slow.Delay = 200 * time.Millisecond
	tests := []struct {
		name      string
		projector pjlinktest.Projector
	}{
		{"silent server", pjlinktest.Projector{Silent: true}},
		{"no answer to LAMP", stalled},
		{"slower than the timeout in total", slow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, tt.projector)

			// Options.Timeout bounds the whole exchange.
			begin := time.Now()
			_, err := pjlink.Query(t.Context(), s.Addr, pjlink.Options{Timeout: 300 * time.Millisecond})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Query = %v, want DeadlineExceeded", err)
			}
			if d := time.Since(begin); d > 5*time.Second {
				t.Errorf("Query took %v despite a 300ms timeout", d)
			}

			// So does the caller's context, cancelled without a deadline.
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(300*time.Millisecond, cancel)
			begin = time.Now()
			_, err = pjlink.Query(ctx, s.Addr, pjlink.Options{Timeout: 20 * time.Second})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Query = %v, want Canceled", err)
			}
			if d := time.Since(begin); d > 5*time.Second {
				t.Errorf("Query took %v after cancellation", d)
			}
		})
	}
}

func TestQueryUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	_, err = pjlink.Query(t.Context(), addr, pjlink.Options{})
	if !errors.Is(err, pjlink.ErrUnreachable) {
		t.Errorf("Query = %v, want ErrUnreachable", err)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name the address", err)
	}
}

// A projector that hangs up after every answer is reconnected to.
func TestQueryReconnects(t *testing.T) {
	t.Parallel()
	p := withPassword(sony, "geheim")
	p.CloseAfter = 1
	s := start(t, p)
	st, err := pjlink.Query(t.Context(), s.Addr, pjlink.Options{Password: "geheim"})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if st.Serial != "7012345" || st.Power != "warmup" {
		t.Errorf("Query = %+v", st)
	}
	if n, want := s.Connections(), len(s.Received()); n != want {
		t.Errorf("connections = %d, want one per command (%d)", n, want)
	}
}

func TestQueryGarbage(t *testing.T) {
	t.Parallel()
	greetings := []string{
		"HTTP/1.1 400 Bad Request\r\n\r\n",
		"PJLINK 2\r",
		"PJLINK 1 \r",
		"PJLINK 1 has spaces\r",
		"\x00\xff\xfe garbage \x1b[2J\r",
		strings.Repeat("A", 5000),
	}
	raw := []struct{ cmd, reply string }{
		{"CLSS", "%1CLSS=X\r"},
		{"CLSS", "%1POWR=1\r"}, // answer to another command
		{"POWR", "%1POWR=7\r"},
		{"POWR", "%1POWR\r"},
		{"POWR", "1\r"},
		{"ERST", "%1ERST=0000\r"},
		{"ERST", "%1ERST=00000x\r"},
		{"LAMP", "%1LAMP=100\r"},
		{"LAMP", "%1LAMP=abc 1\r"},
		{"LAMP", "%1LAMP=100 2\r"},
		{"LAMP", "%1LAMP=9999999999 1\r"},
		{"INF1", "%1inf1=x\r"},
		{"INF2", "\xff\xfe\xfd\r"},
		{"NAME", "%1NAME=" + strings.Repeat("x", 1000) + "\r"},
	}
	for i, g := range greetings {
		t.Run(fmt.Sprintf("greeting %d", i), func(t *testing.T) {
			t.Parallel()
			s := start(t, pjlinktest.Projector{Greeting: g})
			st, err := pjlink.Query(t.Context(), s.Addr, pjlink.Options{Timeout: 2 * time.Second})
			if !errors.Is(err, pjlink.ErrProtocol) {
				t.Errorf("Query = %+v, %v; want a protocol error", st, err)
			}
		})
	}
	for i, r := range raw {
		t.Run(fmt.Sprintf("reply %d %s", i, r.cmd), func(t *testing.T) {
			t.Parallel()
			p := epson
			p.RawReplies = map[string]string{r.cmd: r.reply}
			s := start(t, p)
			st, err := pjlink.Query(t.Context(), s.Addr, pjlink.Options{Timeout: 2 * time.Second})
			if !errors.Is(err, pjlink.ErrProtocol) {
				t.Fatalf("Query = %+v, %v; want a protocol error", st, err)
			}
			if !strings.Contains(err.Error(), r.cmd+":") {
				t.Errorf("error %q does not name %s", err, r.cmd)
			}
		})
	}
}

// Information strings are stored and shown: no control characters, valid
// UTF-8, no padding.
func TestQueryCleansText(t *testing.T) {
	t.Parallel()
	p := epson
	p.Replies = map[string]string{"NAME": "  Beamer\x07 Raum 1\xff  ", "INF1": "NEC\t"}
	s := start(t, p)
	st, err := pjlink.Query(t.Context(), s.Addr, pjlink.Options{})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if st.Name != "Beamer Raum 1\uFFFD" || st.Manufacturer != "NEC" {
		t.Errorf("Name %q, Manufacturer %q", st.Name, st.Manufacturer)
	}
}

// The password never leaves Options: not through fmt, not through slog.
func TestOptionsRedactsPassword(t *testing.T) {
	t.Parallel()
	o := pjlink.Options{Password: "s3cr3t-pw", Timeout: time.Second}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("poll", "opts", o)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("poll", "opts", &o)
	out := fmt.Sprintf("%v %+v %#v %s", o, o, o, &o) + buf.String()
	if strings.Contains(out, "s3cr3t") {
		t.Errorf("password leaked: %s", out)
	}
	if !strings.Contains(out, "REDACTED") || !strings.Contains(out, "password_set") {
		t.Errorf("expected redaction markers in: %s", out)
	}
}
