//lint:file-ignore ST1005 the errors are German sentences a person reads in Check and the run log; German nouns are capitalised.

package snipeit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/schulit/cmdb/plugins/connector"
	"golang.org/x/time/rate"
)

// Retry limits. Snipe-IT throttles per user (120 requests a minute by
// default) and answers 429 with Retry-After; both retries are bounded so
// that a run against a server that keeps refusing ends as failed.
const (
	maxThrottleRetries = 6 // 429 in a row for one request
	maxServerRetries   = 3 // 5xx or a broken connection in a row
	// maxRetryAfter is the longest Retry-After the connector waits; the
	// host gives up on a Pull that sends no batch for 5 minutes.
	maxRetryAfter = 2 * time.Minute
)

// Errors Check and Push tell apart.
var (
	errRejected   = errors.New("Snipe-IT lehnt den API-Schlüssel ab")
	errForbidden  = errors.New("der Benutzer des API-Schlüssels darf das nicht")
	errThrottled  = errors.New("Snipe-IT drosselt die Anfragen")
	errRetryAfter = errors.New("Snipe-IT bittet, länger zu warten, als ein Lauf warten kann")
	errBadAnswer  = errors.New("unerwartete Antwort")
	errNotFound   = errors.New("nicht gefunden")
	// errRefused: Snipe-IT answered {"status":"error"}, whatever the
	// HTTP status (it often says so with 200).
	errRefused = errors.New("Snipe-IT lehnt ab")
)

// client is a small Snipe-IT REST client: Bearer token, JSON, at most the
// configured request rate, 429 and 5xx retried.
type client struct {
	base  string // …/api/v1, no trailing slash
	token string
	http  *http.Client
	lim   *rate.Limiter
	log   *slog.Logger
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

// scrub removes the token from a message; it should never be in one, but
// a proxy or an error page may echo the request.
func (c *client) scrub(msg string) string {
	if c.token == "" {
		return msg
	}
	return strings.ReplaceAll(msg, c.token, "[redacted]")
}

// pace waits until the limiter allows the next request. It reserves at
// the connector's clock and sleeps with the connector's sleep, so that
// tests see every wait without spending it.
func (c *client) pace(ctx context.Context) error {
	now := c.now()
	r := c.lim.ReserveN(now, 1)
	if !r.OK() {
		return fmt.Errorf("Anfragerate %v ist keine", c.lim.Limit())
	}
	if d := r.DelayFrom(now); d > 0 {
		if err := c.sleep(ctx, d); err != nil {
			r.CancelAt(c.now())
			return err
		}
	}
	return nil
}

// apiError is Snipe-IT's error body: {"status":"error","messages":…,
// "payload":…}; messages is a sentence or field → sentences.
type apiError struct {
	Status   string          `json:"status"`
	Messages json.RawMessage `json:"messages"`
	Message  string          `json:"message"` // Laravel's own, e.g. "Too Many Attempts."
}

// refusal reads an error body; ok is false when the body is no error.
func refusal(body []byte) (string, bool) {
	var e apiError
	if json.Unmarshal(body, &e) != nil || e.Status != "error" {
		return "", false
	}
	return messages(e.Messages, e.Message), true
}

// messages flattens Snipe-IT's messages: a string, or field → [sentences].
func messages(raw json.RawMessage, fallback string) string {
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		return unescape(s)
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) == nil && len(m) > 0 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			var list []string
			if json.Unmarshal(m[k], &list) != nil {
				var one string
				_ = json.Unmarshal(m[k], &one)
				list = []string{one}
			}
			parts = append(parts, k+": "+unescape(strings.Join(list, " ")))
		}
		return strings.Join(parts, "; ")
	}
	if fallback != "" {
		return fallback
	}
	return "ohne Begründung"
}

// do sends one request (body is JSON or nil) and decodes the answer into
// v. Throttled requests (429) wait Retry-After, or back off when it is
// missing; 5xx and broken connections are retried a few times; an error
// body is an error even with status 200; every wait ends with ctx.
func (c *client) do(ctx context.Context, method, path string, query url.Values, body any, v any) error {
	target := c.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	throttled, failed := 0, 0
	for {
		if err := c.pace(ctx); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failed++
			if failed > maxServerRetries {
				return fmt.Errorf("Snipe-IT nicht erreichbar: %s", c.scrub(connector.TransportMessage(err)))
			}
			if err := c.wait(ctx, connector.Backoff(failed), "Verbindung zu Snipe-IT gestört", path, 0); err != nil {
				return err
			}
			continue
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failed++
			if failed > maxServerRetries {
				return fmt.Errorf("Antwort von Snipe-IT abgebrochen: %s", c.scrub(connector.TransportMessage(err)))
			}
			if err := c.wait(ctx, connector.Backoff(failed), "Antwort von Snipe-IT abgebrochen", path, 0); err != nil {
				return err
			}
			continue
		}
		switch code := resp.StatusCode; {
		case code == http.StatusTooManyRequests:
			throttled++
			if throttled > maxThrottleRetries {
				return fmt.Errorf("%w: nach %d Versuchen aufgegeben; später erneut versuchen oder die Anfragerate senken", errThrottled, maxThrottleRetries)
			}
			d, ok := connector.RetryAfter(resp.Header.Get("Retry-After"), c.now())
			if !ok {
				d = connector.Backoff(throttled)
			}
			if d > maxRetryAfter {
				return fmt.Errorf("%w (%s); später erneut versuchen", errRetryAfter, d)
			}
			if err := c.wait(ctx, d, "Snipe-IT drosselt", path, code); err != nil {
				return err
			}
			continue
		case code >= 500:
			failed++
			if failed > maxServerRetries {
				return fmt.Errorf("Snipe-IT meldet einen Fehler (HTTP %d) nach %d Versuchen: %s", code, failed, c.scrub(excerpt(data)))
			}
			if err := c.wait(ctx, connector.Backoff(failed), "Snipe-IT meldet einen Fehler", path, code); err != nil {
				return err
			}
			continue
		case code == http.StatusUnauthorized:
			return fmt.Errorf("%w (HTTP 401: %s)", errRejected, c.scrub(excerptOrRefusal(data)))
		case code == http.StatusForbidden:
			return fmt.Errorf("%w (HTTP 403: %s)", errForbidden, c.scrub(excerptOrRefusal(data)))
		case code == http.StatusNotFound:
			return fmt.Errorf("%w (HTTP 404: %s)", errNotFound, c.scrub(excerptOrRefusal(data)))
		case code >= 300 && code < 400:
			return fmt.Errorf("%w: Snipe-IT leitet nach %q um; die Adresse prüfen (https://, Unterverzeichnis)",
				errBadAnswer, c.scrub(resp.Header.Get("Location")))
		case code != http.StatusOK:
			return fmt.Errorf("Snipe-IT lehnt die Anfrage ab (HTTP %d): %s", code, c.scrub(excerptOrRefusal(data)))
		}
		if msg, ok := refusal(data); ok {
			return fmt.Errorf("%w: %s", errRefused, c.scrub(msg))
		}
		if err := json.Unmarshal(data, v); err != nil {
			return fmt.Errorf("%w: %s (%s)", errBadAnswer, err, c.scrub(excerpt(data)))
		}
		return nil
	}
}

// wait sleeps d or until ctx ends, and says so in the log.
func (c *client) wait(ctx context.Context, d time.Duration, why, path string, status int) error {
	c.log.Warn(why+"; neuer Versuch", "warten", d.Round(time.Millisecond).String(), "pfad", path, "status", status)
	return c.sleep(ctx, d)
}

func excerptOrRefusal(body []byte) string {
	if msg, ok := refusal(body); ok {
		return msg
	}
	return excerpt(body)
}

// excerpt is the first line of a body, short, for a message.
func excerpt(body []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	if s == "" {
		s = "ohne Beschreibung"
	}
	return s
}
