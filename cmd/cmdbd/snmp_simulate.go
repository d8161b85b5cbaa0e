package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/schulit/cmdb/server/snmp/sim"
)

// snmpSimulateCommand runs "cmdbd snmp simulate": an SNMP v1/v2c agent
// answering from the snmpsim recordings in --data until ctx is
// cancelled.
func snmpSimulateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cmdbd snmp simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: cmdbd snmp simulate --data DIR [--listen ADDR]

Answers SNMP v1/v2c Get, GetNext and GetBulk from the *.snmprec files in
DIR. Each file is one device, its community the file name without the
extension; NAME@N (N from 1 to 16777215) answers as device N of NAME, with
its own serial number and MAC address, so that one file stands in for
many devices.

Flags:
`)
		fs.PrintDefaults()
	}
	var (
		opts     sim.Options
		logLevel string
	)
	fs.StringVar(&opts.DataDir, "data", "", "directory of *.snmprec files (required)")
	fs.StringVar(&opts.Listen, "listen", "127.0.0.1:1161", "UDP address to answer on")
	fs.BoolVar(&opts.Lenient, "lenient", false, "skip malformed data lines instead of failing")
	fs.IntVar(&opts.MaxMessageSize, "max-message-size", sim.DefaultMaxMessageSize, "largest response in bytes (484 to 65507)")
	fs.IntVar(&opts.Workers, "workers", 0, "goroutines answering requests; 0: one per CPU, at least 2")
	fs.StringVar(&logLevel, "log-level", "warn", "log level: debug, info, warn, error (debug logs unknown communities)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("snmp simulate: unexpected argument %q", fs.Arg(0))
	}
	if opts.DataDir == "" {
		return errors.New("snmp simulate: --data DIR is required (see cmdbd snmp simulate -h)")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("snmp simulate: --log-level: %w", err)
	}
	opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	srv, err := sim.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	communities := srv.Communities()
	fmt.Fprintf(stdout, "SNMP simulator listening on udp %s\n", srv.Addr())
	fmt.Fprintf(stdout, "communities: %s\n", strings.Join(communities, ", "))
	fmt.Fprintf(stdout, "many devices: append @N, N from 1 to %d, e.g. %s@17\n", sim.MaxDevice, communities[0])
	fmt.Fprintf(stdout, "try: snmpwalk -v2c -c %s %s\n", communities[0], srv.Addr())
	<-ctx.Done()
	err = srv.Close()
	st := srv.Stats()
	fmt.Fprintf(stdout, "stopped: %d requests, %d responses, %d malformed, %d unknown community\n",
		st.Requests, st.Responses, st.Malformed, st.UnknownCommunity)
	return err
}
