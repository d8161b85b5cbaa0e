// Package loadgen is a load generator for the agent door of the server
// (server/agentdoor): it simulates thousands of cmdb-agents that enrol, send
// a full inventory and then report at a fixed rate with the traffic mix
// of real agents — mostly heartbeats, some small changes, a few software
// changes — and measures throughput and latency. Verify then checks in
// the database that every acknowledged report was committed. `cmdbd
// bench ingest` calls both.
package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// Options for Run.
type Options struct {
	URL            string        // server base URL, e.g. http://127.0.0.1:8080; loopback only
	EnrolmentToken string        // per-school enrolment token with at least Agents uses left
	Agents         int           // simulated agents (default 2000)
	Duration       time.Duration // load phase after enrolment (default 30s)
	Rate           float64       // reports per second per agent in the load phase (default 2.5)
	Concurrency    int           // HTTP workers (default 64)
	Out            io.Writer     // progress and summary; nil discards them
	Client         *http.Client  // optional; default: keep-alive pool of Concurrency connections
	OnLoad         func()        // optional; called when the load phase starts (e.g. to start a profile)
}

// Result holds the figures of a run. Sent, Acked, Duration, PerSecond
// and the latencies cover the load phase; Errors and RateLimited count
// failed requests of the whole run (enrolment, first full report and load
// phase). AckedSeq covers the whole run.
type Result struct {
	Enrolled    int
	Sent        int // reports sent in the load phase (retries included)
	Acked       int // of them answered 200 with an acknowledgement
	Errors      int // requests that failed or were answered other than 200 or 429
	RateLimited int // requests answered 429
	// Skipped counts reports the pacer dropped because every worker was
	// busy: the generator, not the target rate, limited the load. Raise
	// Concurrency (real agents each have their own connection).
	Skipped   int
	Duration  time.Duration
	PerSecond float64 // Sent / Duration
	// Latency from sending a report to receiving the answer, over the
	// acknowledged reports of the load phase.
	P50, P99, Max time.Duration
	// AckedSeq is the highest acknowledged seq per device id.
	AckedSeq map[string]uint64
}

func (o *Options) defaults() error {
	if o.Agents == 0 {
		o.Agents = 2000
	}
	if o.Duration == 0 {
		o.Duration = 30 * time.Second
	}
	if o.Rate == 0 {
		o.Rate = 2.5
	}
	if o.Concurrency == 0 {
		o.Concurrency = 64
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	switch {
	case o.Agents < 0 || o.Agents > 1<<22:
		return fmt.Errorf("loadgen: agents must be between 1 and %d", 1<<22)
	case o.Duration < 0 || o.Duration > 24*time.Hour:
		return errors.New("loadgen: duration must be positive and at most 24h")
	case o.Rate < 0 || o.Rate > 1000:
		return errors.New("loadgen: rate must be positive and at most 1000 reports/s per agent")
	case o.Concurrency < 0 || o.Concurrency > 4096:
		return errors.New("loadgen: concurrency must be between 1 and 4096")
	case o.EnrolmentToken == "":
		return errors.New("loadgen: an enrolment token is required")
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("loadgen: URL %q is not an http(s) URL", o.URL)
	}
	if !loopback(u.Hostname()) {
		return fmt.Errorf("loadgen: URL %q is not a loopback address: the load generator only loads a local server", o.URL)
	}
	o.URL = strings.TrimRight(o.URL, "/")
	return nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Run simulates opts.Agents agents against the server at opts.URL.
//
// Setup: every agent enrols with opts.EnrolmentToken (a plausible machine
// of its own: distinct hostname, serial, UUID and MACs, vendor and model
// from a small table, about 200 packages from a shared pool) and sends a
// full report of all four sections. Load phase: for opts.Duration the
// agents report at opts.Rate each, round robin, paced across the workers
// at Agents × Rate reports/s; the mix is about 85% heartbeats (hashes
// only), 10% one changed hardware or system section and 5% a changed
// software section (a package added or upgraded). Each agent has one
// report in flight at most, its seq rises by one per report, bodies are
// gzipped, a want_full answer makes its next report a full one, and a
// report that was not acknowledged is sent again unchanged. If the server
// cannot keep up, the pacer drops what it falls behind by more than 100
// ms rather than bursting, so PerSecond shows the shortfall.
//
// It prints a progress line per second and a summary to opts.Out. It
// returns an error when ctx ends (with the figures so far) or when no
// agent could enrol.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	client := opts.Client
	if client == nil {
		tr := &http.Transport{
			Proxy:               nil, // loopback: never through a proxy
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        2 * opts.Concurrency,
			MaxIdleConnsPerHost: 2 * opts.Concurrency,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}
		defer tr.CloseIdleConnections()
		client = &http.Client{Transport: tr, Timeout: time.Minute}
	}
	r := &runner{opts: opts, client: client, res: &Result{AckedSeq: map[string]uint64{}}}
	var b [4]byte
	rand.Read(b[:])
	tag := binary.BigEndian.Uint32(b[:])

	// Setup: enrol and send the first full report.
	start := time.Now()
	agents := make([]*agent, opts.Agents)
	stopProgress := r.progress(func(elapsed time.Duration) {
		fmt.Fprintf(opts.Out, "  setup %3.0fs: %d/%d enrolled, %d full reports acknowledged, errors %d, rate-limited %d\n",
			elapsed.Seconds(), r.enrolled.Load(), opts.Agents, r.fullAcked.Load(), r.errors.Load(), r.limited.Load())
	})
	r.parallel(ctx, opts.Agents, func(i int) {
		a := newAgent(tag, i)
		if !r.enroll(ctx, a) {
			return
		}
		agents[i] = a
		r.report(ctx, a, false)
	})
	stopProgress()
	live := slices.DeleteFunc(agents, func(a *agent) bool { return a == nil })
	r.res.Enrolled = len(live)
	setup := time.Since(start)
	fmt.Fprintf(opts.Out, "setup: %d agents enrolled and sent a full report in %.1fs (%.0f agents/s)\n",
		len(live), setup.Seconds(), float64(len(live))/setup.Seconds())
	if err := ctx.Err(); err != nil {
		return r.finish(live, 0), err
	} else if len(live) == 0 {
		return r.finish(live, 0), fmt.Errorf("loadgen: no agent could enrol: %s", r.firstError())
	}

	// Load phase.
	total := float64(len(live)) * opts.Rate
	fmt.Fprintf(opts.Out, "load: %d agents × %.2g reports/s = %.0f reports/s for %s\n", len(live), opts.Rate, total, opts.Duration)
	if opts.OnLoad != nil {
		opts.OnLoad()
	}
	loadStart := time.Now()
	var last int64
	stopProgress = r.progress(func(elapsed time.Duration) {
		sent := r.sent.Load()
		win := r.window()
		fmt.Fprintf(opts.Out, "  load %3.0fs: %5d reports/s, p50 %s p99 %s, errors %d, rate-limited %d, behind %d\n",
			elapsed.Seconds(), sent-last, fmtDur(percentile(win, 50)), fmtDur(percentile(win, 99)), r.errors.Load(), r.limited.Load(), r.skipped.Load())
		last = sent
	})
	jobs := make(chan *agent, 2*opts.Concurrency)
	go pace(ctx, jobs, live, total, loadStart, opts.Duration, &r.skipped)
	var wg sync.WaitGroup
	for w := 0; w < opts.Concurrency; w++ {
		wg.Go(func() {
			for a := range jobs {
				r.report(ctx, a, true)
			}
		})
	}
	wg.Wait()
	dur := time.Since(loadStart)
	stopProgress()
	res := r.finish(live, dur)
	fmt.Fprintf(opts.Out, "ingest: %d reports in %.1fs = %.0f reports/s; p50 %s p99 %s max %s; errors %d, rate-limited %d; enrolled %d\n",
		res.Sent, dur.Seconds(), res.PerSecond, fmtDur(res.P50), fmtDur(res.P99), fmtDur(res.Max), res.Errors, res.RateLimited, res.Enrolled)
	fmt.Fprintf(opts.Out, "  mix: %d heartbeats, %d deltas, %d software changes, %d full, %d resent; target %.0f reports/s\n",
		r.kinds[kindHeartbeat].Load(), r.kinds[kindDelta].Load(), r.kinds[kindSoftware].Load(), r.kinds[kindFull].Load(),
		r.kinds[kindRetry].Load(), total)
	if res.Skipped > 0 {
		fmt.Fprintf(opts.Out, "  behind: %d reports not sent: all %d workers were waiting for answers (server too slow for the target rate, or too few workers)\n",
			res.Skipped, opts.Concurrency)
	}
	if res.Errors+res.RateLimited > 0 {
		fmt.Fprintf(opts.Out, "  first error: %s\n", r.firstError())
	}
	return res, ctx.Err()
}

// pace hands agents to the workers at total reports/s, round robin, until
// the duration is over or ctx ends, and then closes jobs. It issues what
// is due every 2 ms; what it falls behind by more than 100 ms (workers
// all busy) is dropped, not sent in a burst.
func pace(ctx context.Context, jobs chan<- *agent, live []*agent, total float64, start time.Time, d time.Duration, skipped *atomic.Int64) {
	defer close(jobs)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	maxLag := max(1, int64(total/10))
	var issued int64
	next := 0
	for {
		elapsed := time.Since(start)
		if elapsed >= d {
			return
		}
		due := int64(elapsed.Seconds() * total)
		if due-issued > maxLag {
			skipped.Add(due - maxLag - issued)
			issued = due - maxLag
		}
		for ; issued < due; issued++ {
			select {
			case jobs <- live[next]:
			case <-ctx.Done():
				return
			}
			next = (next + 1) % len(live)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// runner holds the counters of a run.
type runner struct {
	opts   Options
	client *http.Client
	res    *Result

	enrolled, fullAcked, sent, acked atomic.Int64
	errors, limited, skipped         atomic.Int64
	kinds                            [numKinds]atomic.Int64
	mu                               sync.Mutex
	lat, win                         []time.Duration // load phase; since the last progress line
	firstErr                         string
}

// parallel runs fn(0..n-1) on opts.Concurrency goroutines.
func (r *runner) parallel(ctx context.Context, n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(n, r.opts.Concurrency); w++ {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// progress calls line every second until the returned stop is called.
func (r *runner) progress(line func(elapsed time.Duration)) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	start := time.Now()
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				line(time.Since(start))
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func (r *runner) fail(msg string) {
	r.mu.Lock()
	if r.firstErr == "" {
		r.firstErr = msg
	}
	r.mu.Unlock()
}

func (r *runner) firstError() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.firstErr
}

// window returns the latencies since the last call.
func (r *runner) window() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.win
	r.win = nil
	return w
}

// post sends a gzipped JSON body and decodes a 200 answer into out. It
// returns the status (0 when no answer came) and an error for anything
// but 200.
func (r *runner) post(ctx context.Context, path, credential string, body []byte, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.opts.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("User-Agent", "cmdb-loadgen/1")
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("%s: %d %s", path, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return resp.StatusCode, fmt.Errorf("%s: bad answer: %v", path, err)
	}
	return resp.StatusCode, nil
}

// count records a failed request unless ctx ended (a cancelled run).
func (r *runner) count(ctx context.Context, status int, err error) {
	if ctx.Err() != nil && status == 0 {
		return
	}
	if status == http.StatusTooManyRequests {
		r.limited.Add(1)
	} else {
		r.errors.Add(1)
	}
	r.fail(err.Error())
}

// enroll enrols a; false if that failed.
func (r *runner) enroll(ctx context.Context, a *agent) bool {
	var resp struct {
		DeviceID   string `json:"device_id"`
		Credential string `json:"credential"`
	}
	status, err := r.post(ctx, "/api/v1/agent/enroll", r.opts.EnrolmentToken, a.enrollBody(), &resp)
	if err == nil && (resp.DeviceID == "" || resp.Credential == "") {
		err = errors.New("enroll: answer without device id or credential")
	}
	if err != nil {
		r.count(ctx, status, err)
		return false
	}
	a.id, a.cred = resp.DeviceID, resp.Credential
	r.enrolled.Add(1)
	return true
}

// report sends a's next report and records the outcome.
func (r *runner) report(ctx context.Context, a *agent, load bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ctx.Err() != nil {
		return
	}
	body, kind := a.next(time.Now())
	if load {
		r.sent.Add(1)
		r.kinds[kind].Add(1)
	}
	var resp cmdb.ReportResponse
	start := time.Now()
	status, err := r.post(ctx, "/api/v1/agent/report", a.cred, body, &resp)
	lat := time.Since(start)
	if err != nil {
		r.count(ctx, status, err)
		return
	}
	a.acknowledged(&resp)
	if !load {
		r.fullAcked.Add(1)
		return
	}
	r.acked.Add(1)
	r.mu.Lock()
	r.lat = append(r.lat, lat)
	r.win = append(r.win, lat)
	r.mu.Unlock()
}

// finish fills in the result.
func (r *runner) finish(live []*agent, dur time.Duration) *Result {
	res := r.res
	for _, a := range live {
		a.mu.Lock()
		if a.acked > 0 {
			res.AckedSeq[a.id] = a.acked
		}
		a.mu.Unlock()
	}
	res.Sent, res.Acked = int(r.sent.Load()), int(r.acked.Load())
	res.Errors, res.RateLimited, res.Skipped = int(r.errors.Load()), int(r.limited.Load()), int(r.skipped.Load())
	res.Duration = dur
	if dur > 0 {
		res.PerSecond = float64(res.Sent) / dur.Seconds()
	}
	r.mu.Lock()
	slices.Sort(r.lat)
	res.P50, res.P99 = percentileSorted(r.lat, 50), percentileSorted(r.lat, 99)
	if len(r.lat) > 0 {
		res.Max = r.lat[len(r.lat)-1]
	}
	r.mu.Unlock()
	return res
}

// percentile returns the p-th percentile (nearest rank) of d, sorting it.
func percentile(d []time.Duration, p float64) time.Duration {
	slices.Sort(d)
	return percentileSorted(d, p)
}

func percentileSorted(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	k := int(float64(len(d))*p/100+0.999999) - 1
	return d[min(max(k, 0), len(d)-1)]
}

// fmtDur prints a latency like "0.8ms", "3.1ms", "41ms" or "1.25s".
func fmtDur(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case ms >= 10:
		return fmt.Sprintf("%.0fms", ms)
	}
	return fmt.Sprintf("%.1fms", ms)
}
