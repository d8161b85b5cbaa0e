// Package intune is the connector for Microsoft Intune with Windows
// Autopilot, read through Microsoft Graph (v1.0) with OAuth2 client
// credentials of an app registration.
//
// Each Pull reads every Autopilot device identity (kept in memory, by
// serial, for the join) and then streams the managed devices past them,
// one record per device: a managed device joined with its Autopilot
// identity on the serial number, a managed device without one, or an
// identity that is registered but not yet enrolled. Graph has no delta
// for these collections, so every run is a full pull.
//
// The client is written on net/http: the Graph SDK is far too heavy for
// two GET requests. Throttling (429) is answered as Microsoft asks:
// Retry-After, or exponential backoff when it is missing.
package intune

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
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/schulit/cmdb/plugins/connector"
)

// Version is the connector's version.
const Version = "1.0.0"

//go:embed schema.json
var schema []byte

// Schema returns the JSON schema of Settings.
func Schema() json.RawMessage { return schema }

// SecretName is the secret the connector reads: the app registration's
// client secret.
const SecretName = "client_secret"

// Defaults of the overridable addresses.
const (
	DefaultGraphURL = "https://graph.microsoft.com"
	DefaultTokenURL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
)

// Graph paths of the two collections.
const (
	managedDevicesPath = "/v1.0/deviceManagement/managedDevices"
	autopilotPath      = "/v1.0/deviceManagement/windowsAutopilotDeviceIdentities"
)

// Settings is the instance configuration (Config.Settings).
type Settings struct {
	TenantID     string `json:"tenant_id"`      // directory id (GUID) or domain
	ClientID     string `json:"client_id"`      // application id (GUID)
	GraphBaseURL string `json:"graph_base_url"` // default DefaultGraphURL
	TokenURL     string `json:"token_url"`      // default DefaultTokenURL; {tenant} is replaced
	PageSize     int    `json:"page_size"`      // $top; 0 leaves it to Graph
	// EthernetMACs asks Graph for each Windows and macOS device's
	// Ethernet MAC one by one: the list leaves it null, as Microsoft
	// documents. One more request per device; off by default.
	EthernetMACs bool `json:"ethernet_macs"`
}

func (s Settings) graphBase() string {
	if s.GraphBaseURL == "" {
		return DefaultGraphURL
	}
	return strings.TrimSuffix(s.GraphBaseURL, "/")
}

func (s Settings) tokenURL() string {
	u := s.TokenURL
	if u == "" {
		u = DefaultTokenURL
	}
	return strings.ReplaceAll(u, "{tenant}", url.PathEscape(s.TenantID))
}

// Connector reads one Intune tenant per instance. It only pulls.
type Connector struct {
	connector.NoPush
	log    *slog.Logger
	client *http.Client
	sleep  func(context.Context, time.Duration) error
}

// New returns the intune connector, logging as a plugin does (JSON on
// stderr).
func New() *Connector {
	return &Connector{
		log:    connector.Logger("intune"),
		client: &http.Client{Timeout: time.Minute},
		sleep:  connector.SleepContext,
	}
}

// Describe implements connector.Connector.
func (c *Connector) Describe(context.Context) (connector.Description, error) {
	return connector.Description{
		Name: "intune", Version: Version,
		Capabilities: []connector.Capability{connector.CapPull},
		ConfigSchema: schema,
		Secrets: []connector.SecretSpec{{Name: SecretName, Required: true,
			Description: "Geheimer Clientschlüssel (Wert, nicht die ID) der App-Registrierung in Entra ID."}},
	}, nil
}

var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	domainRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$`)
)

// settings reads and checks the configuration; what is wrong is a list
// of problems, the first one for the message.
func settings(cfg connector.Config) (Settings, string, []connector.Problem) {
	var s Settings
	if err := cfg.Decode(&s); err != nil {
		return s, "", []connector.Problem{{Field: "settings", Rule: "json", Message: "Die Einstellungen sind kein gültiges JSON-Objekt: " + err.Error()}}
	}
	s.TenantID, s.ClientID = strings.TrimSpace(s.TenantID), strings.TrimSpace(s.ClientID)
	s.GraphBaseURL, s.TokenURL = strings.TrimSpace(s.GraphBaseURL), strings.TrimSpace(s.TokenURL)
	var p []connector.Problem
	switch {
	case s.TenantID == "":
		p = append(p, connector.Problem{Field: "tenant_id", Rule: "required", Message: "Keine Mandanten-ID angegeben (Einstellung »tenant_id«)."})
	case !guidRE.MatchString(s.TenantID) && !domainRE.MatchString(s.TenantID):
		p = append(p, connector.Problem{Field: "tenant_id", Rule: "format",
			Message: fmt.Sprintf("Die Mandanten-ID %q ist weder eine GUID noch eine Domäne wie schulamt.onmicrosoft.com.", s.TenantID)})
	}
	switch {
	case s.ClientID == "":
		p = append(p, connector.Problem{Field: "client_id", Rule: "required", Message: "Keine Client-ID angegeben (Einstellung »client_id«)."})
	case !guidRE.MatchString(s.ClientID):
		p = append(p, connector.Problem{Field: "client_id", Rule: "format",
			Message: fmt.Sprintf("Die Client-ID %q ist keine GUID; sie steht in Entra ID unter »Anwendungs-ID (Client)«.", s.ClientID)})
	}
	secret := strings.TrimSpace(cfg.Secrets[SecretName].Reveal())
	if secret == "" {
		p = append(p, connector.Problem{Field: SecretName, Rule: "required", Message: "Kein geheimer Clientschlüssel hinterlegt (Geheimnis »client_secret«)."})
	}
	for _, u := range []struct{ field, value string }{{"graph_base_url", s.GraphBaseURL}, {"token_url", s.TokenURL}} {
		if u.value == "" {
			continue
		}
		if msg := checkURL(u.value); msg != "" {
			p = append(p, connector.Problem{Field: u.field, Rule: "url", Message: fmt.Sprintf("Die Adresse %q %s", u.value, msg)})
		}
	}
	if s.PageSize < 0 || s.PageSize > 999 {
		p = append(p, connector.Problem{Field: "page_size", Rule: "range", Message: fmt.Sprintf("Die Seitengröße %d liegt nicht zwischen 1 und 999 (0: Vorgabe von Microsoft).", s.PageSize)})
	}
	return s, secret, p
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
	if u.RawQuery != "" || u.Fragment != "" {
		return "darf keine Abfrage (?…) enthalten."
	}
	return ""
}

// query is the first request of a collection; nextLink carries it on.
func query(s Settings, sel string) url.Values {
	q := url.Values{}
	if sel != "" {
		q.Set("$select", sel)
	}
	if s.PageSize > 0 {
		q.Set("$top", strconv.Itoa(s.PageSize))
	}
	return q
}

// Check implements connector.Connector: the configuration is complete, a
// token is issued, and one small request to each collection succeeds.
func (c *Connector) Check(ctx context.Context, cfg connector.Config) (connector.CheckResult, error) {
	s, secret, problems := settings(cfg)
	if problems != nil {
		return connector.CheckResult{OK: false, Message: problems[0].Message, Problems: problems}, nil
	}
	g, err := newGraph(ctx, s, secret, c.client, c.log, c.sleep)
	if err != nil {
		return fail("graph_base_url", "url", err.Error()), nil
	}
	if _, err := g.token(); err != nil {
		switch {
		case errors.Is(err, errRejected):
			return fail(SecretName, "credentials", err.Error()+"."), nil
		case errors.Is(err, errNoTenant):
			return fail("tenant_id", "exists", err.Error()+"."), nil
		}
		return fail("token_url", "reachable", err.Error()+"."), nil
	}
	one := url.Values{"$top": {"1"}}
	for _, col := range []struct{ path, what, permission string }{
		{managedDevicesPath, "die verwalteten Geräte", "DeviceManagementManagedDevices.Read.All"},
		{autopilotPath, "die Autopilot-Geräte", "DeviceManagementServiceConfig.Read.All"},
	} {
		u := *g.base
		u.Path = strings.TrimSuffix(u.Path, "/") + col.path
		q := one
		if col.path == managedDevicesPath {
			q = url.Values{"$top": {"1"}, "$select": {"id"}}
		}
		u.RawQuery = q.Encode()
		var p page[json.RawMessage]
		err := g.get(ctx, u.String(), &p)
		switch {
		case err == nil:
			continue
		case ctx.Err() != nil:
			return connector.CheckResult{}, ctx.Err()
		case errors.Is(err, errForbidden):
			return fail("client_id", "permission", fmt.Sprintf("Die App-Registrierung darf %s nicht lesen: Anwendungsberechtigung %s erteilen und die Administratorzustimmung geben. %s.",
				col.what, col.permission, err.Error())), nil
		case errors.Is(err, errRejected):
			return fail(SecretName, "credentials", err.Error()+"."), nil
		}
		return fail("graph_base_url", "reachable", fmt.Sprintf("Microsoft Graph liefert %s nicht: %s.", col.what, err.Error())), nil
	}
	return connector.CheckResult{OK: true,
		Message: "Anmeldung bei Microsoft erfolgreich; verwaltete Geräte und Autopilot-Geräte sind lesbar."}, nil
}

func fail(field, rule, msg string) connector.CheckResult {
	return connector.CheckResult{OK: false, Message: msg, Problems: []connector.Problem{{Field: field, Rule: rule, Message: msg}}}
}

// Pull implements connector.Connector: all Autopilot identities first,
// into memory for the join, then the managed devices streamed page by
// page in batches of connector.MaxBatch, then the identities no managed
// device matched.
func (c *Connector) Pull(ctx context.Context, cfg connector.Config, emit func([]connector.Record) error) error {
	s, secret, problems := settings(cfg)
	if problems != nil {
		return errors.New(problems[0].Message)
	}
	g, err := newGraph(ctx, s, secret, c.client, c.log, c.sleep)
	if err != nil {
		return err
	}
	idx := newAutopilotIndex()
	err = each(ctx, g, autopilotPath, query(s, ""), func(items []autopilotDevice) error {
		for _, a := range items {
			if a.ID != "" {
				idx.add(a)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("Autopilot-Geräte: %w", err)
	}
	c.log.Info("Autopilot-Geräte gelesen", "anzahl", len(idx.all))

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
	managed, skipped := 0, 0
	err = each(ctx, g, managedDevicesPath, query(s, managedDeviceSelect), func(items []managedDevice) error {
		if s.EthernetMACs {
			if err := g.ethernetMACs(ctx, items); err != nil {
				return err
			}
		}
		for _, d := range items {
			if d.ID == "" {
				skipped++
				continue
			}
			managed++
			a, takesKey := idx.match(d)
			batch = append(batch, managedRecord(d, a, takesKey))
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
		return fmt.Errorf("verwaltete Geräte: %w", err)
	}
	only := 0
	for _, a := range idx.all {
		if a.joined {
			continue
		}
		only++
		batch = append(batch, autopilotRecord(a))
		if len(batch) == connector.MaxBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	c.log.Info("Intune gelesen", "verwaltet", managed, "nur_autopilot", only, "ohne_id", skipped)
	return nil
}
