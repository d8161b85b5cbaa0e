package snmp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/snmp/sim"
	"github.com/schulit/cmdb/server/snmp/snmptest"
)

func TestClassifyError(t *testing.T) {
	refused := &net.OpError{Op: "read", Net: "udp", Err: os.NewSyscallError("recvfrom", syscall.ECONNREFUSED)}
	for _, tt := range []struct {
		name string
		err  error
		want cmdb.PollFailure
	}{
		{"nil", nil, ""},
		{"gosnmp timeout", fmt.Errorf("request timeout (after 1 retries): %w", gosnmp.ErrMaxRetriesExceeded), cmdb.PollTimeout},
		{"socket deadline", &net.OpError{Op: "read", Net: "udp", Err: os.ErrDeadlineExceeded}, cmdb.PollTimeout},
		{"context deadline", context.DeadlineExceeded, cmdb.PollTimeout},
		{"unknown user report", gosnmp.ErrUnknownUsername, cmdb.PollWrongCredentials},
		{"wrong digest report", fmt.Errorf("get: %w", gosnmp.ErrWrongDigest), cmdb.PollWrongCredentials},
		{"decryption report", gosnmp.ErrDecryption, cmdb.PollWrongCredentials},
		{"unsupported security level", gosnmp.ErrUnknownSecurityLevel, cmdb.PollWrongCredentials},
		{"unauthentic answer", errors.New("incoming packet is not authentic, discarding"), cmdb.PollWrongCredentials},
		{"ICMP port unreachable", refused, cmdb.PollRefused},
		{"no route", &net.OpError{Op: "write", Net: "udp", Err: os.NewSyscallError("sendto", syscall.EHOSTUNREACH)}, cmdb.PollNetwork},
		{"network unreachable", syscall.ENETUNREACH, cmdb.PollNetwork},
		{"name does not resolve", &net.DNSError{Err: "no such host", Name: "printer.invalid", IsNotFound: true}, cmdb.PollNetwork},
		{"answer without values", errNoAnswer, cmdb.PollProtocol},
		{"unknown report PDU", gosnmp.ErrUnknownReportPDU, cmdb.PollProtocol},
		{"anything else", errors.New("boom"), cmdb.PollOther},
	} {
		if got := ClassifyError(tt.err); got != tt.want {
			t.Errorf("%s: ClassifyError(%v) = %q, want %q", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestWorseFailure(t *testing.T) {
	for _, tt := range []struct{ a, b, want cmdb.PollFailure }{
		{"", cmdb.PollTimeout, cmdb.PollTimeout},
		{cmdb.PollTimeout, cmdb.PollWrongCredentials, cmdb.PollWrongCredentials},
		{cmdb.PollWrongCredentials, cmdb.PollTimeout, cmdb.PollWrongCredentials},
		{cmdb.PollRefused, cmdb.PollTimeout, cmdb.PollRefused},
	} {
		if got := worse(tt.a, tt.b); got != tt.want {
			t.Errorf("worse(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestPollFailureReasons polls real agents on loopback and says why each
// failed: a closed port is refused (the kernel's ICMP port unreachable);
// snmpsimd stays silent to a wrong v2c community (timeout) and sends
// usmStats reports for a wrong v3 auth pass phrase (usmStatsWrongDigests),
// an unknown noAuthNoPriv user (usmStatsUnknownUserNames) and a known
// user below its security level (usmStatsUnsupportedSecLevels): wrong
// credentials. (To an unknown user that authenticates, snmpsimd sends
// nothing, so that is a timeout, like a wrong v2c community.) A device
// without Printer-MIB answers, but is marked.
func TestPollFailureReasons(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := Options{Timeout: 500 * time.Millisecond}

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := pc.LocalAddr().String()
	pc.Close()
	t.Run("closed port", func(t *testing.T) {
		rep, err := PollReport(ctx, closed, []cmdb.SNMPCredential{v2c("c", "public")}, opts)
		if err != nil || rep.Reachable || rep.Failure != cmdb.PollRefused {
			t.Fatalf("PollReport = %+v, %v; want unreachable, refused", rep, err)
		}
	})

	// A device with the system and interfaces groups only.
	b, err := os.ReadFile(filepath.Join(snmptest.DataDir(t), "lexmark-ms521.snmprec"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "1.3.6.1.2.1.1.") || strings.HasPrefix(l, "1.3.6.1.2.1.2.") {
			lines = append(lines, l)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "router.snmprec"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(ctx, sim.Options{DataDir: dir, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Run("no Printer-MIB", func(t *testing.T) {
		rep, err := PollReport(ctx, srv.Addr(), []cmdb.SNMPCredential{v2c("c", "router")}, opts)
		if err != nil || !rep.Reachable || rep.Failure != cmdb.PollNoPrinterMIB {
			t.Fatalf("PollReport = %+v, %v; want reachable, no_printer_mib", rep, err)
		}
	})

	agent := snmptest.StartSimulator(t, snmptest.DataDir(t), simUserSHA)
	v3 := func(user, auth string) cmdb.SNMPCredential {
		return cmdb.SNMPCredential{Name: "v3", Version: "3", User: user, AuthProto: "SHA", AuthPass: cmdb.Secret(auth),
			PrivProto: "AES", PrivPass: cmdb.Secret(simUserSHA.PrivKey)}
	}
	for _, tt := range []struct {
		name  string
		creds []cmdb.SNMPCredential
		want  cmdb.PollFailure
	}{
		{"wrong v2c community", []cmdb.SNMPCredential{v2c("c", "no-such-community")}, cmdb.PollTimeout},
		{"wrong v3 auth pass", []cmdb.SNMPCredential{v3(simUserSHA.Name, "wrong-auth-pass")}, cmdb.PollWrongCredentials},
		{"unknown v3 user", []cmdb.SNMPCredential{{Name: "v3", Version: "3", User: "nobody-here"}}, cmdb.PollWrongCredentials},
		{"v3 user below its security level", []cmdb.SNMPCredential{{Name: "v3", Version: "3", User: simUserSHA.Name}}, cmdb.PollWrongCredentials},
		{"unknown v3 user with auth (snmpsimd is silent)", []cmdb.SNMPCredential{v3("nobody-here", simUserSHA.AuthKey)}, cmdb.PollTimeout},
		{"silent v2c, then a v3 report", []cmdb.SNMPCredential{v2c("c", "no-such-community"), v3(simUserSHA.Name, "wrong-auth-pass")},
			cmdb.PollWrongCredentials},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := opts
			o.ContextName = "lexmark-ms521"
			rep, err := PollReport(ctx, agent.Addr, tt.creds, o)
			if err != nil || rep.Reachable || rep.Failure != tt.want {
				t.Fatalf("PollReport = %+v, %v; want unreachable, %s", rep.PollResult, err, tt.want)
			}
		})
	}
}
