package pjlink

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Errors returned by Query. Test with errors.Is.
var (
	// ErrUnreachable: no TCP connection could be made.
	ErrUnreachable = errors.New("projector unreachable")
	// ErrAuth: the projector answered PJLINK ERRA (wrong password), or it
	// wants a password and none was configured.
	ErrAuth = errors.New("authentication failed")
	// ErrProtocol: the projector said something that is not PJLink.
	ErrProtocol = errors.New("protocol error")

	// The four PJLink error replies. A *CommandError unwraps to one of them.
	ErrUndefinedCommand = errors.New("undefined command") // ERR1
	ErrOutOfParameter   = errors.New("out of parameter")  // ERR2
	ErrUnavailableTime  = errors.New("unavailable time")  // ERR3
	ErrProjectorFailure = errors.New("projector failure") // ERR4
)

// CommandError is a PJLink error reply (ERR1–ERR4) to one command. Query
// does not fail on these: it records them in Status.CommandErrors and
// leaves the field the command would have filled at its zero value.
type CommandError struct {
	Command string `json:"command"` // e.g. "LAMP"
	Code    string `json:"code"`    // ERR1, ERR2, ERR3 or ERR4
}

// Error implements the error interface: "LAMP: unavailable time (ERR3)".
func (e *CommandError) Error() string {
	return e.Command + ": " + e.Unwrap().Error() + " (" + e.Code + ")"
}

// Unwrap returns the sentinel for the code, e.g. ErrUnavailableTime for
// ERR3, so that errors.Is works.
func (e *CommandError) Unwrap() error {
	switch e.Code {
	case "ERR1":
		return ErrUndefinedCommand
	case "ERR2":
		return ErrOutOfParameter
	case "ERR3":
		return ErrUnavailableTime
	default:
		return ErrProjectorFailure
	}
}

// maxLine bounds one line from the projector. PJLink class 1 and 2 lines
// are at most 136 bytes; the slack tolerates chatty firmware.
const maxLine = 512

// reply is one line from the projector with the terminator removed:
// "%1POWR=1" is class '1', cmd "POWR", body "1".
type reply struct {
	class byte
	cmd   string
	body  string
}

// parseGreeting reads the line a projector sends on connect: "PJLINK 0"
// (no authentication) or "PJLINK 1 <random>" (MD5 authentication).
func parseGreeting(line string) (auth bool, random string, err error) {
	switch {
	case line == "PJLINK 0":
		return false, "", nil
	case line == "PJLINK ERRA":
		return false, "", ErrAuth
	case strings.HasPrefix(line, "PJLINK 1 "):
		random = line[len("PJLINK 1 "):]
		// The spec says 8 hex digits; accept any short printable token,
		// since it is only ever hashed.
		if random == "" || len(random) > 32 || !printableToken(random) {
			return false, "", protocolErr("greeting", line)
		}
		return true, random, nil
	}
	return false, "", protocolErr("greeting", line)
}

// parseReply splits a reply line "%<class><CMD4>=<body>". The line
// "PJLINK ERRA", the answer to a wrong digest, is ErrAuth.
func parseReply(line string) (reply, error) {
	if line == "PJLINK ERRA" {
		return reply{}, ErrAuth
	}
	if len(line) < 7 || line[0] != '%' || line[1] < '1' || line[1] > '9' || line[6] != '=' {
		return reply{}, protocolErr("reply", line)
	}
	for i := 2; i < 6; i++ {
		c := line[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return reply{}, protocolErr("reply", line)
		}
	}
	return reply{class: line[1], cmd: line[2:6], body: line[7:]}, nil
}

// bodyError maps the error bodies ERR1–ERR4 to a *CommandError and ERRA to
// ErrAuth; any other body is nil.
func bodyError(cmd, body string) error {
	switch body {
	case "ERR1", "ERR2", "ERR3", "ERR4":
		return &CommandError{Command: cmd, Code: body}
	case "ERRA":
		return ErrAuth
	}
	return nil
}

// Power states as reported in Status.Power.
const (
	PowerOff     = "off"
	PowerOn      = "on"
	PowerCooling = "cooling"
	PowerWarmup  = "warmup"
	PowerUnknown = "unknown"
)

// parsePower decodes the body of a POWR reply.
func parsePower(body string) (string, error) {
	switch body {
	case "0":
		return PowerOff, nil
	case "1":
		return PowerOn, nil
	case "2":
		return PowerCooling, nil
	case "3":
		return PowerWarmup, nil
	}
	return "", protocolErr("power state", body)
}

// parseLamps decodes the body of a LAMP reply: pairs "hours on/off",
// separated by single spaces, one pair per lamp.
func parseLamps(body string) ([]Lamp, error) {
	f := strings.Fields(body)
	if len(f) == 0 || len(f)%2 != 0 || len(f) > 32 {
		return nil, protocolErr("lamp list", body)
	}
	lamps := make([]Lamp, 0, len(f)/2)
	for i := 0; i < len(f); i += 2 {
		h, ok := atoi(f[i])
		if !ok {
			return nil, protocolErr("lamp hours", body)
		}
		var on bool
		switch f[i+1] {
		case "0":
		case "1":
			on = true
		default:
			return nil, protocolErr("lamp on/off", body)
		}
		lamps = append(lamps, Lamp{Hours: h, On: on})
	}
	return lamps, nil
}

// ERST positions, in the order the projector sends them.
var errorParts = [6]string{"fan", "lamp", "temperature", "cover", "filter", "other"}

// parseErrors decodes the body of an ERST reply: six digits, 0 ok,
// 1 warning, 2 error.
func parseErrors(body string) (map[string]string, error) {
	if len(body) != len(errorParts) {
		return nil, protocolErr("error status", body)
	}
	m := make(map[string]string, len(errorParts))
	for i, part := range errorParts {
		switch body[i] {
		case '0':
			m[part] = "ok"
		case '1':
			m[part] = "warning"
		case '2':
			m[part] = "error"
		default:
			return nil, protocolErr("error status", body)
		}
	}
	return m, nil
}

// parseClass decodes the body of a CLSS reply: one digit.
func parseClass(body string) (int, error) {
	body = strings.TrimSpace(body)
	if len(body) != 1 || body[0] < '1' || body[0] > '9' {
		return 0, protocolErr("class", body)
	}
	return int(body[0] - '0'), nil
}

// cleanText makes an information string (INF1, INF2, NAME, SNUM, SVER)
// safe to store and show: valid UTF-8, no control characters, trimmed.
func cleanText(body string) string {
	body = strings.ToValidUTF8(body, "\uFFFD")
	body = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, body)
	return strings.TrimSpace(body)
}

// atoi parses a non-negative decimal of at most 9 digits, so that it
// cannot overflow an int.
func atoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func printableToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// protocolErr wraps ErrProtocol with what was expected and a quoted,
// shortened copy of what arrived.
func protocolErr(what, got string) error {
	if len(got) > 64 {
		got = got[:64] + "…" // %q escapes a cut rune
	}
	return fmt.Errorf("%w: bad %s %q", ErrProtocol, what, got)
}
