// Package intunetest is a fake of the Microsoft services the intune
// connector talks to, on loopback, for tests: the Entra ID token endpoint
// (client credentials) and the two Graph v1.0 collections
// deviceManagement/managedDevices and
// deviceManagement/windowsAutopilotDeviceIdentities, in the response
// shapes Microsoft documents: {"@odata.context", "value",
// "@odata.nextLink"} pages with an opaque $skiptoken, $select and $top,
// Graph error bodies, 429 with or without Retry-After, 5xx, 401 and 403.
package intunetest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Tenant, ClientID and Secret are the credentials the fake accepts.
const (
	Tenant   = "7d0f3b2e-52a8-4c1e-9f3a-1b2c3d4e5f60"
	ClientID = "1a2b3c4d-0000-4000-8000-00000000c1d1"
	Secret   = "Geh3im~Schulamt.Wert_42"
)

// The collections, as Fail and Requests name them; Token is the token
// endpoint, for Fail (page 0).
const (
	Managed   = "managedDevices"
	Autopilot = "windowsAutopilotDeviceIdentities"
	Token     = "token"
)

// ManagedDevice is a managedDevice as Graph v1.0 returns it (the fields a
// school's laptop has; the user fields are there so that a test can see
// they are not asked for).
type ManagedDevice struct {
	ID                 string `json:"id"`
	UserID             string `json:"userId"`
	DeviceName         string `json:"deviceName"`
	ManagedDeviceOwner string `json:"managedDeviceOwnerType"`
	EnrolledDateTime   string `json:"enrolledDateTime"`
	LastSyncDateTime   string `json:"lastSyncDateTime"`
	OperatingSystem    string `json:"operatingSystem"`
	ComplianceState    string `json:"complianceState"`
	OSVersion          string `json:"osVersion"`
	AzureADDeviceID    string `json:"azureADDeviceId"`
	UserPrincipalName  string `json:"userPrincipalName"`
	UserDisplayName    string `json:"userDisplayName"`
	Model              string `json:"model"`
	Manufacturer       string `json:"manufacturer"`
	SerialNumber       string `json:"serialNumber"`
	WiFiMacAddress     string `json:"wiFiMacAddress"`
	EthernetMacAddress string `json:"ethernetMacAddress"`
}

// AutopilotDevice is a windowsAutopilotDeviceIdentity (v1.0).
type AutopilotDevice struct {
	ID                           string `json:"id"`
	GroupTag                     string `json:"groupTag"`
	PurchaseOrderIdentifier      string `json:"purchaseOrderIdentifier"`
	SerialNumber                 string `json:"serialNumber"`
	ProductKey                   string `json:"productKey"`
	Manufacturer                 string `json:"manufacturer"`
	Model                        string `json:"model"`
	EnrollmentState              string `json:"enrollmentState"`
	LastContactedDateTime        string `json:"lastContactedDateTime"`
	AddressableUserName          string `json:"addressableUserName"`
	UserPrincipalName            string `json:"userPrincipalName"`
	ResourceName                 string `json:"resourceName"`
	SkuNumber                    string `json:"skuNumber"`
	SystemFamily                 string `json:"systemFamily"`
	AzureActiveDirectoryDeviceID string `json:"azureActiveDirectoryDeviceId"`
	ManagedDeviceID              string `json:"managedDeviceId"`
	DisplayName                  string `json:"displayName"`
}

// Fault is an answer the fake gives instead of a page.
type Fault struct {
	Status     int    // e.g. 429, 503, 401, 403
	RetryAfter string // the Retry-After header, "" for none
}

// Server is the fake. Set the fields before the first request.
type Server struct {
	*httptest.Server
	Managed   []ManagedDevice
	Autopilot []AutopilotDevice
	// PageSize is the server-side page size when the request has no $top.
	PageSize int
	// EchoSecret makes a refused token request echo what it was sent, to
	// prove the connector never repeats it.
	EchoSecret bool
	// Gone lists managed device ids that answer 404 on a single GET, as a
	// device deleted between the list and the lookup does.
	Gone map[string]bool

	mu       sync.Mutex
	token    string
	faults   map[string][]Fault // "collection/page" → answers to give first
	tokens   int
	requests []string
}

// New starts the fake on loopback; it stops with the test.
func New(tb testing.TB) *Server {
	tb.Helper()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	s := &Server{PageSize: 100, token: "eyJ0eXAiOiJKV1Qi." + hex.EncodeToString(b), faults: map[string][]Fault{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// Settings returns connector settings that point at the fake, as JSON.
func (s *Server) Settings(extra map[string]any) json.RawMessage {
	m := map[string]any{"tenant_id": Tenant, "client_id": ClientID, "graph_base_url": s.URL,
		"token_url": s.URL + "/{tenant}/oauth2/v2.0/token"}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// Fail makes the next requests of page (0-based) of collection answer
// with faults, one each, before the page is served.
func (s *Server) Fail(collection string, page int, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := collection + "/" + strconv.Itoa(page)
	s.faults[k] = append(s.faults[k], faults...)
}

// TokenRequests is how many tokens were asked for.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens
}

// Requests lists the Graph request URIs seen, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
		s.serveToken(w, r)
	case r.URL.Path == "/v1.0/deviceManagement/"+Managed:
		serveCollection(s, w, r, Managed, s.Managed)
	case r.URL.Path == "/v1.0/deviceManagement/"+Autopilot:
		serveCollection(s, w, r, Autopilot, s.Autopilot)
	case strings.HasPrefix(r.URL.Path, "/v1.0/deviceManagement/"+Managed+"/"):
		s.serveDevice(w, r, strings.TrimPrefix(r.URL.Path, "/v1.0/deviceManagement/"+Managed+"/"))
	default:
		graphError(w, http.StatusNotFound, "ResourceNotFound", "Resource not found for the segment '"+r.URL.Path+"'.")
	}
}

// serveToken is the v2.0 token endpoint, client credentials grant.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.tokens++
	var fault *Fault
	if fs := s.faults[Token+"/0"]; len(fs) > 0 {
		fault, s.faults[Token+"/0"] = &fs[0], fs[1:]
	}
	s.mu.Unlock()
	if fault != nil {
		if fault.RetryAfter != "" {
			w.Header().Set("Retry-After", fault.RetryAfter)
		}
		tokenError(w, fault.Status, "temporarily_unavailable", "AADSTS50196: The server is temporarily unavailable.")
		return
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.")
		return
	}
	f := r.PostForm
	switch {
	case !strings.HasPrefix(r.URL.Path, "/"+Tenant+"/"):
		tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS90002: Tenant '"+strings.Split(r.URL.Path, "/")[1]+"' not found. Check to make sure you have the correct tenant ID.")
	case f.Get("grant_type") != "client_credentials" || f.Get("scope") != "https://graph.microsoft.com/.default":
		tokenError(w, http.StatusBadRequest, "invalid_scope", "AADSTS1002012: The provided value for scope "+f.Get("scope")+" is not valid.")
	case f.Get("client_id") != ClientID:
		tokenError(w, http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application with identifier '"+f.Get("client_id")+"' was not found in the directory.")
	case f.Get("client_secret") != Secret:
		desc := "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."
		if s.EchoSecret {
			desc += " Received: " + f.Get("client_secret")
		}
		tokenError(w, http.StatusUnauthorized, "invalid_client", desc)
	default:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": s.token})
	}
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": code, "error_description": desc + "\r\nTrace ID: 0b1c\r\nCorrelation ID: 5e6f\r\nTimestamp: 2026-12-03 10:00:00Z",
		"error_codes": []int{7000215}, "timestamp": "2026-12-03 10:00:00Z", "trace_id": "0b1c", "correlation_id": "5e6f"})
}

func graphError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]any{"date": "2026-12-03T10:00:00", "request-id": "01c3bdb8", "client-request-id": "01c3bdb8"}}})
}

// skipToken hides the offset the way Graph's tokens do: opaque, with
// characters that only survive when the link is followed as given.
func skipToken(offset int) string {
	return "X'" + base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("offset=%d;seed=+/=", offset))) + "'"
}

func parseSkipToken(t string) (int, bool) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(t, "X'"), "'"))
	if err != nil {
		return 0, false
	}
	var n int
	if _, err := fmt.Sscanf(string(b), "offset=%d;seed=+/=", &n); err != nil {
		return 0, false
	}
	return n, true
}

// serveDevice is GET managedDevices/{id}, the one way to read a device's
// ethernetMacAddress: lists leave it null, as Microsoft documents.
func (s *Server) serveDevice(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	s.requests = append(s.requests, r.URL.RequestURI())
	token := s.token
	s.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+token {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
		return
	}
	for _, d := range s.Managed {
		if d.ID == id && !s.Gone[id] {
			m := selected(d, r.URL.Query().Get("$select"))
			m["@odata.context"] = s.URL + "/v1.0/$metadata#deviceManagement/managedDevices(" + r.URL.Query().Get("$select") + ")/$entity"
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(m)
			return
		}
	}
	graphError(w, http.StatusNotFound, "ResourceNotFound", "Resource not found.")
}

// selected is an item as JSON with only the $select fields (all when
// sel is empty); empty strings are left out, as Graph sends null.
func selected(item any, sel string) map[string]any {
	want := map[string]bool{}
	for _, f := range strings.Split(sel, ",") {
		if f != "" {
			want[f] = true
		}
	}
	var m map[string]any
	b, _ := json.Marshal(item)
	_ = json.Unmarshal(b, &m)
	for k, v := range m {
		if (len(want) > 0 && !want[k]) || v == "" {
			delete(m, k)
		}
	}
	return m
}

var odataType = map[string]string{Managed: "#microsoft.graph.managedDevice", Autopilot: "#microsoft.graph.windowsAutopilotDeviceIdentity"}

func serveCollection[T any](s *Server, w http.ResponseWriter, r *http.Request, name string, items []T) {
	s.mu.Lock()
	s.requests = append(s.requests, r.URL.RequestURI())
	token := s.token
	s.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+token {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
		return
	}
	q := r.URL.Query()
	size := s.PageSize
	if t := q.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > 1000 {
			graphError(w, http.StatusBadRequest, "BadRequest", "Invalid $top value.")
			return
		}
		size = n
	}
	offset := 0
	if t := q.Get("$skiptoken"); t != "" {
		var ok bool
		if offset, ok = parseSkipToken(t); !ok {
			graphError(w, http.StatusBadRequest, "BadRequest", "Invalid skip token.")
			return
		}
	}
	page := offset / max(size, 1)
	s.mu.Lock()
	k := name + "/" + strconv.Itoa(page)
	var fault *Fault
	if fs := s.faults[k]; len(fs) > 0 {
		fault, s.faults[k] = &fs[0], fs[1:]
	}
	s.mu.Unlock()
	if fault != nil {
		if fault.RetryAfter != "" {
			w.Header().Set("Retry-After", fault.RetryAfter)
		}
		switch fault.Status {
		case http.StatusTooManyRequests:
			graphError(w, fault.Status, "TooManyRequests", "Too many requests from Identifier:"+ClientID+" under category:throttled.")
		case http.StatusUnauthorized:
			graphError(w, fault.Status, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
		case http.StatusForbidden:
			graphError(w, fault.Status, "Forbidden", "Application is not authorized to perform this operation. Application must have one of the following scopes: DeviceManagementManagedDevices.Read.All")
		default:
			graphError(w, fault.Status, "UnknownError", "")
		}
		return
	}
	end := min(offset+size, len(items))
	values := []map[string]any{}
	for _, it := range items[min(offset, end):end] {
		m := selected(it, q.Get("$select"))
		delete(m, "ethernetMacAddress") // null in lists, even when selected
		if q.Get("$select") == "" {
			m["@odata.type"] = odataType[name]
		}
		values = append(values, m)
	}
	body := map[string]any{"@odata.context": s.URL + "/v1.0/$metadata#deviceManagement/" + name, "value": values}
	if end < len(items) {
		nq := url.Values{}
		for k, v := range q {
			if k != "$skiptoken" {
				nq[k] = v
			}
		}
		nq.Set("$skiptoken", skipToken(end))
		body["@odata.nextLink"] = s.URL + r.URL.Path + "?" + nq.Encode()
	}
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	_ = json.NewEncoder(w).Encode(body)
}
