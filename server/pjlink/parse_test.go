package pjlink

import (
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestParseGreeting(t *testing.T) {
	tests := []struct {
		line   string
		auth   bool
		random string
		err    error
	}{
		{"PJLINK 0", false, "", nil},
		{"PJLINK 1 498e4a67", true, "498e4a67", nil},
		{"PJLINK ERRA", false, "", ErrAuth},
		{"PJLINK 1", false, "", ErrProtocol},
		{"PJLINK 1 ", false, "", ErrProtocol},
		{"PJLINK 1 a b", false, "", ErrProtocol},
		{"PJLINK 2", false, "", ErrProtocol},
		{"pjlink 0", false, "", ErrProtocol},
		{"", false, "", ErrProtocol},
	}
	for _, tt := range tests {
		auth, random, err := parseGreeting(tt.line)
		if auth != tt.auth || random != tt.random || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("parseGreeting(%q) = %v, %q, %v; want %v, %q, %v", tt.line, auth, random, err, tt.auth, tt.random, tt.err)
		}
	}
}

func TestParseReply(t *testing.T) {
	tests := []struct {
		line string
		want reply
		err  error
	}{
		{"%1POWR=1", reply{'1', "POWR", "1"}, nil},
		{"%2SNUM=", reply{'2', "SNUM", ""}, nil},
		{"%1INF1=A B=C", reply{'1', "INF1", "A B=C"}, nil},
		{"PJLINK ERRA", reply{}, ErrAuth},
		{"%1POWR", reply{}, ErrProtocol},
		{"%1powr=1", reply{}, ErrProtocol},
		{"%0POWR=1", reply{}, ErrProtocol},
		{"#1POWR=1", reply{}, ErrProtocol},
		{"%1POWR 1", reply{}, ErrProtocol},
	}
	for _, tt := range tests {
		got, err := parseReply(tt.line)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("parseReply(%q) = %+v, %v; want %+v, %v", tt.line, got, err, tt.want, tt.err)
		}
	}
}

func TestParseBodies(t *testing.T) {
	if got, err := parseLamps("12345 1 0 0 7 1"); err != nil || !reflect.DeepEqual(got, []Lamp{{12345, true}, {0, false}, {7, true}}) {
		t.Errorf("parseLamps = %v, %v", got, err)
	}
	for _, bad := range []string{"", "1", "1 1 1", "x 1", "1 2", "-1 1", "1234567890 0"} {
		if _, err := parseLamps(bad); !errors.Is(err, ErrProtocol) {
			t.Errorf("parseLamps(%q) = %v, want ErrProtocol", bad, err)
		}
	}
	for body, want := range map[string]string{"0": "off", "1": "on", "2": "cooling", "3": "warmup"} {
		if got, err := parsePower(body); got != want || err != nil {
			t.Errorf("parsePower(%q) = %q, %v; want %q", body, got, err, want)
		}
	}
	if _, err := parsePower("4"); !errors.Is(err, ErrProtocol) {
		t.Errorf("parsePower(4) = %v", err)
	}
	if got, err := parseClass("2"); got != 2 || err != nil {
		t.Errorf("parseClass(2) = %d, %v", got, err)
	}
	if got := bodyError("LAMP", "ERR3"); !errors.Is(got, ErrUnavailableTime) {
		t.Errorf("bodyError(ERR3) = %v", got)
	}
	if got := bodyError("LAMP", "ERRA"); !errors.Is(got, ErrAuth) {
		t.Errorf("bodyError(ERRA) = %v", got)
	}
}

func TestWithPort(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.5":          "10.0.0.5:4352",
		"10.0.0.5:14352":    "10.0.0.5:14352",
		"beamer.schule.lan": "beamer.schule.lan:4352",
		"fd00::5":           "[fd00::5]:4352",
		"[fd00::5]":         "[fd00::5]:4352",
		"[fd00::5]:4352":    "[fd00::5]:4352",
	} {
		if got := withPort(in); got != want {
			t.Errorf("withPort(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseReply feeds arbitrary lines to every decoder. None may panic,
// and what they accept must be well-formed.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{
		"PJLINK 0", "PJLINK 1 498e4a67", "PJLINK ERRA", "%1POWR=1", "%1POWR=ERR3",
		"%1LAMP=12345 1 0 0", "%1ERST=012000", "%2SNUM=ABC123", "%1CLSS=2",
		"%1NAME=R\xc3\xa4um 1\x00", "%1LAMP=1  1", "%1ERST=2222222",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if auth, random, err := parseGreeting(line); err == nil && auth && (random == "" || strings.ContainsAny(random, " \r")) {
			t.Errorf("parseGreeting(%q) accepted random %q", line, random)
		}
		rep, err := parseReply(line)
		if err != nil {
			return
		}
		if got := "%" + string(rep.class) + rep.cmd + "=" + rep.body; got != line {
			t.Errorf("parseReply(%q) lost bytes: %q", line, got)
		}
		if err := bodyError(rep.cmd, rep.body); err != nil {
			var ce *CommandError
			if errors.As(err, &ce) && ce.Error() == "" {
				t.Errorf("empty CommandError for %q", line)
			}
		}
		if p, err := parsePower(rep.body); err == nil && p == "" {
			t.Errorf("parsePower(%q) = empty", rep.body)
		}
		if lamps, err := parseLamps(rep.body); err == nil {
			if len(lamps) == 0 {
				t.Errorf("parseLamps(%q) = no lamps, no error", rep.body)
			}
			for _, l := range lamps {
				if l.Hours < 0 {
					t.Errorf("parseLamps(%q): negative hours", rep.body)
				}
			}
		}
		if m, err := parseErrors(rep.body); err == nil && len(m) != 6 {
			t.Errorf("parseErrors(%q) = %v", rep.body, m)
		}
		if c, err := parseClass(rep.body); err == nil && (c < 1 || c > 9) {
			t.Errorf("parseClass(%q) = %d", rep.body, c)
		}
		text := cleanText(rep.body)
		if !utf8.ValidString(text) || strings.IndexFunc(text, unicode.IsControl) >= 0 {
			t.Errorf("cleanText(%q) = %q", rep.body, text)
		}
	})
}

// FuzzQueryStream plays an arbitrary byte stream as the projector's side
// of a connection. Query must return, without panicking, either an error
// or a status with a known power state.
func FuzzQueryStream(f *testing.F) {
	f.Add([]byte("PJLINK 0\r%1CLSS=2\r%1POWR=1\r%1ERST=000000\r%1LAMP=10 1\r%1INF1=X\r%1INF2=Y\r%1NAME=Z\r%2SNUM=S\r%2SVER=V\r"))
	f.Add([]byte("PJLINK 1 00112233\r%1CLSS=1\r%1POWR=ERR3\r%1ERST=ERR1\r%1LAMP=ERR1\r%1INF1=\r%1INF2=\r%1NAME=\r"))
	f.Add([]byte("PJLINK 1 00112233\rPJLINK ERRA\r"))
	f.Add([]byte("PJLINK 0\r\n%1CLSS=1\r\n%1POWR=0\r\n"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		dials := 0
		dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
			if dials++; dials > 1 {
				return nil, errors.New("connection refused")
			}
			client, projector := net.Pipe()
			go func() { _, _ = io.Copy(io.Discard, projector) }()
			go func() {
				_, _ = projector.Write(stream)
				_ = projector.Close()
			}()
			return client, nil
		}
		st, err := query(context.Background(), "projector", Options{Password: "pw"}, dial)
		if err == nil {
			switch st.Power {
			case PowerOff, PowerOn, PowerCooling, PowerWarmup, PowerUnknown:
			default:
				t.Errorf("Power %q", st.Power)
			}
		}
	})
}
