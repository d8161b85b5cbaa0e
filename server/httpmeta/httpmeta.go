// Package httpmeta holds what the HTTP adapters (the JSON API and the web
// portal) both need of a request's origin: where it came from, and a
// per-address limit on sign-in attempts.
package httpmeta

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/schulit/cmdb/server/cmdb"
)

// LocalPath is next when it is a path on this server ("/tickets/1?x"),
// else "/": where a sign-in returns to must never be another site.
func LocalPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

// Meta says where a request came from, for audit and rate limits.
func Meta(r *http.Request) cmdb.RequestMeta {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return cmdb.RequestMeta{IP: ip, UserAgent: r.UserAgent()}
}

// SignInLimiter hands out one token bucket per client address for
// sign-ins (10 at once, then one every 2 s), on top of the store's
// lockouts: it keeps a single replica from being used to try passwords
// quickly. The zero value is ready to use.
type SignInLimiter struct {
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	swept   time.Time
}

// Allow reports whether a sign-in from ip may go ahead now.
func (l *SignInLimiter) Allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil || time.Since(l.swept) > 10*time.Minute {
		l.buckets, l.swept = map[string]*rate.Limiter{}, time.Now()
	}
	b := l.buckets[ip]
	if b == nil {
		b = rate.NewLimiter(rate.Every(2*time.Second), 10)
		l.buckets[ip] = b
	}
	return b.Allow()
}
