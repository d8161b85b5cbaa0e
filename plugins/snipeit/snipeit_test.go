package snipeit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/plugins/snipeit/snipeittest"
)

// syncBuffer is a log sink the connector may write from several goroutines.
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

// testConnector is the connector with its log in a buffer and a clock of
// its own: every wait (the rate limiter's and a Retry-After) is recorded
// and moves the clock on instead of taking wall time.
type testConnector struct {
	*Connector
	logs  *syncBuffer
	mu    sync.Mutex
	clock time.Time
	slept []time.Duration
}

func newTest() *testConnector {
	t := &testConnector{Connector: New(), logs: &syncBuffer{}, clock: time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)}
	t.log = slog.New(slog.NewJSONHandler(t.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.now = func() time.Time {
		t.mu.Lock()
		defer t.mu.Unlock()
		return t.clock
	}
	t.sleep = func(ctx context.Context, d time.Duration) error {
		t.mu.Lock()
		t.slept = append(t.slept, d)
		t.clock = t.clock.Add(d)
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

func config(settings json.RawMessage, token string) connector.Config {
	return connector.Config{Settings: settings, Secrets: map[string]connector.Secret{SecretName: connector.Secret(token)}}
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

// district fills the fake with a school authority's Snipe-IT: two
// schools, one with buildings, a store room on its own, the status
// labels German admins name, and n laptops; asset 1 is a display whose
// every value needs HTML escaping.
func district(f *snipeittest.Server, n int) {
	f.Locations = []snipeittest.Location{
		{ID: 1, Name: "Gymnasium Nord"},
		{ID: 2, Name: "Haus A", ParentID: 1},
		{ID: 3, Name: "Raum 101", ParentID: 2},
		{ID: 4, Name: "Grundschule Süd & Hort"},
		{ID: 5, Name: "Raum 101", ParentID: 4},
		{ID: 6, Name: "Lager"},
		{ID: 7, Name: "Raum 102", ParentID: 2},
	}
	f.StatusLabels = []snipeittest.StatusLabel{
		{ID: 1, Name: "Einsatzbereit", Type: "deployable"}, {ID: 2, Name: "In Reparatur", Type: "pending"},
		{ID: 3, Name: "Ausgesondert", Type: "archived"}, {ID: 4, Name: "Bereit zur Ausgabe", Type: "deployable"},
	}
	// Newest first, as Snipe-IT lists by default.
	for i := n; i >= 1; i-- {
		a := snipeittest.Asset{
			ID: i, Name: fmt.Sprintf("GYN-NB-%04d", i), AssetTag: fmt.Sprintf("INV-%05d", i), Serial: fmt.Sprintf("5CG%07d", i),
			Model: "HP ProBook 440 G9", Category: "Laptop", Manufacturer: "HP", StatusID: 1, RTDLocationID: 3,
			PurchaseDate: "2024-08-01", WarrantyMonths: 36,
			Fields: []snipeittest.CustomField{
				{Name: "MAC Address", Column: "_snipeit_mac_address_1", Format: "MAC", Value: fmt.Sprintf("A4:C3:F0:%02X:%02X:%02X", i>>16, (i>>8)&0xff, i&0xff)},
				{Name: "Ausstattung", Column: "_snipeit_ausstattung_2", Format: "ANY", Value: "16 GB RAM"},
			},
			AssignedUser: "Frau Schülerin-Muster",
		}
		if i == 1 {
			a.Name, a.Model, a.Manufacturer, a.Category = `Tafel "Raum 101" <Süd>`, `Promethean ActivPanel 9 75"`, "Promethean & Co", "Interaktive Tafeln & Displays"
			a.StatusID, a.RTDLocationID, a.LocationID, a.Notes = 2, 5, 5, "Lampe tauschen, Schüler's Meldung"
			a.Serial, a.AssetTag, a.PurchaseDate, a.WarrantyMonths = " AP9-75 <x>&1 ", "INV-&00001", "2023-01-31", 13
			a.Fields = []snipeittest.CustomField{{Name: "LAN & MAC", Column: "_snipeit_lan_mac_3", Format: "ANY", Value: "00-1A-2B-3C-4D-5E"}}
		}
		if i == 2 {
			a.RTDLocationID, a.PurchaseDate, a.WarrantyMonths = 6, "", 0
			a.Fields[0].Value = "nicht bekannt"
		}
		f.Assets = append(f.Assets, a)
	}
}

func byKey(recs []connector.Record) map[string]connector.Record {
	m := map[string]connector.Record{}
	for _, r := range recs {
		m[r.SourceKey] = r
	}
	return m
}

func TestPull(t *testing.T) {
	f := snipeittest.New(t)
	district(f, 1234)
	c := newTest()
	recs, batches, err := pull(t, c, config(f.Settings(map[string]any{"page_size": 100}), f.Token))
	if err != nil {
		t.Fatal(err)
	}
	keys := byKey(recs)
	if len(recs) != 1234 || len(keys) != 1234 || batches != 3 {
		t.Fatalf("%d records (%d keys) in %d batches, want 1234 in 3", len(recs), len(keys), batches)
	}

	want := connector.Record{
		SourceKey: "7", ClassHint: "Laptop", Status: "Einsatzbereit", Origin: "Snipe-IT-Asset 7 (Inventarnummer INV-00007)",
		Identifiers: connector.Identifiers{Serial: "5CG0000007", AssetTag: "INV-00007", MACs: []string{"a4:c3:f0:00:00:07"}},
		Attributes: map[string]string{"name": "GYN-NB-0007", "model": "HP ProBook 440 G9", "vendor": "HP",
			"purchase_date": "2024-08-01", "warranty_until": "2027-08-01", "Ausstattung": "16 GB RAM", "snipeit_id": "7"},
		Location: connector.Location{SchoolName: "Gymnasium Nord", Building: "Haus A", Room: "Raum 101"},
	}
	if got := keys["7"]; !reflect.DeepEqual(got, want) {
		t.Errorf("laptop record\n got %+v\nwant %+v", got, want)
	}
	// Every value HTML-unescaped; the current location and its school.
	want = connector.Record{
		SourceKey: "1", ClassHint: "Interaktive Tafeln & Displays", Status: "In Reparatur", Origin: "Snipe-IT-Asset 1 (Inventarnummer INV-&00001)",
		Identifiers: connector.Identifiers{Serial: "AP9-75 <x>&1", AssetTag: "INV-&00001"},
		Attributes: map[string]string{"name": `Tafel "Raum 101" <Süd>`, "model": `Promethean ActivPanel 9 75"`, "vendor": "Promethean & Co",
			"notes": "Lampe tauschen, Schüler's Meldung", "purchase_date": "2023-01-31", "warranty_until": "2024-03-02",
			"LAN & MAC": "00-1A-2B-3C-4D-5E", "snipeit_id": "1"},
		Location: connector.Location{SchoolName: "Grundschule Süd & Hort", Room: "Raum 101"},
	}
	if got := keys["1"]; !reflect.DeepEqual(got, want) {
		t.Errorf("escaped record\n got %+v\nwant %+v", got, want)
	}
	// A junk MAC is a problem, not an identifier; a lone location is a room.
	if r := keys["2"]; r.Identifiers.MACs != nil || len(r.Problems) != 1 || r.Problems[0].Field != "MAC Address" ||
		r.Location != (connector.Location{Room: "Lager"}) || r.Attributes["purchase_date"] != "" {
		t.Errorf("record 2 %+v", r)
	}
	for _, r := range recs {
		if b, _ := json.Marshal(r); strings.Contains(string(b), "Muster") || strings.Contains(string(b), "&amp;") {
			t.Fatalf("a record carries the user's name or an escape: %s", b)
		}
	}

	// One request for the locations, thirteen pages of assets in id order.
	reqs := f.Requests()
	if len(reqs) != 1+13 || reqs[0] != "GET /api/v1/locations?limit=100&offset=0&order=asc&sort=id" ||
		reqs[13] != "GET /api/v1/hardware?limit=100&offset=1200&order=asc&sort=id" {
		t.Fatalf("requests %v", reqs)
	}
	// The limiter was asked before every request: 2 a second by default,
	// so each request after the first waited half a second.
	w := c.waits()
	if len(w) != len(reqs)-1 {
		t.Fatalf("%d waits for %d requests: %v", len(w), len(reqs), w)
	}
	for _, d := range w {
		if d != 500*time.Millisecond {
			t.Fatalf("waits %v, want 500ms each", w)
		}
	}
}

// TestRequestRate: the configured rate is the limiter's.
func TestRequestRate(t *testing.T) {
	f := snipeittest.New(t)
	district(f, 30)
	c := newTest()
	if _, _, err := pull(t, c, config(f.Settings(map[string]any{"page_size": 10, "requests_per_second": 0.5}), f.Token)); err != nil {
		t.Fatal(err)
	}
	w := c.waits()
	if !reflect.DeepEqual(w, []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}) {
		t.Fatalf("waits %v, want 3 of 2s (4 requests at 0.5/s)", w)
	}
}

// TestMaxResults: Snipe-IT answers fewer rows than the limit asks for
// (MAX_RESULTS); the offset moves on by what came.
func TestMaxResults(t *testing.T) {
	f := snipeittest.New(t)
	f.MaxResults = 40
	district(f, 130)
	recs, _, err := pull(t, newTest(), config(f.Settings(nil), f.Token))
	if err != nil || len(byKey(recs)) != 130 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	reqs := f.Requests()
	if len(reqs) != 1+4 || !strings.Contains(reqs[4], "limit=500&offset=120&") {
		t.Fatalf("requests %v", reqs)
	}
}

func TestThrottling(t *testing.T) {
	f := snipeittest.New(t)
	district(f, 250)
	f.Fail(snipeittest.Locations, 0, snipeittest.Fault{Status: 503})
	f.Fail(snipeittest.Hardware, 100,
		snipeittest.Fault{Status: 429, RetryAfter: "7"},
		snipeittest.Fault{Status: 429})
	c := newTest()
	recs, _, err := pull(t, c, config(f.Settings(map[string]any{"page_size": 100}), f.Token))
	if err != nil {
		t.Fatal(err)
	}
	if len(byKey(recs)) != 250 {
		t.Fatalf("%d records after throttling, want 250", len(recs))
	}
	// locations: 503, connector.Backoff(1), then the bucket is full again; page 0
	// waits for the limiter; page 100 waits for the limiter, 429 → the
	// Retry-After, 429 → connector.Backoff(2); page 200 waits for the limiter.
	w := c.waits()
	half := 500 * time.Millisecond
	if len(w) != 6 || w[0] < half || w[0] > time.Second || w[1] != half || w[2] != half ||
		w[3] != 7*time.Second || w[4] < time.Second || w[4] > 2*time.Second || w[5] != half {
		t.Fatalf("waits %v, want [backoff(1) 500ms 500ms 7s backoff(2) 500ms]", w)
	}
	if !strings.Contains(c.logs.String(), "Snipe-IT drosselt; neuer Versuch") {
		t.Errorf("throttling is not logged:\n%s", c.logs)
	}
}

// TestErrorBodyWith200: Snipe-IT's {"status":"error"} with HTTP 200 ends
// the run with its message, not with zero assets.
func TestErrorBodyWith200(t *testing.T) {
	f := snipeittest.New(t)
	district(f, 120)
	f.Fail(snipeittest.Hardware, 100, snipeittest.Fault{Status: 200, Error: "Ein Datenbankfehler &amp; mehr"})
	recs, _, err := pull(t, newTest(), config(f.Settings(map[string]any{"page_size": 100}), f.Token))
	if err == nil || !strings.Contains(err.Error(), "Assets: Snipe-IT lehnt ab: Ein Datenbankfehler & mehr") {
		t.Fatalf("Pull = %v", err)
	}
	if len(recs) != 0 {
		t.Errorf("%d records before the failure: a batch is sent only whole (%d)", len(recs), connector.MaxBatch)
	}
}

func TestRetriesAreBounded(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string
		faults   []snipeittest.Fault
		want     string
	}{
		{"503 for good", snipeittest.Hardware, repeat(snipeittest.Fault{Status: 503}, 4), "Assets: Snipe-IT meldet einen Fehler (HTTP 503) nach 4 Versuchen"},
		{"429 for good", snipeittest.Locations, repeat(snipeittest.Fault{Status: 429, RetryAfter: "1"}, 7), "Standorte: Snipe-IT drosselt die Anfragen: nach 6 Versuchen aufgegeben"},
		{"Retry-After too long", snipeittest.Hardware, []snipeittest.Fault{{Status: 429, RetryAfter: "3600"}}, "länger zu warten, als ein Lauf warten kann (1h0m0s)"},
		{"401", snipeittest.Hardware, []snipeittest.Fault{{Status: 401}}, "Snipe-IT lehnt den API-Schlüssel ab (HTTP 401: Unauthorized or unauthenticated.)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := snipeittest.New(t)
			district(f, 10)
			f.Fail(tt.endpoint, 0, tt.faults...)
			_, _, err := pull(t, newTest(), config(f.Settings(nil), f.Token))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Pull = %v, want %q", err, tt.want)
			}
		})
	}
}

func repeat(f snipeittest.Fault, n int) []snipeittest.Fault {
	out := make([]snipeittest.Fault, n)
	for i := range out {
		out[i] = f
	}
	return out
}

// TestLocationsForbidden: a token that may not list locations still
// pulls, with rooms only.
func TestLocationsForbidden(t *testing.T) {
	f := snipeittest.New(t)
	district(f, 3)
	f.Fail(snipeittest.Locations, 0, snipeittest.Fault{Status: 403})
	c := newTest()
	recs, _, err := pull(t, c, config(f.Settings(nil), f.Token))
	if err != nil || byKey(recs)["3"].Location != (connector.Location{Room: "Raum 101"}) {
		t.Fatalf("Pull = %v, %+v", err, byKey(recs)["3"])
	}
	if !strings.Contains(c.logs.String(), "Standorte nicht lesbar") {
		t.Errorf("not logged: %s", c.logs)
	}
}

// TestWaitEndsWithContext: a Pull cancelled while it waits out a
// Retry-After returns at once with the context's error.
func TestWaitEndsWithContext(t *testing.T) {
	f := snipeittest.New(t)
	district(f, 10)
	f.Fail(snipeittest.Hardware, 0, snipeittest.Fault{Status: 429, RetryAfter: "100"})
	c := New()
	c.log = slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	waiting := false
	c.sleep = func(ctx context.Context, d time.Duration) error {
		if d == 100*time.Second {
			waiting = true
			cancel()
		}
		return connector.SleepContext(ctx, d) // the real wait; the test hangs if it ignores ctx
	}
	err := c.Pull(ctx, config(f.Settings(map[string]any{"requests_per_second": 50}), f.Token), func([]connector.Record) error { return nil })
	if !waiting || !errors.Is(err, context.Canceled) {
		t.Fatalf("Pull = %v (waited for Retry-After: %v)", err, waiting)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any // over the fake's
		token    string         // "" for none, "good" for the fake's
		fault    *snipeittest.Fault
		ok       bool
		field    string
		message  string
	}{
		{"good", nil, "good", nil, true, "", "Verbindung zu Snipe-IT steht; der API-Schlüssel sieht 3 Assets."},
		{"with /api/v1", map[string]any{"base_url": "{url}/api/v1/"}, "good", nil, true, "", "Verbindung zu Snipe-IT steht"},
		{"no address", map[string]any{"base_url": " "}, "good", nil, false, "base_url", "Keine Adresse von Snipe-IT"},
		{"http to another machine", map[string]any{"base_url": "http://inventar.schulamt.example"}, "good", nil, false, "base_url", "muss mit https:// beginnen"},
		{"no URL", map[string]any{"base_url": "inventar"}, "good", nil, false, "base_url", "ist keine http(s)-Adresse"},
		{"page size", map[string]any{"page_size": -1}, "good", nil, false, "page_size", "Seitengröße -1"},
		{"rate", map[string]any{"requests_per_second": 500}, "good", nil, false, "requests_per_second", "500 Anfragen je Sekunde"},
		{"no token", nil, "", nil, false, "api_token", "Kein API-Schlüssel hinterlegt"},
		{"wrong token", nil, "abgelaufen", nil, false, "api_token", "Snipe-IT lehnt den API-Schlüssel ab: abgelaufen, widerrufen oder falsch kopiert?"},
		{"no permission", nil, "good", &snipeittest.Fault{Status: 403}, false, "api_token", "darf in Snipe-IT keine Assets sehen"},
		{"not Snipe-IT", map[string]any{"base_url": "{url}/wiki"}, "good", nil, false, "base_url", "Unter {url}/wiki/api/v1 antwortet keine Snipe-IT-API"},
		{"down", nil, "good", &snipeittest.Fault{Status: 502}, true, "", "Verbindung zu Snipe-IT steht"}, // retried once
		{"error body", nil, "good", &snipeittest.Fault{Status: 200, Error: "Wartungsmodus"}, false, "base_url", "Snipe-IT lehnt ab: Wartungsmodus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := snipeittest.New(t)
			district(f, 3)
			if tt.fault != nil {
				f.Fail(snipeittest.Hardware, 0, *tt.fault)
			}
			extra := map[string]any{}
			for k, v := range tt.settings {
				if s, ok := v.(string); ok {
					v = strings.ReplaceAll(s, "{url}", f.URL)
				}
				extra[k] = v
			}
			token := tt.token
			if token == "good" {
				token = f.Token
			}
			r, err := connector.InProcess(t, newTest()).Check(context.Background(), config(f.Settings(extra), token))
			if err != nil {
				t.Fatal(err)
			}
			msg := strings.ReplaceAll(tt.message, "{url}", f.URL)
			if r.OK != tt.ok || !strings.Contains(r.Message, msg) || (!tt.ok && r.Problems[0].Field != tt.field) {
				t.Fatalf("Check = %+v\nwant ok=%v, field %q, message with %q", r, tt.ok, tt.field, msg)
			}
		})
	}
}

// TestTokenNeverShows: not in Check's answer, Pull's or Push's errors or
// the log, even when Snipe-IT echoes it back.
func TestTokenNeverShows(t *testing.T) {
	const wrong = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.falsch"
	f := snipeittest.New(t)
	f.EchoToken = true
	district(f, 20)
	c := newTest()
	cfg := config(f.Settings(nil), wrong)
	res, err := connector.InProcess(t, c).Check(context.Background(), cfg)
	if err != nil || res.OK {
		t.Fatalf("Check with the wrong token = %+v, %v", res, err)
	}
	_, _, pullErr := pull(t, c, cfg)
	if pullErr == nil {
		t.Fatal("Pull with the wrong token succeeded")
	}
	_, pushErr := connector.InProcess(t, c).Push(context.Background(), cfg, []connector.Change{{SourceKey: "3", Status: "In Reparatur"}})
	if pushErr == nil {
		t.Fatal("Push with the wrong token succeeded")
	}
	// A good run, throttled, logs too.
	f.Fail(snipeittest.Hardware, 0, snipeittest.Fault{Status: 429})
	if _, _, err := pull(t, c, config(f.Settings(nil), f.Token)); err != nil {
		t.Fatal(err)
	}
	shown := map[string]string{"Check": fmt.Sprintf("%+v", res), "Pull": pullErr.Error(), "Push": pushErr.Error(), "log": c.logs.String(),
		"config": fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg)}
	for where, s := range shown {
		for _, secret := range []string{wrong, f.Token} {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows %q: %s", where, secret, s)
			}
		}
	}
	if !strings.Contains(pullErr.Error(), "[redacted]") || !strings.Contains(c.logs.String(), "drosselt") {
		t.Errorf("the echo should be redacted and the log should say it was throttled: %s\n%s", pullErr, c.logs)
	}
}

func TestDescribe(t *testing.T) {
	d, err := connector.InProcess(t, New()).Describe(context.Background())
	if err != nil || d.Name != "snipeit" || !d.Can(connector.CapPull) || !d.Can(connector.CapPush) {
		t.Fatalf("Describe = %+v, %v", d, err)
	}
	if len(d.Secrets) != 1 || d.Secrets[0].Name != "api_token" || !d.Secrets[0].Required {
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
	if len(s.Properties) != len(keys) || !reflect.DeepEqual(s.Required, []string{"base_url"}) {
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
	for in, want := range map[string]int{`"36 months"`: 36, `"24 Monate"`: 24, `12`: 12} {
		if got, ok := months(json.RawMessage(in)); got != want || !ok {
			t.Errorf("months(%s) = %d, %v", in, got, ok)
		}
	}
	if _, ok := months(json.RawMessage(`null`)); ok {
		t.Error("months(null)")
	}
	if m := messages(json.RawMessage(`{"serial":["The serial must be unique."],"asset_tag":["Taken &amp; gone."]}`), ""); m != "asset_tag: Taken & gone.; serial: The serial must be unique." {
		t.Errorf("messages = %q", m)
	}
	if d, ok := connector.RetryAfter(" 17 ", time.Now()); d != 17*time.Second || !ok {
		t.Errorf("retryAfter seconds = %v", d)
	}
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	if d, ok := connector.RetryAfter(now.Add(30*time.Second).Format(http.TimeFormat), now); d != 30*time.Second || !ok {
		t.Errorf("retryAfter date = %v", d)
	}
	// A Snipe-IT without the legacy status_label still gives the status.
	var a asset
	if err := json.Unmarshal([]byte(`{"id":3,"status":{"id":2,"name":"In Reparatur","status_type":"pending"},"deleted_at":null}`), &a); err != nil ||
		record(a, nil, "").Status != "In Reparatur" || a.deleted() {
		t.Errorf("status from \"status\": %+v, %v", a, err)
	}
	ls := locations{1: {ID: 1, Name: "A"}, 2: {ID: 2, Name: "B", Parent: &ref{ID: 1}}, 3: {ID: 3, Name: "C", Parent: &ref{ID: 2}},
		4: {ID: 4, Name: "D", Parent: &ref{ID: 3}}, 8: {ID: 8, Name: "Loop", Parent: &ref{ID: 9}}, 9: {ID: 9, Name: "Pool", Parent: &ref{ID: 8}}}
	if l := where(ls.path(4, "")); l != (connector.Location{SchoolName: "A", Building: "B", Room: "D"}) {
		t.Errorf("four levels: %+v", l)
	}
	if p := ls.path(8, ""); len(p) != 2 {
		t.Errorf("a loop of parents: %v", p)
	}
	if p := ls.path(77, "Unbekannt"); !reflect.DeepEqual(p, []string{"Unbekannt"}) {
		t.Errorf("an unknown location: %v", p)
	}
}

// TestCheckNotSnipeIT: an address that answers, but not as Snipe-IT, is
// named as the problem, and the token does not follow a redirect.
func TestCheckNotSnipeIT(t *testing.T) {
	var followed int
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed++ }))
	defer target.Close()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"JSON without a list", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"ok":true}`) },
			"antwortet keine Snipe-IT-API: unerwartete Antwort: eine Liste ohne »total«."},
		{"a web page", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<!DOCTYPE html><title>Intranet</title>") },
			"antwortet keine Snipe-IT-API: unerwartete Antwort: invalid character '<'"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/login", http.StatusFound)
		},
			"Snipe-IT leitet nach \"" + target.URL + "/login\" um; die Adresse prüfen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			s, _ := json.Marshal(map[string]any{"base_url": srv.URL})
			r, err := newTest().Check(context.Background(), config(s, "geheim"))
			if err != nil || r.OK || r.Problems[0].Field != "base_url" || !strings.Contains(r.Message, tt.want) {
				t.Fatalf("Check = %+v, %v; want %q", r, err, tt.want)
			}
		})
	}
	if followed != 0 {
		t.Errorf("the redirect was followed %d times", followed)
	}
}

// TestCustomFieldValues: a custom field's value as any JSON Snipe-IT
// sends for it.
func TestCustomFieldValues(t *testing.T) {
	var a asset
	err := json.Unmarshal([]byte(`{"id":4,"custom_fields":{
		"Garantie bis":{"field":"_snipeit_garantie_4","value":{"date":"2027-08-01","formatted":"01.08.2027"},"field_format":"DATE"},
		"Anschl&uuml;sse":{"field":"_snipeit_anschluesse_5","value":["HDMI","USB-C &amp; LAN"],"field_format":"ANY"},
		"RAM (GB)":{"field":"_snipeit_ram_6","value":16,"field_format":"NUMERIC"},
		"Leer":{"field":"_snipeit_leer_7","value":null,"field_format":"ANY"},
		"WLAN-MAC":{"field":"_snipeit_wlan_mac_8","value":"8C-16-45-00-01-2C","field_format":"ANY"}}}`), &a)
	if err != nil {
		t.Fatal(err)
	}
	r := record(a, nil, "WLAN-MAC")
	want := map[string]string{"Garantie bis": "2027-08-01", "Anschlüsse": "HDMI, USB-C & LAN", "RAM (GB)": "16", "snipeit_id": "4"}
	if !reflect.DeepEqual(r.Attributes, want) || !reflect.DeepEqual(r.Identifiers.MACs, []string{"8c:16:45:00:01:2c"}) {
		t.Errorf("attributes %v, MACs %v", r.Attributes, r.Identifiers.MACs)
	}
}

// TestPullExpectedTotal: the first page's total reaches the host before
// the first batch, so that a first run shows progress.
func TestPullExpectedTotal(t *testing.T) {
	f := snipeittest.New(t)
	district(f, 1234)
	var totals []int
	records := 0
	ctx := connector.WithExpectTotal(context.Background(), func(n int) { totals = append(totals, n) })
	err := connector.InProcess(t, newTest()).Pull(ctx, config(f.Settings(map[string]any{"page_size": 100}), f.Token), func(b []connector.Record) error {
		if records == 0 && len(totals) == 0 {
			t.Error("the first batch came before the total")
		}
		records += len(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(totals) != 1 || totals[0] != 1234 || records != 1234 {
		t.Fatalf("announced %v, sent %d; want [1234] and 1234", totals, records)
	}
}
