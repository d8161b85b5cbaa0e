// Package snipeittest is a fake Snipe-IT REST API (/api/v1) on loopback,
// for tests, in the shapes Snipe-IT documents and sends: lists of
// {"total", "rows"} paged by limit and offset (limit capped at
// MaxResults, as MAX_RESULTS does), HTML-escaped values, related objects
// as {"id", "name"}, custom fields keyed by name, dates as {"date",
// "formatted"}, errors as {"status":"error","messages":…} — with HTTP 200
// where Snipe-IT sends 200 —, 401 without the token, a redirect to the
// login page without Accept: application/json, and 429 with Retry-After.
package snipeittest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Endpoints, as Fail names them.
const (
	Hardware     = "hardware"     // GET /hardware (page by offset)
	One          = "asset"        // GET /hardware/{id}
	BySerial     = "byserial"     // GET /hardware/byserial/{serial}
	Patch        = "patch"        // PATCH /hardware/{id}
	Locations    = "locations"    // GET /locations
	StatusLabels = "statuslabels" // GET /statuslabels
)

// CustomField is a custom field of an asset's model and its value.
type CustomField struct {
	Name   string // e.g. "MAC Address"
	Column string // e.g. "_snipeit_mac_address_1"
	Format string // e.g. "MAC", "ANY"
	Value  string
}

// Asset is one hardware asset, with plain (unescaped) values.
type Asset struct {
	ID             int
	Name           string
	AssetTag       string
	Serial         string
	Model          string
	Category       string
	Manufacturer   string
	StatusID       int
	LocationID     int // current location; 0: the default one
	RTDLocationID  int
	PurchaseDate   string // YYYY-MM-DD
	WarrantyMonths int
	Notes          string
	Fields         []CustomField
	AssignedUser   string // a person's name, to see it is not read
	Deleted        bool   // in the trash: GET by id still shows it, lists do not
}

// Location is a Snipe-IT location.
type Location struct {
	ID       int
	Name     string
	ParentID int
}

// StatusLabel is a Snipe-IT status label.
type StatusLabel struct {
	ID   int
	Name string
	Type string // deployable, pending, archived, undeployable
}

// Fault is an answer the fake gives instead of the real one.
type Fault struct {
	Status     int    // e.g. 429, 503, 401, 403; 200 with Error
	RetryAfter string // the Retry-After header, "" for none
	Error      string // with Status 200: {"status":"error","messages":Error}
}

// Server is the fake. Set the fields before the first request.
type Server struct {
	*httptest.Server
	Token        string
	Assets       []Asset
	Locations    []Location
	StatusLabels []StatusLabel
	// MaxResults caps limit, as Snipe-IT's MAX_RESULTS (default 500).
	MaxResults int
	// UniqueSerial refuses a serial another asset has, as Snipe-IT's
	// setting "unique serial numbers" does.
	UniqueSerial bool
	// EchoToken makes a refused request echo the token it was sent, to
	// prove the connector never repeats it.
	EchoToken bool

	mu       sync.Mutex
	faults   map[string][]Fault
	requests []string
	patches  []PatchRequest
}

// PatchRequest is one PATCH the fake received.
type PatchRequest struct {
	ID   int
	Body map[string]any
}

// New starts the fake on loopback with a random token; it stops with the
// test.
func New(tb testing.TB) *Server {
	tb.Helper()
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	s := &Server{Token: "snipe." + hex.EncodeToString(b), MaxResults: 500, faults: map[string][]Fault{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// Settings returns connector settings that point at the fake, as JSON.
func (s *Server) Settings(extra map[string]any) json.RawMessage {
	m := map[string]any{"base_url": s.URL}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// Fail makes the next requests of an endpoint answer with faults, one
// each, before it is served; for Hardware, at the page at offset.
func (s *Server) Fail(endpoint string, offset int, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := endpoint + "/" + strconv.Itoa(offset)
	s.faults[k] = append(s.faults[k], faults...)
}

// Requests lists "METHOD URI" of every request seen, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Patches lists the PATCH requests received, in order.
func (s *Server) Patches() []PatchRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]PatchRequest(nil), s.patches...)
}

// Find returns the asset with id, as it is now.
func (s *Server) Find(id int) (Asset, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.Assets {
		if a.ID == id {
			return a, true
		}
	}
	return Asset{}, false
}

// e escapes as PHP's htmlspecialchars with ENT_QUOTES, which Snipe-IT's
// e() applies to every value it sends.
var e = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#039;").Replace

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// standard is Helper::formatStandardApiResponse.
func standard(status string, payload any, messages any) map[string]any {
	return map[string]any{"status": status, "messages": messages, "payload": payload}
}

func (s *Server) fault(endpoint string, offset int) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := endpoint + "/" + strconv.Itoa(offset)
	if fs := s.faults[k]; len(fs) > 0 {
		f := fs[0]
		s.faults[k] = fs[1:]
		return &f
	}
	return nil
}

func (s *Server) serveFault(w http.ResponseWriter, f *Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	switch f.Status {
	case http.StatusOK:
		writeJSON(w, 200, standard("error", nil, f.Error))
	case http.StatusTooManyRequests:
		w.Header().Set("X-RateLimit-Limit", "120")
		w.Header().Set("X-RateLimit-Remaining", "0")
		writeJSON(w, f.Status, map[string]any{"message": "Too Many Attempts."})
	case http.StatusUnauthorized:
		writeJSON(w, f.Status, standard("error", nil, "Unauthorized or unauthenticated."))
	case http.StatusForbidden:
		writeJSON(w, f.Status, standard("error", nil, "You do not have permission to access this area."))
	default:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		fmt.Fprint(w, "<html><body>Server Error</body></html>")
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.RequestURI())
	s.mu.Unlock()
	// Laravel sends a browser (no JSON asked for) to the login page.
	if !strings.Contains(r.Header.Get("Accept"), "application/json") {
		http.Redirect(w, r, s.URL+"/login", http.StatusFound)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		msg := "Unauthorized or unauthenticated."
		if s.EchoToken {
			msg += " Received: " + r.Header.Get("Authorization")
		}
		writeJSON(w, http.StatusUnauthorized, standard("error", nil, msg))
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/v1")
	switch {
	case r.Method == http.MethodGet && path == "/hardware":
		s.serveHardware(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/hardware/byserial/"):
		s.serveBySerial(w, strings.TrimPrefix(path, "/hardware/byserial/"))
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/hardware/"):
		s.serveAsset(w, strings.TrimPrefix(path, "/hardware/"))
	case r.Method == http.MethodPatch && strings.HasPrefix(path, "/hardware/"):
		s.servePatch(w, r, strings.TrimPrefix(path, "/hardware/"))
	case r.Method == http.MethodGet && path == "/locations":
		s.serveList(w, r, Locations, len(s.Locations), func(i int) any { return s.location(s.Locations[i]) })
	case r.Method == http.MethodGet && path == "/statuslabels":
		s.serveList(w, r, StatusLabels, len(s.StatusLabels), func(i int) any {
			l := s.StatusLabels[i]
			return map[string]any{"id": l.ID, "name": e(l.Name), "type": l.Type, "color": nil, "show_in_nav": false, "default_label": false}
		})
	default:
		writeJSON(w, http.StatusNotFound, standard("error", nil, "404 endpoint not found"))
	}
}

// page reads limit and offset as Snipe-IT does: limit capped at
// MaxResults (default 50), offset capped at the count.
func (s *Server) page(r *http.Request, count int) (offset, limit int) {
	q := r.URL.Query()
	limit = 50
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		limit = n
	}
	limit = min(limit, s.MaxResults)
	offset, _ = strconv.Atoi(q.Get("offset"))
	offset = min(max(offset, 0), count)
	return offset, limit
}

func (s *Server) serveList(w http.ResponseWriter, r *http.Request, endpoint string, count int, row func(int) any) {
	offset, limit := s.page(r, count)
	if f := s.fault(endpoint, offset); f != nil {
		s.serveFault(w, f)
		return
	}
	rows := []any{}
	s.mu.Lock()
	for i := offset; i < min(offset+limit, count); i++ {
		rows = append(rows, row(i))
	}
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"total": count, "rows": rows})
}

func (s *Server) serveHardware(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	var assets []Asset
	for _, a := range s.Assets {
		if !a.Deleted {
			assets = append(assets, a)
		}
	}
	s.mu.Unlock()
	// Snipe-IT's default order is newest first; sort=id&order=asc is asked.
	if q.Get("sort") == "id" {
		sort.SliceStable(assets, func(i, j int) bool {
			if q.Get("order") == "asc" {
				return assets[i].ID < assets[j].ID
			}
			return assets[i].ID > assets[j].ID
		})
	}
	offset, limit := s.page(r, len(assets))
	if f := s.fault(Hardware, offset); f != nil {
		s.serveFault(w, f)
		return
	}
	rows := []any{}
	for _, a := range assets[offset:min(offset+limit, len(assets))] {
		rows = append(rows, s.asset(a))
	}
	writeJSON(w, 200, map[string]any{"total": len(assets), "rows": rows})
}

func (s *Server) serveAsset(w http.ResponseWriter, id string) {
	if f := s.fault(One, 0); f != nil {
		s.serveFault(w, f)
		return
	}
	n, _ := strconv.Atoi(id)
	if a, ok := s.Find(n); ok {
		writeJSON(w, 200, s.asset(a))
		return
	}
	writeJSON(w, 200, standard("error", nil, "Asset does not exist."))
}

func (s *Server) serveBySerial(w http.ResponseWriter, serial string) {
	if f := s.fault(BySerial, 0); f != nil {
		s.serveFault(w, f)
		return
	}
	serial, _ = url.PathUnescape(serial)
	s.mu.Lock()
	var rows []any
	for _, a := range s.Assets {
		// MySQL's default collation compares case-insensitively.
		if strings.EqualFold(a.Serial, serial) && !a.Deleted {
			rows = append(rows, s.asset(a))
		}
	}
	s.mu.Unlock()
	if len(rows) == 0 {
		writeJSON(w, 200, standard("error", nil, "Asset does not exist."))
		return
	}
	writeJSON(w, 200, map[string]any{"total": len(rows), "rows": rows})
}

// servePatch is Api\AssetsController@update: validation errors come back
// as {"status":"error","messages":{"field":["…"]}} with HTTP 200.
func (s *Server) servePatch(w http.ResponseWriter, r *http.Request, id string) {
	n, _ := strconv.Atoi(id)
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, 200, standard("error", nil, "invalid JSON"))
		return
	}
	s.mu.Lock()
	s.patches = append(s.patches, PatchRequest{ID: n, Body: body})
	s.mu.Unlock()
	if f := s.fault(Patch, 0); f != nil {
		s.serveFault(w, f)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := -1
	for i, a := range s.Assets {
		if a.ID == n {
			idx = i
		}
	}
	if idx < 0 {
		writeJSON(w, http.StatusNotFound, standard("error", nil, "Asset not found"))
		return
	}
	a := s.Assets[idx]
	errs := map[string][]string{}
	if v, ok := body["status_id"]; ok {
		sid, _ := v.(float64)
		found := false
		for _, l := range s.StatusLabels {
			found = found || l.ID == int(sid)
		}
		if !found {
			errs["status_id"] = []string{"The selected status id is invalid."}
		}
		a.StatusID = int(sid)
	}
	if v, ok := body["rtd_location_id"]; ok {
		lid, _ := v.(float64)
		found := false
		for _, l := range s.Locations {
			found = found || l.ID == int(lid)
		}
		if !found {
			errs["rtd_location_id"] = []string{"The selected rtd location id is invalid."}
		}
		a.RTDLocationID, a.LocationID = int(lid), int(lid)
	}
	if v, ok := body["serial"]; ok {
		serial, _ := v.(string)
		for _, o := range s.Assets {
			if s.UniqueSerial && o.ID != a.ID && strings.EqualFold(o.Serial, serial) {
				errs["serial"] = []string{"The serial must be unique."}
			}
		}
		a.Serial = serial
	}
	a.Fields = append([]CustomField(nil), a.Fields...)
	for i, f := range a.Fields {
		if v, ok := body[f.Column]; ok {
			val, _ := v.(string)
			if f.Format == "MAC" && !isMAC(val) {
				errs[f.Column] = []string{"The " + f.Name + " format is invalid."}
			}
			a.Fields[i].Value = val
		}
	}
	if len(errs) > 0 {
		writeJSON(w, 200, standard("error", nil, errs))
		return
	}
	s.Assets[idx] = a
	writeJSON(w, 200, standard("success", map[string]any{"id": a.ID, "serial": a.Serial, "status_id": a.StatusID}, "Asset updated successfully."))
}

func isMAC(v string) bool {
	parts := strings.Split(v, ":")
	if len(parts) != 6 {
		return false
	}
	for _, p := range parts {
		if _, err := strconv.ParseUint(p, 16, 8); err != nil || len(p) != 2 {
			return false
		}
	}
	return true
}

func ref(id int, name string) any {
	if id == 0 {
		return nil
	}
	return map[string]any{"id": id, "name": e(name)}
}

func dateObject(d string) any {
	if d == "" {
		return nil
	}
	return map[string]any{"date": d, "formatted": d[8:10] + "." + d[5:7] + "." + d[0:4]}
}

// asset renders an asset as AssetsTransformer does (the fields a
// connector could read; the call holds s.mu or the asset is a copy).
func (s *Server) asset(a Asset) map[string]any {
	var label any
	for _, l := range s.StatusLabels {
		if l.ID == a.StatusID {
			label = map[string]any{"id": l.ID, "name": e(l.Name), "status_type": l.Type, "status_meta": l.Type}
		}
	}
	locName := func(id int) string {
		for _, l := range s.Locations {
			if l.ID == id {
				return l.Name
			}
		}
		return ""
	}
	current := a.LocationID
	if current == 0 {
		current = a.RTDLocationID
	}
	fields := map[string]any{}
	for _, f := range a.Fields {
		fields[e(f.Name)] = map[string]any{"field": e(f.Column), "value": e(f.Value), "field_format": f.Format, "element": "text"}
	}
	var warranty any
	if a.WarrantyMonths > 0 {
		warranty = fmt.Sprintf("%d months", a.WarrantyMonths)
	}
	var deleted any
	if a.Deleted {
		deleted = map[string]any{"datetime": "2026-11-30 10:00:00", "formatted": "30.11.2026 10:00"}
	}
	var assigned any
	if a.AssignedUser != "" {
		assigned = map[string]any{"id": 7, "username": "lehrkraft7", "name": e(a.AssignedUser), "type": "user"}
	}
	return map[string]any{
		"id": a.ID, "name": e(a.Name), "asset_tag": e(a.AssetTag), "serial": e(a.Serial),
		"model":             ref(a.ID%97+1, a.Model),
		"model_number":      nil,
		"byod":              false,
		"status_label":      label,
		"status":            label,
		"category":          ref(len(a.Category), a.Category),
		"manufacturer":      ref(len(a.Manufacturer), a.Manufacturer),
		"notes":             nilIfEmpty(e(a.Notes)),
		"order_number":      nil,
		"location":          ref(current, locName(current)),
		"rtd_location":      ref(a.RTDLocationID, locName(a.RTDLocationID)),
		"assigned_to":       assigned,
		"warranty_months":   warranty,
		"purchase_date":     dateObject(a.PurchaseDate),
		"created_at":        map[string]any{"datetime": "2024-08-01 09:00:00", "formatted": "01.08.2024 09:00"},
		"deleted_at":        deleted,
		"custom_fields":     fields,
		"available_actions": map[string]any{"checkout": true, "checkin": true, "update": true, "delete": false},
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) location(l Location) map[string]any {
	var parent any
	for _, p := range s.Locations {
		if p.ID == l.ParentID && l.ParentID != 0 {
			parent = map[string]any{"id": p.ID, "name": e(p.Name)}
		}
	}
	return map[string]any{"id": l.ID, "name": e(l.Name), "address": nil, "city": "Musterstadt", "parent": parent,
		"assets_count": 0, "children": []any{}}
}
