package main

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/demo"
	"github.com/schulit/cmdb/server/poller"
	"github.com/schulit/cmdb/server/snmp"
)

// newPoller wires the polling round: the store, the SNMP options (in the
// demo, the simulated devices), the health sink (monitoring opens
// tickets) and, when reg is not nil, the metrics.
func (m *Main) newPoller(reg prometheus.Registerer) (*poller.Poller, error) {
	opts := snmp.Options{Logger: m.log}
	if m.demoSim != nil {
		opts.Dial = m.demoSim.Dial
	}
	sink := cmdb.HealthSinks{m.db.MonitoringSink()}
	return poller.New(poller.Options{Store: m.db, SNMP: opts, MissLimit: m.Config.SNMPMisses, Logger: m.log, Registry: reg, Sink: sink})
}

// startDemoSNMP starts the simulated devices of the demo and polls every
// target once, so that the demo's printers show their counters and
// supplies from the start; the scheduled rounds poll them again.
func (m *Main) startDemoSNMP(ctx context.Context) error {
	devs := demo.SimDevices()
	ds, err := demo.StartSimulators(devs)
	if err != nil {
		return err
	}
	m.demoSim = ds
	p, err := m.newPoller(nil)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := p.Round(ctx); err != nil {
		return fmt.Errorf("first polling round: %w", err)
	}
	m.log.Info("demo printers, copiers and projectors simulated and polled", "devices", len(devs),
		"duration_ms", time.Since(start).Milliseconds(), "every", m.Config.SNMPEvery.String())
	return nil
}
