package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/snmp"
)

const snmpPollUsage = `Usage: cmdbd snmp poll --target HOST[:PORT] [credential] [flags]

Polls one device once and prints what the poller understood of it: class,
vendor, model, serial, MAC, page counter, supplies, status, error bits and
alerts. No database is used.

Credential (one of):
  --community C                 SNMP v1/v2c community (env CMDB_SNMP_COMMUNITY)
  --v3-user U --v3-auth-proto P --v3-auth-pass X --v3-priv-proto P --v3-priv-pass X
                                SNMPv3 USM user; pass phrases from env
                                CMDB_SNMP_AUTH_PASS / CMDB_SNMP_PRIV_PASS keep
                                them out of the process list

Flags:
`

// errSNMPUnreachable is returned after printing a result whose device did
// not answer, so that the exit status tells scripts; errors.Is finds it
// in the error that says why.
var errSNMPUnreachable = errors.New("snmp poll: the device did not answer")

// unreachableError says why the device did not answer.
func unreachableError(f cmdb.PollFailure) error {
	if f == "" {
		return errSNMPUnreachable
	}
	return fmt.Errorf("%w: %s (%s)", errSNMPUnreachable, f, f.Describe())
}

// snmpPollCommand is "cmdbd snmp poll": it polls one device once and
// prints what the poller understood, as JSON with --json or as a table.
// Communities and pass phrases are never printed.
func snmpPollCommand(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runSNMPPoll(ctx, args, stdout, stderr)
}

func runSNMPPoll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cmdbd snmp poll", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, snmpPollUsage)
		fs.PrintDefaults()
	}
	var (
		target, version, community, user, authProto, authPass, privProto, privPass, contextName, profiles string
		timeout                                                                                           time.Duration
		retries                                                                                           int
		asJSON                                                                                            bool
	)
	fs.StringVar(&target, "target", "", "device to poll: host or IP address, optionally :port (default port 161)")
	fs.StringVar(&version, "snmp-version", "", "SNMP version 1 or 2c with --community (default 2c); 3 with --v3-user")
	fs.StringVar(&community, "community", "", "SNMP v1/v2c community (env CMDB_SNMP_COMMUNITY)")
	fs.StringVar(&user, "v3-user", "", "SNMPv3 user name")
	fs.StringVar(&authProto, "v3-auth-proto", "", "SNMPv3 authentication protocol: "+strings.Join(cmdb.SNMPAuthProtocols, ", "))
	fs.StringVar(&authPass, "v3-auth-pass", "", "SNMPv3 authentication pass phrase (env CMDB_SNMP_AUTH_PASS)")
	fs.StringVar(&privProto, "v3-priv-proto", "", "SNMPv3 privacy protocol: "+strings.Join(cmdb.SNMPPrivProtocols, ", "))
	fs.StringVar(&privPass, "v3-priv-pass", "", "SNMPv3 privacy pass phrase (env CMDB_SNMP_PRIV_PASS)")
	fs.StringVar(&contextName, "v3-context", "", "SNMPv3 context name")
	fs.DurationVar(&timeout, "timeout", snmp.DefaultTimeout, "how long each request waits for an answer")
	fs.IntVar(&retries, "retries", 1, "how often a request is sent again after a timeout")
	fs.StringVar(&profiles, "profiles", os.Getenv("CMDB_SNMP_PROFILES"), "directory of YAML profile files that extend or override the built-in ones (env CMDB_SNMP_PROFILES)")
	fs.BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	} else if fs.NArg() > 0 {
		return fmt.Errorf("snmp poll: unexpected argument %q", fs.Arg(0))
	}
	if target == "" {
		fs.Usage()
		return errors.New("snmp poll: --target is required")
	}
	if timeout <= 0 {
		return errors.New("snmp poll: --timeout must be positive")
	} else if retries < 0 {
		return errors.New("snmp poll: --retries must not be negative")
	}
	// Secrets fall back to the environment after parsing, so that usage
	// output, which shows flag defaults, never contains them.
	if user != "" && community != "" {
		return errors.New("snmp poll: pass either --community or --v3-user, not both")
	}
	if user == "" && community == "" {
		community = os.Getenv("CMDB_SNMP_COMMUNITY")
	}
	if authPass == "" {
		authPass = os.Getenv("CMDB_SNMP_AUTH_PASS")
	}
	if privPass == "" {
		privPass = os.Getenv("CMDB_SNMP_PRIV_PASS")
	}
	var cred cmdb.SNMPCredential
	switch {
	case user != "":
		if version != "" && version != "3" {
			return fmt.Errorf("snmp poll: --snmp-version %s does not go with --v3-user", version)
		}
		cred = cmdb.SNMPCredential{Name: "command line", Version: "3", User: user,
			AuthProto: strings.ToUpper(authProto), AuthPass: cmdb.Secret(authPass),
			PrivProto: strings.ToUpper(privProto), PrivPass: cmdb.Secret(privPass)}
	case community != "":
		if version == "" {
			version = "2c"
		}
		if version != "1" && version != "2c" {
			return fmt.Errorf("snmp poll: --snmp-version must be 1 or 2c with --community, not %q", version)
		}
		cred = cmdb.SNMPCredential{Name: "command line", Version: version, Community: cmdb.Secret(community)}
	default:
		fs.Usage()
		return errors.New("snmp poll: pass --community or --v3-user")
	}
	opts := snmp.Options{Timeout: timeout, Retries: retries, ContextName: contextName}
	if profiles != "" {
		cat, err := snmp.LoadCatalog(profiles)
		if err != nil {
			return fmt.Errorf("snmp poll: --profiles: %s", cmdb.ErrorMessage(err))
		}
		opts.Catalog = cat
	}
	rep, err := snmp.PollReport(ctx, target, []cmdb.SNMPCredential{cred}, opts)
	if err != nil {
		if f := cmdb.ErrorField(err); f != "" {
			return fmt.Errorf("snmp poll: %s: %s", snmpFlagOf(f), cmdb.ErrorMessage(err))
		}
		return fmt.Errorf("snmp poll: %w", err)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := printPollReport(stdout, rep); err != nil {
		return err
	}
	if !rep.Reachable {
		return unreachableError(rep.Failure)
	}
	return nil
}

// snmpFlagOf names the flag behind a field of an EINVALID error.
func snmpFlagOf(field string) string {
	field = strings.TrimPrefix(field, "credentials[0].")
	switch field {
	case "target":
		return "--target"
	case "community":
		return "--community"
	case "version":
		return "--snmp-version"
	case "user":
		return "--v3-user"
	case "auth_proto":
		return "--v3-auth-proto"
	case "auth_pass":
		return "--v3-auth-pass"
	case "priv_proto":
		return "--v3-priv-proto"
	case "priv_pass":
		return "--v3-priv-pass"
	}
	return field
}

// printPollReport prints a report as a readable table.
func printPollReport(w io.Writer, rep *snmp.Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\n", k, v)
	}
	r := rep.PollResult
	row("Target", r.Target)
	if !r.Reachable {
		row("Reachable", "no (no answer to any credential)")
		if r.Failure != "" {
			row("Reason", string(r.Failure)+": "+r.Failure.Describe())
		}
		return tw.Flush()
	}
	row("Reachable", "yes, credential \""+rep.Credential+"\", profile "+rep.Profile)
	if r.Failure != "" {
		row("Note", string(r.Failure)+": "+r.Failure.Describe())
	}
	row("Class", r.Class)
	row("Vendor", r.Vendor)
	row("Model", r.Model)
	row("Serial", r.Serial)
	row("MAC", r.MAC)
	row("Name", r.SysName)
	row("Location", r.SysLocation)
	row("Description", r.SysDescr)
	row("sysObjectID", r.SysObjectID)
	row("Uptime", (time.Duration(r.UptimeSecs) * time.Second).String())
	if r.PageCount != nil {
		row("Page count", strconv.FormatInt(*r.PageCount, 10))
	} else {
		row("Page count", "")
	}
	row("Status", r.Status)
	row("Errors", strings.Join(r.Errors, ", "))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Supplies) > 0 {
		fmt.Fprintln(w, "\nSupplies")
		fmt.Fprintln(tw, "  #\tDESCRIPTION\tTYPE\tCOLOR\tLEVEL\tMAX\tUNIT\tSTATE\tPERCENT")
		for _, s := range r.Supplies {
			pct := "-"
			if s.Percent != nil {
				pct = strconv.FormatFloat(*s.Percent, 'f', -1, 64) + " %"
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", s.Index, dash(s.Description), dash(s.Type),
				dash(s.Colorant), s.Level, s.Max, dash(s.Unit), s.State, pct)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Alerts) > 0 {
		fmt.Fprintln(w, "\nAlerts")
		fmt.Fprintln(tw, "  #\tSEVERITY\tGROUP\tCODE\tDESCRIPTION")
		for _, a := range r.Alerts {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\n", a.Index, a.Severity, dash(a.Group), dash(a.Code), dash(a.Description))
		}
		return tw.Flush()
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
