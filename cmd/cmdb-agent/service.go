package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/kardianos/service"

	"github.com/schulit/cmdb/agent"
)

// program adapts the agent's Run loop to kardianos/service.
type program struct {
	run    func(ctx context.Context) error
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
}

// Start implements service.Interface; it must not block.
func (p *program) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		defer close(p.done)
		if err := p.run(ctx); err != nil {
			p.log.Error("agent stopped", "err", err)
		}
	}()
	return nil
}

// Stop implements service.Interface: it cancels the run and waits a
// little for the current report to end.
func (p *program) Stop(service.Service) error {
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
	}
	return nil
}

func serviceConfig(args []string) *service.Config {
	c := &service.Config{
		Name:        "cmdb-agent",
		DisplayName: "CMDB agent",
		Description: "Reports this machine's inventory to the school authority's CMDB.",
		Arguments:   args,
		Option:      service.KeyValue{"DelayedAutoStart": true, "Restart": "always"},
	}
	if runtime.GOOS == "linux" {
		c.Dependencies = []string{"After=network-online.target", "Wants=network-online.target"}
	}
	return c
}

// service installs or uninstalls the agent as a system service that runs
// "cmdb-agent run --state FILE".
func (m *Main) service(action string) error {
	s, err := service.New(&program{}, serviceConfig(m.serviceArgs()))
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	switch action {
	case "install":
		if err := s.Install(); err != nil {
			return fmt.Errorf("install: %w", err)
		}
		if err := s.Start(); err != nil {
			return fmt.Errorf("install: installed, but starting failed: %w", err)
		}
	case "uninstall":
		_ = s.Stop() // it may not be running
		if err := s.Uninstall(); err != nil {
			return fmt.Errorf("uninstall: %w", err)
		}
	}
	_, err = fmt.Fprintf(m.Stdout, "%sed service cmdb-agent (%s)\n", action, service.ChosenSystem())
	return err
}

// runService runs the agent until ctx is cancelled. Under the Windows
// service manager it must talk to the manager; systemd and launchd just
// run the process and send SIGTERM, which cancels ctx.
func runService(ctx context.Context, a *agent.Agent, log *slog.Logger) error {
	if runtime.GOOS != "windows" || service.Interactive() {
		return a.Run(ctx)
	}
	s, err := service.New(&program{run: a.Run, log: log}, serviceConfig(nil))
	if err != nil {
		return err
	}
	return s.Run()
}
