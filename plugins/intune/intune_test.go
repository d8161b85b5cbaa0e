package intune

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/plugins/intune/intunetest"
)

// syncBuffer is a log sink that the connector may write from several
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testConnector is the connector with its log in a buffer and its waits
// recorded instead of slept, so that throttling costs no wall time.
type testConnector struct {
	*Connector
	logs  *syncBuffer
	mu    sync.Mutex
	slept []time.Duration
}

func newTest() *testConnector {
	t := &testConnector{Connector: New(), logs: &syncBuffer{}}
	t.log = slog.New(slog.NewJSONHandler(t.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.sleep = func(ctx context.Context, d time.Duration) error {
		t.mu.Lock()
		t.slept = append(t.slept, d)
		t.mu.Unlock()
		return ctx.Err()
	}
	return t
}

func (t *testConnector) waits() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]time.Duration(nil), t.slept...)
}

func config(settings json.RawMessage, secret string) connector.Config {
	return connector.Config{Settings: settings, Secrets: map[string]connector.Secret{SecretName: connector.Secret(secret)}}
}

// pull reads every record through the connector's gRPC adapters, as the
// host would, and checks the batch sizes on the way.
func pull(t *testing.T, c connector.Connector, cfg connector.Config) ([]connector.Record, int, error) {
	t.Helper()
	var out []connector.Record
	batches := 0
	err := connector.InProcess(t, c).Pull(context.Background(), cfg, func(b []connector.Record) error {
		batches++
		if len(b) == 0 || len(b) > connector.MaxBatch {
			t.Errorf("batch of %d records", len(b))
		}
		out = append(out, b...)
		return nil
	})
	return out, batches, err
}

// school builds a school authority's tenant: joined laptops, managed
// devices without Autopilot, and Autopilot registrations not yet enrolled.
func school(f *intunetest.Server, joined, managedOnly, autopilotOnly int) {
	for i := range joined + autopilotOnly {
		a := intunetest.AutopilotDevice{
			ID: fmt.Sprintf("ap-%05d", i), SerialNumber: fmt.Sprintf("5CG%07d", i), Manufacturer: "HP", Model: "HP ProBook 440 G9",
			GroupTag: "GYN-Schueler", PurchaseOrderIdentifier: "BE-2024-017", EnrollmentState: "notContacted",
			SystemFamily: "ProBook", ProductKey: "", UserPrincipalName: "", LastContactedDateTime: "0001-01-01T00:00:00Z",
			AzureActiveDirectoryDeviceID: "00000000-0000-0000-0000-000000000000", ManagedDeviceID: "00000000-0000-0000-0000-000000000000",
		}
		if i < joined {
			a.EnrollmentState = "enrolled"
			a.AzureActiveDirectoryDeviceID = fmt.Sprintf("e1d0%04d-0000-4000-8000-000000000000", i)
			if i%10 != 3 { // some identities do not name their managed device
				a.ManagedDeviceID = fmt.Sprintf("md-%05d", i)
			}
		}
		f.Autopilot = append(f.Autopilot, a)
	}
	for i := range joined + managedOnly {
		d := intunetest.ManagedDevice{
			ID: fmt.Sprintf("md-%05d", i), DeviceName: fmt.Sprintf("GYN-NB-%04d", i), OperatingSystem: "Windows",
			OSVersion: "10.0.22631.4460", ComplianceState: "compliant", Manufacturer: "HP", Model: "HP ProBook 440 G9",
			SerialNumber: fmt.Sprintf("5CG%07d", i), LastSyncDateTime: "2026-12-02T07:41:09Z",
			AzureADDeviceID: fmt.Sprintf("e1d0%04d-0000-4000-8000-000000000000", i),
			WiFiMacAddress:  fmt.Sprintf("A4C3F0%06X", i), ManagedDeviceOwner: "company", EnrolledDateTime: "2024-08-20T09:00:00Z",
			UserPrincipalName: fmt.Sprintf("schueler%d@gyn.schule.example", i), UserDisplayName: "Schülerin Muster",
		}
		if i%7 == 0 { // Intune and Autopilot spell the serial differently
			d.SerialNumber = " " + strings.ToLower(d.SerialNumber[:5]) + " " + d.SerialNumber[5:]
		}
		if i >= joined {
			d.SerialNumber = fmt.Sprintf("PF%06d", i)
			d.OperatingSystem, d.Manufacturer, d.Model = "iOS", "Apple", "iPad (9th generation)"
			d.WiFiMacAddress = ""
		}
		f.Managed = append(f.Managed, d)
	}
}

func byKey(recs []connector.Record) map[string]connector.Record {
	m := map[string]connector.Record{}
	for _, r := range recs {
		m[r.SourceKey] = r
	}
	return m
}

func TestPullJoinsAutopilot(t *testing.T) {
	f := intunetest.New(t)
	school(f, 1000, 250, 150)
	// An old enrolment of laptop 5 that Intune still lists, before the
	// current one, and a laptop with a junk MAC that never synced.
	stale := f.Managed[5]
	stale.ID, stale.DeviceName, stale.LastSyncDateTime = "md-stale-5", "GYN-NB-0005-alt", "2025-03-01T12:00:00Z"
	f.Managed = append([]intunetest.ManagedDevice{stale}, f.Managed...)
	f.Managed[3].WiFiMacAddress, f.Managed[3].LastSyncDateTime = "nicht verfügbar", "0001-01-01T00:00:00Z"
	c := newTest()

	recs, batches, err := pull(t, c, config(f.Settings(nil), intunetest.Secret))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1000+250+150+1 || batches != 3 {
		t.Fatalf("%d records in %d batches, want 1401 in 3", len(recs), batches)
	}
	keys := byKey(recs)
	if len(keys) != len(recs) {
		t.Fatalf("%d distinct keys for %d records", len(keys), len(recs))
	}

	want := connector.Record{
		SourceKey: "ap-00007", ClassHint: "Windows", Status: "enrolled", Origin: "Intune-Gerät md-00007",
		Identifiers: connector.Identifiers{Serial: "5cg00 00007", MACs: []string{"a4:c3:f0:00:00:07"},
			SourceDeviceID: "e1d00007-0000-4000-8000-000000000000", Hostname: "GYN-NB-0007"},
		Attributes: map[string]string{"name": "GYN-NB-0007", "vendor": "HP", "model": "HP ProBook 440 G9",
			"group_tag": "GYN-Schueler", "purchase_order": "BE-2024-017", "enrollment_state": "enrolled",
			"last_sync": "2026-12-02", "compliance_state": "compliant", "os": "Windows", "os_version": "10.0.22631.4460",
			"intune_device_id": "md-00007", "autopilot_id": "ap-00007"},
	}
	if got := keys["ap-00007"]; !reflect.DeepEqual(got, want) {
		t.Errorf("joined laptop (serial spelled differently)\n got %+v\nwant %+v", got, want)
	}
	if r := keys["ap-00013"]; r.Attributes["intune_device_id"] != "md-00013" || r.Attributes["group_tag"] != "GYN-Schueler" {
		t.Errorf("an identity without managedDeviceId joins on the serial: %+v", r)
	}
	if r := keys["ap-00002"]; len(r.Problems) != 1 || r.Problems[0].Field != "wiFiMacAddress" || r.Problems[0].Rule != "mac" ||
		r.Identifiers.MACs != nil || r.Attributes["last_sync"] != "" {
		t.Errorf("junk MAC and a device that never synced: %+v", r)
	}
	// The old enrolment keeps its own key; the current one has the
	// Autopilot key, which the identity names.
	if r := keys["md-stale-5"]; r.Identifiers.Serial != "5CG0000005" || r.Attributes["group_tag"] != "GYN-Schueler" || r.Attributes["last_sync"] != "2025-03-01" {
		t.Errorf("old enrolment: %+v", r)
	}
	if r := keys["ap-00005"]; r.Attributes["intune_device_id"] != "md-00005" {
		t.Errorf("current enrolment: %+v", r)
	}

	wantOnly := connector.Record{
		SourceKey: "ap-01100", ClassHint: "Windows", Status: "notContacted", Origin: "Autopilot-Gerät ap-01100",
		Identifiers: connector.Identifiers{Serial: "5CG0001100"},
		Attributes: map[string]string{"vendor": "HP", "model": "HP ProBook 440 G9", "group_tag": "GYN-Schueler",
			"purchase_order": "BE-2024-017", "enrollment_state": "notContacted", "autopilot_id": "ap-01100"},
	}
	if got := keys["ap-01100"]; !reflect.DeepEqual(got, wantOnly) {
		t.Errorf("registered, not enrolled\n got %+v\nwant %+v", got, wantOnly)
	}
	ipad := keys["md-01100"]
	if ipad.ClassHint != "iOS" || ipad.Identifiers.Serial != "PF001100" || ipad.Attributes["group_tag"] != "" || ipad.Attributes["vendor"] != "Apple" {
		t.Errorf("managed without Autopilot: %+v", ipad)
	}

	for _, r := range recs {
		if b, _ := json.Marshal(r); strings.Contains(string(b), "schule.example") || strings.Contains(string(b), "Muster") {
			t.Fatalf("a record carries the user's name: %s", b)
		}
	}
	// Every page after the first was asked for by its nextLink, whole,
	// with the $select of the first request.
	var managed int
	for _, u := range f.Requests() {
		if strings.Contains(u, "/managedDevices") {
			if !strings.Contains(u, "/managedDevices?") {
				t.Errorf("a device asked for one by one: %s", u)
			}
			managed++
			sel, _ := url.Parse(u)
			if sel.Query().Get("$select") != managedDeviceSelect {
				t.Errorf("request without the $select: %s", u)
			}
		}
	}
	if managed != 13 || f.TokenRequests() != 1 {
		t.Errorf("%d managedDevices requests (want 13 pages of 100), %d token requests (want 1)", managed, f.TokenRequests())
	}
}

// TestEthernetMACs: Graph lists leave ethernetMacAddress null; with
// ethernet_macs on, each Windows and macOS device is asked for it.
func TestEthernetMACs(t *testing.T) {
	f := intunetest.New(t)
	school(f, 4, 2, 0)
	for i := range f.Managed {
		f.Managed[i].EthernetMacAddress = fmt.Sprintf("00-1A-2B-3C-4D-%02X", i)
	}
	f.Gone = map[string]bool{"md-00003": true}
	recs, _, err := pull(t, newTest(), config(f.Settings(nil), intunetest.Secret))
	if err != nil || len(byKey(recs)["ap-00001"].Identifiers.MACs) != 1 || len(f.Requests()) != 2 {
		t.Fatalf("without ethernet_macs: %v, %+v, requests %v", err, byKey(recs)["ap-00001"], f.Requests())
	}

	f = intunetest.New(t)
	school(f, 4, 2, 0)
	for i := range f.Managed {
		f.Managed[i].EthernetMacAddress = fmt.Sprintf("00-1A-2B-3C-4D-%02X", i)
	}
	f.Gone = map[string]bool{"md-00003": true}
	recs, _, err = pull(t, newTest(), config(f.Settings(map[string]any{"ethernet_macs": true}), intunetest.Secret))
	if err != nil {
		t.Fatal(err)
	}
	keys := byKey(recs)
	if m := keys["ap-00001"].Identifiers.MACs; !reflect.DeepEqual(m, []string{"a4:c3:f0:00:00:01", "00:1a:2b:3c:4d:01"}) {
		t.Errorf("Wi-Fi and Ethernet MAC: %v", m)
	}
	if m := keys["ap-00003"].Identifiers.MACs; len(m) != 1 {
		t.Errorf("a device deleted in between keeps its Wi-Fi MAC only: %v", m)
	}
	if m := keys["md-00005"].Identifiers.MACs; m != nil {
		t.Errorf("an iPad is not asked for an Ethernet MAC: %v", m)
	}
	var single []string
	for _, u := range f.Requests() {
		if strings.Contains(u, "/managedDevices/") {
			single = append(single, u)
		}
	}
	if len(single) != 4 || !strings.HasSuffix(single[0], "?%24select=ethernetMacAddress") {
		t.Errorf("per-device requests %v, want one per Windows device", single)
	}
}

func TestPageSize(t *testing.T) {
	f := intunetest.New(t)
	school(f, 30, 0, 5)
	recs, _, err := pull(t, newTest(), config(f.Settings(map[string]any{"page_size": 10}), intunetest.Secret))
	if err != nil || len(recs) != 35 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	reqs := f.Requests()
	if len(reqs) != 4+3 || !strings.Contains(reqs[0], "%24top=10") || !strings.Contains(reqs[6], "%24top=10") || !strings.Contains(reqs[6], "%24skiptoken=") {
		t.Fatalf("requests %v", reqs)
	}
}

func TestThrottling(t *testing.T) {
	f := intunetest.New(t)
	school(f, 250, 50, 20)
	f.Fail(intunetest.Token, 0, intunetest.Fault{Status: 503})
	f.Fail(intunetest.Autopilot, 0, intunetest.Fault{Status: 503, RetryAfter: "2"})
	f.Fail(intunetest.Managed, 1,
		intunetest.Fault{Status: 429, RetryAfter: "7"},
		intunetest.Fault{Status: 429},
		intunetest.Fault{Status: 503})
	c := newTest()
	recs, _, err := pull(t, c, config(f.Settings(nil), intunetest.Secret))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 320 {
		t.Fatalf("%d records after throttling, want 320", len(recs))
	}
	w := c.waits()
	if len(w) != 5 || w[0] < time.Second/2 || w[0] > time.Second || w[1] != 2*time.Second || w[2] != 7*time.Second ||
		w[3] < time.Second || w[3] > 2*time.Second || w[4] < time.Second/2 || w[4] > time.Second {
		t.Fatalf("waits %v, want [backoff(1)∈[0.5s,1s] 2s 7s backoff(2)∈[1s,2s] backoff(1)∈[0.5s,1s]]", w)
	}
	if f.TokenRequests() != 2 {
		t.Errorf("%d token requests, want 2 (one failed, one kept for the run)", f.TokenRequests())
	}
	if !strings.Contains(c.logs.String(), "Microsoft Graph drosselt; neuer Versuch") {
		t.Errorf("throttling is not logged:\n%s", c.logs)
	}
}

func TestRetriesAreBounded(t *testing.T) {
	tests := []struct {
		name   string
		col    string
		faults []intunetest.Fault
		waits  int
		want   string
	}{
		{"503 for good", intunetest.Managed, repeat(intunetest.Fault{Status: 503}, 4), 3,
			"verwaltete Geräte: Microsoft Graph meldet einen Fehler (HTTP 503) nach 4 Versuchen"},
		{"429 for good", intunetest.Autopilot, repeat(intunetest.Fault{Status: 429, RetryAfter: "1"}, 7), 6,
			"Autopilot-Geräte: Microsoft Graph drosselt die Anfragen: nach 6 Versuchen aufgegeben"},
		{"Retry-After too long", intunetest.Managed, []intunetest.Fault{{Status: 429, RetryAfter: "3600"}}, 0,
			"bittet, länger zu warten, als ein Lauf warten kann (1h0m0s)"},
		{"401 from Graph", intunetest.Managed, []intunetest.Fault{{Status: 401}}, 0,
			"Anmeldung bei Microsoft abgelehnt: Client-ID oder Geheimnis prüfen (Microsoft Graph: InvalidAuthenticationToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := intunetest.New(t)
			school(f, 10, 0, 0)
			f.Fail(tt.col, 0, tt.faults...)
			c := newTest()
			_, _, err := pull(t, c, config(f.Settings(nil), intunetest.Secret))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Pull = %v, want %q", err, tt.want)
			}
			if n := len(c.waits()); n != tt.waits {
				t.Fatalf("%d waits, want %d", n, tt.waits)
			}
		})
	}
}

func repeat(f intunetest.Fault, n int) []intunetest.Fault {
	out := make([]intunetest.Fault, n)
	for i := range out {
		out[i] = f
	}
	return out
}

// TestWaitEndsWithContext: a Pull cancelled while it waits out a
// Retry-After returns at once with the context's error.
func TestWaitEndsWithContext(t *testing.T) {
	f := intunetest.New(t)
	school(f, 10, 0, 0)
	f.Fail(intunetest.Managed, 0, intunetest.Fault{Status: 429, RetryAfter: "100"})
	c := New()
	c.log = slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	waiting := false
	c.sleep = func(ctx context.Context, d time.Duration) error {
		waiting = d == 100*time.Second
		cancel()
		return connector.SleepContext(ctx, d) // the real wait; the test hangs if it ignores ctx
	}
	err := c.Pull(ctx, config(f.Settings(nil), intunetest.Secret), func([]connector.Record) error { return nil })
	if !waiting || !errors.Is(err, context.Canceled) {
		t.Fatalf("Pull = %v (waited for Retry-After: %v)", err, waiting)
	}
}

// TestNextLinkStaysOnGraph: a nextLink to another server is refused
// before the token is sent there.
func TestNextLinkStaysOnGraph(t *testing.T) {
	var elsewhere int
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere++ }))
	defer other.Close()
	graph := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/token") {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"t"}`)
			return
		}
		fmt.Fprintf(w, `{"value":[],"@odata.nextLink":%q}`, other.URL+r.URL.Path+"?$skiptoken=x")
	}))
	defer graph.Close()
	s, _ := json.Marshal(Settings{TenantID: intunetest.Tenant, ClientID: intunetest.ClientID, GraphBaseURL: graph.URL, TokenURL: graph.URL + "/token"})
	_, _, err := pull(t, newTest(), config(s, "x"))
	if err == nil || !strings.Contains(err.Error(), "Folgeseite auf einem anderen Server") || elsewhere != 0 {
		t.Fatalf("Pull = %v, %d requests elsewhere", err, elsewhere)
	}
}

func TestCheck(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name     string
		settings map[string]any // over the fake's
		secret   string
		fault    func(f *intunetest.Server)
		ok       bool
		field    string
		message  string
	}{
		{"good", nil, intunetest.Secret, nil, true, "", "Anmeldung bei Microsoft erfolgreich; verwaltete Geräte und Autopilot-Geräte sind lesbar."},
		{"no tenant", map[string]any{"tenant_id": ""}, intunetest.Secret, nil, false, "tenant_id", "Keine Mandanten-ID"},
		{"tenant with a slash", map[string]any{"tenant_id": "a/b"}, intunetest.Secret, nil, false, "tenant_id", "weder eine GUID noch eine Domäne"},
		{"client id no GUID", map[string]any{"client_id": "meine-app"}, intunetest.Secret, nil, false, "client_id", `Die Client-ID "meine-app" ist keine GUID`},
		{"no secret", nil, "", nil, false, "client_secret", "Kein geheimer Clientschlüssel"},
		{"http to another machine", map[string]any{"graph_base_url": "http://graph.schulamt.example"}, intunetest.Secret, nil, false, "graph_base_url", "muss mit https:// beginnen"},
		{"page size", map[string]any{"page_size": 5000}, intunetest.Secret, nil, false, "page_size", "Seitengröße 5000"},
		{"wrong secret", nil, "falsch", nil, false, "client_secret", "Anmeldung bei Microsoft abgelehnt: Client-ID oder Geheimnis prüfen (AADSTS7000215: Invalid client secret provided."},
		{"unknown app", map[string]any{"client_id": "99999999-0000-4000-8000-000000000000"}, intunetest.Secret, nil, false, "client_secret", "Anmeldung bei Microsoft abgelehnt: Client-ID oder Geheimnis prüfen (AADSTS700016"},
		{"unknown tenant", map[string]any{"tenant_id": "gibtsnicht.onmicrosoft.com"}, intunetest.Secret, nil, false, "tenant_id", "Mandant nicht gefunden: Mandanten-ID prüfen (AADSTS90002"},
		{"token endpoint down", map[string]any{"token_url": closed.URL + "/token"}, intunetest.Secret, nil, false, "token_url", "Anmeldedienst von Microsoft nicht erreichbar"},
		{"Graph refuses the token", nil, intunetest.Secret, func(f *intunetest.Server) { f.Fail(intunetest.Managed, 0, intunetest.Fault{Status: 401}) },
			false, "client_secret", "Anmeldung bei Microsoft abgelehnt: Client-ID oder Geheimnis prüfen"},
		{"no Autopilot permission", nil, intunetest.Secret, func(f *intunetest.Server) { f.Fail(intunetest.Autopilot, 0, intunetest.Fault{Status: 403}) },
			false, "client_id", "Die App-Registrierung darf die Autopilot-Geräte nicht lesen: Anwendungsberechtigung DeviceManagementServiceConfig.Read.All erteilen"},
		{"Graph down", nil, intunetest.Secret, func(f *intunetest.Server) { f.Fail(intunetest.Managed, 0, repeat(intunetest.Fault{Status: 502}, 4)...) },
			false, "graph_base_url", "Microsoft Graph liefert die verwalteten Geräte nicht: Microsoft Graph meldet einen Fehler (HTTP 502)"},
		{"throttled once", nil, intunetest.Secret, func(f *intunetest.Server) {
			f.Fail(intunetest.Managed, 0, intunetest.Fault{Status: 429, RetryAfter: "3"})
		},
			true, "", "Anmeldung bei Microsoft erfolgreich"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := intunetest.New(t)
			school(f, 3, 0, 0)
			if tt.fault != nil {
				tt.fault(f)
			}
			r, err := connector.InProcess(t, newTest()).Check(context.Background(), config(f.Settings(tt.settings), tt.secret))
			if err != nil {
				t.Fatal(err)
			}
			if r.OK != tt.ok || !strings.Contains(r.Message, tt.message) || (!tt.ok && r.Problems[0].Field != tt.field) {
				t.Fatalf("Check = %+v\nwant ok=%v, field %q, message with %q", r, tt.ok, tt.field, tt.message)
			}
		})
	}
}

// TestSecretNeverShows: not in Check's answer, Pull's error or the log,
// even when the token endpoint echoes it back.
func TestSecretNeverShows(t *testing.T) {
	const wrong = "Falsch~Geheim-Wert.99"
	f := intunetest.New(t)
	f.EchoSecret = true
	school(f, 120, 0, 0)
	f.Fail(intunetest.Managed, 0, intunetest.Fault{Status: 429})
	c := newTest()
	cfg := config(f.Settings(nil), wrong)
	res, err := connector.InProcess(t, c).Check(context.Background(), cfg)
	if err != nil || res.OK {
		t.Fatalf("Check with the wrong secret = %+v, %v", res, err)
	}
	_, _, pullErr := pull(t, c, cfg)
	if pullErr == nil {
		t.Fatal("Pull with the wrong secret succeeded")
	}
	// A good run, throttled, logs too; the secret and the token stay out.
	if _, _, err := pull(t, c, config(f.Settings(nil), intunetest.Secret)); err != nil {
		t.Fatal(err)
	}
	shown := map[string]string{"Check": fmt.Sprintf("%+v", res), "Pull": pullErr.Error(), "log": c.logs.String(),
		"config": fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg)}
	for where, s := range shown {
		for _, secret := range []string{wrong, intunetest.Secret, "eyJ0eXAiOiJKV1Qi."} {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows %q: %s", where, secret, s)
			}
		}
	}
	if !strings.Contains(res.Message, "[redacted]") || !strings.Contains(c.logs.String(), "drosselt") {
		t.Errorf("the echo should be redacted and the log should say it was throttled: %s\n%s", res.Message, c.logs)
	}
}

func TestDescribe(t *testing.T) {
	d, err := connector.InProcess(t, New()).Describe(context.Background())
	if err != nil || d.Name != "intune" || !d.Can(connector.CapPull) || d.Can(connector.CapPush) {
		t.Fatalf("Describe = %+v, %v", d, err)
	}
	if len(d.Secrets) != 1 || d.Secrets[0].Name != "client_secret" || !d.Secrets[0].Required {
		t.Errorf("secrets %+v", d.Secrets)
	}
	var s struct {
		Required   []string       `json:"required"`
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(d.ConfigSchema, &s); err != nil {
		t.Fatalf("schema is no JSON: %v", err)
	}
	var keys []string
	st := reflect.TypeFor[Settings]()
	for i := range st.NumField() {
		k := st.Field(i).Tag.Get("json")
		keys = append(keys, k)
		if _, ok := s.Properties[k]; !ok {
			t.Errorf("schema lacks %q", k)
		}
	}
	if len(s.Properties) != len(keys) || !reflect.DeepEqual(s.Required, []string{"tenant_id", "client_id"}) {
		t.Errorf("schema properties %v, required %v; Settings has %v", s.Properties, s.Required, keys)
	}
}

func TestNotation(t *testing.T) {
	for in, want := range map[string]string{
		"A4C3F0112233": "a4:c3:f0:11:22:33", "a4-c3-f0-11-22-33": "a4:c3:f0:11:22:33", "a4c3.f011.2233": "a4:c3:f0:11:22:33",
		" A4:C3:F0:11:22:33 ": "a4:c3:f0:11:22:33", "000000000000": "", "A4C3F01122": "", "zz:zz:zz:zz:zz:zz": "",
	} {
		if got, ok := connector.NormalizeMAC(in); got != want || ok != (want != "") {
			t.Errorf("connector.NormalizeMAC(%q) = %q, %v", in, got, ok)
		}
	}
	if serialKey(" 5cg 12\t34XyZ ") != "5CG1234XYZ" {
		t.Error("serialKey")
	}
	for in, want := range map[string]string{"2026-12-02T23:41:09.123Z": "2026-12-02", "2026-12-03T00:30:00+02:00": "2026-12-02", "0001-01-01T00:00:00Z": ""} {
		if got, ok := dateOf(in); got != want || !ok {
			t.Errorf("dateOf(%q) = %q, %v", in, got, ok)
		}
	}
	if _, ok := dateOf("gestern"); ok {
		t.Error("dateOf accepts junk")
	}
	if d, ok := connector.RetryAfter(" 17 ", time.Now()); d != 17*time.Second || !ok {
		t.Errorf("retryAfter seconds = %v", d)
	}
	if _, ok := connector.RetryAfter("bald", time.Now()); ok {
		t.Error("retryAfter accepts junk")
	}
	for n := 1; n <= 10; n++ {
		d := min(connector.BackoffBase<<min(n-1, 6), connector.BackoffCap)
		if b := connector.Backoff(n); b < d/2 || b > d {
			t.Errorf("backoff(%d) = %v, want in [%v, %v]", n, b, d/2, d)
		}
	}
}
