// Package snipeit is the connector for Snipe-IT, the open-source asset
// management many school authorities already keep their inventory in,
// read and written through its REST API (/api/v1) with a personal API
// token.
//
// Pull reads every location first (for each room its building and
// school) and then every asset (hardware) page by page with limit and
// offset. Push writes status, location, serial and MAC changes back to
// existing assets and never creates one.
//
// Snipe-IT HTML-escapes every value it sends and often reports errors in
// a body of {"status":"error"} with HTTP 200; both are handled here. It
// throttles per user (120 requests a minute by default): the connector
// keeps below a configured rate (2 requests a second by default) with a
// token bucket and waits out 429 answers as Retry-After asks.
package snipeit

//lint:file-ignore ST1005 the errors are German sentences a person reads in the run log; German nouns are capitalised.

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/schulit/cmdb/plugins/connector"
)

// Version is the connector's version.
const Version = "1.0.0"

//go:embed schema.json
var schema []byte

// Schema returns the JSON schema of Settings.
func Schema() json.RawMessage { return schema }

// SecretName is the secret the connector reads: a Snipe-IT API token
// (personal access token) of a user who may view and edit assets.
const SecretName = "api_token"

// Defaults of the settings.
const (
	DefaultPageSize          = 500 // Snipe-IT's own maximum unless MAX_RESULTS is raised
	DefaultRequestsPerSecond = 2   // Snipe-IT allows 120 a minute by default
	maxPageSize              = 5000
	maxRequestsPerSecond     = 50
)

// Settings is the instance configuration (Config.Settings).
type Settings struct {
	// BaseURL is Snipe-IT's address, e.g. https://inventar.schulamt.de
	// (with …/api/v1 or without).
	BaseURL string `json:"base_url"`
	// PageSize is the limit of each list request; 0: DefaultPageSize.
	PageSize int `json:"page_size"`
	// RequestsPerSecond caps the request rate; 0: DefaultRequestsPerSecond.
	RequestsPerSecond float64 `json:"requests_per_second"`
	// MACField is the name of the custom field that holds the MAC, e.g.
	// "MAC Address"; empty: every custom field of format MAC.
	MACField string `json:"mac_field"`
}

func (s Settings) pageSize() int {
	if s.PageSize == 0 {
		return DefaultPageSize
	}
	return s.PageSize
}

func (s Settings) rps() float64 {
	if s.RequestsPerSecond == 0 {
		return DefaultRequestsPerSecond
	}
	return s.RequestsPerSecond
}

// apiBase is the address of the API, …/api/v1.
func (s Settings) apiBase() string {
	b := strings.TrimSuffix(s.BaseURL, "/")
	b = strings.TrimSuffix(b, "/api/v1")
	return b + "/api/v1"
}

// Connector reads and writes one Snipe-IT per instance.
type Connector struct {
	log   *slog.Logger
	http  *http.Client
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

// New returns the snipeit connector, logging as a plugin does (JSON on
// stderr).
func New() *Connector {
	return &Connector{
		log: connector.Logger("snipeit"),
		http: &http.Client{
			Timeout: time.Minute,
			// A redirect is a wrong address (http → https, the login
			// page); it is reported, and the token never follows it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		now:   time.Now,
		sleep: connector.SleepContext,
	}
}

// Describe implements connector.Connector.
func (c *Connector) Describe(context.Context) (connector.Description, error) {
	return connector.Description{
		Name: "snipeit", Version: Version,
		Capabilities: []connector.Capability{connector.CapPull, connector.CapPush},
		ConfigSchema: schema,
		Secrets: []connector.SecretSpec{{Name: SecretName, Required: true,
			Description: "API-Schlüssel aus Snipe-IT (Profil → API-Schlüssel verwalten) eines Benutzers, der Assets sehen und bearbeiten darf."}},
	}, nil
}

// settings reads and checks the configuration; what is wrong is a list
// of problems, the first one for the message.
func settings(cfg connector.Config) (Settings, string, []connector.Problem) {
	var s Settings
	if err := cfg.Decode(&s); err != nil {
		return s, "", []connector.Problem{{Field: "settings", Rule: "json", Message: "Die Einstellungen sind kein gültiges JSON-Objekt: " + err.Error()}}
	}
	s.BaseURL, s.MACField = strings.TrimSpace(s.BaseURL), strings.TrimSpace(s.MACField)
	var p []connector.Problem
	if s.BaseURL == "" {
		p = append(p, connector.Problem{Field: "base_url", Rule: "required", Message: "Keine Adresse von Snipe-IT angegeben (Einstellung »base_url«)."})
	} else if msg := checkURL(s.BaseURL); msg != "" {
		p = append(p, connector.Problem{Field: "base_url", Rule: "url", Message: fmt.Sprintf("Die Adresse %q %s", s.BaseURL, msg)})
	}
	if s.PageSize < 0 || s.PageSize > maxPageSize {
		p = append(p, connector.Problem{Field: "page_size", Rule: "range",
			Message: fmt.Sprintf("Die Seitengröße %d liegt nicht zwischen 1 und %d (0: %d).", s.PageSize, maxPageSize, DefaultPageSize)})
	}
	if s.RequestsPerSecond < 0 || s.RequestsPerSecond > maxRequestsPerSecond {
		p = append(p, connector.Problem{Field: "requests_per_second", Rule: "range",
			Message: fmt.Sprintf("%v Anfragen je Sekunde liegt nicht zwischen 0,1 und %d (0: %d).", s.RequestsPerSecond, maxRequestsPerSecond, DefaultRequestsPerSecond)})
	} else if s.RequestsPerSecond > 0 && s.RequestsPerSecond < 0.1 {
		p = append(p, connector.Problem{Field: "requests_per_second", Rule: "range",
			Message: fmt.Sprintf("%v Anfragen je Sekunde ist zu langsam für einen Lauf (mindestens 0,1).", s.RequestsPerSecond)})
	}
	token := strings.TrimSpace(cfg.Secrets[SecretName].Reveal())
	if token == "" {
		p = append(p, connector.Problem{Field: SecretName, Rule: "required", Message: "Kein API-Schlüssel hinterlegt (Geheimnis »api_token«)."})
	}
	return s, token, p
}

// checkURL says what is wrong with an address, or "". Plain http is only
// allowed to this machine: the token must not cross a network unencrypted.
func checkURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "ist keine http(s)-Adresse."
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "muss mit https:// beginnen (http nur für diesen Rechner)."
		}
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "darf keine Abfrage (?…) und keine Zugangsdaten enthalten."
	}
	return ""
}

func (c *Connector) client(s Settings, token string) *client {
	return &client{
		base: s.apiBase(), token: token, http: c.http, log: c.log, now: c.now, sleep: c.sleep,
		// A burst of one: the rate holds from the first request on.
		lim: rate.NewLimiter(rate.Limit(s.rps()), 1),
	}
}

// Check implements connector.Connector: the configuration is complete and
// one small request for assets is answered with the token.
func (c *Connector) Check(ctx context.Context, cfg connector.Config) (connector.CheckResult, error) {
	s, token, problems := settings(cfg)
	if problems != nil {
		return connector.CheckResult{OK: false, Message: problems[0].Message, Problems: problems}, nil
	}
	cl := c.client(s, token)
	var l list[json.RawMessage]
	err := cl.do(ctx, http.MethodGet, "/hardware", url.Values{"limit": {"1"}}, nil, &l)
	total := 0
	if err == nil {
		total, err = l.total()
	}
	switch {
	case err == nil:
		return connector.CheckResult{OK: true, Message: fmt.Sprintf("Verbindung zu Snipe-IT steht; der API-Schlüssel sieht %d Assets.", total)}, nil
	case ctx.Err() != nil:
		return connector.CheckResult{}, ctx.Err()
	case errors.Is(err, errRejected):
		return fail(SecretName, "credentials", "Snipe-IT lehnt den API-Schlüssel ab: abgelaufen, widerrufen oder falsch kopiert?"), nil
	case errors.Is(err, errForbidden):
		return fail(SecretName, "permission", "Der Benutzer des API-Schlüssels darf in Snipe-IT keine Assets sehen: Berechtigung »Assets: Ansehen« (und zum Zurückschreiben »Bearbeiten«) geben."), nil
	case errors.Is(err, errRefused), errors.Is(err, errNotFound), errors.Is(err, errBadAnswer):
		return fail("base_url", "api", fmt.Sprintf("Unter %s antwortet keine Snipe-IT-API: %s.", s.apiBase(), err.Error())), nil
	}
	return fail("base_url", "reachable", fmt.Sprintf("Snipe-IT unter %s nicht erreichbar: %s.", s.apiBase(), err.Error())), nil
}

func fail(field, rule, msg string) connector.CheckResult {
	return connector.CheckResult{OK: false, Message: msg, Problems: []connector.Problem{{Field: field, Rule: rule, Message: msg}}}
}

// each reads every page of the list at path and hands each page's rows to
// f. Snipe-IT may answer fewer rows than asked (its MAX_RESULTS), so the
// offset moves on by what came; the list ends at total or at an empty page.
func each[T any](ctx context.Context, cl *client, path string, pageSize int, extra url.Values, f func([]T) error) error {
	return eachTotal(ctx, cl, path, pageSize, extra, func(rows []T, _ int) error { return f(rows) })
}

// eachTotal is each, telling f the list's total as of each page.
func eachTotal[T any](ctx context.Context, cl *client, path string, pageSize int, extra url.Values, f func(rows []T, total int) error) error {
	offset := 0
	for {
		q := url.Values{"limit": {strconv.Itoa(pageSize)}, "offset": {strconv.Itoa(offset)}}
		for k, v := range extra {
			q[k] = v
		}
		var l list[T]
		if err := cl.do(ctx, http.MethodGet, path, q, nil, &l); err != nil {
			return err
		}
		total, err := l.total()
		if err != nil {
			return err
		}
		if err := f(l.Rows, total); err != nil {
			return err
		}
		offset += len(l.Rows)
		if len(l.Rows) == 0 || offset >= total {
			return nil
		}
	}
}

// byID sorts by id, so that an asset created during the run goes to the
// end instead of moving every page by one.
var byID = url.Values{"sort": {"id"}, "order": {"asc"}}

// readLocations reads every location for the parent chains. A token
// that may not list locations costs the records their building and
// school, not the run.
func (c *Connector) readLocations(ctx context.Context, cl *client, s Settings) (locations, error) {
	ls := locations{}
	err := each(ctx, cl, "/locations", s.pageSize(), byID, func(rows []location) error {
		for _, l := range rows {
			ls[l.ID] = l
		}
		return nil
	})
	if errors.Is(err, errForbidden) {
		c.log.Warn("Standorte nicht lesbar; Räume ohne Gebäude und Schule", "grund", err.Error())
		return locations{}, nil
	}
	return ls, err
}

// Pull implements connector.Connector: the locations, then every asset,
// in batches of connector.MaxBatch.
func (c *Connector) Pull(ctx context.Context, cfg connector.Config, emit func([]connector.Record) error) error {
	s, token, problems := settings(cfg)
	if problems != nil {
		return errors.New(problems[0].Message)
	}
	cl := c.client(s, token)
	ls, err := c.readLocations(ctx, cl, s)
	if err != nil {
		return fmt.Errorf("Standorte: %w", err)
	}
	batch := make([]connector.Record, 0, connector.MaxBatch)
	var emitErr error
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		emitErr = emit(batch)
		batch = make([]connector.Record, 0, connector.MaxBatch)
		return emitErr
	}
	seen := map[int]bool{}
	n, skipped := 0, 0
	err = eachTotal(ctx, cl, "/hardware", s.pageSize(), byID, func(rows []asset, total int) error {
		if n == 0 && skipped == 0 {
			// The first page's total, for the host's progress on a first run.
			connector.ExpectTotal(ctx, total)
		}
		for _, a := range rows {
			// An asset seen twice (the pages moved while reading) is
			// sent once.
			if a.ID == 0 || seen[a.ID] {
				skipped++
				continue
			}
			seen[a.ID] = true
			n++
			batch = append(batch, record(a, ls, s.MACField))
			if len(batch) == connector.MaxBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		if emitErr != nil {
			return emitErr // the host's own error, unchanged
		}
		return fmt.Errorf("Assets: %w", err)
	}
	if err := flush(); err != nil {
		return err
	}
	c.log.Info("Snipe-IT gelesen", "assets", n, "standorte", len(ls), "übersprungen", skipped)
	return nil
}
