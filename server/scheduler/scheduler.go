// Package scheduler runs the server's periodic work (SNMP discovery and
// polling, later connector runs) with gocron. With several replicas on
// one database, an elector makes sure each job runs on one replica only.
package scheduler

import (
	"context"
	"log/slog"
	"time"

	"github.com/go-co-op/gocron/v2"
)

// Elector decides whether this replica runs the jobs (nil: it does).
type Elector interface {
	IsLeader(ctx context.Context) error
}

// Options configures a Scheduler.
type Options struct {
	Elector Elector // nil: this is the only replica
	Logger  *slog.Logger
}

// Scheduler runs named jobs at fixed intervals.
type Scheduler struct {
	s      gocron.Scheduler
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
}

// New returns a stopped scheduler.
func New(opts Options) (*Scheduler, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	var gopts []gocron.SchedulerOption
	if opts.Elector != nil {
		gopts = append(gopts, gocron.WithDistributedElector(opts.Elector))
	}
	s, err := gocron.NewScheduler(gopts...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{s: s, log: opts.Logger, ctx: ctx, cancel: cancel}, nil
}

// Every runs fn every interval, starting one interval from now; a run
// that is still going when the next is due makes the next wait.
func (s *Scheduler) Every(name string, interval time.Duration, fn func(ctx context.Context)) error {
	return s.every(name, interval, fn)
}

// EveryFromStart is Every with a first run as soon as the scheduler
// starts, for jobs that catch up on what passed while the server was down.
func (s *Scheduler) EveryFromStart(name string, interval time.Duration, fn func(ctx context.Context)) error {
	return s.every(name, interval, fn, gocron.WithStartAt(gocron.WithStartImmediately()))
}

func (s *Scheduler) every(name string, interval time.Duration, fn func(ctx context.Context), opts ...gocron.JobOption) error {
	opts = append(opts, gocron.WithName(name), gocron.WithSingletonMode(gocron.LimitModeReschedule))
	_, err := s.s.NewJob(gocron.DurationJob(interval),
		gocron.NewTask(func() {
			start := time.Now()
			fn(s.ctx)
			s.log.Debug("job done", "job", name, "duration_ms", time.Since(start).Milliseconds())
		}), opts...)
	return err
}

// Start starts running jobs.
func (s *Scheduler) Start() { s.s.Start() }

// Shutdown stops the scheduler and waits for running jobs.
func (s *Scheduler) Shutdown() error {
	s.cancel()
	return s.s.Shutdown()
}
