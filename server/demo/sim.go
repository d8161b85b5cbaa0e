package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/snmp"
	"github.com/schulit/cmdb/server/snmp/sim"
)

// Simulators stand in for the demo's printers, copiers and projectors: one
// SNMP simulator per device on a free loopback port, answering the
// device's recording on its school's community only. The demo's targets
// keep the addresses the devices would have in the school networks
// (10.41.20.11, …); Dial routes those to the simulators, so the poller,
// the schools' credential profiles and the targets are the real ones.
type Simulators struct {
	servers []*sim.Server
	route   map[string]string // target address → simulator address
	cancel  context.CancelFunc
}

// StartSimulators starts a simulator for each device; Close stops them.
func StartSimulators(devs []SimDevice) (*Simulators, error) {
	// The simulator reads its recordings from a directory when it
	// starts; they are not needed afterwards.
	dir, err := os.MkdirTemp("", "cmdb-demo-snmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Simulators{route: map[string]string{}, cancel: cancel}
	if err := s.start(ctx, dir, devs); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Simulators) start(ctx context.Context, dir string, devs []SimDevice) error {
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
		s.servers = append(s.servers, srv)
		s.route[d.Address] = srv.Addr()
	}
	return nil
}

// Dial is an snmp.Options.Dial: a simulated device's address goes to its
// simulator, any other target to the network.
func (s *Simulators) Dial(ctx context.Context, target string, cred cmdb.SNMPCredential, o snmp.Options) (snmp.Scraper, error) {
	if addr, ok := s.route[target]; ok {
		target = addr
	}
	return snmp.NewScraper(ctx, target, cred, o)
}

// Close stops the simulators.
func (s *Simulators) Close() error {
	s.cancel()
	var errs []error
	for _, srv := range s.servers {
		errs = append(errs, srv.Close())
	}
	return errors.Join(errs...)
}
