//lint:file-ignore ST1005 the errors are German sentences a person reads in Check and the run log; German nouns are capitalised.

package intune

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/schulit/cmdb/plugins/connector"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/sync/errgroup"
)

// graphScope asks for the application permissions the app registration
// was granted (DeviceManagementManagedDevices.Read.All and
// DeviceManagementServiceConfig.Read.All).
const graphScope = "https://graph.microsoft.com/.default"

// Retry limits. Graph asks throttled clients to wait Retry-After seconds
// and to back off exponentially when it says nothing; both are bounded so
// that a run under heavy throttling ends as failed instead of hanging.
const (
	maxThrottleRetries = 6 // 429 in a row for one request
	maxServerRetries   = 3 // 5xx or a broken connection in a row
	// maxRetryAfter is the longest Retry-After the connector waits; the
	// host gives up on a Pull that sends no batch for 5 minutes.
	maxRetryAfter = 2 * time.Minute
)

// Errors Check tells apart to say what to fix.
var (
	errRejected   = errors.New("Anmeldung bei Microsoft abgelehnt: Client-ID oder Geheimnis prüfen")
	errForbidden  = errors.New("keine Berechtigung")
	errThrottled  = errors.New("Microsoft Graph drosselt die Anfragen")
	errNoTenant   = errors.New("Mandant nicht gefunden")
	errBadAnswer  = errors.New("unerwartete Antwort von Microsoft Graph")
	errOtherHost  = errors.New("Folgeseite auf einem anderen Server")
	errRetryAfter = errors.New("Microsoft Graph bittet, länger zu warten, als ein Lauf warten kann")
	errNotFound   = errors.New("nicht gefunden")
	// errTransient marks a token request worth repeating: the sign-in
	// service was throttled, failed or out of reach.
	errTransient = errors.New("vorübergehend")
)

// graph is a small Microsoft Graph client: client-credentials tokens,
// GET with retries, and paging by @odata.nextLink.
type graph struct {
	base   *url.URL // e.g. https://graph.microsoft.com
	tokens oauth2.TokenSource
	client *http.Client
	log    *slog.Logger
	sleep  func(context.Context, time.Duration) error
	secret string // only to scrub it from messages that pass through
}

func newGraph(ctx context.Context, s Settings, secret string, hc *http.Client, log *slog.Logger,
	sleep func(context.Context, time.Duration) error) (*graph, error) {
	base, err := url.Parse(s.graphBase())
	if err != nil {
		return nil, err
	}
	cc := clientcredentials.Config{
		ClientID: s.ClientID, ClientSecret: secret, TokenURL: s.tokenURL(),
		Scopes: []string{graphScope},
		// Microsoft documents client_secret in the form body.
		AuthStyle: oauth2.AuthStyleInParams,
	}
	return &graph{
		base:   base,
		tokens: cc.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, hc)),
		client: hc, log: log, sleep: sleep, secret: secret,
	}, nil
}

// scrub removes the secret from a message; it should never be in one, but
// a token endpoint may echo what it was sent.
func (g *graph) scrub(msg string) string {
	if g.secret == "" {
		return msg
	}
	return strings.ReplaceAll(msg, g.secret, "[redacted]")
}

// token gets an access token (cached until it expires) and says in words
// why it could not.
func (g *graph) token() (string, error) {
	tok, err := g.tokens.Token()
	if err == nil {
		return tok.AccessToken, nil
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		desc := firstLine(re.ErrorDescription)
		code := 0
		if re.Response != nil {
			code = re.Response.StatusCode
		}
		switch {
		case re.ErrorCode == "invalid_client" || code == http.StatusUnauthorized ||
			strings.HasPrefix(desc, "AADSTS700016") || strings.HasPrefix(desc, "AADSTS7000215"):
			return "", fmt.Errorf("%w (%s)", errRejected, g.scrub(desc))
		case strings.HasPrefix(desc, "AADSTS90002") || strings.HasPrefix(desc, "AADSTS900023"):
			return "", fmt.Errorf("%w: Mandanten-ID prüfen (%s)", errNoTenant, g.scrub(desc))
		}
		if desc == "" {
			desc = fmt.Sprintf("HTTP %d", code)
		}
		if code == http.StatusTooManyRequests || code >= 500 {
			return "", fmt.Errorf("Anmeldung bei Microsoft fehlgeschlagen: %s%w", g.scrub(desc), marker{errTransient})
		}
		return "", fmt.Errorf("Anmeldung bei Microsoft fehlgeschlagen: %s", g.scrub(desc))
	}
	return "", fmt.Errorf("Anmeldedienst von Microsoft nicht erreichbar: %s%w", g.scrub(connector.TransportMessage(err)), marker{errTransient})
}

// marker wraps an error for errors.Is without adding to the message.
type marker struct{ err error }

func (m marker) Error() string { return "" }
func (m marker) Unwrap() error { return m.err }

// page is one answer of a Graph collection.
type page[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// each reads every page of the collection at path (with query) and hands
// each page's items to f, following @odata.nextLink exactly as given.
func each[T any](ctx context.Context, g *graph, path string, query url.Values, f func([]T) error) error {
	u := *g.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = query.Encode()
	next := u.String()
	for next != "" {
		var p page[T]
		if err := g.get(ctx, next, &p); err != nil {
			return err
		}
		if err := f(p.Value); err != nil {
			return err
		}
		if p.NextLink != "" {
			// The bearer token goes only to the configured Graph server.
			n, err := url.Parse(p.NextLink)
			if err != nil || n.Scheme != g.base.Scheme || n.Host != g.base.Host {
				return fmt.Errorf("%w: %q", errOtherHost, p.NextLink)
			}
		}
		next = p.NextLink
	}
	return nil
}

// ethernetLookups is how many per-device requests run at once: enough to
// hide the latency, few enough not to provoke throttling.
const ethernetLookups = 4

// ethernetMACs fills in the Ethernet MAC of each Windows and macOS device
// of a page that lacks it, one GET per device ($select=ethernetMacAddress),
// since Graph leaves it null in lists. A device deleted in between (404)
// keeps none.
func (g *graph) ethernetMACs(ctx context.Context, items []managedDevice) error {
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(ethernetLookups)
	for i := range items {
		d := &items[i]
		if d.EthernetMacAddress != "" || d.ID == "" || (d.OperatingSystem != "Windows" && d.OperatingSystem != "macOS") {
			continue
		}
		eg.Go(func() error {
			target := strings.TrimSuffix(g.base.String(), "/") + managedDevicesPath + "/" + url.PathEscape(d.ID) +
				"?" + url.Values{"$select": {"ethernetMacAddress"}}.Encode()
			var v struct {
				MAC string `json:"ethernetMacAddress"`
			}
			err := g.get(ctx, target, &v)
			if errors.Is(err, errNotFound) {
				return nil
			}
			d.EthernetMacAddress = v.MAC
			return err
		})
	}
	return eg.Wait()
}

// get fetches one URL into v: throttled (429) requests wait Retry-After,
// or back off exponentially with jitter when it is missing; 5xx and broken
// connections are retried a few times; every wait ends with ctx.
func (g *graph) get(ctx context.Context, target string, v any) error {
	throttled, failed := 0, 0
	for {
		tok, err := g.token()
		if err != nil {
			if !errors.Is(err, errTransient) || ctx.Err() != nil {
				return err
			}
			failed++
			if failed > maxServerRetries {
				return err
			}
			if err := g.wait(ctx, connector.Backoff(failed), "Anmeldedienst von Microsoft gestört", "", 0); err != nil {
				return err
			}
			continue
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		resp, err := g.client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failed++
			if failed > maxServerRetries {
				return fmt.Errorf("Microsoft Graph nicht erreichbar: %s", g.scrub(connector.TransportMessage(err)))
			}
			if err := g.wait(ctx, connector.Backoff(failed), "Verbindung zu Microsoft Graph gestört", target, 0); err != nil {
				return err
			}
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failed++
			if failed > maxServerRetries {
				return fmt.Errorf("Antwort von Microsoft Graph abgebrochen: %s", g.scrub(connector.TransportMessage(err)))
			}
			if err := g.wait(ctx, connector.Backoff(failed), "Antwort von Microsoft Graph abgebrochen", target, 0); err != nil {
				return err
			}
			continue
		}
		switch code := resp.StatusCode; {
		case code == http.StatusOK:
			if err := json.Unmarshal(body, v); err != nil {
				return fmt.Errorf("%w: %v", errBadAnswer, err)
			}
			return nil
		case code == http.StatusTooManyRequests:
			throttled++
			if throttled > maxThrottleRetries {
				return fmt.Errorf("%w: nach %d Versuchen aufgegeben; später erneut versuchen", errThrottled, maxThrottleRetries)
			}
			d, ok := connector.RetryAfter(resp.Header.Get("Retry-After"), time.Now())
			if !ok {
				d = connector.Backoff(throttled)
			}
			if d > maxRetryAfter {
				return fmt.Errorf("%w (%s); später erneut versuchen", errRetryAfter, d)
			}
			if err := g.wait(ctx, d, "Microsoft Graph drosselt", target, code); err != nil {
				return err
			}
		case code >= 500:
			failed++
			if failed > maxServerRetries {
				return fmt.Errorf("Microsoft Graph meldet einen Fehler (HTTP %d) nach %d Versuchen: %s", code, failed, g.scrub(graphError(body)))
			}
			d, ok := connector.RetryAfter(resp.Header.Get("Retry-After"), time.Now())
			if !ok || d > maxRetryAfter {
				d = connector.Backoff(failed)
			}
			if err := g.wait(ctx, d, "Microsoft Graph meldet einen Fehler", target, code); err != nil {
				return err
			}
		case code == http.StatusUnauthorized:
			return fmt.Errorf("%w (Microsoft Graph: %s)", errRejected, g.scrub(graphError(body)))
		case code == http.StatusForbidden:
			return fmt.Errorf("%w (Microsoft Graph: %s)", errForbidden, g.scrub(graphError(body)))
		case code == http.StatusNotFound:
			return fmt.Errorf("%w (Microsoft Graph: %s)", errNotFound, g.scrub(graphError(body)))
		default:
			return fmt.Errorf("Microsoft Graph lehnt die Anfrage ab (HTTP %d): %s", code, g.scrub(graphError(body)))
		}
	}
}

// wait sleeps d or until ctx ends, and says so in the log.
func (g *graph) wait(ctx context.Context, d time.Duration, why, target string, status int) error {
	u, _ := url.Parse(target)
	path := target
	if u != nil {
		path = u.Path
	}
	g.log.Warn(why+"; neuer Versuch", "warten", d.Round(time.Millisecond).String(), "pfad", path, "status", status)
	return g.sleep(ctx, d)
}

// graphError reads the message of a Graph error body
// ({"error": {"code": "...", "message": "..."}}), or a short excerpt.
func graphError(body []byte) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && (e.Error.Code != "" || e.Error.Message != "") {
		return strings.TrimSpace(e.Error.Code + " " + firstLine(e.Error.Message))
	}
	s := firstLine(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		s = "ohne Beschreibung"
	}
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(strings.TrimSuffix(s, "\r"))
}
