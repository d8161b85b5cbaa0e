package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/schulit/cmdb/server/cmdb"
)

// A command is one line of the usage: its words, its arguments and what
// it does.
type command struct{ name, args, help string }

// commands are all of cmdbd's commands, in the order the usage lists
// them; a name of two words is a subcommand of the first.
var commands = []command{
	{"serve", "[--listen ADDR] [--db URL] [--data-dir DIR]", "run the server"},
	{"demo", "[serve's flags]", "load the demo authority and serve it, its printers simulated"},
	{"migrate", "[--db URL] [--data-dir DIR]", "apply pending database migrations and exit"},
	{"token create", "--admin | --role ROLE --org ID  [--name N] [--expires 720h]", "create an API token and print it once"},
	{"user add", "--email E --role ROLE [--org ID] [--name N] [--sso-only]", "create a user; password from CMDB_PASSWORD, the terminal or the first line of stdin"},
	{"snmp poll", "--target HOST[:PORT] [--community C | --v3-user U ...] [--json]", "poll one device once and print what the poller understood"},
	{"snmp simulate", "--data DIR [--listen ADDR]", "answer SNMP v1/v2c from snmpsim recordings (NAME@N: device N of NAME)"},
	{"bench reconcile", "[--devices N] [--batch N] [--rounds N] [--workers N]", "measure reconcile throughput (observations/s)"},
	{"bench ingest", "[--agents N] [--rate R] [--duration D]", "load the agent door with simulated agents (reports/s, latency, 0 lost)"},
	{"bench snmp", "[--devices N] [--concurrency N] [--no-exporter]", "poll simulated printers, compare with prometheus-snmp-exporter"},
	{"bench retention", "[--devices N] [--days N]", "simulate a year of polls, print metric table sizes with retention"},
	{"bench tickets", "[--cis N] [--tickets N] [--queries N]", "seed 300k CIs and 200k tickets, time the queue and rule queries (p50/p95)"},
	{"bench device", "[--days N] [--series N] [--history N] [--queries N]", "a printer with 2 years of 15-minute samples and 10k history rows: time its console page (p50/p95)"},
	{"bench monitoring", "[--printers N] [--rate R] [--duration D] [--clear-every N]", "offer health events to the ticket module (events/s, tickets per condition)"},
	{"connector add", "--authority CODE --name NAME --binary PATH [--settings JSON] [--mapping-file F] [--secret-env NAME=ENV] [--schedule CRON] [--delete-policy P]", "register a connector instance (its binary pinned by SHA-256)"},
	{"connector list", "--authority CODE [--json]", "list an authority's connector instances and their last run"},
	{"connector check", "--authority CODE --name NAME", "have the connector check its configuration, connection and credentials"},
	{"connector remove", "--authority CODE --name NAME", "remove a connector instance (its CIs stay)"},
	{"connector repin", "[--authority CODE] --name NAME | --all [--connector-dir DIR]", "after an upgrade: pin the new executables in the connector directory (each must be a connector of the same plugin)"},
	{"sync run", "--authority CODE --connector NAME [--dry-run] [--confirm] [--json]", "sync a connector instance now, with a progress bar"},
	{"bench sync", "[--rows N]", "sync a generated CSV through the real csv connector, then again unchanged (rows/s, peak memory)"},
	{"backup", "--out FILE [--db URL] [--data-dir DIR]", "dump the database while the server runs (pg_dump custom format)"},
	{"restore", "FILE [--data-dir DIR]", "load a dump into a new private PostgreSQL in an empty data dir"},
	{"version", "", "print the version"},
	{"help", "[COMMAND]", "print this list, or a command group's"},
}

// groups are the first words of the commands of two words.
func isGroup(word string) bool {
	for _, c := range commands {
		if g, _, ok := strings.Cut(c.name, " "); ok && g == word {
			return true
		}
	}
	return false
}

// isCommand reports whether name (words joined by a space) is a command.
func isCommand(name string) bool {
	for _, c := range commands {
		if c.name == name && name != "help" {
			return true
		}
	}
	return false
}

// printUsage writes the commands whose name starts with prefix ("" for
// all) with their arguments.
func printUsage(w io.Writer, group string) {
	if group == "" {
		fmt.Fprint(w, "Usage: cmdbd <command> [flags]\n\nCommands:\n")
	} else {
		fmt.Fprintf(w, "Usage: cmdbd %s <command> [flags]\n\nCommands:\n", group)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		if group != "" && !strings.HasPrefix(c.name, group+" ") {
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.help)
		if c.args != "" {
			fmt.Fprintf(tw, "  \t    %s\n", c.args)
		}
	}
	tw.Flush()
	if group == "" {
		fmt.Fprint(w, "\nWithout --db / CMDB_DATABASE_URL, a private PostgreSQL is started in --data-dir.\n")
	}
	fmt.Fprint(w, "Run \"cmdbd <command> -h\" for the flags of a command.\n")
}

// errUsage is a command line that names no command cmdbd has; the usage
// has been printed.
var errUsage = errors.New("usage")

// splitCommand takes the command's words off args. Help asked for
// (cmdbd, cmdbd help, cmdbd --help, cmdbd GROUP, cmdbd GROUP help)
// prints the list and returns flag.ErrHelp, or errUsage when nothing at
// all was asked; an unknown command prints the list and returns an error
// naming it.
func (m *Main) splitCommand(args []string) (string, []string, error) {
	isHelp := func(s string) bool { return s == "help" || s == "-h" || s == "-help" || s == "--help" }
	switch {
	case len(args) == 0:
		printUsage(m.Stderr, "")
		return "", nil, errUsage
	case isHelp(args[0]):
		if len(args) > 1 && isGroup(args[1]) {
			printUsage(m.Stdout, args[1])
		} else {
			printUsage(m.Stdout, "")
		}
		return "", nil, flag.ErrHelp
	case strings.HasPrefix(args[0], "-"):
		printUsage(m.Stderr, "")
		return "", nil, fmt.Errorf("a command comes first (such as: cmdbd serve %s)", args[0])
	case isGroup(args[0]):
		group := args[0]
		if len(args) == 1 {
			printUsage(m.Stderr, group)
			return "", nil, errUsage
		}
		if isHelp(args[1]) {
			printUsage(m.Stdout, group)
			return "", nil, flag.ErrHelp
		}
		if !isCommand(group + " " + args[1]) {
			printUsage(m.Stderr, group)
			return "", nil, fmt.Errorf("unknown command %q", group+" "+args[1])
		}
		return group + "-" + args[1], args[2:], nil
	case isCommand(args[0]):
		return args[0], args[1:], nil
	}
	printUsage(m.Stderr, "")
	return "", nil, fmt.Errorf("unknown command %q", args[0])
}

// Exec runs cmdbd with args as the binary does: it parses them, runs the
// command, waits for ctx when it serves, and closes. It returns the exit
// status: 0 done or help printed, 1 the command failed, 2 a wrong
// command line (also a bare "cmdbd", after listing the commands).
func (m *Main) Exec(ctx context.Context, args []string) int {
	if err := m.ParseFlags(args); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if errors.Is(err, errUsage) {
		return 2
	} else if err != nil {
		fmt.Fprintln(m.Stderr, "cmdbd:", err)
		return 2
	}
	err := m.Run(ctx)
	if err == nil && m.Serving() {
		select {
		case <-ctx.Done():
		case <-m.Died(): // the private PostgreSQL is gone: exit non-zero, to be restarted
			err = m.DiedErr()
		}
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(m.Stderr, "cmdbd:", err)
		return 1
	}
	return 0
}

// listen opens the server's address before anything else happens, so
// that a second server on the same port fails at once, before it starts
// or touches a database.
func (m *Main) listen() error {
	ln, err := net.Listen("tcp", m.Config.Listen)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("--listen %s: port in use (is another cmdbd running? choose another with --listen)", m.Config.Listen)
	} else if err != nil {
		return fmt.Errorf("--listen %s: %w", m.Config.Listen, err)
	}
	m.ln = ln
	return nil
}

// checkCommandFlags says which required flag a command line lacks.
func (c *Config) checkCommandFlags() error {
	switch c.Command {
	case "token-create":
		switch {
		case c.TokenAdmin && c.TokenRole != "":
			return errors.New("token create: --admin and --role exclude each other")
		case !c.TokenAdmin && c.TokenRole == "":
			return errors.New("token create: --admin or --role (with --org) is required")
		case c.TokenRole != "" && c.TokenOrg == 0:
			return fmt.Errorf("token create: --org is required with --role %s", c.TokenRole)
		}
	case "backup":
		if c.BackupOut == "" {
			return errors.New("backup: --out FILE is required")
		}
	case "user-add":
		switch {
		case c.UserEmail == "":
			return errors.New("user add: --email is required")
		case c.TokenRole == "":
			return errors.New("user add: --role is required")
		case c.TokenRole != "admin" && c.TokenOrg == 0:
			return fmt.Errorf("user add: --org is required with --role %s", c.TokenRole)
		}
	}
	return nil
}

// fieldPrefix names the offending field of an application error as the
// flag that sets it, or as what it is when no flag sets it.
func fieldPrefix(err error) string {
	f := cmdb.ErrorField(err)
	if f == "" {
		return ""
	}
	f = strings.TrimPrefix(f, "memberships[0].")
	switch f {
	case "email", "name", "role":
		return "--" + f + ": "
	case "org_id", "org_kind":
		return "--org: "
	case "expires_at":
		return "--expires: "
	case "password":
		return "password (from CMDB_PASSWORD, the terminal or standard input): "
	}
	return f + ": "
}
