package mail

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// Deliverer sends one message; *Sender is one. An error that is a
// *SendError with Permanent set fails the message for good; any other
// error queues it again with a backoff.
type Deliverer interface {
	Send(ctx context.Context, m *cmdb.OutboundMail) error
}

// Dispatcher moves due outbox messages to the relay. Several replicas may
// run one each: claims never hand one message to two of them.
type Dispatcher struct {
	Outbox cmdb.Outbox
	Sender Deliverer
	Log    *slog.Logger
	// Now is the clock (tests inject one); nil means time.Now.
	Now func() time.Time
	// Lease is how long a claimed message belongs to this dispatcher
	// before another may take it (its sender presumably died); it must
	// exceed a send's timeout. 0 means 5 minutes.
	Lease time.Duration
	// Batch is how many messages one round claims; 0 means 20.
	Batch int
	// Interval between rounds of Run; 0 means 10 s.
	Interval time.Duration
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.Default()
}

// Result counts what one round did.
type Result struct {
	Sent, Retry, Failed int
}

// RunOnce claims one batch of due messages and delivers them one after
// another. A message whose send fails is queued again (or failed); an
// error is returned only when the outbox itself cannot be reached.
func (d *Dispatcher) RunOnce(ctx context.Context) (Result, error) {
	var r Result
	lease, batch := d.Lease, d.Batch
	if lease <= 0 {
		lease = 5 * time.Minute
	}
	if batch <= 0 {
		batch = 20
	}
	ms, err := d.Outbox.ClaimMail(ctx, d.now(), lease, batch)
	if err != nil {
		return r, err
	}
	for _, m := range ms {
		if ctx.Err() != nil {
			// The rest stay "sending" until their lease runs out.
			return r, ctx.Err()
		}
		sendErr := d.Sender.Send(ctx, m)
		if sendErr == nil {
			if err := d.Outbox.MarkMailSent(ctx, m.ID, d.now()); err != nil {
				// Sent but not marked: after the lease it goes out once
				// more, with the same Message-ID.
				d.log().Error("mail sent but not marked", "id", m.ID, "err", err)
				continue
			}
			r.Sent++
			continue
		}
		var se *SendError
		permanent := errors.As(sendErr, &se) && se.Permanent
		reason := sendErr.Error()
		if se == nil {
			// Not from our Sender: keep the reason generic, it might carry anything.
			reason = "delivery failed"
		}
		if err := d.Outbox.MarkMailFailed(ctx, m.ID, d.now(), reason, permanent); err != nil {
			d.log().Error("mail failure not recorded", "id", m.ID, "err", err)
			continue
		}
		if permanent || m.Attempts >= cmdb.MaxMailAttempts {
			r.Failed++
			d.log().Warn("mail failed for good", "id", m.ID, "attempts", m.Attempts, "reason", reason)
		} else {
			r.Retry++
			d.log().Info("mail delivery failed, will retry", "id", m.ID, "attempts", m.Attempts, "reason", reason)
		}
	}
	return r, nil
}

// Run delivers due messages every Interval until ctx ends. A round that
// filled its batch is followed at once by another, at most 50 in a row,
// so that a backlog drains without starving the ticker.
func (d *Dispatcher) Run(ctx context.Context) error {
	iv, batch := d.Interval, d.Batch
	if iv <= 0 {
		iv = 10 * time.Second
	}
	if batch <= 0 {
		batch = 20
	}
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		for i := 0; i < 50; i++ {
			r, err := d.RunOnce(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				d.log().Error("mail outbox round failed", "err", err)
				break
			}
			if r.Sent+r.Retry+r.Failed < batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
