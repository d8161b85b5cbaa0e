package agentdoor

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/schulit/cmdb/agentproto"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/httperr"
	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"
)

// Store is what the agent door needs.
type Store interface {
	Applier
	CheckEnrolmentToken(ctx context.Context, token cmdb.Secret) error
	Enroll(ctx context.Context, token cmdb.Secret, req *cmdb.EnrollRequest, meta cmdb.RequestMeta) (*cmdb.EnrollResponse, error)
	DeviceByCredential(ctx context.Context, credential string) (*cmdb.Device, error)
}

// Options configures the agent door.
type Options struct {
	Store Store
	// MaxBatch reports are committed together at most (default 500);
	// a batch waits at most MaxWait for more (default 5 ms).
	MaxBatch int
	MaxWait  time.Duration
	// Flushers is the number of batches in flight at once (default 2),
	// for heartbeats and for reports with sections each: heartbeats, most
	// of the traffic, are batched apart so that they never wait behind a
	// reconcile.
	Flushers int
	// ReportRate and ReportBurst limit reports per device (default 1/s, burst 10).
	ReportRate  rate.Limit
	ReportBurst int
	// MaxInflight bounds the bytes of request bodies read and decoded at
	// once (default DefaultMaxInflight); beyond it the door answers 503
	// with Retry-After.
	MaxInflight int64
	Logger      *slog.Logger
	Registry    prometheus.Registerer
}

const credentialTTL = time.Minute

// Handler serves POST /api/v1/agent/enroll and POST /api/v1/agent/report.
type Handler struct {
	opts    Options
	batch   *batcher // reports with sections
	beats   *batcher // heartbeats
	log     *slog.Logger
	reports *prometheus.CounterVec
	budget  budget

	mu      sync.Mutex
	devices map[string]cachedDevice
	limits  map[string]*rate.Limiter
	swept   time.Time
}

type cachedDevice struct {
	d       *cmdb.Device
	expires time.Time
}

// New starts the group-commit workers; Close stops them.
func New(opts Options) *Handler {
	if opts.MaxBatch == 0 {
		opts.MaxBatch = 500
	}
	if opts.MaxWait == 0 {
		opts.MaxWait = 5 * time.Millisecond
	}
	if opts.Flushers == 0 {
		opts.Flushers = 2
	}
	if opts.ReportRate == 0 {
		opts.ReportRate, opts.ReportBurst = 1, 10
	}
	if opts.MaxInflight <= 0 {
		opts.MaxInflight = DefaultMaxInflight
	}
	// One full report must always fit.
	opts.MaxInflight = max(opts.MaxInflight, reportLimit+chunk)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	size := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cmdb_ingest_batch_size", Help: "Reports per committed batch.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 11)}, []string{"kind"})
	took := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cmdb_ingest_batch_seconds",
		Help: "Time to apply and commit a batch of reports.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"kind"})
	reports := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cmdb_ingest_reports_total",
		Help: "Agent reports by outcome."}, []string{"outcome"})
	opts.Registry.MustRegister(size, took, reports)
	return &Handler{opts: opts, log: opts.Logger, reports: reports, devices: map[string]cachedDevice{}, limits: map[string]*rate.Limiter{},
		budget: budget{sem: semaphore.NewWeighted(opts.MaxInflight)},
		batch: newBatcher(opts.Store, opts.MaxBatch, opts.MaxWait, opts.Flushers, opts.Logger,
			size.WithLabelValues("sections"), took.WithLabelValues("sections")),
		beats: newBatcher(opts.Store, opts.MaxBatch, opts.MaxWait, opts.Flushers, opts.Logger,
			size.WithLabelValues("heartbeats"), took.WithLabelValues("heartbeats"))}
}

// Close stops taking reports and commits those already queued.
func (h *Handler) Close() {
	h.batch.close()
	h.beats.close()
}

func meta(r *http.Request) cmdb.RequestMeta {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return cmdb.RequestMeta{IP: ip, UserAgent: r.UserAgent()}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// fail answers an error with the one encoder (httperr). An internal error
// is logged and answered 503 with Retry-After, as is a busy door: the
// agent spools the report and tries again.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := cmdb.ErrorCode(err)
	h.reports.WithLabelValues(code).Inc()
	switch code {
	case cmdb.EINTERNAL:
		h.log.Error("agent request failed", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "30")
		httperr.WriteStatus(w, http.StatusServiceUnavailable, err)
		return
	case cmdb.EUNAVAILABLE:
		w.Header().Set("Retry-After", "5")
	case cmdb.ETOOLARGE:
		// The rest of the body is not read: do not keep the connection.
		w.Header().Set("Connection", "close")
	}
	httperr.Write(w, err)
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request, what string) (cmdb.Secret, error) {
	hdr := r.Header.Get("Authorization")
	if len(hdr) < 8 || !strings.EqualFold(hdr[:7], "Bearer ") || strings.TrimSpace(hdr[7:]) == "" {
		return "", cmdb.Errorf(cmdb.EUNAUTHORIZED, "%s is required (Authorization: Bearer <%s>).", what, what)
	}
	return cmdb.Secret(strings.TrimSpace(hdr[7:])), nil
}

// Enroll serves POST /api/v1/agent/enroll. The enrolment token comes in
// the Authorization header and is checked before a byte of the body is
// read; the body is at most agentproto.MaxEnrollBytes unpacked.
func (h *Handler) Enroll(w http.ResponseWriter, r *http.Request) {
	token, err := bearer(r, "enrolment token")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.opts.Store.CheckEnrolmentToken(r.Context(), token); err != nil {
		h.fail(w, r, err)
		return
	}
	b, err := h.budget.open(w, r, enrollLimit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var req cmdb.EnrollRequest
	err = b.decode(&req)
	b.close()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	resp, err := h.opts.Store.Enroll(r.Context(), token, &req, meta(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		*cmdb.EnrollResponse
		Credential string `json:"credential"` // shown this once
	}{resp, resp.Credential.Reveal()})
}

// device authenticates the agent's credential, with a short cache so that
// thousands of reports a second do not each look it up.
func (h *Handler) device(ctx context.Context, r *http.Request) (*cmdb.Device, error) {
	secret, err := bearer(r, "device credential")
	if err != nil {
		return nil, err
	}
	cred := secret.Reveal()
	now := time.Now()
	h.mu.Lock()
	c, ok := h.devices[cred]
	h.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.d, nil
	}
	d, err := h.opts.Store.DeviceByCredential(ctx, cred)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	if now.Sub(h.swept) > 10*time.Minute {
		h.devices, h.limits, h.swept = map[string]cachedDevice{}, map[string]*rate.Limiter{}, now
	}
	h.devices[cred] = cachedDevice{d: d, expires: now.Add(credentialTTL)}
	h.mu.Unlock()
	return d, nil
}

func (h *Handler) allow(deviceID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.limits[deviceID]
	if l == nil {
		l = rate.NewLimiter(h.opts.ReportRate, h.opts.ReportBurst)
		h.limits[deviceID] = l
	}
	return l.Allow()
}

// isSHA256Hex reports whether h is a SHA-256 in lower-case hex, as
// cmdb.SectionHash writes it.
func isSHA256Hex(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Report serves POST /api/v1/agent/report.
func (h *Handler) Report(w http.ResponseWriter, r *http.Request) {
	d, err := h.device(r.Context(), r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !h.allow(d.ID) {
		w.Header().Set("Retry-After", "5")
		h.fail(w, r, cmdb.Errorf(cmdb.ERATELIMITED, "Too many reports from this device; try again later."))
		return
	}
	b, err := h.budget.open(w, r, reportLimit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var rep cmdb.Report
	err = b.decode(&rep)
	b.close()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	item, err := parseReport(&rep, d, time.Now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := h.batch
	if len(item.Report.Sections) == 0 {
		q = h.beats
	}
	res, err := q.submit(r.Context(), item)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.reports.WithLabelValues(map[bool]string{true: "applied", false: "duplicate"}[res.Applied]).Inc()
	interval := d.IntervalSeconds
	if interval == 0 {
		interval = 3600
	}
	writeJSON(w, http.StatusOK, cmdb.ReportResponse{Ack: res.Ack, WantFull: res.WantFull, IntervalSeconds: interval})
}

// parseReport checks a decoded report: it must be the device's own, carry
// a seq the store can keep and a plausible time, name only known
// sections, carry hashes that match the data, and hold sections of the
// right shape and bounds.
func parseReport(rep *cmdb.Report, d *cmdb.Device, now time.Time) (*cmdb.ReportItem, error) {
	if rep.DeviceID != d.ID {
		return nil, cmdb.Invalid("device_id", "is not the device of this credential")
	} else if rep.Seq == 0 || rep.Seq > agentproto.MaxSeq {
		return nil, cmdb.Invalid("seq", "must be 1 to %d", uint64(agentproto.MaxSeq))
	} else if err := cmdb.ValidateTime("sent_at", rep.SentAt, now, cmdb.MaxReportAge); err != nil {
		return nil, err
	}
	for name, h := range rep.Hashes {
		if !contains(cmdb.Sections, name) {
			return nil, cmdb.Invalid("hashes."+name, "is not a known section (%s)", strings.Join(cmdb.Sections, ", "))
		} else if !isSHA256Hex(h) {
			return nil, cmdb.Invalid("hashes."+name, "must be a hex SHA-256")
		}
	}
	it := &cmdb.ReportItem{Device: d, Report: rep}
	for name, data := range rep.Sections {
		f := "sections." + name
		if !contains(cmdb.Sections, name) {
			return nil, cmdb.Invalid(f, "is not a known section (%s)", strings.Join(cmdb.Sections, ", "))
		} else if rep.Hashes[name] != cmdb.SectionHash(data) {
			return nil, cmdb.Invalid("hashes."+name, "does not match the section's data")
		}
		var err error
		switch name {
		case cmdb.SectionSystem:
			it.System = new(cmdb.InventorySystem)
			err = decodeSection(data, it.System, f)
		case cmdb.SectionHardware:
			it.Hardware = new(cmdb.InventoryHardware)
			err = decodeSection(data, it.Hardware, f)
		case cmdb.SectionNetwork:
			it.Network = new([]cmdb.InventoryNIC)
			err = decodeSection(data, it.Network, f)
		case cmdb.SectionSoftware:
			it.Software = new([]cmdb.SoftwareItem)
			err = decodeSection(data, it.Software, f)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := it.Validate(); err != nil {
		return nil, err
	}
	o := it.Observation(now)
	if err := o.Validate(); err != nil {
		return nil, cmdb.WithFieldPrefix(err, "sections")
	}
	return it, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
