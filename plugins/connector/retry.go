package connector

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Helpers for connectors that talk HTTP to their source: waiting as a
// throttling server asks (Retry-After), backing off when it does not say,
// and naming a network error without its URL.

// The bounds of Backoff.
const (
	BackoffBase = time.Second
	BackoffCap  = time.Minute
)

// RetryAfter reads a Retry-After header: seconds or an HTTP date
// (measured from now).
func RetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// Backoff is the wait before the n-th retry (n ≥ 1): exponential from
// BackoffBase, capped at BackoffCap, with jitter in the upper half so that
// parallel runs do not retry in step.
func Backoff(n int) time.Duration {
	d := BackoffCap
	if n < 7 {
		d = min(BackoffBase<<(n-1), BackoffCap)
	}
	return d/2 + rand.N(d/2+1)
}

// SleepContext waits d, or returns ctx's error as soon as ctx is done.
func SleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TransportMessage shortens a network error to its cause, without the
// URL (which may carry a query a person does not need).
func TransportMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}
