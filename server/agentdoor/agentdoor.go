package agentdoor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/schulit/cmdb/server/cmdb"
	"golang.org/x/time/rate"
)

// Store is what the agent door needs.
type Store interface {
	Applier
	Enroll(ctx context.Context, req *cmdb.EnrollRequest, meta cmdb.RequestMeta) (*cmdb.EnrollResponse, error)
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
	Logger      *slog.Logger
	Registry    prometheus.Registerer
}

// Body limits: what comes over the wire, and what it may unpack to.
const (
	maxWireBody     = 8 << 20
	maxInflatedBody = 64 << 20
	credentialTTL   = time.Minute
)

// Handler serves POST /api/v1/agent/enroll and POST /api/v1/agent/report.
type Handler struct {
	opts    Options
	batch   *batcher // reports with sections
	beats   *batcher // heartbeats
	log     *slog.Logger
	reports *prometheus.CounterVec

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

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := cmdb.ErrorCode(err)
	status := cmdb.HTTPStatus(code)
	switch {
	case code == "unavailable":
		status = http.StatusServiceUnavailable
	case code == cmdb.EINTERNAL:
		h.log.Error("agent request failed", "path", r.URL.Path, "err", err)
		status = http.StatusServiceUnavailable // the agent spools and retries
	}
	h.reports.WithLabelValues(code).Inc()
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Field   string `json:"field,omitempty"`
			Message string `json:"message"`
		} `json:"error"`
	}
	body.Error.Code, body.Error.Field, body.Error.Message = code, cmdb.ErrorField(err), cmdb.ErrorMessage(err)
	writeJSON(w, status, body)
}

var gzipReaders sync.Pool

// readBody reads a JSON body, gunzipping it when it says so, within limits.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	if r.ContentLength > 0 && r.ContentLength <= maxWireBody {
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxWireBody)); err != nil {
		return nil, cmdb.Invalid("body", "must be at most %d bytes on the wire", maxWireBody)
	}
	raw := buf.Bytes()
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		// A gzip reader holds tens of kilobytes of state: reuse them.
		// klauspost's inflates about twice as fast as the standard one.
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(bytes.NewReader(raw))
		} else {
			err = zr.Reset(bytes.NewReader(raw))
		}
		if err != nil {
			return nil, cmdb.Invalid("body", "is not valid gzip")
		}
		defer gzipReaders.Put(zr)
		var out bytes.Buffer
		out.Grow(min(4*len(raw), 1<<20) + bytes.MinRead)
		_, err = out.ReadFrom(io.LimitReader(zr, maxInflatedBody+1))
		raw = out.Bytes()
		if err != nil {
			return nil, cmdb.Invalid("body", "is not valid gzip")
		} else if len(raw) > maxInflatedBody {
			return nil, cmdb.Invalid("body", "must unpack to at most %d bytes", maxInflatedBody)
		}
	}
	return raw, nil
}

// decodeStrict decodes JSON, refusing unknown fields, naming bad fields.
func decodeStrict(data []byte, v any, prefix string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		var syn *json.SyntaxError
		field := prefix
		switch {
		case errors.As(err, &typ):
			field = strings.TrimPrefix(prefix+"."+typ.Field, ".")
			return cmdb.Invalid(field, "has the wrong JSON type")
		case errors.As(err, &syn):
			return cmdb.Invalid(field, "is malformed JSON at byte %d", syn.Offset)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return cmdb.Invalid(strings.TrimPrefix(prefix+"."+name, "."), "is not a known field")
		}
		return cmdb.Invalid(field, "is malformed JSON")
	}
	return nil
}

// Enroll serves POST /api/v1/agent/enroll.
func (h *Handler) Enroll(w http.ResponseWriter, r *http.Request) {
	raw, err := readBody(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var req cmdb.EnrollRequest
	if err := decodeStrict(raw, &req, ""); err != nil {
		h.fail(w, r, err)
		return
	}
	resp, err := h.opts.Store.Enroll(r.Context(), &req, meta(r))
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
	hdr := r.Header.Get("Authorization")
	if len(hdr) < 8 || !strings.EqualFold(hdr[:7], "Bearer ") {
		return nil, cmdb.Errorf(cmdb.EUNAUTHORIZED, "A device credential is required (Authorization: Bearer <credential>).")
	}
	cred := strings.TrimSpace(hdr[7:])
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
		h.reports.WithLabelValues("rate_limited").Inc()
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": map[string]string{"code": "rate_limited",
			"message": "Too many reports from this device; try again later."}})
		return
	}
	raw, err := readBody(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	item, err := parseReport(raw, d)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	b := h.batch
	if len(item.Report.Sections) == 0 {
		b = h.beats
	}
	res, err := b.submit(r.Context(), item)
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

// parseReport decodes and checks a report: it must be the device's own,
// name only known sections, carry hashes that match the data, and hold
// sections of the right shape.
func parseReport(raw []byte, d *cmdb.Device) (*cmdb.ReportItem, error) {
	var rep cmdb.Report
	if err := decodeStrict(raw, &rep, ""); err != nil {
		return nil, err
	}
	if rep.DeviceID != d.ID {
		return nil, cmdb.Invalid("device_id", "is not the device of this credential")
	} else if rep.Seq == 0 {
		return nil, cmdb.Invalid("seq", "must be 1 or more")
	}
	for name, h := range rep.Hashes {
		if !contains(cmdb.Sections, name) {
			return nil, cmdb.Invalid("hashes."+name, "is not a known section (%s)", strings.Join(cmdb.Sections, ", "))
		} else if !isSHA256Hex(h) {
			return nil, cmdb.Invalid("hashes."+name, "must be a hex SHA-256")
		}
	}
	it := &cmdb.ReportItem{Device: d, Report: &rep}
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
			err = decodeStrict(data, it.System, f)
		case cmdb.SectionHardware:
			it.Hardware = new(cmdb.InventoryHardware)
			err = decodeStrict(data, it.Hardware, f)
		case cmdb.SectionNetwork:
			it.Network = new([]cmdb.InventoryNIC)
			err = decodeStrict(data, it.Network, f)
		case cmdb.SectionSoftware:
			it.Software = new([]cmdb.SoftwareItem)
			err = decodeStrict(data, it.Software, f)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := it.Validate(); err != nil {
		return nil, err
	}
	o := it.Observation(time.Now())
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
