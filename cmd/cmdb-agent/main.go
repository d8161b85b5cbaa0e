// Command cmdb-agent is the cmdb device agent: inventory, enroll, run,
// install, uninstall.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/schulit/cmdb/agent"
	"github.com/schulit/cmdb/agent/collect"
	"github.com/schulit/cmdb/agentproto"
	"github.com/schulit/cmdb/internal/buildinfo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	if err := m.ParseFlags(os.Args[1:]); errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "cmdb-agent:", err)
		os.Exit(2)
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "cmdb-agent:", err)
		os.Exit(1)
	}
}

// Config is the parsed command line.
type Config struct {
	Command   string // inventory, enroll, run, install, uninstall, version
	StatePath string
	Server    string
	Token     agentproto.Secret
	Once      bool
	LogFormat string
	LogLevel  string
}

// Main runs one command of the agent.
type Main struct {
	Config Config
	Stdout io.Writer
	Stderr io.Writer
	// AgentOptions are passed to agent.New after StatePath, Logger and
	// UserAgent are filled in; tests set Collect or HTTP here.
	AgentOptions agent.Options

	log  *slog.Logger
	host *serviceHost // nil: this machine
}

// NewMain returns a Main writing to the process's stdout and stderr.
func NewMain() *Main { return &Main{Stdout: os.Stdout, Stderr: os.Stderr} }

const usage = `Usage: cmdb-agent <command> [flags]

Commands:
  inventory                          print this machine's inventory as JSON (no network)
  enroll --server URL --token T      enrol this machine once (token also from CMDB_ENROLL_TOKEN)
  run [--once]                       report on the interval the server sets (default 1 h)
  install                            copy the agent to /usr/local/bin (Windows: %ProgramFiles%\cmdb-agent)
                                     and run it there as a system service; enrol (as root) first
  uninstall                          remove the service and the copied agent; the enrolment stays
  version                            print the version

All commands but inventory and version take --state FILE (env CMDB_AGENT_STATE).
`

// ParseFlags parses the command and its flags; flags fall back to
// environment variables.
func (m *Main) ParseFlags(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return errors.New("no command given")
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "inventory", "enroll", "run", "install", "uninstall", "version":
	case "help", "-h", "--help":
		fmt.Fprint(m.Stderr, usage)
		return flag.ErrHelp
	default:
		fmt.Fprint(m.Stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	c := &m.Config
	c.Command = cmd
	fs := flag.NewFlagSet("cmdb-agent "+cmd, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&c.LogFormat, "log-format", envOr("CMDB_LOG_FORMAT", "auto"), "log format: auto, text or json (env CMDB_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", envOr("CMDB_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env CMDB_LOG_LEVEL)")
	if cmd != "inventory" && cmd != "version" {
		fs.StringVar(&c.StatePath, "state", envOr("CMDB_AGENT_STATE", agent.DefaultStatePath()), "state file (env CMDB_AGENT_STATE); the spool is next to it")
	}
	var token string
	switch cmd {
	case "enroll":
		fs.StringVar(&c.Server, "server", os.Getenv("CMDB_SERVER"), "server URL, e.g. https://cmdb.example.org (env CMDB_SERVER)")
		fs.StringVar(&token, "token", os.Getenv("CMDB_ENROLL_TOKEN"), "enrolment token of the school (env CMDB_ENROLL_TOKEN)")
	case "run":
		fs.BoolVar(&c.Once, "once", false, "make one report and exit")
	}
	if err := fs.Parse(args); err != nil {
		return err
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.Token = agentproto.Secret(token)
	if cmd == "enroll" && (c.Server == "" || token == "") {
		return errors.New("enroll: --server and --token are required")
	}
	if !map[string]bool{"auto": true, "text": true, "json": true}[c.LogFormat] {
		return fmt.Errorf("--log-format: must be auto, text or json, not %q", c.LogFormat)
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func (m *Main) logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(m.Config.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	format := m.Config.LogFormat
	if format == "auto" {
		format = "json"
		if f, ok := m.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(m.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(m.Stderr, opts))
}

// Run runs the parsed command until it is done or ctx is cancelled.
func (m *Main) Run(ctx context.Context) error {
	m.log = m.logger()
	switch m.Config.Command {
	case "version":
		_, err := fmt.Fprintln(m.Stdout, "cmdb-agent", buildinfo.Get())
		return err
	case "inventory":
		return m.inventory(ctx)
	case "install", "uninstall":
		return m.service(m.Config.Command)
	}
	a, err := m.agent()
	if err != nil {
		return err
	}
	switch m.Config.Command {
	case "enroll":
		if err := a.Enroll(ctx, m.Config.Server, m.Config.Token); err != nil {
			return err
		}
		_, err = fmt.Fprintf(m.Stdout, "enrolled as device %s; state in %s\n", a.State().DeviceID, m.Config.StatePath)
		return err
	case "run":
		if m.Config.Once {
			return a.Once(ctx)
		}
		return runService(ctx, a, m.log)
	}
	return fmt.Errorf("unknown command %q", m.Config.Command)
}

func (m *Main) agent() (*agent.Agent, error) {
	o := m.AgentOptions
	o.StatePath = m.Config.StatePath
	o.Logger = m.log
	o.UserAgent = "cmdb-agent/" + buildinfo.Get().Version
	if o.Collect == nil {
		log := m.log
		o.Collect = func(ctx context.Context) agentproto.Inventory {
			return collect.Collect(ctx, collect.Options{Logger: log})
		}
	}
	return agent.New(o)
}

func (m *Main) inventory(ctx context.Context) error {
	collectInv := m.AgentOptions.Collect
	if collectInv == nil {
		collectInv = func(ctx context.Context) agentproto.Inventory {
			return collect.Collect(ctx, collect.Options{Logger: m.log})
		}
	}
	inv := collectInv(ctx)
	enc := json.NewEncoder(m.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(inv)
}

// serviceArgs is the command line the service runs.
func (m *Main) serviceArgs() []string {
	return []string{"run", "--state", m.Config.StatePath}
}
