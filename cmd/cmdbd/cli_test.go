package main

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/schulit/cmdb/internal/syncbuf"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// execMain runs cmdbd as the binary does (Main.Exec) with stdin, and
// returns its exit status, stdout and stderr.
func execMain(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	m := NewMain()
	out, errs := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(stdin), out, errs
	// Not for commands that serve: Exec waits for the context then.
	code := m.Exec(t.Context(), args)
	return code, out.String(), errs.String()
}

var allCommands = []string{"serve", "demo", "migrate", "token create", "user add", "snmp poll", "snmp simulate",
	"bench reconcile", "bench ingest", "bench snmp", "bench retention", "bench tickets", "bench monitoring", "backup", "restore", "version", "help",
	"connector add", "connector list", "connector check", "connector remove", "sync run", "bench sync"}

func TestHelpListsTheCommands(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}, {}} {
		code, stdout, stderr := execMain(t, "", args...)
		where, want := stdout, 0
		if len(args) == 0 {
			where, want = stderr, 2 // nothing asked for: the list, as a usage error
		}
		if code != want {
			t.Errorf("cmdbd %v: exit %d, want %d", args, code, want)
		}
		for _, c := range allCommands {
			if !regexp.MustCompile(`(?m)^  ` + c + `\s`).MatchString(where) {
				t.Errorf("cmdbd %v does not list %q:\n%s", args, c, where)
			}
		}
		if strings.Contains(stdout+stderr, "unknown command") {
			t.Errorf("cmdbd %v: %s%s", args, stdout, stderr)
		}
	}
}

func TestCommandGroupsListTheirSubcommands(t *testing.T) {
	t.Parallel()
	for _, group := range []string{"snmp", "token", "user", "bench", "connector", "sync"} {
		var subs []string
		for _, c := range allCommands {
			if strings.HasPrefix(c, group+" ") {
				subs = append(subs, c)
			}
		}
		for _, args := range [][]string{{group}, {group, "help"}, {group, "--help"}, {"help", group}} {
			code, stdout, stderr := execMain(t, "", args...)
			where, want := stdout, 0
			if len(args) == 1 {
				where, want = stderr, 2
			}
			if code != want || strings.Contains(stdout+stderr, "unknown command") {
				t.Errorf("cmdbd %v: exit %d (want %d)\n%s%s", args, code, want, stdout, stderr)
			}
			for _, s := range subs {
				if !strings.Contains(where, "  "+s+" ") {
					t.Errorf("cmdbd %v does not list %q:\n%s", args, s, where)
				}
			}
			if len(args) > 0 && args[0] == group && strings.Contains(where, "  serve ") {
				t.Errorf("cmdbd %v lists all commands, not its group's:\n%s", args, where)
			}
		}
	}
	code, _, stderr := execMain(t, "", "snmp", "frobnicate")
	if code != 2 || !strings.Contains(stderr, `unknown command "snmp frobnicate"`) || !strings.Contains(stderr, "snmp poll") {
		t.Errorf("cmdbd snmp frobnicate: exit %d\n%s", code, stderr)
	}
	code, _, stderr = execMain(t, "", "frobnicate")
	if code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("cmdbd frobnicate: exit %d\n%s", code, stderr)
	}
}

// flagsOf returns the flags "cmdbd ARGS -h" prints.
func flagsOf(t *testing.T, args ...string) []string {
	t.Helper()
	code, stdout, stderr := execMain(t, "", append(args, "-h")...)
	if code != 0 {
		t.Fatalf("cmdbd %v -h: exit %d\n%s%s", args, code, stdout, stderr)
	}
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`).FindAllStringSubmatch(stdout+stderr, -1) {
		flags = append(flags, "--"+m[1])
	}
	if len(flags) == 0 {
		t.Fatalf("cmdbd %v -h lists no flags:\n%s%s", args, stdout, stderr)
	}
	return flags
}

// checkFlagsExist fails the test when msg names a flag cmd does not have.
func checkFlagsExist(t *testing.T, msg string, cmd ...string) {
	t.Helper()
	flags := flagsOf(t, cmd...)
	for _, f := range regexp.MustCompile(`--[a-z][a-z0-9-]*`).FindAllString(msg, -1) {
		if !slices.Contains(flags, f) {
			t.Errorf("cmdbd %v: the message names %s, which is not one of its flags %v:\n%s", cmd, f, flags, msg)
		}
	}
}

func TestErrorsNameTheMissingFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"token", "create"}, "--admin or --role"},
		{[]string{"token", "create", "--role", "teacher"}, "--org is required"},
		{[]string{"token", "create", "--admin", "--role", "teacher", "--org", "3"}, "--admin and --role"},
		{[]string{"user", "add"}, "--email is required"},
		{[]string{"user", "add", "--email", "a@b.de"}, "--role is required"},
		{[]string{"user", "add", "--email", "a@b.de", "--role", "teacher"}, "--org is required"},
		{[]string{"serve", "--listen"}, "-listen"},
		{[]string{"--listen", ":0"}, "cmdbd serve --listen"},
	}
	for _, tt := range tests {
		code, _, stderr := execMain(t, "", tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("cmdbd %v: exit %d, want 2 and %q in\n%s", tt.args, code, tt.want, stderr)
		}
		if len(tt.args) > 1 && !strings.HasPrefix(tt.args[0], "-") {
			cmd := tt.args[:1]
			if isGroup(tt.args[0]) {
				cmd = tt.args[:2]
			}
			checkFlagsExist(t, stderr, cmd...)
		}
	}
}

func TestUserAddNeedsAPasswordOrSSOOnly(t *testing.T) {
	url := postgrestest.NewDatabase(t)
	dir := sharedDataDir(t)
	add := func(stdin, email string, extra ...string) (int, string, string) {
		return execMain(t, stdin, append([]string{"user", "add", "--email", email, "--role", "admin", "--db", url, "--data-dir", dir}, extra...)...)
	}
	_, o, e := execMain(t, "", "user", "add", "-h")
	help := o + e
	for _, want := range []string{"CMDB_PASSWORD", "terminal", "first", "standard input", "--sso-only"} {
		if !strings.Contains(help, want) {
			t.Errorf("user add -h does not say %q:\n%s", want, help)
		}
	}

	// No password anywhere: refused, nothing created, and told how.
	code, _, stderr := add("", "nopass@schule.de")
	if code != 1 || !strings.Contains(stderr, "no password") || !strings.Contains(stderr, "--sso-only") {
		t.Fatalf("user add without a password: exit %d\n%s", code, stderr)
	}
	checkFlagsExist(t, stderr, "user", "add")
	// The same address works afterwards: the refused one wrote nothing.
	code, stdout, stderr := add("", "nopass@schule.de", "--sso-only")
	if code != 0 || !strings.Contains(stdout, "single sign-on") {
		t.Fatalf("user add --sso-only: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = add("ein-langes-Passwort-7\n", "withpass@schule.de")
	if code != 0 || !strings.Contains(stdout, "with a password") {
		t.Fatalf("user add, password on stdin: exit %d\n%s%s", code, stdout, stderr)
	}
	// A bad password is named as what it is, not as a flag.
	code, _, stderr = add("kurz\n", "short@schule.de")
	if code != 1 || !strings.Contains(stderr, "password (from CMDB_PASSWORD") {
		t.Fatalf("user add, short password: exit %d\n%s", code, stderr)
	}
	checkFlagsExist(t, stderr, "user", "add")
	code, _, stderr = add("", "bad-address", "--sso-only")
	if code != 1 || !strings.Contains(stderr, "--email") {
		t.Fatalf("user add, bad e-mail: exit %d\n%s", code, stderr)
	}
}

func TestUserAddSSOOnlyRefusesAPassword(t *testing.T) {
	t.Setenv("CMDB_PASSWORD", "ein-langes-Passwort-7")
	url := postgrestest.NewDatabase(t)
	code, _, stderr := execMain(t, "", "user", "add", "--email", "sso@schule.de", "--role", "admin", "--sso-only",
		"--db", url, "--data-dir", sharedDataDir(t))
	if code != 1 || !strings.Contains(stderr, "CMDB_PASSWORD is set") {
		t.Fatalf("user add --sso-only with CMDB_PASSWORD: exit %d\n%s", code, stderr)
	}
}

func TestSecondServerOnAPortInUseFailsBeforeTheDatabase(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, cmd := range []string{"serve", "demo"} {
		dir := filepath.Join(t.TempDir(), "data")
		code, _, stderr := execMain(t, "", cmd, "--listen", ln.Addr().String(), "--data-dir", dir)
		if code != 1 || !strings.Contains(stderr, "port in use") || !strings.Contains(stderr, ln.Addr().String()) {
			t.Errorf("cmdbd %s on a port in use: exit %d\n%s", cmd, code, stderr)
		}
		// It started no PostgreSQL and made no data dir or key.
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("cmdbd %s on a port in use touched its data dir: %v", cmd, err)
		}
		if strings.Contains(stderr, "PostgreSQL") {
			t.Errorf("cmdbd %s on a port in use started PostgreSQL:\n%s", cmd, stderr)
		}
	}
}

func TestBenchSubcommandsParse(t *testing.T) {
	t.Parallel()
	for args, want := range map[string]string{"bench snmp --devices 20 --no-exporter": "bench-snmp",
		"bench ingest --agents 5": "bench-ingest", "bench reconcile --devices 10": "bench-reconcile",
		"bench sync --rows 10": "bench-sync", "sync run --authority A --connector c --dry-run": "sync-run"} {
		m := NewMain()
		m.Stderr = &syncbuf.Buffer{}
		if err := m.ParseFlags(strings.Fields(args)); err != nil || m.Config.Command != want {
			t.Errorf("ParseFlags(%s): %v, command %q", args, err, m.Config.Command)
		}
	}
}
