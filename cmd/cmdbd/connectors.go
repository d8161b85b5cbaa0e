package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/schollz/progressbar/v3"
	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/connsync"
	"golang.org/x/term"
)

// connectorCommands parse their own flags (like snmp poll) and open the
// database themselves.
var connectorCommands = map[string]bool{
	"connector-add": true, "connector-list": true, "connector-check": true, "connector-remove": true, "connector-repin": true,
	"sync-run": true, "bench-sync": true,
}

// connectorFlags are the flags of the connector and sync commands.
type connectorFlags struct {
	db, dataDir              string
	authority, name, bin     string
	settings, settingsFile   string
	mappingFile, schedule    string
	secretEnv                multiFlag
	deletePolicy             string
	disposeAfter             int
	guardShare               float64
	replace, dryRun, confirm bool
	push                     bool
	asJSON                   bool
	all                      bool   // repin: every instance
	connectorDir             string // repin
	rows                     int
	cpuProfile               string
}

type multiFlag []string

func (f *multiFlag) String() string     { return strings.Join(*f, ",") }
func (f *multiFlag) Set(v string) error { *f = append(*f, v); return nil }

// runConnectorCommand runs cmdbd connector add|list|check|remove|repin,
// sync run and bench sync.
func (m *Main) runConnectorCommand(ctx context.Context) error {
	cmd := m.Config.Command
	fs := flag.NewFlagSet("cmdbd "+strings.ReplaceAll(cmd, "-", " "), flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	var f connectorFlags
	fs.StringVar(&f.db, "db", os.Getenv("CMDB_DATABASE_URL"), "PostgreSQL URL (env CMDB_DATABASE_URL); empty: private PostgreSQL in --data-dir")
	fs.StringVar(&f.dataDir, "data-dir", envOr("CMDB_DATA_DIR", "./cmdb-data"), "data directory (env CMDB_DATA_DIR)")
	fs.StringVar(&m.Config.LogFormat, "log-format", envOr("CMDB_LOG_FORMAT", "auto"), "log format: auto, text or json (env CMDB_LOG_FORMAT)")
	fs.StringVar(&m.Config.LogLevel, "log-level", envOr("CMDB_LOG_LEVEL", "warn"), "log level: debug, info, warn, error (env CMDB_LOG_LEVEL)")
	switch cmd {
	case "bench-sync":
	case "connector-repin":
		fs.StringVar(&f.authority, "authority", "", "code of the authority; empty: every authority (with --all)")
	default:
		fs.StringVar(&f.authority, "authority", "", "code of the authority (required)")
	}
	switch cmd {
	case "connector-repin":
		fs.StringVar(&f.name, "name", "", "name of the connector instance to re-pin (with --authority)")
		fs.BoolVar(&f.all, "all", false, "re-pin every instance whose executable lies in the connector directory")
		fs.StringVar(&f.connectorDir, "connector-dir", os.Getenv("CMDB_CONNECTOR_DIR"), "directory of the installed connectors (env CMDB_CONNECTOR_DIR); default as serve's")
	case "connector-add", "connector-check", "connector-remove":
		fs.StringVar(&f.name, "name", "", "name of the connector instance, e.g. inventar (required)")
	case "sync-run":
		fs.StringVar(&f.name, "connector", "", "name of the connector instance (required)")
		fs.BoolVar(&f.dryRun, "dry-run", false, "compute everything, write nothing, print what would change")
		fs.BoolVar(&f.confirm, "confirm", false, "retire even when more than the guard share of records disappeared")
		fs.BoolVar(&f.asJSON, "json", false, "print the run's summary as JSON")
	case "connector-list":
		fs.BoolVar(&f.asJSON, "json", false, "print JSON")
	case "bench-sync":
		fs.IntVar(&f.rows, "rows", 100000, "rows of the generated CSV")
		fs.StringVar(&f.bin, "binary", "", "csv connector executable; empty: built with go build, or cmdb-connector-csv beside cmdbd")
		fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of each run to this file with suffix .first / .resync (go tool pprof)")
	}
	if cmd == "connector-add" {
		fs.StringVar(&f.bin, "binary", "", "path of the connector executable (required); its SHA-256 is pinned")
		fs.StringVar(&f.settings, "settings", "{}", "settings as a JSON object")
		fs.StringVar(&f.settingsFile, "settings-file", "", "read the settings from this JSON file")
		fs.StringVar(&f.mappingFile, "mapping-file", "", "field, value and school mapping as JSON (see README)")
		fs.StringVar(&f.schedule, "schedule", "", "cron expression (five fields), e.g. \"0 2 * * *\"; empty: by hand only")
		fs.Var(&f.secretEnv, "secret-env", "NAME=ENVVAR: set secret NAME from environment variable ENVVAR (repeatable; never on the command line)")
		fs.StringVar(&f.deletePolicy, "delete-policy", cmdb.DeleteIgnore, "when a record disappears: ignore, retire or retire_dispose")
		fs.IntVar(&f.disposeAfter, "dispose-after-days", 0, "retire_dispose: days from retired to disposed")
		fs.Float64Var(&f.guardShare, "guard-share", cmdb.DefaultGuardShare, "largest share of records that may disappear in one run without --confirm")
		fs.BoolVar(&f.push, "push", false, "write CMDB changes (status, location, serial, MAC) back to the source after each run; the connector must be able to")
		fs.BoolVar(&f.replace, "replace", false, "replace an instance of the same name (binary, settings, mapping; secrets given are set)")
	}
	if err := fs.Parse(m.Config.SNMPArgs); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	m.log = m.logger()
	if cmd == "bench-sync" {
		return m.benchSync(ctx, f)
	}
	if cmd == "connector-repin" {
		return m.connectorRepin(ctx, f)
	}
	if f.authority == "" {
		return errors.New("--authority is required")
	}
	if f.name == "" && cmd != "connector-list" {
		return errors.New(map[bool]string{true: "--connector", false: "--name"}[cmd == "sync-run"] + " is required")
	}
	m.Config.DataDir = f.dataDir
	if err := m.openDB(ctx, f.db, f.dataDir); err != nil {
		return err
	}
	s := cmdb.AdminScope("cli")
	auth, err := m.authorityByCode(ctx, s, f.authority)
	if err != nil {
		return err
	}
	switch cmd {
	case "connector-add":
		return m.connectorAdd(ctx, s, auth, f)
	case "connector-list":
		return m.connectorList(ctx, s, auth, f)
	}
	inst, err := m.db.FindConnectorByName(ctx, s, auth.ID, f.name)
	if err != nil {
		return fmt.Errorf("connector %q of %s: %s", f.name, auth.Code, cmdb.ErrorMessage(err))
	}
	switch cmd {
	case "connector-remove":
		if err := m.db.DeleteConnector(ctx, s, inst.ID); err != nil {
			return fmt.Errorf("connector remove: %s", cmdb.ErrorMessage(err))
		}
		fmt.Fprintf(m.Stdout, "connector %s of %s removed (its CIs stay)\n", inst.Name, auth.Code)
		return nil
	case "connector-check":
		e := connsync.New(connsync.Options{Store: m.db, Logger: m.log})
		defer e.Close()
		res, err := e.Check(ctx, s, inst)
		if err != nil {
			return fmt.Errorf("connector check: %w", err)
		}
		fmt.Fprintln(m.Stdout, res.Message)
		for _, p := range res.Problems {
			fmt.Fprintf(m.Stdout, "  %s (%s): %s\n", p.Field, p.Rule, p.Message)
		}
		if !res.OK {
			return errors.New("connector check: the configuration is not usable")
		}
		return nil
	}
	return m.syncRun(ctx, s, inst, f)
}

func (m *Main) authorityByCode(ctx context.Context, s cmdb.Scope, code string) (*cmdb.Authority, error) {
	all, err := m.db.FindAuthorities(ctx, s)
	if err != nil {
		return nil, err
	}
	for _, a := range all {
		if strings.EqualFold(a.Code, code) {
			return a, nil
		}
	}
	return nil, fmt.Errorf("--authority: no authority has the code %q", code)
}

func fileSHA256(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func (m *Main) connectorAdd(ctx context.Context, s cmdb.Scope, auth *cmdb.Authority, f connectorFlags) error {
	if f.bin == "" {
		return errors.New("--binary is required")
	}
	if f.schedule != "" {
		if _, err := cron.ParseStandard(f.schedule); err != nil {
			return fmt.Errorf("--schedule: not a cron expression of five fields (minute hour day month weekday): %v", err)
		}
	}
	bin, err := filepath.Abs(f.bin)
	if err != nil {
		return err
	}
	// Start it once: it must be a connector, and it names its plugin.
	desc, sum, err := m.describeBinary(ctx, bin)
	if err != nil {
		return fmt.Errorf("--binary: %w", err)
	}
	if err := cmdb.CheckPush(desc.Name, f.push, desc.Can(connector.CapPush)); err != nil {
		return fmt.Errorf("connector add: --%s%s", fieldPrefix(err), cmdb.ErrorMessage(err))
	}
	settings := []byte(f.settings)
	if f.settingsFile != "" {
		if settings, err = os.ReadFile(f.settingsFile); err != nil {
			return fmt.Errorf("--settings-file: %w", err)
		}
	}
	var mapping cmdb.ConnectorMapping
	if f.mappingFile != "" {
		b, err := os.ReadFile(f.mappingFile)
		if err != nil {
			return fmt.Errorf("--mapping-file: %w", err)
		}
		if err := json.Unmarshal(b, &mapping); err != nil {
			return fmt.Errorf("--mapping-file: not a mapping in JSON: %w", err)
		}
	}
	secrets := map[string]string{}
	for _, kv := range f.secretEnv {
		name, env, ok := strings.Cut(kv, "=")
		if !ok || os.Getenv(env) == "" {
			return fmt.Errorf("--secret-env %s: give NAME=ENVVAR with ENVVAR set in the environment", name)
		}
		secrets[name] = os.Getenv(env)
	}
	inst := &cmdb.ConnectorInstance{AuthorityID: auth.ID, Name: f.name, Plugin: desc.Name, BinaryPath: bin, BinarySHA256: sum,
		Settings: settings, Schedule: f.schedule, Mapping: mapping, DeletePolicy: f.deletePolicy,
		DisposeAfterDays: f.disposeAfter, GuardShare: f.guardShare, Push: f.push}
	err = m.db.CreateConnector(ctx, s, inst, secrets)
	if cmdb.ErrorCode(err) == cmdb.ECONFLICT && f.replace {
		old, ferr := m.db.FindConnectorByName(ctx, s, auth.ID, f.name)
		if ferr != nil {
			return ferr
		}
		raw := json.RawMessage(settings)
		inst, err = m.db.UpdateConnector(ctx, s, old.ID, cmdb.ConnectorUpdate{Settings: &raw, Secrets: secrets,
			Schedule: &f.schedule, Mapping: &mapping, DeletePolicy: &f.deletePolicy, DisposeAfterDays: &f.disposeAfter,
			GuardShare: &f.guardShare, BinaryPath: &bin, BinarySHA256: &sum, Push: &f.push})
	}
	if err != nil {
		return fmt.Errorf("connector add: %s%s", fieldPrefix(err), cmdb.ErrorMessage(err))
	}
	fmt.Fprintf(m.Stdout, "connector %s of %s: plugin %s %s, SHA-256 %s…, secrets set: %s, push %s\n", inst.Name, auth.Code,
		desc.Name, desc.Version, sum[:12], strings.Join(orNone(inst.SecretNames), ", "), onOff(inst.Push))
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func orNone(s []string) []string {
	if len(s) == 0 {
		return []string{"none"}
	}
	return s
}

func (m *Main) connectorList(ctx context.Context, s cmdb.Scope, auth *cmdb.Authority, f connectorFlags) error {
	list, err := m.db.FindConnectors(ctx, s, auth.ID)
	if err != nil {
		return err
	}
	if f.asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPLUGIN\tSCHEDULE\tDELETE POLICY\tPUSH\tSECRETS\tLAST RUN")
	for _, c := range list {
		last := "-"
		if runs, err := m.db.FindConnectorRuns(ctx, s, c.ID, 1); err == nil && len(runs) > 0 {
			last = fmt.Sprintf("%s %s", runs[0].StartedAt.Local().Format("2006-01-02 15:04"), runs[0].Status)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Plugin, orDash(c.Schedule), c.DeletePolicy,
			onOff(c.Push), strings.Join(orNone(c.SecretNames), ","), last)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// syncRun runs one sync in the foreground with a progress bar on a
// terminal and prints its summary.
func (m *Main) syncRun(ctx context.Context, s cmdb.Scope, inst *cmdb.ConnectorInstance, f connectorFlags) error {
	bar := m.progressBar()
	e := connsync.New(connsync.Options{Store: m.db, Logger: m.log, Progress: bar.update})
	defer e.Close()
	start := time.Now()
	run, err := e.Run(ctx, s, inst, connsync.RunOptions{DryRun: f.dryRun, Confirm: f.confirm})
	bar.finish()
	if err != nil {
		return fmt.Errorf("sync run: %s", cmdb.ErrorMessage(err))
	}
	if f.asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(run); err != nil {
			return err
		}
	} else {
		printRun(m.Stdout, run, time.Since(start))
	}
	if run.Status != cmdb.RunSucceeded {
		return fmt.Errorf("sync run %d %s: %s", run.ID, run.Status, run.Failure)
	}
	return nil
}

// printRun writes a run's summary, its errors and a dry run's plan.
func printRun(w io.Writer, run *cmdb.ConnectorRun, took time.Duration) {
	what := "run"
	if run.DryRun {
		what = "dry run (nothing written)"
	}
	fmt.Fprintf(w, "%s %d %s in %.1fs: seen %d, created %d, updated %d, unchanged %d, retired %d, conflicts %d, errors %d, pushed %d, push_failures %d; peak memory %s (connector %s)\n",
		what, run.ID, run.Status, took.Seconds(), run.Seen, run.Created, run.Updated, run.Unchanged, run.Retired,
		run.Conflicts, run.Errors, run.Pushed, run.PushFailures, mib(run.PeakMemoryBytes), mib(run.PluginMemoryBytes))
	if run.Failure != "" {
		fmt.Fprintln(w, "  ", run.Failure)
	}
	for _, e := range run.ErrorList {
		fmt.Fprintf(w, "  ! %s: %s (%s): %s\n", e.Origin, e.Field, e.Rule, e.Message)
	}
	if p := run.Plan; p != nil {
		for _, c := range p.Creates {
			fmt.Fprintf(w, "  + %s (%s)%s\n", c.SourceKey, c.Origin, changesText(c.Changes))
		}
		for _, c := range p.Updates {
			fmt.Fprintf(w, "  ~ CI %d %s%s\n", c.CIID, c.SourceKey, changesText(c.Changes))
		}
		for _, c := range p.Retires {
			fmt.Fprintf(w, "  - CI %d %s%s\n", c.CIID, c.SourceKey, changesText(c.Changes))
		}
		for _, r := range p.Rooms {
			fmt.Fprintf(w, "  + room %s in %s\n", r.Room, r.School)
		}
		for _, c := range p.Pushes {
			fmt.Fprintf(w, "  > push CI %d to %s%s\n", c.CIID, c.SourceKey, changesText(c.Changes))
		}
		if p.Truncated {
			fmt.Fprintf(w, "  … (each list shows at most %d entries)\n", cmdb.MaxPlanEntries)
		}
	}
}

func changesText(cs []cmdb.PlanChange) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "\n      %s: %q → %q", c.Attr, c.Old, c.New)
	}
	return b.String()
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// syncBar is the progress bar of a foreground sync; nil off a terminal.
type syncBar struct{ bar *progressbar.ProgressBar }

func (m *Main) progressBar() *syncBar {
	f, ok := m.Stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return &syncBar{}
	}
	return &syncBar{bar: progressbar.NewOptions(-1, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription("sync"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("records"),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())}
}

func (b *syncBar) update(run *cmdb.ConnectorRun) {
	if b.bar == nil {
		return
	}
	if run.Expected > 0 && b.bar.GetMax() != max(run.Expected, run.Seen) {
		b.bar.ChangeMax(max(run.Expected, run.Seen))
	}
	_ = b.bar.Set(run.Seen)
}

func (b *syncBar) finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
	}
}
