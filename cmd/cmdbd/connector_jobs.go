package main

import (
	"context"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/connsync"
	"github.com/schulit/cmdb/server/scheduler"
)

// scheduleConnectors adds the job that starts scheduled connector syncs.
// It runs every minute on the elected replica (the scheduler's lock), so
// each sync starts once; the syncs run in the background on that replica
// through the same engine as the CLI's and the API's.
func (m *Main) scheduleConnectors(s *scheduler.Scheduler) error {
	if m.syncs == nil {
		m.syncs = connsync.New(connsync.Options{Store: m.db, Logger: m.log})
	}
	return s.Every("connector-syncs", time.Minute, func(ctx context.Context) {
		m.startDueSyncs(ctx, time.Now())
	})
}

// startDueSyncs starts every instance whose cron schedule came due since
// its last run (or since it was created).
func (m *Main) startDueSyncs(ctx context.Context, now time.Time) {
	sc := cmdb.AdminScope("scheduler")
	list, err := m.db.FindConnectors(ctx, sc, 0)
	if err != nil {
		m.log.Error("connector schedules", "err", err)
		return
	}
	for _, inst := range list {
		if inst.Schedule == "" {
			continue
		}
		sched, err := cron.ParseStandard(inst.Schedule)
		if err != nil {
			m.log.Warn("connector schedule is not a cron expression", "connector", inst.Name, "schedule", inst.Schedule)
			continue
		}
		since := inst.CreatedAt
		if runs, err := m.db.FindConnectorRuns(ctx, sc, inst.ID, 1); err == nil && len(runs) > 0 {
			since = runs[0].StartedAt
		}
		if sched.Next(since).After(now) {
			continue
		}
		if _, err := m.syncs.Start(sc, inst, connsync.RunOptions{}); err != nil && cmdb.ErrorCode(err) != cmdb.ECONFLICT {
			m.log.Error("starting a scheduled connector sync", "connector", inst.Name, "err", err)
		}
	}
}

// stopSyncs ends background syncs and every connector process, so that
// no plugin outlives the server.
func (m *Main) stopSyncs() {
	if m.syncs != nil {
		m.syncs.Close()
		m.syncs = nil
	}
	// KillAll is process-wide. A test binary runs many servers and
	// commands in one process, and one closing must not kill another's
	// connectors; each engine still stops the processes of its own runs.
	if !testing.Testing() {
		connector.KillAll()
	}
}
