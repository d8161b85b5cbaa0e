package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/schulit/cmdb/agent/client"
	"github.com/schulit/cmdb/agent/collect"
	"github.com/schulit/cmdb/agent/report"
	"github.com/schulit/cmdb/agent/spool"
	"github.com/schulit/cmdb/agentproto"
)

// Interval defaults and bounds.
const (
	DefaultInterval = time.Hour
	MaxInterval     = 7 * 24 * time.Hour
)

// Options configures an Agent. Only StatePath is required.
type Options struct {
	// StatePath is the state file; the spool lives next to it.
	StatePath string
	// Collect returns the inventory; collect.Collect of the live system
	// when nil.
	Collect func(context.Context) agentproto.Inventory
	// HTTP is the HTTP client for the server; a default when nil.
	HTTP *http.Client
	// UserAgent names the agent and its version to the server.
	UserAgent string
	// Logger receives what the agent does; nothing is logged when nil.
	Logger *slog.Logger
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// Jitter returns a number in [0, 1) that spreads the interval by
	// ±10 %; math/rand/v2 when nil.
	Jitter func() float64
	// Spool bounds the spool.
	Spool spool.Options
	// MinInterval is the shortest interval the server may set, one
	// minute when zero.
	MinInterval time.Duration
	// RetryInterval is how often a non-empty spool is retried between
	// reports, five minutes when zero.
	RetryInterval time.Duration
}

// Agent enrols and reports. It is not safe for concurrent use.
type Agent struct {
	o     Options
	log   *slog.Logger
	st    State
	spool *spool.Spool
}

// New opens the agent's state and spool. A missing state file is not an
// error: the agent is then not enrolled yet.
func New(o Options) (*Agent, error) {
	if o.StatePath == "" {
		return nil, errors.New("agent.New: StatePath is required")
	}
	if o.Collect == nil {
		o.Collect = func(ctx context.Context) agentproto.Inventory { return collect.Collect(ctx, collect.Options{}) }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	if o.MinInterval <= 0 {
		o.MinInterval = time.Minute
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = 5 * time.Minute
	}
	a := &Agent{o: o, log: o.Logger}
	if a.log == nil {
		a.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	st, err := LoadState(o.StatePath)
	if err != nil && !errors.Is(err, ErrNotEnrolled) {
		return nil, err
	}
	a.st = st
	if a.spool, err = spool.Open(SpoolDir(o.StatePath), o.Spool); err != nil {
		return nil, err
	}
	return a, nil
}

// State returns a copy of the agent's state.
func (a *Agent) State() State { return a.st }

// Spool returns the agent's spool.
func (a *Agent) Spool() *spool.Spool { return a.spool }

func (a *Agent) client() *client.Client {
	return client.New(a.st.Server, client.Options{HTTP: a.o.HTTP, UserAgent: a.o.UserAgent})
}

// Enroll trades an enrolment token for a device identity at server and
// stores it in the state file. Re-enrolling replaces the identity and
// empties the spool; the sequence number keeps rising when the server
// gives back the same device ID.
func (a *Agent) Enroll(ctx context.Context, server string, token agentproto.Secret) error {
	server = strings.TrimRight(server, "/")
	if !strings.HasPrefix(server, "http://") && !strings.HasPrefix(server, "https://") {
		return fmt.Errorf("agent.Enroll: --server must be an http:// or https:// URL, got %q", server)
	}
	if token == "" {
		return errors.New("agent.Enroll: --token is required")
	}
	inv := a.o.Collect(ctx)
	c := client.New(server, client.Options{HTTP: a.o.HTTP, UserAgent: a.o.UserAgent})
	// The enrolment carries identifiers only: the NICs' addresses come
	// with the first report, so that the request stays well within
	// agentproto.MaxEnrollBytes however many interfaces the machine has.
	nics := make([]agentproto.InventoryNIC, len(inv.Network))
	for i, n := range inv.Network {
		n.Addresses = nil
		nics[i] = n
	}
	resp, err := c.Enroll(ctx, token, agentproto.EnrollRequest{System: inv.System, NICs: nics})
	if err != nil {
		return fmt.Errorf("agent.Enroll: %w", err)
	}
	st := State{Server: server, DeviceID: resp.DeviceID, Credential: resp.Credential, IntervalSeconds: resp.IntervalSeconds}
	if resp.DeviceID == a.st.DeviceID {
		st.Seq, st.Ack = a.st.Seq, a.st.Ack
	}
	if err := a.spool.Clear(); err != nil {
		return fmt.Errorf("agent.Enroll: %w", err)
	}
	if err := SaveState(a.o.StatePath, st); err != nil {
		return fmt.Errorf("agent.Enroll: %w", err)
	}
	a.st = st
	a.log.Info("enrolled", "server", server, "device_id", resp.DeviceID, "ci_id", resp.CIID)
	return nil
}

// Once makes one report: it delivers the spool first, then collects,
// builds a report of the changed sections and sends it, or spools it
// when the server cannot be reached. A report the server refuses (a 4xx
// other than 429) is logged and dropped, and the next report is full.
// Delivery problems are logged, not returned: they are what the spool
// is for.
func (a *Agent) Once(ctx context.Context) error {
	if !a.st.Enrolled() {
		return ErrNotEnrolled
	}
	spoolEmpty := a.Flush(ctx)
	snap, err := report.Take(a.o.Collect(ctx))
	if err != nil {
		return err
	}
	a.st.Seq++
	full := a.st.WantFull || len(a.st.Acked) == 0
	r := snap.Report(a.st.DeviceID, a.st.Seq, a.o.Now(), a.st.Acked, a.st.Pending, full)
	a.st.Pending, a.st.WantFull = snap.Hashes, false
	// The sequence number is on disk before the report leaves, so it is
	// never used twice.
	if err := a.save(); err != nil {
		return err
	}
	if spoolEmpty {
		err = a.send(ctx, r)
		if err == nil || !client.Retryable(err) {
			return a.save()
		}
		a.log.Warn("server unreachable, report spooled", "seq", r.Seq, "err", err)
	} else {
		a.log.Info("spool not yet delivered, report spooled", "seq", r.Seq)
	}
	folded, replaced, err := a.spool.Add(r, snap.Full(r))
	if err != nil {
		return err
	}
	if folded {
		a.log.Info("spool over its bound, queued reports folded into one full report", "seq", r.Seq, "replaced", replaced)
	}
	return nil
}

// Flush delivers the spooled reports oldest first and reports whether
// the spool is empty afterwards.
func (a *Agent) Flush(ctx context.Context) bool {
	defer func() {
		if err := a.save(); err != nil {
			a.log.Error("saving state", "err", err)
		}
	}()
	for {
		r, ok, err := a.spool.Oldest()
		if errors.Is(err, spool.ErrCorrupt) {
			a.log.Warn("dropped unreadable spooled report", "err", err)
			a.st.WantFull = true
			continue
		}
		if err != nil {
			a.log.Error("reading spool", "err", err)
			return false
		}
		if !ok {
			return true
		}
		err = a.send(ctx, r)
		if err != nil && client.Retryable(err) {
			a.log.Warn("server unreachable, spool kept", "seq", r.Seq, "err", err)
			return false
		}
		if err := a.spool.Remove(r.Seq); err != nil {
			a.log.Error("removing delivered report from spool", "err", err)
			return false
		}
	}
}

// send delivers r and applies the answer to the state. A refused report
// is logged here and returned as a non-retryable error.
func (a *Agent) send(ctx context.Context, r agentproto.Report) error {
	body, err := report.Encode(r)
	if err != nil {
		return err
	}
	resp, err := a.client().SendEncoded(ctx, a.st.Credential, body)
	if err != nil {
		if !client.Retryable(err) {
			a.log.Error("server refused report, dropped; next report is full", "seq", r.Seq, "err", err)
			a.st.WantFull = true
			if r.Seq == a.st.Seq {
				a.st.Pending = nil
			}
		}
		return err
	}
	a.st.Acked, a.st.Ack = r.Hashes, resp.Ack
	if r.Seq == a.st.Seq {
		a.st.Pending = nil
	}
	if resp.WantFull {
		a.st.WantFull = true
	}
	if resp.IntervalSeconds > 0 {
		a.st.IntervalSeconds = resp.IntervalSeconds
	}
	a.log.Info("report sent", "seq", r.Seq, "sections", len(r.Sections), "bytes", len(body), "want_full", resp.WantFull)
	return nil
}

func (a *Agent) save() error { return SaveState(a.o.StatePath, a.st) }

// Interval returns the reporting interval: the server's, within
// [MinInterval, MaxInterval], or DefaultInterval.
func (a *Agent) Interval() time.Duration {
	d := DefaultInterval
	if a.st.IntervalSeconds > 0 {
		d = time.Duration(a.st.IntervalSeconds) * time.Second
	}
	return min(max(d, a.o.MinInterval), MaxInterval)
}

// nextDelay is the interval with ±10 % jitter, so a school's machines
// switched on at 8:00 do not all report at the same second.
func (a *Agent) nextDelay() time.Duration {
	d := a.Interval()
	return time.Duration(float64(d) * (0.9 + 0.2*a.o.Jitter()))
}

// Run reports until ctx is cancelled: one report at once, then one per
// interval with jitter. Between reports a non-empty spool is retried
// every RetryInterval. It returns nil when ctx is cancelled and
// ErrNotEnrolled when there is no state.
func (a *Agent) Run(ctx context.Context) error {
	for {
		if err := a.Once(ctx); errors.Is(err, ErrNotEnrolled) {
			return err
		} else if err != nil {
			a.log.Error("report failed", "err", err)
		}
		next := time.Now().Add(a.nextDelay())
		for {
			wait := time.Until(next)
			n, _ := a.spool.Len()
			if n > 0 {
				wait = min(wait, a.o.RetryInterval)
			}
			t := time.NewTimer(max(wait, 0))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			if !time.Now().Before(next) {
				break
			}
			a.Flush(ctx)
		}
	}
}
