package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/snmp/snmptest"
)

// TestSNMPPollCommand runs "cmdbd snmp poll" against Debian's snmpsimd
// with the shared sample devices and checks what it prints.
func TestSNMPPollCommand(t *testing.T) {
	dir := snmptest.DataDir(t)
	user := snmptest.V3User{Name: "cli", AuthProto: "SHA256", AuthKey: "cli-auth-pass", PrivProto: "AES", PrivKey: "cli-priv-pass"}
	sim := snmptest.StartSimulator(t, dir, user)
	expected := snmptest.LoadExpected(t, dir)

	for name, want := range expected {
		t.Run("json/"+name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := snmpPollCommand([]string{"--target", sim.Addr, "--community", name, "--timeout", "1s", "--json"}, &out, &errOut)
			if err != nil {
				t.Fatalf("snmp poll: %v\n%s", err, errOut.String())
			}
			var got struct {
				cmdb.PollResult
				Profile    string `json:"profile"`
				Credential string `json:"credential"`
			}
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out.String())
			}
			if !got.Reachable || got.Target != sim.Addr || got.Profile == "" {
				t.Errorf("reachable, target, profile = %v, %q, %q", got.Reachable, got.Target, got.Profile)
			}
			for _, d := range snmptest.Mismatches(&got.PollResult, want) {
				t.Error(d)
			}
			if strings.Contains(out.String()+errOut.String(), `"`+name+`"`) {
				t.Errorf("the community %q is printed:\n%s", name, out.String())
			}
		})
	}

	t.Run("table", func(t *testing.T) {
		var out, errOut bytes.Buffer
		if err := snmpPollCommand([]string{"--target", sim.Addr, "--community", "canon-c5535"}, &out, &errOut); err != nil {
			t.Fatalf("snmp poll: %v\n%s", err, errOut.String())
		}
		for _, want := range []string{"Class", "mfp", "Canon iR-ADV C5535", "XLF01234", "00:1e:8f:aa:bb:cc", "801234",
			"doorOpen", "Supplies", "Canon GPR-53 Magenta Toner", "empty", "some-remaining", "Alerts", "markerTonerAlmostEmpty"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("table lacks %q:\n%s", want, out.String())
			}
		}
	})

	t.Run("v3 authPriv with pass phrases from the environment", func(t *testing.T) {
		t.Setenv("CMDB_SNMP_AUTH_PASS", user.AuthKey)
		t.Setenv("CMDB_SNMP_PRIV_PASS", user.PrivKey)
		var out, errOut bytes.Buffer
		err := snmpPollCommand([]string{"--target", sim.Addr, "--v3-user", user.Name, "--v3-auth-proto", "sha256",
			"--v3-priv-proto", "AES", "--v3-context", "lexmark-ms521", "--json"}, &out, &errOut)
		if err != nil {
			t.Fatalf("snmp poll: %v\n%s", err, errOut.String())
		}
		var got cmdb.PollResult
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		for _, d := range snmptest.Mismatches(&got, expected["lexmark-ms521"]) {
			t.Error(d)
		}
		if s := out.String() + errOut.String(); strings.Contains(s, user.AuthKey) || strings.Contains(s, user.PrivKey) {
			t.Errorf("a pass phrase is printed:\n%s", s)
		}
	})

	t.Run("wrong pass phrase", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := snmpPollCommand([]string{"--target", sim.Addr, "--v3-user", user.Name, "--v3-auth-proto", "SHA256",
			"--v3-auth-pass", "wrong-pass-phrase", "--v3-priv-proto", "AES", "--v3-priv-pass", user.PrivKey,
			"--v3-context", "lexmark-ms521", "--timeout", "300ms", "--retries", "0", "--json"}, &out, &errOut)
		if !errors.Is(err, errSNMPUnreachable) {
			t.Fatalf("err = %v, want unreachable", err)
		}
		if !strings.Contains(out.String(), `"reachable": false`) || !strings.Contains(out.String(), `"failure": "wrong_credentials"`) {
			t.Errorf("output = %s, want unreachable for wrong credentials", out.String())
		}
		if !strings.Contains(err.Error(), "wrong_credentials") {
			t.Errorf("err = %v, want the reason", err)
		}
		if s := out.String() + errOut.String() + err.Error(); strings.Contains(s, "wrong-pass-phrase") || strings.Contains(s, user.PrivKey) {
			t.Errorf("a pass phrase is printed:\n%s", s)
		}
	})

	// The table says why: a closed loopback port is refused, a wrong v2c
	// community is silence.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := pc.LocalAddr().String()
	pc.Close()
	for _, tt := range []struct{ name, target, community, want string }{
		{"closed port", closed, "public", "refused"},
		{"wrong community", sim.Addr, "no-such-community", "timeout"},
	} {
		t.Run("reason/"+tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := snmpPollCommand([]string{"--target", tt.target, "--community", tt.community, "--timeout", "300ms", "--retries", "0"}, &out, &errOut)
			if !errors.Is(err, errSNMPUnreachable) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want unreachable: %s", err, tt.want)
			}
			if !strings.Contains(out.String(), "Reason") || !strings.Contains(out.String(), tt.want+": ") {
				t.Errorf("table does not say %s:\n%s", tt.want, out.String())
			}
		})
	}
}

func TestSNMPPollCommandUsageHidesSecrets(t *testing.T) {
	t.Setenv("CMDB_SNMP_COMMUNITY", "env-community-secret")
	t.Setenv("CMDB_SNMP_AUTH_PASS", "env-auth-secret")
	var out, errOut bytes.Buffer
	if err := snmpPollCommand([]string{"-h"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "--v3-user") || strings.Contains(errOut.String(), "secret") {
		t.Errorf("usage:\n%s", errOut.String())
	}
}

func TestSNMPPollCommandErrors(t *testing.T) {
	hole, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no target", []string{"--community", "public"}, "--target is required"},
		{"no credential", []string{"--target", "10.0.0.1"}, "pass --community or --v3-user"},
		{"both credentials", []string{"--target", "10.0.0.1", "--community", "c", "--v3-user", "u"}, "not both"},
		{"bad target", []string{"--target", "10.0.0.1:99999", "--community", "public"}, "--target: port"},
		{"bad auth protocol", []string{"--target", "10.0.0.1", "--v3-user", "u", "--v3-auth-proto", "MD5", "--v3-auth-pass", "12345678"}, "--v3-auth-proto: must be one of"},
		{"short pass phrase", []string{"--target", "10.0.0.1", "--v3-user", "u", "--v3-auth-proto", "SHA", "--v3-auth-pass", "short"}, "--v3-auth-pass: must be at least 8"},
		{"bad version", []string{"--target", "10.0.0.1", "--community", "c", "--snmp-version", "3"}, "--snmp-version must be 1 or 2c"},
		{"bad profiles directory", []string{"--target", "10.0.0.1", "--community", "c", "--profiles", "/nonexistent/profiles"}, "--profiles: profile directory /nonexistent/profiles"},
		{"unreachable", []string{"--target", hole.LocalAddr().String(), "--community", "topsecret", "--timeout", "200ms", "--retries", "0"}, "did not answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := snmpPollCommand(tc.args, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if s := out.String() + errOut.String() + err.Error(); strings.Contains(s, "topsecret") || strings.Contains(s, "12345678") {
				t.Errorf("a secret is printed:\n%s", s)
			}
		})
	}
}
