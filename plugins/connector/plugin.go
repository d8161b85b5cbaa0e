package connector

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// ProtocolVersion is the newest protocol version this package speaks.
// Version 1 is the gRPC service in proto/connector.proto.
const ProtocolVersion = 1

// pluginName is the name of the one plugin in each plugin set.
const pluginName = "connector"

// Handshake is what host and connector must agree on before they talk.
// The cookie is no secret: it keeps a person who runs a connector by hand
// from staring at a hung process, and tells a binary that is no connector
// apart from one.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "CMDB_CONNECTOR_PLUGIN",
	MagicCookieValue: "5b9e1c0f7a3d4e26b8c1f09d2a6e7b43",
}

// pluginSets lists the protocol versions and their plugins. A future
// version 2 is added next to version 1, so that the host keeps talking to
// connectors built against version 1.
func pluginSets(impl Connector) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		1: {pluginName: &grpcPlugin{impl: impl}},
	}
}

// Serve runs impl as a connector plugin; a connector's main calls it and
// nothing else. Run by hand (not by the host), it explains that and exits.
func Serve(impl Connector) {
	if os.Getenv(Handshake.MagicCookieKey) != Handshake.MagicCookieValue {
		fmt.Fprintf(os.Stderr, "%s ist ein Connector der CMDB und wird vom CMDB-Server gestartet, nicht von Hand.\n"+
			"%s is a CMDB connector plugin; the CMDB server starts it.\n", filepath.Base(os.Args[0]), filepath.Base(os.Args[0]))
		os.Exit(1)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: pluginSets(impl),
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: "connector", Output: os.Stderr, JSONFormat: true, Level: hclog.Info,
		}),
	})
}

// Options tune Launch; zero values take the defaults.
type Options struct {
	// StartTimeout bounds the start and handshake (default 15 s).
	StartTimeout time.Duration
	// CallTimeout bounds Describe, Check and Push when the caller's context
	// has no earlier deadline (default 2 min).
	CallTimeout time.Duration
	// StallTimeout is how long Pull waits for the next batch before it
	// gives the connector up as hung (default 5 min). Time the host spends
	// in emit does not count.
	StallTimeout time.Duration
	// Env is added to the connector's environment.
	Env []string
	// SHA256, when set, is the checksum the executable must have; a
	// replaced binary is refused before it runs.
	SHA256 []byte
}

// WithDefaults is o with its zero fields set to the defaults Launch uses.
func (o Options) WithDefaults() Options {
	if o.StartTimeout <= 0 {
		o.StartTimeout = 15 * time.Second
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 2 * time.Minute
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = 5 * time.Minute
	}
	return o
}

// Errors the host can tell apart with errors.Is.
var (
	// ErrStart: the executable could not be started or did not complete
	// the handshake (not a connector, wrong protocol, junk on stdout).
	ErrStart = errors.New("could not be started")
	// ErrChecksum: the executable is not the one registered (Options.SHA256).
	ErrChecksum = errors.New("the executable's SHA-256 is not the registered one; was the file replaced?")
	// ErrCrashed: the connector process ended during a call.
	ErrCrashed = errors.New("the process ended unexpectedly")
	// ErrHung: the connector did not answer in time and was stopped.
	ErrHung = errors.New("did not answer in time and was stopped")
	// ErrStopped: the connector was stopped before this call.
	ErrStopped = errors.New("has been stopped")
)

// Launch starts the connector executable at path with the default Options
// and returns it as a Connector, and a function that stops it (kills the
// process; safe to call more than once). Logs of the connector go to
// logger. The process is managed: KillAll stops every connector still
// running, for the host's shutdown.
func Launch(ctx context.Context, path string, logger *slog.Logger) (Connector, func(), error) {
	return LaunchWith(ctx, path, logger, Options{})
}

// LaunchWith is Launch with Options.
func LaunchWith(ctx context.Context, path string, logger *slog.Logger, o Options) (Connector, func(), error) {
	o = o.WithDefaults()
	name := filepath.Base(path)
	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), o.Env...)
	dieWithHost(cmd)
	words := &lastWords{}
	var secure *plugin.SecureConfig
	if o.SHA256 != nil {
		secure = &plugin.SecureConfig{Checksum: o.SHA256, Hash: sha256.New()}
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		SecureConfig:     secure,
		HandshakeConfig:  Handshake,
		VersionedPlugins: pluginSets(nil),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Managed:          true,
		StartTimeout:     o.StartTimeout,
		Logger:           newHCLogAdapter(logger, "connector."+name),
		Stderr:           words,
	})
	stop := sync.OnceFunc(client.Kill)

	type started struct {
		rpc plugin.ClientProtocol
		err error
	}
	ch := make(chan started, 1)
	go func() {
		rpc, err := client.Client()
		ch <- started{rpc, err}
	}()
	var s started
	select {
	case s = <-ch:
	case <-ctx.Done():
		stop()
		return nil, nil, fmt.Errorf("connector %q: %w: %w", name, ErrStart, ctx.Err())
	}
	if errors.Is(s.err, plugin.ErrChecksumsDoNotMatch) {
		stop()
		return nil, nil, fmt.Errorf("connector %q: %w: %w", name, ErrStart, ErrChecksum)
	}
	if s.err != nil {
		stop()
		return nil, nil, fmt.Errorf("connector %q: %w: %w", name, ErrStart, s.err)
	}
	raw, err := s.rpc.Dispense(pluginName)
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("connector %q: %w: %w", name, ErrStart, err)
	}
	inner, ok := raw.(Connector)
	if !ok {
		stop()
		return nil, nil, fmt.Errorf("connector %q: %w: protocol version %d has no connector", name, ErrStart, client.NegotiatedVersion())
	}
	g := &guarded{inner: inner, client: client, cmd: cmd, words: words, stop: stop, name: name, opts: o}
	return g, stop, nil
}

// lastWords keeps the panic line of a connector's stderr, so that a
// crash is reported with its cause.
type lastWords struct {
	mu      sync.Mutex
	line    []byte
	panicky string
}

func (w *lastWords) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range p {
		if b != '\n' {
			if len(w.line) < 1024 {
				w.line = append(w.line, b)
			}
			continue
		}
		if l := string(w.line); strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			w.panicky = l
		}
		w.line = w.line[:0]
	}
	return len(p), nil
}

func (w *lastWords) panic() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.panicky
}

// KillAll stops every connector process Launch started that is still
// running; the host calls it on shutdown so that no connector outlives it.
func KillAll() { plugin.CleanupClients() }

// guarded is the Connector the host gets: it puts a deadline on every
// call, watches Pull for stalls, stops a hung connector, and turns broken
// transports into ErrCrashed or ErrHung with the connector's name.
type guarded struct {
	inner  Connector
	client *plugin.Client
	cmd    *exec.Cmd
	words  *lastWords
	stop   func()
	name   string
	opts   Options
}

func (g *guarded) call(ctx context.Context, op string, f func(context.Context) error) error {
	if g.client.Exited() {
		return fmt.Errorf("connector %q %s: %w", g.name, op, ErrStopped)
	}
	cctx, cancel := context.WithTimeout(ctx, g.opts.CallTimeout)
	defer cancel()
	err := f(cctx)
	if err == nil {
		return nil
	}
	return g.explain(ctx, cctx, op, err, false)
}

// explain says why a call failed, in the host's words. ctx is the caller's
// context, cctx the call's own.
func (g *guarded) explain(ctx, cctx context.Context, op string, err error, stalled bool) error {
	var remote *RemoteError
	switch {
	case ctx.Err() != nil:
		// The caller gave up (cancel, or its own deadline): not the
		// connector's fault, and the connector may be used again.
		return fmt.Errorf("connector %q %s: %w", g.name, op, ctx.Err())
	case stalled:
		g.stop()
		return fmt.Errorf("connector %q %s: %w (no records for %s)", g.name, op, ErrHung, g.opts.StallTimeout)
	case cctx.Err() != nil:
		g.stop()
		return fmt.Errorf("connector %q %s: %w (no answer within %s)", g.name, op, ErrHung, g.opts.CallTimeout)
	case errors.As(err, &remote), errors.Is(err, ErrUnsupported):
		return fmt.Errorf("connector %q %s: %w", g.name, op, err)
	}
	if g.exited() {
		// Exited has seen the wait end, so ProcessState is set.
		how := "exit"
		if st := g.cmd.ProcessState; st != nil {
			how = st.String()
		}
		if p := g.words.panic(); p != "" {
			how += ", " + p
		}
		return fmt.Errorf("connector %q %s: %w (%s)", g.name, op, ErrCrashed, how)
	}
	// The transport broke but the process lives: it cannot be trusted.
	g.stop()
	return fmt.Errorf("connector %q %s: %w", g.name, op, err)
}

// exited waits briefly for the process to be reaped: a crash closes the
// connection a moment before go-plugin notices the exit.
func (g *guarded) exited() bool {
	deadline := time.Now().Add(2 * time.Second)
	for !g.client.Exited() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

func (g *guarded) Describe(ctx context.Context) (Description, error) {
	var d Description
	err := g.call(ctx, "Describe", func(ctx context.Context) (err error) {
		d, err = g.inner.Describe(ctx)
		return err
	})
	return d, err
}

func (g *guarded) Check(ctx context.Context, cfg Config) (CheckResult, error) {
	var r CheckResult
	err := g.call(ctx, "Check", func(ctx context.Context) (err error) {
		r, err = g.inner.Check(ctx, cfg)
		return err
	})
	return r, err
}

func (g *guarded) Push(ctx context.Context, cfg Config, changes []Change) (PushResult, error) {
	var r PushResult
	err := g.call(ctx, "Push", func(ctx context.Context) (err error) {
		r, err = g.inner.Push(ctx, cfg, changes)
		return err
	})
	return r, err
}

// Pull has no overall deadline beyond the caller's (a full pull may take
// long); instead the time between two batches is bounded.
func (g *guarded) Pull(ctx context.Context, cfg Config, emit func([]Record) error) error {
	if g.client.Exited() {
		return fmt.Errorf("connector %q Pull: %w", g.name, ErrStopped)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	stalled := false
	timer := time.AfterFunc(g.opts.StallTimeout, func() {
		mu.Lock()
		stalled = true
		mu.Unlock()
		cancel()
	})
	defer timer.Stop()
	var emitErr error
	err := g.inner.Pull(cctx, cfg, func(batch []Record) error {
		timer.Stop()
		if emitErr = emit(batch); emitErr != nil {
			return emitErr
		}
		timer.Reset(g.opts.StallTimeout)
		return nil
	})
	if err == nil {
		return nil
	}
	if emitErr != nil && errors.Is(err, emitErr) {
		return emitErr // the host's own error, unchanged
	}
	mu.Lock()
	s := stalled
	mu.Unlock()
	return g.explain(ctx, cctx, "Pull", err, s)
}
