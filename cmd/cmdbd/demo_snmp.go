package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/demo"
	"github.com/schulit/cmdb/server/snmp"
	"github.com/schulit/cmdb/server/snmp/sim"
)

// demoSim stands in for the demo's printers, copiers and projectors: one
// SNMP simulator per device on a free loopback port, answering the
// device's recording on its school's community only. The demo's targets
// keep the addresses the devices would have in the school networks
// (10.41.20.11, …); Dial routes those to the simulators, so the poller,
// the schools' credential profiles and the targets are the real ones.
type demoSim struct {
	servers []*sim.Server
	route   map[string]string // target address → simulator address
	cancel  context.CancelFunc
}

// startDemoSim starts a simulator for each device.
func startDemoSim(devs []demo.SimDevice) (*demoSim, error) {
	// The simulator reads its recordings from a directory when it
	// starts; they are not needed afterwards.
	dir, err := os.MkdirTemp("", "cmdb-demo-snmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	ds := &demoSim{route: map[string]string{}, cancel: cancel}
	if err := ds.start(ctx, dir, devs); err != nil {
		ds.Close()
		return nil, err
	}
	return ds, nil
}

func (ds *demoSim) start(ctx context.Context, dir string, devs []demo.SimDevice) error {
	for i, d := range devs {
		sub := filepath.Join(dir, strconv.Itoa(i))
		if err := os.Mkdir(sub, 0o700); err != nil {
			return err
		}
		// The file name is the community the simulator answers.
		if err := os.WriteFile(filepath.Join(sub, d.Community+".snmprec"), d.Recording, 0o600); err != nil {
			return err
		}
		srv, err := sim.Start(ctx, sim.Options{DataDir: sub, Workers: 1})
		if err != nil {
			return fmt.Errorf("simulated device %s: %w", d.Address, err)
		}
		ds.servers = append(ds.servers, srv)
		ds.route[d.Address] = srv.Addr()
	}
	return nil
}

// Dial is an snmp.Options.Dial: a simulated device's address goes to its
// simulator, any other target to the network.
func (ds *demoSim) Dial(ctx context.Context, target string, cred cmdb.SNMPCredential, o snmp.Options) (snmp.Scraper, error) {
	if addr, ok := ds.route[target]; ok {
		target = addr
	}
	return snmp.NewScraper(ctx, target, cred, o)
}

// Close stops the simulators.
func (ds *demoSim) Close() error {
	ds.cancel()
	var errs []error
	for _, s := range ds.servers {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// startDemoSNMP starts the simulated devices of the demo and polls every
// target once, so that the demo's printers show their counters and
// supplies from the start; the scheduled rounds poll them again.
func (m *Main) startDemoSNMP(ctx context.Context) error {
	devs := demo.SimDevices()
	ds, err := startDemoSim(devs)
	if err != nil {
		return err
	}
	m.demoSim = ds
	start := time.Now()
	if err := m.poller().round(ctx); err != nil {
		return fmt.Errorf("first polling round: %w", err)
	}
	m.log.Info("demo printers, copiers and projectors simulated and polled", "devices", len(devs),
		"duration_ms", time.Since(start).Milliseconds(), "every", m.Config.SNMPEvery.String())
	return nil
}
