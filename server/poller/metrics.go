package poller

import (
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/schulit/cmdb/server/cmdb"
)

// Outcomes of polling one target (the outcome label).
const (
	OutcomeOK          = "ok"          // the device answered
	OutcomeNotPrinter  = "not_printer" // it answered SNMP without Printer-MIB
	OutcomeUnreachable = "unreachable" // it did not answer; see the reason
	OutcomeSkipped     = "skipped"     // not polled: its school's credentials cannot be read
)

type metrics struct {
	seconds     *prometheus.HistogramVec
	devices     *prometheus.CounterVec
	unreachable *prometheus.CounterVec
}

// newMetrics makes the round's metrics and registers them with reg, when
// not nil.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cmdb_poll_round_seconds",
			Help:    "Time from the start of a polling round until its last target of the kind (snmp, pjlink) was polled.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14)}, []string{"kind"}),
		devices: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cmdb_poll_devices_total",
			Help: "Targets polled, by kind and outcome (ok, not_printer, unreachable, skipped)."}, []string{"kind", "outcome"}),
		unreachable: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cmdb_poll_unreachable_total",
			Help: "Targets that did not answer or were not polled, by kind and reason (timeout, wrong_credentials, refused, …)."},
			[]string{"kind", "reason"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.seconds, m.devices, m.unreachable} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// observe adds a round to the metrics.
func (m *metrics) observe(s *summary) {
	for kind, d := range s.took {
		m.seconds.WithLabelValues(kind).Observe(d.Seconds())
	}
	for k, n := range s.outcomes {
		m.devices.WithLabelValues(k.kind, k.outcome).Add(float64(n))
	}
	for k, n := range s.reasons {
		m.unreachable.WithLabelValues(k.kind, string(k.reason)).Add(float64(n))
	}
}

// summary is what a round did, for its log line and metrics.
type summary struct {
	start time.Time
	mu    sync.Mutex
	took  map[string]time.Duration // kind → until its last target was polled

	outcomes map[struct{ kind, outcome string }]int
	reasons  map[struct {
		kind   string
		reason cmdb.PollFailure
	}]int
	opened, cleared int
}

func newSummary(start time.Time) *summary {
	return &summary{start: start, took: map[string]time.Duration{}, outcomes: map[struct{ kind, outcome string }]int{},
		reasons: map[struct {
			kind   string
			reason cmdb.PollFailure
		}]int{}}
}

// done notes that a target of kind has been polled.
func (s *summary) done(kind string) {
	d := time.Since(s.start)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.took[kind] = max(s.took[kind], d)
}

// count tallies the stored records of a round.
func (s *summary) count(recs []*cmdb.PollRecord) {
	for _, r := range recs {
		outcome, reason := Outcome(r)
		s.outcomes[struct{ kind, outcome string }{r.Target.Kind, outcome}]++
		if reason != "" && outcome != OutcomeNotPrinter {
			s.reasons[struct {
				kind   string
				reason cmdb.PollFailure
			}{r.Target.Kind, reason}]++
		}
		for _, e := range r.Events {
			if e.Open {
				s.opened++
			} else {
				s.cleared++
			}
		}
	}
}

// Outcome says how polling a target went and, when it did not answer or
// was not polled, why.
func Outcome(r *cmdb.PollRecord) (outcome string, reason cmdb.PollFailure) {
	switch {
	case r.Result == nil:
		return OutcomeSkipped, r.Failure
	case r.Result.Reachable && r.Result.Failure == cmdb.PollNoPrinterMIB:
		return OutcomeNotPrinter, cmdb.PollNoPrinterMIB
	case r.Result.Reachable:
		return OutcomeOK, ""
	case r.Result.Failure == "":
		return OutcomeUnreachable, cmdb.PollOther
	}
	return OutcomeUnreachable, r.Result.Failure
}

// log writes the round's summary line.
func (s *summary) log(l *slog.Logger, d time.Duration) {
	by := map[string]int{}
	total := map[string]int{}
	for k, n := range s.outcomes {
		by[k.outcome] += n
		total[k.kind] += n
	}
	reasons := map[cmdb.PollFailure]int{}
	for k, n := range s.reasons {
		reasons[k.reason] += n
	}
	var rs []string
	for _, r := range slices.Sorted(maps.Keys(reasons)) {
		rs = append(rs, string(r)+"="+strconv.Itoa(reasons[r]))
	}
	l.Info("polling round", "polled", by[OutcomeOK]+by[OutcomeNotPrinter]+by[OutcomeUnreachable],
		"snmp", total[cmdb.TargetSNMP], "pjlink", total[cmdb.TargetPJLink],
		"ok", by[OutcomeOK], "not_printer", by[OutcomeNotPrinter], "unreachable", by[OutcomeUnreachable],
		"skipped", by[OutcomeSkipped], "unreachable_by_reason", strings.Join(rs, " "),
		"events_opened", s.opened, "events_cleared", s.cleared, "duration_ms", d.Milliseconds())
}
